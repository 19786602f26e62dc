"""Small helpers for services that change model rows."""

from typing import Any

from django.db import models
from django.utils import timezone


def assign(instance: models.Model, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Set the given attributes; return {name: {"before", "after"}} for those that changed."""
    changed: dict[str, dict[str, Any]] = {}
    for name, value in data.items():
        before = getattr(instance, name)
        if before != value:
            setattr(instance, name, value)
            changed[name] = {"before": before, "after": value}
    return changed


def save_changed(instance: models.Model, changed: dict[str, Any], *, stamp: bool = True) -> None:
    """full_clean, then save only the changed columns (plus updated_at)."""
    if not changed:
        return
    fields = list(changed)
    if stamp and hasattr(instance, "updated_at"):
        setattr(instance, "updated_at", timezone.now())  # noqa: B010 - not every model has it
        fields.append("updated_at")
    instance.full_clean()
    instance.save(update_fields=fields)


def link_label(row: models.Model) -> str:
    """How a linked row is named in audit changes: system@version, a slug, a reference code,
    else its primary key."""
    system = getattr(row, "system", None)
    if system is not None and hasattr(row, "version"):
        return f"{system.slug}@{row.version}"
    label = getattr(row, "slug", None) or getattr(row, "reference", None)
    return str(label or row.pk)


def set_links(instance: models.Model, resolved: dict[str, list[Any]]) -> dict[str, Any]:
    """Set each many-to-many link to its resolved rows; {name: {"before", "after"}} of the
    links whose labels changed."""
    changes = {}
    for name, rows in resolved.items():
        manager = getattr(instance, name)
        before = sorted(link_label(row) for row in manager.all())
        manager.set(rows)
        after = sorted(link_label(row) for row in rows)
        if before != after:
            changes[name] = {"before": before, "after": after}
    return changes


def reference_number(reference: str, prefix: str) -> int | None:
    """The number in a reference code such as RSK-001 (or the bare number); None if none.

    ASCII digits only ("²" passes isdigit() yet int() refuses it), and at most 9 of them,
    so the number fits every integer column it is compared with.
    """
    digits = reference.upper().removeprefix(prefix)
    if digits.isascii() and digits.isdigit() and len(digits) <= 9:
        return int(digits)
    return None
