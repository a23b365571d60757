from __future__ import annotations

from django import forms


class AuditFilterForm(forms.Form):
    action = forms.CharField(
        required=False, max_length=100, help_text="An action or its prefix, e.g. core.session"
    )
    actor = forms.CharField(required=False, max_length=150, help_text="Username or system:<task>")
    object_type = forms.CharField(required=False, max_length=100, help_text="e.g. auth.user")
    object_id = forms.CharField(required=False, max_length=64)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “CI evaluation runner”")
