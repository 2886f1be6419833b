"""The one audit writer: every selector and service touching child data calls it."""

import json
from collections.abc import Sequence
from uuid import UUID

from django.db import transaction

from accounts.actors import Actor
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
        request_id=request_id,
    )
    if purpose_detail:
        seal(event, "purpose_detail", purpose_detail)
    if query_terms:
        seal(event, "query_terms", json.dumps(query_terms, sort_keys=True))
    if result_ids:
        seal(event, "result_ids", json.dumps([str(i) for i in result_ids]))
    with transaction.atomic(durable=True):
        event.save(force_insert=True)
    return event
