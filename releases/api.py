from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import acting_user
from releases import selectors

GATE = inline_serializer(
    "Gate",
    {
        "allowed": serializers.BooleanField(),
        "required_level": serializers.CharField(allow_null=True),
        "reasons": serializers.ListField(child=serializers.CharField()),
        "policy_version": serializers.CharField(allow_null=True),
        "assessed_at": serializers.DateTimeField(allow_null=True),
    },
)


class GateView(APIView):
    @extend_schema(
        summary="May this release ship? Always with reasons.",
        description="For deployment pipelines: fail the deployment unless `allowed` is true.",
        responses={200: GATE, 401: None, 404: None},
    )
    def get(self, request: Request, pk: int) -> Response:
        release = (
            selectors.visible_releases(acting_user(request))
            .select_related("model_version__assessed_policy__policy")
            .filter(pk=pk)
            .first()
        )
        if release is None:
            raise Http404
        policy = release.model_version.assessed_policy
        return Response(
            {
                "allowed": release.gate_allowed,
                "required_level": release.required_level or None,
                "reasons": release.gate_reasons,
                "policy_version": f"{policy.policy.slug}:{policy.number}" if policy else None,
                "assessed_at": release.assessed_at,
            }
        )
