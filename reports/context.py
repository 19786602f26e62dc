"""The template context of a report: the snapshot turned into what the templates print.

Pure (no WeasyPrint, no database): reports/rendering.py renders the templates with this
context and turns the HTML into the PDF.
"""

import re
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from reports import charts

TEMPLATE_VERSION = "1"  # bump when templates or the stylesheet change what a report shows
WATERMARK = "DRAFT — not approved"
TIMES = "\N{MULTIPLICATION SIGN}"
FUNCTIONS = ("GOVERN", "MAP", "MEASURE", "MANAGE")
STATUSES = ("met", "partially_met", "inconclusive", "not_met", "not_assessed", "not_applicable")
LEVELS = ("low", "medium", "high", "critical")
LIVE_RISK = ("proposed", "open", "treating", "accepted")
OPEN_INCIDENT = ("open", "investigating")
# Characteristic sections of the evaluation results, in the order they are printed.
EVALUATION_GROUPS = (
    ("performance", "Valid and reliable: performance", "MEASURE 2.5, 2.3"),
    ("calibration", "Valid and reliable: calibration", "MEASURE 2.5"),
    ("robustness", "Secure and resilient: robustness", "MEASURE 2.5, 2.7"),
    ("fairness", "Fair, with harmful bias managed", "MEASURE 2.11"),
    ("efficiency", "Environmental impact and efficiency", "MEASURE 2.12"),
)
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Runs this long get invisible break opportunities: WeasyPrint breaks a word of thousands of
# characters about five times slower than the same text with a zero-width space every 40.
# Hashes (64) and ids (36) stay intact, so they copy out of the PDF unchanged.
_LONG_RUN = re.compile(r"\S{100,}")
_BREAK_EVERY = 40


def report_context(
    snapshot: Mapping[str, Any],
    *,
    snapshot_sha256: str,
    manifest_sha256: str,
    approval: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Everything the templates print, computed here so templates hold no logic."""
    report = snapshot["report"]
    risks = sorted(snapshot["risks"], key=lambda r: r["reference"])
    evidence = snapshot["evidence"]
    context: dict[str, Any] = {
        "s": snapshot,
        "report": report,
        "template_version": TEMPLATE_VERSION,
        "system": snapshot.get("system"),
        "approval": approval,
        "watermark": None if approval else WATERMARK,
        "status_line": _status_line(approval),
        "snapshot_sha256": snapshot_sha256,
        "manifest_sha256": manifest_sha256,
        "meta": _meta(report),
        "generated_at": _display_datetime(report["generated_at"]),
        "approved_at": _display_datetime(approval["at"]) if approval else None,
        "heatmaps": _heatmaps(snapshot),
        "risks": [_risk_row(r) for r in risks],
        "top_risks": _top_risks(risks),
        "risk_counts": _risk_counts(risks),
        "evidence_index": [_evidence_row(e) for e in evidence],
        "audit": _audit(snapshot["audit"]),
        "incidents": [_incident(i) for i in snapshot["incidents"]],
        "open_incidents": [i for i in snapshot["incidents"] if i["status"] in OPEN_INCIDENT],
        "regressions": snapshot["regressions"],
        "previous_report": _previous(report.get("previous_report")),
        "datasets": [_dataset(d) for d in snapshot["datasets"]],
        "data_quality": [_data_quality(e) for e in evidence if e["kind"] == "data_quality"],
    }
    if snapshot.get("posture"):
        context |= _posture(snapshot["posture"])
    if report["kind"] in ("system", "annex-iv"):
        context["evaluations"] = _evaluations(evidence)
        context["versions"] = _versions(snapshot.get("system"))
    if report["kind"] == "annex-iv":
        context["annex"] = _annex(snapshot, evidence)
    return context


def _meta(report: Mapping[str, Any]) -> dict[str, str]:
    """HTML <meta> values WeasyPrint turns into the PDF's Info and XMP metadata."""
    stamp = utc(report["generated_at"]).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "title": f"{report['title']} ({report['id']})"[:500],
        "author": report["organisation"]["name"][:200],
        "generator": f"riskreg {report['generator_version']}"[:200],
        "created": stamp,
        "modified": stamp,
    }


