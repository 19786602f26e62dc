"""The demo organisation, written through services so it has an audit trail.

Idempotent: each piece is looked up first and created only when missing. Every
feature adds itself here, so `make run` shows the product as it stands.
"""

from datetime import date
from typing import Any

from controls.services import catalog_load
from controls.services.updates import verdict_updates_run_pending
from riskreg.inventory import selectors as inventory_selectors
from riskreg.inventory import services as inventory
from riskreg.inventory.models import AISystem
from riskreg.organisations import selectors as org_selectors
from riskreg.organisations import services as orgs
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Organization
from riskreg.organisations.roles import Role
from riskreg.risks.selectors import register as risk_selectors
from riskreg.risks.services import register as risks
from riskreg.web.demo_assessments import seed_assessments
from riskreg.web.demo_evidence import seed_evidence, seed_incidents
from riskreg.web.demo_models import seed_models
from riskreg.web.demo_notifications import seed_notifications
from riskreg.web.demo_posture import seed_posture
from riskreg.web.demo_reports import seed_reports
from riskreg.web.demo_risks import seed_risk_workflow

PASSWORD = "riskreg-demo"
USERS = {
    "admin": Role.ADMIN,
    "officer": Role.COMPLIANCE_OFFICER,
    "engineer": Role.ENGINEER,
    "auditor": Role.AUDITOR,
}

DATASETS: list[dict[str, Any]] = [
    {
        "slug": "credit-applications-2024",
        "name": "Credit applications 2024",
        "version": "2024.12",
        "source": "Core banking loan origination exports",
        "licence": "internal",
        "collection_start": date(2024, 1, 1),
        "collection_end": date(2024, 12, 31),
        "contains_personal_data": True,
        "intended_use": "Training and validating credit scoring.",
        "known_limitations": "Applicants under 21 are rare; self-employed income is self-reported.",
    },
    {
        "slug": "credit-holdout-2025",
        "name": "Credit hold-out 2025 Q1",
        "version": "2025.03",
        "source": "Loan origination exports, held out from training",
        "licence": "internal",
        "collection_start": date(2025, 1, 1),
        "collection_end": date(2025, 3, 31),
        "contains_personal_data": True,
        "intended_use": "Evaluation only.",
    },
    {
        "slug": "shelf-images",
        "name": "Retail shelf images",
        "version": "3",
        "source": "Store cameras, consented sites",
        "licence": "internal",
        "contains_personal_data": False,
        "intended_use": "Training the shelf product classifier.",
        "known_limitations": "Few night-time images; two store layouts dominate.",
    },
    {
        "slug": "support-transcripts",
        "name": "Support chat transcripts",
        "version": "2025-06",
        "source": "Customer support tool, pseudonymised",
        "licence": "internal",
        "contains_personal_data": True,
        "intended_use": "Retrieval corpus and evaluation prompts.",
    },
]

SYSTEMS: list[dict[str, Any]] = [
    {
        "slug": "credit-scoring",
        "name": "Retail credit scoring",
        "owner": "engineer",
        "description": "Gradient-boosted model scoring consumer loan applications.",
        "intended_purpose": "Rank applications for manual credit review; never auto-decline.",
        "business_unit": "Retail lending",
        "lifecycle_stage": "operation",
        "deployment_context": "cloud",
        "risk_tier": "high",
    },
    {
        "slug": "shelf-vision",
        "name": "Shelf product classifier",
        "owner": "engineer",
        "description": "Image classifier recognising products on store shelves.",
        "intended_purpose": "Stock-level alerts for store staff.",
        "business_unit": "Stores",
        "lifecycle_stage": "deployment",
        "deployment_context": "edge",
        "risk_tier": "limited",
    },
    {
        "slug": "support-assistant",
        "name": "Customer support assistant",
        "owner": "officer",
        "description": "Generative assistant drafting answers to customer questions.",
        "intended_purpose": "Draft replies that an agent reviews before sending.",
        "business_unit": "Customer service",
        "lifecycle_stage": "validation",
        "deployment_context": "cloud",
        "risk_tier": "limited",
        "is_generative": True,
        "supplier": "Hosted LLM provider",
        "base_model": "open-weights 8B instruct model",
    },
]

VERSIONS: list[dict[str, Any]] = [
    {
        "system": "credit-scoring",
        "version": "4.2.0",
        "status": "production",
        "framework": "scikit-learn",
        "training_datasets": ["credit-applications-2024"],
    },
    {
        "system": "credit-scoring",
        "version": "4.3.0",
        "status": "staging",
        "framework": "scikit-learn",
        "training_datasets": ["credit-applications-2024"],
        "parent": "4.2.0",
    },
    {
        "system": "shelf-vision",
        "version": "2.0",
        "status": "production",
        "framework": "pytorch",
        "training_datasets": ["shelf-images"],
    },
    {
        "system": "shelf-vision",
        "version": "2.0-int8",
        "status": "production",
        "framework": "onnx",
        "training_datasets": ["shelf-images"],
        "parent": "2.0",
    },
    {
        "system": "support-assistant",
        "version": "0.9",
        "status": "staging",
        "framework": "hosted-llm",
        "training_datasets": ["support-transcripts"],
    },
]

