"""The feeds API: a feed system sends files for its own sources and follows
their runs; everyone else is refused, and refused sends are audited."""

import secrets
from dataclasses import dataclass
from typing import cast
from uuid import UUID, uuid4

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, Organisation, User
from accounts.roles import Role
from accounts.services import api_token_hash
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from accounts.tests.second_factors import verified_session_key
from audit.models import AccessAction, AccessEvent
from ingestion.models import Channel, FeedFile, FeedRun, FeedSource, RunStatus
from ingestion.services import feed_run_process
from ingestion.tests.factories import (
    BAD_NHS_NUMBER,
    FeedSourceFactory,
    csv_feed,
    csv_row,
)

pytestmark = pytest.mark.django_db

FILE = csv_feed(
    csv_row(given="Amara", family="Mensah", born="2015-06-01", nhs_number="9434765919"),
    csv_row(
        given="Ben", family="Ashworth", born="2015-01-02", nhs_number=BAD_NHS_NUMBER
    ),
)


@dataclass
class World:
    school: Organisation
    source: FeedSource
    other_source: FeedSource
    feed_system: User
    token: str
    other_token: str


def _token_for(user: User) -> str:
    raw = f"{secrets.token_hex(4)}.{secrets.token_urlsafe(32)}"
    ApiToken.objects.create(
        user=user,
        name="nightly feed",
        prefix=raw[:8],
        token_hash=api_token_hash(raw),
        created_by_id=user.pk,
    )
    return raw


@pytest.fixture
def world() -> World:
    authority = LocalAuthorityFactory(name="Northshire Council")
    school = cast(
        Organisation, SchoolFactory(name="Hilltop Primary", parent_authority=authority)
    )
    other_school = cast(
        Organisation, SchoolFactory(name="Valley Primary", parent_authority=authority)
    )
    source = cast(
        FeedSource, FeedSourceFactory(organisation=school, name="Hilltop pupils")
    )
    other_source = cast(
        FeedSource, FeedSourceFactory(organisation=other_school, name="Valley pupils")
    )
    feed_system = make_user(username="hilltop.mis", first_name="Hilltop MIS")
    grant(feed_system, school, Role.FEED_SYSTEM)
    other_system = make_user(username="valley.mis", first_name="Valley MIS")
    grant(other_system, other_school, Role.FEED_SYSTEM)
    return World(
        school=school,
        source=source,
        other_source=other_source,
        feed_system=feed_system,
        token=_token_for(feed_system),
        other_token=_token_for(other_system),
    )


def _files_url(source: FeedSource | int) -> str:
    pk = source if isinstance(source, int) else source.pk
    return reverse("feeds-api:source-files", args=[pk])


def _send(token: str, source: FeedSource | int, data: bytes | None = FILE):
    body = {} if data is None else {"file": SimpleUploadedFile("feed.csv", data)}
    return Client().post(
        _files_url(source), body, headers={"Authorization": f"Bearer {token}"}
    )


def _status(token: str, run_id):
    return Client().get(
        reverse("feeds-api:run", args=[run_id]),
        headers={"Authorization": f"Bearer {token}"},
    )


def _receive_events() -> list[tuple[str, str]]:
    return list(
        AccessEvent.objects.filter(action=AccessAction.FEED_RECEIVE)
        .order_by("seq")
        .values_list("outcome", "reason")
    )


# Sending a file ------------------------------------------------------------------


def test_a_feed_system_sends_a_file_and_gets_its_run(world):
    response = _send(world.token, world.source)

    assert response.status_code == 202, response.content
    run = FeedRun.objects.get()
    body = response.json()
    assert body == {
        "run": str(run.pk),
        "status": "queued",
        "status_url": f"http://testserver{reverse('feeds-api:run', args=[run.pk])}",
        "duplicate": False,
    }
    assert (run.channel, run.received_by_id) == (Channel.API, world.feed_system.pk)
    assert _receive_events() == [("allowed", "received")]
    event = AccessEvent.objects.get(action=AccessAction.FEED_RECEIVE)
    assert event.actor_id == world.feed_system.pk


def test_the_same_file_again_is_a_duplicate_that_imports_nothing(world):
    first = _send(world.token, world.source).json()

    again = _send(world.token, world.source)

    assert again.status_code == 200
    assert again.json() == first | {"duplicate": True}
    assert FeedRun.objects.count() == 1
    assert FeedFile.objects.count() == 1
    assert _receive_events() == [
        ("allowed", "received"),
        ("allowed", "already_received"),
    ]


