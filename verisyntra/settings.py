"""Django settings for VeriSyntra, read from the environment in this one place.

Every variable has a local default that works on a developer machine (PostgreSQL and Redis
on 127.0.0.1). The README's "Configuration" section lists each variable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from verisyntra.db.config import build_databases, cache_url
from verisyntra.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# https://docs.djangoproject.com/en/5.2/ref/settings/#debug -- off unless asked for.
DEBUG = env_bool("DEBUG", False)

# A fixed development key is only acceptable while DEBUG is on; production must set SECRET_KEY
# (`manage.py check --deploy` flags a weak one).
# The prefix "django-insecure-" makes `check --deploy` (security.W009) refuse the fallback key.
SECRET_KEY = env_str("SECRET_KEY", "django-insecure-local-development-key-change-me-in-production-0123456789")

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
    # API tokens (hashed, expiring, revocable, optionally one tenant's), throttling, sign-in lockout.
    "accounts.apps.AccountsConfig",
    # Locks out admin sign-in after repeated failures (AXES_* below).
    "axes",
    "drf_spectacular",
    "django_celery_results",
    "inventory.apps.InventoryConfig",
    # The append-only audit trail of every write (audit/models.py).
    "audit.apps.AuditConfig",
    "analytics.apps.AnalyticsConfig",
    "health.apps.HealthConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Path and requested tenant of the current request, for the pool-exhaustion audit log.
    "health.audit.AuditRequestContextMiddleware",
    # Maps pool exhaustion and database outages in views to a bilingual 503 (handler500 covers middleware).
    "verisyntra.api.errors.DatabaseUnavailableMiddleware",
    # Pins the rest of a request to the primary after its first write (read-your-writes).
    "verisyntra.db.pinning.PinPrimaryAfterWriteMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Requests start with no tenant (row-level security shows no tenant's rows); staff in the admin act for all.
    "verisyntra.db.tenant_scope.TenantScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page (accounts.lockout).
    "axes.middleware.AxesMiddleware",
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
# Read replicas (READ_DATABASE_URLS; verisyntra/db/replicas.py, docs/scaling.md): a replica that does
# not answer, or may miss more than REPLICA_MAX_LAG_SECONDS of commits, serves no reads until it
# recovers; each process checks every REPLICA_CHECK_SECONDS. After a client writes, its requests read
# from the primary for PRIMARY_PIN_SECONDS (signed cookie); keep it >= max lag + check interval.
REPLICA_MAX_LAG_SECONDS = env_float("REPLICA_MAX_LAG_SECONDS", 5.0)
REPLICA_CHECK_SECONDS = env_float("REPLICA_CHECK_SECONDS", 1.0)
PRIMARY_PIN_SECONDS = env_float("PRIMARY_PIN_SECONDS", 10.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# How many processes share the database: used by the capacity system check and `pool_report`.
# The web service runs as two gunicorn groups behind nginx (deploy/nginx.conf.template): heavy
# writes (POST /batch, POST /data-scans) in WEB_WRITE_CONCURRENCY processes, everything else in
# WEB_CONCURRENCY, so a batch being parsed never holds the interpreter lock a dashboard needs.
# Without nginx (one gunicorn for everything), set WEB_WRITE_CONCURRENCY=0.
WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", 1)
WEB_WRITE_CONCURRENCY = env_int("WEB_WRITE_CONCURRENCY", 1)
WEB_PROCESSES = WEB_CONCURRENCY + WEB_WRITE_CONCURRENCY
WEB_THREADS = env_int("WEB_THREADS", 8)
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 2)

# `pool_report`'s sizing rule (HikariCP "About Pool Sizing", PostgreSQL wiki): about
# 2 x cores + spindles connections doing work at once. 0 cores: detect them when the server is local.
DATABASE_SERVER_CORES = env_int("DATABASE_SERVER_CORES", 0)
DATABASE_SERVER_SPINDLES = env_int("DATABASE_SERVER_SPINDLES", 1)
# A connection idle inside an open transaction for this long is reported as a leak suspect.
POOL_LEAK_SUSPECT_SECONDS = env_int("POOL_LEAK_SUSPECT_SECONDS", 60)

# --- Request limits --------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#data-upload-max-memory-size
# DRF >= 3.17.2 applies this to JSON bodies too; 10,000 realistic activities are about 4 MB,
# so allow 25 MB (a 100,000-record data scan fits in about the same per-record budget below).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 25 * 1024 * 1024)
# A data scan's body is read block by block (inventory/scan_stream.py), never held whole, so its
# limit follows DATA_SCAN_MAX_RECORDS: 1,000,000 realistic records are about 520 MB of JSON.
DATA_SCAN_MAX_BODY_BYTES = env_int("DATA_SCAN_MAX_BODY_BYTES", 1_000_000_000)

# --- Idempotent POSTs (README "API", verisyntra/api/idempotency.py) ------------------------------
# How long a POST's Idempotency-Key keeps answering retries with the stored response: 24 h, the
# window Stripe's API gives; after it the same key is new again. Beat deletes expired keys hourly.
IDEMPOTENCY_KEY_TTL_SECONDS = env_int("IDEMPOTENCY_KEY_TTL_SECONDS", 24 * 3600)

# --- Data scans (README "Data scans") ------------------------------------------------------------
# Ingestion is streamed and staged chunk by chunk, so the web process's memory does not grow with it.
DATA_SCAN_MAX_RECORDS = env_int("DATA_SCAN_MAX_RECORDS", 1_000_000)
# Records stored, written and committed together with the scan's progress (benchmarks/scan.py).
DATA_SCAN_CHUNK_SIZE = env_int("DATA_SCAN_CHUNK_SIZE", 10_000)
# Retries of a scan task after a transient database error or a full pool, with backoff.
DATA_SCAN_MAX_RETRIES = env_int("DATA_SCAN_MAX_RETRIES", 5)
# The beat sweep: how often it runs (a processing scan whose worker died is dispatched again at
# the next sweep after the orphan grace: its run's liveness lock went with the worker, see
# inventory/scan_services.py); a pending scan never accepted by the broker is dispatched after the
# dispatch grace, one accepted but not started after the stall time (a lost message; a queue that
# long is unlikely). The stall time also bounds a run's wait for a chunk another run holds.
DATA_SCAN_SWEEP_SECONDS = env_int("DATA_SCAN_SWEEP_SECONDS", 10)
DATA_SCAN_DISPATCH_GRACE_SECONDS = env_int("DATA_SCAN_DISPATCH_GRACE_SECONDS", 30)
DATA_SCAN_STALL_SECONDS = env_int("DATA_SCAN_STALL_SECONDS", 600)
DATA_SCAN_ORPHAN_GRACE_SECONDS = env_int("DATA_SCAN_ORPHAN_GRACE_SECONDS", 5)

# --- Data sources and discovery scans (README "Data sources", docs/discovery.md) ------------------
# Hosts or CIDRs a data source may point at. Loopback only by default: a fresh install can scan a
# database on its own machine, nothing on the network until an operator lists it (an open default
# would let any tenant make the service connect anywhere it can reach). The service's own
# databases and broker are refused whatever this says (inventory/source_connections.py).
DATA_SOURCE_ALLOWED_HOSTS = env_list("DATA_SOURCE_ALLOWED_HOSTS", "127.0.0.0/8,::1,localhost")
# Fernet keys (comma-separated, newest first) that encrypt the sources' DSNs; empty derives one
# from SECRET_KEY, for development only (inventory/source_crypto.py says how to rotate).
DATA_SOURCE_ENCRYPTION_KEYS = env_list("DATA_SOURCE_ENCRYPTION_KEYS", "")
DATA_SOURCE_CONNECT_TIMEOUT_SECONDS = env_int("DATA_SOURCE_CONNECT_TIMEOUT_SECONDS", 5)
DATA_SOURCE_STATEMENT_TIMEOUT_MS = env_int("DATA_SOURCE_STATEMENT_TIMEOUT_MS", 5000)
# Values sampled per column: the cost of a discovery is bounded by tables x columns x this.
DATA_SOURCE_SAMPLE_ROWS = env_int("DATA_SOURCE_SAMPLE_ROWS", 100)
# How often beat looks for sources whose schedule is due, and how many it starts per look.
DATA_SOURCE_DISPATCH_SECONDS = env_int("DATA_SOURCE_DISPATCH_SECONDS", 30)
DATA_SOURCE_DISPATCH_BATCH = env_int("DATA_SOURCE_DISPATCH_BATCH", 50)
# The service's own databases as configured (host, port, name); kept here because a test run
# renames DATABASES' names to `test_...`, and the real ones must stay refused as sources too.
DATA_SOURCE_SERVICE_DATABASES = [
    (alias.get("HOST") or "127.0.0.1", int(alias.get("PORT") or 5432), alias["NAME"]) for alias in DATABASES.values() if alias.get("NAME")
]

# --- Auth, i18n, static ----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# API tokens (accounts/models.py): a new token expires after this many days (0: never); a rotated
# one keeps working this many hours after its replacement is issued, so clients switch without a gap.
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 90)
API_TOKEN_ROTATION_GRACE_HOURS = env_float("API_TOKEN_ROTATION_GRACE_HOURS", 24.0)
# Admin sign-in lockout (django-axes, https://django-axes.readthedocs.io/en/latest/4_configuration.html):
# after ADMIN_LOGIN_FAILURE_LIMIT failures from one client address, every sign-in from it, the right
# password included, is refused with the bilingual lockout page for ADMIN_LOGIN_COOLOFF_MINUTES
# (each refused attempt starts the wait again). Its backend runs first, so a refused attempt costs
# no password hashing. Attempts are counted in the Redis cache: no tables of its own.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("ADMIN_LOGIN_COOLOFF_MINUTES", 15.0))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# The cache handler never writes axes' models, so its migrations are not applied (no empty tables
# to own and grant); the attempts list lives in the cache, not in the admin.
MIGRATION_MODULES = {"axes": None}
AXES_ENABLE_ADMIN = False
# No start-up banner in every process and command; lockouts and failures are still logged.
AXES_VERBOSE = False
LANGUAGE_CODE = "en-us"
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"  # STATIC_ROOT and how static files are served: the block at the end

# --- Django REST framework -------------------------------------------------------------------
REST_FRAMEWORK = {
    # `Authorization: Token <token>` against accounts.ApiToken (digests only; expiry, revocation, tenant scope).
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.ApiTokenAuthentication"],
    # Counted in the Redis cache, shared by every process (accounts/throttling.py). `auth_failure`
    # is checked by the authentication itself, before a token is looked up.
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.AnonRateThrottle", "accounts.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON_RATE", "3000/min"),
        "user": env_str("API_THROTTLE_USER_RATE", "60000/min"),
        "auth_failure": env_str("API_THROTTLE_AUTH_FAILURE_RATE", "20/min"),
    },
    # How many proxies in front of the service append to X-Forwarded-For (nginx: 1). 0: the client
    # is REMOTE_ADDR and the header is ignored, since a client can write anything in it.
    "NUM_PROXIES": env_int("TRUSTED_PROXY_COUNT", 0),
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # The one place that turns exceptions into the bilingual error shape.
    "EXCEPTION_HANDLER": "verisyntra.api.errors.api_exception_handler",
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
    # One name for the PDPL category choices, whichever serializer field uses them.
    "ENUM_NAME_OVERRIDES": {"PdplCategoryEnum": "inventory.models.PdplCategory"},
}

# --- Celery ----------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
# Redis (redis://) or RabbitMQ (amqp://user:password@host:5672/vhost); docs/reliability.md says which
# to choose. The settings below serve both: each transport ignores the other's options.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")

# The Django cache, shared by every web process: read-your-writes positions of API callers
# (verisyntra.db.pinning). Redis, on the broker's server in a database of its own unless CACHE_URL
# says otherwise; https://docs.djangoproject.com/en/5.2/topics/cache/#redis
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": cache_url(CELERY_BROKER_URL),
        "KEY_PREFIX": "verisyntra",
        # A cache that does not answer within a second is treated as down (reads go to the primary).
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}
# RabbitMQ: queues are quorum queues (replicated, durable; RabbitMQ's recommended type for data
# that must not be lost), declared so by whoever declares them first, worker or publisher. Celery
# then turns off global QoS (quorum queues refuse it) and sends countdowns through its native
# delayed delivery. Redis ignores the queue type.
CELERY_TASK_DEFAULT_QUEUE_TYPE = "quorum"
CELERY_WORKER_DETECT_QUORUM_QUEUES = True
# Native delayed delivery works through topic exchanges only: with the default direct exchange, a
# retry's countdown would hold a worker process until it is due (Celery's "RabbitMQ quorum queues").
CELERY_TASK_DEFAULT_EXCHANGE_TYPE = "topic"
# RabbitMQ: a worker that stops answering heartbeats (a lost host, a partition) is disconnected
# after two missed ones, and its unacknowledged message requeued: about 20 s instead of 4 min.
CELERY_BROKER_HEARTBEAT = env_int("CELERY_BROKER_HEARTBEAT", 10)
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A pool child whose resident memory passes this many KiB is replaced after its current task
# (https://docs.celeryq.dev/en/stable/userguide/workers.html#max-memory-per-child-setting), so a
# leak never grows without bound; a scan's records stay in PostgreSQL, a child needs far less.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", 512 * 1024)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Redis: longer than the longest scan, or Redis hands a running scan to a second worker.
# RabbitMQ: a publish returns once the broker has the message (publisher confirms).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 6 * 3600),
    "confirm_publish": True,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Results older than a day are deleted by Celery's built-in `celery.backend_cleanup` task.
CELERY_RESULT_EXPIRES = env_int("CELERY_RESULT_EXPIRES", 24 * 3600)
CELERY_BEAT_SCHEDULE: dict = {
    "sweep-data-scans": {"task": "inventory.sweep_data_scans", "schedule": float(DATA_SCAN_SWEEP_SECONDS)},
    # One entry for every data source's own cron schedule (docs/discovery.md, "Schedules").
    "dispatch-data-sources": {"task": "inventory.dispatch_data_sources", "schedule": float(DATA_SOURCE_DISPATCH_SECONDS)},
    # Same key as Celery's own default entry (daily at 04:00), which this one replaces with hourly.
    "celery.backend_cleanup": {"task": "celery.backend_cleanup", "schedule": 3600.0},
    # Expired keys answer nothing already (the lookup checks expires_at); this only keeps the table small.
    "delete-expired-idempotency-keys": {"task": "inventory.delete_expired_idempotency_keys", "schedule": 3600.0},
    # Requests note a token's use in the cache (never a write of their own); this copies it to last_used_at.
    "persist-api-token-use": {"task": "accounts.persist_token_use", "schedule": 60.0},
}

# --- Logging ---------------------------------------------------------------------------------
# The pool-exhaustion audit log (health/audit.py) is its own logger with bare JSON lines, so
# operators can route it apart: POOL_AUDIT_LOG names a file (reopened when logrotate moves it),
# otherwise it goes to standard error.
POOL_AUDIT_LOG = env_str("POOL_AUDIT_LOG")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json_line": {"format": "%(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "pool_audit": (
            {"class": "logging.handlers.WatchedFileHandler", "filename": POOL_AUDIT_LOG, "formatter": "json_line"}
            if POOL_AUDIT_LOG
            else {"class": "logging.StreamHandler", "formatter": "json_line"}
        ),
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "dj_db_conn_pool": {"level": "WARNING"},
        "verisyntra.audit.pool": {"handlers": ["pool_audit"], "level": "INFO", "propagate": False},
    },
}

# --- Production hardening (`manage.py check --deploy`) ---------------------------------------
# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
# Secure by default: with DEBUG off the settings are the production ones, and `check --deploy`
# passes once SECRET_KEY and ALLOWED_HOSTS are set (docs/operations.md, "Running in production").
# Host names that only reach this machine (Django's test client calls itself "testserver").
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1", "testserver"})
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    # Behind a proxy that terminates TLS and says so in X-Forwarded-Proto (deploy/nginx.conf.template
    # passes a TLS terminator's value on). https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Plain HTTP is redirected to HTTPS, except where the service answers only to loopback names
    # (ALLOWED_HOSTS' default: scripts/dev, the tests, compose on a workstation): there no TLS
    # proxy exists to redirect to, and nothing crosses a network. SECURE_SSL_REDIRECT=false turns it
    # off elsewhere (a proxy that redirects by itself).
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not set(ALLOWED_HOSTS) <= LOOPBACK_HOSTS)
    # Load balancers and container health checks probe over plain HTTP: never redirect them.
    SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
    # HSTS: SecurityMiddleware sends it on HTTPS responses only, so a plain-HTTP run never sees it.
    # One year, subdomains and preload, as the preload list asks (https://hstspreload.org/); lower
    # SECURE_HSTS_SECONDS for a first rollout.
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- What people open in a browser: static files, the API docs' assets, Content-Security-Policy ---
# With DEBUG off Django serves no static files
# (https://docs.djangoproject.com/en/5.2/howto/static-files/deployment/), so the admin came up
# unstyled and without JavaScript. WhiteNoise serves STATIC_ROOT (filled by `collectstatic`, which
# scripts/dev and the Dockerfile run) from the application itself: one mechanism wherever gunicorn
# runs (behind scripts/dev's nginx, in the container, in the tests), with no proxy rule to keep in
# step. It goes right after SecurityMiddleware, as WhiteNoise's documentation asks, so static files
# skip the rest of the stack (sessions, pinning, pool audit).
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "whitenoise.middleware.WhiteNoiseMiddleware")
# Compressed copies (gzip) beside each file. Not the manifest (hashed names) variant: with it,
# every page that names a static file fails until `collectstatic` has run, tests included.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Swagger UI and ReDoc from drf-spectacular-sidecar: pinned copies served as our own static files,
# instead of a public CDN's "@latest" (a blank page offline, and a third party's script on the page
# where people paste their token). No validator badge: it would fetch an image from swagger.io.
INSTALLED_APPS.append("drf_spectacular_sidecar")
SPECTACULAR_SETTINGS.update(
    {
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
        "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    }
)
# Every response carries this policy (verisyntra/csp.py explains why). Scripts, fetches, fonts and
# images come only from this service (Swagger UI draws its icons as data: URLs). Inline styles are
# allowed: Swagger UI's page and the admin's progress bar use them, and a style cannot read a token.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
MIDDLEWARE.insert(MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1, "verisyntra.csp.ContentSecurityPolicyMiddleware")