def _status_line(approval: Mapping[str, Any] | None) -> str:
    if approval is None:
        return WATERMARK
    return f"Approved by {approval['by']} ({approval['role']}), {_display_datetime(approval['at'])}"


def _posture(posture: Mapping[str, Any]) -> dict[str, Any]:
    subcategories = posture["subcategories"]
    coverage = posture.get("coverage", {}).get("function", {})
    counts = []
    for function in FUNCTIONS:
        own = [s for s in subcategories if s["function"] == function]
        found = coverage.get(function) or {
            "total": len(own),
            "assessed": sum(1 for s in own if s["status"] != "not_assessed"),
            "statuses": dict(Counter(s["status"] for s in own)),
        }
        statuses = found.get("statuses", {})
        counts.append(
            {"function": function, "total": found["total"], "assessed": found["assessed"]}
            | {status: statuses.get(status, 0) for status in STATUSES}
        )
    rows = [_subcategory_row(s) for s in subcategories]
    return {
        "posture_counts": counts,
        "subcategory_groups": [
            {"function": f, "rows": [r for r in rows if r["function"] == f]} for f in FUNCTIONS
        ],
        "subcategory_count": len(rows),
        "failing": [r for r in rows if r["status"] == "not_met"],
        "regressed": [r for r in rows if r["regression"]],
        "rationale": [
            {"id": s["id"], "entries": [_rationale(e) for e in s["rationale"]]}
            for s in subcategories
            if s["rationale"]
        ],
    }


def _subcategory_row(sub: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": sub["id"],
        "function": sub["function"],
        "outcome": sub["outcome"],
        "status": sub["status"],
        "status_label": _label(sub["status"]),
        "overridden": sub["overridden"],
        "regression": sub["regression"],
        "evidence": [uid[:8] for uid in sub["evidence"]],
        "source": f"NIST AI 100-1 {sub['id']}, p. {sub['page']}",
    }


def _rationale(entry: Mapping[str, Any]) -> dict[str, Any]:
    interval = entry.get("interval")
    value = _fmt(entry.get("value"))
    if interval:
        value += f" [{_fmt(interval[0])}, {_fmt(interval[1])}]"
    return {
        "rule": entry["rule"],
        "status_label": _label(entry["status"]),
        "status": entry["status"],
        "metric": entry.get("metric") or "",
        "value": value if entry.get("value") is not None else "",
        "threshold": _fmt(entry.get("threshold")) if entry.get("threshold") is not None else "",
        "model_version": entry.get("model_version") or "",
        "note": entry.get("note") or "",
    }


