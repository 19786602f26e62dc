"""The client hashes documents exactly as docs/hashing.md says, and as the server does."""

import json
import re
from pathlib import Path

import pytest
from riskreg_client.hashing import canonical_hash, canonical_json, idempotency_key

from riskreg.lib.hashing import canonical_hash as server_canonical_hash

DOC = Path(__file__).resolve().parents[2] / "docs" / "hashing.md"
_ROW = re.compile(r"^\| `(.+?)` \| `(.+?)` \| `([0-9a-f]{64})` \|$")
_CODE_POINT = re.compile(r"\\u\{([0-9A-F]{4,6})\}")


def _vectors() -> list[tuple[str, bytes, str]]:
    """(input JSON text, canonical bytes, sha256) for each row of the doc's test vectors."""
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if match := _ROW.match(line):
            text, canonical, digest = match.groups()
            expected = _CODE_POINT.sub(lambda m: chr(int(m.group(1), 16)), canonical)
            rows.append((text, expected.encode("utf-8"), digest))
    return rows


VECTORS = _vectors()
DOCUMENTS = [
    {"kind": "document", "system": None, "document": {"title": "Richtlinie f\u00fcr KI"}},
    {"kind": "fairness", "metrics": {"overall": {"size": 120, "selection_rate": 0.4125}}},
    {"e\u0301t\u00e9": ["d\u00e9ja\u0300", 1e21, -0.0, 333333333.33333329, True, None]},
    {"\U0001f600": 2, "\ufb01": 3, "nested": {"b": [{"y": 2, "x": 1}], "a": "\u2028"}},
]


def test_doc_lists_every_vector_the_table_shows() -> None:
    assert len(VECTORS) == 15


@pytest.mark.parametrize(("text", "canonical", "digest"), VECTORS)
def test_client_hashes_each_doc_vector_as_the_doc_says(
    text: str, canonical: bytes, digest: str
) -> None:
    value = json.loads(text)
    assert canonical_json(value) == canonical
    assert canonical_hash(value) == digest


@pytest.mark.parametrize("document", DOCUMENTS)
def test_client_hash_equals_the_servers(document: object) -> None:
    assert canonical_hash(document) == server_canonical_hash(document)


def test_idempotency_key_is_rr_and_the_document_hash() -> None:
    document = DOCUMENTS[1]
    assert idempotency_key(document) == "rr-" + server_canonical_hash(document)
    assert len(idempotency_key(document)) <= 200


def test_idempotency_key_ignores_key_order_and_unicode_form() -> None:
    assert idempotency_key({"a": "cafe\u0301", "b": 1}) == idempotency_key(
        {"b": 1, "a": "caf\u00e9"}
    )


def test_client_refuses_nan() -> None:
    with pytest.raises(ValueError, match="cannot be canonicalised"):
        canonical_hash({"x": float("nan")})
