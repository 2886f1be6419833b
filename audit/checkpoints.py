"""Signed checkpoints of the chain's head, in the database and in files.

``checkpoint_write`` runs every five minutes (Celery beat). The file copy is
one JSON line per checkpoint in ``AUDIT_CHECKPOINT_DIR/checkpoints-YYYY-MM.jsonl``,
appended and fsynced before the database row is written, so the file never
lacks a checkpoint the database has.
"""

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from audit.chain import Checkpoint, checkpoint_sign
from audit.keys import signing_key
from audit.models import AccessEvent, AuditCheckpoint
from audit.services import chain_head


def checkpoint_dir() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def checkpoint_write() -> AuditCheckpoint | None:
    """Sign the current head; None when the log is empty or already covered."""
    head = chain_head()
    if head is None:
        return None
    seq, head_hash = head
    last = AuditCheckpoint.objects.order_by("-seq").first()
    if last is not None and last.seq >= seq:
        return None
    checkpoint = checkpoint_sign(
        signing_key(), seq=seq, entry_hash=head_hash, created_at=timezone.now()
    )
    _file_append(checkpoint)
    return AuditCheckpoint.objects.create(
        seq=checkpoint.seq,
        entry_hash=checkpoint.entry_hash,
        created_at=checkpoint.created_at,
        key_id=checkpoint.key_id,
        signature=checkpoint.signature,
    )


def _file_append(checkpoint: Checkpoint) -> None:
    directory = checkpoint_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"checkpoints-{checkpoint.created_at:%Y-%m}.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        os.write(fd, (checkpoint.as_line() + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def file_checkpoints() -> Iterator[Checkpoint]:
    """Every checkpoint in the files (a damaged line raises ValueError)."""
    directory = checkpoint_dir()
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("checkpoints-*.jsonl")):
        with path.open(encoding="utf-8") as file:
            for number, line in enumerate(file, start=1):
                if not line.strip():
                    continue
                try:
                    yield Checkpoint.from_line(line)
                except (ValueError, KeyError) as exc:
                    raise ValueError(
                        f"{path.name} line {number} is not a checkpoint: {exc}"
                    ) from exc


def database_checkpoints() -> Iterator[Checkpoint]:
    for row in AuditCheckpoint.objects.order_by("seq").iterator():
        yield Checkpoint(
            row.seq, row.entry_hash, row.created_at, row.key_id, row.signature
        )


def checkpoint_lag(now: datetime | None = None) -> timedelta | None:
    """How long the oldest event no signed checkpoint covers has waited.

    None when every event is covered (or there are none): a quiet log gets
    no new checkpoints, and that is not a fault. The readiness check
    (contactpoint/health.py) compares this with its limit. Two queries.
    """
    covered = AuditCheckpoint.objects.aggregate(seq=Max("seq"))["seq"] or 0
    oldest = (
        AccessEvent.objects.filter(seq__gt=covered)
        .order_by("seq")
        .values_list("occurred_at", flat=True)
        .first()
    )
    if oldest is None:
        return None
    return max(timedelta(0), (now or timezone.now()) - oldest)
