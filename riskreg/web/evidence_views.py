"""Evidence and incident pages, on the services and selectors the API uses.

Every write is a POST that goes through evaluations.services and answers with a
redirect; a refusal of a service (already withdrawn, a move the lifecycle forbids,
an engineer closing) comes back as a message on the page, never as a 500. A form
that does not validate is shown again with its errors (400).
"""

import json
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse

from evaluations.api.evidence import attachment_response
from evaluations.models import Evidence, EvidenceState, Incident, IncidentStatus
from evaluations.selectors import evidence as evidence_selectors
from evaluations.selectors import incidents as incident_selectors
from evaluations.services import evidence as evidence_services
from evaluations.services import incidents as incident_services
from riskreg.inventory import selectors as inventory
from riskreg.inventory.models import AISystem
from riskreg.lib.errors import ApplicationError
from riskreg.organisations.actor import Actor
from riskreg.organisations.roles import allows
from riskreg.web.forms import (
    EvidenceFilterForm,
    IncidentFilterForm,
    IncidentForm,
    NoteForm,
    RootCauseForm,
    TransitionForm,
    WithdrawForm,
)
from riskreg.web.views import _page_of, _render, page

POST = ("POST",)
# A CI run URL becomes a link only with one of these schemes; anything else stays text.
LINK_SCHEMES = ("http", "https")
# How the audit trail records who acted, in words.
SUBMITTER_KINDS = {"member": "member", "service_account": "service account", "system": "riskreg"}


def _filters(form: forms.Form) -> dict[str, str | None]:
    """The filters that validated; an unknown value filters nothing (as on the risk list)."""
    form.is_valid()
    return {name: form.cleaned_data.get(name) or None for name in form.fields}


def _refused(request: HttpRequest, exc: ApplicationError, to: str) -> HttpResponse:
    messages.error(request, exc.message)
    return HttpResponseRedirect(to)


def _form_errors(form: forms.Form, exc: ApplicationError) -> None:
    """Put a service's refusal on the form: on the field it names, else above the form."""
    named = exc.extra.get("fields") or {}
    for field, reasons in named.items():
        for reason in reasons:
            form.add_error(field if field in form.fields else None, f"{field}: {reason}")
    if not named:
        form.add_error(None, exc.message)


# --- evidence --------------------------------------------------------------------------


def _with_state(item: Evidence) -> dict[str, Any]:
    state = evidence_selectors.evidence_state(item)
    return {"item": item, "state": state, "state_label": EvidenceState(state).label}


def _evidence_table(
    request: HttpRequest, actor: Actor, system: AISystem | None, template: str
) -> HttpResponse:
    filters = EvidenceFilterForm(request.GET)
    wanted = _filters(filters)
    rows = evidence_selectors.evidence_list(
        actor=actor,
        system=system,
        kind=wanted["kind"],
        context=wanted["context"],
        state=wanted["state"],
    )
    found = _page_of(request, rows)
    context = {
        "system": system,
        "filters": filters,
        "page": found,
        "rows": [_with_state(item) for item in found],
    }
    return _render(request, actor, template, context)


@page("evidence.read")
def evidence_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _evidence_table(request, actor, None, "web/evidence_list.html")


@page("evidence.read")
def system_evidence(request: HttpRequest, actor: Actor, slug: str) -> HttpResponse:
    system = inventory.system_get(actor=actor, slug=slug)
    return _evidence_table(request, actor, system, "web/system_evidence.html")


def _ci_link(url: str) -> str | None:
    return url if urlsplit(url).scheme.lower() in LINK_SCHEMES else None


# How the robustness table names perturbations and norms; anything else shows as written.
PERTURBATION_NAMES = {
    "fgsm": "FGSM",
    "pgd": "PGD",
    "gaussian_noise": "Gaussian noise",
    "feature_dropout": "Feature dropout",
}
NORM_NAMES = {"linf": "L∞", "l2": "L2"}


