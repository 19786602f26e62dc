"""The heat maps as the templates draw them: labelled axes, a band and a link per cell.

Built from selectors.workflow.heat_map's grid (row 0 = likelihood 5, column 0 = impact 1)
and the matrix whose labels and bands the page shows. No queries here.
"""

from typing import Any

from django.urls import reverse

from riskreg.risks.models import LEVELS, RiskMatrix

TITLES = {"inherent": "Inherent risk", "current": "Current risk", "residual": "Residual risk"}


def cell_param(kind: str, likelihood: int, impact: int) -> str:
    """The register's ?cell= value for one cell: "residual-2-3"."""
    return f"{kind}-{likelihood}-{impact}"


def heat_table(kind: str, grid: list[list[int]], matrix: RiskMatrix) -> dict[str, Any]:
    """One heat map: rows from likelihood 5 down to 1, columns impact 1 to 5."""
    register = reverse("risk-list")
    rows = []
    for i, counts in enumerate(grid):
        likelihood = 5 - i
        cells = []
        for j, count in enumerate(counts):
            impact = j + 1
            cells.append(
                {
                    "impact": impact,
                    "impact_label": matrix.impact_labels[j],
                    "count": count,
                    "level": matrix.level_for(likelihood * impact),
                    "url": f"{register}?cell={cell_param(kind, likelihood, impact)}"
                    if count
                    else None,
                }
            )
        rows.append(
            {"n": likelihood, "label": matrix.likelihood_labels[likelihood - 1], "cells": cells}
        )
    return {
        "kind": kind,
        "title": TITLES[kind],
        "rows": rows,
        "impacts": list(enumerate(matrix.impact_labels, start=1)),
        "total": sum(map(sum, grid)),
    }


def legend(matrix: RiskMatrix) -> list[dict[str, Any]]:
    """Each band with the scores it covers, lowest first."""
    limits = matrix.band_limits
    lows = [1, limits["low"] + 1, limits["medium"] + 1, limits["high"] + 1]
    highs = [limits["low"], limits["medium"], limits["high"], 25]
    return [
        {"level": level, "low": low, "high": high}
        for level, low, high in zip(LEVELS, lows, highs, strict=True)
    ]
