"""Forms of the pages: input checks only; the services decide the rest."""

from typing import Any

from django import forms
from django.core.validators import RegexValidator

from evaluations.models import (
    AssessmentKind,
    EvidenceContext,
    EvidenceKind,
    EvidenceState,
    IncidentSeverity,
    IncidentStatus,
    JobStatus,
)
from riskreg.organisations.roles import Role
from riskreg.organisations.services import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS

USERNAME = RegexValidator(r"^[\w.@+-]+\Z", "Letters, digits and @ . + - _ only.")


class TokenForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="Where you will use it, e.g. “laptop”.")
    days = forms.IntegerField(
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        initial=DEFAULT_TOKEN_DAYS,
        label="Valid for (days)",
        help_text=f"1 to {MAX_TOKEN_DAYS} days.",
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, label="Reason (optional)")


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150, validators=[USERNAME])
    email = forms.EmailField(required=False, label="Email (optional)")
    # The least surprising default: never admin unless someone picks it.
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ENGINEER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ServiceAccountForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=64)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ENGINEER)
    systems = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Limited to these AI systems",
        help_text="Leave all unticked for every system of the organisation.",
    )

    def __init__(self, *args: Any, system_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["systems"].choices = system_choices  # type: ignore[attr-defined]


# --- evidence and incidents ------------------------------------------------------------


def _any(label: str, choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A filter's choices with the empty "any" option first."""
    return [("", label), *choices]


class EvidenceFilterForm(forms.Form):
    """GET filters of the evidence lists; an unknown value filters nothing."""

    kind = forms.ChoiceField(required=False, choices=_any("Any kind", EvidenceKind.choices))
    context = forms.ChoiceField(
        required=False, choices=_any("Any context", EvidenceContext.choices)
    )
    state = forms.ChoiceField(required=False, choices=_any("Any state", EvidenceState.choices))


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded beside the item and in the audit trail.",
    )


class IncidentFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=_any("Any status", IncidentStatus.choices))
    severity = forms.ChoiceField(
        required=False, choices=_any("Any severity", IncidentSeverity.choices)
    )


