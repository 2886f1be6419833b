"""Opening a flagged record from outside the flag's organisation: who is
told, who is not, and how later openings are gathered into one alert."""

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from alerts.events import ALERT_EVENT_TASK
from alerts.models import AlertEvent, Notification
from alerts.rules import AlertKind, AlertReason
from alerts.tasks import alert_event_task
from alerts.tests.factories import (
    alert_world,
    child,
    flag,
    lead_involvement,
    run_alert_tasks,
    verified,
)
from audit.models import AccessEvent
from contactpoint.celery import app
from directory.policies import Purpose
from directory.selectors import child_record_get

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def world():
    return alert_world()


@pytest.fixture
def flagged(world):
    return child(flags=(flag(world),), involvements=(lead_involvement(world),))


def _open(user, child_id, purpose=Purpose.ASSESSING_REFERRAL, detail=""):
    return child_record_get(
        actor=verified(user), child_id=child_id, purpose=purpose, purpose_detail=detail
    )


def _told():
    return sorted(
        (n.recipient_id, n.email, n.reason, n.kind) for n in Notification.objects.all()
    )


# Sent ------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_an_outsider_opening_tells_the_contact_and_the_lead_in_inbox_and_email(
    world, flagged
):
    _open(world.viewer, flagged, detail="Referral from the GP about bruising")

    assert run_alert_tasks() == 2

    assert _told() == sorted(
        [
            (
                world.lead.pk,
                "lee.lead@hilltop.example.org",
                AlertReason.LEAD_PROFESSIONAL,
                AlertKind.RECORD_OPENED,
            ),
            (
                world.social_worker.pk,
                "sam.social@northshire.example.org",
                AlertReason.FLAG_CONTACT,
                AlertKind.RECORD_OPENED,
            ),
        ]
    )
    assert sorted(m.to[0] for m in mail.outbox) == [
        "lee.lead@hilltop.example.org",
        "sam.social@northshire.example.org",
    ]
    event = AlertEvent.objects.get()
    assert (event.actor_name, event.actor_organisations, event.actor_phone) == (
        "Val Viewer",
        "Valley Primary",
        "01632 960001",
    )


@time_machine.travel(NOW, tick=False)
def test_the_email_says_who_when_and_why_and_nothing_of_the_child(world, flagged):
    _open(world.viewer, flagged, detail="Concern raised by Victoria Climbié's GP")
    run_alert_tasks()

    message = next(m for m in mail.outbox if m.to == ["lee.lead@hilltop.example.org"])
    notification = Notification.objects.get(recipient=world.lead)
    number = notification.directory_number
    spaced = f"{number[:4]} {number[4:8]} {number[8:12]} {number[12:]}"
    assert message.subject == f"Record {spaced} was opened by another organisation"
    for expected in (
        spaced,
        "Opened by: Val Viewer",
        "Organisation: Valley Primary",
        "Phone: 01632 960001",
        "When: 10 March 2026, 10:00",
        "Reason given: Assessing a referral about the child",
        f"/inbox/{notification.pk}/",
    ):
        assert expected in message.body
    for secret in ("Victoria", "Climbi", "2015", "N17", "Acacia", "Kouao", "GP"):
        assert secret not in message.body
        assert secret not in message.subject


def test_a_contact_without_an_account_is_emailed_with_a_link_to_sign_in(world):
    flagged = child(flags=(flag(world, email="duty@northshire.example.org"),))

    _open(world.viewer, flagged)
    run_alert_tasks()

    notification = Notification.objects.get()
    assert (notification.recipient_id, notification.email) == (
        None,
        "duty@northshire.example.org",
    )
    (message,) = mail.outbox
    assert message.to == ["duty@northshire.example.org"]
    assert f"/children/{flagged}/" in message.body
    assert "/inbox/" not in message.body


def test_each_alert_and_each_email_is_in_the_access_log(world, flagged):
    _open(world.viewer, flagged)
    run_alert_tasks()

    sent = list(
        AccessEvent.objects.filter(action="alert_send")
        .order_by("seq")
        .values_list("reason", "subject_user_id", "child_id", "outcome", "detail")
    )
    assert {(r, u, c, o) for r, u, c, o, _ in sent} == {
        ("lead_professional", world.lead.pk, flagged, "allowed"),
        ("flag_contact", world.social_worker.pk, flagged, "allowed"),
    }
    assert len(sent) == 4  # in the inbox, then by e-mail, for each
    assert sum("e-mailed" in detail for *_, detail in sent) == 2


def test_the_readers_own_words_are_encrypted_at_rest(world, flagged):
    _open(world.viewer, flagged, detail="Unusual bruising reported today")

    with connection.cursor() as cursor:
        cursor.execute("SELECT purpose_detail::text FROM alerts_alertevent")
        (stored,) = cursor.fetchone()
    assert "bruising" not in stored
    assert b"bruising" not in bytes.fromhex(stored.removeprefix("\\x"))


