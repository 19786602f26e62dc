"""Forms of the report pages: input checks only; the services decide the rest.

report_request judges the scope (a system report names a system, a register report none)
and the period's order, and its refusals land on the field they name; the system menu
offers only the organisation's systems, so another organisation's slug never validates.
"""

from typing import Any

from django import forms
from django.template.defaultfilters import filesizeformat

from reports.models import ReportKind
from reports.services.verification import MAX_VERIFY_BYTES
from riskreg.web.risk_forms import DateInput

KIND_LABELS = {
    ReportKind.SYSTEM: "System report",
    ReportKind.REGISTER: "Risk register report",
    ReportKind.ANNEX_IV: "Annex IV technical documentation",
}


class ReportRequestForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(kind.value, KIND_LABELS[kind]) for kind in ReportKind],
        label="Kind of report",
        initial=ReportKind.SYSTEM,
    )
    system = forms.ChoiceField(
        required=False,
        label="AI system",
        help_text="Required for a system report and Annex IV; a register report covers all.",
    )
    period_from = forms.DateField(
        required=False, label="Period from (optional)", widget=DateInput()
    )
    period_to = forms.DateField(required=False, label="Period to (optional)", widget=DateInput())

    def __init__(self, *args: Any, system_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["system"].choices = [("", "None (register report)"), *system_choices]  # type: ignore[attr-defined]


class ApproveForm(forms.Form):
    note = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Note (optional)",
        help_text="Printed on the signed report with your approval.",
    )


class VerifyForm(forms.Form):
    file = forms.FileField(
        label="Report PDF",
        help_text=f"A PDF of at most {filesizeformat(MAX_VERIFY_BYTES)}.",
        # An empty file is still a file to verify: it is simply not a signed report.
        allow_empty_file=True,
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_VERIFY_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {filesizeformat(MAX_VERIFY_BYTES)}: it was not checked."
            )
        return upload
