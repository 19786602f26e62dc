"""The risk register's pages: the register, a risk's page, and every action on a risk.

Every write is a POST through the same service as the API, behind the same role check
(`page(action)`), and answers with a redirect back to the risk and a message. A form
that does not validate comes back with its errors (400). A service's refusal
(segregation of duties, above tolerance, a move the life cycle forbids) comes back on
the page, naming the rule, with the status the API would answer. Either way nothing is
written: each service runs in one transaction.
"""

import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from evaluations.selectors import evidence as evidence_selectors
from riskreg.inventory import selectors as inventory
from riskreg.inventory.models import AISystem
from riskreg.lib.errors import ApplicationError, NotFoundError
from riskreg.organisations.actor import Actor
from riskreg.organisations.roles import allows
from riskreg.organisations.selectors import member_list
from riskreg.risks.models import ActionStatus, Risk, RiskMatrix, RiskStatus, ScoreKind
from riskreg.risks.selectors import register as risks
from riskreg.risks.selectors import workflow
from riskreg.risks.services import acceptance, comments, scoring, treatment
from riskreg.risks.services import register as register_services
from riskreg.web.evidence_views import _filters, _with_state
from riskreg.web.risk_forms import (
    AcceptForm,
    ActionForm,
    ActionStatusForm,
    CommentForm,
    DismissForm,
    ReviewForm,
    RiskFilterForm,
    ScoreForm,
    TransitionForm,
    TreatmentForm,
)
from riskreg.web.views import SLUG, _page_of, _render, page

POST = ("POST",)
TIMES = "\N{MULTIPLICATION SIGN}"
EVIDENCE_PER_SYSTEM = 5
CELL = re.compile(r"(inherent|current|residual)-([1-5])-([1-5])")
# The register's columns: (selectors.register.SORTS key or None, header).
COLUMNS = [
    ("reference", "Reference"),
    ("title", "Title"),
    ("status", "Status"),
    ("level", "Level"),
    (None, "Inherent"),
    (None, "Current"),
    (None, "Residual"),
    (None, "Owner"),
    ("next_review", "Next review"),
    (None, "Actions"),
]
# Codes whose refusals name the form's own fields; any other refusal names a rule.
FIELD_CODES = ("validation_error", "foreign_reference")


# --- the register ----------------------------------------------------------------------


def _system_filter(actor: Actor, slug: str) -> AISystem | None:
    if slug and not SLUG.fullmatch(slug):
        # Never pass odd bytes (NUL) on to the database; no such slug exists anyway.
        raise NotFoundError(f"No AI system {slug!r} in your organisation.")
    return inventory.system_get(actor=actor, slug=slug) if slug else None


def _cell(value: str, matrix: RiskMatrix) -> dict[str, Any] | None:
    """The heat-map cell a ?cell= value names (kind, likelihood, impact); None if none."""
    found = CELL.fullmatch(value)
    if not found:
        return None
    kind, likelihood, impact = found[1], int(found[2]), int(found[3])
    return {
        "key": (kind, likelihood, impact),
        "kind": kind,
        "likelihood": f"{likelihood} ({matrix.likelihood_labels[likelihood - 1]})",
        "impact": f"{impact} ({matrix.impact_labels[impact - 1]})",
    }


def _usernames(actor: Actor) -> list[str]:
    return [m.user.get_username() for m in member_list(actor=actor)]


def _columns(sort: str | None) -> list[dict[str, str | None]]:
    """Headers; a click on a sortable one sorts by it, a second click reverses."""
    columns: list[dict[str, str | None]] = []
    for key, header in COLUMNS:
        order = ""
        if key and sort in (key, f"-{key}"):
            order = "descending" if sort == f"-{key}" else "ascending"
        following = f"-{key}" if sort == key else key
        columns.append({"key": key, "header": header, "order": order, "next": following})
    return columns


