"""Settings shared by every environment, read from the environment (12-factor).

Nothing secret has a default here: a missing DJANGO_SECRET_KEY, DATABASE_URL,
REDIS_URL or encryption key stops the process at start-up with the variable's
name. ``dev.py`` and ``test.py`` supply local values; ``production.py`` only
asserts hardening on top of this file.
"""

from datetime import timedelta
from ipaddress import ip_network
from urllib.parse import urlsplit

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from contactpoint.settings.paths import BASE_DIR

env = environ.Env()


def required(name: str) -> str:
    """Return the environment variable, or refuse to start without it."""
    value = str(env.str(name, default=""))
    if not value:
        raise ImproperlyConfigured(
            f"The environment variable {name} is required and is not set. "
            "See docs/operations.md for how to generate it."
        )
    return value


SECRET_KEY = required("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

SERVICE_NAME = env.str("CP_SERVICE_NAME", default="Child contact directory")
#: The service's public address, for links in e-mails (never taken from the
#: request's Host header).
SITE_URL = env.str("CP_SITE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "axes",
    "contactpoint",
    "accounts",
    # After accounts: its models module asks for the user model on import.
    "django_otp_webauthn",
    "audit",
    "directory",
    "ingestion",
    "alerts",
]

MIDDLEWARE = [
    # First: every later middleware's log lines carry the request id, and
    # the metrics time the whole stack (contactpoint/logs.py, metrics.py).
    "contactpoint.logs.RequestIdMiddleware",
    "contactpoint.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # django-otp's middleware, for second-factor devices with UUID keys.
    "accounts.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages (they say why a session ended): idle and absolute
    # session limits, then default deny without a verified second factor.
    "accounts.middleware.SessionLifetimeMiddleware",
    "accounts.middleware.SecondFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "contactpoint.urls"
WSGI_APPLICATION = "contactpoint.wsgi.application"
ASGI_APPLICATION = "contactpoint.asgi.application"

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
                "contactpoint.context_processors.service",
                "alerts.context_processors.inbox",
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASES = {"default": env.db_url_config(required("DATABASE_URL"))}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A denial that raises must not roll back its own audit row (STYLE.md B3):
# services open their own transactions instead.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Optional read replica (a hot standby): only the search's candidate lookup
# reads from it; everything else stays on the primary (contactpoint/db_router.py).
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db_url_config(env.str("DATABASE_REPLICA_URL"))
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    # A replica that does not answer delays a search 3 s, then is skipped
    # for a while (db_router.py), instead of hanging it.
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
CP_REPLICA_READS = "replica" in DATABASES
DATABASE_ROUTERS = ["contactpoint.db_router.ReplicaRouter"] if CP_REPLICA_READS else []
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Refuses locked-out usernames and IP addresses before any password check.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading the session's user and their current
    # roles in one query (accounts/backends.py).
    "accounts.backends.AccountBackend",
]
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:sign-in"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
# GOV.UK Frontend comes from npm (package.json), never committed.
STATICFILES_DIRS = [
    ("govuk", BASE_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"),
    BASE_DIR / "static",
    # frontend/govuk.scss compiled by `npm run build:css` (make install).
    BASE_DIR / "build" / "static",
]
#: Only a service on GOV.UK may use GOV.UK's typeface (and crown): true loads
#: GOV.UK Frontend's own stylesheet; false (the default) a system font stack.
GOVUK_BRAND = env.bool("CP_GOVUK_BRAND", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Sessions: 15 minutes idle, never beyond the browser. The idle clock is
# refreshed (and the session row written) at most once a minute, not on every
# request: a write per page view was a fifth of a page's database time in the
# load test. So the idle limit holds to within CP_SESSION_TOUCH_SECONDS.
SESSION_COOKIE_AGE = env.int("CP_SESSION_IDLE_SECONDS", default=15 * 60)
CP_SESSION_TOUCH_SECONDS = env.int("CP_SESSION_TOUCH_SECONDS", default=60)
# ... and 10 hours after signing in, however active (accounts/middleware.py).
CP_SESSION_ABSOLUTE_SECONDS = env.int("CP_SESSION_ABSOLUTE_SECONDS", default=10 * 3600)
# Read from the cache (Redis), written through to the database: one database
# query fewer per page. Signing out deletes both copies, and the cached copy
# expires with the session.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# Passkeys (django-otp-webauthn; accounts/passkeys.py). Bound to the host of
# CP_SITE_URL: a passkey registered for one host never works on another, so
# changing CP_SITE_URL's host means everyone registers again. WebAuthn needs
# a secure context: https, or http on localhost / 127.0.0.1 for development.
OTP_WEBAUTHN_RP_ID = urlsplit(SITE_URL).hostname or "localhost"
OTP_WEBAUTHN_RP_NAME = SERVICE_NAME
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "CP_WEBAUTHN_ALLOWED_ORIGINS", default=[SITE_URL]
)
# A second factor only: nobody signs in with a passkey instead of a password.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_CREDENTIAL_MODEL = "accounts.PasskeyCredential"
OTP_WEBAUTHN_ATTESTATION_MODEL = "accounts.PasskeyAttestation"

# Lockout (django-axes; accounts/lockout.py, docs/architecture.md). Wrong
# passwords and wrong second-factor codes both count. Five failures for one
# username, or five from one IP address (separately: a list of single
# parameters, not a combination), lock sign-in for an hour after the last
# failure, or until an administrator unlocks the account. The same page
# answers for unknown usernames.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(hours=1)
# Attempts while locked out restart the hour: hammering keeps the lock on.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
# A correct password alone forgives nothing: only a complete two-factor
# sign-in clears the account's failures (accounts.views.sign_in_complete).
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# Never store what was typed (codes, tokens) in django-axes' records.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code", "csrfmiddlewaretoken"]
AXES_VERBOSE = False
# The IP address is the socket's (REMOTE_ADDR; django-ipware is not
# installed). Behind a reverse proxy, set AXES_CLIENT_IP_CALLABLE to read the
# proxy's header, or every user shares the proxy's address.

REDIS_URL = required("REDIS_URL")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
}

# Celery: tasks take ids only, so Redis never holds personal data.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="no-reply@localhost")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Every error as field errors (400) or {"detail", "code"}: accounts/api/errors.py.
    "EXCEPTION_HANDLER": "accounts.api.errors.api_exception_handler",
    # Per person (session) and per feed-system token, plus per-view scopes
    # (accounts/api/throttling.py); a refused call answers 429 + Retry-After.
    # Rates are "<number>/<second|minute|hour|day>".
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.api.throttling.CallerRateThrottle",
        "accounts.api.throttling.CallerScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        # Every call of one person, and of one feed system's token.
        "person": env.str("CP_API_RATE_PERSON", default="120/minute"),
        "token": env.str("CP_API_RATE_TOKEN", default="60/minute"),
        # Searches: the call that could harvest the directory.
        "search": env.str("CP_API_RATE_SEARCH", default="30/minute"),
        # Pages of an audit export (100,000 events are 100 pages of 1,000).
        "audit_export": env.str("CP_API_RATE_AUDIT_EXPORT", default="120/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Child contact directory API",
    "DESCRIPTION": (
        "For integrating systems: people with their signed-in session (second "
        "factor verified; CSRF header on writes), feed systems with their API "
        "token. Errors are JSON; calls are limited per person and per token "
        "(429 with Retry-After). See docs/api.md."
    ),
    "VERSION": "0.1.0",
    # Request bodies get components of their own, so the schema says which
    # strings may be empty (minLength) exactly as the API checks them.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "accounts.api.errors.document_unsupported_media_type",
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Field encryption and blind indexes (contactpoint/crypto). Keys come from the
# environment (or a KMS that fills it) and never from the database.
FIELD_ENCRYPTION_KEYS = required("CP_FIELD_ENCRYPTION_KEYS")
FIELD_ENCRYPTION_ACTIVE_VERSION = env.int(
    "CP_FIELD_ENCRYPTION_ACTIVE_VERSION", default=0
)
BLIND_INDEX_KEY = required("CP_BLIND_INDEX_KEY")

# The audit log (audit/, docs/audit-format.md). Checkpoints of the hash chain
# are signed with this Ed25519 key (base64 of a 32-byte seed) and written to
# the database and, one JSON line each, to files in AUDIT_CHECKPOINT_DIR,
# which belongs on storage the database's administrators cannot rewrite.
AUDIT_SIGNING_KEY = required("CP_AUDIT_SIGNING_KEY")
#: Public keys (base64, raw 32 bytes) of retired signing keys, so checkpoints
#: they signed still verify after the signing key is replaced.
AUDIT_PREVIOUS_PUBLIC_KEYS = env.list("CP_AUDIT_PREVIOUS_PUBLIC_KEYS", default=[])
AUDIT_CHECKPOINT_DIR = env.path(
    "CP_AUDIT_CHECKPOINT_DIR", default=BASE_DIR / "var" / "audit-checkpoints"
)
#: The database role the application runs as in production: it may only
#: INSERT and SELECT on the audit tables (audit/privileges.py).
DATABASE_APP_ROLE = env.str("CP_DATABASE_APP_ROLE", default="contactpoint_app")

# Logs (contactpoint/logs.py, docs/operations.md): one JSON object per line
# with the request id, or plain lines for people at a terminal (dev.py's
# default). Messages carry ids, counts and codes, never personal data.
LOG_FORMAT = env.str("CP_LOG_FORMAT", default="json")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("CP_LOG_FORMAT must be json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "contactpoint.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        },
        "json": {"()": "contactpoint.logs.JsonLogFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", "INFO")},
}
# Workers log through the configuration above, not Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Readiness (/readyz, contactpoint/health.py): the oldest a worker heartbeat
# (written every minute) and an audit event without a signed checkpoint
# (checkpoints every five minutes) may be before the service reports itself
# not ready.
HEALTH_WORKER_HEARTBEAT_MAX_SECONDS = env.int(
    "CP_HEALTH_WORKER_HEARTBEAT_MAX_SECONDS", default=5 * 60
)
HEALTH_AUDIT_CHECKPOINT_MAX_SECONDS = env.int(
    "CP_HEALTH_AUDIT_CHECKPOINT_MAX_SECONDS", default=15 * 60
)
# /metrics (contactpoint/metrics.py) answers only clients in these networks
# (CIDR, comma-separated) or with "Authorization: Bearer <CP_METRICS_TOKEN>";
# nobody when neither is set. Behind a proxy on the same host every client
# looks local: use the token there, never 127.0.0.1/32.
METRICS_ALLOWED_NETWORKS = env.list("CP_METRICS_ALLOWED_NETWORKS", default=[])
try:
    METRICS_ALLOWED_NETWORKS = [
        str(ip_network(network.strip(), strict=False))
        for network in METRICS_ALLOWED_NETWORKS
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"CP_METRICS_ALLOWED_NETWORKS: {exc}") from None
METRICS_TOKEN = env.str("CP_METRICS_TOKEN", default="")
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("CP_METRICS_TOKEN must be at least 32 characters.")

