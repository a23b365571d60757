from __future__ import annotations

import math
from typing import Any

from rest_framework import serializers

from evaluations.ingestion import MAX_ABS_VALUE, MAX_RESULTS_PER_RUN, ResultInput, RunInput
from evaluations.models import Determination, EvaluationRun, ModelVersion
from governance.models import code_validator


class FiniteFloatField(serializers.FloatField):
    def __init__(self, *args: Any, max_abs: float = MAX_ABS_VALUE, **kwargs: Any) -> None:
        self.max_abs = max_abs
        # So that the OpenAPI document states the bound too (checked first, below).
        kwargs.setdefault("min_value", -max_abs)
        kwargs.setdefault("max_value", max_abs)
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            raise serializers.ValidationError("Must be a finite number (no NaN or infinity).")
        if abs(value) > self.max_abs:
            limit = f"{self.max_abs:.0e}".replace("e+", "e")
            raise serializers.ValidationError(f"Must be within ±{limit}.")
        return float(value)


class ResultSerializer(serializers.Serializer):
    metric = serializers.CharField(max_length=100, help_text="e.g. includes/accuracy, acc")
    value = FiniteFloatField()
    stderr = FiniteFloatField(required=False, allow_null=True, min_value=0)
    samples = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2**31 - 1
    )


class RunSerializer(serializers.Serializer):
    model_version = serializers.CharField(max_length=100, help_text="A model version label")
    evaluation = serializers.CharField(max_length=100, help_text="An evaluation key")
    run_id = serializers.CharField(max_length=200, help_text="The harness's own run id")
    status = serializers.ChoiceField(choices=EvaluationRun.Status.values, default="success")
    harness = serializers.CharField(max_length=50, required=False, default="", allow_blank=True)
    harness_version = serializers.CharField(
        max_length=50, required=False, default="", allow_blank=True
    )
    started_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    completed_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    results = ResultSerializer(many=True, max_length=MAX_RESULTS_PER_RUN, default=list)

    def to_input(self) -> RunInput:
        data = self.validated_data
        return run_input(data)


def run_input(data: dict[str, Any]) -> RunInput:
    return RunInput(
        model_version=data["model_version"],
        evaluation=data["evaluation"],
        run_id=data["run_id"],
        status=data["status"],
        harness=data.get("harness", ""),
        harness_version=data.get("harness_version", ""),
        started_at=data.get("started_at"),
        completed_at=data.get("completed_at"),
        results=tuple(ResultInput(**result) for result in data.get("results", [])),
    )


class StoredRunSerializer(serializers.ModelSerializer):
    model_version = serializers.CharField(source="model_version.label")
    evaluation = serializers.CharField(source="evaluation.key")
    results = ResultSerializer(many=True)

    class Meta:
        model = EvaluationRun
        fields = [
            "run_id",
            "model_version",
            "evaluation",
            "status",
            "harness",
            "harness_version",
            "source",
            "started_at",
            "completed_at",
            "received_at",
            "results",
        ]


class ModelVersionCreateSerializer(serializers.Serializer):
    model = serializers.SlugField(max_length=60, help_text="The model's slug, e.g. orion")
    label = serializers.CharField(
        max_length=100, validators=[code_validator], help_text="e.g. orion-2.1"
    )
    effective_compute = FiniteFloatField(
        required=False, allow_null=True, min_value=0, max_abs=1e40, help_text="FLOP"
    )


class DeterminationSerializer(serializers.ModelSerializer):
    deciding_run = serializers.CharField(source="deciding_run.run_id", allow_null=True)

    class Meta:
        model = Determination
        fields = [
            "threshold",
            "level",
            "outcome",
            "computed_outcome",
            "reason",
            "deciding_run",
            "deciding_metric",
            "deciding_value",
            "computed_at",
        ]


class ModelVersionSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    policy_version = serializers.SerializerMethodField()
    determinations = DeterminationSerializer(many=True)

    class Meta:
        model = ModelVersion
        fields = [
            "model",
            "label",
            "effective_compute",
            "created_at",
            "required_level",
            "assessed_at",
            "needs_recompute",
            "policy_version",
            "determinations",
        ]

    def get_policy_version(self, version: ModelVersion) -> str | None:
        policy = version.assessed_policy
        return f"{policy.policy.slug}:{policy.number}" if policy else None
