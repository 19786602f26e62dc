"""The risk matrix settings: every role reads them, only admins change them.

A change writes the next version through services.matrix.matrix_update, as the API does;
the versions stay listed, since every score keeps the version it was made on.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from riskreg.lib.errors import ApplicationError
from riskreg.organisations.actor import Actor
from riskreg.organisations.roles import allows
from riskreg.risks.selectors import workflow
from riskreg.risks.services import matrix as matrix_services
from riskreg.web.risk_forms import GROUPS, MatrixForm
from riskreg.web.risk_views import _sentence
from riskreg.web.settings_views import _settings
from riskreg.web.views import page

LABELS = {
    "likelihood_labels": "Likelihood labels",
    "impact_labels": "Impact labels",
    "band_limits": "Score bands",
    "tolerance": "Risk tolerance",
    "review_days": "Review cadence",
}


def _matrix_page(
    request: HttpRequest, actor: Actor, form: MatrixForm | None = None, status: int = 200
) -> HttpResponse:
    current = workflow.matrix_current(organization_id=actor.organization_id)
    may_edit = allows(actor.role, "risk_matrix.update")
    form = form or MatrixForm(initial=MatrixForm.initial_from(current))
    context = {
        "matrix": current,
        "versions": workflow.matrix_versions(organization_id=actor.organization_id),
        "may_edit": may_edit,
        "form": form,
        "groups": [
            {
                "name": g,
                "label": LABELS[g],
                "fields": form.fields_of(g),
                "errors": form.group_errors.get(g, []),
            }
            for g in GROUPS
        ],
    }
    return _settings(request, actor, "web/settings_matrix.html", context, status=status)


@page("risk_matrix.read")
def risk_matrix(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _matrix_page(request, actor)


@page("risk_matrix.update", methods=("POST",))
def risk_matrix_update(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = MatrixForm(request.POST)
    if not form.is_valid():
        return _matrix_page(request, actor, form, status=400)
    before = workflow.matrix_versions(organization_id=actor.organization_id).first()
    try:
        matrix = matrix_services.matrix_update(actor=actor, **form.settings())
    except ApplicationError as exc:
        named = exc.extra.get("fields") or {}
        for group, reasons in named.items():
            form.refuse(group, [_sentence(reason) for reason in reasons])
        if not named:
            form.refuse("", [exc.message])
        return _matrix_page(request, actor, form, status=exc.http_status)
    if before is not None and matrix.pk == before.pk:
        messages.success(request, f"Nothing changed; the matrix stays at version {before.version}.")
    else:
        messages.success(request, f"The risk matrix is now version {matrix.version}.")
    return HttpResponseRedirect(reverse("settings-risk-matrix"))
