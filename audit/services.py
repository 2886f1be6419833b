"""The one audit writer: every selector and service touching child data calls it.

Events form a hash chain with gap-free sequence numbers (audit/chain.py,
docs/audit-format.md). The database function audit_event_append takes a
row lock on the chain's head (AuditChainHead) and inserts the next
event in one autocommitted statement, so two writers never take the same
number, a failed write leaves no gap, and a write costs one round trip.
"""

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from uuid import UUID

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from accounts.actors import Actor
from audit.chain import CHAIN_FIELDS, EVENT_FIELDS, event_body
from audit.models import AccessEvent, Outcome
from contactpoint.crypto.fields import seal


def access_event_record(
    *,
    actor: Actor | None,
    action: str,
    allowed: bool,
    reason: str,
    child_id: UUID | None = None,
    subject_user_id: UUID | None = None,
    detail: str = "",
    purpose: str = "",
    purpose_detail: str = "",
    break_glass: bool = False,
    shielded_record: bool = False,
    request_id: str = "",
    query_terms: dict[str, str] | None = None,
    result_ids: Sequence[UUID] = (),
) -> AccessEvent:
    """Write one access event, allowed or denied, in its own transaction.

    ``actor`` is None for attempts by nobody known (a failed sign-in for an
    unknown username). Run outside any caller's transaction
    (``durable=True``), so a denial that raises afterwards can never roll back
    its own row. Query terms and result
    ids are encrypted; the reason is a stable code, never child data.
    """
    organisation_ids = sorted(actor.organisation_ids) if actor else []
    event = AccessEvent(
        actor_id=actor.user_id if actor else None,
        actor_role=actor.primary_role() if actor else "",
        organisation_id=organisation_ids[0] if organisation_ids else None,
        action=action,
        outcome=Outcome.ALLOWED if allowed else Outcome.DENIED,
        reason=reason,
        child_id=child_id,
        subject_user_id=subject_user_id,
        detail=detail,
        purpose=purpose,
        break_glass=break_glass,
        shielded_record=shielded_record,
        request_id=request_id,
    )
    if purpose_detail:
        seal(event, "purpose_detail", purpose_detail)
    if query_terms:
        seal(event, "query_terms", json.dumps(query_terms, sort_keys=True))
    if result_ids:
        seal(event, "result_ids", json.dumps([str(i) for i in result_ids]))
    _outside_transactions_only()
    _chain_append(event)
    return event


#: AccessEvent.detail's column size.
DETAIL_MAX_LENGTH = 500


def detail_fit(text: str) -> str:
    """Fit an event's "what changed and why" into its column."""
    if len(text) <= DETAIL_MAX_LENGTH:
        return text
    return text[: DETAIL_MAX_LENGTH - 1] + "\N{HORIZONTAL ELLIPSIS}"


@contextmanager
def access_event_change(
    *,
    actor: Actor | None,
    action: str,
    reason: str,
    detail: str,
    child_id: UUID | None = None,
    subject_user_id: UUID | None = None,
    purpose_detail: str = "",
) -> Iterator[None]:
    """Record a change, then make it (the ``with`` body) in one transaction.

    The event is written first, so a change is never made unrecorded; if the
    change then fails, a second event (outcome denied, reason
    ``not_completed``) says it did not happen, and the error propagates.
    ``purpose_detail`` (encrypted) is for a person's own words, which may
    name a child; ``detail`` stays in clear and is cut to its column.
    """
    access_event_record(
        actor=actor,
        action=action,
        allowed=True,
        reason=reason,
        child_id=child_id,
        subject_user_id=subject_user_id,
        detail=detail_fit(detail),
        purpose_detail=purpose_detail,
    )
    try:
        with transaction.atomic():
            yield
    except Exception as error:
        access_event_record(
            actor=actor,
            action=action,
            allowed=False,
            reason="not_completed",
            child_id=child_id,
            subject_user_id=subject_user_id,
            detail=detail_fit(f"Not completed ({type(error).__name__}): {detail}"),
        )
        raise


def _outside_transactions_only() -> None:
    """Refuse to run inside a caller's transaction (as ``durable=True`` does).

    The event is written in autocommit mode, so it is committed when the
    statement ends and no later rollback of the caller can remove it. Django's
    test cases wrap each test in a transaction they mark, which is allowed.
    """
    blocks = connection.atomic_blocks
    if blocks and not getattr(blocks[-1], "_from_testcase", False):
        raise RuntimeError(
            "access_event_record must not run inside a transaction: a rollback "
            "would remove the audit event. Call it before or after the atomic block."
        )


_APPEND_SQL = (
    "SELECT seq, occurred_at, prev_hash, entry_hash FROM audit_event_append(%s, %s)"
)
_BYTES_FIELDS = frozenset(
    name for name, kind in EVENT_FIELDS.items() if kind == "bytes"
)


def _column_value(name: str, value: object) -> object:
    if value is None:
        return None
    if name in _BYTES_FIELDS and isinstance(value, bytes | memoryview):
        return "\\x" + bytes(value).hex()
    return str(value) if isinstance(value, UUID) else value


def _chain_append(event: AccessEvent) -> None:
    """Append ``event`` in one statement: the database numbers, times and
    hashes it under the chain lock (migration 0003, audit_event_append)."""
    row = {
        name: _column_value(name, getattr(event, name))
        for name in EVENT_FIELDS
        if name not in CHAIN_FIELDS
    }
    with connection.cursor() as cursor:
        cursor.execute(_APPEND_SQL, [json.dumps(row), event_body(row_values(event))])
        event.seq, event.occurred_at, event.prev_hash, event.entry_hash = (
            cursor.fetchone()
        )
        _wait_until_durable(cursor)
    event._state.adding = False


def _wait_until_durable(cursor: CursorWrapper) -> None:
    """Return once the event just appended is flushed to disk.

    audit_event_append commits without waiting for the WAL flush, so the
    chain's lock is never held across a disk write. This transaction takes a
    transaction id, so its (synchronous) commit writes a commit record and
    flushes the WAL up to it — which includes the event. Concurrent writers'
    flushes share one disk write (group commit) instead of queueing behind
    the lock one flush at a time.
    """
    cursor.execute("SELECT txid_current()")


def row_values(event: AccessEvent) -> dict[str, object]:
    return {name: getattr(event, name) for name in EVENT_FIELDS}


def chain_head() -> tuple[int, str] | None:
    """The last event's (seq, entry_hash), or None for an empty log."""
    last = AccessEvent.objects.order_by("-seq").values_list("seq", "entry_hash").first()
    return None if last is None else (last[0], last[1])
