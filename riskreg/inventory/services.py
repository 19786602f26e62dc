"""Writes to the AI inventory; each one a transaction with its audit event."""

from typing import Any

from django.db import transaction

from riskreg.audit.services import audit_append
from riskreg.inventory import selectors
from riskreg.inventory.errors import VersionTakenError
from riskreg.inventory.models import AISystem, Dataset, ModelVersion
from riskreg.lib.errors import PermissionDeniedError
from riskreg.lib.models import assign, save_changed
from riskreg.organisations.actor import Actor
from riskreg.organisations.errors import SlugTakenError
from riskreg.organisations.selectors import member_by_username

SYSTEM_FIELDS = (
    "name",
    "description",
    "intended_purpose",
    "business_unit",
    "lifecycle_stage",
    "deployment_context",
    "risk_tier",
    "is_generative",
    "supplier",
    "base_model",
)
DATASET_FIELDS = (
    "name",
    "version",
    "content_sha256",
    "source",
    "licence",
    "collection_start",
    "collection_end",
    "contains_personal_data",
    "intended_use",
    "known_limitations",
)


def _created(fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: {"before": None, "after": v} for k, v in fields.items()}


def _owner_change(actor: Actor, system: AISystem, username: str | None) -> dict[str, Any]:
    before = system.owner.user.get_username() if system.owner else None
    if username == before:
        return {}
    system.owner = (
        member_by_username(organization_id=actor.organization_id, username=username, field="owner")
        if username
        else None
    )
    return {"owner": {"before": before, "after": username}}


@transaction.atomic
def system_create(*, actor: Actor, slug: str, owner: str | None = None, **fields: Any) -> AISystem:
    """Register an AI system in the actor's organisation."""
    if actor.system_ids is not None:
        raise PermissionDeniedError(
            "A service account limited to some AI systems cannot register new ones."
        )
    if AISystem.objects.filter(organization_id=actor.organization_id, slug=slug).exists():
        raise SlugTakenError(f"slug: an AI system {slug!r} already exists", extra={"field": "slug"})
    system = AISystem(organization_id=actor.organization_id, slug=slug, **fields)
    changes = _created({"slug": slug, **fields}) | _owner_change(actor, system, owner)
    system.full_clean()
    system.save()
    audit_append(
        actor=actor,
        action="system.create",
        object_type="ai_system",
        object_id=system.pk,
        changes=changes,
    )
    _request_verdicts(system, "system")  # so that a new system shows all its outcomes
    return system


def _request_verdicts(system: AISystem, cause: str) -> None:
    from controls.services.updates import verdicts_request  # controls reads this app

    verdicts_request(organization_id=system.organization_id, system_id=system.pk, cause=cause)


@transaction.atomic
def system_update(
    *,
    actor: Actor,
    system: AISystem,
    owner: str | None = None,
    clear_owner: bool = False,
    **fields: Any,
) -> AISystem:
    """Change an AI system's descriptive fields (its slug stays)."""
    changes = assign(system, {k: v for k, v in fields.items() if k in SYSTEM_FIELDS})
    if owner is not None or clear_owner:
        changes |= _owner_change(actor, system, owner)
    save_changed(system, changes)
    if changes:
        audit_append(
            actor=actor,
            action="system.update",
            object_type="ai_system",
            object_id=system.pk,
            changes=changes,
        )
        if "risk_tier" in changes:  # a policy may set other thresholds for the tier
            _request_verdicts(system, "system")
    return system


@transaction.atomic
def model_version_create(
    *,
    actor: Actor,
    system: AISystem,
    version: str,
    training_datasets: list[str] | None = None,
    parent: str | None = None,
    **fields: Any,
) -> ModelVersion:
    """Register a model version of a system, with its training datasets and parent."""
    if system.model_versions.filter(version=version).exists():
        raise VersionTakenError(f"version: {system.slug} already has {version!r}")
    datasets = selectors.datasets_by_slugs(
        actor=actor, slugs=training_datasets or [], field="training_datasets"
    )
    # An unknown parent is bad input naming its field (400), not a missing URL object (404).
    refs = [(system.slug, parent)] if parent else []
    parents = selectors.model_versions_by_refs(actor=actor, refs=refs, field="parent")
    parent_row = parents[0] if parents else None
    mv = ModelVersion(
        organization_id=actor.organization_id,
        system=system,
        version=version,
        parent=parent_row,
        **fields,
    )
    mv.full_clean()
    mv.save()
    mv.training_datasets.set(datasets)
    changes = _created(
        {
            "system": system.slug,
            "version": version,
            "parent": parent,
            **fields,
            "training_datasets": [d.slug for d in datasets],
        }
    )
    audit_append(
        actor=actor,
        action="model_version.create",
        object_type="model_version",
        object_id=mv.pk,
        changes=changes,
    )
    _request_verdicts(system, "model_version")  # the newest version may enter the posture
    return mv


@transaction.atomic
def model_version_update(
    *, actor: Actor, model_version: ModelVersion, **fields: Any
) -> ModelVersion:
    """Change a model version's status, framework or artifact hash."""
    allowed = {k: v for k, v in fields.items() if k in ("status", "framework", "artifact_sha256")}
    changes = assign(model_version, allowed)
    save_changed(model_version, changes)
    if changes:
        audit_append(
            actor=actor,
            action="model_version.update",
            object_type="model_version",
            object_id=model_version.pk,
            changes=changes,
        )
        if "status" in changes:  # which versions are in production decides the posture
            _request_verdicts(model_version.system, "model_version")
    return model_version


@transaction.atomic
def dataset_create(*, actor: Actor, slug: str, **fields: Any) -> Dataset:
    """Register a dataset in the actor's organisation."""
    if Dataset.objects.filter(organization_id=actor.organization_id, slug=slug).exists():
        raise SlugTakenError(f"slug: a dataset {slug!r} already exists", extra={"field": "slug"})
    dataset = Dataset(organization_id=actor.organization_id, slug=slug, **fields)
    dataset.full_clean()
    dataset.save()
    audit_append(
        actor=actor,
        action="dataset.create",
        object_type="dataset",
        object_id=dataset.pk,
        changes=_created({"slug": slug, **fields}),
    )
    return dataset


@transaction.atomic
def dataset_update(*, actor: Actor, dataset: Dataset, **fields: Any) -> Dataset:
    """Change a dataset's descriptive fields (its slug stays)."""
    changes = assign(dataset, {k: v for k, v in fields.items() if k in DATASET_FIELDS})
    save_changed(dataset, changes)
    if changes:
        audit_append(
            actor=actor,
            action="dataset.update",
            object_type="dataset",
            object_id=dataset.pk,
            changes=changes,
        )
    return dataset
