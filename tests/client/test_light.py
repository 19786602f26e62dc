"""The client stays light: importing it loads no server, Django, torch, scikit-learn or pandas."""

import subprocess
import sys

HEAVY = ["django", "torch", "sklearn", "fairlearn", "pandas", "numpy", "riskreg", "evaluations"]
MODULES = ["cli", "hashing", "audit", "provenance", "metricframe"]


def test_client_modules_import_without_heavy_packages() -> None:
    imports = "; ".join(f"import riskreg_client.{name}" for name in MODULES)
    check = f"{imports}; import sys; print(sorted({HEAVY!r} & sys.modules.keys()))"
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
