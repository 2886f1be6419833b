"""The auditor's workspace over HTTP: who gets in, what each page shows, the
filters and their errors, a child's history, the CSV export, findings, the
news list and the integrity page.
"""

import csv
import io
import re
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol, cast
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone

from accounts.actors import Actor, actor_for_user
from accounts.middleware import SECOND_FACTOR_AT
from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from accounts.tests.second_factors import verified_session_key
from audit.models import (
    AccessAction,
    AccessEvent,
    AnomalyFinding,
    AnomalyKind,
    AuditVerification,
    NewsListEntry,
)
from audit.selectors import events as event_selectors
from audit.services import access_event_record
from directory.identifiers import format_directory_number
from directory.policies import Purpose
from directory.selectors import child_record_get
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory

pytestmark = pytest.mark.django_db

NURSE_REASON = "Referral from the school nurse about bruising"
NUMBER_FORMAT_ERROR = "Enter the directory number as 13 digits, like 1234 5678 9012 3"


@dataclass
class World:
    school: Organisation
    auditor: User
    practitioner: User
    admin: User
    child_id: uuid.UUID
    number: str

    def actor(self, user: User) -> Actor:
        return actor_for_user(user, second_factor_verified=True)


@pytest.fixture
def world() -> World:
    authority = cast(Organisation, LocalAuthorityFactory(name="Northshire Council"))
    school = cast(
        Organisation, SchoolFactory(name="Hilltop Primary", parent_authority=authority)
    )
    auditor = make_user(username="ana.audit", first_name="Ana", last_name="Auditor")
    grant(auditor, authority, Role.AUDITOR)
    practitioner = make_user(
        username="pat.teacher", first_name="Pat", last_name="Teacher"
    )
    grant(practitioner, school, Role.PRACTITIONER)
    admin = make_user(username="ada.admin", first_name="Ada", last_name="Admin")
    grant(admin, authority, Role.ADMINISTRATOR)
    child = child_records_create(
        children=[NewChildFactory.build()], source=FEED_SOURCE
    )[0]
    return World(
        school=school,
        auditor=auditor,
        practitioner=practitioner,
        admin=admin,
        child_id=child.id,
        number=child.directory_number,
    )


def _client(user: User, *, second_factor_age: float = 0) -> Client:
    client = Client()
    key = verified_session_key(user)
    if second_factor_age:
        session = SessionStore(session_key=key)
        session[SECOND_FACTOR_AT] = time.time() - second_factor_age
        session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return client


@pytest.fixture
def auditor_client(world: World) -> Client:
    return _client(world.auditor)


def _opened(world: World, detail: str = NURSE_REASON) -> None:
    """The practitioner opens the child's record, giving a reason."""
    child_record_get(
        actor=world.actor(world.practitioner),
        child_id=world.child_id,
        purpose=Purpose.CHILD_PROTECTION,
        purpose_detail=detail,
    )


def _invited(world: World, detail: str = "") -> None:
    """The administrator invites someone: an event about no child."""
    access_event_record(
        actor=world.actor(world.admin),
        action=AccessAction.USER_INVITE,
        allowed=True,
        reason="granted",
        detail=detail,
    )


class _Response(Protocol):
    status_code: int
    content: bytes


def _html(response: _Response) -> str:
    return response.content.decode()


def _error_summary_links(html: str) -> dict[str, str]:
    summary = re.search(r'class="govuk-error-summary".*?</ul>', html, re.S)
    assert summary is not None, "no error summary"
    return dict(re.findall(r'<a href="(#[^"]+)">([^<]+)</a>', summary.group(0)))


def _finding(world: World, **fields: Any) -> AnomalyFinding:
    _opened(world)
    seq = AccessEvent.objects.order_by("-seq").values_list("seq", flat=True)[0]
    return AnomalyFinding.objects.create(
        kind=fields.pop("kind", AnomalyKind.OUT_OF_HOURS),
        actor_id=world.practitioner.pk,
        day=timezone.localdate(),
        summary="Opened 1 record at 23:40",
        event_seqs=[seq],
        **fields,
    )


