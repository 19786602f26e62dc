"""With the documented production variables, `check --deploy` reports nothing."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": "k3Rv9-wQz2_Lp8Ys4Tn6Bx1Hm5Jc7Ge0Ud2Fa9Ki4Ow8Er3Ty6",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "riskreg.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://riskreg.example.org",
    "RISKREG_HTTPS": "true",
    "RISKREG_BEHIND_PROXY": "true",
}


def test_check_deploy_is_silent_with_the_production_variables(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    env |= PRODUCTION | {
        "DJANGO_SETTINGS_MODULE": "riskreg.settings",
        "RISKREG_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_env_example_documents_every_production_variable():
    documented = (ROOT / ".env.example").read_text()
    for name in [*PRODUCTION, "DATABASE_URL", "DATABASE_RUNTIME_ROLE", "CELERY_BROKER_URL"]:
        assert f"{name}=" in documented, name
