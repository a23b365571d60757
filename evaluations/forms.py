from __future__ import annotations

from django import forms

from evaluations.models import Determination, Evaluation, Model, ModelVersion


class ModelForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Model
        fields = ["name", "slug", "family"]
        help_texts = {"slug": "Lower-case letters, digits and hyphens; harnesses use it."}


class ModelVersionForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ModelVersion
        fields = ["label", "effective_compute"]
        help_texts = {"label": "Unique, e.g. orion-2.1; evaluation results name it."}


class EvaluationForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Evaluation
        fields = ["key", "name", "domain", "harness", "description"]
        help_texts = {
            "key": "What results arrive under: the Inspect task name or lm-eval task name.",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text="Inspect AI .eval or .json log, lm-evaluation-harness results JSON, or CSV."
    )
    model_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.none(), to_field_name="label", empty_label=None
    )

    def __init__(self, *args: object, versions: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["model_version"].queryset = versions  # type: ignore[attr-defined]


class OverrideForm(forms.Form):
    threshold = forms.ChoiceField(choices=())
    outcome = forms.ChoiceField(choices=Determination.Outcome.choices)
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        min_length=20,
        help_text="Why the computed outcome is wrong: a flawed run, a false positive, …",
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Re-enter your password to sign.",
    )
    otp_token = forms.CharField(
        required=False, label="One-time code", max_length=10,
        help_text="Only if you have an authenticator app enrolled.",
    )  # fmt: skip
    seen_watermark = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: object, thresholds: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["threshold"].choices = [(code, code) for code in thresholds]  # type: ignore[attr-defined]
