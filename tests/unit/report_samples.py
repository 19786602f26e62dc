"""Report snapshots for the renderer's tests, built from the committed fixtures.

`sample_snapshot` follows reports/snapshot_schema.json: the evidence documents are the
examples in fixtures/evidence/, the 72 subcategories come from the AI RMF catalog, and a few
risks, an incident and an audit excerpt complete it. `hostile_snapshot` puts markup, CSS,
URLs and a 3,000-character word into every free-text field a user controls.
"""

import copy
import json
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from riskreg.lib.hashing import canonical_hash

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE_DIR = ROOT / "fixtures" / "evidence"
CATALOG = ROOT / "fixtures" / "catalog" / "ai-rmf-1.0.yaml"

REPORT_ID = "5b0c7d2e-9a41-4c3e-8f17-2d6b9e0a4c58"
SNAPSHOT_SHA256 = "7e3b1c9a" * 8
GENERATED_AT = "2026-11-20T09:30:00+01:00"
APPROVAL = {
    "by": "Olivia Officer",
    "role": "compliance_officer",
    "at": "2026-11-21T14:05:00+00:00",
    "note": "Reviewed with the model risk committee on 21 November.",
}
# One fixed id per fixture, so evidence ids are stable across runs.
EVIDENCE_IDS = {
    "fairness": "0b6a9c3e-5f0e-4a8e-9d1c-2f7b8a4e6c11",
    "calibration": "1c7b0d4f-6a1f-4b9f-8e2d-3a8c9b5f7d22",
    "robustness": "2d8c1e5a-7b2a-4cae-9f3e-4b9dac6a8e33",
    "performance": "3e9d2f6b-8c3b-4dbf-8a4f-5caebd7b9f44",
    "efficiency": "4fae3a7c-9d4c-4ec0-9b5a-6dbfce8cae55",
    "data_quality": "5abf4b8d-ae5d-4fd1-8c6b-7ec0df9dbf66",
    "document": "6bc05c9e-bf6e-4ae2-9d7c-8fd1ea0ec077",
}
SUBMITTERS = {"document": "Head of Compliance", "efficiency": "ci:edge-benchmarks"}
AUDIT_HEAD = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

MARKUP = (
    '<img src="file:///etc/passwd"> <script>alert(1)</script> '
    "url(http://10.0.0.1/x) @import url(http://169.254.169.254/latest); "
    '<link rel="attachment" href="file:///etc/shadow"> $\\frac{1}{0}$ \x00\x07\ud800'
)
LONG_WORD = "W" * 3000
HOSTILE = f"{MARKUP} {LONG_WORD}"


@cache
def _catalog() -> dict[str, Any]:
    with CATALOG.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def _fixture(kind: str) -> dict[str, Any]:
    with (EVIDENCE_DIR / f"{kind}.json").open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


def _evidence() -> list[dict[str, Any]]:
    items = []
    for kind, uid in EVIDENCE_IDS.items():
        document = _fixture(kind)
        if kind != "document":  # one system's report: the examples describe three systems
            document["system"] = "credit-scoring"
            document["model_version"] = "4.3.0"
        items.append(
            {
                "uid": uid,
                "kind": kind,
                "context": document.get("context", "evaluation"),
                "system": document["system"],
                "model_version": document.get("model_version"),
                "effective_date": document["effective_date"],
                "expiry_date": document.get("expiry_date"),
                "submitter": SUBMITTERS.get(kind, "ci:credit-scoring"),
                "sha256": canonical_hash(document),
                "state": "current",
                "attachments": [
                    {"name": a["name"], "sha256": a["sha256"]}
                    for a in document.get("attachments", [])
                ],
                "document": document,
            }
        )
    return items


