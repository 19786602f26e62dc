"""Reads of the AI inventory, scoped to the actor's organisation (and systems)."""

from typing import Any

from django.db.models import Count, QuerySet

from riskreg.inventory.models import AISystem, Dataset, ModelVersion
from riskreg.lib.errors import ForeignReferenceError, NotFoundError
from riskreg.organisations.actor import Actor


def _visible_systems(actor: Actor) -> QuerySet[AISystem]:
    systems = AISystem.objects.filter(organization_id=actor.organization_id)
    if actor.system_ids is not None:
        systems = systems.filter(pk__in=actor.system_ids)
    return systems


def system_list(*, actor: Actor) -> QuerySet[AISystem]:
    """Systems the actor may see, owner loaded, with their model-version counts."""
    return (
        _visible_systems(actor)
        .select_related("owner__user")
        .annotate(model_version_count=Count("model_versions"))
        .order_by("name", "pk")
    )


def system_get(*, actor: Actor, slug: str) -> AISystem:
    system = system_list(actor=actor).filter(slug=slug).first()
    if system is None:
        raise NotFoundError(f"No AI system {slug!r} in your organisation.")
    return system


def systems_by_slugs(*, actor: Actor, slugs: list[str], field: str) -> list[AISystem]:
    found = {s.slug: s for s in system_list(actor=actor).filter(slug__in=slugs)}
    for slug in slugs:
        if slug not in found:
            raise ForeignReferenceError.for_field(field, slug)
    return [found[s] for s in slugs]


def model_version_list(*, actor: Actor, system: AISystem) -> QuerySet[ModelVersion]:
    return (
        ModelVersion.objects.filter(organization_id=actor.organization_id, system=system)
        .select_related("system", "parent")
        .prefetch_related("training_datasets")
        .order_by("created_at", "pk")
    )


def model_version_get(*, actor: Actor, system: AISystem, version: str) -> ModelVersion:
    found = model_version_list(actor=actor, system=system).filter(version=version).first()
    if found is None:
        raise NotFoundError(f"No model version {version!r} of {system.slug!r}.")
    return found


def model_versions_by_refs(
    *, actor: Actor, refs: list[tuple[str, str]], field: str
) -> list[ModelVersion]:
    """Resolve (system slug, version) pairs among the systems the actor may see."""
    visible = ModelVersion.objects.filter(system__in=_visible_systems(actor))
    found = []
    for slug, version in refs:
        match = visible.filter(system__slug=slug, version=version).first()
        if match is None:
            raise ForeignReferenceError.for_field(field, f"{slug}@{version}")
        found.append(match)
    return found


def inventory_links(*, actor: Actor, links: dict[str, Any]) -> dict[str, list[Any]]:
    """Resolve the inventory links a record names (systems, model versions as
    {system, version}, datasets); only the kinds given; an unknown one is a 400 naming it."""
    resolved: dict[str, list[Any]] = {}
    if links.get("systems") is not None:
        resolved["systems"] = systems_by_slugs(actor=actor, slugs=links["systems"], field="systems")
    if links.get("model_versions") is not None:
        refs = [(r["system"], r["version"]) for r in links["model_versions"]]
        resolved["model_versions"] = model_versions_by_refs(
            actor=actor, refs=refs, field="model_versions"
        )
    if links.get("datasets") is not None:
        resolved["datasets"] = datasets_by_slugs(
            actor=actor, slugs=links["datasets"], field="datasets"
        )
    return resolved


def dataset_list(*, actor: Actor) -> QuerySet[Dataset]:
    return Dataset.objects.filter(organization_id=actor.organization_id).order_by("name", "pk")


def dataset_get(*, actor: Actor, slug: str) -> Dataset:
    dataset = dataset_list(actor=actor).filter(slug=slug).first()
    if dataset is None:
        raise NotFoundError(f"No dataset {slug!r} in your organisation.")
    return dataset


def datasets_by_slugs(*, actor: Actor, slugs: list[str], field: str) -> list[Dataset]:
    found = {d.slug: d for d in dataset_list(actor=actor).filter(slug__in=slugs)}
    for slug in slugs:
        if slug not in found:
            raise ForeignReferenceError.for_field(field, slug)
    return [found[s] for s in slugs]


def dataset_model_versions(*, actor: Actor, dataset: Dataset) -> QuerySet[ModelVersion]:
    """Model versions trained on the dataset, system and parent loaded."""
    return (
        ModelVersion.objects.filter(
            organization_id=actor.organization_id,
            system__in=_visible_systems(actor),
            training_datasets=dataset,
        )
        .select_related("system", "parent")
        .order_by("system__name", "created_at", "pk")
    )
