"""Settings for the load test's gunicorn and Celery worker (benchmarks/load.py).

The test settings (published keys, DEBUG off, a Celery broker named by
CP_TEST_CELERY_BROKER_URL) with what a request costs in production put back:
passwords hashed with Django's default PBKDF2 (the test settings' MD5 would
make signing in free) and the Redis cache that base.py configures, shared by
every gunicorn worker, instead of one in-memory cache per process.
"""

from contactpoint.settings.test import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,  # noqa: F405
    }
}