# subcategory -> (status, regression, evidence kinds, rule, metric, value, threshold, note)
VERDICTS: dict[
    str, tuple[str, bool, tuple[str, ...], str, str | None, float | None, float | None, str]
] = {
    "GOVERN 1.2": ("met", False, ("document",), "org.policy", None, None, None, "policy in force"),
    "MAP 2.3": (
        "met",
        False,
        ("data_quality",),
        "data.overlap",
        "/metrics/overlap/0/rate",
        0.0015,
        0.01,
        "",
    ),
    "MEASURE 2.5": (
        "met",
        False,
        ("calibration", "performance"),
        "calibration.expected-calibration-error",
        "/metrics/expected_calibration_error",
        0.0273,
        0.05,
        "",
    ),
    "MEASURE 2.7": (
        "not_met",
        False,
        ("robustness",),
        "robustness.attack-accuracy",
        "/metrics/perturbations/0/points/2/accuracy",
        0.3522,
        0.5,
        "accuracy collapses under FGSM",
    ),
    "MEASURE 2.11": (
        "partially_met",
        True,
        ("fairness",),
        "fairness.demographic-parity-ratio",
        "/metrics/breakdowns/1/demographic_parity_ratio",
        0.8785,
        0.9,
        "age_band gap widened",
    ),
    "MEASURE 2.12": (
        "met",
        False,
        ("efficiency",),
        "efficiency.energy",
        "/metrics/energy_kwh",
        0.42,
        1.0,
        "",
    ),
    "MANAGE 4.3": (
        "inconclusive",
        False,
        (),
        "incident.response",
        None,
        None,
        None,
        "no procedure",
    ),
}


def _subcategories(with_evidence: bool) -> list[dict[str, Any]]:
    catalog = _catalog()
    functions = {c["id"]: c["function"] for c in catalog["categories"]}
    rows = []
    for sub in catalog["subcategories"]:
        row: dict[str, Any] = {
            "id": sub["id"],
            "function": functions[sub["category"]],
            "category": sub["category"],
            "outcome": sub["outcome"],
            "page": sub["page"],
            "status": "not_assessed",
            "overridden": False,
            "regression": False,
            "evidence": [],
            "rationale": [],
        }
        verdict = VERDICTS.get(sub["id"])
        if with_evidence and verdict:
            status, regression, kinds, rule, metric, value, threshold, note = verdict
            row |= {
                "status": status,
                "regression": regression,
                "overridden": sub["id"] == "MANAGE 4.3",
                "evidence": [EVIDENCE_IDS[k] for k in kinds],
                "rationale": [
                    {
                        "rule": rule,
                        "status": status,
                        "metric": metric,
                        "value": value,
                        "threshold": threshold,
                        "note": note,
                        "model_version": "4.3.0" if metric else None,
                    }
                ],
            }
        rows.append(row)
    return rows


def _coverage(rows: list[dict[str, Any]]) -> dict[str, Any]:
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        groups[row["function"]][row["status"]] += 1
    return {
        "function": {
            name: {
                "total": sum(counts.values()),
                "assessed": sum(counts.values()) - counts["not_assessed"],
                "statuses": dict(counts),
            }
            for name, counts in groups.items()
        }
    }


def _score(likelihood: int, impact: int) -> dict[str, Any]:
    score = likelihood * impact
    level = (
        "low" if score <= 4 else "medium" if score <= 9 else "high" if score <= 16 else "critical"
    )
    return {"likelihood": likelihood, "impact": impact, "score": score, "level": level}


def _risk(number: int, title: str, **fields: Any) -> dict[str, Any]:
    inherent, residual = fields.pop("inherent", None), fields.pop("residual", None)
    return {
        "reference": f"RSK-{number:03d}",
        "title": title,
        "statement": fields.pop("statement", f"If {title.lower()}, applicants may be harmed."),
        "category": fields.pop("category", "validity_reliability"),
        "status": fields.pop("status", "open"),
        "level": inherent["level"] if inherent else None,
        "owner": fields.pop("owner", "officer"),
        "systems": fields.pop("systems", ["credit-scoring"]),
        "subcategories": fields.pop("subcategories", []),
        "inherent": inherent,
        "residual": residual,
        "treatment_decision": fields.pop("treatment_decision", ""),
        "treatment_plan": fields.pop("treatment_plan", ""),
        "acceptance": fields.pop("acceptance", None),
    }


