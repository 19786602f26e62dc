"""Deciding and storing verdicts (docs/posture.md).

Verdicts are materialised: an event that may change them (evidence, an incident, an
acceptance, an override, a policy, a model version's status) asks for a refresh of the
scope it touches, which a worker runs; reading a posture only reads these rows. Each
refresh stores the rows that changed and appends their history, and returns what changed
so that the event's VerdictUpdate can report it.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from controls.engine import drift
from controls.engine.decide import Contribution, Decision, Item, decide
from controls.engine.status import worst
from controls.models import Override, Subcategory, Verdict, VerdictChange
from controls.rulebook import rules_current
from controls.selectors import inputs as input_selectors
from controls.selectors.policies import policy_current, thresholds_for
from riskreg.inventory.models import AISystem

logger = logging.getLogger(__name__)
ORG_SCOPE = "org"


def system_scope(system_id: int) -> str:
    return f"sys:{system_id}"


def version_scope(version_id: int) -> str:
    return f"mv:{version_id}"


@dataclass(frozen=True)
class Wanted:
    """A verdict as just decided, before it is compared with the stored one."""

    scope: str
    subcategory: str
    status: str
    computed: str
    rationale: list[dict[str, Any]]
    evidence: list[str]
    regression: bool
    valid_until: datetime | None
    system_id: int | None = None
    model_version_id: int | None = None
    override_id: int | None = None


def verdicts_refresh(
    *, organization_id: int, system_id: int | None, cause: str
) -> list[dict[str, Any]]:
    """Decide and store the verdicts of one system, or of the organisation and every
    system when system_id is None; returns what changed, for the update's report."""
    systems = list(
        AISystem.objects.filter(organization_id=organization_id)
        .filter(**({"pk": system_id} if system_id is not None else {}))
        .prefetch_related("model_versions__parent")
        .select_related("owner")
    )
    inputs = input_selectors.scope_inputs(
        organization_id=organization_id, system=systems[0] if system_id is not None else None
    )
    context = _Context(organization_id)
    # The organisation's own verdicts are cheap and read only organisation-level rows;
    # deciding them every time keeps them present from the first system on.
    wanted = _organisation(context, inputs)
    for system in systems:
        wanted += _system(context, inputs, system)
    changed = _store(organization_id, wanted, cause, context.now)
    from controls.services.findings import findings_raise

    findings_raise(organization_id=organization_id, changes=changed)
    return [affected_entry(c, context.slugs) for c in changed if not c.scope.startswith("mv:")]


class _Context:
    """What every scope of one refresh shares: rules, policy, catalog, time, overrides."""

    def __init__(self, organization_id: int) -> None:
        self.now = timezone.now()
        self.rules = rules_current()
        self.policy = policy_current(organization_id=organization_id)
        rows = Subcategory.objects.order_by("position").values_list("id", "scope")
        self.org_subcategories = [s for s, scope in rows if scope == "organisation"]
        self.system_subcategories = [s for s, scope in rows if scope == "system"]
        self.overrides = {
            (o.system_id, o.subcategory_id): o
            for o in Override.objects.filter(
                organization_id=organization_id, ended_at__isnull=True, expires_at__gt=self.now
            ).order_by("created_at")
        }
        self.slugs: dict[int, str] = {}
        self.fdr = float(getattr(settings, "RISKREG_REGRESSION_FDR", 0.05))


def _organisation(context: _Context, inputs: input_selectors.ScopeInputs) -> list[Wanted]:
    facts, deadline = input_selectors.facts_for(inputs, items=inputs.organisation, system_id=None)
    decisions = decide(
        context.org_subcategories,
        context.rules,
        inputs.organisation,
        facts,
        scope="organisation",
    )
    return [
        _wanted(context, ORG_SCOPE, d, deadline, system_id=None, label=None)
        for d in decisions.values()
    ]


def _system(
    context: _Context, inputs: input_selectors.ScopeInputs, system: AISystem
) -> list[Wanted]:
    context.slugs[system.pk] = system.slug
    thresholds = thresholds_for(context.policy, tier=system.risk_tier)
    shared = list(inputs.by_system.get(system.pk, ()))
    per_version: list[tuple[str, dict[str, Decision]]] = []
    wanted: list[Wanted] = []
    deadline = None
    versions: list[Any] = input_selectors.versions_in_scope(system) or [None]
    for version in versions:
        items = shared + (list(inputs.by_version.get(version.pk, ())) if version else [])
        facts, deadline = input_selectors.facts_for(inputs, items=items, system_id=system.pk)
        extra = _regressions(context, inputs, version, items) if version else {}
        decisions = decide(
            context.system_subcategories,
            context.rules,
            items,
            facts,
            scope="system",
            thresholds=thresholds,
            extra=extra,
        )
        label = version.version if version else None
        per_version.append((label or "", decisions))
        if version is not None:
            scope = version_scope(version.pk)
            wanted += [
                _wanted(
                    context, scope, d, deadline, system_id=system.pk, label=label, mv=version.pk
                )
                for d in decisions.values()
            ]
    for subcategory in context.system_subcategories:
        merged, labels = _merge(subcategory, per_version)
        scope = system_scope(system.pk)
        wanted.append(
            _wanted(
                context, scope, merged, deadline, system_id=system.pk, label=None, labels=labels
            )
        )
    return wanted


