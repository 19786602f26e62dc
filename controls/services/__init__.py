"""Writes of the controls app, one module per part: catalog, policies, verdicts, overrides,
findings. The catalog's loader is re-exported: it is what deployments call."""

from controls.services.catalog import CATALOG_PATH, catalog_load, catalog_read

__all__ = ["CATALOG_PATH", "catalog_load", "catalog_read"]
