"""Canonical hashing of an evidence-sized document vs plain sorted-key JSON + SHA-256."""

import hashlib
import json

from bench.timing import Result, compare
from riskreg.lib.hashing import canonical_hash

DOC = {
    "groups": [
        {
            "name": f"group-{i}",
            "size": 1000 + i,
            "tp": i,
            "fp": 2 * i,
            "tn": 3 * i,
            "fn": 4 * i,
            "metrics": {"selection_rate": 0.1 * (i % 10), "accuracy": 0.5 + i / 1000},
        }
        for i in range(200)
    ],
    "note": "caf\u00e9 " * 50,
}


def run() -> list[Result]:
    def ours() -> None:
        for _ in range(20):
            canonical_hash(DOC)

    def reference() -> None:
        for _ in range(20):
            hashlib.sha256(json.dumps(DOC, sort_keys=True).encode()).hexdigest()

    # RFC 8785 in pure Python plus NFC normalisation: a few times json's C encoder is fine.
    return [compare("canonical_hash", ours, "json.dumps+sha256", reference, goal=15.0)]
