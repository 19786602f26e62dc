"""Loading the AI RMF catalog from fixtures/ (idempotent)."""

from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction

from controls.models import Category, Function, Scope, Subcategory

CATALOG_PATH = settings.BASE_DIR / "fixtures" / "catalog" / "ai-rmf-1.0.yaml"


def catalog_read(path: Path = CATALOG_PATH) -> dict[str, Any]:
    """Parse the catalog file and check its shape; raises ValueError naming the problem."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    functions = {f["id"] for f in data["functions"]}
    categories = {c["id"] for c in data["categories"]}
    for cat in data["categories"]:
        if cat["function"] not in functions:
            raise ValueError(f"category {cat['id']!r}: unknown function {cat['function']!r}")
    for sub in data["subcategories"]:
        if sub["category"] not in categories:
            raise ValueError(f"subcategory {sub['id']!r}: unknown category {sub['category']!r}")
        if sub["scope"] not in Scope.values:
            raise ValueError(f"subcategory {sub['id']!r}: bad scope {sub['scope']!r}")
    return data


@transaction.atomic
def catalog_load(path: Path = CATALOG_PATH) -> int:
    """Create or update every catalog row from the file; returns the subcategory count.

    The catalog is shared by all organisations and is reference data, so it has no
    audit chain of its own; risks and verdicts that cite it are audited.
    """
    data = catalog_read(path)
    for pos, f in enumerate(data["functions"]):
        Function.objects.update_or_create(
            id=f["id"],
            defaults={
                "code": f["code"],
                "title": f["title"],
                "summary": f["summary"],
                "position": pos,
            },
        )
    for pos, c in enumerate(data["categories"]):
        Category.objects.update_or_create(
            id=c["id"],
            defaults={
                "function_id": c["function"],
                "summary": c["summary"],
                "page": c["page"],
                "position": pos,
            },
        )
    for pos, s in enumerate(data["subcategories"]):
        Subcategory.objects.update_or_create(
            id=s["id"],
            defaults={
                "category_id": s["category"],
                "outcome": s["outcome"],
                "page": s["page"],
                "scope": s["scope"],
                "scope_note": s.get("scope_note") or "",
                "characteristic": s.get("characteristic") or "",
                "position": pos,
            },
        )
    return len(data["subcategories"])