def _regressions(
    context: _Context, inputs: input_selectors.ScopeInputs, version: Any, items: list[Item]
) -> dict[str, list[Contribution]]:
    baseline = input_selectors.baseline_for(version)
    before = list(inputs.by_version.get(baseline.pk, ())) if baseline else []
    own = [i for i in items if i.model_version is not None]
    found = drift.regressions(
        own, before, fdr=context.fdr, against=baseline.version if baseline else ""
    )
    return dict.fromkeys(drift.REGRESSION_SUBCATEGORIES, found) if found else {}


def _merge(
    subcategory: str, per_version: list[tuple[str, dict[str, Decision]]]
) -> tuple[Decision, list[str]]:
    """The system's verdict: the worst of its versions', every contribution kept."""
    contributions: list[Contribution] = []
    valid = []
    labels: list[str] = []
    for label, decisions in per_version:
        decision = decisions[subcategory]
        contributions += decision.contributions
        labels += [label] * len(decision.contributions)
        if decision.valid_until:
            valid.append(decision.valid_until)
    merged = Decision(
        subcategory=subcategory,
        status=worst([c.status for c in contributions]),
        contributions=tuple(contributions),
        valid_until=min(valid) if valid else None,
    )
    return merged, labels


def _incident_subcategories(context: _Context) -> set[str]:
    return {
        sub
        for rule in context.rules.presence_rules
        if rule.look_for == "incident_response"
        for sub in rule.subcategories
    }


def _end_of(day: Any) -> datetime:
    """An item current through `day` stops counting when the next day starts."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _wanted(
    context: _Context,
    scope: str,
    decision: Decision,
    deadline: datetime | None,
    *,
    system_id: int | None,
    label: str | None,
    mv: int | None = None,
    labels: list[str] | None = None,
) -> Wanted:
    labels = labels or [label or ""] * len(decision.contributions)
    rationale = [
        {**c.as_dict(), "model_version": lab or None}
        for c, lab in zip(decision.contributions, labels, strict=True)
    ]
    ends = [_end_of(decision.valid_until)] if decision.valid_until else []
    if deadline is not None and decision.subcategory in _incident_subcategories(context):
        ends.append(deadline)  # an open incident's deadline passing changes the verdict
    status, override_id = str(decision.status), None
    override = None if mv else context.overrides.get((system_id, decision.subcategory))
    if override is not None:
        status, override_id = override.status, override.pk
        ends.append(override.expires_at)
    return Wanted(
        scope=scope,
        subcategory=decision.subcategory,
        status=status,
        computed=str(decision.status),
        rationale=rationale,
        evidence=list(decision.evidence),
        regression=decision.regression,
        valid_until=min(ends) if ends else None,
        system_id=system_id,
        model_version_id=mv,
        override_id=override_id,
    )


def _store(
    organization_id: int, wanted: list[Wanted], cause: str, now: datetime
) -> list[VerdictChange]:
    """Write the verdicts that differ from the stored ones; their history rows come back."""
    scopes = {w.scope for w in wanted}
    stored = {
        (v.scope, v.subcategory_id): v
        for v in Verdict.objects.filter(organization_id=organization_id, scope__in=scopes)
    }
    rules_version = rules_current().label
    policy = policy_current(organization_id=organization_id)
    policy_version = policy.version if policy else None
    changes: list[VerdictChange] = []
    for w in wanted:
        row = stored.get((w.scope, w.subcategory))
        same = row is not None and (
            row.status,
            row.computed_status,
            row.evidence,
            row.regression,
            row.override_id,
            row.rationale,
            row.policy_version,
            row.rules_version,
            row.valid_until,
        ) == (
            w.status,
            w.computed,
            w.evidence,
            w.regression,
            w.override_id,
            w.rationale,
            policy_version,
            rules_version,
            w.valid_until,
        )
        if same:
            continue
        previous = row.status if row is not None else ""
        previous_regression = row.regression if row is not None else False
        row = row or Verdict(
            organization_id=organization_id, scope=w.scope, subcategory_id=w.subcategory
        )
        row.system_id, row.model_version_id = w.system_id, w.model_version_id
        row.status, row.computed_status = w.status, w.computed
        row.rationale, row.evidence, row.regression = w.rationale, w.evidence, w.regression
        row.override_id, row.valid_until = w.override_id, w.valid_until
        row.rules_version, row.policy_version, row.decided_at = rules_version, policy_version, now
        row.save()
        changes.append(
            VerdictChange(
                organization_id=organization_id,
                scope=w.scope,
                system_id=w.system_id,
                model_version_id=w.model_version_id,
                subcategory_id=w.subcategory,
                status=w.status,
                previous=previous,
                regression=w.regression,
                previous_regression=previous_regression,
                rationale=w.rationale,
                evidence=w.evidence,
                overridden=w.override_id is not None,
                rules_version=rules_version,
                policy_version=policy_version,
                cause=cause,
                decided_at=now,
                valid_until=w.valid_until,
            )
        )
    VerdictChange.objects.bulk_create(changes)
    _drop_stale(organization_id, wanted)
    return changes


def _drop_stale(organization_id: int, wanted: Iterable[Wanted]) -> None:
    """Versions that left the scope (no longer in production) keep only their history."""
    systems = {w.system_id for w in wanted if w.system_id is not None}
    live = {w.scope for w in wanted}
    Verdict.objects.filter(
        organization_id=organization_id, system_id__in=systems, scope__startswith="mv:"
    ).exclude(scope__in=live).delete()


def affected_entry(change: VerdictChange, slugs: dict[int, str]) -> dict[str, Any]:
    return {
        "system": slugs.get(change.system_id) if change.system_id else None,
        "subcategory": change.subcategory_id,
        "status": change.status,
        "previous": change.previous or None,
        "regression": change.regression,
    }
