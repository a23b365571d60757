from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

# Dates the history can hold (the day after the last must still be a date).
DATE_RANGE = [
    MinValueValidator(date(1970, 1, 1), "Choose a date from 1970 on."),
    MaxValueValidator(date(9998, 12, 31), "Choose a date before the year 9999."),
]


class AuditFilterForm(forms.Form):
    """What the audit list, its CSV and the export bundle are narrowed by."""

    action = forms.CharField(
        required=False, max_length=100, help_text="An action or its prefix, e.g. releases."
    )
    actor = forms.CharField(required=False, max_length=150, help_text="Username or system:<task>")
    model = forms.SlugField(required=False, max_length=50, help_text="Model slug, e.g. orion")
    release = forms.IntegerField(required=False, min_value=1, help_text="Release number")
    object_type = forms.CharField(required=False, max_length=100, help_text="e.g. auth.user")
    object_id = forms.CharField(required=False, max_length=64)
    subject = forms.CharField(
        required=False, max_length=120, help_text="A record's history, e.g. releases.release:4"
    )
    since = forms.DateField(required=False, help_text="From (UTC date)", widget=forms.DateInput(
        attrs={"type": "date"}), validators=DATE_RANGE)  # fmt: skip
    until = forms.DateField(required=False, help_text="Until (UTC date, inclusive)",
                            widget=forms.DateInput(attrs={"type": "date"}),
                            validators=DATE_RANGE)  # fmt: skip
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError("The start date is after the end date.")
        return data

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The range [since 00:00, the day after until 00:00), in UTC."""
        data = self.cleaned_data
        start = end = None
        if data.get("since"):
            start = datetime.combine(data["since"], time.min, tzinfo=UTC)
        if data.get("until"):
            end = datetime.combine(data["until"] + timedelta(days=1), time.min, tzinfo=UTC)
        return start, end


class AsOfForm(forms.Form):
    on = forms.DateField(help_text="UTC date", validators=DATE_RANGE)


class AtForm(forms.Form):
    at = forms.DateTimeField(help_text="UTC date and time, e.g. 2026-11-27 09:00")
