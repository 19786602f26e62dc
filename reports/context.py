"""The template context of a report: the snapshot turned into what the templates print.

Pure (no WeasyPrint, no database): reports/rendering.py renders the templates with this
context and turns the HTML into the PDF.
"""

from collections import Counter
from collections.abc import Mapping
from typing import Any

from reports.evaluations import evaluations
from reports.formatting import (
    TIMES,
    display_datetime,
    evidence_row,
    fmt,
    label,
    utc,
)

TEMPLATE_VERSION = "1"  # bump when templates or the stylesheet change what a report shows
WATERMARK = "DRAFT — not approved"
FUNCTIONS = ("GOVERN", "MAP", "MEASURE", "MANAGE")
STATUSES = ("met", "partially_met", "inconclusive", "not_met", "not_assessed", "not_applicable")
LEVELS = ("low", "medium", "high", "critical")
LIVE_RISK = ("proposed", "open", "treating", "accepted")
OPEN_INCIDENT = ("open", "investigating")


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
        "generated_at": display_datetime(report["generated_at"]),
        "approved_at": display_datetime(approval["at"]) if approval else None,
        "heatmaps": _heatmaps(snapshot),
        "risks": [_risk_row(r) for r in risks],
        "top_risks": _top_risks(risks),
        "risk_counts": _risk_counts(risks),
        "evidence_index": [evidence_row(e) for e in evidence],
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
        context["evaluations"] = evaluations(evidence)
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
    return f"Approved by {approval['by']} ({approval['role']}), {display_datetime(approval['at'])}"


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
        "status_label": label(sub["status"]),
        "overridden": sub["overridden"],
        "regression": sub["regression"],
        "evidence": [uid[:8] for uid in sub["evidence"]],
        "source": f"NIST AI 100-1 {sub['id']}, p. {sub['page']}",
    }


def _rationale(entry: Mapping[str, Any]) -> dict[str, Any]:
    interval = entry.get("interval")
    value = fmt(entry.get("value"))
    if interval:
        value += f" [{fmt(interval[0])}, {fmt(interval[1])}]"
    return {
        "rule": entry["rule"],
        "status_label": label(entry["status"]),
        "status": entry["status"],
        "metric": entry.get("metric") or "",
        "value": value if entry.get("value") is not None else "",
        "threshold": fmt(entry.get("threshold")) if entry.get("threshold") is not None else "",
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
        "status_label": label(risk["status"]),
        "level_label": risk["level"] or "not scored",
        "inherent_text": _score(risk["inherent"]),
        "residual_text": _score(risk["residual"]),
        "treatment": label(risk["treatment_decision"]) or "not decided",
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
        "by_status": [(label(s), by_status[s]) for s in (*LIVE_RISK, "dismissed", "closed")],
        "by_level": [(lvl, by_level[lvl]) for lvl in (*reversed(LEVELS), "unscored")],
    }


def _audit(audit: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "head": audit["head"],
        "events": [e | {"at_text": display_datetime(e["at"])} for e in audit["excerpt"]],
    }


def _incident(incident: Mapping[str, Any]) -> dict[str, Any]:
    deadline = incident.get("regulator_deadline")
    return dict(incident) | {
        "occurred_text": display_datetime(incident["occurred_at"]),
        "detected_text": display_datetime(incident["detected_at"]),
        "deadline_text": display_datetime(deadline) if deadline else "none",
        "status_label": label(incident["status"]),
        "entries": [
            e | {"at_text": display_datetime(e["at"])}
            for e in sorted(incident["timeline"], key=lambda e: utc(e["at"]))
        ],
    }


def _previous(previous: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not previous:
        return None
    return {"id": previous["id"], "at": display_datetime(previous["generated_at"])}


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
                "rows": fmt(entry.get("rows")),
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
                f"{col}: PSI {fmt(stats.get('psi'))}"
                for col, stats in (d.get("columns") or {}).items()
                if stats.get("psi") is not None
            ),
        }
        for d in metrics.get("drift") or []
    ]
    return {"item": evidence_row(item), "sets": sets, "overlap": overlap, "drift": drift}


def _dataset_split(entry: Mapping[str, Any]) -> str:
    return f"{entry.get('slug')} ({entry.get('split')})"


def _count_rate(value: Mapping[str, Any] | None, count_key: str = "count") -> str:
    if not value:
        return "not recorded"
    return f"{fmt(value.get(count_key))} ({fmt(value.get('rate'))})"


def _document(item: Mapping[str, Any]) -> dict[str, Any]:
    inner = (item.get("document") or {}).get("document") or {}
    return {
        "item": evidence_row(item),
        "type": inner.get("document_type", ""),
        "type_label": label(inner.get("document_type", "")),
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
            "created_text": display_datetime(v["created_at"]),
            "datasets": ", ".join(v["training_datasets"]),
        }
        for v in sorted(system["model_versions"], key=lambda v: utc(v["created_at"]))
    ]


# --- EU AI Act Annex IV ----------------------------------------------------------------------


def _annex(snapshot: Mapping[str, Any], evidence: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Facts for the nine Annex IV sections that riskreg can speak to."""
    documents = [_document(e) for e in evidence if e["kind"] == "document"]

    def of_type(*types: str) -> list[dict[str, Any]]:
        return [d for d in documents if d["type"] in types]

    monitoring = [
        evidence_row(e)
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