def _value(metric: Any) -> Any:
    """A metric written as a number or as {"value": ..., "interval": ...}: its value."""
    return metric.get("value") if isinstance(metric, dict) else metric


def _robustness(item: Evidence) -> dict[str, Any] | None:
    """The robustness summary: clean accuracy and one row per point of every curve."""
    if item.kind != "robustness":
        return None
    metrics = item.document.get("metrics") or {}
    rows = []
    for curve in metrics.get("perturbations") or []:
        name = str(curve.get("name"))
        norm = curve.get("norm")
        label = PERTURBATION_NAMES.get(name, name)
        if norm:
            label = f"{label} {NORM_NAMES.get(str(norm), norm)}"
        for point in curve.get("points") or []:
            rows.append(
                {
                    "label": label,
                    "type": curve.get("type"),
                    "level": point.get("budget", point.get("severity")),
                    "accuracy": point.get("accuracy"),
                    "flips": point.get("decision_flip_rate"),
                }
            )
    clean = metrics.get("clean_accuracy")
    interval = clean.get("interval") if isinstance(clean, dict) else None
    return {"size": metrics.get("size"), "clean": _value(clean), "interval": interval, "rows": rows}


def _evidence_page(
    request: HttpRequest,
    actor: Actor,
    item: Evidence,
    form: WithdrawForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        **_with_state(item),
        "superseded_by": getattr(item, "superseded_by", None),
        "withdrawal": getattr(item, "withdrawal", None),
        "submitter_kind": SUBMITTER_KINDS.get(item.submitter_type, item.submitter_type),
        "ci_link": _ci_link(item.ci_run_url),
        "labels": sorted(item.labels.items()),
        "document": json.dumps(item.document, indent=2, sort_keys=True, ensure_ascii=False),
        "robustness": _robustness(item),
        "may_withdraw": allows(actor.role, "evidence.withdraw"),
        "form": form or WithdrawForm(),
    }
    return _render(request, actor, "web/evidence_detail.html", context, status=status)


@page("evidence.read")
def evidence_detail(request: HttpRequest, actor: Actor, uid: Any) -> HttpResponse:
    item = evidence_selectors.evidence_get(actor=actor, uid=str(uid))
    return _evidence_page(request, actor, item)


@page("evidence.withdraw", methods=POST)
def evidence_withdraw(request: HttpRequest, actor: Actor, uid: Any) -> HttpResponse:
    item = evidence_selectors.evidence_get(actor=actor, uid=str(uid))
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _evidence_page(request, actor, item, form, status=400)
    back = reverse("evidence-detail", args=[item.uid])
    try:
        evidence_services.evidence_withdraw(
            actor=actor, evidence=item, reason=form.cleaned_data["reason"]
        )
    except ApplicationError as exc:
        return _refused(request, exc, back)
    messages.success(request, "The evidence item is withdrawn.")
    return HttpResponseRedirect(back)


@page("evidence.read")
def evidence_attachment(
    request: HttpRequest, actor: Actor, uid: Any, sha256: str
) -> HttpResponseBase:
    """The same download as the API's: a file, never a page."""
    item = evidence_selectors.evidence_get(actor=actor, uid=str(uid))
    found = evidence_selectors.attachment_get(actor=actor, evidence=item, sha256=sha256)
    return attachment_response(found)


# --- incidents -------------------------------------------------------------------------


def _incident_form(actor: Actor, data: Any = None) -> IncidentForm:
    choices = [(s.slug, s.name) for s in inventory.system_list(actor=actor)]
    return IncidentForm(data, system_choices=choices)


@page("incident.read")
def incident_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    filters = IncidentFilterForm(request.GET)
    wanted = _filters(filters)
    rows = incident_selectors.incident_list(
        actor=actor, status=wanted["status"], severity=wanted["severity"]
    )
    context = {
        "filters": filters,
        "page": _page_of(request, rows),
        "may_report": allows(actor.role, "incident.create"),
    }
    return _render(request, actor, "web/incident_list.html", context)


