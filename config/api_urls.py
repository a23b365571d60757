"""The REST API, version 1. Every view declares its access rule (permission-matrix test)."""

from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import access
from core.api import api_view
from evaluations import access as evaluation_access
from evaluations import api as evaluations_api
from releases import api as releases_api

urlpatterns = [
    path(
        "evaluation-runs/",
        api_view(evaluations_api.EvaluationRunsView, evaluation_access.READ_RULE),
        name="evaluation-runs",
    ),
    path(
        "model-versions/",
        api_view(evaluations_api.ModelVersionsView, evaluation_access.READ_RULE),
        name="model-versions",
    ),
    path(
        "model-versions/<str:label>/",
        api_view(evaluations_api.ModelVersionDetailView, evaluation_access.READ_RULE),
        name="model-version",
    ),
    path(
        "imports/",
        api_view(evaluations_api.ImportsView, evaluation_access.READ_RULE),
        name="imports",
    ),
    path(
        "imports/<uuid:job_id>/",
        api_view(evaluations_api.ImportDetailView, evaluation_access.READ_RULE),
        name="import",
    ),
    path(
        "releases/<int:pk>/gate/",
        api_view(releases_api.GateView, evaluation_access.READ_RULE),
        name="release-gate",
    ),
    path(
        "releases/<int:pk>/approvals/",
        api_view(releases_api.ApprovalsView, evaluation_access.READ_RULE),
        name="release-approvals",
    ),
    path(
        "releases/<int:pk>/deployment/",
        api_view(releases_api.DeploymentView, evaluation_access.READ_RULE),
        name="release-deployment",
    ),
    path("schema/", api_view(SpectacularAPIView, access.SIGNED_IN), name="schema"),
    path(
        "docs/",
        # Swagger UI sets inline styles; scripts stay restricted to the app's own files.
        csp_update({"style-src": ["'self'", "'unsafe-inline'"]})(
            api_view(SpectacularSwaggerSplitView, access.SIGNED_IN, url_name="api:schema")
        ),
        name="docs",
    ),
]
