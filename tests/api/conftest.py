"""Fixtures for the API tests: the world, and the API's schema loaded the way
an integrating system reads it (GET /api/schema/, signed in), in-process."""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from contactpoint.wsgi import application
from tests.api.world import ApiWorld, api_world


@pytest.fixture
def world(db) -> ApiWorld:
    return api_world()


@pytest.fixture
def fresh_throttles():
    """Throttle counts live in the cache: start and end each test without any."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def in_process_wsgi():
    """The project's WSGI application, inside the test's transaction.

    Django closes the database connection at the start and end of each
    request it handles; inside a test that would throw the test's
    transaction away (Django's test client suspends it the same way).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(world, in_process_wsgi):
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json",
        in_process_wsgi,
        # A feed system's token: the WSGI client would drop a Cookie header.
        headers=world.feed_a.headers,
        # The cases send each identity's credentials, never generated ones.
        config=schemathesis.Config.from_dict(
            {"generation": {"with-security-parameters": False}}
        ),
    )