def _audit_urls(world: World) -> dict[str, tuple[str, str]]:
    """Every URL of the workspace: name -> (method, path)."""
    finding = _finding(world)
    entry = NewsListEntry.objects.create(
        child_id=world.child_id, note="In the news", added_by_id=world.auditor.pk
    )
    return {
        "index": ("get", reverse("audit:index")),
        "events": ("get", reverse("audit:event-list")),
        "export": ("get", reverse("audit:event-export")),
        "history": ("get", reverse("audit:child-history") + f"?number={world.number}"),
        "findings": ("get", reverse("audit:finding-list")),
        "scan": ("post", reverse("audit:finding-scan")),
        "finding": ("get", reverse("audit:finding-detail", args=[finding.pk])),
        "review": ("post", reverse("audit:finding-review", args=[finding.pk])),
        "news list": ("get", reverse("audit:news-list")),
        "news add": ("post", reverse("audit:news-list")),
        "news remove": ("post", reverse("audit:news-list-remove", args=[entry.pk])),
        "integrity": ("get", reverse("audit:integrity")),
        "progress": ("get", reverse("audit:integrity-progress")),
        "verify": ("post", reverse("audit:integrity-verify")),
    }


# Who gets in --------------------------------------------------------------------------


def test_every_url_of_the_workspace_is_in_the_list(world):
    from audit.urls import urlpatterns

    reached = {
        resolve(path.split("?")[0]).url_name for _, path in _audit_urls(world).values()
    }
    assert reached == {pattern.name for pattern in urlpatterns}


@pytest.mark.parametrize("who", ["practitioner", "admin"])
def test_everyone_but_auditors_gets_403_everywhere_and_changes_nothing(world, who):
    urls = _audit_urls(world)
    client = _client(getattr(world, who))
    events_before = AccessEvent.objects.count()

    for name, (method, path) in urls.items():
        response = getattr(client, method)(path, {"note": "x", "number": world.number})
        assert response.status_code == 403, name
        assert "You cannot view this page" in _html(response), name

    assert AccessEvent.objects.count() == events_before
    assert not AuditVerification.objects.exists()
    assert NewsListEntry.objects.get().removed_at is None
    assert AnomalyFinding.objects.get().reviewed_at is None


def test_every_page_renders_for_an_auditor_and_is_not_cached(world, auditor_client):
    for name, (method, path) in _audit_urls(world).items():
        if method != "get" or name in {"index", "export", "progress"}:
            continue
        response = auditor_client.get(path)
        assert response.status_code == 200, name
        assert "no-store" in response["Cache-Control"], name
        assert 'aria-current="page"' in _html(response), name


def test_the_workspace_needs_a_second_factor(world, client):
    client.force_login(world.auditor)

    response = client.get(reverse("audit:event-list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:second-factor"))


def test_an_auditor_changes_nothing_in_the_administrators_workspace(world):
    grant(world.auditor, world.school, Role.ADMINISTRATOR)  # even holding both
    client = _client(world.auditor)

    suspend = reverse("manage:user-suspend", args=[world.practitioner.pk])
    response = client.post(suspend, {"reason": "Curious"})

    assert response.status_code == 403
    world.practitioner.refresh_from_db()
    assert world.practitioner.suspended_at is None


def test_a_post_without_its_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(world.auditor)

    response = client.post(
        reverse("audit:news-list"), {"number": world.number, "note": "Story"}
    )

    assert response.status_code == 403
    assert not NewsListEntry.objects.exists()


def test_the_navigation_shows_audit_to_auditors_only(world, auditor_client):
    assert ">Audit<" in re.sub(r"\s+", "", _html(auditor_client.get("/")))
    practitioner_home = _html(_client(world.practitioner).get("/"))
    assert ">Audit<" not in re.sub(r"\s+", "", practitioner_home)


# Events -------------------------------------------------------------------------------


def test_the_events_list_names_who_did_what_without_encrypted_detail(
    world, auditor_client
):
    _opened(world)
    access_event_record(
        actor=None, action=AccessAction.SIGN_IN_FAILED, allowed=False, reason="x"
    )

    html = _html(auditor_client.get(reverse("audit:event-list")))

    assert "Pat Teacher" in html
    assert "pat.teacher@example.org" in html
    assert "Practitioner, Hilltop Primary" in html
    assert "View record" in html
    assert format_directory_number(world.number) in html
    assert "Child protection" in html
    assert "Unknown or system" in html
    assert "govuk-tag--red" in html  # denied
    assert NURSE_REASON not in html


def test_the_events_list_pages_by_fifty_newest_first(world, auditor_client):
    for _ in range(51):
        _invited(world)
    newest = AccessEvent.objects.order_by("-seq")[0].seq

    first = _html(auditor_client.get(reverse("audit:event-list")))
    second = _html(auditor_client.get(reverse("audit:event-list") + "?page=2"))

    assert "51 events" in first
    assert first.index(f"No. {newest}<") < first.index(f"No. {newest - 1}<")
    assert second.count("<strong>Invite user</strong>") == 1
    assert "Page 2 of 2" not in second  # the title says "(page 2 of 2)"
    assert "(page 2 of 2)" in second


