"""Threshold policies: versioned, changed by officers and admins, audited."""

from typing import Any

from django.db import transaction
from django.db.models import Max

from controls.engine.rules import threshold_problem
from controls.models import Policy
from controls.rulebook import rules_current
from controls.selectors.policies import policy_current
from controls.services.updates import verdicts_request
from riskreg.audit.services import audit_append
from riskreg.inventory.models import RiskTier
from riskreg.lib.errors import ValidationFailedError
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Organization


def _check_layer(
    layer: Any, field: str, under: dict[str, dict[str, float]] | None = None
) -> dict[str, dict[str, float]]:
    """{rule id: {"threshold": t, "band": b}}, each value checked against the rule's range
    together with what it leaves from the layer under it (the defaults, or for a tier the
    organisation-wide values)."""
    if not isinstance(layer, dict):
        raise ValidationFailedError.for_field(field, "must be an object keyed by rule id")
    rules = rules_current()
    checked: dict[str, dict[str, float]] = {}
    for rule_id, values in layer.items():
        rule = rules.metric_rule(rule_id)
        where = f"{field}.{rule_id}"
        if rule is None:
            raise ValidationFailedError.for_field(where, "no metric rule has this id")
        if not isinstance(values, dict) or not values or set(values) - {"threshold", "band"}:
            raise ValidationFailedError.for_field(where, "give threshold, band or both")
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationFailedError.for_field(f"{where}.{key}", "must be a number")
        below = (under or {}).get(rule_id, {})
        threshold = float(values.get("threshold", below.get("threshold", rule.threshold)))
        band = float(values.get("band", below.get("band", rule.band)))
        if problem := threshold_problem(rule, threshold, band):
            raise ValidationFailedError.for_field(where, problem)
        checked[rule_id] = {k: float(v) for k, v in values.items()}
    return checked


@transaction.atomic
def policy_update(*, actor: Actor, thresholds: Any, tiers: Any, note: str = "") -> Policy:
    """Record a new policy version and have every verdict decided again under it."""
    checked = _check_layer(thresholds, "thresholds")
    if not isinstance(tiers, dict):
        raise ValidationFailedError.for_field("tiers", "must be an object keyed by risk tier")
    by_tier = {}
    for tier, layer in tiers.items():
        if tier not in RiskTier.values:
            raise ValidationFailedError.for_field(f"tiers.{tier}", "no such risk tier")
        by_tier[tier] = _check_layer(layer, f"tiers.{tier}", checked)
    Organization.objects.select_for_update().get(pk=actor.organization_id)
    before = policy_current(organization_id=actor.organization_id)
    top = Policy.objects.filter(organization_id=actor.organization_id).aggregate(n=Max("version"))
    policy = Policy.objects.create(
        organization_id=actor.organization_id,
        version=(top["n"] or 0) + 1,
        thresholds=checked,
        tiers=by_tier,
        note=note,
        actor_label=actor.label,
    )
    audit_append(
        actor=actor,
        action="policy.update",
        object_type="policy",
        object_id=policy.version,
        changes={
            "version": {"before": before.version if before else None, "after": policy.version},
            "thresholds": {"before": before.thresholds if before else {}, "after": checked},
            "tiers": {"before": before.tiers if before else {}, "after": by_tier},
        },
    )
    verdicts_request(organization_id=actor.organization_id, system_id=None, cause="policy")
    return policy
