"""The demo organisation's evidence and incidents, written through services.

Idempotent like the rest of the demo: each evidence item carries a fixed Idempotency-Key
and is looked up by it first; incidents are looked up by title.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluations.models import Evidence, EvidenceState
from evaluations.selectors import evidence as evidence_selectors
from evaluations.selectors import incidents as incident_selectors
from evaluations.services import evidence as evidence_services
from evaluations.services import incidents as incident_services
from evaluations.services.evidence import Provenance
from riskreg.organisations import selectors as org_selectors
from riskreg.organisations.actor import Actor
from riskreg.risks.selectors import register as risk_selectors

EXAMPLES = settings.BASE_DIR / "fixtures" / "evidence"
CREDIT_CI = "https://github.com/demo-bank/credit-scoring/actions/runs/"
STORES_CI = "https://gitlab.demo-bank.example/stores/shelf-vision/-/pipelines/"


def _example(kind: str, effective: str, expiry: str | None, **changes: Any) -> dict[str, Any]:
    """The published example of a kind (it already names the demo's records), adjusted.

    The demo fixes every date itself, so that each item's state (current, expired) stays
    what the demo means to show when an example is edited.
    """
    document: dict[str, Any] = json.loads((EXAMPLES / f"{kind}.json").read_text("utf-8"))
    # The demo uploads its own files, and corrections name demo items, not the example's.
    for name in ("attachments", "supersedes"):
        document.pop(name, None)
    return {**document, "effective_date": effective, "expiry_date": expiry, **changes}


def _paper(
    *,
    system: str | None,
    model_version: str | None = None,
    effective: str,
    expiry: str | None = None,
    **document: str,
) -> dict[str, Any]:
    """A document-kind item: what was reviewed, by whom and when; its file is attached."""
    return {
        "kind": "document",
        "system": system,
        "model_version": model_version,
        "context": "evaluation",
        "effective_date": effective,
        "expiry_date": expiry,
        "document": document,
    }


POLICY_MD = """# Responsible use of AI systems

Version 2.1. Owner: Head of Compliance. Reviewed every year.

1. Every AI system is in the register, with an owner, before it touches real data.
2. A model version reaches production only with current evidence of its performance,
   fairness (where people are scored) and robustness, reviewed by a compliance officer.
3. Production systems are monitored; monitoring evidence expires after one quarter.
4. Incidents and near misses are reported in the register on the day they are found.
"""
INCIDENT_MD = """# AI incident response procedure

1. Whoever notices harm, or a near miss, reports it in the register at once.
2. The system owner investigates within one working day and records the root cause.
3. Compliance decides within 24 hours whether the regulator must be notified; if so,
   the notification leaves within 72 hours of detection.
4. Only a compliance officer closes an incident, once corrective actions are recorded.
"""
MODEL_CARD_MD = """# Model card: retail credit scoring 4.3.0

- Model: gradient-boosted trees (scikit-learn 1.9), 412 trees, depth 6.
- Intended use: rank consumer loan applications for manual review; never auto-decline.
- Training data: credit-applications-2024 (48,210 applications).
- Evaluation: credit-holdout-2025, 2,000 applications; ROC AUC 0.84.
- Known limitations: under-25 applicants are under-represented (11 %); their true
  positive rate is 13 points below the rest (see the fairness evidence).
"""


@dataclass(frozen=True)
class DemoEvidence:
    key: str  # the Idempotency-Key: a rerun finds the item first written under it
    submitter: str  # "engineer", or "ci" for the CI service account
    document: dict[str, Any]
    provenance: Provenance
    files: tuple[tuple[str, str], ...] = ()  # (file name, markdown text)
    supersedes: str | None = None  # the key of the item this one corrects
    withdrawn: str | None = None  # the officer's reason, for an item withdrawn later


def _ci(run: str, commit: str, tool: str, version: str, **labels: str) -> Provenance:
    return Provenance(
        tool_name=tool,
        tool_version=version,
        commit_sha=commit,
        ci_run_url=CREDIT_CI + run,
        labels={"pipeline": "release-gate", **labels},
    )


EVIDENCE: list[DemoEvidence] = [
    DemoEvidence(
        "demo-fairness-credit-4.3.0",
        "ci",
        _example("fairness", "2026-10-05", "2027-04-05"),
        _ci("11873345012", "4b1e9c27a0d35f8e6c2b7a94d1f03e5c8a6b2d71", "fairlearn", "0.15.0"),
    ),
    # A correction: the first calibration report was computed on the training split.
    DemoEvidence(
        "demo-calibration-credit-4.3.0-train-split",
        "ci",
        _example(
            "calibration",
            "2026-10-05",
            None,
            datasets=[{"slug": "credit-applications-2024", "split": "train"}],
        ),
        _ci("11873345012", "4b1e9c27a0d35f8e6c2b7a94d1f03e5c8a6b2d71", "scikit-learn", "1.9.1"),
    ),
    DemoEvidence(
        "demo-calibration-credit-4.3.0",
        "ci",
        _example("calibration", "2026-10-07", None),
        _ci("11902281177", "c81f0d5e2a7b49c3e6d08f1a25b7c94e3d6a0f18", "scikit-learn", "1.9.1"),
        supersedes="demo-calibration-credit-4.3.0-train-split",
    ),
    DemoEvidence(
        "demo-data-quality-credit",
        "ci",
        _example("data_quality", "2026-10-01", "2027-10-01"),
        _ci("11840067315", "9e3a71c4b2d8f05a6e1c3b7d9f2a4c6e8b0d1f35", "evidently", "0.7.6"),
    ),
    DemoEvidence(
        "demo-monitoring-credit-4.2.0-2026-w47",
        "ci",
        {
            "kind": "performance",
            "system": "credit-scoring",
            "model_version": "4.2.0",
            "context": "monitoring",
            "effective_date": "2026-11-23",
            "expiry_date": "2027-02-23",
            "metrics": {
                "task": "binary_classification",
                "size": 3120,
                "scores": {"roc_auc": 0.838, "accuracy": 0.804, "log_loss": 0.442},
            },
        },
        _ci(
            "12077420958",
            "0d6b2f94e1a3c57b8d09e4f6a2c1b35d7e9f0a84",
            "mlflow",
            "3.1.4",
            pipeline="weekly-monitoring",
            window="2026-W47",
        ),
    ),
    DemoEvidence(
        "demo-performance-credit-4.3.0-leaky-split",
        "engineer",
        {
            "kind": "performance",
            "system": "credit-scoring",
            "model_version": "4.3.0",
            "context": "evaluation",
            "datasets": [{"slug": "credit-applications-2024", "split": "validation"}],
            "effective_date": "2026-09-28",
            "metrics": {
                "task": "binary_classification",
                "size": 4821,
                "scores": {"roc_auc": 0.962, "accuracy": 0.917},
            },
        },
        Provenance(
            tool_name="scikit-learn",
            tool_version="1.9.1",
            commit_sha="2a7c5e9b0f1d3a6c8e4b7d2f9a0c5e1b3d8f6a47",
            labels={"notebook": "evaluate-4.3.0.ipynb"},
        ),
        withdrawn="The validation split shares rows with the training data, so these scores "
        "are inflated. Use the hold-out evaluation instead.",
    ),
    DemoEvidence(
        "demo-robustness-shelf-2.0",
        "engineer",
        _example("robustness", "2026-09-14", None),
        Provenance(
            tool_name="adversarial-robustness-toolbox",
            tool_version="1.20.1",
            commit_sha="e5f8a2c7d1b94e06a3f7c2d8b5e1a9f4c6d0b273",
            ci_run_url=STORES_CI + "48213",
        ),
    ),
    DemoEvidence(
        "demo-efficiency-shelf-2.0-monitoring",
        "engineer",
        # Monitoring of the first quarter: expired at the end of June, as the policy says.
        _example("efficiency", "2026-03-31", "2026-06-30"),
        Provenance(
            tool_name="trtexec",
            tool_version="10.3.0",
            commit_sha="7c0e4a9f2b6d81e3c5a7f0b2d4e6a8c1f3b5d792",
            ci_run_url=STORES_CI + "47102",
            labels={"store": "berlin-mitte-014"},
        ),
    ),
    # Withdrawn by the browser test tests/browser/test_evidence.py (the officer's case).
    # The demo data is shared by the whole browser session: nothing else may use this item,
    # the only performance evidence of shelf-vision.
    DemoEvidence(
        "demo-performance-shelf-2.0-int8",
        "engineer",
        {
            "kind": "performance",
            "system": "shelf-vision",
            "model_version": "2.0-int8",
            "context": "evaluation",
            "datasets": [{"slug": "shelf-images", "split": "test"}],
            "effective_date": "2026-09-15",
            "metrics": {
                "task": "image-classification",
                "size": 5000,
                "scores": {"accuracy": 0.9287, "f1": 0.9241},
            },
        },
        Provenance(
            tool_name="onnxruntime",
            tool_version="1.22.0",
            commit_sha="b3d6f9a1c4e7028b5d3f6a9c2e5b8d1f4a7c0e36",
            ci_run_url=STORES_CI + "48219",
        ),
    ),
    DemoEvidence(
        "demo-performance-support-0.9",
        "engineer",
        _example("performance", "2026-01-28", None),
        Provenance(
            tool_name="lm-evaluation-harness",
            tool_version="0.4.8",
            commit_sha="f1a4c7e0b3d6925a8c1e4f7b0d3a6c9e2f5b8d04",
        ),
    ),
    DemoEvidence(
        "demo-policy-ai-use",
        "engineer",
        _example("document", "2026-01-15", "2027-01-15", context="evaluation"),
        Provenance(labels={"register": "policies"}),
        files=(("ai-use-policy.md", POLICY_MD),),
    ),
    DemoEvidence(
        "demo-policy-incident-response",
        "engineer",
        _paper(
            system=None,
            effective="2026-02-09",
            expiry="2027-02-09",
            document_type="incident_response_procedure",
            title="AI incident response procedure",
            summary="Who reports, who investigates, when the regulator is told, and who closes.",
            version="1.3",
            reviewed_by="Head of Compliance",
            reviewed_on="2026-02-03",
        ),
        Provenance(labels={"register": "policies"}),
        files=(("incident-response.md", INCIDENT_MD),),
    ),
    DemoEvidence(
        "demo-model-card-credit-4.3.0",
        "engineer",
        _paper(
            system="credit-scoring",
            model_version="4.3.0",
            effective="2026-10-09",
            document_type="model_card",
            title="Model card: retail credit scoring 4.3.0",
            summary="What 4.3.0 is for, what it was trained and evaluated on, and where it "
            "falls short.",
            version="4.3.0-1",
            reviewed_by="officer",
            reviewed_on="2026-10-09",
        ),
        Provenance(
            tool_name="huggingface_hub",
            tool_version="0.34.4",
            commit_sha="c81f0d5e2a7b49c3e6d08f1a25b7c94e3d6a0f18",
        ),
        files=(("model-card-4.3.0.md", MODEL_CARD_MD),),
    ),
]


@dataclass(frozen=True)
class _Actors:
    engineer: Actor
    officer: Actor
    ci: Actor

    def of(self, submitter: str) -> Actor:
        return self.ci if submitter == "ci" else self.engineer


def _member_actor(actor: Actor, username: str) -> Actor:
    membership = org_selectors.membership_get(
        organization_id=actor.organization_id, username=username
    )
    assert membership is not None  # _members added it
    return org_selectors.actor_for_membership(membership)


def _actors(actor: Actor) -> _Actors:
    # The CI service account acts as its tokens do: its role, limited to its systems.
    token = org_selectors.token_list(actor=actor).filter(service_account__slug="ci").first()
    assert token is not None  # _tokens issued it
    return _Actors(
        engineer=_member_actor(actor, "engineer"),
        officer=_member_actor(actor, "officer"),
        ci=org_selectors.actor_for_token(token),
    )


def _evidence_item(actors: _Actors, spec: DemoEvidence, found: dict[str, Evidence]) -> Evidence:
    submitter = actors.of(spec.submitter)
    earlier = evidence_selectors.evidence_list(actor=submitter).filter(
        submission__idempotency_key=spec.key
    )
    if (item := earlier.first()) is not None:
        # Found first rather than replayed: a later edit of an example file must not turn
        # a rerun into an idempotency conflict.
        return item
    document = dict(spec.document)
    if spec.supersedes:
        document["supersedes"] = str(found[spec.supersedes].uid)
    uploads = [
        SimpleUploadedFile(name, text.encode(), content_type="text/markdown")
        for name, text in spec.files
    ]
    submitted = evidence_services.evidence_submit(
        actor=submitter,
        document=document,
        provenance=spec.provenance,
        uploads=uploads,
        idempotency_key=spec.key,
    )
    return submitted.items[0]


def seed_evidence(actor: Actor) -> None:
    """Evidence of every kind, a correction, a withdrawal and organisation-wide policies."""
    actors = _actors(actor)
    found: dict[str, Evidence] = {}
    for spec in EVIDENCE:
        item = found[spec.key] = _evidence_item(actors, spec, found)
        state = evidence_selectors.evidence_state(item)
        if spec.withdrawn and state != EvidenceState.WITHDRAWN:
            evidence_services.evidence_withdraw(
                actor=actors.officer, evidence=item, reason=spec.withdrawn
            )


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _risk_reference(actor: Actor, title: str) -> str:
    risk = risk_selectors.risk_list(actor=actor).filter(title=title).first()
    assert risk is not None  # _risks added it
    return risk.reference


def _closed_incident(actors: _Actors, actor: Actor) -> None:
    """A batch scored under-25 applicants too low: investigated, fixed, closed by an officer."""
    title = "Batch rerun scored under-25 applicants far too low"
    if incident_selectors.incident_list(actor=actor).filter(title=title).exists():
        return
    engineer, officer = actors.engineer, actors.officer
    incident = incident_services.incident_create(
        actor=engineer,
        title=title,
        description="The nightly rerun of 4.2.0 on 14 October scored 212 applicants under 25 "
        "below the review threshold; the usual share is under a third of that.",
        severity="high",
        occurred_at=_at("2026-10-14T02:10"),
        detected_at=_at("2026-10-14T08:45"),
        systems=["credit-scoring"],
        model_versions=[{"system": "credit-scoring", "version": "4.2.0"}],
        risks=[_risk_reference(actor, "Unequal approval rates across age groups")],
        harmed_parties="212 applicants whose applications waited two extra days for review.",
    )
    incident_services.incident_transition(
        actor=engineer, incident=incident, status="investigating", note="Paused the rerun job."
    )
    incident_services.incident_note(
        actor=engineer,
        incident=incident,
        text="The employment-length column is missing from the rerun's input file.",
    )
    incident_services.incident_update(
        actor=engineer,
        incident=incident,
        root_cause="A schema change in the origination export renamed the employment-length "
        "column; the rerun filled it with zero, which the model reads as no work history.",
        corrective_actions="Schema check on every input file; rerun of the batch; the 212 "
        "applications reviewed by hand the same day.",
    )
    incident_services.incident_transition(
        actor=engineer, incident=incident, status="mitigated", note="Batch rescored and reviewed."
    )
    incident_services.incident_transition(
        actor=officer,
        incident=incident,
        status="closed",
        note="Every affected application was reviewed by hand; none was declined for the error.",
    )


def _open_incident(actors: _Actors, actor: Actor) -> None:
    """A privacy incident under investigation, with the regulator's 72 hours running."""
    title = "Drafted reply quoted another customer's order number"
    if incident_selectors.incident_list(actor=actor).filter(title=title).exists():
        return
    incident = incident_services.incident_create(
        actor=actors.engineer,
        title=title,
        description="An agent noticed that a drafted reply named an order number and "
        "postcode belonging to a different customer. The reply was not sent.",
        severity="high",
        occurred_at=_at("2026-11-27T15:52"),
        detected_at=_at("2026-11-27T16:40"),
        systems=["support-assistant"],
        model_versions=[{"system": "support-assistant", "version": "0.9"}],
        risks=[_risk_reference(actor, "Personal data echoed from transcripts")],
        harmed_parties="One customer whose order number and postcode were shown to an agent.",
        regulator_notification_required=True,
        regulator_deadline=_at("2026-11-30T16:40"),
        external_reference="DPO-2026-031",
    )
    incident_services.incident_transition(
        actor=actors.officer,
        incident=incident,
        status="investigating",
        note="Retrieval of transcripts switched off until the cause is known.",
    )
    incident_services.incident_note(
        actor=actors.engineer,
        incident=incident,
        text="The retrieved transcript was not pseudonymised: it predates the 2025-06 export.",
    )


def seed_incidents(actor: Actor) -> None:
    """A closed incident with its whole timeline, and one under investigation."""
    actors = _actors(actor)
    _closed_incident(actors, actor)
    _open_incident(actors, actor)
