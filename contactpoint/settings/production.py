"""Production: everything comes from base.py; this file only asserts hardening.

The process refuses to start when a secret is missing, short, or one of the
published development/test values, when DEBUG is on, or when cookies could
travel over plain HTTP.
"""

from django.core.exceptions import ImproperlyConfigured

from audit.chain import signing_key_load
from contactpoint.crypto.errors import KeyConfigurationError
from contactpoint.crypto.keys import BlindIndexRoot, FieldKeyRing
from contactpoint.settings.base import *  # noqa: F403
from contactpoint.settings.base import (
    AUDIT_SIGNING_KEY,
    BLIND_INDEX_KEY,
    DEBUG,
    FIELD_ENCRYPTION_ACTIVE_VERSION,
    FIELD_ENCRYPTION_KEYS,
    SECRET_KEY,
    SITE_URL,
    env,
)
from contactpoint.settings.published_test_keys import (
    TEST_AUDIT_SIGNING_KEY,
    TEST_BLIND_INDEX_KEY,
    TEST_FIELD_ENCRYPTION_KEYS,
)

SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Probes and Prometheus call the instances over plain HTTP inside the
# network: a redirect would pass any probe (contactpoint/health.py).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"


def _refuse(reason: str) -> None:
    raise ImproperlyConfigured(f"Refusing to start in production: {reason}")


if DEBUG:
    _refuse("DJANGO_DEBUG is on.")
if (
    len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
    or SECRET_KEY.startswith(("django-insecure", "test-only", "dev-only"))
):
    _refuse("DJANGO_SECRET_KEY is missing, short or a development value.")
_published_field_keys = {
    part.split(":", 1)[1] for part in TEST_FIELD_ENCRYPTION_KEYS.split(",")
}
if any(
    part.split(":", 1)[-1].strip() in _published_field_keys
    for part in FIELD_ENCRYPTION_KEYS.split(",")
):
    _refuse("CP_FIELD_ENCRYPTION_KEYS contains a published test key.")
if BLIND_INDEX_KEY == TEST_BLIND_INDEX_KEY:
    _refuse("CP_BLIND_INDEX_KEY is the published test key.")
if AUDIT_SIGNING_KEY == TEST_AUDIT_SIGNING_KEY:
    _refuse("CP_AUDIT_SIGNING_KEY is the published test key.")
if not env.str("CP_AUDIT_CHECKPOINT_DIR", default=""):
    _refuse(
        "CP_AUDIT_CHECKPOINT_DIR is not set: audit checkpoints must go to "
        "storage outside the database (docs/operations.md)."
    )
try:
    FieldKeyRing.parse(FIELD_ENCRYPTION_KEYS, FIELD_ENCRYPTION_ACTIVE_VERSION)
    BlindIndexRoot.parse(BLIND_INDEX_KEY)
    signing_key_load(AUDIT_SIGNING_KEY)
except (KeyConfigurationError, ValueError) as exc:
    _refuse(str(exc))
if not SITE_URL.startswith("https://"):
    _refuse("CP_SITE_URL must be the service's https:// address.")
if not (SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE):
    _refuse("cookies must be secure.")
