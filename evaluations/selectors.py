"""Reads for the evaluation pages: bounded queries whatever the number of runs or versions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet

from core.access import AnyUser
from evaluations import access
from evaluations.models import Determination, EvaluationRun, ModelVersion, Result
from governance import content
from governance.models import PolicyVersion

SEVERITY = {"crossed": 3, "cannot_rule_out": 2, "alert": 1, "ruled_out": 0}


@dataclass
class HeatMap:
    policy: PolicyVersion | None
    domains: list[str]
    rows: list[tuple[ModelVersion, list[str]]]  # the worst outcome per domain, "" if none
    page: int = 1
    more: bool = False


def policy_content() -> tuple[PolicyVersion | None, dict[str, Any] | None]:
    policy = PolicyVersion.objects.governing()
    if policy is None:
        return None, None
    return policy, content.in_force_content(policy)


PAGE_SIZE = 50


def heat_map(user: AnyUser, *, page: int = 1) -> HeatMap:
    """One page of model versions (by model, then age) with the worst outcome per domain."""
    policy, data = policy_content()
    start = (page - 1) * PAGE_SIZE
    versions = list(
        access.visible_versions(user)
        .select_related("model")
        .order_by("model__name", "created_at", "pk")[start : start + PAGE_SIZE + 1]
    )
    more = len(versions) > PAGE_SIZE
    versions = versions[:PAGE_SIZE]
    if data is None:
        return HeatMap(None, [], [(v, []) for v in versions], page, more)
    domains = [d["code"] for d in data["domains"]]
    domain_of = {t["code"]: t["domain"] for t in data["thresholds"]}
    worst: dict[int, dict[str, str]] = defaultdict(dict)
    rows = Determination.objects.filter(model_version__in=versions, policy_version=policy)
    for version_id, threshold, outcome in rows.values_list(
        "model_version_id", "threshold", "outcome"
    ):
        domain = domain_of.get(threshold)
        current = worst[version_id].get(domain or "", "")
        if domain and SEVERITY[outcome] >= SEVERITY.get(current, -1):
            worst[version_id][domain] = outcome
    return HeatMap(
        policy,
        domains,
        [(v, [worst[v.pk].get(d, "") for d in domains]) for v in versions],
        page,
        more,
    )


RUNS_SHOWN = 20


def version_page(version: ModelVersion) -> dict[str, Any]:
    """The version's determinations, and its latest runs (the runs deciding a threshold are
    linked from the determinations whatever their age)."""
    runs = (
        EvaluationRun.objects.filter(model_version=version)
        .select_related("evaluation", "imported_by", "raw_file")
        .prefetch_related(Prefetch("results", queryset=Result.objects.order_by("metric")))
        .order_by("-received_at", "-pk")[:RUNS_SHOWN]
    )
    determinations = version.determinations.select_related("deciding_run", "override").order_by(
        "threshold"
    )
    return {
        "runs": list(runs),
        "runs_total": EvaluationRun.objects.filter(model_version=version).count(),
        "determinations": list(determinations),
    }


@dataclass
class ChartSeries:
    metric: str
    comparator: str
    threshold: float
    alert: float | None
    threshold_code: str
    points: list[tuple[str, float]] = field(default_factory=list)  # (version label, value)


def evaluation_chart(user: AnyUser, key: str) -> list[ChartSeries]:
    """For each trigger condition on this evaluation: the best score of each version."""
    _, data = policy_content()
    conditions = [
        (t["code"], c)
        for t in (data or {}).get("thresholds", [])
        for c in t["conditions"]
        if c["evaluation"] == key
    ]
    if not conditions:
        return []
    versions = list(
        access.visible_versions(user).order_by("created_at").values_list("pk", "label")[:100]
    )
    labels = dict(versions)
    results = Result.objects.filter(
        run__model_version_id__in=labels, run__evaluation__key=key, run__status="success"
    ).values_list("run__model_version_id", "metric", "value")
    best: dict[tuple[int, str], float] = {}
    series = []
    for code, condition in conditions:
        higher = condition["comparator"] in (">=", ">")
        series.append(
            ChartSeries(
                condition["metric"],
                condition["comparator"],
                condition["value"],
                condition.get("alert_value"),
                code,
            )
        )
        for version_id, metric, value in results:
            if metric == condition["metric"]:
                previous = best.get((version_id, metric))
                if previous is None or (value > previous if higher else value < previous):
                    best[(version_id, metric)] = value
    for line in series:
        line.points = [
            (labels[pk], best[(pk, line.metric)]) for pk, _ in versions if (pk, line.metric) in best
        ]
    return series


def svg_geometry(
    line: ChartSeries, *, width: int = 640, height: int = 220, pad: int = 40
) -> dict[str, Any]:
    """Coordinates for a server-rendered SVG: points, threshold and alert lines, y ticks."""
    values = (
        [v for _, v in line.points]
        + [line.threshold]
        + ([line.alert] if line.alert is not None else [])
    )
    low, high = min([*values, 0.0]), max(values) or 1.0
    high = high * 1.1 if high > 0 else 1.0
    span = (high - low) or 1.0

    def y(value: float) -> float:
        return round(height - pad - (value - low) / span * (height - 2 * pad), 1)

    count = max(len(line.points), 1)
    step = (width - 2 * pad) / max(count - 1, 1)
    points = [
        {"x": round(pad + i * step, 1), "y": y(value), "label": label, "value": value}
        for i, (label, value) in enumerate(line.points)
    ]
    return {
        "width": width,
        "height": height,
        "pad": pad,
        "points": points,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
        "threshold_y": y(line.threshold),
        "alert_y": y(line.alert) if line.alert is not None else None,
        "low": low,
        "high": high,
        "right": width - pad,
        "bottom": height - pad,
    }


def owned_models(user: AnyUser) -> QuerySet[Any]:
    return access.visible_models(user).prefetch_related(
        Prefetch("versions", queryset=ModelVersion.objects.order_by("created_at"))
    )
