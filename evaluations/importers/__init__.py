"""Importers: other tools' result files → typed evidence items.

Pure functions, no Django: each reads one format's payload (already decoded from JSON, or
text for model cards) and returns `ImportedItem`s whose `metrics` follow docs/evidence.md.
The accepted shapes are documented in each module and in docs/evidence.md, section
"Importing other tools' results".
"""

from typing import Any

from evaluations.importers.base import ImportedItem, Importer, ImportFormatError
from evaluations.importers.fairlearn import import_metricframe
from evaluations.importers.lm_eval import import_results
from evaluations.importers.mlflow import import_run
from evaluations.importers.model_card import import_model_card

__all__ = ["FORMATS", "ImportFormatError", "ImportedItem", "Importer", "import_items"]

FORMATS: dict[str, Importer] = {
    "fairlearn-metricframe": import_metricframe,
    "lm-eval-harness": import_results,
    "mlflow-run": import_run,
    "hf-model-index": import_model_card,
}


def import_items(format: str, payload: Any, *, min_group_size: int = 30) -> list[ImportedItem]:
    """Turn `payload`, a result file in `format`, into evidence items.

    Parameters
    ----------
    format : str
        One of the names in `FORMATS`.
    payload : Any
        The decoded file: JSON data, or for `hf-model-index` the README text or its parsed
        front matter.
    min_group_size : int, default=30
        Groups smaller than this are flagged `insufficient` (fairness formats only).

    Returns
    -------
    list of ImportedItem
        At least one item.

    Raises
    ------
    ImportFormatError
        For an unknown format (pointer "") or a payload that departs from the format.
    ValueError
        When `min_group_size` is not a whole number ≥ 0.
    """
    if format not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise ImportFormatError("", f"unknown format {format!r}; known formats: {known}")
    return FORMATS[format](payload, min_group_size=min_group_size)
