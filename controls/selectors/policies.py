"""Reads of the organisation's threshold policy."""

from django.db.models import QuerySet

from controls.models import Policy
from controls.rulebook import rules_current


def policy_current(*, organization_id: int) -> Policy | None:
    """The newest policy version, or None while the defaults stand."""
    return Policy.objects.filter(organization_id=organization_id).order_by("-version").first()


def policy_versions(*, organization_id: int) -> QuerySet[Policy]:
    return Policy.objects.filter(organization_id=organization_id).order_by("-version")


def thresholds_for(policy: Policy | None, *, tier: str | None) -> dict[str, tuple[float, float]]:
    """rule id -> (threshold, band) in force for a system of `tier`: the default rules,
    then the policy's organisation-wide values, then its values for the tier."""
    found = {r.id: (r.threshold, r.band) for r in rules_current().metric_rules}
    if policy is None:
        return found
    layers = [policy.thresholds, (policy.tiers or {}).get(tier or "", {})]
    for layer in layers:
        for rule_id, values in layer.items():
            if rule_id in found:
                threshold, band = found[rule_id]
                found[rule_id] = (
                    float(values.get("threshold", threshold)),
                    float(values.get("band", band)),
                )
    return found
