"""Importing the register or the treatment plan from a file, on the services the API uses.

Exports need no page of their own: the register links to GET /api/v1/risks/export/, which
accepts the browser session like every API endpoint.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from riskreg.lib.errors import ApplicationError
from riskreg.organisations.actor import Actor
from riskreg.risks.api.exchange import IMPORTS
from riskreg.risks.exchange import files
from riskreg.web.views import _render, page

SHEETS = [("register", "Risk register"), ("treatment-plan", "Treatment plan")]


class ImportForm(forms.Form):
    sheet = forms.ChoiceField(choices=SHEETS, label="What the file holds")
    file = forms.FileField(label="CSV or XLSX file", help_text="The columns of an export.")


def _page(
    request: HttpRequest, actor: Actor, form: ImportForm, refusal: ApplicationError | None = None
) -> HttpResponse:
    context = {
        "form": form,
        "refusal": refusal,
        "row_errors": refusal.extra.get("errors", []) if refusal else [],
        "max_rows": files.MAX_ROWS,
    }
    status = refusal.http_status if refusal else (400 if form.is_bound else 200)
    return _render(request, actor, "web/risk_import.html", context, status=status)


@page("risk.import")
def risk_import_form(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _page(request, actor, ImportForm(initial={"sheet": request.GET.get("sheet")}))


@page("risk.import", methods=("POST",))
def risk_import(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, actor, form)
    sheet = form.cleaned_data["sheet"]
    try:
        rows = files.read_upload(
            form.cleaned_data["file"], max_bytes=settings.RISKREG_IMPORT_MAX_BYTES
        )
        counts = IMPORTS[sheet](actor=actor, rows=rows)
    except ApplicationError as exc:
        # Nothing was written: the service checks every row before it writes any.
        return _page(request, actor, form, exc)
    messages.success(
        request,
        f"Imported: {counts.created} created, {counts.updated} updated, "
        f"{counts.unchanged} unchanged.",
    )
    return HttpResponseRedirect(reverse("risk-list"))
