"""Fixtures for the operations tests (health, metrics, logs)."""

import os
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from contactpoint.health import HEARTBEAT_KEY
from contactpoint.metrics import FEED_ROWS_KEY, SEARCHES_KEY

#: Every key the operations code reads or writes, the broker's queue included.
_KEYS = (
    HEARTBEAT_KEY,
    SEARCHES_KEY,
    FEED_ROWS_KEY,
    "celery",
    *(f"celery\x06\x16{step}" for step in (3, 6, 9)),
)


@pytest.fixture
def private_redis(settings) -> Iterator[redis.Redis]:
    """REDIS_URL and the Celery broker on a Redis database of this test
    process's own (the next one after REDIS_URL's, one per xdist worker), with
    the operations keys cleared: service-wide counters, the heartbeat and the
    queue are then this test's alone, whatever runs in parallel."""
    parts = urlsplit(settings.REDIS_URL)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    database = (int(parts.path.strip("/") or 0) + 1 + int(worker or 0)) % 16
    url = urlunsplit(parts._replace(path=f"/{database}"))
    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = url
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    client.delete(*_KEYS)
    yield client
    client.delete(*_KEYS)
    client.close()


@pytest.fixture
def closed_port() -> int:
    """A TCP port on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
