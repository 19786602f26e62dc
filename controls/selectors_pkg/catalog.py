"""Reads of the AI RMF catalog."""

from django.db.models import QuerySet

from controls.models import Subcategory
from riskreg.lib.errors import ForeignReferenceError


def subcategory_list(*, function: str | None = None) -> QuerySet[Subcategory]:
    """Subcategories in official order, category and function loaded."""
    rows = Subcategory.objects.select_related("category__function").order_by("position")
    if function:
        rows = rows.filter(category__function_id=function.upper())
    return rows


def subcategories_by_ids(*, ids: list[str], field: str) -> list[Subcategory]:
    found = {s.id: s for s in Subcategory.objects.filter(id__in=ids)}
    for ident in ids:
        if ident not in found:
            raise ForeignReferenceError.for_field(field, ident)
    return [found[i] for i in ids]
