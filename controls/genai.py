"""The NIST AI 600-1 Generative AI Profile risk catalog, read from fixtures/ (no database).

The 12 generative-AI risks are reference data that only cite AI RMF subcategories, so they
live in a YAML file checked at load time rather than in tables.
"""

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from controls.services import CATALOG_PATH, catalog_read

GENAI_PATH = settings.BASE_DIR / "fixtures" / "catalog" / "genai-600-1.yaml"

RISK_COUNT = 12
FIELDS = frozenset(
    {"id", "number", "title", "description", "section", "page", "characteristics", "subcategories"}
)
# The seven trustworthy-AI characteristics of NIST AI 100-1 Sections 3.1-3.7.
CHARACTERISTIC_IDS = frozenset(
    {
        "valid-reliable",
        "safe",
        "secure-resilient",
        "accountable-transparent",
        "explainable-interpretable",
        "privacy-enhanced",
        "fair-harmful-bias-managed",
    }
)
SUBCATEGORY_ID = re.compile(r"^(GOVERN|MAP|MEASURE|MANAGE) \d+\.\d+$")


@dataclass(frozen=True)
class GenAIRisk:
    """One AI 600-1 risk: official title, our description, and where NIST places it."""

    id: str
    number: int
    title: str
    description: str
    section: str
    page: int
    characteristics: tuple[str, ...]
    subcategories: tuple[str, ...]


def genai_risks_read(
    path: Path = GENAI_PATH, *, subcategory_ids: Collection[str] | None = None
) -> tuple[GenAIRisk, ...]:
    """Parse and check the risk file; raises ValueError naming the file, entry and bad value.

    Args:
        subcategory_ids: when given, every subcategory a risk cites must be one of these.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries = data.get("risks") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a mapping with a 'risks' list")
    risks = [
        _risk_from_entry(path, pos, entry, subcategory_ids) for pos, entry in enumerate(entries)
    ]
    _check_unique(path, [(r.id, r.id) for r in risks], "id")
    _check_unique(path, [(r.id, r.number) for r in risks], "number")
    if len(risks) != RISK_COUNT:
        raise ValueError(f"{path}: expected {RISK_COUNT} risks, found {len(risks)}")
    return tuple(risks)


@cache
def genai_risks() -> tuple[GenAIRisk, ...]:
    """The shipped risk catalog, checked against the shipped AI RMF catalog's subcategories."""
    known = {s["id"] for s in catalog_read(CATALOG_PATH)["subcategories"]}
    return genai_risks_read(GENAI_PATH, subcategory_ids=known)


def genai_risks_for_subcategory(subcategory_id: str) -> tuple[GenAIRisk, ...]:
    """Risks with an AI 600-1 action under the given subcategory, in NIST's order."""
    return tuple(r for r in genai_risks() if subcategory_id in r.subcategories)


def _risk_from_entry(
    path: Path, pos: int, entry: Any, subcategory_ids: Collection[str] | None
) -> GenAIRisk:
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: risk #{pos + 1}: expected a mapping, got {entry!r}")
    name = repr(entry["id"]) if "id" in entry else f"#{pos + 1}"
    if missing := sorted(FIELDS - entry.keys()):
        raise ValueError(f"{path}: risk {name}: missing field(s) {', '.join(missing)}")
    if extra := sorted(str(k) for k in entry.keys() - FIELDS):
        raise ValueError(f"{path}: risk {name}: unexpected field(s) {', '.join(extra)}")
    for key in ("id", "title", "description", "section"):
        _check_type(path, name, key, entry[key], str)
    for key in ("number", "page"):
        _check_type(path, name, key, entry[key], int)
    characteristics = _str_tuple(path, name, "characteristics", entry["characteristics"])
    subcategories = _str_tuple(path, name, "subcategories", entry["subcategories"])
    for value in characteristics:
        if value not in CHARACTERISTIC_IDS:
            raise ValueError(f"{path}: risk {name}: unknown characteristic {value!r}")
    for value in subcategories:
        if not SUBCATEGORY_ID.match(value):
            raise ValueError(f"{path}: risk {name}: malformed subcategory id {value!r}")
        if subcategory_ids is not None and value not in subcategory_ids:
            raise ValueError(f"{path}: risk {name}: unknown subcategory {value!r}")
    if len(set(subcategories)) != len(subcategories):
        raise ValueError(f"{path}: risk {name}: a subcategory is listed twice in {subcategories!r}")
    return GenAIRisk(
        id=entry["id"],
        number=entry["number"],
        title=entry["title"],
        description=entry["description"],
        section=entry["section"],
        page=entry["page"],
        characteristics=characteristics,
        subcategories=subcategories,
    )


def _check_type(path: Path, name: str, key: str, value: Any, kind: type) -> None:
    # bool is an int subclass; a YAML `yes` must not pass as a page number.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{path}: risk {name}: {key} must be {kind.__name__}, got {value!r}")


def _str_tuple(path: Path, name: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{path}: risk {name}: {key} must be a list of strings, got {value!r}")
    return tuple(value)


def _check_unique(path: Path, pairs: list[tuple[str, object]], key: str) -> None:
    seen: set[object] = set()
    for risk_id, value in pairs:
        if value in seen:
            raise ValueError(f"{path}: risk {risk_id!r}: duplicate {key} {value!r}")
        seen.add(value)
