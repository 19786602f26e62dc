"""The store's configuration: s3://bucket/prefix URLs, and settings that refuse anything else
when the process starts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from evaluations.blobstore import StoredFile, name_for, parse_storage_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://riskreg-files", ("riskreg-files", "")),
        ("s3://riskreg-files/", ("riskreg-files", "")),
        ("s3://riskreg-files/prod/eu", ("riskreg-files", "prod/eu")),
    ],
)
def test_a_storage_url_names_a_bucket_and_a_prefix(url: str, expected: tuple[str, str]) -> None:
    assert parse_storage_url(url) == expected


@pytest.mark.parametrize("url", ["https://bucket/prefix", "s3:///prefix", "s3://b/p?x=1", "b/p"])
def test_a_storage_url_that_is_not_s3_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        parse_storage_url(url)


def test_stored_names_are_organisation_shard_and_hash() -> None:
    sha = "ab" + "0" * 62
    found = StoredFile(name_for(12, sha), 0.0)
    assert found.name == f"12/ab/{sha}"
    assert (found.organization_id, found.sha256) == (12, sha)
    assert StoredFile("tmp/ab/x", 0.0).organization_id is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RISKREG_STORAGE_URL", "ftp://files/riskreg"),
        ("RISKREG_S3_ENDPOINT_URL", "minio:9000"),
        ("RISKREG_ASSESSMENT_CHUNK_BYTES", "-1"),
    ],
)
def test_settings_refuse_a_bad_store_at_startup(tmp_path: Path, variable: str, value: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RISKREG_", "DJANGO_"))}
    env |= {"RISKREG_DATA_DIR": str(tmp_path), variable: value}
    result = subprocess.run(
        [sys.executable, "-c", "import riskreg.settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {variable}" in result.stderr
