"""What the verdict engine reads for one scope: current evidence, facts, baselines.

Everything comes through the other apps' selectors; the rows become the engine's plain
values (controls.engine.decide.Item and Facts) here, so the engine stays free of Django.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from controls.engine.decide import Facts, Item
from evaluations.selectors.evidence import evidence_current_documents
from evaluations.selectors.incidents import incident_list
from riskreg.inventory.models import AISystem, ModelStatus, ModelVersion
from riskreg.organisations.actor import Actor
from riskreg.risks.selectors.workflow import acceptances_in_force_by_system

HANDLED = ("mitigated", "closed")


@dataclass
class ScopeInputs:
    """Current evidence of an organisation, split the ways the engine needs it."""

    organisation: list[Item] = field(default_factory=list)  # items without a system
    by_system: dict[int, list[Item]] = field(default_factory=lambda: defaultdict(list))
    by_version: dict[int, list[Item]] = field(default_factory=lambda: defaultdict(list))
    incidents: list[tuple[str, list[int], bool, datetime | None]] = field(default_factory=list)
    acceptances: dict[int, list[str]] = field(default_factory=dict)


def _item(row: dict[str, Any]) -> Item:
    document = row["document"]
    datasets = tuple(
        (str(d.get("slug")), str(d.get("split") or "")) for d in document.get("datasets") or ()
    )
    return Item(
        uid=str(row["uid"]),
        kind=row["kind"],
        context=row["context"],
        effective_date=row["effective_date"],
        received_at=row["received_at"],
        document=document,
        datasets=datasets,
        expiry_date=row["expiry_date"],
        model_version=row["model_version__version"],
    )


def scope_inputs(*, organization_id: int, system: AISystem | None = None) -> ScopeInputs:
    """Current evidence (of one system, plus the organisation's own), incidents and
    acceptances, in a fixed number of queries whatever their count."""
    actor = Actor.system(organization_id)
    found = ScopeInputs()
    for row in evidence_current_documents(organization_id=organization_id, system=system):
        item = _item(row)
        if row["system_id"] is None:
            found.organisation.append(item)
        elif row["model_version_id"] is None:
            found.by_system[row["system_id"]].append(item)
        else:
            found.by_version[row["model_version_id"]].append(item)
    for incident in incident_list(actor=actor):
        handled = incident.status in HANDLED
        systems = [s.pk for s in incident.systems.all()]
        deadline = None if handled else incident.regulator_deadline
        found.incidents.append((incident.reference, systems, handled, deadline))
    found.acceptances = acceptances_in_force_by_system(organization_id=organization_id)
    return found


def facts_for(
    inputs: ScopeInputs, *, items: list[Item], system_id: int | None, now: datetime | None = None
) -> tuple[Facts, datetime | None]:
    """The presence facts of one scope, and the next incident deadline that changes them.

    Organisation-wide documents count for every system too: a response procedure written
    once covers them all.
    """
    now = now or timezone.now()
    documents: dict[str, list[Item]] = defaultdict(list)
    evidence: dict[str, list[Item]] = defaultdict(list)
    for item in [*items, *(inputs.organisation if system_id is not None else ())]:
        if item.kind == "document":
            documents[str(item.document["document"]["document_type"])].append(item)
        else:
            evidence[item.kind].append(item)
    monitoring = tuple(i for i in items if i.context == "monitoring" and i.kind != "document")
    handled, overdue, upcoming = [], [], []
    for reference, systems, was_handled, deadline in inputs.incidents:
        if system_id is not None and system_id not in systems:
            continue
        if was_handled:
            handled.append(reference)
        elif deadline is not None and deadline <= now:
            overdue.append(reference)
        elif deadline is not None:
            upcoming.append(deadline)
    facts = Facts(
        documents={k: tuple(v) for k, v in documents.items()},
        monitoring=monitoring,
        evidence={k: tuple(v) for k, v in evidence.items()},
        incidents_handled=tuple(handled),
        incidents_overdue=tuple(overdue),
        acceptances=tuple(
            inputs.acceptances.get(system_id, ())
            if system_id is not None
            else sorted({r for refs in inputs.acceptances.values() for r in refs})
        ),
    )
    return facts, min(upcoming, default=None)


def versions_in_scope(system: AISystem) -> list[ModelVersion]:
    """The versions in production, or the newest one when none is (docs/posture.md)."""
    versions = sorted(system.model_versions.all(), key=lambda v: (v.created_at, v.pk))
    live = [v for v in versions if v.status == ModelStatus.PRODUCTION]
    return live or versions[-1:]


def baseline_for(version: ModelVersion) -> ModelVersion | None:
    """The version a version is compared with: its parent, else the one created before it."""
    if version.parent_id is not None:
        return version.parent
    earlier = [
        v
        for v in version.system.model_versions.all()
        if (v.created_at, v.pk) < (version.created_at, version.pk)
    ]
    return max(earlier, key=lambda v: (v.created_at, v.pk), default=None)
