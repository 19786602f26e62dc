"""`pip install ./client` in a fresh venv brings the `riskreg` command and no heavy package."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {"django", "torch", "scikit-learn", "fairlearn", "pandas", "numpy"}


@pytest.mark.integration
def test_fresh_install_of_the_client_has_no_heavy_dependency(tmp_path: Path) -> None:
    # Built from a copy, so that setuptools' build/ and egg-info never land in the checkout.
    source = tmp_path / "client"
    shutil.copytree(
        ROOT / "client", source, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__")
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=60)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "-q", str(source)], check=True, timeout=300)
    listed = subprocess.run(
        [*pip, "list", "--format=freeze"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    installed = {line.split("==")[0].lower() for line in listed.splitlines()}
    assert "riskreg-client" in installed
    assert not HEAVY & installed
    result = subprocess.run(
        [str(venv / "bin" / "riskreg"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "verify-audit" in result.stdout
