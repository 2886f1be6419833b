"""The inbox pages over HTTP, the header's unread count, and the
housekeeping tasks."""

import datetime as dt
import re
import uuid

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.second_factors import verified_session_key
from alerts.models import AlertEvent, Notification
from alerts.selectors import inbox_page
from alerts.tasks import alert_events_resume_task, alerts_expire_task
from alerts.tests.factories import (
    alert_world,
    child,
    flag,
    lead_involvement,
    run_alert_tasks,
    verified,
)
from audit.models import AccessEvent
from directory.policies import Purpose
from directory.selectors import child_record_get

pytestmark = pytest.mark.django_db

INBOX = reverse("alerts:inbox")


@pytest.fixture
def world():
    return alert_world()


@pytest.fixture
def flagged(world):
    return child(flags=(flag(world),), involvements=(lead_involvement(world),))


def _client(user) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(user)
    return client


def _text(response) -> str:
    return " ".join(response.content.decode().split())


def _opened_by_viewer(world, child_id, detail="Referral about Victoria today"):
    child_record_get(
        actor=verified(world.viewer),
        child_id=child_id,
        purpose=Purpose.OTHER,
        purpose_detail=detail,
    )
    run_alert_tasks()


def test_an_empty_inbox_says_so_and_how_alerts_arrive(world):
    text = _text(_client(world.viewer).get(INBOX))

    assert "You have no alerts" in text
    assert "Inbox (0 unread)" in text
    assert 'aria-current="page"' in text


def test_the_inbox_lists_alerts_newest_first_with_the_unread_count(world, flagged):
    _opened_by_viewer(world, flagged)

    text = _text(_client(world.lead).get(INBOX))

    assert "Inbox (1 unread)" in text
    assert "1 alert, 1 unread" in text
    assert "Record opened by another organisation" in text
    assert "Val Viewer, Valley Primary" in text
    assert "Unread" in text
    assert "Victoria" not in text  # the list shows directory numbers only


def test_opening_an_alert_marks_it_read_and_shows_who_when_and_why(world, flagged):
    _opened_by_viewer(world, flagged)
    notification = Notification.objects.get(recipient=world.lead)
    client = _client(world.lead)

    text = _text(client.get(reverse("alerts:notification", args=[notification.pk])))

    assert "Val Viewer" in text
    assert "Valley Primary" in text
    assert "01632 960001" in text
    assert "Another reason" in text
    assert "Inbox (0 unread)" in text
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert "Read" in _text(client.get(INBOX))


def test_the_lead_professional_sees_the_childs_name_and_it_is_audited(world, flagged):
    _opened_by_viewer(world, flagged)
    notification = Notification.objects.get(recipient=world.lead)

    text = _text(
        _client(world.lead).get(reverse("alerts:notification", args=[notification.pk]))
    )

    assert "Victoria Climbié" in text
    assert "“Referral about Victoria today”" in text
    event = AccessEvent.objects.filter(action="view", actor_id=world.lead.pk).get()
    assert (event.outcome, event.child_id) == ("allowed", flagged)


def test_a_flag_contact_not_working_with_the_child_sees_no_name(world, flagged):
    _opened_by_viewer(world, flagged)
    notification = Notification.objects.get(recipient=world.social_worker)

    text = _text(
        _client(world.social_worker).get(
            reverse("alerts:notification", args=[notification.pk])
        )
    )

    assert "Victoria" not in text
    assert "Climbi" not in text
    assert "Referral about" not in text  # the reader's own words neither
    assert "Another reason" in text
    assert "need to say why you are opening the record" in text
    event = AccessEvent.objects.filter(
        action="view", actor_id=world.social_worker.pk
    ).get()
    assert (event.outcome, event.reason) == ("denied", "purpose_missing")


def test_a_shielded_record_never_shows_its_name_to_an_auditor(world):
    shielded = child(shielded=True, responsible_authority_id=world.authority.pk)
    from directory.tasks import break_glass_notify

    break_glass_notify(str(shielded), str(world.viewer.pk))
    notification = Notification.objects.get(recipient=world.auditor)

    text = _text(
        _client(world.auditor).get(
            reverse("alerts:notification", args=[notification.pk])
        )
    )

    assert "Restricted record opened in an emergency" in text
    assert "Victoria" not in text
    assert "Open the record" not in text  # auditors read no records


