"""Settings: one module, every deployment choice read from the environment.

Without any variable the project runs embedded: SQLite in ``var/``, Celery on a filesystem broker
in ``var/broker`` (no server to install). Production sets ``DATABASE_URL`` (PostgreSQL),
``REDIS_URL``, ``SECRET_KEY``, ``IDENTIFIER_KEYS`` and ``ALLOWED_HOSTS``; see ``.env.example``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from config.env import (
    database_lock_options,
    env_bool,
    env_date,
    env_int,
    env_list,
    env_str,
    postgres_setting,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# Relative paths are taken from the project directory, whatever the working directory.
VAR_DIR = BASE_DIR / (env_str("VAR_DIR") or "var")

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: set SECRET_KEY (or SECRET_KEY_FILE), or DEBUG=1 to develop."
        )
    SECRET_KEY = "insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "cohort",
    "followup",
    "analytics",
    "quality",
    "safety",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.SessionMiddleware",
    "accounts.middleware.SessionRenewalMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "config.middleware.NoStoreMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# Stock widgets written in Python (the call page has some three hundred inputs).
FORM_RENDERER = "config.form_renderer.WidgetRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "config.context_processors.navigation",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://user:pass@host:5432/name) or the embedded SQLite file.
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker) share the file: wait for locks instead of failing at once.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that a worker process started by the tests sees the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
IS_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
# A write waits at most this long for a lock held by another request or the worker; then the
# page says the database did not accept the save and keeps the input (config/saves.py).
DB_LOCK_TIMEOUT_SECONDS = env_int("DB_LOCK_TIMEOUT_SECONDS", 20)
DATABASES["default"]["OPTIONS"] = database_lock_options(
    DATABASES["default"]["ENGINE"],
    DB_LOCK_TIMEOUT_SECONDS,
    DATABASES["default"].get("OPTIONS", {}),
)
# Parallel query on the primary's connections, web and worker (max_parallel_workers_per_gather).
# On a small machine the worklist's counts are faster without it: each parallel worker waits for
# a core and builds its own hash (docs/operations.md). Empty: the server's own setting.
DB_PARALLEL_WORKERS = env_str("DB_PARALLEL_WORKERS", "0") or ""
if DB_PARALLEL_WORKERS and not IS_SQLITE:
    if not DB_PARALLEL_WORKERS.isdigit():
        raise ImproperlyConfigured(
            f"DB_PARALLEL_WORKERS={DB_PARALLEL_WORKERS} must be a whole number or empty"
        )
    DATABASES["default"]["OPTIONS"] = postgres_setting(
        DATABASES["default"]["OPTIONS"], "max_parallel_workers_per_gather", DB_PARALLEL_WORKERS
    )

# Read replica: DATABASE_REPLICA_URL (a PostgreSQL streaming replica of DATABASE_URL). The
# analysis reads the study from it (analytics.routers); pages and every write stay on default.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL") or ""
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    # Tests read the replica through the test database itself.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# The alias the analysis reads the study from.
ANALYSIS_DATABASE = "replica" if DATABASE_REPLICA_URL else "default"
DATABASE_ROUTERS = ["analytics.routers.AnalysisReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.PublishedPasswordValidator"},
    {"NAME": "accounts.validators.RepetitivePasswordValidator"},
]

# Internationalisation: the study runs in France; each user picks English or French.
LANGUAGE_CODE = env_str("LANGUAGE_CODE") or "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date format per language on every page (config/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env_str("TIME_ZONE") or "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Identifiers (names, phones) are encrypted at rest with Fernet keys, newest first; older keys
# still decrypt so that a rotation can re-encrypt (manage.py rotate_identifier_keys).
_identifier_keys = env_list("IDENTIFIER_KEYS")
if not _identifier_keys:
    if not DEBUG:
        raise ImproperlyConfigured(
            "IDENTIFIER_KEYS is not set: give one or more Fernet keys, comma-separated, newest "
            "first (python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        )
    # Development only: a key derived from the development secret, stable across restarts.
    _identifier_keys = [
        base64.urlsafe_b64encode(
            hashlib.sha256(f"identifiers:{SECRET_KEY}".encode()).digest()
        ).decode()
    ]
IDENTIFIER_KEYS = _identifier_keys

# Cache and Celery: Redis when REDIS_URL is set; otherwise local memory and a filesystem broker.
REDIS_URL = env_str("REDIS_URL") or ""
if REDIS_URL:
    # Pages do without the cache when Redis is down (config.cache): short timeouts, so that an
    # outage costs a page a fraction of a second, not a hang.
    CACHES = {
        "default": {
            "BACKEND": "config.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    # A file cache, so that the web process and the worker see the same entries (heartbeat).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    _broker_dir = VAR_DIR / "broker"
    # The filesystem transport needs its folders; create them so a fresh clone just works.
    for _folder in ("out", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# Memory of this process only, for answers that may be a minute old (followup.views.call_scores).
CACHES["process"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "process",
    "TIMEOUT": 60,
    "OPTIONS": {"MAX_ENTRIES": 10000},
}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 15 * 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 20 * 60)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "analytics.tasks.worker_heartbeat", "schedule": 60.0},
    "analysis-sweep": {"task": "analytics.tasks.sweep_runs", "schedule": 60.0},
    "analysis-nightly": {
        "task": "analytics.tasks.nightly_reanalysis",
        "schedule": crontab(
            hour=env_int("ANALYSIS_NIGHTLY_HOUR", 2), minute=env_int("ANALYSIS_NIGHTLY_MINUTE", 30)
        ),
    },
    # Data-quality rules (quality.tasks): every QUALITY_RULES_MINUTES minutes, and after runs.
    "quality-rules": {
        "task": "quality.tasks.run_rules",
        "schedule": 60.0 * env_int("QUALITY_RULES_MINUTES", 60),
        "options": {"queue": env_str("ANALYSIS_QUEUE") or "analysis"},
    },
    # Safety alerts left unacknowledged for SAFETY_ACK_HOURS go to the data managers.
    "safety-escalation": {
        "task": "safety.tasks.escalate_alerts",
        "schedule": 60.0 * env_int("SAFETY_ESCALATION_MINUTES", 15),
    },
}

# Re-analysis: saves within the debounce delay share one run, which waits at most the maximum
# delay; a run silent for the stale delay is failed; the queue the analysis tasks go to (its own,
# so that the web-facing tasks on the default "celery" queue never wait behind a re-analysis).
ANALYSIS_QUEUE = env_str("ANALYSIS_QUEUE") or "analysis"
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "analytics.tasks.run_analysis": {"queue": ANALYSIS_QUEUE},
    "analytics.tasks.nightly_reanalysis": {"queue": ANALYSIS_QUEUE},
    "quality.tasks.run_rules": {"queue": ANALYSIS_QUEUE},
    "quality.tasks.compute_monitoring": {"queue": ANALYSIS_QUEUE},
}
ANALYSIS_DEBOUNCE_SECONDS = env_int("ANALYSIS_DEBOUNCE_SECONDS", 10)
ANALYSIS_MAX_WAIT_SECONDS = env_int("ANALYSIS_MAX_WAIT_SECONDS", 120)
ANALYSIS_STALE_SECONDS = env_int("ANALYSIS_STALE_SECONDS", 900)
# A queued run the broker never got is sent again by the minute sweep after this delay.
ANALYSIS_REDISPATCH_SECONDS = env_int("ANALYSIS_REDISPATCH_SECONDS", 300)
ANALYSIS_ON_COMMIT = env_bool("ANALYSIS_ON_COMMIT", default=True)
# How often an open dashboard asks whether a newer run exists (seconds): while a run is under
# way, and otherwise.
ANALYSIS_POLL_ACTIVE_SECONDS = env_int("ANALYSIS_POLL_ACTIVE_SECONDS", 2)
ANALYSIS_POLL_IDLE_SECONDS = env_int("ANALYSIS_POLL_IDLE_SECONDS", 30)
# Threads the linear algebra library (OpenBLAS) may use during a re-analysis. The models multiply
# small matrices many times over: on a machine whose cores are shared with the web server and
# other workers, one thread is several times faster than many (docs/operations.md).
ANALYSIS_BLAS_THREADS = env_int("ANALYSIS_BLAS_THREADS", 1)
# Threads a re-analysis may use for its independent pieces (the trajectory models of the sweep,
# blocks of bootstrap resamples): each runs whole on one thread, so they do not wait on each
# other as a product split across threads does. The results do not depend on it.
ANALYSIS_THREADS = env_int("ANALYSIS_THREADS", 2)
# Overrides of analytics.report.Parameters (bootstrap resamples, seed, trajectory sweep).
ANALYSIS_PARAMETERS: dict[str, object] = {
    "n_boot": env_int("ANALYSIS_BOOTSTRAP_RESAMPLES", 1000),
    "seed": env_int("ANALYSIS_SEED", 2023),
}
# Exports (docs/operations.md): a download built less than this many seconds ago is sent again
# instead of being rebuilt (0: every download is built for its request).
EXPORT_SNAPSHOT_SECONDS = env_int("EXPORT_SNAPSHOT_SECONDS", 30)
# The largest file `import_dataset` reads (each of the data and administrations files), in MB.
# The file is read in chunks (memory grows with the patients, not the file); the limit bounds
# the time and the transaction of one import.
IMPORT_MAX_MB = env_int("IMPORT_MAX_MB", 100)
if IMPORT_MAX_MB < 1:
    raise ImproperlyConfigured("IMPORT_MAX_MB must be 1 or more")
# The health check calls the worker stale when its last heartbeat is older than this.
WORKER_HEARTBEAT_MAX_AGE = env_int("WORKER_HEARTBEAT_MAX_AGE", 180)

# Follow-up cockpit: the Nth unreached attempt of a call marks it missed; this many consecutive
# missed calls propose the patient to the data managers as lost to follow-up.
CALL_FAILED_ATTEMPTS_TO_MISS = env_int("CALL_FAILED_ATTEMPTS_TO_MISS", 5)
LOST_TO_FOLLOW_UP_AFTER_MISSED = env_int("LOST_TO_FOLLOW_UP_AFTER_MISSED", 3)
# The study period (cohort.plausible): nothing is dated before the start; calls are never
# planned after the end (none: open-ended). The default start precedes the founding study's
# enrolment (July 2016) so that its data and the demo cohorts load.
STUDY_START = env_date("STUDY_START", dt.date(2016, 1, 1))
STUDY_END = env_date("STUDY_END", None)
if STUDY_START is None or (STUDY_END is not None and STUDY_END < STUDY_START):
    raise ImproperlyConfigured("STUDY_END must not be before STUDY_START")
if CALL_FAILED_ATTEMPTS_TO_MISS < 1 or LOST_TO_FOLLOW_UP_AFTER_MISSED < 1:
    raise ImproperlyConfigured(
        "CALL_FAILED_ATTEMPTS_TO_MISS and LOST_TO_FOLLOW_UP_AFTER_MISSED must be 1 or more"
    )

# Safety (docs/safety.md): a serious or severe adverse effect alerts the site's clinicians by
# mail; unacknowledged after this many hours, the alert is escalated to the data managers.
SAFETY_ACK_HOURS = env_int("SAFETY_ACK_HOURS", 24)
if SAFETY_ACK_HOURS < 1:
    raise ImproperlyConfigured("SAFETY_ACK_HOURS must be 1 or more")
# The address the links in mails start with.
SITE_URL = env_str("SITE_URL") or "http://127.0.0.1:8000"
# Mail: printed on the console unless EMAIL_HOST is set (SMTP, with TLS by default).
EMAIL_HOST = env_str("EMAIL_HOST") or ""
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "safety@followup.invalid"

API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50)
if not 1 <= API_PAGE_SIZE <= 1000:
    raise ImproperlyConfigured(f"API_PAGE_SIZE={API_PAGE_SIZE} must be from 1 to 1000")
# REST API (docs/api.md): token or session authentication (token first, so that a request
# without valid credentials is a 401), every endpoint checks the role and scopes its rows to the
# user's sites; pages of API_PAGE_SIZE rows, ?page_size= up to 1,000.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.api_schema.StudyAutoSchema",
    "EXCEPTION_HANDLER": "config.api.handle_exception",
    "DATETIME_FORMAT": "iso-8601",
    # JSON bodies nested deeper than JSON_MAX_DEPTH are refused with 400 (config.api).
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
JSON_MAX_DEPTH = 32
# API tokens end this many days after they were issued (POST /api/v1/auth/token/rotate/ issues
# a new one); a new password, a deactivation or a new role ends them at once.
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90)
# The schema and its documentation page (Swagger UI) are served from our static files, no CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "Ketamine follow-up API",
    "DESCRIPTION": (
        "Sites, patients, administrations, calls and questionnaires, analysis runs and exports "
        "of the ketamine chronic-pain cohort. Authenticate with a session or with "
        "`Authorization: Token <key>` (POST /api/v1/auth/token/). See docs/api.md."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    # The schema and its page are for signed-in users only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PatientStatusEnum": "cohort.vocabulary.PATIENT_STATUSES",
        "CallStatusEnum": "cohort.vocabulary.CALL_STATUSES",
        "AnalysisRunStatusEnum": "analytics.models.AnalysisRun.Status",
        "MissingReasonEnum": "cohort.vocabulary.MISSING_REASONS",
        "AdverseEffectOutcomeEnum": "cohort.vocabulary.AE_OUTCOMES",
        "RelationToKetamineEnum": "cohort.vocabulary.AE_RELATIONS",
        "PainGroupEnum": "followup.models.baseline.PAIN_GROUPS",
    },
}

# A request body (forms, JSON) larger than this is refused with 413; uploaded files are not
# counted. Questionnaires and enrolments are a few kilobytes.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_MAX_KB", 2560) * 1024

# Security: strict unless DEBUG. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER.
SESSION_COOKIE_HTTPONLY = True
# A session ends after this many minutes without a request: a request renews it when the last
# renewal is older than SESSION_RENEW_SECONDS (accounts.middleware.SessionRenewalMiddleware).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
# Sessions are read from the cache (Redis in production) and written through to the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_RENEW_SECONDS = env_int("SESSION_RENEW_SECONDS", 60)
# Secure cookies unless DEBUG; turning them off is for plain-HTTP loopback tests only.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers and container health checks call /health/ over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Networks of the proxies in front of the web process (CIDR, comma-separated): X-Forwarded-For
# is read only on connections from them; empty, the connection's own address is the client.
TRUSTED_PROXY_NETWORKS = env_list("TRUSTED_PROXY_NETWORKS")
try:
    for _network in TRUSTED_PROXY_NETWORKS:
        ipaddress.ip_network(_network, strict=False)
except ValueError as _error:
    raise ImproperlyConfigured(f"TRUSTED_PROXY_NETWORKS: {_error}") from _error

# Failed sign-ins (django-axes): after LOGIN_FAILURE_LIMIT failures for one username from one
# address, that pair is refused for LOGIN_COOLOFF_MINUTES; a successful sign-in resets the count.
AUTHENTICATION_BACKENDS = [
    "accounts.security.AddressLimitBackend",
    "axes.backends.AxesStandaloneBackend",
    # The model backend, with the signed-in user kept in the cache (accounts.backends).
    "accounts.backends.CachedModelBackend",
]
# A cached user is read again from the database after this long even if nothing said it changed.
USER_CACHE_SECONDS = env_int("USER_CACHE_SECONDS", 300)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
# Failed sign-ins from one address, whatever the usernames, before the address is refused for
# the cool-off (accounts.security.address_locked).
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 30)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The lock ends when the page says, even if attempts go on meanwhile.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.security.client_ip"
AXES_VERBOSE = False

# Second factor (TOTP, django-otp): required for these roles, optional for the others.
SECOND_FACTOR_REQUIRED_ROLES = env_list("SECOND_FACTOR_REQUIRED_ROLES", ["data_manager"])
_unknown_roles = set(SECOND_FACTOR_REQUIRED_ROLES) - {role.value for role in Role}
if _unknown_roles:
    raise ImproperlyConfigured(f"SECOND_FACTOR_REQUIRED_ROLES has unknown roles: {_unknown_roles}")
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER") or "Ketamine follow-up"
OTP_TOTP_THROTTLE_FACTOR = 1

# The audit trail is read only in the administration site: past versions are shown, never
# restored or edited (cohort.admin_base.ClinicalAdmin refuses a POST to them as well).
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_EDIT = False

# Content Security Policy: only this origin's scripts, styles, images and connections.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # plotly adds <style> elements on the analysis dashboard (docs/security.md).
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    }
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