class LocalDateTimeInput(forms.DateTimeInput):
    """The browser's date-and-time picker; the value is read in the current time zone."""

    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class IncidentForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(max_length=20000, widget=forms.Textarea(attrs={"rows": 5}))
    severity = forms.ChoiceField(choices=IncidentSeverity.choices, initial=IncidentSeverity.MEDIUM)
    occurred_at = forms.DateTimeField(label="Occurred at", widget=LocalDateTimeInput())
    detected_at = forms.DateTimeField(label="Detected at", widget=LocalDateTimeInput())
    systems = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="AI systems involved"
    )
    harmed_parties = forms.CharField(
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Harmed parties (optional)",
    )
    near_miss = forms.BooleanField(required=False, label="Near miss (no harm was done)")
    regulator_notification_required = forms.BooleanField(
        required=False, label="The regulator must be notified"
    )
    regulator_deadline = forms.DateTimeField(
        required=False,
        label="Regulator notification deadline",
        widget=LocalDateTimeInput(),
        help_text="Required when the regulator must be notified.",
    )
    external_reference = forms.CharField(
        max_length=200, required=False, label="External reference (optional)"
    )

    def __init__(self, *args: Any, system_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["systems"].choices = system_choices  # type: ignore[attr-defined]


class TransitionForm(forms.Form):
    """Any status validates here, so the service judges the move; the menu offers only
    the moves open to the viewer."""

    status = forms.ChoiceField(choices=IncidentStatus.choices, label="Move to")
    note = forms.CharField(
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Note (optional)",
    )

    def __init__(self, *args: Any, offered: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].widget.choices = offered


class RootCauseForm(forms.Form):
    root_cause = forms.CharField(
        max_length=10000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    corrective_actions = forms.CharField(
        max_length=10000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class NoteForm(forms.Form):
    text = forms.CharField(max_length=10000, widget=forms.Textarea(attrs={"rows": 3}), label="Note")


# --- assessments -----------------------------------------------------------------------

# As the evidence pages name the kinds (the model's labels).
KIND_LABELS = dict(AssessmentKind.choices)
MAX_SENSITIVE = 10  # as many as the API's mapping accepts


class AssessmentForm(forms.Form):
    """A predictions file, its column mapping and what to compute from it.

    Checks the shape of the input only; the service reads the file's header and decides
    whether the mapping fits it and the kinds asked for.
    """

    file = forms.FileField(
        label="Predictions file",
        help_text="CSV with a header row, or Parquet.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.parquet,.pq"}),
    )
    label = forms.CharField(max_length=200, required=False, label="Label column")
    prediction = forms.CharField(
        max_length=200,
        required=False,
        label="Prediction column",
        help_text="The predicted label; fairness needs it.",
    )
    score = forms.CharField(
        max_length=200,
        required=False,
        label="Score column",
        help_text="The predicted probability of the positive label; calibration needs it.",
    )
    sensitive = forms.CharField(
        max_length=2000,
        required=False,
        label="Sensitive columns",
        help_text="Comma-separated, e.g. sex, age_band; fairness needs at least one.",
    )
    split = forms.CharField(
        max_length=200,
        required=False,
        label="Split column (optional)",
        help_text="Names each row's split (train, test); data quality reports each split.",
    )
    pos_label = forms.CharField(
        max_length=200,
        required=False,
        label="Positive label (optional)",
        help_text="The label value that counts as positive; 1 when empty.",
    )
    kinds = forms.MultipleChoiceField(
        # Robustness and efficiency come from a model: ModelAssessmentForm.
        choices=[(k, v) for k, v in KIND_LABELS.items() if k not in ("robustness", "efficiency")],
        widget=forms.CheckboxSelectMultiple,
        label="Compute",
        initial=["fairness", "calibration"],
    )
    dataset = forms.ChoiceField(
        required=False,
        label="Dataset measured (data quality)",
        help_text="The inventory dataset the file's rows come from.",
    )
    bins = forms.IntegerField(min_value=1, max_value=1000, initial=10, label="Calibration bins")
    strategy = forms.ChoiceField(
        choices=[("uniform", "Equal width"), ("quantile", "Equal mass")],
        initial="uniform",
        label="Bin strategy",
    )
    n_boot = forms.IntegerField(
        min_value=0,
        max_value=10_000,
        initial=1000,
        label="Bootstrap resamples",
        help_text="For the confidence intervals; 0 computes none.",
    )

    def __init__(self, *args: Any, dataset_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dataset"].choices = [("", "None"), *dataset_choices]  # type: ignore[attr-defined]

    def clean_sensitive(self) -> list[str]:
        text: str = self.cleaned_data["sensitive"]
        columns = [c.strip() for c in text.split(",") if c.strip()]
        if len(columns) > MAX_SENSITIVE:
            raise forms.ValidationError(f"At most {MAX_SENSITIVE} sensitive columns.")
        if any(len(c) > 200 for c in columns):
            raise forms.ValidationError("A column name has at most 200 characters.")
        return list(dict.fromkeys(columns))

    def mapping(self) -> dict[str, Any]:
        """The column mapping as the API takes it: only the roles given."""
        data = self.cleaned_data
        roles = ("label", "prediction", "score", "split", "pos_label")
        found: dict[str, Any] = {role: data[role] for role in roles if data[role]}
        if data["sensitive"]:
            found["sensitive"] = data["sensitive"]
        return found

    def options(self) -> dict[str, Any]:
        """The options as the API takes them; the dataset only when data quality is asked."""
        data = self.cleaned_data
        found = {name: data[name] for name in ("bins", "strategy", "n_boot")}
        if data["dataset"] and "data_quality" in data["kinds"]:
            found["dataset"] = data["dataset"]
        return found


class AssessmentFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=_any("Any status", JobStatus.choices))
