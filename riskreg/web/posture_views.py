"""A system's posture against the AI RMF, a subcategory's rationale, findings and policies.

The pages read the stored verdicts (controls.selectors.posture), never a recomputation.
Overrides and thresholds are POSTs through the same services as the API, behind the same
role check (`page(action)`): an engineer or auditor posting directly gets 403. A form that
does not validate, or a service's refusal, comes back on the page with the error beside
its field (400); the service runs in one transaction, so nothing is written.
"""

import re
import uuid
from itertools import groupby
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from controls.engine.status import Status
from controls.genai import genai_risks, genai_risks_for_subcategory
from controls.rulebook import rules_current
from controls.selectors import posture as posture_selectors
from controls.selectors import subcategory_list
from controls.selectors.dashboard import coverage_rows
from controls.selectors.policies import policy_current, policy_versions
from controls.services import policies as policy_services
from controls.services.overrides import override_create
from riskreg.inventory import selectors as inventory
from riskreg.inventory.models import AISystem
from riskreg.lib.errors import ApplicationError, NotFoundError
from riskreg.organisations.actor import Actor
from riskreg.organisations.roles import allows
from riskreg.web.posture_forms import (
    STATUS_LABELS,
    NotApplicableForm,
    OverrideForm,
    ThresholdForm,
)
from riskreg.web.risk_views import _place, _sentence
from riskreg.web.views import _page_of, _render, page

POST = ("POST",)
# A subcategory in a URL: "MEASURE 2.11" is written MEASURE-2.11.
SUBCATEGORY_URL = re.compile(r"(GOVERN|MAP|MEASURE|MANAGE)-(\d{1,2}\.\d{1,2})")
# Each status drawn with an existing badge of app.css (shape and colour); the word is
# always printed beside it, so colour is never the only signal.
# CSS modifiers of the status badge (app.css): a symbol and a colour, and the word always.
TONES = {
    Status.NOT_MET: "not-met",
    Status.INCONCLUSIVE: "inconclusive",
    Status.PARTIALLY_MET: "partially-met",
    Status.MET: "met",
    Status.NOT_ASSESSED: "not-assessed",
    Status.NOT_APPLICABLE: "not-applicable",
}
COMPARE_SIGNS = {"at_least": "≥", "at_most": "≤"}
POLICY_VERSIONS_SHOWN = 20


# --- shaping verdicts for the templates --------------------------------------------------


def url_id(subcategory_id: str) -> str:
    return subcategory_id.replace(" ", "-")


def _subcategory_id(value: str) -> str:
    """The catalog id a URL names ("MEASURE-2.11" -> "MEASURE 2.11"); 404 for anything else."""
    found = SUBCATEGORY_URL.fullmatch(value)
    if not found:
        raise NotFoundError(f"No AI RMF subcategory {value!r}.")
    return f"{found[1]} {found[2]}"


def _badge(status: str) -> dict[str, str]:
    return {"status": status, "label": STATUS_LABELS[Status(status)], "tone": TONES[Status(status)]}


def _verdict(row: dict[str, Any]) -> dict[str, Any]:
    """A posture row with its badge, its computed status's badge and its URL id."""
    return row | {
        "badge": _badge(row["status"]),
        "computed": _badge(row["computed_status"]),
        "url_id": url_id(row["id"]),
    }


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _evidence_link(uid: str) -> dict[str, str | None]:
    """An evidence id with its page; an id that is not a UUID stays text."""
    try:
        uuid.UUID(uid)
    except ValueError:
        return {"uid": uid, "url": None}
    return {"uid": uid, "url": reverse("evidence-detail", args=[uid])}


def _contribution(found: dict[str, Any]) -> dict[str, Any]:
    """One rule's finding as the rationale table prints it."""
    threshold = found.get("threshold")
    interval = found.get("interval")
    sign = COMPARE_SIGNS.get(found.get("compare") or "", "")
    limit = "—" if threshold is None else f"{sign} {_number(threshold)}".strip()
    if threshold is not None and found.get("band"):
        limit += f" (band {_number(found['band'])})"
    return {
        "rule": found["rule"],
        "badge": _badge(found["status"]),
        "metric": found.get("metric") or "—",
        "value": _number(found.get("value")),
        "interval": f"[{_number(interval[0])}, {_number(interval[1])}]" if interval else "—",
        "threshold": limit,
        "model_version": found.get("model_version") or "—",
        "note": found.get("note") or "",
        "regression": found.get("regression", False),
        "evidence": [_evidence_link(uid) for uid in found.get("evidence", [])],
    }