@page("risk.read")
def risk_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    system = _system_filter(actor, request.GET.get("system", ""))
    matrix = workflow.matrix_current(organization_id=actor.organization_id)
    filters = RiskFilterForm(request.GET, owners=_usernames(actor))
    wanted = _filters(filters)
    cell = _cell(request.GET.get("cell", ""), matrix)
    rows = risks.risk_list(
        actor=actor,
        system=system.slug if system else None,
        cell=cell["key"] if cell else None,
        **wanted,
    )
    context = {
        "page": _page_of(request, rows),
        "filters": filters,
        "system": system,
        "cell": cell,
        "columns": _columns(wanted["sort"]),
        "may_import": allows(actor.role, "risk.import"),
        "may_export": allows(actor.role, "risk.export"),
    }
    return _render(request, actor, "web/risk_list.html", context)


# --- the risk's page -------------------------------------------------------------------


def _shown(value: Any) -> str:
    """A history value in words: lists joined, mappings as "key: value", nothing as a dash."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_shown(v)}" for k, v in value.items())
    return str(value)


def _history(actor: Actor, risk: Risk) -> list[dict[str, Any]]:
    rows = workflow.risk_history(actor=actor, risk=risk)
    return [row | {"before": _shown(row["before"]), "after": _shown(row["after"])} for row in rows]


def _evidence(actor: Actor, risk: Risk) -> list[dict[str, Any]]:
    """The newest few evidence items of each linked system (one query for all of them)."""
    systems = list(risk.systems.all())
    by_system: dict[int, list[dict[str, Any]]] = {s.pk: [] for s in systems}
    for item in evidence_selectors.evidence_newest_by_system(
        actor=actor, systems=systems, per_system=EVIDENCE_PER_SYSTEM
    ):
        by_system[item.system_id].append(_with_state(item))  # type: ignore[index]
    return [{"system": s, "items": by_system[s.pk]} for s in systems]


def _acceptance_offer(actor: Actor, risk: Risk, matrix: RiskMatrix) -> tuple[bool, str]:
    """Whether the actor may accept this risk now, and if not, a sentence saying why.

    Roles that never accept see neither the form nor a reason.
    """
    if not allows(actor.role, "risk.accept") or risk.status not in acceptance.ACCEPTABLE:
        return False, ""
    if risk.residual_score is None:
        return False, "Score the residual risk before accepting it."
    try:
        acceptance.check_may_accept(
            actor=actor,
            risk=risk,
            residual_level=risk.residual_score.level,
            tolerance=matrix.tolerance,
        )
    except ApplicationError as exc:
        return False, exc.message
    return True, ""


def _offered(actor: Actor, risk: Risk) -> list[tuple[str, str]]:
    """The plain moves from here; confirming a proposed risk has a button of its own."""
    if not allows(actor.role, "risk.transition") or risk.status == RiskStatus.PROPOSED:
        return []
    moves = register_services.TRANSITIONS[risk.status]
    return [(value, label) for value, label in RiskStatus.choices if value in moves]


def _controls(actor: Actor, risk: Risk, matrix: RiskMatrix) -> dict[str, Any]:
    """What the actor may do to this risk: the page shows only these forms."""
    may = {action: allows(actor.role, f"risk.{action}") for action in ("score", "treat")}
    proposed = risk.status == RiskStatus.PROPOSED
    may_accept, accept_why = _acceptance_offer(actor, risk, matrix)
    return {
        "may_confirm": proposed and allows(actor.role, "risk.transition"),
        "may_dismiss": proposed and allows(actor.role, "risk.dismiss"),
        "may_score": may["score"],
        "may_treat": may["treat"],
        "may_accept": may_accept,
        "accept_why": accept_why,
        "may_review": allows(actor.role, "risk.review") and risk.status in scoring.REVIEWED,
        "may_comment": allows(actor.role, "risk.comment"),
        "offered": _offered(actor, risk),
    }


def _forms(actor: Actor, risk: Risk, matrix: RiskMatrix, owners: list[str]) -> dict[str, Any]:
    decision = {"decision": risk.treatment_decision, "plan": risk.treatment_plan}
    return {
        "transition_form": TransitionForm(offered=_offered(actor, risk)),
        "dismiss_form": DismissForm(),
        "score_form": ScoreForm(matrix=matrix),
        "treatment_form": TreatmentForm(initial=decision),
        "action_form": ActionForm(owners=owners),
        "accept_form": AcceptForm(),
        "review_form": ReviewForm(),
        "comment_form": CommentForm(),
    }


def _risk_page(
    request: HttpRequest,
    actor: Actor,
    risk: Risk,
    status: int = 200,
    refusal: str = "",
    bound: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    """The risk's page; bound forms (with their errors) replace the blank ones."""
    matrix = workflow.matrix_current(organization_id=actor.organization_id)
    controls = _controls(actor, risk, matrix)
    owners = _usernames(actor) if controls["may_treat"] else []
    acceptances = list(workflow.acceptance_list(risk=risk))
    today = timezone.localdate()
    context = {
        "risk": risk,
        "matrix": matrix,
        "scores": workflow.score_list(risk=risk),
        "latest_scores": [(kind, getattr(risk, f"{kind}_score")) for kind in ScoreKind.values],
        "actions": [(a, a.is_overdue(today)) for a in workflow.action_list(actor=actor, risk=risk)],
        "action_statuses": ActionStatus.choices,
        "in_force": next((a for a in acceptances if a.ended_at is None), None),
        "acceptances": acceptances,
        "reviews": workflow.review_list(risk=risk),
        "comments": workflow.comment_list(risk=risk),
        "history": _history(actor, risk),
        "evidence": _evidence(actor, risk),
        # The catalog anchors each function (fn-measure); "MEASURE 2.11" belongs to MEASURE.
        "subcategories": [(s, f"fn-{s.pk.split()[0].lower()}") for s in risk.subcategories.all()],
        "refusal": refusal,
        **controls,
        **_forms(actor, risk, matrix, owners),
        **(bound or {}),
    }
    return _render(request, actor, "web/risk_detail.html", context, status=status)


