from __future__ import annotations

from typing import Any

from django import forms

from evaluations.models import ModelVersion
from releases import evidence, services
from releases.models import Decision, Release


class ReleaseForm(forms.Form):
    model_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.none(), to_field_name="label", empty_label=None
    )
    context = forms.ChoiceField(choices=Release.Context.choices)
    title = forms.CharField(max_length=200)

    def __init__(self, *args: Any, versions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model_version"].queryset = versions  # type: ignore[attr-defined]


class EvidenceForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Evidence"
    )
    link = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        validators=[services.EVIDENCE_LINK],  # what the service accepts
    )
    file = forms.FileField(required=False)

    def clean_file(self) -> evidence.EvidenceFile | None:
        upload = self.cleaned_data.get("file")
        return evidence.check(upload) if upload else None


class SignatureForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Re-enter your password to sign.",
    )
    otp_token = forms.CharField(required=False, label="One-time code", max_length=10)


class ApprovalForm(SignatureForm):
    seen_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, v) for k, v in Decision.Kind.choices if k != "lift"])
    scope = forms.ChoiceField(
        choices=[
            ("release", "This release"),
            ("model_version", "The model version"),
            ("model", "The whole model"),
        ]
    )
    allowed_contexts = forms.MultipleChoiceField(
        choices=Release.Context.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For a restriction: what stays allowed.",
    )
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), min_length=20)


class LiftForm(forms.Form):
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), min_length=20)
