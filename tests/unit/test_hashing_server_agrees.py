"""riskreg's own canonical hash gives the digests docs/hashing.md publishes."""

import json
import re
from pathlib import Path

import pytest

from riskreg.lib.hashing import canonical_hash

HASHING_DOC = Path(__file__).resolve().parents[2] / "docs" / "hashing.md"
ROW = re.compile(r"^\| `(?P<input>[^`]+)` \| `[^`]+` \| `(?P<digest>[0-9a-f]{64})` \|$")
VECTORS = [
    (m["input"], m["digest"])
    for m in map(ROW.match, HASHING_DOC.read_text(encoding="utf-8").splitlines())
    if m is not None
]


def test_the_document_has_vectors_to_check():
    assert len(VECTORS) >= 10


@pytest.mark.parametrize(("given", "digest"), VECTORS, ids=[v[0] for v in VECTORS])
def test_the_server_hashes_each_vector_as_documented(given, digest):
    assert canonical_hash(json.loads(given)) == digest