RISKS: list[dict[str, Any]] = [
    {
        "title": "Unequal approval rates across age groups",
        "statement": "Applicants under 25 may be ranked lower than equally creditworthy "
        "older applicants.",
        "category": "fairness",
        "owner": "officer",
        "systems": ["credit-scoring"],
        "datasets": ["credit-applications-2024"],
        "subcategories": ["MEASURE 2.11", "MAP 2.3"],
        "status": "treating",
    },
    {
        "title": "Accuracy loss in the quantised edge build",
        "statement": "The int8 build may misclassify more products under poor lighting "
        "than the float model.",
        "category": "validity_reliability",
        "owner": "engineer",
        "systems": ["shelf-vision"],
        "model_versions": [{"system": "shelf-vision", "version": "2.0-int8"}],
        "subcategories": ["MEASURE 2.5"],
        "source": "assessment",
        "status": "proposed",
    },
    {
        "title": "Invented policy details in drafted replies",
        "statement": "The assistant may state refund terms that do not exist, and an "
        "agent may send them.",
        "category": "validity_reliability",
        "owner": "officer",
        "systems": ["support-assistant"],
        "subcategories": ["MEASURE 2.5", "MANAGE 2.2"],
        "status": "open",
    },
    {
        "title": "Personal data echoed from transcripts",
        "statement": "Retrieved transcripts may leak another customer's details into a reply.",
        "category": "privacy",
        "owner": "officer",
        "systems": ["support-assistant"],
        "datasets": ["support-transcripts"],
        "subcategories": ["MEASURE 2.10"],
        "status": "open",
    },
]
PATHS = {"open": ["open"], "treating": ["open", "treating"], "proposed": []}


def _org(slug: str, name: str) -> Organization:
    return org_selectors.organization_get(slug=slug) or orgs.organization_create(
        name=name, slug=slug
    )


def _members(actor: Actor, roles: dict[str, Role]) -> None:
    for username, role in roles.items():
        if not org_selectors.membership_get(
            organization_id=actor.organization_id, username=username
        ):
            # example.com addresses: the console mail backend shows the notifications.
            orgs.membership_add(
                actor=actor,
                username=username,
                role=role,
                password=PASSWORD,
                email=f"{username}@example.com",
            )


def _system(actor: Actor, slug: str) -> AISystem | None:
    return inventory_selectors.system_list(actor=actor).filter(slug=slug).first()


def _inventory(actor: Actor) -> None:
    for d in DATASETS:
        if not inventory_selectors.dataset_list(actor=actor).filter(slug=d["slug"]).exists():
            inventory.dataset_create(actor=actor, **d)
    for s in SYSTEMS:
        if _system(actor, s["slug"]) is None:
            inventory.system_create(actor=actor, **s)
    for v in VERSIONS:
        fields = dict(v)
        system = inventory_selectors.system_get(actor=actor, slug=fields.pop("system"))
        versions = inventory_selectors.model_version_list(actor=actor, system=system)
        if not versions.filter(version=v["version"]).exists():
            inventory.model_version_create(actor=actor, system=system, **fields)


def _risks(actor: Actor) -> None:
    titles = set(risk_selectors.risk_list(actor=actor).values_list("title", flat=True))
    for r in RISKS:
        fields = dict(r)
        status = fields.pop("status")
        if r["title"] in titles:
            continue
        risk = risks.risk_create(actor=actor, **fields)
        for step in PATHS[status]:
            risk = risks.risk_transition(actor=actor, risk=risk, status=step)


def _service_account(actor: Actor) -> None:
    if not org_selectors.service_account_list(actor=actor).filter(slug="ci").exists():
        system = inventory_selectors.system_get(actor=actor, slug="credit-scoring")
        orgs.service_account_create(
            actor=actor,
            name="CI pipeline (credit scoring)",
            slug="ci",
            role=Role.ENGINEER,
            system_ids=[system.pk],
        )


# (owner: username or service-account slug, token name, revoked): what the settings pages show.
# The keys are thrown away: nobody can use these tokens, they only fill the lists.
TOKENS = [
    ("engineer", "laptop", False),
    ("engineer", "old laptop", True),
    ("ci", "github-actions", False),
]


def _tokens(actor: Actor) -> None:
    for owner, name, revoked in TOKENS:
        membership = org_selectors.membership_get(
            organization_id=actor.organization_id, username=owner
        )
        account = org_selectors.service_account_list(actor=actor).filter(slug=owner).first()
        existing = org_selectors.token_list(actor=actor).filter(
            name=name, membership=membership, service_account=account
        )
        if existing.exists():
            continue
        token, _ = orgs.token_create(
            actor=actor, name=name, membership=membership, service_account=account
        )
        if revoked:
            orgs.token_revoke(actor=actor, token=token, reason="replaced by a new laptop")


def seed_demo() -> None:
    """Create (or complete) the demo organisation and a second one to switch to."""
    catalog_load()  # the demo's risks cite AI RMF subcategories
    demo = _org("demo", "Demo Bank")
    actor = Actor.system(demo.pk)
    _members(actor, USERS)
    _inventory(actor)
    _risks(actor)
    seed_risk_workflow(actor)
    _service_account(actor)
    _tokens(actor)
    seed_evidence(actor)
    seed_assessments(actor)
    seed_models(actor)  # before the posture and reports, which cite what it computes
    seed_incidents(actor)
    seed_notifications(actor)
    seed_posture(actor)
    seed_reports(actor)
    # A second organisation, so that organisation switching and tenancy show.
    other = _org("northwind", "Northwind Health")
    other_actor = Actor.system(other.pk)
    _members(other_actor, USERS)
    if _system(other_actor, "triage-assistant") is None:
        inventory.system_create(
            actor=other_actor,
            slug="triage-assistant",
            name="Patient triage assistant",
            description="Suggests urgency levels for incoming patient messages.",
            lifecycle_stage="design",
            risk_tier="high",
            owner="engineer",
        )
    # Its one system was just registered: decide its verdicts too before a worker starts.
    verdict_updates_run_pending(organization_id=other.pk)
