from __future__ import annotations

from django import forms

from evaluations.models import Evaluation, Model, ModelVersion


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
