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
