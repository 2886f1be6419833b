"""unread_count: the header's number, read with one line of SQL."""

import uuid

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from alerts.models import AlertEvent, Notification
from alerts.selectors import unread_count

pytestmark = pytest.mark.django_db


def _notification(recipient, *, read: bool) -> Notification:
    now = timezone.now()
    event = AlertEvent.objects.create(
        kind="record_opened",
        child_id=uuid.uuid4(),
        actor_id=uuid.uuid4(),
        occurred_at=now,
    )
    return Notification.objects.create(
        recipient=recipient,
        recipient_key=f"user:{recipient.pk}" if recipient else "email:a@example.org",
        kind="record_opened",
        reason="flag_contact",
        child_id=event.child_id,
        directory_number="0000000000000",
        first_event=event,
        last_event_at=now,
        window_ends_at=now,
        read_at=now if read else None,
    )


def test_counts_only_the_persons_unread_alerts(django_assert_num_queries):
    person, other = UserFactory(), UserFactory()
    _notification(person, read=False)
    _notification(person, read=False)
    _notification(person, read=True)
    _notification(other, read=False)
    _notification(None, read=False)

    with django_assert_num_queries(1):
        count = unread_count(user_id=person.pk)

    assert count == 2
    assert (
        count
        == Notification.objects.filter(recipient=person, read_at__isnull=True).count()
    )
    assert unread_count(user_id=uuid.uuid4()) == 0
