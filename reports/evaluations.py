"""The evaluation-results section of a report: one block per evidence item, by
trustworthiness characteristic, with its chart."""

from collections.abc import Mapping
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from reports import charts
from reports.formatting import TIMES, evidence_row, fmt, fmt_metric, label

# Characteristic sections of the evaluation results, in the order they are printed.
EVALUATION_GROUPS = (
    ("performance", "Valid and reliable: performance", "MEASURE 2.5, 2.3"),
    ("calibration", "Valid and reliable: calibration", "MEASURE 2.5"),
    ("robustness", "Secure and resilient: robustness", "MEASURE 2.5, 2.7"),
    ("fairness", "Fair, with harmful bias managed", "MEASURE 2.11"),
    ("efficiency", "Environmental impact and efficiency", "MEASURE 2.12"),
)


def evaluations(evidence: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Evaluation evidence grouped by trustworthiness characteristic, each item with its figures."""
    counter = iter(range(1, 10_000))
    groups = []
    for kind, title, subcategories in EVALUATION_GROUPS:
        items = [e for e in evidence if e["kind"] == kind]
        groups.append(
            {
                "kind": kind,
                "title": title,
                "subcategories": subcategories,
                "anchor": f"eval-{kind}",
                "items": [_evaluation(e, f"chart{next(counter)}") for e in items],
            }
        )
    return groups


def _evaluation(item: Mapping[str, Any], chart_id: str) -> dict[str, Any]:
    metrics = (item.get("document") or {}).get("metrics") or {}
    builders = {
        "fairness": _fairness,
        "calibration": _calibration,
        "robustness": _robustness,
        "performance": _performance,
        "efficiency": _efficiency,
    }
    return {"item": evidence_row(item)} | builders[item["kind"]](metrics, chart_id)


def _svg(markup: str) -> SafeString:
    # Safe only because reports/charts.py generated it: matplotlib and the chart serialiser
    # escape every piece of text (group names included) that went into it.
    return mark_safe(markup)  # noqa: S308 - our own SVG, text inside is escaped


def _fairness(metrics: Mapping[str, Any], chart_id: str) -> dict[str, Any]:
    breakdowns = metrics.get("breakdowns") or []
    overall = metrics.get("overall") or {}
    aggregates = (
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "equalized_odds_difference",
        "equalized_odds_ratio",
        "equal_opportunity_difference",
    )
    return {
        "chart": _svg(charts.fairness_chart(breakdowns, id_prefix=chart_id))
        if breakdowns
        else None,
        "facts": [
            ("positive label", str(metrics.get("positive_label", "not stated"))),
            ("sensitive features", ", ".join(map(str, metrics.get("sensitive_features", [])))),
            ("minimum group size", fmt(metrics.get("min_group_size"))),
            ("overall size", fmt(overall.get("size"))),
            ("overall selection rate", fmt_metric(overall.get("selection_rate"))),
            ("overall accuracy", fmt_metric(overall.get("accuracy"))),
        ],
        "headers": ["features", "groups", *(label(a) for a in aggregates)],
        "rows": [
            [
                f" {TIMES} ".join(map(str, b.get("features", []))),
                str(len(b.get("groups", []))),
                *(fmt_metric(b.get(a)) for a in aggregates),
            ]
            for b in breakdowns
        ],
    }


def _calibration(metrics: Mapping[str, Any], chart_id: str) -> dict[str, Any]:
    ece = metrics.get("expected_calibration_error")
    bins = metrics.get("bins") or []
    groups = [
        [
            ", ".join(f"{k}: {v}" for k, v in (g.get("group") or {}).items()),
            fmt(g.get("size")),
            fmt_metric(g.get("expected_calibration_error")),
            fmt_metric(g.get("brier_score_loss")),
        ]
        for b in metrics.get("breakdowns") or []
        for g in b.get("groups", [])
    ]
    return {
        "chart": _svg(charts.reliability_chart(bins, ece, id_prefix=chart_id)) if bins else None,
        "chart_class": "chart-small",
        "facts": [
            ("task", str(metrics.get("task", ""))),
            ("bins", f"{fmt(metrics.get('n_bins'))} ({metrics.get('bin_strategy', '')})"),
            ("size", fmt(metrics.get("size"))),
            ("expected calibration error (ECE)", fmt_metric(ece)),
            ("maximum calibration error", fmt_metric(metrics.get("maximum_calibration_error"))),
            ("Brier score", fmt_metric(metrics.get("brier_score_loss"))),
            ("log loss", fmt_metric(metrics.get("log_loss"))),
        ],
        "headers": ["group", "size", "ECE", "Brier score"] if groups else [],
        "rows": groups,
    }


def _robustness(metrics: Mapping[str, Any], chart_id: str) -> dict[str, Any]:
    perturbations = metrics.get("perturbations") or []
    clean = metrics.get("clean_accuracy")
    rows = []
    for p in perturbations:
        axis = "budget" if any("budget" in point for point in p.get("points", [])) else "severity"
        points = "; ".join(
            f"{fmt(point.get(axis))}: {fmt_metric(point.get('accuracy'))}"
            for point in p.get("points", [])
        )
        rows.append(
            [
                str(p.get("name", "")),
                str(p.get("type", "")),
                str(p.get("norm") or "—"),
                f"{axis} → accuracy: {points}",
            ]
        )
    chart = (
        charts.robustness_chart(perturbations, clean, id_prefix=chart_id) if perturbations else None
    )
    return {
        "chart": _svg(chart) if chart else None,
        "facts": [("size", fmt(metrics.get("size"))), ("clean accuracy", fmt_metric(clean))],
        "headers": ["perturbation", "type", "norm", "points"],
        "rows": rows,
    }


def _performance(metrics: Mapping[str, Any], chart_id: str) -> dict[str, Any]:
    benchmark = metrics.get("benchmark") or {}
    bench = " / ".join(
        str(benchmark.get(k)) for k in ("name", "config", "split") if benchmark.get(k)
    )
    rows = []
    for name, score in (metrics.get("scores") or {}).items():
        direction = score.get("higher_is_better") if isinstance(score, Mapping) else None
        arrow = "" if direction is None else "higher is better" if direction else "lower is better"
        rows.append([str(name), fmt_metric(score), arrow])
    return {
        "chart": None,
        "facts": [
            ("task", str(metrics.get("task", ""))),
            ("benchmark", bench or "inventory datasets"),
            ("size", fmt(metrics.get("size"))),
        ],
        "headers": ["score", "value [95% interval]", "direction"],
        "rows": rows,
    }


def _efficiency(metrics: Mapping[str, Any], chart_id: str) -> dict[str, Any]:
    hardware = metrics.get("hardware") or {}
    cost = metrics.get("cost_per_1000_inferences")
    facts = [
        ("hardware", f"{hardware.get('device', '')}: {hardware.get('name', '')}"),
        ("energy (kWh)", fmt_metric(metrics.get("energy_kwh"))),
        ("emissions (kg CO2e)", fmt_metric(metrics.get("co2e_kg"))),
        ("throughput (per s)", fmt_metric(metrics.get("throughput_per_s"))),
        ("parameters", fmt(metrics.get("parameter_count"))),
        ("model size (bytes)", fmt(metrics.get("model_size_bytes"))),
        ("peak memory (bytes)", fmt(metrics.get("peak_memory_bytes"))),
        (
            "cost per 1,000 inferences",
            f"{fmt(cost.get('amount'))} {cost.get('currency', '')}" if cost else "—",
        ),
    ]
    rows = [
        [
            fmt(lat.get("batch_size")),
            *(fmt_metric(lat.get(k)) for k in ("p50_ms", "p95_ms", "p99_ms", "throughput_per_s")),
        ]
        for lat in metrics.get("latency") or []
    ]
    return {
        "chart": None,
        "facts": facts,
        "headers": ["batch size", "p50 ms", "p95 ms", "p99 ms", "throughput per s"],
        "rows": rows,
    }
