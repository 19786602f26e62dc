"""Server-rendered pages; the same selectors as the API, no logic in templates.

Every page goes through `page(action)`: a signed-in user, a current organisation
(else the no-organisation page) and a role allowed to do `action` by the same
matrix as the API (else 403). A foreign or missing object answers 404.
"""

import re
from collections.abc import Callable
from functools import wraps
from itertools import groupby
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.urls.converters import SlugConverter
from django.views.decorators.http import require_http_methods, require_POST

from controls.selectors import subcategory_list
from controls.selectors.dashboard import coverage_by_function
from evaluations.selectors import evidence as evidence_selectors
from riskreg.audit import selectors as audit
from riskreg.inventory import selectors as inventory
from riskreg.lib.errors import NotFoundError
from riskreg.organisations.actor import Actor
from riskreg.organisations.middleware import SESSION_KEY
from riskreg.organisations.roles import allows
from riskreg.organisations.selectors import actor_for_membership, membership_list
from riskreg.risks.models import Level, RiskStatus
from riskreg.risks.selectors import register as risks
from riskreg.risks.selectors import workflow
from riskreg.web.heatmap import heat_table, legend

# HttpResponseBase: a page view may answer with a file download (a streaming response).
PageView = Callable[..., HttpResponseBase]

# (url name, label, action the role needs): the nav shows only what the role may open.
NAV = [
    ("dashboard", "Dashboard", "system.read"),
    ("system-list", "AI systems", "system.read"),
    ("dataset-list", "Datasets", "dataset.read"),
    ("risk-list", "Risk register", "risk.read"),
    ("evidence-list", "Evidence", "evidence.read"),
    ("assessment-list", "Assessments", "assessment.read"),
    ("incident-list", "Incidents", "incident.read"),
    ("catalog", "AI RMF catalog", "catalog.read"),
    ("policies", "Policies", "policy.read"),
    ("report-list", "Reports", "report.read"),
    ("audit", "Audit trail", "audit.read"),
    ("settings-tokens", "Settings", "token.read"),
]
# Detail pages light up their section's link.
SECTION = {
    "risk-import-form": "risk-list",
    "risk-import": "risk-list",
    "system-detail": "system-list",
    "system-posture": "system-list",
    "posture-subcategory": "system-list",
    "system-findings": "system-list",
    "dataset-detail": "dataset-list",
    "system-evidence": "evidence-list",
    "evidence-detail": "evidence-list",
    "model-version-detail": "system-list",
    "assessment-create": "system-list",
    "assessment-detail": "assessment-list",
    "incident-create": "incident-list",
    "incident-detail": "incident-list",
    "settings-token-create": "settings-tokens",
    "settings-token-revoke": "settings-tokens",
    "settings-members": "settings-tokens",
    "settings-member-add": "settings-tokens",
    "settings-member-role": "settings-tokens",
    "settings-service-accounts": "settings-tokens",
    "settings-service-account-create": "settings-tokens",
    "settings-service-account-token": "settings-tokens",
    "settings-risk-matrix": "settings-tokens",
    "settings-risk-matrix-update": "settings-tokens",
    "settings-notifications": "settings-tokens",
    "settings-notification-preferences": "settings-tokens",
    "settings-notification-webhook-create": "settings-tokens",
    "settings-notification-webhook-deactivate": "settings-tokens",
    "risk-detail": "risk-list",
    "risk-transition": "risk-list",
    "risk-dismiss": "risk-list",
    "risk-score": "risk-list",
    "risk-treatment": "risk-list",
    "risk-action-create": "risk-list",
    "risk-action-update": "risk-list",
    "risk-accept": "risk-list",
    "risk-review": "risk-list",
    "risk-comment": "risk-list",
    "report-request": "report-list",
    "report-verify": "report-list",
    "report-detail": "report-list",
    "report-approve": "report-list",
}
PER_PAGE = 25
SLUG = re.compile(SlugConverter.regex)
AUDIT_PER_PAGE = 50
# The dashboard: how many rows each list shows.
TOP = 5
ATTENTION_LEVELS = (Level.CRITICAL, Level.HIGH)
ATTENTION_STATUSES = (RiskStatus.OPEN, RiskStatus.TREATING)


