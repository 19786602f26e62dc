"""riskreg settings.

With no environment at all, riskreg runs on the embedded default: SQLite and a
filesystem broker under RISKREG_DATA_DIR. Every variable that switches to real
services is documented in README.md and .env.example.
"""

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from riskreg.lib.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("RISKREG_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The configured key, or one generated once and kept beside the embedded database."""
    configured = env_str("SECRET_KEY")
    if configured:
        return configured
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "riskreg.organisations",
    "riskreg.audit",
    "riskreg.inventory",
    "riskreg.risks",
    "riskreg.ops",
    "riskreg.web",
    "riskreg.notifications",
    "controls",
    "evaluations",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "riskreg.lib.security.ContentSecurityPolicyMiddleware",
    "riskreg.lib.security.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "riskreg.organisations.middleware.CurrentOrganisationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "riskreg.urls"
WSGI_APPLICATION = "riskreg.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "riskreg" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "riskreg.organisations.context_processors.organisation",
            ],
        },
    },
]


def _databases() -> dict[str, Any]:
    url = env_str("DATABASE_URL")
    if url:
        return {"default": dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)}
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "riskreg.sqlite3",
            "OPTIONS": {
                # Several processes share the file: WAL lets readers run beside the
                # writer, IMMEDIATE takes the write lock up front so transactions
                # queue on the busy timeout instead of failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }


DATABASES = _databases()
# The PostgreSQL role the service runs as; `migrate`, run as the owner role, grants it
# what it needs on every table (and only SELECT and INSERT on the audit trail).
DATABASE_RUNTIME_ROLE = env_str("DATABASE_RUNTIME_ROLE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "riskreg" / "static"]
STATIC_ROOT = Path(env_str("RISKREG_STATIC_ROOT", str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(env_str("RISKREG_MEDIA_ROOT", str(DATA_DIR / "media")))
RISKREG_KEYS_DIR = Path(env_str("RISKREG_KEYS_DIR", str(DATA_DIR / "keys")))
# Rendered and signed report PDFs, content-addressed (reports/storage.py).
RISKREG_REPORTS_DIR = Path(env_str("RISKREG_REPORTS_DIR", str(DATA_DIR / "reports")))
# PAdES B-T: a timestamp authority's URL; empty signs B-B.
RISKREG_TSA_URL = env_str("RISKREG_TSA_URL")
# Passphrase of the organisations' private keys in the key directory (empty: unencrypted,
# the directory's permissions protect them).
RISKREG_KEY_PASSPHRASE = env_str("RISKREG_KEY_PASSPHRASE")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Tests and the development server find static files without collectstatic.
WHITENOISE_USE_FINDERS = DEBUG or env_bool("RISKREG_STATIC_FINDERS", default=False)
if WHITENOISE_USE_FINDERS:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Security headers. SecurityMiddleware adds nosniff; ours adds the CSP.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("RISKREG_SESSION_SECONDS", default=8 * 3600)
# Served over HTTPS (directly or behind a proxy that sets X-Forwarded-Proto).
RISKREG_HTTPS = env_bool("RISKREG_HTTPS", default=False)
if RISKREG_HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("RISKREG_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("RISKREG_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("RISKREG_HSTS_PRELOAD", default=True)
    if env_bool("RISKREG_BEHIND_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Empty on purpose: the documented production settings pass `check --deploy` as they are.
SILENCED_SYSTEM_CHECKS: list[str] = []

# Upload limits are checked before anything is parsed. This one bounds the body apart
# from files; each evidence attachment has its own limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("RISKREG_MAX_REQUEST_BYTES", default=5 * 1024 * 1024)
RISKREG_ATTACHMENT_MAX_BYTES = env_int("RISKREG_ATTACHMENT_MAX_BYTES", default=50 * 1024 * 1024)
# Register and treatment-plan imports (CSV or XLSX); at most 5,000 rows either way.
RISKREG_IMPORT_MAX_BYTES = env_int("RISKREG_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
# Assessment jobs: the predictions file limit, the worker's lease (renewed while it works;
# the sweep re-enqueues a job whose lease ran out), deliveries before giving up, and the
# memory budget of one job (RLIMIT_AS above what the worker already uses).
RISKREG_ASSESSMENT_MAX_BYTES = env_int("RISKREG_ASSESSMENT_MAX_BYTES", default=1024**3)
RISKREG_ASSESSMENT_LEASE_SECONDS = env_int("RISKREG_ASSESSMENT_LEASE_SECONDS", default=120)
RISKREG_ASSESSMENT_MAX_DELIVERIES = env_int("RISKREG_ASSESSMENT_MAX_DELIVERIES", default=3)
# The longest a risk acceptance may run before it must be renewed.
RISKREG_ACCEPTANCE_MAX_DAYS = env_int("RISKREG_ACCEPTANCE_MAX_DAYS", default=365)
RISKREG_ASSESSMENT_MEMORY_BYTES = env_int("RISKREG_ASSESSMENT_MEMORY_BYTES", default=4 * 1024**3)
RISKREG_ATTACHMENTS_DIR = Path(
    env_str("RISKREG_ATTACHMENTS_DIR", str(DATA_DIR / "attachments"))
).resolve()
# Where uploaded files and attachments live (evaluations/blobstore.py): the folder above by
# default; with s3://bucket/prefix, an S3-compatible object store every worker reaches.
# Credentials come from boto3's usual sources (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, an
# instance role); the endpoint names a server other than AWS (MinIO, Ceph, ...).
RISKREG_STORAGE_URL = env_str("RISKREG_STORAGE_URL").strip()
RISKREG_S3_ENDPOINT_URL = env_str("RISKREG_S3_ENDPOINT_URL").strip()
RISKREG_S3_REGION = env_str("RISKREG_S3_REGION").strip()
if RISKREG_STORAGE_URL:
    _storage = urlsplit(RISKREG_STORAGE_URL)
    if _storage.scheme != "s3" or not _storage.netloc or _storage.query or _storage.fragment:
        raise ImproperlyConfigured(
            f"RISKREG_STORAGE_URL must look like s3://bucket/prefix, got {RISKREG_STORAGE_URL!r}"
        )
if RISKREG_S3_ENDPOINT_URL and urlsplit(RISKREG_S3_ENDPOINT_URL).scheme not in ("http", "https"):
    raise ImproperlyConfigured(
        f"RISKREG_S3_ENDPOINT_URL must be an http(s) URL, got {RISKREG_S3_ENDPOINT_URL!r}"
    )
# A predictions file larger than this is split into parts of about this size, which
# workers process in parallel and the last one merges (docs/assessments.md, "Scale-out");
# 0 never splits.
RISKREG_ASSESSMENT_CHUNK_BYTES = env_int("RISKREG_ASSESSMENT_CHUNK_BYTES", default=64 * 1024**2)
if RISKREG_ASSESSMENT_CHUNK_BYTES < 0:
    raise ImproperlyConfigured("RISKREG_ASSESSMENT_CHUNK_BYTES must be 0 (never split) or more")
# Uploaded models (robustness, efficiency): the file is read whole to be checked, and the
# evaluation rows are held in memory by the worker.
RISKREG_MODEL_MAX_BYTES = env_int("RISKREG_MODEL_MAX_BYTES", default=256 * 1024**2)
RISKREG_MODEL_EVALUATION_MAX_ROWS = env_int("RISKREG_MODEL_EVALUATION_MAX_ROWS", default=200_000)
# torch's CPU threads per worker process for model jobs: one each, so that worker processes
# (one per core) do not wait on each other's threads. Raise it for a single worker.
RISKREG_TORCH_THREADS = env_int("RISKREG_TORCH_THREADS", default=1)
if RISKREG_TORCH_THREADS < 1:
    raise ImproperlyConfigured("RISKREG_TORCH_THREADS must be at least 1")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "riskreg.organisations.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["riskreg.organisations.permissions.RoleAllowed"],
    "DEFAULT_PARSER_CLASSES": ["riskreg.lib.parsers.SafeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "riskreg.lib.pagination.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "riskreg.lib.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "riskreg.lib.schema.ApiAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "riskreg API",
    "DESCRIPTION": "AI risk register, evidence and NIST AI RMF 1.0 posture.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RiskStatusEnum": "riskreg.risks.models.RiskStatus",
        "ModelStatusEnum": "riskreg.inventory.models.ModelStatus",
        "IncidentStatusEnum": "evaluations.models.IncidentStatus",
        "EvidenceKindEnum": "evaluations.models.EvidenceKind",
        "TimelineEntryKindEnum": "evaluations.models.TimelineEntryKind",
        "NotificationKindEnum": "riskreg.notifications.models.NotificationKind",
        "DeliveryStatusEnum": "riskreg.notifications.models.DeliveryStatus",
        "PreferenceSourceEnum": "riskreg.notifications.models.PreferenceSource",
        "RiskSourceEnum": "riskreg.risks.models.RiskSource",
        "LevelEnum": "riskreg.risks.models.Level",
        "ScoreKindEnum": "riskreg.risks.models.ScoreKind",
        "ActionStatusEnum": "riskreg.risks.models.ActionStatus",
        "TreatmentDecisionEnum": "riskreg.risks.models.TreatmentDecision",
        "VerdictStatusEnum": "controls.models.VerdictStatus",
        "OverrideStatusEnum": "controls.api.posture.OVERRIDE_STATUSES",
        "OverrideKindEnum": "controls.models.Override.Kind",
        "FindingKindEnum": "controls.models.Finding.Kind",
        "VerdictUpdateStateEnum": "evaluations.api.evidence.VERDICT_UPDATE_STATES",
        "EvidenceStateEnum": "evaluations.models.EvidenceState",
        "ReportKindEnum": "reports.models.ReportKind",
        "ReportStatusEnum": "reports.models.ReportStatus",
    },
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums"],
}


def _celery_broker() -> dict[str, Any]:
    url = env_str("CELERY_BROKER_URL")
    if url:
        return {"broker_url": url}
    from riskreg.lib.fsbroker import broker_settings

    return broker_settings(DATA_DIR / "broker")


_broker = _celery_broker()
CELERY_BROKER_URL = _broker["broker_url"]
CELERY_BROKER_TRANSPORT = _broker.get("broker_transport")
CELERY_BROKER_TRANSPORT_OPTIONS = _broker.get("broker_transport_options", {})
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES_ALL = ["default", "assessments", "reports"]
# Heavy work has a queue of its own, so a slow assessment never delays the quick tasks.
CELERY_TASK_ROUTES = {
    "evaluations.tasks.assessment_run_task": {"queue": "assessments"},
    "evaluations.tasks.assessment_chunk_task": {"queue": "assessments"},
    "reports.tasks.report_render_task": {"queue": "reports"},
    "reports.tasks.report_sign_task": {"queue": "reports"},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = env_int("RISKREG_TASK_TIME_LIMIT", default=1800)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "audit-verify-nightly": {
        "task": "riskreg.audit.tasks.audit_verify_all_task",
        "schedule": 24 * 3600,
    },
    "attachment-sweep-hourly": {
        "task": "evaluations.tasks.attachment_sweep_task",
        "schedule": 3600,
    },
    "assessment-lease-sweep": {
        "task": "evaluations.tasks.assessment_sweep_task",
        "schedule": 60,
    },
    # Acceptances run out at the end of their valid-until day; hourly is soon enough.
    "risk-acceptance-expiry": {
        "task": "riskreg.risks.tasks.acceptance_expire_task",
        "schedule": 3600,
    },
    # Overdue and expiring things are judged by the day or the hour; five minutes keeps
    # proposed risks and regulator deadlines prompt without rescanning constantly.
    "notifications-scan": {
        "task": "riskreg.notifications.tasks.notifications_scan_task",
        "schedule": 300,
    },
    # Webhook retries live in the database (next_attempt_at); this re-enqueues the due ones,
    # so a delivery survives a lost message or a crashed worker.
    # Verdicts resting on evidence, overrides or incident deadlines that ran out are decided
    # again, and verdict updates whose message was lost are re-enqueued.
    "verdicts-sweep": {
        "task": "controls.tasks.verdicts_sweep_task",
        "schedule": 300,
    },
    "webhook-delivery-sweep": {
        "task": "riskreg.notifications.tasks.webhook_sweep_task",
        "schedule": 60,
    },
}
# False-discovery rate of the silent-regression tests (docs/posture.md).
RISKREG_REGRESSION_FDR = env_float("RISKREG_REGRESSION_FDR", default=0.05)
if not 0 < RISKREG_REGRESSION_FDR < 1:
    raise ImproperlyConfigured("RISKREG_REGRESSION_FDR must lie strictly between 0 and 1")
if "redis" in CELERY_BROKER_URL:
    # Keep the hard time limit below the visibility timeout, or a long task runs twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 600}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "riskreg@localhost")
# Notifications (docs/notifications.md): links in e-mails start with the base URL; expiring
# acceptances and evidence are announced this many days ahead, regulator deadlines this
# many hours ahead. Webhook deliveries are tried this many times before they fail.
RISKREG_BASE_URL = env_str("RISKREG_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
RISKREG_NOTIFY_EXPIRY_DAYS = env_int("RISKREG_NOTIFY_EXPIRY_DAYS", default=14)
RISKREG_NOTIFY_DEADLINE_HOURS = env_int("RISKREG_NOTIFY_DEADLINE_HOURS", default=48)
RISKREG_WEBHOOK_MAX_ATTEMPTS = env_int("RISKREG_WEBHOOK_MAX_ATTEMPTS", default=6)
# Development and tests only: lets webhooks reach private and loopback addresses, which
# otherwise are refused so that a webhook cannot probe the internal network.
RISKREG_WEBHOOK_ALLOW_PRIVATE = env_bool("RISKREG_WEBHOOK_ALLOW_PRIVATE", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("RISKREG_LOG_LEVEL", "INFO")},
}

if not DEBUG and SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured("SECRET_KEY is the insecure placeholder; set a real one.")
