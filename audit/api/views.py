"""The audit API: the events list's export, as pages of JSON.

The same filters, selector and audit as the CSV export of the auditor's
workspace: only auditors (a session with a verified second factor, given
in the last 5 minutes to start an export); the export is counted, refused
above 100,000 events, pinned to the last event when it was counted, and
audited once, as ``audit_export``, before its first page is sent. Filters
travel in the POST body, never the URL: they name people and children.

Later pages are asked for with a signed cursor that carries the export's
filters, pin and position. It works for an hour, for the auditor who
started the export, while they are still an auditor.
"""

from dataclasses import asdict, dataclass
from datetime import date
from itertools import islice
from typing import Any
from uuid import UUID

from django.core import signing
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.actors import Actor
from accounts.api.actors import api_actor, api_fresh_second_factor_check
from accounts.api.errors import RETRY_AFTER, error_responses
from audit.api.serializers import (
    EventExportInputSerializer,
    EventExportPageSerializer,
)
from audit.selectors import (
    EXPORT_MAX_ROWS,
    EventExport,
    EventFilters,
    EventRow,
    ExportTooLarge,
    audit_workspace_check,
    events_export,
)

CURSOR_SALT = "audit.api.events-export"
CURSOR_MAX_AGE_SECONDS = 3600
CURSOR_NOT_VALID = "This cursor is not valid: start the export again."
CURSOR_EXPIRED = "This cursor is more than an hour old: start the export again."


@dataclass(frozen=True, slots=True)
class _Position:
    """Where an export has got to: what the cursor carries."""

    filters: EventFilters
    up_to_seq: int
    count: int
    below_seq: int
    sent: int


def _cursor_make(actor: Actor, position: _Position) -> str:
    filters = {
        name: value.isoformat() if isinstance(value, date) else value
        for name, value in asdict(position.filters).items()
    }
    filters["child_id"] = str(position.filters.child_id or "")
    return signing.dumps(
        {
            "user": str(actor.user_id),
            "filters": filters,
            "up_to": position.up_to_seq,
            "count": position.count,
            "below": position.below_seq,
            "sent": position.sent,
        },
        salt=CURSOR_SALT,
        compress=True,
    )


def _cursor_read(actor: Actor, cursor: str) -> _Position:
    try:
        data = signing.loads(cursor, salt=CURSOR_SALT, max_age=CURSOR_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise ValidationError({"cursor": [CURSOR_EXPIRED]}) from None
    except signing.BadSignature:
        raise ValidationError({"cursor": [CURSOR_NOT_VALID]}) from None
    if data["user"] != str(actor.user_id):
        raise ValidationError({"cursor": [CURSOR_NOT_VALID]})
    filters: dict[str, Any] = data["filters"]
    return _Position(
        filters=EventFilters(
            **filters
            | {
                "child_id": UUID(filters["child_id"]) if filters["child_id"] else None,
                "date_from": _day(filters["date_from"]),
                "date_to": _day(filters["date_to"]),
            }
        ),
        up_to_seq=data["up_to"],
        count=data["count"],
        below_seq=data["below"],
        sent=data["sent"],
    )


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _filters_of(data: dict[str, Any]) -> EventFilters:
    child: tuple[str, UUID] | None = data["directory_number"]
    return EventFilters(
        user=data["user"].strip(),
        organisation=data["organisation"].strip(),
        child_id=child[1] if child else None,
        directory_number=child[0] if child else "",
        action=data["action"],
        outcome=data["outcome"],
        purpose=data["purpose"],
        date_from=data["date_from"],
        date_to=data["date_to"],
    )


def _event(row: EventRow) -> dict[str, Any]:
    event = row.event
    return {
        "seq": event.seq,
        "occurred_at": timezone.localtime(event.occurred_at),
        "actor_id": event.actor_id,
        "user_name": row.user_name,
        "user_email": row.user_email,
        "actor_role": event.actor_role,
        "organisation_id": event.organisation_id,
        "organisation_name": row.organisation_name,
        "action": event.action,
        "action_label": row.action_label,
        "outcome": event.outcome,
        "reason": event.reason,
        "child_id": event.child_id,
        "directory_number": row.directory_number,
        "subject_user_id": event.subject_user_id,
        "subject_name": row.subject_name,
        "purpose": event.purpose,
        "purpose_label": row.purpose_label,
        "break_glass": event.break_glass,
        "shielded_record": event.shielded_record,
        "detail": event.detail,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
        "entry_hash": event.entry_hash,
    }


class AuditEventExportApi(APIView):
    parser_classes = [JSONParser]
    throttle_scope = "audit_export"

    @extend_schema(
        operation_id="audit_events_export",
        tags=["Audit"],
        request=EventExportInputSerializer,
        responses={
            200: EventExportPageSerializer,
            **error_responses(
                400,
                403,
                e400=f"A filter is wrong, more than {EXPORT_MAX_ROWS:,} events "
                "match (narrow the filters), or the cursor is not valid or "
                "has expired.",
                e403="Only auditors export the access log; starting an export "
                "needs a second factor given in the last 5 minutes (code "
                "fresh_second_factor_required).",
            ),
        },
        parameters=[RETRY_AFTER],
        summary="Export access events",
        description=(
            "The events matching the filters, newest first, a page at a time. "
            "Starting an export counts it and records an audit_export event; "
            "later pages follow next_cursor and hold only events that existed "
            "when it started."
        ),
    )
    def post(self, request: Request) -> Response:
        actor = api_actor(request)
        # Before reading the filters: a directory number is looked up.
        audit_workspace_check(actor=actor)
        given = EventExportInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data: dict[str, Any] = given.validated_data
        if data["cursor"]:
            position = _cursor_read(actor, data["cursor"])
        else:
            api_fresh_second_factor_check(request)
            try:
                export = events_export(
                    actor=actor, filters=_filters_of(data), file_format="JSON"
                )
            except ExportTooLarge:
                raise ValidationError(
                    {
                        "non_field_errors": [
                            f"More than {EXPORT_MAX_ROWS:,} events match these "
                            "filters, which is too many for one export. Narrow "
                            "the filters (for example, a shorter date range)."
                        ]
                    }
                ) from None
            position = _Position(
                filters=export.filters,
                up_to_seq=export.up_to_seq,
                count=export.count,
                below_seq=export.up_to_seq + 1,
                sent=0,
            )
        return Response(
            EventExportPageSerializer(
                self._page(actor, position, data["page_size"])
            ).data
        )

    def _page(self, actor: Actor, position: _Position, size: int) -> dict[str, Any]:
        remaining = EventExport(
            filters=position.filters,
            up_to_seq=position.below_seq - 1,
            count=position.count,
        )
        rows = list(islice(remaining.rows(chunk_size=size), size))
        sent = position.sent + len(rows)
        more = len(rows) == size and sent < position.count
        return {
            "count": position.count,
            "up_to_seq": position.up_to_seq,
            "results": [_event(row) for row in rows],
            "next_cursor": _cursor_make(
                actor,
                _Position(
                    filters=position.filters,
                    up_to_seq=position.up_to_seq,
                    count=position.count,
                    below_seq=rows[-1].event.seq,
                    sent=sent,
                ),
            )
            if more
            else None,
        }
