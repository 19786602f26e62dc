"""Forms of the posture and policy pages: input checks only; the services decide the rest.

The services judge justifications, expiries and thresholds (their refusals land on the
field they name), so a form only checks that a date is a date and a number a number.
"""

from datetime import date, datetime, time
from typing import Any

from django import forms
from django.utils import timezone

from controls.engine.status import Status
from controls.services.overrides import OVERRIDE_STATUSES
from riskreg.web.risk_forms import TEXT, DateInput

# The statuses an officer may put in place of a computed one, worst first, in words.
STATUS_LABELS = {
    Status.NOT_MET: "Not met",
    Status.INCONCLUSIVE: "Inconclusive",
    Status.PARTIALLY_MET: "Partially met",
    Status.MET: "Met",
    Status.NOT_ASSESSED: "Not assessed",
    Status.NOT_APPLICABLE: "Not applicable",
}


def end_of_day(day: date) -> datetime:
    """The last second of `day` in the current time zone: an expiry date as a moment."""
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


class _Expiring(forms.Form):
    """A justification and the day the decision lapses, as both override forms take them."""

    def expiry(self) -> dict[str, Any]:
        """The cleaned data as services.overrides.override_create takes it."""
        data = self.cleaned_data
        return {
            "justification": data["justification"],
            "expires_at": end_of_day(data["expires_at"]),
        }


class OverrideForm(_Expiring):
    status = forms.ChoiceField(
        choices=[(s.value, STATUS_LABELS[s]) for s in OVERRIDE_STATUSES], label="Status"
    )
    justification = forms.CharField(
        **TEXT,  # type: ignore[arg-type]
        label="Justification",
        help_text="Why the computed status does not hold; kept in the audit trail.",
    )
    expires_at = forms.DateField(
        label="Expires on",
        widget=DateInput(),
        help_text="The computed status returns the day after; at most a year ahead.",
    )


class NotApplicableForm(_Expiring):
    """Marked with the prefix "na", so that its fields do not clash with the override's."""

    justification = forms.CharField(
        **TEXT,  # type: ignore[arg-type]
        label="Why it does not apply",
    )
    expires_at = forms.DateField(
        label="Not applicable until",
        widget=DateInput(),
        help_text="At most a year ahead; decide again then.",
    )


class ThresholdForm(forms.Form):
    """One rule's threshold and band for every system; an empty value keeps the one in force.

    The range of each rule is checked by the service (its refusal names the value).
    """

    rule = forms.ChoiceField(label="Rule")
    threshold = forms.FloatField(required=False, label="Threshold")
    band = forms.FloatField(
        required=False,
        label="Band",
        help_text="How far short of the threshold still counts as partially met.",
    )
    note = forms.CharField(max_length=500, required=False, label="Note (optional)")

    def __init__(self, *args: Any, rules: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [(r, r) for r in rules]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.has_error("threshold") or self.has_error("band"):
            return data
        if data.get("threshold") is None and data.get("band") is None:
            raise forms.ValidationError("Give a threshold, a band or both.")
        return data

    def values(self) -> dict[str, float]:
        """{"threshold": t, "band": b}, with only the values given."""
        data = self.cleaned_data
        return {k: data[k] for k in ("threshold", "band") if data[k] is not None}