def _risks(register: bool) -> list[dict[str, Any]]:
    risks = [
        _risk(
            1,
            "Lower approval rates for applicants under 25",
            category="fairness",
            status="treating",
            subcategories=["MEASURE 2.11", "MAP 2.3"],
            inherent=_score(4, 4),
            residual=_score(2, 4),
            treatment_decision="mitigate",
            treatment_plan="Reweigh the training data by age band.\nRe-evaluate before 4.4.",
        ),
        _risk(
            2,
            "Scores flip under small input perturbations",
            category="security_resilience",
            subcategories=["MEASURE 2.7"],
            inherent=_score(4, 5),
            residual=_score(3, 4),
        ),
        _risk(
            3,
            "Model drift after the 2026 rate change",
            status="accepted",
            inherent=_score(3, 3),
            residual=_score(2, 2),
            treatment_decision="accept",
            acceptance={
                "by": "Olivia Officer",
                "valid_until": "2027-03-31",
                "justification": "Drift monitored monthly; PSI below 0.1.",
            },
        ),
        _risk(4, "Unscored proposal from a regression check", status="proposed"),
    ]
    if register:
        risks.append(
            _risk(
                5,
                "Shelf camera misses products in low light",
                systems=["shelf-vision"],
                category="safety",
                inherent=_score(2, 2),
                residual=None,
                status="closed",
            )
        )
    return risks


def _heatmaps(risks: list[dict[str, Any]]) -> dict[str, list[list[int]]]:
    maps = {kind: [[0] * 5 for _ in range(5)] for kind in ("inherent", "residual")}
    for risk in risks:
        if risk["status"] in ("dismissed", "closed"):
            continue
        for kind, grid in maps.items():
            if (score := risk[kind]) is not None:
                grid[score["likelihood"] - 1][score["impact"] - 1] += 1
    return maps


def _system() -> dict[str, Any]:
    return {
        "slug": "credit-scoring",
        "name": "Consumer credit scoring",
        "description": "Scores consumer loan applications.\nUsed by underwriters as one input.",
        "intended_purpose": "Rank applications by the probability of repayment.",
        "owner": "engineer",
        "risk_tier": "high",
        "lifecycle_stage": "operation",
        "deployment_context": "cloud",
        "is_generative": False,
        "business_unit": "Retail lending",
        "supplier": "",
        "base_model": "",
        "model_versions": [
            {
                "version": "4.2.0",
                "status": "retired",
                "parent": None,
                "framework": "scikit-learn 1.9",
                "artifact_sha256": "a1" * 32,
                "training_datasets": ["credit-applications-2024"],
                "created_at": "2025-11-03T10:00:00+00:00",
            },
            {
                "version": "4.3.0",
                "status": "production",
                "parent": "4.2.0",
                "framework": "scikit-learn 1.9",
                "artifact_sha256": "b2" * 32,
                "training_datasets": ["credit-applications-2024"],
                "created_at": "2026-02-25T16:20:00+00:00",
            },
        ],
    }


def _datasets() -> list[dict[str, Any]]:
    return [
        {
            "slug": "credit-applications-2024",
            "name": "Credit applications 2024",
            "version": "3",
            "source": "Core banking export",
            "licence": "internal",
            "collection_start": "2024-01-01",
            "collection_end": "2024-12-31",
            "contains_personal_data": True,
            "intended_use": "Training credit scoring models.",
            "known_limitations": "Few applicants under 25; income self-reported.",
        },
        {
            "slug": "credit-holdout-2025",
            "name": "Credit holdout 2025",
            "version": "1",
            "source": "Core banking export",
            "licence": "internal",
            "collection_start": "2025-01-01",
            "collection_end": None,
            "contains_personal_data": True,
            "intended_use": "Evaluation only.",
            "known_limitations": "",
        },
    ]


def _incidents() -> list[dict[str, Any]]:
    return [
        {
            "reference": "INC-001",
            "title": "Batch of applications scored with a stale model",
            "severity": "high",
            "status": "investigating",
            "occurred_at": "2026-10-02T07:40:00+00:00",
            "detected_at": "2026-10-02T09:15:00+00:00",
            "root_cause": "A deployment pinned 4.2.0 in one region.",
            "corrective_actions": "Re-scored 312 applications; pin removed.",
            "regulator_deadline": "2026-10-05T09:15:00+00:00",
            "timeline": [
                {
                    "at": "2026-10-02T09:15:00+00:00",
                    "kind": "reported",
                    "text": "Reported by underwriting.",
                },
                {
                    "at": "2026-10-02T11:00:00+00:00",
                    "kind": "status",
                    "text": "open → investigating",
                },
            ],
        }
    ]


