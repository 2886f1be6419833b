"""Test settings: real PostgreSQL (tests/embedded_services.py sets DATABASE_URL),
fast password hashing, in-memory cache, e-mail and Celery broker.

The keys below are published test values that protect nothing: production
refuses any key that appears in this file (contactpoint/settings/production.py).
"""

import os
import tempfile

from contactpoint.settings.published_test_keys import (
    TEST_AUDIT_SIGNING_KEY,
    TEST_BLIND_INDEX_KEY,
    TEST_FIELD_ENCRYPTION_KEYS,
    TEST_SECRET_KEY,
)

os.environ.setdefault("DJANGO_SECRET_KEY", TEST_SECRET_KEY)
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CP_FIELD_ENCRYPTION_KEYS", TEST_FIELD_ENCRYPTION_KEYS)
os.environ.setdefault("CP_FIELD_ENCRYPTION_ACTIVE_VERSION", "1")
os.environ.setdefault("CP_BLIND_INDEX_KEY", TEST_BLIND_INDEX_KEY)
os.environ.setdefault("CP_AUDIT_SIGNING_KEY", TEST_AUDIT_SIGNING_KEY)
# API throttles no test trips by accident (tests/api/test_throttling.py
# lowers them on purpose).
os.environ.setdefault("CP_API_RATE_PERSON", "100000/minute")
os.environ.setdefault("CP_API_RATE_TOKEN", "100000/minute")
os.environ.setdefault("CP_API_RATE_SEARCH", "100000/minute")
os.environ.setdefault("CP_API_RATE_AUDIT_EXPORT", "100000/minute")
# Checkpoint files of this test process only (xdist workers never share one).
os.environ.setdefault(
    "CP_AUDIT_CHECKPOINT_DIR", tempfile.mkdtemp(prefix="cp-audit-checkpoints-")
)

from contactpoint.settings.base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The end-to-end feed test starts a real worker on Redis with this set.
CELERY_BROKER_URL = os.environ.get("CP_TEST_CELERY_BROKER_URL", "memory://")
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Static files come from the finders (collectstatic is a production build step).
STATIC_ROOT = None  # type: ignore[assignment]  # no collectstatic in tests
WHITENOISE_USE_FINDERS = True

# A second database standing in for the read replica, for the routing tests
# only (contactpoint/tests/db/test_db_router.py): DATABASE_REPLICA_URL when
# set, else another database on the primary's server. pytest-django creates
# it only for tests that ask for it. Replica reads and the router stay off for
# every other test (a separate database is not replicated, and with a router
# installed makemigrations would check the replica's history too); those
# tests switch them on.
DATABASES.setdefault(  # noqa: F405
    "replica",
    {**DATABASES["default"], "NAME": f"{DATABASES['default']['NAME']}_replica"},  # noqa: F405
)
DATABASES["replica"]["TEST"] = {  # noqa: F405
    "NAME": f"test_{DATABASES['default']['NAME']}_replica"  # noqa: F405
}
CP_REPLICA_READS = False
DATABASE_ROUTERS = []
