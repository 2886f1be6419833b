"""The application's database role may only INSERT and SELECT audit rows."""

import pytest
from django.conf import settings
from django.db import ProgrammingError, connection, transaction

from audit.models import AccessAction, AccessEvent
from audit.partitions import partition_name, partitions_list
from audit.services import access_event_record

pytestmark = pytest.mark.django_db


def as_app_role(statement: str) -> None:
    """Run ``statement`` as the application's role, in a savepoint."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{settings.DATABASE_APP_ROLE}"')
        cursor.execute(statement)


@pytest.fixture
def event() -> AccessEvent:
    return access_event_record(
        actor=None, action=AccessAction.SIGN_IN_FAILED, allowed=False, reason="x"
    )


def test_app_role_can_read_and_append(event):
    as_app_role("SELECT count(*) FROM audit_accessevent")
    as_app_role(
        "INSERT INTO audit_auditcheckpoint (seq, entry_hash, created_at, key_id, "
        "signature) VALUES (1, 'h', now(), 'k', 's')"
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_accessevent SET reason = 'edited'",
        "DELETE FROM audit_accessevent",
        "TRUNCATE audit_accessevent",
        "UPDATE audit_auditcheckpoint SET seq = 0",
        "DELETE FROM audit_auditcheckpoint",
        "TRUNCATE audit_auditcheckpoint",
    ],
)
def test_app_role_cannot_change_or_remove_history(event, statement):
    with pytest.raises(ProgrammingError, match="permission denied"):
        as_app_role(statement)
    assert AccessEvent.objects.filter(reason="x").count() == 1


def test_partitions_are_protected_too(event):
    partition = partitions_list(connection)[-1]
    with pytest.raises(ProgrammingError, match="permission denied"):
        as_app_role(f'DELETE FROM "{partition}"')  # noqa: S608  # our own name


def test_app_role_can_still_change_ordinary_tables():
    as_app_role("UPDATE accounts_user SET first_name = first_name")


def test_events_land_in_their_month_partition(event):
    month = event.occurred_at.date().replace(day=1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM audit_accessevent WHERE id = %s",
            [event.id],
        )
        assert cursor.fetchone()[0] == partition_name(month)


def test_month_with_rows_in_the_default_partition_is_reported_not_failed():
    from datetime import date

    from audit.partitions import DEFAULT, partitions_ensure

    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{DEFAULT}" SELECT * FROM audit_accessevent LIMIT 0'  # noqa: S608
        )
        cursor.execute(
            f'INSERT INTO "{DEFAULT}" (id, seq, occurred_at, actor_role, action, '  # noqa: S608
            "outcome, reason, detail, purpose, break_glass, shielded_record, "
            "request_id, prev_hash, entry_hash) VALUES (gen_random_uuid(), 99, "
            "'2031-05-03T10:00:00Z', '', 'view', 'allowed', 'x', '', '', false, "
            "false, '', '', '')"
        )
    notes = partitions_ensure(connection, today=date(2031, 5, 10))
    assert notes == [
        "Events for May 2031 are in the default partition; "
        "audit_accessevent_y2031m05 was not created."
    ]
    assert "audit_accessevent_y2031m06" in partitions_list(connection)


def test_app_role_can_write_events_through_the_one_writer():
    with connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{settings.DATABASE_APP_ROLE}"')
        try:
            first = access_event_record(
                actor=None,
                action=AccessAction.SIGN_IN_FAILED,
                allowed=False,
                reason="a",
            )
            second = access_event_record(
                actor=None,
                action=AccessAction.SIGN_IN_FAILED,
                allowed=False,
                reason="b",
            )
        finally:
            cursor.execute("RESET ROLE")
    assert (second.seq, second.prev_hash) == (first.seq + 1, first.entry_hash)
