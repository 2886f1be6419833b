"""Recompute the whole chain and check every checkpoint (``verify_audit``).

Streams events in sequence order through ``ChainVerifier`` (audit/chain.py)
with a server-side cursor, so memory stays flat whatever the log's size.
Checkpoints come from the database and from the files; a checkpoint in one
place and not the other is itself a finding.
"""

from collections.abc import Callable
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from audit.chain import EVENT_FIELDS, ChainVerifier, Checkpoint, Problem
from audit.checkpoints import database_checkpoints, file_checkpoints
from audit.keys import verify_keys
from audit.models import AccessAction, AccessEvent, AuditVerification
from audit.permissions import auditor_required
from audit.services import access_event_record

#: Progress is saved every this many events while a run works.
PROGRESS_EVERY = 20_000
_COLUMNS = (*EVENT_FIELDS, "entry_hash")


def _checkpoints(problems: list[Problem]) -> list[Checkpoint]:
    in_database = set(database_checkpoints())
    try:
        in_files = set(file_checkpoints())
    except ValueError as exc:
        problems.append(Problem(0, f"A checkpoint file is damaged: {exc}"))
        in_files = set()
    for checkpoint in sorted(in_database - in_files, key=lambda c: c.seq):
        problems.append(
            Problem(
                checkpoint.seq,
                f"The checkpoint at sequence number {checkpoint.seq} is in the "
                "database but not in the checkpoint files.",
            )
        )
    for checkpoint in sorted(in_files - in_database, key=lambda c: c.seq):
        problems.append(
            Problem(
                checkpoint.seq,
                f"The checkpoint at sequence number {checkpoint.seq} is in the "
                "checkpoint files but missing from the database: it was deleted.",
            )
        )
    return sorted(in_database | in_files, key=lambda c: (c.seq, c.created_at))


def audit_verify(
    on_progress: Callable[[ChainVerifier], None] | None = None,
) -> tuple[ChainVerifier, list[Problem]]:
    """Check everything; problems sorted, first broken sequence number first."""
    extra: list[Problem] = []
    verifier = ChainVerifier(public_keys=verify_keys(), checkpoints=_checkpoints(extra))
    rows = AccessEvent.objects.order_by("seq").values(*_COLUMNS)
    with transaction.atomic():  # one snapshot, and a server-side cursor
        for values in rows.iterator(chunk_size=5_000):
            verifier.add(values)
            if on_progress and verifier.events_checked % PROGRESS_EVERY == 0:
                on_progress(verifier)
    return verifier, sorted(verifier.finish() + extra)


def verification_request(*, actor: Actor) -> AuditVerification:
    """Queue a full check (the integrity page's button); auditors only, audited."""
    from audit.tasks import audit_verify_task  # noqa: PLC0415  # tasks import us

    auditor_required(actor, AccessAction.AUDIT_VERIFY, "check the audit log")
    access_event_record(
        actor=actor,
        action=AccessAction.AUDIT_VERIFY,
        allowed=True,
        reason="auditor",
        detail="Asked for a full check of the audit log.",
    )
    with transaction.atomic():
        verification = AuditVerification.objects.create(requested_by_id=actor.user_id)
        transaction.on_commit(lambda: audit_verify_task.delay(str(verification.id)))
    return verification


def verification_run(verification_id: UUID | None = None) -> AuditVerification:
    """Run a check, recording its progress and result in AuditVerification."""
    if verification_id is None:
        verification = AuditVerification.objects.create()
    else:
        verification = AuditVerification.objects.get(pk=verification_id)
    verification.status = AuditVerification.Status.RUNNING
    verification.started_at = timezone.now()
    verification.save(update_fields=["status", "started_at"])

    def progress(verifier: ChainVerifier) -> None:
        AuditVerification.objects.filter(pk=verification.pk).update(
            events_checked=verifier.events_checked
        )

    verifier, problems = audit_verify(progress)
    verification.events_checked = verifier.events_checked
    verification.checkpoints_checked = verifier.checkpoints_checked
    verification.last_seq = verifier.last_seq or None
    verification.first_broken_seq = problems[0].seq if problems else None
    verification.problems = [problem.message for problem in problems]
    verification.status = (
        AuditVerification.Status.FAILED if problems else AuditVerification.Status.PASSED
    )
    verification.finished_at = timezone.now()
    verification.save()
    return verification