def test_the_events_list_takes_the_same_queries_for_one_or_many_rows(
    world, auditor_client, django_assert_max_num_queries
):
    _opened(world)
    with django_assert_max_num_queries(20) as few:
        auditor_client.get(reverse("audit:event-list"))
    for _ in range(10):
        _opened(world)
    with django_assert_max_num_queries(len(few.captured_queries)):
        auditor_client.get(reverse("audit:event-list"))


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("user=pat.teacher@", {"View record"}),
        ("user=ada+admin", {"Invite user"}),
        ("organisation=hilltop", {"View record"}),
        ("action=user_invite", {"Invite user"}),
        ("outcome=denied", {"Failed sign-in"}),
        ("purpose=child_protection", {"View record"}),
        ("purpose=other", set()),
    ],
)
def test_each_filter_narrows_the_events(world, auditor_client, query, shown):
    _opened(world)
    _invited(world)
    access_event_record(
        actor=None, action=AccessAction.SIGN_IN_FAILED, allowed=False, reason="x"
    )

    html = _html(auditor_client.get(f"{reverse('audit:event-list')}?{query}"))

    labels = {"View record", "Invite user", "Failed sign-in"}
    assert {label for label in labels if f"<strong>{label}</strong>" in html} == shown
    if not shown:
        assert "No events match these filters" in html


def _dated(prefix: str, day: date) -> str:
    return f"{prefix}_day={day.day}&{prefix}_month={day.month}&{prefix}_year={day.year}"


def test_filtering_by_child(world, auditor_client):
    _opened(world)
    _invited(world)

    html = _html(
        auditor_client.get(f"{reverse('audit:event-list')}?child={world.number}")
    )

    assert "<strong>View record</strong>" in html
    assert "<strong>Invite user</strong>" not in html


def test_filtering_by_uk_dates_includes_the_whole_to_day(world, auditor_client):
    # The database stamps events with its own clock, so the test moves the
    # dates asked for rather than the events.
    _opened(world)
    today = timezone.localdate()
    base = reverse("audit:event-list")
    day = timedelta(days=1)
    cases = {
        f"{_dated('from', today)}&{_dated('to', today)}": True,
        _dated("to", today): True,
        _dated("from", today - day): True,
        _dated("from", today + day): False,
        _dated("to", today - day): False,
    }

    for query, shown in cases.items():
        html = _html(auditor_client.get(f"{base}?{query}"))
        assert ("<strong>View record</strong>" in html) is shown, query


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        (
            "from_day=20&from_month=3&from_year=2025&to_day=19&to_month=3&to_year=2025",
            {"#id_to_day": "To date must be the same as or after the from date"},
        ),
        (
            "from_day=31&from_month=2&from_year=2025",
            {"#id_from_day": "From date must be a real date"},
        ),
        (
            "from_day=1&from_year=2025&to_day=x&to_month=1&to_year=2025",
            {
                "#id_from_month": "From date must include a month",
                "#id_to_day": "To date must be a real date",
            },
        ),
        (
            "to_day=1&to_month=1&to_year=25",
            {"#id_to_year": "Year must include 4 numbers"},
        ),
        (
            "child=1234",
            {"#id_child": NUMBER_FORMAT_ERROR},
        ),
    ],
)
def test_invalid_filters_show_the_error_summary(auditor_client, query, errors):
    response = auditor_client.get(f"{reverse('audit:event-list')}?{query}")

    html = _html(response)
    assert response.status_code == 200
    assert "<title>Error: Events" in html
    assert _error_summary_links(html) == errors
    assert "Correct the filters to see the events" in html


def test_a_date_wrong_as_a_whole_highlights_all_three_boxes(auditor_client):
    query = "from_day=31&from_month=2&from_year=2025&to_day=1&to_year=2025"

    html = _html(auditor_client.get(f"{reverse('audit:event-list')}?{query}"))

    highlighted = set(re.findall(r'govuk-input--error" id="id_(\w+)"', html))
    assert highlighted == {"from_day", "from_month", "from_year", "to_month"}


