"""The one audit writer: every selector and service touching child data calls it.

Events form a hash chain with gap-free sequence numbers (audit/chain.py,
docs/audit-format.md). Writers take a transaction-scoped advisory lock, read
the chain's head, and insert the next event in the same short transaction, so
two writers never take the same number and a rolled-back write leaves no gap.
"""

import json
from collections.abc import Sequence
from uuid import UUID

from django.db import connection, transaction
from django.utils import timezone

from accounts.actors import Actor
from audit.chain import EVENT_FIELDS, GENESIS_HASH, entry_hash
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
    with transaction.atomic(durable=True):
        _chain_append(event)
    return event


#: pg_advisory_xact_lock key of the chain ("audit" in ASCII).
CHAIN_LOCK_KEY = 0x6175646974

_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s)"
_HEAD_SQL = "SELECT seq, entry_hash FROM audit_accessevent ORDER BY seq DESC LIMIT 1"


def _chain_append(event: AccessEvent) -> None:
    """Number, time, hash and insert ``event`` (inside the caller's transaction).

    The head is read in a statement of its own *after* the lock is granted:
    under READ COMMITTED each statement sees what was committed when it
    began, so reading it in the locking statement would miss the event the
    previous lock holder just committed. The lock is released by the commit,
    after the row is visible to the next writer.
    """
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL, [CHAIN_LOCK_KEY])
        cursor.execute(_HEAD_SQL)
        head = cursor.fetchone()
    if head is None:
        event.seq, event.prev_hash = 1, GENESIS_HASH
    else:
        event.seq, event.prev_hash = int(head[0]) + 1, head[1]
    event.occurred_at = timezone.now()
    event.entry_hash = entry_hash({name: getattr(event, name) for name in EVENT_FIELDS})
    event.save(force_insert=True)


def chain_head() -> tuple[int, str] | None:
    """The last event's (seq, entry_hash), or None for an empty log."""
    last = AccessEvent.objects.order_by("-seq").values_list("seq", "entry_hash").first()
    return None if last is None else (last[0], last[1])
