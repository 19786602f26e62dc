"""`riskreg verify-audit` checks a real server export offline, as an auditor would run it."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from riskreg_client.audit import GENESIS, verify_chain

from riskreg.audit.selectors import audit_export_lines
from riskreg.inventory import services as inventory
from tests.conftest import Tenant


def _riskreg(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "riskreg_client.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _write(path: Path, events: list[dict[str, Any]]) -> Path:
    # Written as the export API writes it (riskreg/audit/api.py).
    lines = [json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in events]
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def exported(acme: Tenant) -> list[dict[str, Any]]:
    """acme's chain after three systems were registered (one name typed decomposed)."""
    inventory.system_create(actor=acme.actor, slug="credit-scoring", name="Credit scoring")
    inventory.system_create(actor=acme.actor, slug="cafe", name="Cafe\u0301 recommender")
    inventory.system_create(actor=acme.actor, slug="support", name="Support assistant")
    events = list(audit_export_lines(organization_id=acme.org.pk))
    assert len(events) >= 3
    return events


def test_auditor_verifies_an_untouched_export_as_valid(
    exported: list[dict[str, Any]], tmp_path: Path
) -> None:
    result = _riskreg("verify-audit", _write(tmp_path / "audit.jsonl", exported))
    assert result.returncode == 0, result.stderr
    assert f"{len(exported)} events, head {exported[-1]['hash']}" in result.stdout


def test_auditor_finds_an_edited_event_and_names_its_seq(
    exported: list[dict[str, Any]], tmp_path: Path
) -> None:
    exported[1]["action"] = "system.delete"
    result = _riskreg("verify-audit", _write(tmp_path / "audit.jsonl", exported))
    assert result.returncode == 1
    assert result.stderr.strip() == "invalid: event #2: content does not match its hash"


def test_auditor_finds_an_edit_whose_hash_was_recomputed_at_the_next_event(
    exported: list[dict[str, Any]], tmp_path: Path
) -> None:
    from riskreg.lib.hashing import canonical_hash

    exported[1]["action"] = "system.delete"
    exported[1]["hash"] = canonical_hash({k: v for k, v in exported[1].items() if k != "hash"})
    result = _riskreg("verify-audit", _write(tmp_path / "audit.jsonl", exported))
    assert result.returncode == 1
    assert "event #3: previous hash does not match" in result.stderr


def test_auditor_finds_a_removed_middle_event(
    exported: list[dict[str, Any]], tmp_path: Path
) -> None:
    del exported[1]
    result = _riskreg("verify-audit", _write(tmp_path / "audit.jsonl", exported))
    assert result.returncode == 1
    assert result.stderr.strip() == "invalid: event #3: expected #2 (gap, insert or reorder)"


def test_auditor_with_the_wrong_head_finds_the_chain_cut(
    exported: list[dict[str, Any]], tmp_path: Path
) -> None:
    path = _write(tmp_path / "audit.jsonl", exported[:-1])
    result = _riskreg("verify-audit", path, "--expect-head", exported[-1]["hash"])
    assert result.returncode == 1
    assert "truncated or extended" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_auditor_with_the_right_head_gets_valid_as_json(
    exported: list[dict[str, Any]], tmp_path: Path
) -> None:
    path = _write(tmp_path / "audit.jsonl", exported)
    result = _riskreg("verify-audit", path, "--expect-head", exported[-1]["hash"], "--json")
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["valid"] is True
    assert verdict["events"] == len(exported)
    assert verdict["organization"] == "acme"


def test_auditor_gets_usage_status_for_a_garbage_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"\x89PNG\r\n\x1a\n not json at all")
    result = _riskreg("verify-audit", path)
    assert result.returncode == 2
    assert result.stderr.startswith("riskreg verify-audit: ")


def test_auditor_gets_usage_status_for_a_missing_file(tmp_path: Path) -> None:
    assert _riskreg("verify-audit", tmp_path / "absent.jsonl").returncode == 2


def test_empty_chain_is_valid_and_ends_at_genesis() -> None:
    check = verify_chain([])
    assert check.valid
    assert check.head == GENESIS


def test_event_of_another_organisation_breaks_the_chain(exported: list[dict[str, Any]]) -> None:
    exported[1]["organization"] = "globex"
    check = verify_chain(exported)
    assert not check.valid
    assert check.seq == 2