def _functions(rows: list[dict[str, Any]], coverage: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows grouped by function, then category, in the catalog's order."""
    return [
        {
            "id": function,
            "coverage": coverage[function],
            "categories": [
                {"id": category, "rows": list(in_category)}
                for category, in_category in groupby(in_function, key=lambda r: r["category"])
            ],
        }
        for function, in_function in groupby(rows, key=lambda r: r["function"])
    ]


def _genai(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The 12 AI 600-1 risks, each with the statuses of the subcategories it cites."""
    by_id = {r["id"]: r for r in rows}
    return [
        {"risk": risk, "subcategories": [by_id[s] for s in risk.subcategories if s in by_id]}
        for risk in genai_risks()
    ]


# --- the posture -------------------------------------------------------------------------


@page("posture.read")
def system_posture(request: HttpRequest, actor: Actor, slug: str) -> HttpResponse:
    system = inventory.system_get(actor=actor, slug=slug)
    posture = posture_selectors.posture_get(system=system)
    rows = [_verdict(row) for row in posture["subcategories"]]
    context = {
        "system": system,
        "posture": posture,
        "coverage": coverage_rows(posture["coverage"]["function"]),
        "functions": _functions(rows, posture["coverage"]["function"]),
        "genai": _genai(rows) if system.is_generative else [],
        "overridden": sum(1 for r in rows if r["overridden"]),
        "regressions": sum(1 for r in rows if r["regression"]),
    }
    return _render(request, actor, "web/posture.html", context)


def _subcategory_page(
    request: HttpRequest,
    actor: Actor,
    system: AISystem,
    subcategory_id: str,
    status: int = 200,
    bound: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    posture = posture_selectors.posture_get(system=system)
    row = next((r for r in posture["subcategories"] if r["id"] == subcategory_id), None)
    if row is None:
        raise NotFoundError(f"No AI RMF subcategory {subcategory_id!r}.")
    context = {
        "system": system,
        "row": _verdict(row),
        "rationale": [_contribution(c) for c in row["rationale"]],
        "evidence": [_evidence_link(uid) for uid in row["evidence"]],
        "versions": [v | {"badge": _badge(v["status"])} for v in row["by_model_version"]],
        "genai": genai_risks_for_subcategory(subcategory_id) if system.is_generative else (),
        "may_override": allows(actor.role, "posture.override"),
        "override_form": OverrideForm(),
        "na_form": NotApplicableForm(prefix="na"),
        **(bound or {}),
    }
    return _render(request, actor, "web/posture_subcategory.html", context, status=status)


@page("posture.read")
def subcategory_posture(
    request: HttpRequest, actor: Actor, slug: str, subcategory: str
) -> HttpResponse:
    system = inventory.system_get(actor=actor, slug=slug)
    return _subcategory_page(request, actor, system, _subcategory_id(subcategory))


def _decide(
    request: HttpRequest,
    actor: Actor,
    slug: str,
    subcategory: str,
    kind: str,
    name: str,
    form: OverrideForm | NotApplicableForm,
) -> HttpResponse:
    """Validate an override form and record it; redirect, or show the page with the errors."""
    system = inventory.system_get(actor=actor, slug=slug)
    subcategory_id = _subcategory_id(subcategory)
    found = subcategory_list().filter(pk=subcategory_id).first()
    if found is None:
        raise NotFoundError(f"No AI RMF subcategory {subcategory_id!r}.")
    if not form.is_valid():
        return _subcategory_page(request, actor, system, subcategory_id, 400, {name: form})
    try:
        made = override_create(
            actor=actor,
            system=system,
            subcategory=found,
            kind=kind,
            status=form.cleaned_data.get("status"),
            **form.expiry(),
        )
    except ApplicationError as exc:
        if not _place(form, exc):
            form.add_error(None, exc.message)
        return _subcategory_page(
            request, actor, system, subcategory_id, exc.http_status, {name: form}
        )
    label = STATUS_LABELS[Status(made.status)].lower()
    messages.success(
        request, f"{found.id} is overridden: {label} until {made.expires_at:%Y-%m-%d}."
    )
    return HttpResponseRedirect(
        reverse("posture-subcategory", args=[system.slug, url_id(found.id)])
    )


@page("posture.override", methods=POST)
def subcategory_override(
    request: HttpRequest, actor: Actor, slug: str, subcategory: str
) -> HttpResponse:
    form = OverrideForm(request.POST)
    return _decide(request, actor, slug, subcategory, "override", "override_form", form)


@page("posture.override", methods=POST)
def subcategory_not_applicable(
    request: HttpRequest, actor: Actor, slug: str, subcategory: str
) -> HttpResponse:
    form = NotApplicableForm(request.POST, prefix="na")
    return _decide(request, actor, slug, subcategory, "not_applicable", "na_form", form)


# --- findings ----------------------------------------------------------------------------


@page("finding.read")
def system_findings(request: HttpRequest, actor: Actor, slug: str) -> HttpResponse:
    system = inventory.system_get(actor=actor, slug=slug)
    findings = _page_of(request, posture_selectors.finding_list(system=system))
    rows = [
        {
            "finding": finding,
            "url_id": url_id(finding.subcategory_id),
            "evidence": [_evidence_link(uid) for uid in finding.evidence],
        }
        for finding in findings
    ]
    context = {"system": system, "page": findings, "rows": rows}
    return _render(request, actor, "web/findings.html", context)


# --- policies ----------------------------------------------------------------------------


def _rule_rows(actor: Actor) -> list[dict[str, Any]]:
    """Each metric rule with its default and the organisation's values (all systems, tiers)."""
    current = policy_current(organization_id=actor.organization_id)
    everywhere = current.thresholds if current else {}
    tiers = (current.tiers or {}) if current else {}
    rows = []
    for rule in rules_current().metric_rules:
        set_here = everywhere.get(rule.id, {})
        by_tier = [
            (tier, layer[rule.id]) for tier, layer in sorted(tiers.items()) if rule.id in layer
        ]
        rows.append(
            {
                "rule": rule,
                "sign": COMPARE_SIGNS.get(rule.compare, rule.compare),
                "threshold": _number(set_here["threshold"]) if "threshold" in set_here else "",
                "band": _number(set_here["band"]) if "band" in set_here else "",
                "tiers": [
                    f"{tier}: " + ", ".join(f"{k} {_number(v)}" for k, v in values.items())
                    for tier, values in by_tier
                ],
            }
        )
    return rows


def _policies_page(
    request: HttpRequest, actor: Actor, form: ThresholdForm | None = None, status: int = 200
) -> HttpResponse:
    rules = rules_current()
    context = {
        "rules_version": rules.label,
        "rows": _rule_rows(actor),
        "versions": policy_versions(organization_id=actor.organization_id)[:POLICY_VERSIONS_SHOWN],
        "may_edit": allows(actor.role, "policy.update"),
        "form": form or ThresholdForm(rules=[r.id for r in rules.metric_rules]),
    }
    return _render(request, actor, "web/policies.html", context, status=status)


@page("policy.read")
def policies(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _policies_page(request, actor)


def _refuse(form: ThresholdForm, exc: ApplicationError) -> None:
    """A policy refusal names "thresholds.<rule>"; its reason starts with the value it
    judges (threshold or band), which is where the error goes."""
    for reasons in (exc.extra.get("fields") or {}).values():
        for reason in reasons:
            field = reason.split(" ", 1)[0]
            form.add_error(field if field in ("threshold", "band") else None, _sentence(reason))
    if not exc.extra.get("fields"):
        form.add_error(None, exc.message)


@page("policy.update", methods=POST)
def policy_threshold_set(request: HttpRequest, actor: Actor) -> HttpResponse:
    """One rule's threshold and band for every system: the next policy version keeps every
    other value of the current one."""
    form = ThresholdForm(request.POST, rules=[r.id for r in rules_current().metric_rules])
    if not form.is_valid():
        return _policies_page(request, actor, form, status=400)
    current = policy_current(organization_id=actor.organization_id)
    thresholds = dict(current.thresholds) if current else {}
    rule = form.cleaned_data["rule"]
    thresholds[rule] = {**thresholds.get(rule, {}), **form.values()}
    try:
        made = policy_services.policy_update(
            actor=actor,
            thresholds=thresholds,
            tiers=(current.tiers or {}) if current else {},
            note=form.cleaned_data["note"],
        )
    except ApplicationError as exc:
        _refuse(form, exc)
        return _policies_page(request, actor, form, status=exc.http_status)
    messages.success(
        request, f"Policy version {made.version} is saved; every verdict is being decided again."
    )
    return HttpResponseRedirect(reverse("policies"))