def test_an_unknown_directory_number_is_explained(world, auditor_client):
    unknown = "0000000000000" if world.number != "0000000000000" else "0000000000018"

    html = _html(auditor_client.get(f"{reverse('audit:event-list')}?child={unknown}"))

    assert "No child has the directory number 0000 0000 0000 0" in html


# A child's history --------------------------------------------------------------------


def test_a_childs_history_shows_the_reasons_given_and_is_audited(world, auditor_client):
    _opened(world)
    url = (
        reverse("audit:child-history")
        + f"?number={format_directory_number(world.number)}"
    )

    html = _html(auditor_client.get(url))

    assert "Who has viewed this child, and why" in html
    assert NURSE_REASON in html
    assert "Pat Teacher" in html
    assert "Hilltop Primary" in html
    assert "Print this page" in html
    audit = AccessEvent.objects.get(action=AccessAction.AUDIT_CHILD_HISTORY)
    assert (audit.actor_id, audit.child_id, audit.outcome) == (
        world.auditor.pk,
        world.child_id,
        "allowed",
    )


def test_an_unknown_child_gets_a_message_not_a_404(world, auditor_client):
    response = auditor_client.get(
        reverse("audit:child-history") + "?number=0000000000000"
    )

    assert response.status_code == 200
    assert "No child has the directory number" in _html(response)
    assert not AccessEvent.objects.filter(
        action=AccessAction.AUDIT_CHILD_HISTORY
    ).exists()


def test_a_child_nobody_opened_says_so(world, auditor_client):
    html = _html(
        auditor_client.get(reverse("audit:child-history") + f"?number={world.number}")
    )

    assert "Nobody has searched for, opened or changed this record" in html


# The CSV export -----------------------------------------------------------------------


def test_the_export_asks_for_the_second_factor_again(world):
    client = _client(world.auditor, second_factor_age=10 * 60)

    response = client.get(reverse("audit:event-export") + "?outcome=denied")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:confirm-identity"))
    assert not AccessEvent.objects.filter(action=AccessAction.AUDIT_EXPORT).exists()


