from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db import models

from governance import policy_yaml, validation
from governance.models import (
    CapabilityThreshold,
    PauseAuthority,
    Policy,
    PolicyVersion,
    RiskDomain,
    Safeguard,
    SafetyLevel,
    TriggerCondition,
)


class VersionItemForm(forms.ModelForm):  # type: ignore[type-arg]
    """A form for one item of a draft; ``code`` must be unique within the version."""

    def __init__(self, *args: Any, version: PolicyVersion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version = version
        if hasattr(self.instance, "version_id") and not self.instance.version_id:
            self.instance.version = version

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"].strip()
        model: type[models.Model] = self._meta.model
        taken = model._default_manager.filter(version=self.version, code=code)
        if taken.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"{code} is already used in this version.")
        return code


class LevelForm(VersionItemForm):
    class Meta:
        model = SafetyLevel
        fields = ["rank", "code", "name", "capability_bar", "defined", "approval_quorum"]
        widgets = {"capability_bar": forms.Textarea(attrs={"rows": 2})}


class DomainForm(VersionItemForm):
    class Meta:
        model = RiskDomain
        fields = ["code", "name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class ThresholdForm(VersionItemForm):
    class Meta:
        model = CapabilityThreshold
        fields = ["code", "domain", "required_level", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, version: PolicyVersion, **kwargs: Any) -> None:
        super().__init__(*args, version=version, **kwargs)
        self.fields["domain"].queryset = version.domains.all()  # type: ignore[attr-defined]
        self.fields["required_level"].queryset = version.levels.all()  # type: ignore[attr-defined]


class ConditionForm(VersionItemForm):
    class Meta:
        model = TriggerCondition
        fields = ["evaluation_key", "metric_key", "comparator", "value", "alert_value"]
        labels = {"evaluation_key": "Evaluation key", "metric_key": "Metric key"}


class SafeguardForm(VersionItemForm):
    class Meta:
        model = Safeguard
        fields = [
            "code", "name", "family", "scope", "minimum_level", "description", "evidence_required",
        ]  # fmt: skip
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "evidence_required": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, version: PolicyVersion, **kwargs: Any) -> None:
        super().__init__(*args, version=version, **kwargs)
        self.fields["minimum_level"].queryset = version.levels.all()  # type: ignore[attr-defined]


class SlugListField(forms.CharField):
    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        slugs = sorted({part.strip() for part in text.split(",") if part.strip()})
        for slug in slugs:
            if not validation.SLUG.match(slug):
                raise forms.ValidationError(f"{slug!r} is not a model slug.")
        return slugs


class AuthorityForm(VersionItemForm):
    powers = forms.MultipleChoiceField(
        choices=PauseAuthority.Power.choices, widget=forms.CheckboxSelectMultiple
    )
    model_slugs = SlugListField(
        required=False, label="Models in scope", help_text="Comma-separated model slugs"
    )

    class Meta:
        model = PauseAuthority
        fields = ["user", "all_models", "model_slugs", "powers", "valid_from", "valid_until"]
        labels = {"all_models": "All models"}
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}),
            "valid_until": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args: Any, version: PolicyVersion, **kwargs: Any) -> None:
        super().__init__(*args, version=version, **kwargs)
        people = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["user"].queryset = people  # type: ignore[attr-defined]

    def clean_user(self) -> Any:
        user = self.cleaned_data["user"]
        taken = PauseAuthority.objects.filter(version=self.version, user=user)
        if taken.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"{user} already holds an authority in this version.")
        return user


class VersionSettingsForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = PolicyVersion
        fields = [
            "label", "changelog", "reevaluation_interval_days", "baseline_level", "signing_quorum",
            "separation_waiver",
        ]  # fmt: skip
        labels = {
            "reevaluation_interval_days": "Re-evaluation interval (days)",
            "signing_quorum": "Signatures needed to publish",
            "separation_waiver": "Relax separation of acts (reason)",
        }
        help_texts = {
            "separation_waiver": "Leave empty (the default) so that whoever verifies a "
            "release's safeguards or overrides its determinations does not count toward its "
            "approvals. A reason here lets them count, and is shown on the register.",
        }
        widgets = {
            "changelog": forms.Textarea(attrs={"rows": 4}),
            "separation_waiver": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["baseline_level"].queryset = self.instance.levels.all()  # type: ignore[attr-defined]


class PolicyForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Policy
        fields = ["name", "slug"]
        help_texts = {"slug": "Lower-case letters, digits and hyphens; used in addresses."}


class ImportForm(forms.Form):
    file = forms.FileField(required=False, help_text="A policy YAML file (at most 512 KB).")
    text = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 10}), label="Or paste YAML"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is not None:
            if upload.size > policy_yaml.MAX_BYTES:
                raise forms.ValidationError("The file is larger than 512 KB.")
            try:
                data["yaml"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError("The file is not UTF-8 text.") from None
        elif data.get("text"):
            data["yaml"] = data["text"]
        else:
            raise forms.ValidationError("Choose a file or paste the YAML.")
        return data


class SignForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Re-enter your password to sign.",
    )
    otp_token = forms.CharField(
        required=False,
        label="One-time code",
        max_length=10,
        help_text="Only if you have an authenticator app enrolled.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    confirm = forms.BooleanField(label="I have read the content I am signing.")
    content_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)
