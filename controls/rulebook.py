"""The mapping rules in force: fixtures/controls/rules.yaml, checked once per process."""

import functools

from django.conf import settings

from controls.engine.rules import RuleSet, rules_read
from controls.services.catalog import catalog_read

RULES_PATH = settings.BASE_DIR / "fixtures" / "controls" / "rules.yaml"


@functools.cache
def rules_current() -> RuleSet:
    """The default rules, validated against the catalog and the evidence schemas."""
    subcategories = [s["id"] for s in catalog_read()["subcategories"]]
    return rules_read(RULES_PATH, subcategory_ids=subcategories)