def _heatmaps(snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Both 5x5 grids as table rows, likelihood 5 at the top, each cell banded by its score."""
    matrix = snapshot["matrix"]
    limits = matrix["band_limits"]
    maps = []
    for name in ("inherent", "residual"):
        grid = snapshot["heatmaps"][name]
        rows = []
        for likelihood in range(5, 0, -1):
            cells = [
                {
                    "count": grid[likelihood - 1][impact - 1],
                    "level": _band(likelihood * impact, limits),
                }
                for impact in range(1, 6)
            ]
            label = f"{likelihood} {matrix['likelihood_labels'][likelihood - 1]}"
            rows.append({"label": label, "cells": cells})
        impacts = [f"{i} {matrix['impact_labels'][i - 1]}" for i in range(1, 6)]
        maps.append({"name": name, "rows": rows, "impacts": impacts, "total": sum(map(sum, grid))})
    return maps


def _band(score: int, limits: Mapping[str, int]) -> str:
    for level in ("low", "medium", "high"):
        if score <= limits[level]:
            return level
    return "critical"


def _score(score: Mapping[str, Any] | None) -> str:
    if not score:
        return "not scored"
    product = f"{score['likelihood']}{TIMES}{score['impact']}"
    return f"{product} = {score['score']} ({score['level']})"


def _risk_row(risk: Mapping[str, Any]) -> dict[str, Any]:
    acceptance = risk.get("acceptance")
    return dict(risk) | {
        "status_label": _label(risk["status"]),
        "level_label": risk["level"] or "not scored",
        "inherent_text": _score(risk["inherent"]),
        "residual_text": _score(risk["residual"]),
        "treatment": _label(risk["treatment_decision"]) or "not decided",
        "acceptance_text": (
            f"accepted by {acceptance['by']} until {acceptance['valid_until']}: "
            f"{acceptance['justification']}"
            if acceptance
            else ""
        ),
    }


def _level_rank(level: str | None) -> int:
    return LEVELS.index(level) if level in LEVELS else -1


def _top_risks(risks: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    live = [r for r in risks if r["status"] in LIVE_RISK]
    ranked = sorted(live, key=lambda r: (-_level_rank(r["level"]), r["reference"]))
    return [_risk_row(r) for r in ranked[:5]]


def _risk_counts(risks: list[Mapping[str, Any]]) -> dict[str, Any]:
    by_status = Counter(r["status"] for r in risks)
    by_level = Counter(r["level"] or "unscored" for r in risks if r["status"] in LIVE_RISK)
    return {
        "total": len(risks),
        "by_status": [(_label(s), by_status[s]) for s in (*LIVE_RISK, "dismissed", "closed")],
        "by_level": [(lvl, by_level[lvl]) for lvl in (*reversed(LEVELS), "unscored")],
    }


def _evidence_row(item: Mapping[str, Any]) -> dict[str, Any]:
    return dict(item) | {
        "short": item["uid"][:8],
        "context_label": item.get("context") or "",
        "title": _evidence_title(item),
    }


def _evidence_title(item: Mapping[str, Any]) -> str:
    document = item.get("document") or {}
    if item["kind"] == "document":
        inner = document.get("document") or {}
        return f"{_label(inner.get('document_type', ''))}: {inner.get('title', '')}"
    datasets = ", ".join(
        f"{d.get('slug')} ({d.get('split')})" for d in document.get("datasets") or []
    )
    return f"{_label(item['kind'])}" + (f" on {datasets}" if datasets else "")


def _audit(audit: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "head": audit["head"],
        "events": [e | {"at_text": _display_datetime(e["at"])} for e in audit["excerpt"]],
    }


def _incident(incident: Mapping[str, Any]) -> dict[str, Any]:
    deadline = incident.get("regulator_deadline")
    return dict(incident) | {
        "occurred_text": _display_datetime(incident["occurred_at"]),
        "detected_text": _display_datetime(incident["detected_at"]),
        "deadline_text": _display_datetime(deadline) if deadline else "none",
        "status_label": _label(incident["status"]),
        "entries": [
            e | {"at_text": _display_datetime(e["at"])}
            for e in sorted(incident["timeline"], key=lambda e: utc(e["at"]))
        ],
    }


def _previous(previous: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not previous:
        return None
    return {"id": previous["id"], "at": _display_datetime(previous["generated_at"])}


def _dataset(dataset: Mapping[str, Any]) -> dict[str, Any]:
    start, end = dataset.get("collection_start"), dataset.get("collection_end")
    period = f"{start or '?'} to {end or '?'}" if start or end else "not recorded"
    return dict(dataset) | {"collection": period}


def _data_quality(item: Mapping[str, Any]) -> dict[str, Any]:
    metrics = (item.get("document") or {}).get("metrics") or {}
    sets = []
    for entry in metrics.get("datasets") or []:
        missing = entry.get("missing") or {}
        worst = max(missing.items(), key=lambda kv: kv[1].get("rate") or 0, default=None)
        sets.append(
            {
                "name": _dataset_split(entry),
                "rows": _fmt(entry.get("rows")),
                "duplicates": _count_rate(entry.get("duplicate_rows")),
                "worst_missing": f"{worst[0]}: {_count_rate(worst[1])}" if worst else "none",
            }
        )
    overlap = [
        {"between": " / ".join(map(str, o.get("between", []))), "value": _count_rate(o, "rows")}
        for o in metrics.get("overlap") or []
    ]
    drift = [
        {
            "name": _dataset_split(d),
            "reference": _dataset_split(d.get("reference") or {}),
            "columns": ", ".join(
                f"{col}: PSI {_fmt(stats.get('psi'))}"
                for col, stats in (d.get("columns") or {}).items()
                if stats.get("psi") is not None
            ),
        }
        for d in metrics.get("drift") or []
    ]
    return {"item": _evidence_row(item), "sets": sets, "overlap": overlap, "drift": drift}


def _dataset_split(entry: Mapping[str, Any]) -> str:
    return f"{entry.get('slug')} ({entry.get('split')})"


def _count_rate(value: Mapping[str, Any] | None, count_key: str = "count") -> str:
    if not value:
        return "not recorded"
    return f"{_fmt(value.get(count_key))} ({_fmt(value.get('rate'))})"


def _document(item: Mapping[str, Any]) -> dict[str, Any]:
    inner = (item.get("document") or {}).get("document") or {}
    return {
        "item": _evidence_row(item),
        "type": inner.get("document_type", ""),
        "type_label": _label(inner.get("document_type", "")),
        "title": inner.get("title", ""),
        "summary": inner.get("summary", ""),
        "version": inner.get("version", ""),
        "reviewed": f"{inner.get('reviewed_by', '')}, {inner.get('reviewed_on', '')}",
    }


def _versions(system: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if not system:
        return []
    return [
        v
        | {
            "created_text": _display_datetime(v["created_at"]),
            "datasets": ", ".join(v["training_datasets"]),
        }
        for v in sorted(system["model_versions"], key=lambda v: utc(v["created_at"]))
    ]


# --- evaluation results ----------------------------------------------------------------------


def _evaluations(evidence: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
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
    return {"item": _evidence_row(item)} | builders[item["kind"]](metrics, chart_id)


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
            ("minimum group size", _fmt(metrics.get("min_group_size"))),
            ("overall size", _fmt(overall.get("size"))),
            ("overall selection rate", _fmt_metric(overall.get("selection_rate"))),
            ("overall accuracy", _fmt_metric(overall.get("accuracy"))),
        ],
        "headers": ["features", "groups", *(_label(a) for a in aggregates)],
        "rows": [
            [
                f" {TIMES} ".join(map(str, b.get("features", []))),
                str(len(b.get("groups", []))),
                *(_fmt_metric(b.get(a)) for a in aggregates),
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
            _fmt(g.get("size")),
            _fmt_metric(g.get("expected_calibration_error")),
            _fmt_metric(g.get("brier_score_loss")),
        ]
        for b in metrics.get("breakdowns") or []
        for g in b.get("groups", [])
    ]
    return {
        "chart": _svg(charts.reliability_chart(bins, ece, id_prefix=chart_id)) if bins else None,
        "chart_class": "chart-small",
        "facts": [
            ("task", str(metrics.get("task", ""))),
            ("bins", f"{_fmt(metrics.get('n_bins'))} ({metrics.get('bin_strategy', '')})"),
            ("size", _fmt(metrics.get("size"))),
            ("expected calibration error (ECE)", _fmt_metric(ece)),
            ("maximum calibration error", _fmt_metric(metrics.get("maximum_calibration_error"))),
            ("Brier score", _fmt_metric(metrics.get("brier_score_loss"))),
            ("log loss", _fmt_metric(metrics.get("log_loss"))),
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
            f"{_fmt(point.get(axis))}: {_fmt_metric(point.get('accuracy'))}"
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
        "facts": [("size", _fmt(metrics.get("size"))), ("clean accuracy", _fmt_metric(clean))],
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
        rows.append([str(name), _fmt_metric(score), arrow])
    return {
        "chart": None,
        "facts": [
            ("task", str(metrics.get("task", ""))),
            ("benchmark", bench or "inventory datasets"),
            ("size", _fmt(metrics.get("size"))),
        ],
        "headers": ["score", "value [95% interval]", "direction"],
        "rows": rows,
    }


def _efficiency(metrics: Mapping[str, Any], chart_id: str) -> dict[str, Any]:
    hardware = metrics.get("hardware") or {}
    cost = metrics.get("cost_per_1000_inferences")
    facts = [
        ("hardware", f"{hardware.get('device', '')}: {hardware.get('name', '')}"),
        ("energy (kWh)", _fmt_metric(metrics.get("energy_kwh"))),
        ("emissions (kg CO2e)", _fmt_metric(metrics.get("co2e_kg"))),
        ("throughput (per s)", _fmt_metric(metrics.get("throughput_per_s"))),
        ("parameters", _fmt(metrics.get("parameter_count"))),
        ("model size (bytes)", _fmt(metrics.get("model_size_bytes"))),
        ("peak memory (bytes)", _fmt(metrics.get("peak_memory_bytes"))),
        (
            "cost per 1,000 inferences",
            f"{_fmt(cost.get('amount'))} {cost.get('currency', '')}" if cost else "—",
        ),
    ]
    rows = [
        [
            _fmt(lat.get("batch_size")),
            *(_fmt_metric(lat.get(k)) for k in ("p50_ms", "p95_ms", "p99_ms", "throughput_per_s")),
        ]
        for lat in metrics.get("latency") or []
    ]
    return {
        "chart": None,
        "facts": facts,
        "headers": ["batch size", "p50 ms", "p95 ms", "p99 ms", "throughput per s"],
        "rows": rows,
    }


# --- EU AI Act Annex IV ----------------------------------------------------------------------


def _annex(snapshot: Mapping[str, Any], evidence: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Facts for the nine Annex IV sections that riskreg can speak to."""
    documents = [_document(e) for e in evidence if e["kind"] == "document"]

    def of_type(*types: str) -> list[dict[str, Any]]:
        return [d for d in documents if d["type"] in types]

    monitoring = [
        _evidence_row(e)
        for e in evidence
        if e.get("context") == "monitoring" and e["kind"] != "document"
    ]
    posture = snapshot.get("posture")
    oversight_ids = ("GOVERN 3.2", "MAP 3.5", "MEASURE 2.4", "MANAGE 2.4")
    performance_ids = ("MEASURE 1.1", "MEASURE 2.3", "MEASURE 2.5", "MEASURE 2.11", "MEASURE 2.13")
    by_id = {s["id"]: _subcategory_row(s) for s in posture["subcategories"]} if posture else {}
    return {
        "model_documents": of_type("model_card", "datasheet", "data_management_plan"),
        "oversight_documents": of_type(
            "human_evaluation_report", "incident_response_procedure", "policy"
        ),
        "oversight_verdicts": [by_id[i] for i in oversight_ids if i in by_id],
        "performance_verdicts": [by_id[i] for i in performance_ids if i in by_id],
        "risk_documents": of_type("risk_management_plan", "impact_assessment"),
        "monitoring": monitoring,
        "monitoring_plans": of_type("monitoring_plan"),
        "has_mapping": bool(posture),
    }


# --- formatting ------------------------------------------------------------------------------


def _label(value: str) -> str:
    return value.replace("_", " ")


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def _fmt_metric(metric: Any) -> str:
    value, low, high = charts.value_interval(metric)
    if value is None:
        return _fmt(metric) if not isinstance(metric, Mapping) else "—"
    text = _fmt(metric["value"] if isinstance(metric, Mapping) else metric)
    if low is not None and high is not None:
        text += f" [{_fmt(low)}, {_fmt(high)}]"
    return text


def utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"datetime without a time zone: {value!r}")
    return parsed.astimezone(UTC)


def _display_datetime(value: str) -> str:
    try:
        return utc(value).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return value


def _breakable(match: re.Match[str]) -> str:
    run = match[0]
    return "\u200b".join(run[i : i + _BREAK_EVERY] for i in range(0, len(run), _BREAK_EVERY))


def printable(value: Any) -> Any:
    """A copy fit to print: control characters and lone surrogates become U+FFFD, and very
    long words get zero-width spaces.

    Control characters cannot be drawn, and some (NUL, surrogates) break the XML and UTF-8
    that the renderer writes; every other character passes through unchanged.
    """
    if isinstance(value, str):
        return _LONG_RUN.sub(_breakable, _UNPRINTABLE.sub("\ufffd", value))
    if isinstance(value, Mapping):
        return {key: printable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [printable(item) for item in value]
    return value
