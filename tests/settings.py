"""Test settings: the real settings, plus what only a test run needs."""

import tempfile
from pathlib import Path

from riskreg.settings import *  # noqa: F403 - the test run starts from the real settings
from riskreg.settings import STORAGES

# Static files straight from the source tree; no collectstatic before tests.
WHITENOISE_USE_FINDERS = True
# Each test client builds the middleware afresh; with finders WhiteNoise would scan every
# static file then (0.3 s a client). Autorefresh looks a file up when it is requested.
WHITENOISE_AUTOREFRESH = True
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# Hashing demo passwords with PBKDF2 costs seconds per login; tests need no strength.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Attachments of a test run go to a folder of their own, never into ./var.
RISKREG_ATTACHMENTS_DIR = Path(tempfile.mkdtemp(prefix="riskreg-test-attachments-"))
RISKREG_REPORTS_DIR = Path(tempfile.mkdtemp(prefix="riskreg-test-reports-"))
RISKREG_KEYS_DIR = Path(tempfile.mkdtemp(prefix="riskreg-test-keys-"))