def test_the_export_is_csv_with_safe_cells_and_is_audited(world, auditor_client):
    world.practitioner.first_name = '=HYPERLINK("http://evil.example","Pat")'
    world.practitioner.save()
    _opened(world)
    _invited(world, detail="@SUM(1+1) invited someone")

    response = auditor_client.get(reverse("audit:event-export"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][:3] == ["Sequence number", "Time (UK)", "User"]
    assert len(rows) == 3
    by_action = {row[6]: row for row in rows[1:]}
    assert by_action["View record"][2].startswith("'=HYPERLINK(")
    assert by_action["View record"][9] == world.number
    assert by_action["Invite user"][14] == "'@SUM(1+1) invited someone"
    assert NURSE_REASON not in text
    export = AccessEvent.objects.get(action=AccessAction.AUDIT_EXPORT)
    assert export.actor_id == world.auditor.pk
    assert export.detail == "Exported 2 events as CSV: all events."


def test_the_export_follows_the_filters_in_its_audit_event(world, auditor_client):
    _opened(world)

    response = auditor_client.get(
        reverse("audit:event-export") + f"?child={world.number}&action=view"
    )

    assert len(list(response.streaming_content)) == 3  # BOM, header, one event
    export = AccessEvent.objects.get(action=AccessAction.AUDIT_EXPORT)
    assert export.detail == (
        f"Exported 1 events as CSV: child {world.number}; action View record."
    )
    assert export.child_id == world.child_id


def test_an_export_over_the_cap_is_refused_with_a_message(
    world, auditor_client, monkeypatch
):
    monkeypatch.setattr(event_selectors, "EXPORT_MAX_ROWS", 1)
    _opened(world)
    _opened(world)

    response = auditor_client.get(reverse("audit:event-export"), follow=True)

    assert response.redirect_chain == [(reverse("audit:event-list"), 302)]
    assert "too many for one export" in _html(response)
    assert not AccessEvent.objects.filter(action=AccessAction.AUDIT_EXPORT).exists()


# Findings and the news list -----------------------------------------------------------


def test_findings_list_and_detail_show_the_finding_and_its_events(
    world, auditor_client
):
    finding = _finding(world)

    listed = _html(auditor_client.get(reverse("audit:finding-list") + "?reviewed=no"))
    detail = _html(
        auditor_client.get(reverse("audit:finding-detail", args=[finding.pk]))
    )

    assert "Opened records outside working hours" in listed
    assert "To review" in listed
    assert "Opened 1 record at 23:40" in detail
    assert "View record" in detail
    assert "Pat Teacher" in detail
    reviewed = _html(
        auditor_client.get(reverse("audit:finding-list") + "?reviewed=yes")
    )
    assert "No findings match these filters" in reviewed


def test_marking_a_finding_reviewed_needs_a_note(world, auditor_client):
    finding = _finding(world)
    url = reverse("audit:finding-review", args=[finding.pk])

    empty = auditor_client.post(url, {"note": ""})
    done = auditor_client.post(
        url, {"note": "Called the school: on-call."}, follow=True
    )

    assert _error_summary_links(_html(empty)) == {"#id_note": "Enter what you found"}
    assert "The finding is marked as reviewed" in _html(done)
    finding.refresh_from_db()
    assert (finding.reviewed_by_id, finding.review_note) == (
        world.auditor.pk,
        "Called the school: on-call.",
    )


def test_an_unknown_finding_is_not_found(auditor_client):
    url = reverse("audit:finding-detail", args=[uuid.uuid4()])

    assert auditor_client.get(url).status_code == 404


def test_running_the_checks_now_queues_todays_scan_after_commit(
    world, auditor_client, django_capture_on_commit_callbacks
):
    with (
        mock.patch("audit.tasks.anomalies_detect_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
        time_machine.travel("2025-06-30 23:30 +00:00", tick=False),  # 00:30 in London
    ):
        response = auditor_client.post(reverse("audit:finding-scan"), follow=True)

    delay.assert_called_once_with("2025-07-01")
    assert "The checks for today (1 July 2025) have started" in _html(response)
    assert AccessEvent.objects.filter(
        action=AccessAction.ANOMALY_SCAN, actor_id=world.auditor.pk
    ).exists()


def test_adding_and_removing_a_child_on_the_news_list(world, auditor_client):
    url = reverse("audit:news-list")

    added = auditor_client.post(
        url, {"number": world.number, "note": "Local news story"}, follow=True
    )
    again = auditor_client.post(url, {"number": world.number, "note": "Again"})

    assert "is on the news list" in _html(added)
    assert format_directory_number(world.number) in _html(added)
    assert "Local news story" in _html(added)
    assert _error_summary_links(_html(again)) == {
        "#id_number": "This child is already on the news list. Remove them first."
    }
    entry = NewsListEntry.objects.get()
    removed = auditor_client.post(
        reverse("audit:news-list-remove", args=[entry.pk]), follow=True
    )
    assert "taken off the news list" in _html(removed)
    assert "No children are on the news list" in _html(removed)
    entry.refresh_from_db()
    assert entry.removed_by_id == world.auditor.pk


def test_the_news_list_form_explains_its_errors(auditor_client):
    response = auditor_client.post(reverse("audit:news-list"), {"number": "12"})

    assert _error_summary_links(_html(response)) == {
        "#id_number": NUMBER_FORMAT_ERROR,
        "#id_note": "Enter why the child is on the list",
    }
    assert not NewsListEntry.objects.exists()


# Integrity ----------------------------------------------------------------------------


def test_the_integrity_page_before_any_check(auditor_client):
    html = _html(auditor_client.get(reverse("audit:integrity")))

    assert "No checkpoint has been signed yet" in html
    assert "The log has not been checked yet" in html
    assert "Check the whole log now" in html


def test_asking_for_a_check_shows_it_waiting_with_progress(world, auditor_client):
    response = auditor_client.post(reverse("audit:integrity-verify"), follow=True)

    html = _html(response)
    verification = AuditVerification.objects.get()
    assert verification.requested_by_id == world.auditor.pk
    assert "Waiting to start" in html
    assert 'id="audit-progress"' in html
    assert "js/audit_progress" in html
    assert "Check the whole log now" not in html
    progress = auditor_client.get(reverse("audit:integrity-progress")).json()
    assert progress["status"] == "queued"
    assert progress["id"] == str(verification.id)


def test_a_failed_check_says_where(auditor_client):
    AuditVerification.objects.create(
        status=AuditVerification.Status.FAILED,
        started_at=timezone.now() - timedelta(minutes=2),
        finished_at=timezone.now(),
        events_checked=1200,
        checkpoints_checked=4,
        first_broken_seq=812,
        problems=["Event 812 does not match its hash: it was changed."],
    )

    html = _html(auditor_client.get(reverse("audit:integrity")))

    assert "govuk-tag--red" in html
    assert "Failed" in html
    assert "Number 812" in html
    assert "Event 812 does not match its hash" in html
    assert "audit-progress" not in html