@page("risk.read")
def risk_detail(request: HttpRequest, actor: Actor, reference: str) -> HttpResponse:
    risk = risks.risk_get(actor=actor, reference=reference)
    return _risk_page(request, actor, risk)


# --- actions on a risk -----------------------------------------------------------------


def _detail_url(risk: Risk) -> str:
    return reverse("risk-detail", args=[risk.reference])


def _sentence(reason: str) -> str:
    return reason[:1].upper() + reason[1:] + ("" if reason.endswith(".") else ".")


def _place(form: forms.Form, exc: ApplicationError) -> bool:
    """Put a validation refusal on the fields it names; False when it names none of them."""
    named = (exc.extra.get("fields") or {}) if exc.code in FIELD_CODES else {}
    placed = False
    for field, reasons in named.items():
        if field in form.fields:
            for reason in reasons:
                form.add_error(field, _sentence(reason))
            placed = True
    return placed


def _submit(
    request: HttpRequest,
    actor: Actor,
    risk: Risk,
    name: str,
    form: forms.Form,
    call: Callable[[dict[str, Any]], str],
) -> HttpResponse:
    """Validate the form and run the service call; redirect with its message, or show the
    page again with the form's errors or the service's refusal."""
    if not form.is_valid():
        return _risk_page(request, actor, risk, 400, bound={name: form})
    try:
        done = call(form.cleaned_data)
    except ApplicationError as exc:
        placed = _place(form, exc)
        # The service rolled back; reload so the page shows what is stored, not what it tried.
        fresh = risks.risk_get(actor=actor, reference=risk.reference)
        refusal = "" if placed else exc.message
        return _risk_page(request, actor, fresh, exc.http_status, refusal, {name: form})
    messages.success(request, done)
    return HttpResponseRedirect(_detail_url(risk))


@page("risk.transition", methods=POST)
def risk_transition(request: HttpRequest, actor: Actor, reference: str) -> HttpResponse:
    """Confirm a proposed risk (the move to open) or make another plain move."""
    risk = risks.risk_get(actor=actor, reference=reference)
    confirming = risk.status == RiskStatus.PROPOSED

    def move(data: dict[str, Any]) -> str:
        register_services.risk_transition(actor=actor, risk=risk, status=data["status"])
        now = risk.get_status_display().lower()
        if confirming:
            return f"{risk.reference} is confirmed: it is now {now}."
        return f"{risk.reference} is now {now}."

    form = TransitionForm(request.POST, offered=_offered(actor, risk))
    return _submit(request, actor, risk, "transition_form", form, move)


