"""Reads of the controls app: the catalog, posture and its history, findings, policies."""

from controls.selectors.catalog import subcategories_by_ids, subcategory_list

__all__ = ["subcategories_by_ids", "subcategory_list"]
