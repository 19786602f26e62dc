"""Canonical hashing: RFC 8785 JSON of NFC text, so equal content hashes equally."""

import pytest

from riskreg.lib.hashing import canonical_hash, canonical_json


def test_key_order_does_not_change_the_hash():
    assert canonical_hash({"a": 1, "b": [1, 2]}) == canonical_hash({"b": [1, 2], "a": 1})


def test_numbers_are_written_the_rfc_8785_way():
    assert canonical_json({"x": 1.0, "y": 1e21, "z": -0.0}) == b'{"x":1,"y":1e+21,"z":0}'


def test_text_typed_two_ways_hashes_the_same():
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    assert composed != decomposed
    assert canonical_hash({"name": composed}) == canonical_hash({"name": decomposed})


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {1, 2}])
def test_values_json_cannot_carry_are_refused(bad):
    with pytest.raises(ValueError, match="cannot be canonicalised"):
        canonical_json({"v": bad})
