"""Throttles: per person for sessions, per token for feed systems, and
per caller for the scoped calls; a refused call answers 429 with
Retry-After. The rates come from REST_FRAMEWORK (set from CP_API_RATE_*);
these tests lower them."""

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from accounts.roles import Role
from tests.api.world import person, post, token_identity

pytestmark = pytest.mark.django_db

ME = reverse("accounts-api:me")
SEARCH = {"family_name": "Climbie", "date_of_birth": "2015-11-02"}


def rates(**lowered: str):
    high = dict.fromkeys(
        settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "1000/minute"
    )
    return override_settings(
        REST_FRAMEWORK=settings.REST_FRAMEWORK
        | {"DEFAULT_THROTTLE_RATES": high | lowered}
    )


def test_a_person_over_their_rate_gets_429_with_retry_after(world, fresh_throttles):
    client = world.practitioner_a.client()
    with rates(person="2/minute"):
        answers = [client.get(ME) for _ in range(3)]
        colleague = world.practitioner_b.client().get(ME)

    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1]
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "throttled"
    assert colleague.status_code == 200, "counted per person"


def test_each_token_has_its_own_count(world, fresh_throttles):
    second_token = token_identity("feed system A, second token", world.feed_a.user)
    with rates(token="1/minute"):
        first = [world.feed_a.client().get(ME).status_code for _ in range(2)]
        second = second_token.client().get(ME).status_code

    assert first == [200, 429]
    assert second == 200


def test_searches_have_a_tighter_rate_of_their_own(world, fresh_throttles):
    url = reverse("directory-api:search")
    with rates(search="1/minute"):
        searches = [
            post(world.practitioner_a, url, SEARCH).status_code for _ in range(2)
        ]
        other_calls = world.practitioner_a.client().get(ME).status_code

    assert searches == [200, 429]
    assert other_calls == 200


def test_rates_come_from_the_environment():
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
        "person": "100000/minute",
        "token": "100000/minute",
        "search": "100000/minute",
        "audit_export": "100000/minute",
    }, "test settings set CP_API_RATE_* before base.py reads them"


def test_a_feed_system_and_a_person_are_counted_apart(world, fresh_throttles):
    system = token_identity(
        "feed system B, again", person("valley.two", world.school_b, Role.FEED_SYSTEM)
    )
    with rates(person="1/minute", token="1/minute"):
        assert system.client().get(ME).status_code == 200
        assert world.practitioner_b.client().get(ME).status_code == 200