def test_a_file_too_large_is_refused_with_a_clear_error(world, settings):
    settings.FEED_MAX_BYTES = 100

    response = _send(world.token, world.source, b"x" * 5000)

    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "too_large"
    assert "Split it into smaller files" in body["detail"]
    run = FeedRun.objects.get(pk=body["run"])
    assert run.status == RunStatus.REJECTED
    assert run.file is None
    assert not FeedFile.objects.exists()
    assert _receive_events() == [("allowed", "too_large")]


def test_no_file_is_a_bad_request(world):
    response = _send(world.token, world.source, data=None)

    assert response.status_code == 400
    assert response.json() == {
        "file": ["Send the file in the multipart form field 'file'."]
    }
    assert not FeedRun.objects.exists()


def test_an_empty_file_is_a_bad_request(world):
    response = _send(world.token, world.source, data=b"")

    assert response.status_code == 400
    assert "empty" in response.json()["file"][0]


def test_another_organisations_source_is_not_found_and_audited(world):
    response = _send(world.token, world.other_source)

    assert response.status_code == 404
    assert not FeedRun.objects.exists()
    event = AccessEvent.objects.get(action=AccessAction.FEED_RECEIVE)
    assert (event.actor_id, event.outcome, event.reason) == (
        world.feed_system.pk,
        "denied",
        "other_organisation",
    )


def test_an_unknown_source_looks_the_same_and_is_audited(world):
    unknown = _send(world.token, 999_999)
    other = _send(world.token, world.other_source)

    assert unknown.status_code == other.status_code == 404
    assert unknown.json() == other.json()
    assert _receive_events() == [
        ("denied", "not_found"),
        ("denied", "other_organisation"),
    ]


def test_a_data_manager_cannot_send_through_the_api(world):
    manager = make_user(username="dana.data")
    grant(manager, world.school, Role.DATA_MANAGER)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(manager)

    response = client.post(
        _files_url(world.source), {"file": SimpleUploadedFile("feed.csv", FILE)}
    )

    assert response.status_code == 403
    assert not FeedRun.objects.exists()
    assert _receive_events() == [("denied", "role_not_permitted")]


def test_a_revoked_token_is_refused(world):
    ApiToken.objects.update(revoked_at=timezone.now())

    response = _send(world.token, world.source)

    assert response.status_code == 401
    assert not FeedRun.objects.exists()


def test_without_a_token_the_api_answers_401(world):
    response = Client().post(
        _files_url(world.source), {"file": SimpleUploadedFile("feed.csv", FILE)}
    )

    assert response.status_code == 401
    assert not FeedRun.objects.exists()


# Following a run -----------------------------------------------------------------


def test_the_feed_system_follows_its_run_to_the_end(world):
    run_id = _send(world.token, world.source).json()["run"]
    assert _status(world.token, run_id).json()["status"] == "queued"

    feed_run_process(UUID(run_id))
    response = _status(world.token, run_id)

    assert response.status_code == 200
    body = response.json()
    assert body["run"] == run_id
    assert body["source_id"] == world.source.pk
    assert body["status"] == "completed"
    assert body["status_label"] == "Finished"
    assert (body["total_rows"], body["rows_done"], body["percent_done"]) == (2, 2, 100)
    assert (body["applied"], body["created"], body["quarantined"]) == (1, 1, 1)
    assert body["waiting"] == 0
    assert body["finished_at"] is not None
    assert "Ashworth" not in response.content.decode()


def test_a_data_manager_of_the_source_may_follow_its_run(world):
    run_id = _send(world.token, world.source).json()["run"]
    manager = make_user(username="dana.data")
    grant(manager, world.school, Role.DATA_MANAGER)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(manager)

    response = client.get(reverse("feeds-api:run", args=[run_id]))

    assert response.status_code == 200
    assert response.json()["status"] == "queued"


def test_another_organisations_run_is_not_found(world):
    run_id = _send(world.token, world.source).json()["run"]

    assert _status(world.other_token, run_id).status_code == 404
    assert _status(world.token, uuid4()).status_code == 404


def test_a_practitioner_cannot_follow_a_run(world):
    run_id = _send(world.token, world.source).json()["run"]
    teacher = make_user(username="pat.teacher")
    grant(teacher, world.school, Role.PRACTITIONER)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(teacher)

    assert client.get(reverse("feeds-api:run", args=[run_id])).status_code == 404


def test_the_api_is_described_in_the_schema(world):
    manager = make_user(username="dana.data")
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(manager)

    schema = client.get(reverse("api-schema")).content.decode()

    assert "/api/v1/feeds/sources/{source_id}/files/" in schema
    assert "/api/v1/feeds/runs/{run_id}/" in schema
    assert "multipart/form-data" in schema