@page("incident.create", methods=("GET", "HEAD", "POST"))
def incident_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    """GET shows the form; POST reports the incident."""
    form = _incident_form(actor, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            incident = incident_services.incident_create(actor=actor, **form.cleaned_data)
        except ApplicationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Incident {incident.reference} is reported.")
            return HttpResponseRedirect(reverse("incident-detail", args=[incident.reference]))
    status = 400 if form.is_bound else 200
    return _render(request, actor, "web/incident_create.html", {"form": form}, status=status)


def _offered(actor: Actor, incident: Incident) -> list[tuple[str, str]]:
    """The moves the lifecycle allows from here; closing only for those who may close."""
    moves = incident_services.TRANSITIONS[incident.status]
    if actor.role not in incident_services.CLOSERS:
        moves = moves - {IncidentStatus.CLOSED}
    return [(value, label) for value, label in IncidentStatus.choices if value in moves]


def _incident_page(
    request: HttpRequest,
    actor: Actor,
    incident: Incident,
    status: int = 200,
    **bound: forms.Form,
) -> HttpResponse:
    offered = _offered(actor, incident)
    root_cause = {f: getattr(incident, f) for f in ("root_cause", "corrective_actions")}
    context = {
        "incident": incident,
        "timeline": incident_selectors.incident_timeline(incident=incident),
        "may_transition": allows(actor.role, "incident.transition") and bool(offered),
        "may_update": allows(actor.role, "incident.update"),
        "may_note": allows(actor.role, "incident.note"),
        "transition_form": TransitionForm(offered=offered),
        "root_cause_form": RootCauseForm(initial=root_cause),
        "note_form": NoteForm(),
        **bound,
    }
    return _render(request, actor, "web/incident_detail.html", context, status=status)


@page("incident.read")
def incident_detail(request: HttpRequest, actor: Actor, reference: str) -> HttpResponse:
    incident = incident_selectors.incident_get(actor=actor, reference=reference)
    return _incident_page(request, actor, incident)


def _detail_url(incident: Incident) -> str:
    return reverse("incident-detail", args=[incident.reference])


@page("incident.transition", methods=POST)
def incident_transition(request: HttpRequest, actor: Actor, reference: str) -> HttpResponse:
    incident = incident_selectors.incident_get(actor=actor, reference=reference)
    form = TransitionForm(request.POST, offered=_offered(actor, incident))
    if not form.is_valid():
        return _incident_page(request, actor, incident, 400, transition_form=form)
    try:
        incident_services.incident_transition(actor=actor, incident=incident, **form.cleaned_data)
    except ApplicationError as exc:
        return _refused(request, exc, _detail_url(incident))
    messages.success(request, f"{incident.reference} is now {incident.get_status_display()}.")
    return HttpResponseRedirect(_detail_url(incident))


@page("incident.update", methods=POST)
def incident_root_cause(request: HttpRequest, actor: Actor, reference: str) -> HttpResponse:
    incident = incident_selectors.incident_get(actor=actor, reference=reference)
    form = RootCauseForm(request.POST)
    if not form.is_valid():
        return _incident_page(request, actor, incident, 400, root_cause_form=form)
    try:
        incident_services.incident_update(actor=actor, incident=incident, **form.cleaned_data)
    except ApplicationError as exc:
        return _refused(request, exc, _detail_url(incident))
    messages.success(request, "Root cause and corrective actions are recorded.")
    return HttpResponseRedirect(_detail_url(incident))


@page("incident.note", methods=POST)
def incident_note(request: HttpRequest, actor: Actor, reference: str) -> HttpResponse:
    incident = incident_selectors.incident_get(actor=actor, reference=reference)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _incident_page(request, actor, incident, 400, note_form=form)
    try:
        incident_services.incident_note(actor=actor, incident=incident, **form.cleaned_data)
    except ApplicationError as exc:
        return _refused(request, exc, _detail_url(incident))
    messages.success(request, "The note is added to the timeline.")
    return HttpResponseRedirect(_detail_url(incident))
