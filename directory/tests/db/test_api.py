"""The directory API: the same gate and policy as the pages, in JSON."""

import json
import secrets
import uuid
from collections.abc import Mapping
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken
from accounts.roles import Role
from accounts.services import api_token_hash
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from accounts.tests.second_factors import verified_session_key
from audit.models import AccessAction, AccessEvent
from directory.records import NewName
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory

pytestmark = pytest.mark.django_db

SEARCH = {
    "family_name": "Climbie",
    "given_name": "Victoria",
    "date_of_birth": "2015-11-02",
}


@pytest.fixture
def school():
    return SchoolFactory(parent_authority=LocalAuthorityFactory())


@pytest.fixture
def practitioner_client(school) -> Client:
    teacher = make_user(username="pat.teacher")
    grant(teacher, school, Role.PRACTITIONER)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(teacher)
    return client


def api_token_issue_for(user) -> str:
    raw = f"{secrets.token_hex(4)}.{secrets.token_urlsafe(32)}"
    ApiToken.objects.create(
        user=user,
        name="nightly feed",
        prefix=raw[:8],
        token_hash=api_token_hash(raw),
        created_by_id=user.pk,
    )
    return raw


def _child(**kwargs):
    return child_records_create(
        children=[NewChildFactory.build(**kwargs)], source=FEED_SOURCE
    )[0]


def _post(client: Client, url: str, body: Mapping[str, object]):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_search_finds_a_misspelt_child_and_is_audited(practitioner_client):
    created = _child()
    response = _post(
        practitioner_client,
        reverse("directory-api:search"),
        SEARCH | {"family_name": "Climbié"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["results"][0]["child_id"] == str(created.id)
    assert set(body["results"][0]) == {
        "child_id",
        "given_names",
        "family_name",
        "date_of_birth",
        "gender",
        "postcode_district",
        "score",
        "strength",
    }
    assert AccessEvent.objects.filter(action=AccessAction.SEARCH).count() == 1


def test_too_broad_search_is_refused_with_what_to_add_and_audited(
    practitioner_client,
):
    response = _post(
        practitioner_client, reverse("directory-api:search"), {"family_name": "Smith"}
    )
    assert response.status_code == 400
    assert "date of birth" in json.dumps(response.json())
    event = AccessEvent.objects.get(action=AccessAction.SEARCH)
    assert (event.outcome, event.reason) == ("denied", "query_too_broad")


def test_malformed_search_gets_field_errors(practitioner_client):
    response = _post(
        practitioner_client,
        reverse("directory-api:search"),
        {"family_name": "", "date_of_birth": "2015-13-45"},
    )
    assert response.status_code == 400
    assert {"family_name", "date_of_birth"} <= set(response.json())


def test_opening_needs_a_purpose_then_returns_the_record(practitioner_client):
    created = _child(names=(NewName("Victoria", "Climbié"),))
    url = reverse("directory-api:open", args=[created.id])

    without = _post(practitioner_client, url, {})
    assert without.status_code == 404

    opened = _post(practitioner_client, url, {"purpose": "providing_service"})
    assert opened.status_code == 200, opened.content
    record = opened.json()
    assert record["names"][0]["family_name"] == "Climbié"
    assert record["id"] == str(created.id)
    outcomes = list(
        AccessEvent.objects.filter(action=AccessAction.VIEW)
        .order_by("seq")
        .values_list("outcome", "reason")
    )
    assert outcomes == [("denied", "purpose_missing"), ("allowed", "granted")]


def test_other_purpose_needs_words_and_break_glass_needs_child_protection(
    practitioner_client,
):
    url = reverse("directory-api:open", args=[_child().id])
    other = _post(practitioner_client, url, {"purpose": "other"})
    assert other.status_code == 400
    assert "purpose_detail" in other.json()
    glass = _post(
        practitioner_client,
        url,
        {"purpose": "providing_service", "break_glass": True},
    )
    assert glass.status_code == 400
    assert "break_glass" in glass.json()


def test_missing_record_looks_like_a_forbidden_one(practitioner_client):

    response = _post(
        practitioner_client,
        reverse("directory-api:open", args=[uuid.uuid4()]),
        {"purpose": "providing_service"},
    )
    assert response.status_code == 404


def test_feed_system_token_reads_no_child_data(school):
    feed = make_user(username="feed.bot")
    grant(feed, school, Role.FEED_SYSTEM)
    token = api_token_issue_for(feed)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    created = _child()

    search = _post(client, reverse("directory-api:search"), SEARCH)
    opened = _post(
        client,
        reverse("directory-api:open", args=[created.id]),
        {"purpose": "providing_service"},
    )
    assert search.status_code == 403
    assert opened.status_code == 404
    assert set(
        AccessEvent.objects.filter(actor_id=feed.pk).values_list("outcome", flat=True)
    ) == {"denied"}


def test_anonymous_callers_are_refused():
    response = _post(Client(), reverse("directory-api:search"), SEARCH)
    assert response.status_code == 401


def test_breaking_glass_through_the_api_notifies_the_authority(
    practitioner_client, django_capture_on_commit_callbacks
):
    authority = LocalAuthorityFactory()
    shielded = child_records_create(
        children=[
            NewChildFactory.build(shielded=True, responsible_authority_id=authority.pk)
        ],
        source=FEED_SOURCE,
    )[0]
    url = reverse("directory-api:open", args=[shielded.id])
    with (
        mock.patch("directory.tasks.break_glass_notify.delay") as notify,
        django_capture_on_commit_callbacks(execute=True),
    ):
        refused = _post(practitioner_client, url, {"purpose": "child_protection"})
        opened = _post(
            practitioner_client,
            url,
            {"purpose": "child_protection", "break_glass": True},
        )
    assert refused.status_code == 404
    assert opened.status_code == 200
    notify.assert_called_once()
    assert notify.call_args.args[0] == str(shielded.id)
