"""Building blocks of the posture tests: an organisation with the full catalog, fairness
documents to taste, and the worker's verdict work run in-process."""

import copy
import json
from datetime import date
from typing import Any

from django.conf import settings

from controls.models import VerdictUpdate
from controls.services import catalog_load
from controls.services.updates import verdict_update_run
from evaluations.models import Evidence
from evaluations.services import evidence as evidence_services
from riskreg.inventory import services as inventory
from riskreg.inventory.models import AISystem
from tests.conftest import Tenant

FAIRNESS = json.loads((settings.BASE_DIR / "fixtures" / "evidence" / "fairness.json").read_text())


def set_up(acme: Tenant) -> AISystem:
    """The full catalog, a dataset, and credit-scoring 1.0 in production."""
    catalog_load()
    actor = acme.actor
    inventory.dataset_create(actor=actor, slug="credit-holdout-2025", name="Holdout")
    system = inventory.system_create(
        actor=actor, slug="credit-scoring", name="Credit scoring", owner="engineer"
    )
    inventory.model_version_create(actor=actor, system=system, version="1.0", status="production")
    drain()
    return system


def fairness(
    *,
    ratio: Any = 0.95,
    features: tuple[str, ...] = ("sex",),
    version: str = "1.0",
    effective: str = "2026-11-01",
    expiry: str | None = None,
    groups: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A fairness document with one breakdown; its demographic parity ratio is `ratio`."""
    doc = copy.deepcopy(FAIRNESS)
    doc.pop("schema_version")
    breakdown = copy.deepcopy(doc["metrics"]["breakdowns"][0])
    breakdown["features"] = list(features)
    breakdown["demographic_parity_ratio"] = ratio
    if groups is not None:
        breakdown["groups"] = groups
    if features != ("sex",):
        for group in breakdown["groups"]:
            group["group"] = {features[0]: next(iter(group["group"].values()))}
    doc["metrics"]["breakdowns"] = [breakdown]
    doc["metrics"]["sensitive_features"] = list(features)
    doc.update(
        system="credit-scoring", model_version=version, effective_date=effective, expiry_date=expiry
    )
    if expiry is None:
        doc.pop("expiry_date")
    return doc


def submit(acme: Tenant, document: dict[str, Any], *, run: bool = True) -> Evidence:
    result = evidence_services.evidence_submit(
        actor=acme.actor,
        document=document,
        provenance=evidence_services.Provenance(tool_name="pytest"),
    )
    if run:
        drain()
    return result.items[0]


def drain() -> list[VerdictUpdate]:
    """What the worker does with every pending update, in creation order."""
    pending = list(VerdictUpdate.objects.filter(state="pending").order_by("pk"))
    for update in pending:
        verdict_update_run(update_id=update.pk)
    return [VerdictUpdate.objects.get(pk=u.pk) for u in pending]


def today() -> date:
    from django.utils import timezone

    return timezone.localdate()


def bulk_performance(acme: Tenant, count: int) -> None:
    """count performance items in one submission, then the verdict work (fast: no services
    per item, as a long-lived organisation would have accumulated them)."""
    from django.utils import timezone

    from evaluations.models import Submission
    from riskreg.inventory.models import ModelVersion

    version = ModelVersion.objects.get(system__slug="credit-scoring", version="1.0")
    submission = Submission.objects.create(organization=acme.org, request_sha256="0" * 64)
    rows = [
        Evidence(
            organization=acme.org,
            submission=submission,
            kind="performance",
            schema_version="1.0",
            system=version.system,
            model_version=version,
            context="evaluation",
            effective_date=date(2026, 1, 1),
            document={
                "kind": "performance",
                "context": "evaluation",
                "metrics": {"task": "binary_classification", "scores": {"accuracy": 0.9}},
            },
            document_sha256=f"{n:064x}",
            submitter_type="system",
            submitter_label="riskreg",
            received_at=timezone.now(),
        )
        for n in range(count)
    ]
    Evidence.objects.bulk_create(rows, batch_size=500)
    from controls.services.verdicts import verdicts_refresh

    verdicts_refresh(organization_id=acme.org.pk, system_id=version.system_id, cause="test")


def regression_setup(acme: Tenant) -> None:
    """1.1 is the child of 1.0 and goes to production beside it."""
    from riskreg.inventory.selectors import model_version_get, system_get

    system = system_get(actor=acme.actor, slug="credit-scoring")
    inventory.model_version_create(
        actor=acme.actor, system=system, version="1.1", parent="1.0", status="production"
    )
    model_version_get(actor=acme.actor, system=system, version="1.1")
    drain()


def _group(name: str, tp: int, fn: int, fp: int, tn: int) -> dict[str, Any]:
    size = tp + fn + fp + tn
    return {
        "group": {"sex": name},
        "size": size,
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
        "selection_rate": round((tp + fp) / size, 6),
        "true_positive_rate": round(tp / (tp + fn), 6),
        "false_positive_rate": round(fp / (fp + tn), 6),
        "false_negative_rate": round(fn / (tp + fn), 6),
        "true_negative_rate": round(tn / (fp + tn), 6),
        "positive_predictive_value": round(tp / (tp + fp), 6),
        "accuracy": round((tp + tn) / size, 6),
        "insufficient": False,
    }


def strong_groups() -> list[dict[str, Any]]:
    return [_group("female", 900, 100, 100, 900), _group("male", 900, 100, 100, 900)]


def weak_groups() -> list[dict[str, Any]]:
    """Women's true positive rate falls from 0.90 to 0.84: still inside every threshold."""
    return [_group("female", 840, 160, 100, 900), _group("male", 900, 100, 100, 900)]
