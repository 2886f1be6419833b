"""verify_audit names the first broken sequence number after any tampering.

Tampering is done as the database superuser the tests connect as: privileges
do not stop a superuser, so the chain and the signed checkpoints must.
"""

import io
import itertools
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.checkpoints import checkpoint_write
from audit.models import AccessAction, AccessEvent, AuditCheckpoint, AuditVerification
from audit.services import access_event_record
from audit.verification import verification_run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def checkpoint_dir(settings, tmp_path: Path) -> Path:
    settings.AUDIT_CHECKPOINT_DIR = tmp_path
    return tmp_path


@pytest.fixture
def events() -> list[AccessEvent]:
    for number in range(6):
        access_event_record(
            actor=None,
            action=AccessAction.SIGN_IN_FAILED,
            allowed=False,
            reason="bad_password",
            detail=f"attempt {number}",
        )
    return list(AccessEvent.objects.order_by("seq"))


def sql(statement: str, params: list[str | int] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def verify() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except CommandError as exc:
        return "broken", f"{exc}\n{err.getvalue()}"
    return "intact", out.getvalue()


def test_writer_numbers_events_without_gaps_and_chains_them(events):
    assert [event.seq for event in events] == [1, 2, 3, 4, 5, 6]
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.entry_hash
        assert after.occurred_at >= before.occurred_at
    assert verify()[0] == "intact"


def test_updated_row_is_named(events):
    sql("UPDATE audit_accessevent SET detail = 'nothing happened' WHERE seq = 3")
    status, message = verify()
    assert status == "broken"
    assert "first broken sequence number 3" in message
    assert "Event 3 was changed after it was written" in message


def test_deleted_row_is_named(events):
    sql("DELETE FROM audit_accessevent WHERE seq = 4")
    _, message = verify()
    assert "first broken sequence number 4" in message
    assert "Sequence number 4 is missing" in message


def test_reordered_rows_are_named(events):
    sql(
        "UPDATE audit_accessevent SET seq = CASE seq WHEN 2 THEN 5 ELSE 2 END "
        "WHERE seq IN (2, 5)"
    )
    _, message = verify()
    assert "first broken sequence number 2" in message


def test_rows_deleted_from_the_end_are_caught_by_the_checkpoint(events):
    checkpoint_write()
    sql("DELETE FROM audit_accessevent WHERE seq >= 5")
    status, message = verify()
    assert status == "broken"
    assert "first broken sequence number 5" in message
    assert "log ends at 4" in message


def test_a_rewritten_and_rehashed_history_fails_the_signed_checkpoint(events):
    checkpoint_write()
    sql("UPDATE audit_accessevent SET detail = 'rewritten' WHERE seq = 2")
    # The forger recomputes every hash after the change, as the format
    # document allows anyone to: only the signature stops them.
    from audit.chain import EVENT_FIELDS, entry_hash

    prev = AccessEvent.objects.get(seq=1).entry_hash
    rows = AccessEvent.objects.filter(seq__gte=2).order_by("seq").values()
    for stored in rows:
        row: dict[str, object] = dict(stored)
        row["prev_hash"] = prev
        prev = entry_hash({name: row[name] for name in EVENT_FIELDS})
        sql(
            "UPDATE audit_accessevent SET prev_hash = %s, entry_hash = %s "
            "WHERE seq = %s",
            [str(row["prev_hash"]), prev, stored["seq"]],
        )
    status, message = verify()
    assert status == "broken"
    assert "first broken sequence number 6" in message
    assert "differs from the signed checkpoint" in message


def test_deleted_checkpoint_row_is_caught_by_the_file_copy(events, checkpoint_dir):
    checkpoint_write()
    assert len(list(checkpoint_dir.glob("checkpoints-*.jsonl"))) == 1
    sql("DELETE FROM audit_auditcheckpoint")
    _, message = verify()
    assert "missing from the database" in message


def test_forged_checkpoint_row_is_reported(events):
    checkpoint_write()
    sql("UPDATE audit_auditcheckpoint SET entry_hash = repeat('f', 64)")
    status, message = verify()
    assert status == "broken"
    assert "does not verify" in message


def test_checkpoint_is_written_once_per_new_head(events, checkpoint_dir):
    first = checkpoint_write()
    assert first is not None
    assert first.seq == 6
    assert checkpoint_write() is None  # nothing new since
    access_event_record(
        actor=None, action=AccessAction.SIGN_IN_FAILED, allowed=False, reason="x"
    )
    second = checkpoint_write()
    assert second is not None
    assert second.seq == 7
    lines = next(checkpoint_dir.glob("*.jsonl")).read_text().splitlines()
    assert len(lines) == AuditCheckpoint.objects.count() == 2


def test_verification_run_records_the_result_for_the_integrity_page(events):
    passed = verification_run()
    assert passed.status == AuditVerification.Status.PASSED
    assert (passed.events_checked, passed.last_seq) == (6, 6)
    sql("UPDATE audit_accessevent SET reason = 'edited' WHERE seq = 1")
    failed = verification_run()
    assert failed.status == AuditVerification.Status.FAILED
    assert failed.first_broken_seq == 1
    assert failed.problems


def test_empty_log_is_intact():
    assert verify()[0] == "intact"


def test_only_auditors_may_ask_for_a_check_and_refusals_are_audited():
    from django.core.exceptions import PermissionDenied

    from accounts.roles import Role
    from accounts.tests.factories import SchoolFactory, actor
    from audit.verification import verification_request

    school = SchoolFactory()
    practitioner = actor((Role.PRACTITIONER, school.pk, None))
    with pytest.raises(PermissionDenied):
        verification_request(actor=practitioner)
    assert not AuditVerification.objects.exists()
    refused = AccessEvent.objects.get(action=AccessAction.AUDIT_VERIFY)
    assert (refused.outcome, refused.reason) == ("denied", "role_not_permitted")

    auditor = actor((Role.AUDITOR, school.pk, None))
    queued = verification_request(actor=auditor)
    assert queued.status == AuditVerification.Status.QUEUED
