"""The audit API's export: auditors only, audited once, pinned, paged."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from accounts.roles import Role
from audit.models import AccessAction, AccessEvent
from directory.selectors import directory_numbers_for
from tests.api.world import (
    person,
    post,
    second_factor_given_long_ago,
    session_identity,
)

pytestmark = pytest.mark.django_db

URL = reverse("audit-api:events-export")


def _exports():
    return AccessEvent.objects.filter(action=AccessAction.AUDIT_EXPORT)


def test_an_auditor_exports_every_event_newest_first_and_it_is_audited(world):
    before = list(AccessEvent.objects.order_by("-seq").values_list("seq", flat=True))

    response = post(world.auditor, URL, {})

    assert response.status_code == 200, response.content
    page = response.json()
    assert [e["seq"] for e in page["results"]] == before
    assert (page["count"], page["up_to_seq"], page["next_cursor"]) == (
        len(before),
        before[0],
        None,
    )
    first = page["results"][-1]
    assert first["prev_hash"] == "0" * 64
    assert len(first["entry_hash"]) == 64
    export = _exports().get()
    assert (export.actor_id, export.outcome) == (world.auditor.user.pk, "allowed")
    assert export.detail == f"Exported {len(before)} events as JSON: all events."


def test_pages_follow_the_cursor_and_hold_only_what_existed_at_the_start(world):
    existing = AccessEvent.objects.count()
    seqs = []

    page = post(world.auditor, URL, {"page_size": 2}).json()
    # An event written after the export started is not part of it.
    post(world.practitioner_b, reverse("directory-api:open", args=[world.child]), {})
    while True:
        seqs += [e["seq"] for e in page["results"]]
        if page["next_cursor"] is None:
            break
        response = post(
            world.auditor, URL, {"cursor": page["next_cursor"], "page_size": 2}
        )
        assert response.status_code == 200, response.content
        page = response.json()

    assert len(seqs) == existing == page["count"]
    assert seqs == sorted(seqs, reverse=True)
    assert _exports().count() == 1


def test_filters_are_the_events_lists(world):
    number = directory_numbers_for([world.child])[world.child]

    response = post(
        world.auditor,
        URL,
        {"action": "create", "directory_number": f"{number[:4]} {number[4:]}"},
    )

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert {(e["action"], e["child_id"]) for e in results} == {
        ("create", str(world.child))
    }
    assert {e["reason"] for e in results} == {
        "involvement_recorded",
        "warning_flag_raised",
    }
    assert results[0]["directory_number"] == number
    assert "action Create record" in _exports().get().detail


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"directory_number": "1234"}, "directory_number"),
        ({"date_from": "2025-02-01", "date_to": "2025-01-01"}, "date_to"),
        ({"action": "tea_break"}, "action"),
        ({"page_size": 5000}, "page_size"),
        ({"cursor": "abc", "user": "ann"}, "cursor"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_mistakes_are_field_errors_and_export_nothing(world, body, field):
    response = post(world.auditor, URL, body)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not _exports().exists()


def test_more_than_the_limit_is_refused_with_what_to_do(world, monkeypatch):
    monkeypatch.setattr("audit.selectors.events.EXPORT_MAX_ROWS", 1)

    response = post(world.auditor, URL, {})

    assert response.status_code == 400
    assert "Narrow the filters" in response.json()["non_field_errors"][0]
    assert not _exports().exists()


def test_a_cursor_works_only_for_its_auditor_and_for_an_hour(world):
    def cursor() -> str:
        return str(post(world.auditor, URL, {"page_size": 1}).json()["next_cursor"])

    new_cursor = cursor()
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) - dt.timedelta(hours=2)):
        old_cursor = cursor()
    # That session was last seen two hours ago: the auditor signs in again.
    auditor_again = session_identity("auditor, new session", world.auditor.user)
    other_auditor = session_identity(
        "auditor B", person("bea.auditor", world.authority_b, Role.AUDITOR)
    )

    theirs = post(other_auditor, URL, {"cursor": new_cursor})
    expired = post(auditor_again, URL, {"cursor": old_cursor})
    mine = post(auditor_again, URL, {"cursor": new_cursor})

    assert theirs.status_code == 400
    assert theirs.json() == {
        "cursor": ["This cursor is not valid: start the export again."]
    }
    assert expired.status_code == 400
    assert expired.json() == {
        "cursor": ["This cursor is more than an hour old: start the export again."]
    }
    assert mine.status_code == 200


@pytest.mark.parametrize("who", ["practitioner_a", "data_manager_a", "feed_a"], ids=str)
def test_only_auditors_export(world, who):
    response = post(getattr(world, who), URL, {"directory_number": "1234"})

    assert response.status_code == 403
    assert not _exports().exists()


def test_starting_an_export_needs_a_recent_second_factor(world):
    second_factor_given_long_ago(world.auditor)

    response = post(world.auditor, URL, {})

    assert response.status_code == 403
    assert response.json()["code"] == "fresh_second_factor_required"
    assert not _exports().exists()