def _render(
    request: HttpRequest, actor: Actor, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a page with the navigation the actor's role may open."""
    here = request.resolver_match.url_name if request.resolver_match else None
    here = SECTION.get(here or "", here)
    nav = [
        {"url": reverse(name), "label": label, "current": name == here}
        for name, label, action in NAV
        if allows(actor.role, action)
    ]
    return render(request, template, {**context, "nav": nav}, status=status)


def page(
    action: str, *, methods: tuple[str, ...] = ("GET", "HEAD")
) -> Callable[[PageView], PageView]:
    """Login, a current organisation and `action` allowed; the view gets the actor."""

    def decorate(view: PageView) -> PageView:
        @wraps(view)
        @login_required
        @require_http_methods(list(methods))
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            membership = request.membership  # type: ignore[attr-defined]
            if not membership:
                return render(request, "web/no_organisation.html", status=403)
            actor = actor_for_membership(membership)
            if not allows(actor.role, action):
                return _render(request, actor, "403.html", {}, status=403)
            try:
                return view(request, actor, *args, **kwargs)
            except NotFoundError as exc:
                # The page twin of the API's exception handler: same 404, same message.
                return _render(request, actor, "404.html", {"message": exc.message}, status=404)

        return wrapper

    return decorate


def _page_of(request: HttpRequest, rows: QuerySet[Any], per_page: int = PER_PAGE) -> Page[Any]:
    return Paginator(rows, per_page).get_page(request.GET.get("page"))


def _system_rows(actor: Actor) -> list[dict[str, Any]]:
    """Each system with its linked risks by status (two queries)."""
    counts = risks.risk_status_counts_by_system(actor=actor)
    rows = []
    for system in inventory.system_list(actor=actor):
        by_status = counts.get(system.pk, {})
        rows.append(
            {
                "system": system,
                "proposed": by_status.get(RiskStatus.PROPOSED, 0),
                "open": by_status.get(RiskStatus.OPEN, 0),
                "treating": by_status.get(RiskStatus.TREATING, 0),
                "total": sum(by_status.values()),
            }
        )
    return rows


def _attention(actor: Actor) -> list[dict[str, Any]]:
    """Open and treating risks at the two worst levels; each count links to the register."""
    return [
        {
            "level": level,
            "cells": [
                {
                    "status": status,
                    "count": risks.risk_list(actor=actor, status=status, level=level).count(),
                }
                for status in ATTENTION_STATUSES
            ],
        }
        for level in ATTENTION_LEVELS
    ]


def _first(rows: QuerySet[Any]) -> dict[str, Any]:
    """A count and the first few rows (two queries, whatever the count)."""
    return {"count": rows.count(), "top": list(rows[:TOP])}


@page("system.read")
def dashboard(request: HttpRequest, actor: Actor) -> HttpResponse:
    """What needs attention, the heat maps and the systems; the same queries at any size."""
    matrix = workflow.matrix_current(organization_id=actor.organization_id)
    # The short lists show no links, so the register's prefetches are dropped.
    reviews = risks.risk_list(actor=actor, overdue="review", sort="next_review")
    rows = _system_rows(actor)
    context = {
        "rows": rows,
        "coverage": coverage_by_function(
            organization_id=actor.organization_id, system_ids=[r["system"].pk for r in rows]
        ),
        "attention": _attention(actor),
        "overdue_actions": _first(workflow.action_list(actor=actor, overdue=True)),
        "overdue_reviews": _first(reviews.prefetch_related(None)),
        "expiring": _first(
            workflow.acceptances_expiring(actor=actor, within_days=workflow.DUE_SOON_DAYS)
        ),
        "evidence_expiring": _first(
            evidence_selectors.evidence_expiring(actor=actor, within_days=workflow.DUE_SOON_DAYS)
        ),
        "heatmaps": [
            heat_table(kind, workflow.heat_map(actor=actor, kind=kind), matrix)
            for kind in ("inherent", "residual")
        ],
        "legend": legend(matrix),
        "matrix": matrix,
        "soon_days": workflow.DUE_SOON_DAYS,
    }
    return _render(request, actor, "web/dashboard.html", context)


@page("system.read")
def system_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    systems = _page_of(request, inventory.system_list(actor=actor))
    return _render(request, actor, "web/system_list.html", {"page": systems})


@page("system.read")
def system_detail(request: HttpRequest, actor: Actor, slug: str) -> HttpResponse:
    system = inventory.system_get(actor=actor, slug=slug)
    context = {
        "system": system,
        "versions": inventory.model_version_list(actor=actor, system=system),
        "risks": risks.risk_list(actor=actor, system=system.slug),
    }
    return _render(request, actor, "web/system_detail.html", context)


@page("dataset.read")
def dataset_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    datasets = _page_of(request, inventory.dataset_list(actor=actor))
    return _render(request, actor, "web/dataset_list.html", {"page": datasets})


@page("dataset.read")
def dataset_detail(request: HttpRequest, actor: Actor, slug: str) -> HttpResponse:
    dataset = inventory.dataset_get(actor=actor, slug=slug)
    context = {
        "dataset": dataset,
        "versions": inventory.dataset_model_versions(actor=actor, dataset=dataset),
        "risks": risks.risk_list_by_dataset(actor=actor, dataset_id=dataset.pk),
    }
    return _render(request, actor, "web/dataset_detail.html", context)


@page("catalog.read")
def catalog(request: HttpRequest, actor: Actor) -> HttpResponse:
    rows = subcategory_list()
    functions = [
        (function, list(subcategories))
        for function, subcategories in groupby(rows, key=lambda s: s.category.function)
    ]
    return _render(request, actor, "web/catalog.html", {"functions": functions})


@page("audit.read")
def audit_trail(request: HttpRequest, actor: Actor) -> HttpResponse:
    org = actor.organization_id
    context = {
        "head": audit.audit_head(organization_id=org),
        "page": _page_of(request, audit.audit_event_latest(organization_id=org), AUDIT_PER_PAGE),
    }
    return _render(request, actor, "web/audit.html", context)


@login_required
@require_POST
def organisation_switch(request: HttpRequest) -> HttpResponse:
    wanted = request.POST.get("organisation", "")
    for membership in membership_list(user=request.user):
        if membership.organization.slug == wanted:
            request.session[SESSION_KEY] = membership.organization_id
            messages.success(request, f"You are now working in {membership.organization.name}.")
            break
    return HttpResponseRedirect(reverse("dashboard"))
