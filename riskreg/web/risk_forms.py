"""Forms of the risk register's pages: input checks only; the services decide the rest.

Choices that depend on the organisation (systems, members, the matrix's labels) come in
through the constructor, so a value from elsewhere never validates.
"""

from typing import Any

from django import forms

from riskreg.risks.models import (
    LEVELS,
    ActionStatus,
    Level,
    RiskCategory,
    RiskMatrix,
    RiskStatus,
    ScoreKind,
    TreatmentDecision,
)
from riskreg.risks.selectors.register import OVERDUE, SORTS
from riskreg.web.forms import _any

OVERDUE_LABELS = {
    "treatment": "Treatment action overdue",
    "review": "Review overdue",
    "any": "Either overdue",
}
SCALE = range(1, 6)
TEXT = {"max_length": 5000, "widget": forms.Textarea(attrs={"rows": 3})}


class DateInput(forms.DateInput):
    """The browser's date picker; the value travels as YYYY-MM-DD."""

    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class RiskFilterForm(forms.Form):
    """GET filters of the register; an unknown value filters nothing (system aside: the view
    answers 404 for a system the organisation does not have, as before)."""

    owner = forms.ChoiceField(required=False)
    category = forms.ChoiceField(required=False, choices=_any("Any category", RiskCategory.choices))
    level = forms.ChoiceField(required=False, choices=_any("Any level", Level.choices))
    status = forms.ChoiceField(required=False, choices=_any("Any status", RiskStatus.choices))
    overdue = forms.ChoiceField(
        required=False,
        label="Overdue",
        choices=_any("Overdue or not", [(v, OVERDUE_LABELS[v]) for v in OVERDUE]),
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[("", "")] + [(s, s) for name in SORTS for s in (name, f"-{name}")],
        widget=forms.HiddenInput,
    )

    def __init__(self, *args: Any, owners: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = _any("Anyone", [(u, u) for u in owners])  # type: ignore[attr-defined]


class ConfirmForm(forms.Form):
    """Confirming a proposed risk is the plain move to open; the form carries nothing."""


class TransitionForm(forms.Form):
    """Any status validates here, so the service judges the move; the menu offers only
    the moves the life cycle allows from here."""

    status = forms.ChoiceField(choices=RiskStatus.choices, label="Move to")

    def __init__(self, *args: Any, offered: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].widget.choices = offered


class DismissForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason for dismissal",
        help_text="For example: a duplicate of another risk, or not a risk of this system.",
    )


def _scale(labels: list[str]) -> list[tuple[int, str]]:
    return [(n, f"{n} · {label}") for n, label in zip(SCALE, labels, strict=True)]


class ScoreForm(forms.Form):
    kind = forms.ChoiceField(choices=ScoreKind.choices, label="Kind of score")
    likelihood = forms.TypedChoiceField(coerce=int)
    impact = forms.TypedChoiceField(coerce=int)
    rationale = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Rationale (optional)",
    )

    def __init__(self, *args: Any, matrix: RiskMatrix, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["likelihood"].choices = _scale(matrix.likelihood_labels)  # type: ignore[attr-defined]
        self.fields["impact"].choices = _scale(matrix.impact_labels)  # type: ignore[attr-defined]


class TreatmentForm(forms.Form):
    decision = forms.ChoiceField(
        required=False,
        choices=[("", "Undecided"), *TreatmentDecision.choices],
        label="Treatment decision",
        help_text="“Accept” states the intention; the acceptance below puts it on record.",
    )
    plan = forms.CharField(
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Treatment plan",
    )


class ActionForm(forms.Form):
    title = forms.CharField(max_length=200, label="Action")
    due_date = forms.DateField(label="Due on", widget=DateInput())
    owner = forms.ChoiceField(required=False, label="Action owner")

    def __init__(self, *args: Any, owners: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Nobody yet"), *((u, u) for u in owners)]  # type: ignore[attr-defined]


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionStatus.choices)


class AcceptForm(forms.Form):
    justification = forms.CharField(**TEXT)  # type: ignore[arg-type]
    conditions = forms.CharField(
        **TEXT,  # type: ignore[arg-type]
        help_text="What must stay true for the acceptance to hold.",
    )
    valid_until = forms.DateField(
        label="Valid until",
        widget=DateInput(),
        help_text="The risk returns to open the day after.",
    )


class ReviewForm(forms.Form):
    note = forms.CharField(**TEXT, label="Review note")  # type: ignore[arg-type]
    reviewed_on = forms.DateField(
        required=False,
        label="Reviewed on (optional)",
        widget=DateInput(),
        help_text="Leave empty for today; an earlier day records a review held then.",
    )


class CommentForm(forms.Form):
    text = forms.CharField(**TEXT, label="Comment")  # type: ignore[arg-type]


# --- the matrix ------------------------------------------------------------------------

BANDS = ("low", "medium", "high")
# The form's groups, each one setting of services.matrix, in the order the page shows them.
GROUPS = ("likelihood_labels", "impact_labels", "band_limits", "tolerance", "review_days")


class MatrixForm(forms.Form):
    """The matrix settings as flat fields; settings() regroups them as the service takes them.

    Only the shape is checked here (numbers are numbers); the service judges the values
    and its refusals land on their group (group_errors).
    """

    tolerance = forms.ChoiceField(
        choices=Level.choices,
        help_text="Officers accept residual levels up to this one; above it, only an admin.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group_errors: dict[str, list[str]] = {}
        for axis in ("likelihood", "impact"):
            for n in SCALE:
                self.fields[f"{axis}_{n}"] = forms.CharField(
                    max_length=40, label=f"{axis.capitalize()} {n}"
                )
        for band in BANDS:
            self.fields[f"band_{band}"] = forms.IntegerField(
                min_value=1, max_value=25, label=f"Highest {band} score"
            )
        for level in LEVELS:
            self.fields[f"review_{level}"] = forms.IntegerField(
                min_value=1, label=f"Days between reviews, {level}"
            )

    @staticmethod
    def initial_from(matrix: RiskMatrix) -> dict[str, Any]:
        values: dict[str, Any] = {"tolerance": matrix.tolerance}
        for n in SCALE:
            values[f"likelihood_{n}"] = matrix.likelihood_labels[n - 1]
            values[f"impact_{n}"] = matrix.impact_labels[n - 1]
        values |= {f"band_{b}": matrix.band_limits[b] for b in BANDS}
        values |= {f"review_{lvl}": matrix.review_days[lvl] for lvl in LEVELS}
        return values

    def fields_of(self, group: str) -> list[forms.BoundField]:
        prefix = {"band_limits": "band_", "review_days": "review_"}.get(
            group, group.removesuffix("labels")
        )
        return [self[name] for name in self.fields if name.startswith(prefix)]

    def settings(self) -> dict[str, Any]:
        """The settings as services.matrix.matrix_update takes them."""
        data = self.cleaned_data
        return {
            "likelihood_labels": [data[f"likelihood_{n}"] for n in SCALE],
            "impact_labels": [data[f"impact_{n}"] for n in SCALE],
            "band_limits": {b: data[f"band_{b}"] for b in BANDS},
            "tolerance": data["tolerance"],
            "review_days": {lvl: data[f"review_{lvl}"] for lvl in LEVELS},
        }

    @property
    def other_errors(self) -> list[str]:
        """Refusals that name no setting of the form."""
        return self.group_errors.get("", [])

    def refuse(self, group: str, reasons: list[str]) -> None:
        """A service refusal of one setting, shown beside its group."""
        self.group_errors.setdefault(group if group in GROUPS else "", []).extend(reasons)