@page("risk.dismiss", methods=POST)
def risk_dismiss(request: HttpRequest, actor: Actor, reference: str) -> HttpResponse:
    risk = risks.risk_get(actor=actor, reference=reference)

    def dismiss(data: dict[str, Any]) -> str:
        acceptance.risk_dismiss(actor=actor, risk=risk, reason=data["reason"])
        return f"{risk.reference} is dismissed."

    return _submit(request, actor, risk, "dismiss_form", DismissForm(request.POST), dismiss)


@page("risk.score", methods=POST)
def risk_score(request: HttpRequest, actor: Actor, reference: str) -> HttpResponse:
    risk = risks.risk_get(actor=actor, reference=reference)
    matrix = workflow.matrix_current(organization_id=actor.organization_id)

    def score(data: dict[str, Any]) -> str:
        row = scoring.risk_score(actor=actor, risk=risk, **data)
        product = f"{row.likelihood}{TIMES}{row.impact} = {row.score}"
        return f"{ScoreKind(row.kind).label} score recorded: {product}, {row.level}."

    form = ScoreForm(request.POST, matrix=matrix)
    return _submit(request, actor, risk, "score_form", form, score)


@page("risk.treat", methods=POST)
def risk_treatment(request: HttpRequest, actor: Actor, reference: str) -> HttpResponse:
    risk = risks.risk_get(actor=actor, reference=reference)

    def treat(data: dict[str, Any]) -> str:
        treatment.risk_treatment_set(actor=actor, risk=risk, **data)
        return f"The treatment of {risk.reference} is saved."

    return _submit(request, actor, risk, "treatment_form", TreatmentForm(request.POST), treat)


@page("risk.treat", methods=POST)
def risk_action_create(request: HttpRequest, actor: Actor, reference: str) -> HttpResponse:
    risk = risks.risk_get(actor=actor, reference=reference)

    def add(data: dict[str, Any]) -> str:
        data = data | {"owner": data["owner"] or None}
        action = treatment.treatment_action_create(actor=actor, risk=risk, **data)
        return f"Action A{action.number} is added to {risk.reference}."

    form = ActionForm(request.POST, owners=_usernames(actor))
    return _submit(request, actor, risk, "action_form", form, add)


@page("risk.treat", methods=POST)
def risk_action_update(
    request: HttpRequest, actor: Actor, reference: str, number: str
) -> HttpResponse:
    risk = risks.risk_get(actor=actor, reference=reference)
    action = workflow.action_get(actor=actor, risk=risk, number=number)

    def update(data: dict[str, Any]) -> str:
        treatment.treatment_action_update(actor=actor, action=action, status=data["status"])
        return f"A{action.number} is now {action.get_status_display().lower()}."

    form = ActionStatusForm(request.POST)
    return _submit(request, actor, risk, "action_status_form", form, update)


@page("risk.accept", methods=POST)
def risk_accept(request: HttpRequest, actor: Actor, reference: str) -> HttpResponse:
    risk = risks.risk_get(actor=actor, reference=reference)

    def accept(data: dict[str, Any]) -> str:
        found = acceptance.risk_accept(actor=actor, risk=risk, **data)
        return f"{risk.reference} is accepted until {found.valid_until:%Y-%m-%d}."

    return _submit(request, actor, risk, "accept_form", AcceptForm(request.POST), accept)


@page("risk.review", methods=POST)
def risk_review(request: HttpRequest, actor: Actor, reference: str) -> HttpResponse:
    risk = risks.risk_get(actor=actor, reference=reference)

    def review(data: dict[str, Any]) -> str:
        found = scoring.risk_review(actor=actor, risk=risk, **data)
        return f"The review is recorded; the next one is due on {found.next_review_date:%Y-%m-%d}."

    return _submit(request, actor, risk, "review_form", ReviewForm(request.POST), review)


@page("risk.comment", methods=POST)
def risk_comment(request: HttpRequest, actor: Actor, reference: str) -> HttpResponse:
    risk = risks.risk_get(actor=actor, reference=reference)

    def comment(data: dict[str, Any]) -> str:
        comments.risk_comment_add(actor=actor, risk=risk, text=data["text"])
        return "Your comment is added."

    return _submit(request, actor, risk, "comment_form", CommentForm(request.POST), comment)