# Data feeds (ingestion/). Files larger than this, or with more children, are
# refused with a message saying how to split them.
FEED_MAX_BYTES = env.int("CP_FEED_MAX_BYTES", default=100 * 1024 * 1024)
FEED_MAX_ROWS = env.int("CP_FEED_MAX_ROWS", default=250_000)
# Rows applied per transaction: the checkpoint a killed worker resumes from.
FEED_CHUNK_ROWS = env.int("CP_FEED_CHUNK_ROWS", default=1_000)
# A run's rows are split into at most this many slices of whole chunks, which
# as many workers import side by side (a task each): set it to the workers'
# concurrency. 1 imports each run in one worker, chunk after chunk.
FEED_SLICES = env.int("CP_FEED_SLICES", default=2)
# Each feed source with a drop folder reads files from <this>/<folder>/ every
# night; a picked-up file moves to <this>/<folder>/received/.
FEED_DROP_DIR = env.path("CP_FEED_DROP_DIR", default=BASE_DIR / "var" / "feed-drop")

# Alerts (alerts/, docs/alerts.md). Openings of a flagged record (and new
# involvements) within this many minutes of the first join one alert per
# person and child, whose e-mail goes once; alerts older than
# ALERT_KEEP_DAYS are deleted nightly (the access log keeps the record).
ALERT_BATCH_MINUTES = env.int("CP_ALERT_BATCH_MINUTES", default=60)
ALERT_KEEP_DAYS = env.int("CP_ALERT_KEEP_DAYS", default=90)
