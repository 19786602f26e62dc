"""Reads for the dashboard: the organisation's AI RMF coverage, summed over its systems."""

from collections import Counter
from typing import Any

from controls.engine.status import ORDER, Status
from controls.models import Subcategory, Verdict
from controls.services.verdicts import ORG_SCOPE, system_scope


def coverage_rows(by_function: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """posture_get's coverage per function as rows, each status's count in ORDER (worst
    first), so that a table can print them as columns."""
    return [
        {
            "function": function,
            "total": found["total"],
            "assessed": found["assessed"],
            "statuses": [
                {"status": status.value, "count": found["statuses"].get(status.value, 0)}
                for status in ORDER
            ],
        }
        for function, found in by_function.items()
    ]


def coverage_by_function(*, organization_id: int, system_ids: list[int]) -> list[dict[str, Any]]:
    """Each function's verdict statuses summed over the systems, as coverage_rows gives them.

    Two queries whatever the number of systems and evidence items: the catalog and the
    stored verdicts. An organisation-wide outcome counts once for every system, as each
    system's posture shows it; a subcategory with no stored verdict is not assessed.
    """
    catalog = Subcategory.objects.order_by("position").values_list(
        "id", "scope", "category__function_id"
    )
    scopes = [ORG_SCOPE, *(system_scope(pk) for pk in system_ids)]
    stored = {
        (scope, sub): status
        for scope, sub, status in Verdict.objects.filter(
            organization_id=organization_id, scope__in=scopes
        ).values_list("scope", "subcategory_id", "status")
    }
    tallies: dict[str, Counter[str]] = {}
    for sub, scope, function in catalog:
        tally = tallies.setdefault(function, Counter())
        for pk in system_ids:
            where = ORG_SCOPE if scope == "organisation" else system_scope(pk)
            tally[stored.get((where, sub), Status.NOT_ASSESSED.value)] += 1
    return coverage_rows(
        {
            function: {
                "total": tally.total(),
                "assessed": tally.total() - tally[Status.NOT_ASSESSED.value],
                "statuses": dict(tally),
            }
            for function, tally in tallies.items()
        }
    )