def test_the_opening_is_queued_after_commit_with_the_event_id_only(
    world, flagged, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(app, "send_task") as send_task,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        _open(world.viewer, flagged, detail="Private words")

    event = AlertEvent.objects.get()
    assert len(callbacks) == 1
    send_task.assert_called_once_with(ALERT_EVENT_TASK, args=[str(event.pk)])
    assert alert_event_task.name == ALERT_EVENT_TASK


def test_a_broker_that_is_down_never_fails_the_opening(
    world, flagged, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    with (
        mock.patch.object(app, "send_task", side_effect=OperationalError("down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        record = _open(world.viewer, flagged)

    assert record.id == flagged
    assert AlertEvent.objects.get().processed_at is None  # the sweep's to send


# Not sent ----------------------------------------------------------------------------


def test_a_colleague_of_the_flags_organisation_tells_nobody(
    world, flagged, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        _open(world.colleague, flagged)

    assert callbacks == []
    assert AlertEvent.objects.count() == 0


def test_nobody_is_told_of_their_own_opening(world, flagged):
    _open(world.lead, flagged, purpose=None)  # named on the record: no purpose
    run_alert_tasks()

    assert _told() == [
        (
            world.social_worker.pk,
            "sam.social@northshire.example.org",
            AlertReason.FLAG_CONTACT,
            AlertKind.RECORD_OPENED,
        )
    ]


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [
        (dt.date(2025, 1, 6), dt.date(2025, 2, 1)),  # ended
        (dt.date(2099, 1, 1), None),  # not started yet
    ],
)
def test_a_flag_that_is_not_current_tells_nobody(world, starts_on, ends_on):
    flagged = child(
        flags=(flag(world, starts_on=starts_on, ends_on=ends_on),),
        involvements=(lead_involvement(world),),
    )

    _open(world.viewer, flagged)

    assert AlertEvent.objects.count() == 0


def test_a_child_with_no_flag_tells_nobody_even_with_a_lead(world):
    plain = child(involvements=(lead_involvement(world),))

    _open(world.viewer, plain)

    assert AlertEvent.objects.count() == 0


def test_a_data_manager_checking_records_tells_nobody(world, flagged):
    manager = make_user(username="dee.data")
    grant(manager, world.other_authority, Role.DATA_MANAGER)

    _open(manager, flagged, purpose=Purpose.DATA_MANAGEMENT)

    assert AlertEvent.objects.count() == 0


def test_a_suspended_lead_professional_is_not_told(world, flagged):
    world.lead.suspended_at = timezone.now()
    world.lead.save(update_fields=["suspended_at"])

    _open(world.viewer, flagged)
    run_alert_tasks()

    assert [n.recipient_id for n in Notification.objects.all()] == [
        world.social_worker.pk
    ]


# Batched -----------------------------------------------------------------------------


def test_openings_within_the_hour_join_one_alert_with_one_email(world, flagged):
    with time_machine.travel(NOW, tick=False):
        _open(world.viewer, flagged)
        run_alert_tasks()
    Notification.objects.update(read_at=NOW)
    with time_machine.travel(NOW + dt.timedelta(minutes=40), tick=False):
        _open(world.colleague, flagged)  # the flag's own: joins nothing
        _open(world.viewer, flagged, purpose=Purpose.PROVIDING_SERVICE)
        assert run_alert_tasks() == 0

    assert len(mail.outbox) == 2
    lead_alert = Notification.objects.get(recipient=world.lead)
    assert lead_alert.event_count == 2
    assert lead_alert.last_event_at == NOW + dt.timedelta(minutes=40)
    assert lead_alert.read_at is None  # unread again: something new in it
    assert Notification.objects.count() == 2


def test_an_opening_after_the_window_opens_a_new_alert_and_emails_again(
    world, flagged, settings
):
    settings.ALERT_BATCH_MINUTES = 30
    with time_machine.travel(NOW, tick=False):
        _open(world.viewer, flagged)
        run_alert_tasks()
    with time_machine.travel(NOW + dt.timedelta(minutes=31), tick=False):
        _open(world.viewer, flagged)
        assert run_alert_tasks() == 2

    assert Notification.objects.filter(recipient=world.lead).count() == 2
    assert len(mail.outbox) == 4


def test_processing_an_event_twice_tells_nobody_twice(world, flagged):
    _open(world.viewer, flagged)
    event = AlertEvent.objects.get()

    alert_event_task(str(event.pk))
    AlertEvent.objects.update(processed_at=None)  # as if the worker died
    assert alert_event_task(str(event.pk)) == 0

    assert Notification.objects.count() == 2
    assert {n.event_count for n in Notification.objects.all()} == {1}
    assert len(mail.outbox) == 2


def test_a_failed_email_is_queued_to_retry_and_the_alert_stays_unsent(world, flagged):
    import smtplib

    _open(world.viewer, flagged)
    with (
        mock.patch(
            "alerts.services.send_mail", side_effect=smtplib.SMTPServerDisconnected
        ),
        mock.patch("alerts.tasks.alert_email_task.delay") as retry,
    ):
        assert run_alert_tasks() == 0

    assert retry.call_count == 2
    assert Notification.objects.filter(email_sent_at__isnull=True).count() == 2
    not_completed = AccessEvent.objects.filter(
        action="alert_send", reason="not_completed"
    )
    assert not_completed.count() == 2
    from alerts.tasks import alert_email_task

    assert alert_email_task(str(retry.call_args_list[0].args[0])) is True
    assert len(mail.outbox) == 1
