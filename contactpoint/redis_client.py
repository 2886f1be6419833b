"""The service's Redis (``REDIS_URL``) for health checks and metrics.

Short timeouts: a Redis that has gone away must make a readiness check fail
and a metric go missing within a second, never hang a request. Clients are
cached per URL (each holds a connection pool), so tests that point
``REDIS_URL`` elsewhere get a client for that URL.
"""

from functools import lru_cache

import redis
from django.conf import settings

#: Seconds to connect, and to wait for an answer.
TIMEOUT_SECONDS = 0.5


def service_redis() -> redis.Redis:
    """A client for ``settings.REDIS_URL``."""
    return redis_for(settings.REDIS_URL)


@lru_cache(maxsize=8)
def redis_for(url: str) -> redis.Redis:
    """A client for ``url`` with short timeouts."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=TIMEOUT_SECONDS,
        socket_timeout=TIMEOUT_SECONDS,
        health_check_interval=30,
    )