def _audit() -> dict[str, Any]:
    actions = [
        ("engineer", "evidence.submit", "evidence", EVIDENCE_IDS["fairness"]),
        ("engineer", "evidence.submit", "evidence", EVIDENCE_IDS["robustness"]),
        ("officer", "risk.score", "risk", "RSK-001"),
        ("officer", "risk.accept", "risk", "RSK-003"),
        ("officer", "report.request", "report", REPORT_ID),
    ]
    return {
        "head": AUDIT_HEAD,
        "excerpt": [
            {
                "sequence": 100 + n,
                "at": f"2026-11-{10 + n:02d}T12:00:00+00:00",
                "actor": actor,
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
            }
            for n, (actor, action, object_type, object_id) in enumerate(actions)
        ],
    }


def sample_snapshot(kind: str = "system", *, evidence: bool = True) -> dict[str, Any]:
    """A snapshot of report `kind` (system, register or annex-iv) as the server would build it.

    evidence=False gives a system that has none: no items, every subcategory not assessed.
    """
    register = kind == "register"
    items = _evidence() if evidence else []
    rows = _subcategories(evidence)
    risks = _risks(register)
    titles = {
        "system": "AI system compliance report",
        "register": "AI risk register report",
        "annex-iv": "Technical documentation (EU AI Act Annex IV)",
    }
    return {
        "report": {
            "id": REPORT_ID,
            "kind": kind,
            "title": titles[kind],
            "period": {"from": "2026-01-01", "to": "2026-11-20"},
            "generated_at": GENERATED_AT,
            "generator_version": "0.1.0",
            "organisation": {"name": "Acme Lending Ltd", "slug": "acme"},
            "requested_by": "officer",
            "previous_report": {
                "id": "4a9b6c1d-8f30-4b2d-9e06-1c5a8d9f3b47",
                "generated_at": "2026-08-01T09:00:00+00:00",
            },
        },
        "system": None if register else _system(),
        "posture": None if register else {"subcategories": rows, "coverage": _coverage(rows)},
        "matrix": {
            "version": 1,
            "likelihood_labels": ["Rare", "Unlikely", "Possible", "Likely", "Almost certain"],
            "impact_labels": ["Negligible", "Minor", "Moderate", "Major", "Severe"],
            "band_limits": {"low": 4, "medium": 9, "high": 16},
            "tolerance": "medium",
        },
        "heatmaps": _heatmaps(risks),
        "risks": risks,
        "evidence": items,
        "datasets": _datasets(),
        "incidents": _incidents(),
        "regressions": (
            [
                {
                    "subcategory": "MEASURE 2.11",
                    "model_version": "4.3.0",
                    "note": "age_band gap widened",
                }
            ]
            if evidence and not register
            else []
        ),
        "audit": _audit(),
    }


def hostile_snapshot(kind: str = "system") -> dict[str, Any]:
    """`sample_snapshot` with MARKUP in every user-controlled free-text field, and the
    3,000-character word in one of each kind of place (a heading, a table cell, prose).

    Only the fairness and document evidence stay, to keep the render short: they carry user
    text into a chart (group names) and into tables (document title and summary).
    """
    snapshot = copy.deepcopy(sample_snapshot(kind))
    snapshot["report"]["title"] = HOSTILE
    snapshot["report"]["requested_by"] = MARKUP
    if snapshot["system"]:
        for field in ("name", "intended_purpose", "business_unit", "supplier"):
            snapshot["system"][field] = MARKUP
        snapshot["system"]["description"] = HOSTILE
    for risk in snapshot["risks"]:
        risk["title"] = risk["statement"] = risk["treatment_plan"] = MARKUP
    snapshot["risks"][0]["title"] = HOSTILE
    for incident in snapshot["incidents"]:
        incident["title"] = incident["timeline"][0]["text"] = MARKUP
        incident["root_cause"] = HOSTILE
    for dataset in snapshot["datasets"]:
        dataset["known_limitations"] = dataset["source"] = MARKUP
    snapshot["audit"]["excerpt"][0]["actor"] = MARKUP
    kept = [e for e in snapshot["evidence"] if e["kind"] in ("fairness", "document")]
    for item in kept:
        item["submitter"] = MARKUP
        document = item["document"]
        if item["kind"] == "document":
            document["document"]["title"] = MARKUP
            document["document"]["summary"] = HOSTILE
        else:
            group = document["metrics"]["breakdowns"][0]["groups"][0]
            group["group"] = {"sex": '<script>alert("x")</script> url(http://10.0.0.1/x) &amp;'}
    snapshot["evidence"] = kept
    return snapshot
