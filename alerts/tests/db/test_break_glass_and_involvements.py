"""Break-glass openings (told at once, never batched) and new involvements
(told to the lead professional)."""

import datetime as dt

import pytest
from django.core import mail

from alerts.models import Notification
from alerts.rules import AlertKind, AlertReason
from alerts.tests.factories import (
    alert_world,
    child,
    flag,
    lead_involvement,
    run_alert_tasks,
    verified,
)
from audit.models import AccessEvent
from directory.services.break_glass import break_glass_notification_send
from directory.services.involvements import involvement_record
from directory.tasks import break_glass_notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return alert_world()


# Break glass ---------------------------------------------------------------------


def test_break_glass_tells_the_authoritys_officers_and_every_auditor_at_once(world):
    shielded = child(shielded=True, responsible_authority_id=world.authority.pk)

    sent = break_glass_notify(str(shielded), str(world.viewer.pk))

    assert sent == 3
    assert sorted(
        (n.recipient_id, n.reason) for n in Notification.objects.all()
    ) == sorted(
        [
            (world.officer.pk, AlertReason.SHIELDING_OFFICER),
            (world.auditor.pk, AlertReason.AUDITOR),
            (world.far_auditor.pk, AlertReason.AUDITOR),
        ]
    )
    assert {n.kind for n in Notification.objects.all()} == {AlertKind.BREAK_GLASS}
    message = next(m for m in mail.outbox if m.to == ["far@southshire.example.org"])
    assert "was opened in an emergency" in message.body
    assert "Opened by: Val Viewer" in message.body
    assert "Organisation: Valley Primary" in message.body
    assert AccessEvent.objects.filter(action="alert_send").count() == 6


def test_two_break_glass_openings_are_two_alerts_and_two_emails_each(world):
    shielded = child(shielded=True, responsible_authority_id=world.authority.pk)

    break_glass_notification_send(child_id=shielded, actor_user_id=world.viewer.pk)
    break_glass_notification_send(child_id=shielded, actor_user_id=world.viewer.pk)

    assert Notification.objects.filter(recipient=world.officer).count() == 2
    assert [m.to for m in mail.outbox].count(["olu@northshire.example.org"]) == 2


def test_break_glass_with_nobody_to_tell_emails_the_authoritys_mailbox(world):
    for user in (world.officer, world.auditor, world.far_auditor):
        user.is_active = False
        user.save(update_fields=["is_active"])
    shielded = child(shielded=True, responsible_authority_id=world.authority.pk)

    assert break_glass_notify(str(shielded), str(world.viewer.pk)) == 1

    assert [m.to for m in mail.outbox] == [["shielding@northshire.example.org"]]
    assert Notification.objects.get().reason == AlertReason.AUTHORITY_MAILBOX


# New involvements -----------------------------------------------------------------


def _record(user, child_id, *, service_type="youth_work", lead=False):
    return involvement_record(
        actor=verified(user),
        child_id=child_id,
        service_type=service_type,
        practitioner_role="Youth worker",
        started_on=dt.date(2026, 1, 5),
        phone="01632 960555",
        email="",
        lead_professional=lead,
    )


def test_a_new_involvement_tells_the_lead_professional_who_has_joined(world):
    led = child(involvements=(lead_involvement(world),))

    _record(world.viewer, led)
    assert run_alert_tasks() == 1

    notification = Notification.objects.get()
    assert (notification.recipient_id, notification.kind) == (
        world.lead.pk,
        AlertKind.INVOLVEMENT_ADDED,
    )
    (message,) = mail.outbox
    assert "Who: Val Viewer" in message.body
    assert "Organisation: Valley Primary" in message.body
    assert "Service: Youth work, Youth worker, from 5 January 2026" in message.body
    assert "Phone: 01632 960555" in message.body


def test_a_child_without_a_lead_professional_tells_nobody_of_a_new_involvement(
    world, django_capture_on_commit_callbacks
):
    unled = child(flags=(flag(world),))

    with django_capture_on_commit_callbacks() as callbacks:
        _record(world.viewer, unled)

    assert callbacks == []
    run_alert_tasks()
    assert Notification.objects.count() == 0


def test_the_lead_professional_is_not_told_of_their_own_involvement(world):
    led = child(involvements=(lead_involvement(world),))

    _record(world.lead, led, service_type="education")
    run_alert_tasks()

    assert Notification.objects.count() == 0


def test_a_sensitive_involvement_elsewhere_is_not_told(world):
    led = child(involvements=(lead_involvement(world),))

    _record(world.viewer, led, service_type="sexual_health")
    run_alert_tasks()

    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_new_involvements_within_the_hour_join_one_alert(world):
    led = child(involvements=(lead_involvement(world),))

    _record(world.viewer, led)
    _record(world.social_worker, led, service_type="social_care")
    run_alert_tasks()

    notification = Notification.objects.get()
    assert notification.event_count == 2
    assert notification.latest_actor_name == "Sam Social"
    assert len(mail.outbox) == 1
