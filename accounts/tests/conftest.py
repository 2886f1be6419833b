"""Fixtures for accounts tests, and for any app's tests that need a user
signed in with both factors."""

from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import User
from accounts.tests.second_factors import verified_session_key


@pytest.fixture
def verified_client() -> Callable[[User], Client]:
    """Make a test Client signed in as a user with a password *and* a second
    factor (an authenticator app, created if the user has none).

    Usage: ``client = verified_client(user)``. The test needs database access
    (``pytest.mark.django_db``).
    """

    def make(user: User) -> Client:
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(user)
        return client

    return make
