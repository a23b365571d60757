from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import acting_user
from releases import access, gate, selectors, services


class GateReasonSerializer(serializers.Serializer):
    """One reason a gate denies."""

    code = serializers.ChoiceField(
        choices=sorted(gate.CODES.items()), help_text="Stable, for machines."
    )
    message = serializers.CharField(help_text="For people; its wording may change.")
    subject = serializers.CharField(
        help_text="What it concerns: `release`, `model_version`, `approvals`, "
        "`policy_version`, `level:<code>`, `safeguard:<code>[,<code>…]` or `decision:<id>`."
    )


def _reasons() -> serializers.Serializer:
    """A gate's reasons in a response (a new field each time: DRF binds a field to one parent)."""
    return GateReasonSerializer(many=True)


GATE = inline_serializer(
    "Gate",
    {
        "allowed": serializers.BooleanField(),
        "state": serializers.CharField(help_text="draft, submitted, approved, deployed, withdrawn"),
        "required_level": serializers.CharField(allow_null=True),
        "reasons": _reasons(),
        "policy_version": serializers.CharField(allow_null=True),
        "assessed_at": serializers.DateTimeField(allow_null=True),
        "valid_until": serializers.DateTimeField(
            allow_null=True,
            help_text="The verdict holds until then (evidence going stale, an approver's "
            "authority ending) unless something changes first; null when time alone cannot "
            "change it. Ask again rather than keep an answer.",
        ),
        "assessment_sha256": serializers.CharField(
            help_text="The assessment an approval signs (the approvals endpoint asks for it)."
        ),
    },
)


class GateView(APIView):
    @extend_schema(
        summary="May this release ship? Always with reasons.",
        description=(
            "For deployment pipelines: fail the deployment unless `allowed` is true. The "
            "verdict is true at the moment of asking: a cached one is served only while it "
            "holds; otherwise the model version is reassessed and the gate refreshed before "
            "answering, and if that cannot be done the answer is a denial "
            "(`refresh_failed`). Each reason has a stable `code`."
        ),
        responses={200: GATE, 401: None, 404: None},
    )
    def get(self, request: Request, pk: int) -> Response:
        # One row with what the answer needs, then the model's read rule on it: the hot path
        # of every deployment pipeline (404 for a release the caller may not see).
        release = selectors.gate_row(pk)
        if release is None or not access.can_view(acting_user(request), release):
            raise Http404
        release = services.gate_now(
            release,
            governing_id=release.governing_id,  # type: ignore[attr-defined]
            alarm=release.register_alarm,  # type: ignore[attr-defined]
            people_epoch=release.people_epoch_now,  # type: ignore[attr-defined]
        )
        policy = release.model_version.assessed_policy
        return Response(
            {
                "allowed": release.gate_allowed,
                "state": release.state,
                "required_level": release.required_level or None,
                "reasons": release.gate_reasons,
                "policy_version": f"{policy.policy.slug}:{policy.number}" if policy else None,
                "assessed_at": release.assessed_at,
                "valid_until": release.gate_valid_until,
                "assessment_sha256": release.assessment_sha256,
            }
        )


class ApprovalSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, help_text="The approver re-enters it.")
    otp_token = serializers.CharField(required=False, allow_blank=True, default="")
    assessment_sha256 = serializers.CharField(
        max_length=64,
        help_text="The assessment hash the approver reviewed (from the gate or page).",
    )


class ApprovalsView(APIView):
    @extend_schema(
        summary="Sign an approval of a release",
        description=(
            "Re-authenticated by the approver's password (and one-time code if enrolled). "
            "`assessment_sha256` must be the assessment the approver reviewed: if it changed "
            "since, nothing is signed and the answer is 409. Repeated wrong passwords lock "
            "signing and sign-in from that address for a while: 429 with `Retry-After`."
        ),
        request=ApprovalSerializer,
        responses={201: None, 400: None, 401: None, 403: None, 404: None, 409: None, 429: None},
    )
    def post(self, request: Request, pk: int) -> Response:
        from core import signing

        actor = acting_user(request)
        release = selectors.visible_releases(actor).filter(pk=pk).first()
        if release is None:
            raise Http404
        slug = release.model_version.model.slug
        if not access.holds_power(actor, "approve", slug, on=timezone.localdate()):
            raise PermissionDenied
        data = ApprovalSerializer(data=request.data)
        if not data.is_valid():
            return Response({"errors": data.errors}, status=400)
        try:
            reauth = signing.reauthenticate(
                request=request._request,
                user=actor,
                password=data.validated_data["password"],
                otp_token=data.validated_data["otp_token"],
            )
            approval = services.release_approve(
                actor=actor,
                release=release,
                reauth=reauth,
                seen_sha256=data.validated_data["assessment_sha256"],
            )
        except signing.ReauthenticationFailed as error:
            return Response({"detail": str(error)}, status=403)
        except services.AssessmentChanged as error:
            return Response({"detail": str(error)}, status=409)
        except services.ReleaseError as error:
            return Response({"detail": str(error)}, status=400)
        return Response(
            {
                "approval": approval.pk,
                "signature": approval.signature_id,
                "assessment_sha256": approval.assessment_sha256,
            },
            status=201,
        )


DEPLOYMENT = inline_serializer(
    "Deployment",
    {
        "state": serializers.CharField(),
        "deployed_at": serializers.DateTimeField(),
        "assessment_sha256": serializers.CharField(),
    },
)
REFUSAL = inline_serializer(
    "DeploymentRefused",
    {
        "detail": serializers.CharField(),
        "reasons": _reasons(),
    },
)


class DeploymentView(APIView):
    @extend_schema(
        summary="Record that this release is deployed",
        description=(
            "For deployment pipelines, after they ship: taken only if the gate, recomputed at "
            "this moment, allows it (otherwise 409 with the gate's reasons, and nothing "
            "changes). Needs the right to request releases of the model (a token of its "
            "owner). A release is recorded as deployed once."
        ),
        request=None,
        responses={201: DEPLOYMENT, 401: None, 403: None, 404: None, 409: REFUSAL},
    )
    def post(self, request: Request, pk: int) -> Response:
        from releases import workflow

        actor = acting_user(request)
        release = selectors.visible_releases(actor).filter(pk=pk).first()
        if release is None:
            raise Http404
        try:
            release = services.release_deploy(actor=actor, release=release)
        except services.GateClosed as error:
            reasons = [reason.as_dict() for reason in error.reasons]
            return Response({"detail": str(error), "reasons": reasons}, status=409)
        except workflow.IllegalMove as error:
            reason = gate.Reason(gate.NOT_APPROVED, str(error), "release")
            return Response({"detail": str(error), "reasons": [reason.as_dict()]}, status=409)
        return Response(
            {
                "state": release.state,
                "deployed_at": release.state_changed_at,
                "assessment_sha256": release.assessment_sha256,
            },
            status=201,
        )
