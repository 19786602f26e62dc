"""docs/hashing.md's test vectors, recomputed the way an outside auditor would.

Nothing here imports riskreg: the point is that json, unicodedata, hashlib and the rfc8785
package alone reproduce every documented canonical form and digest.
"""

import hashlib
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import rfc8785

HASHING_DOC = Path(__file__).resolve().parents[2] / "docs" / "hashing.md"
ROW = re.compile(
    r"^\| `(?P<input>[^`]+)` \| `(?P<canonical>[^`]+)` \| `(?P<digest>[0-9a-f]{64})` \|$"
)


def documented_vectors() -> list[tuple[str, str, str]]:
    """(input JSON text, canonical form as displayed, SHA-256 hex) for each table row."""
    text = HASHING_DOC.read_text(encoding="utf-8")
    section = text.split("## Test vectors", 1)[1]
    return [
        (m["input"], m["canonical"], m["digest"])
        for m in map(ROW.match, section.splitlines())
        if m is not None
    ]


VECTORS = documented_vectors()


def nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc(key): nfc(item) for key, item in value.items()}
    if isinstance(value, list):
        return [nfc(item) for item in value]
    return value


def canonical(text: str) -> bytes:
    return rfc8785.dumps(nfc(json.loads(text)))


def displayed(data: bytes) -> str:
    """The table's notation: a character outside printable ASCII as \\u{XXXX}."""
    return "".join(
        char if 0x20 <= ord(char) <= 0x7E else f"\\u{{{ord(char):04X}}}"
        for char in data.decode("utf-8")
    )


def digest_of(text: str) -> str:
    return next(digest for given, _, digest in VECTORS if given == text)


def test_the_document_gives_the_vectors_the_rules_need():
    inputs = {given for given, _, _ in VECTORS}
    assert {"1.0", "-0.0", "1e21", "1e-7", '"cafe\\u0301"', '"caf\\u00e9"'} <= inputs
    assert '{"\\u20ac": 1, "\\ud83d\\ude00": 2, "\\ufb01": 3, "a": 4}' in inputs
    assert len(VECTORS) >= 10


@pytest.mark.parametrize(("given", "shown", "digest"), VECTORS, ids=[v[0] for v in VECTORS])
def test_an_auditor_reproduces_each_canonical_form(given, shown, digest):
    assert displayed(canonical(given)) == shown


@pytest.mark.parametrize(("given", "shown", "digest"), VECTORS, ids=[v[0] for v in VECTORS])
def test_an_auditor_reproduces_each_digest(given, shown, digest):
    assert hashlib.sha256(canonical(given)).hexdigest() == digest


def test_keys_sort_by_utf16_code_units_not_code_points():
    data = canonical('{"\\u20ac": 1, "\\ud83d\\ude00": 2, "\\ufb01": 3, "a": 4}')
    assert list(json.loads(data)) == ["a", "\u20ac", "\U0001f600", "\ufb01"]


def test_text_typed_two_ways_has_one_digest():
    assert digest_of('"cafe\\u0301"') == digest_of('"caf\\u00e9"')


def test_shuffled_keys_hash_like_their_sorted_twin():
    shuffled = '{"b": {"z": [3, {"y": 2, "x": 1}], "a": null}, "a": true}'
    ordered = '{"a": true, "b": {"a": null, "z": [3, {"x": 1, "y": 2}]}}'
    assert digest_of(shuffled) == digest_of(ordered)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), 2**53])
def test_numbers_json_cannot_carry_exactly_have_no_canonical_form(bad):
    with pytest.raises(rfc8785.CanonicalizationError):
        rfc8785.dumps({"value": bad})
