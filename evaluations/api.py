"""The evaluations API (DESIGN section 5): results in, model versions registered and read."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import acting_user
from core.api import content_length, too_large
from evaluations import access, imports, ingestion, services
from evaluations.models import Determination, EvaluationRun, ImportJob, ModelVersion
from evaluations.serializers import (
    ModelVersionCreateSerializer,
    ModelVersionSerializer,
    RunSerializer,
    StoredRunSerializer,
    run_input,
)

ERROR = inline_serializer("Error", {"detail": serializers.CharField()})
FIELD_ERRORS = inline_serializer(
    "FieldErrors", {"errors": serializers.DictField(child=serializers.ListField())}
)
# A body that is not JSON (or not multipart) at all is refused by the parser: {"detail": …}.
BAD_REQUEST = PolymorphicProxySerializer(
    component_name="BadRequest",
    serializers=[FIELD_ERRORS, ERROR],
    resource_type_field_name=None,
    many=False,
)
CONFLICT = inline_serializer(
    "RunConflict", {"detail": serializers.CharField(), "run_ids": serializers.ListField()}
)


class RunOrBatchSerializer(serializers.Serializer):
    """For the document only: one run, or a batch of 1 to ``ingestion.MAX_RUNS`` runs."""


class RunOrBatchScheme(OpenApiSerializerExtension):
    target_class = RunOrBatchSerializer

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        run = auto_schema.resolve_serializer(RunSerializer, direction)
        batch = {"type": "array", "items": run.ref, "minItems": 1, "maxItems": ingestion.MAX_RUNS}
        # ``required`` binds only an object (one run), and marks the request body as required.
        return {"oneOf": [run.ref, batch], "required": run.schema["required"]}


# The stored run for one run, the list of stored runs for a batch.
STORED = PolymorphicProxySerializer(
    component_name="StoredRunOrBatch",
    serializers=[StoredRunSerializer, StoredRunSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)


class EvaluationRunsView(APIView):
    @extend_schema(
        summary="Push evaluation results",
        description=(
            "One run, or a list of runs (a batch of at most 500; all or nothing). A run id seen "
            "before with identical content is a replay (200, nothing changes); with different "
            "content it is a conflict (409). Values must be finite numbers within ±1e12. "
            "The body may be at most 10 MB (413)."
        ),
        # JSON only: runs hold lists of results, which form fields cannot carry.
        request={"application/json": RunOrBatchSerializer},
        responses={
            201: STORED,
            200: OpenApiResponse(STORED, description="Identical replay"),
            400: BAD_REQUEST,
            401: ERROR,
            409: CONFLICT,
            413: ERROR,
            415: ERROR,
        },
    )
    def post(self, request: Request) -> Any:
        if content_length(request) > settings.API_MAX_BODY_BYTES:
            return too_large(settings.API_MAX_BODY_BYTES)
        batch = isinstance(request.data, list)
        items = request.data if batch else [request.data]
        if len(items) > ingestion.MAX_RUNS:
            return _errors({"non_field_errors": [f"at most {ingestion.MAX_RUNS} runs per request"]})
        serializer = RunSerializer(data=items, many=True)
        if not serializer.is_valid():
            details = _flat(serializer.errors, "runs") if batch else _flat(serializer.errors[0])
            return Response({"errors": details}, status=status.HTTP_400_BAD_REQUEST)
        try:
            outcome = ingestion.ingest_runs(
                actor=acting_user(request),
                runs=[run_input(item) for item in serializer.validated_data],
                source=EvaluationRun.Source.API,
            )
        except ingestion.IngestionError as error:
            return _errors(error.errors)
        except ingestion.RunConflict as error:
            return Response(
                {"detail": str(error), "run_ids": error.run_ids}, status=status.HTTP_409_CONFLICT
            )
        stored = EvaluationRun.objects.filter(pk__in=[r.pk for r in outcome.runs])
        stored = stored.select_related("model_version", "evaluation").prefetch_related("results")
        body = StoredRunSerializer(stored, many=True).data
        code = status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
        return Response(body if batch else body[0], status=code)


def _errors(errors: dict[str, Any]) -> Response:
    return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)


def _flat(errors: Any, path: str = "") -> dict[str, list[str]]:
    """DRF's nested errors (a run's results, a batch's runs) as the flat field paths ingestion
    uses, e.g. ``runs[1].results[0].value``: the shape the document promises."""
    if isinstance(errors, list) and not any(isinstance(e, dict | list) for e in errors):
        return {path or "non_field_errors": [str(message) for message in errors]} if errors else {}
    flat: dict[str, list[str]] = {}
    for key, value in errors.items() if isinstance(errors, dict) else enumerate(errors):
        if isinstance(key, int) or str(key).isdigit():
            name = f"{path}[{key}]"
        else:
            name = f"{path}.{key}" if path else str(key)
        flat.update(_flat(value, name))
    return flat


def _version_queryset(request: Request) -> Any:
    return (
        access.visible_versions(acting_user(request))
        .select_related("model", "assessed_policy__policy")
        .prefetch_related(
            Prefetch(
                "determinations", queryset=Determination.objects.select_related("deciding_run")
            )
        )
    )


class ModelVersionsView(APIView):
    @extend_schema(
        summary="List the model versions you may see, with their required level",
        responses={200: ModelVersionSerializer(many=True), 401: ERROR},
    )
    def get(self, request: Request) -> Response:
        versions = _version_queryset(request).order_by("model__slug", "created_at")[:500]
        return Response(ModelVersionSerializer(versions, many=True).data)

    @extend_schema(
        summary="Register a model version (a new checkpoint)",
        description="The model must exist and you must own it (or hold the feed permission).",
        request={"application/json": ModelVersionCreateSerializer},
        responses={
            201: ModelVersionSerializer,
            400: BAD_REQUEST,
            401: ERROR,
            409: ERROR,
            415: ERROR,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = ModelVersionCreateSerializer(data=request.data)
        if not serializer.is_valid():
            return Response({"errors": serializer.errors}, status=status.HTTP_400_BAD_REQUEST)
        data = serializer.validated_data
        actor = acting_user(request)
        model = access.visible_models(actor).filter(slug=data["model"]).first()
        if model is None:
            return _errors({"model": [f"unknown model {data['model']!r}"]})
        if ModelVersion.objects.filter(label=data["label"]).exists():
            return Response(
                {"detail": f"model version {data['label']!r} already exists"},
                status=status.HTTP_409_CONFLICT,
            )
        try:
            version = services.model_version_create(
                actor=actor,
                model=model,
                label=data["label"],
                effective_compute=data.get("effective_compute"),
            )
        except PermissionDenied:
            return _errors({"model": [f"you may not add versions to {model.slug!r}"]})
        except ValidationError as error:
            return _errors(error.message_dict)
        return Response(
            ModelVersionSerializer(_version_queryset(request).get(pk=version.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class ModelVersionDetailView(APIView):
    @extend_schema(
        summary="A model version's required level and determinations",
        responses={200: ModelVersionSerializer, 401: ERROR, 404: ERROR},
    )
    def get(self, request: Request, label: str) -> Response:
        if "\x00" in label:  # no label holds NUL, and PostgreSQL refuses to even compare one
            raise Http404
        version = _version_queryset(request).filter(label=label).first()
        if version is None:
            raise Http404
        return Response(ModelVersionSerializer(version).data)


class ImportJobSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    state = serializers.CharField()
    progress = serializers.IntegerField()
    filename = serializers.CharField()
    model_version = serializers.CharField(source="model_version_label")
    detected_format = serializers.CharField()
    errors = serializers.ListField(child=serializers.CharField())
    runs_created = serializers.ListField(child=serializers.CharField())
    runs_replayed = serializers.ListField(child=serializers.CharField())
    raw_sha256 = serializers.CharField(source="raw_file.sha256", allow_null=True, default=None)
    status_url = serializers.SerializerMethodField()

    def get_status_url(self, job: ImportJob) -> str:
        return reverse("api:import", args=[job.pk])


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    model_version = serializers.CharField(max_length=100)


class ImportsView(APIView):
    @extend_schema(
        summary="Import an evaluation log file",
        description=(
            "Multipart `file` (an Inspect AI .eval or .json log, lm-evaluation-harness results "
            "JSON, or CSV; the format is recognised from the content) and `model_version`. "
            "Answers 202 at once with a status URL; the import runs in the background."
        ),
        request={"multipart/form-data": ImportUploadSerializer},
        responses={202: ImportJobSerializer, 400: BAD_REQUEST, 401: ERROR, 413: ERROR, 415: ERROR},
    )
    def post(self, request: Request) -> Any:
        if content_length(request) > settings.IMPORT_MAX_BYTES:
            return too_large(settings.IMPORT_MAX_BYTES)
        serializer = ImportUploadSerializer(data=request.data)
        if not serializer.is_valid():
            return Response({"errors": serializer.errors}, status=status.HTTP_400_BAD_REQUEST)
        actor = acting_user(request)
        label = serializer.validated_data["model_version"]
        if not access.feedable_versions(actor).filter(label=label).exists():
            return _errors({"model_version": [f"unknown model version {label!r}"]})
        job = imports.import_job_create(
            actor=actor, upload=serializer.validated_data["file"], model_version=label
        )
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportDetailView(APIView):
    @extend_schema(
        summary="The state of an import",
        responses={200: ImportJobSerializer, 401: ERROR, 404: ERROR},
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = ImportJob.objects.select_related("raw_file").filter(pk=job_id).first()
        if job is None or not access.can_see_import(acting_user(request), job):
            raise Http404
        return Response(ImportJobSerializer(job).data)
