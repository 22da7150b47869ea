"""Django settings for VeriSyntra, read from the environment in this one place.

Every variable has a local default that works on a developer machine (PostgreSQL and Redis
on 127.0.0.1). The README's "Configuration" section lists each variable.
"""

from __future__ import annotations

import os
from pathlib import Path

from verisyntra.db.config import build_databases, env_int

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# https://docs.djangoproject.com/en/5.2/ref/settings/#debug -- off unless asked for.
DEBUG = env_bool("DEBUG", False)

# A fixed development key is only acceptable while DEBUG is on; production must set SECRET_KEY
# (`manage.py check --deploy` flags a weak one).
SECRET_KEY = os.environ.get("SECRET_KEY") or "insecure-local-development-key-change-me-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    # First, so its management commands (migrate, createsuperuser, ...) default to the write alias.
    "verisyntra.apps.VerisyntraConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_celery_results",
    "inventory.apps.InventoryConfig",
    "analytics.apps.AnalyticsConfig",
    "health.apps.HealthConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost of ours: maps pool exhaustion and database outages anywhere below to a bilingual 503.
    "verisyntra.errors.DatabaseUnavailableMiddleware",
    # Pins the rest of a request to the primary after its first write (read-your-writes).
    "verisyntra.db.pinning.PinPrimaryAfterWriteMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "verisyntra.urls"
WSGI_APPLICATION = "verisyntra.wsgi.application"
ASGI_APPLICATION = "verisyntra.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Databases -------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/db/multi-db/
# `read` and `write` are pooled aliases; `default` is the dummy backend (see verisyntra/db/config.py
# and the README's architecture section for why).
DATABASES = build_databases()
DATABASE_ROUTERS = ["verisyntra.db.router.ReadWriteRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# How many processes share the database: used by the capacity system check and `pool_report`.
WEB_CONCURRENCY = env_int(os.environ, "WEB_CONCURRENCY", 2)
WEB_THREADS = env_int(os.environ, "WEB_THREADS", 8)
CELERY_WORKER_CONCURRENCY = env_int(os.environ, "CELERY_WORKER_CONCURRENCY", 2)

# --- Request limits --------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#data-upload-max-memory-size
# DRF >= 3.17.2 applies this to JSON bodies too; 10,000 realistic activities are about 4 MB,
# so allow 25 MB (a 100,000-record data scan fits in about the same per-record budget below).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int(os.environ, "DATA_UPLOAD_MAX_MEMORY_SIZE", 25 * 1024 * 1024)
DATA_SCAN_MAX_BODY_BYTES = env_int(os.environ, "DATA_SCAN_MAX_BODY_BYTES", 200 * 1024 * 1024)

# --- Auth, i18n, static ----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Django REST framework -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # The one place that turns exceptions into the bilingual error shape.
    "EXCEPTION_HANDLER": "verisyntra.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS = {
    "TITLE": "VeriSyntra data inventory API",
    "DESCRIPTION": "Records of processing of personal data under Vietnam's PDPL (Law 91/2025/QH15).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Celery ----------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Longer than the longest scan, or Redis hands a running scan to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int(os.environ, "CELERY_VISIBILITY_TIMEOUT", 6 * 3600),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict = {}

# --- Logging ---------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "dj_db_conn_pool": {"level": "WARNING"},
    },
}

# --- Production hardening (`manage.py check --deploy`) ---------------------------------------
# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
    SECURE_HSTS_SECONDS = env_int(os.environ, "SECURE_HSTS_SECONDS", 0)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