def test_someone_elses_alert_and_a_missing_one_look_the_same(world, flagged):
    _opened_by_viewer(world, flagged)
    theirs = Notification.objects.get(recipient=world.lead)
    client = _client(world.viewer)

    assert client.get(reverse("alerts:notification", args=[theirs.pk])).status_code == (
        404
    )
    assert (
        client.get(reverse("alerts:notification", args=[uuid.uuid4()])).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_as_read(world, flagged):
    _opened_by_viewer(world, flagged)
    client = _client(world.lead)

    response = client.post(reverse("alerts:read-all"), follow=True)

    text = _text(response)
    assert "1 alert marked as read" in text
    assert "Inbox (0 unread)" in text
    assert "Mark all as read" not in text
    assert client.get(reverse("alerts:read-all")).status_code == 405


def test_the_inbox_pages_twenty_at_a_time(world):
    children = [child(flags=(flag(world),)) for _ in range(3)]
    for child_id in children:
        child_record_get(
            actor=verified(world.viewer),
            child_id=child_id,
            purpose=Purpose.ASSESSING_REFERRAL,
        )
    run_alert_tasks()
    # 21 alerts for the contact: copy the three to make the rest.
    template = Notification.objects.filter(recipient=world.social_worker)[0]
    base = timezone.now() - dt.timedelta(days=1)
    for i in range(18):
        Notification.objects.create(
            recipient=world.social_worker,
            recipient_key=template.recipient_key,
            email=template.email,
            kind=template.kind,
            reason=template.reason,
            child_id=template.child_id,
            directory_number=template.directory_number,
            first_event=template.first_event,
            last_event_at=base - dt.timedelta(minutes=i),
            window_ends_at=base,
        )

    first = inbox_page(user_id=world.social_worker.pk, page_number=1)
    second = _text(_client(world.social_worker).get(INBOX, {"page": "2"}))

    assert len(first.object_list) == 20
    assert first.object_list[0].last_event_at > first.object_list[-1].last_event_at
    assert "Inbox (page 2 of 2)" in second
    assert "21 alerts, 21 unread" in second
    assert _client(world.social_worker).get(INBOX, {"page": "x"}).status_code == 200


def test_the_inbox_takes_two_queries(world, flagged, django_assert_num_queries):
    _opened_by_viewer(world, flagged)

    with django_assert_num_queries(2):  # count, page
        page = inbox_page(user_id=world.lead.pk, page_number=None)
        assert len(page.object_list) == 1


def test_people_without_a_second_factor_get_no_count(world, rf):
    from django.contrib.auth.models import AnonymousUser

    from alerts.context_processors import inbox

    request = rf.get("/")
    request.user = AnonymousUser()
    assert inbox(request) == {}
    request.user = world.lead
    request.user.is_verified = lambda: False
    assert inbox(request) == {}


# Housekeeping -----------------------------------------------------------------------


def test_the_sweep_queues_events_whose_message_was_lost(world, flagged):
    from unittest import mock

    with time_machine.travel(timezone.now() - dt.timedelta(minutes=10)):
        child_record_get(
            actor=verified(world.viewer),
            child_id=flagged,
            purpose=Purpose.ASSESSING_REFERRAL,
        )
    child_record_get(
        actor=verified(world.viewer),
        child_id=flagged,
        purpose=Purpose.ASSESSING_REFERRAL,
    )
    stale, _fresh = AlertEvent.objects.order_by("occurred_at")

    with mock.patch("alerts.tasks.alert_event_task.delay") as delay:
        assert alert_events_resume_task() == 1

    delay.assert_called_once_with(str(stale.pk))


def test_old_alerts_expire_and_recent_ones_stay(world, flagged, settings):
    settings.ALERT_KEEP_DAYS = 30
    with time_machine.travel(timezone.now() - dt.timedelta(days=31)):
        _opened_by_viewer(world, flagged)
    _opened_by_viewer(world, flagged)

    assert alerts_expire_task() == 1

    assert AlertEvent.objects.count() == 1
    assert Notification.objects.count() == 2
    assert all(
        n.last_event_at > timezone.now() - dt.timedelta(days=1)
        for n in Notification.objects.all()
    )


def test_the_header_link_is_on_every_page_for_verified_people(world):
    text = _text(_client(world.viewer).get(reverse("accounts:account")))

    assert re.search(r'href="/inbox/">\s*Inbox \(0 unread\)', text)
