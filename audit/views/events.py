"""The events list, its CSV export and a child's history."""

from collections.abc import Iterator

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from accounts.actors import Actor
from audit.csv_export import csv_lines
from audit.forms import ChildHistoryForm, EventFilterForm
from audit.selectors import (
    EXPORT_MAX_ROWS,
    EventExport,
    EventFilters,
    ExportTooLarge,
    child_history,
    events_export,
    events_page,
)
from audit.views.common import AuthenticatedRequest, auditor_view
from contactpoint.paging import paging, query_without_page

CSV_HEADER = (
    "Sequence number",
    "Time (UK)",
    "User",
    "Email address",
    "Role",
    "Organisation",
    "Action",
    "Outcome",
    "Reason",
    "Child's directory number",
    "Account affected",
    "Purpose",
    "Break glass",
    "Shielded record",
    "Detail",
    "Request id",
)


@require_safe
@auditor_view
def index(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    return redirect("audit:event-list")


@require_safe
@auditor_view
def event_list_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    form = EventFilterForm(request.GET or None)
    filters = form.to_filters()
    invalid = form.is_bound and not form.is_valid()
    page = (
        None
        if invalid
        else events_page(actor=actor, filters=filters, page=request.GET.get("page", 1))
    )
    return render(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "filters": filters,
            "export_query": query_without_page(request),
            "export_max_rows": f"{EXPORT_MAX_ROWS:,}",
            "caption": _caption(page.paginator.count, filters) if page else "",
            "current": "events",
            **paging(request, page),
        },
    )


def _caption(count: int, filters: EventFilters) -> str:
    events = f"{count:,} event" if count == 1 else f"{count:,} events"
    if not filters.is_filtered:
        return events
    return f"{events} {'matches' if count == 1 else 'match'} the filters"


@require_safe
@auditor_view
def event_export_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponseBase:
    """The events matching the filters, as CSV (streamed; audited first)."""
    form = EventFilterForm(request.GET or None)
    filters = form.to_filters()
    back = reverse("audit:event-list")
    query = query_without_page(request)
    if query:
        back = f"{back}?{query}"
    if form.is_bound and not form.is_valid():
        return redirect(back)
    try:
        export = events_export(actor=actor, filters=filters)
    except ExportTooLarge:
        messages.error(
            request,
            f"More than {EXPORT_MAX_ROWS:,} events match these filters, which is "
            "too many for one export. Narrow the filters (for example, choose "
            "a shorter date range) and export again.",
        )
        return redirect(back)
    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
    response = StreamingHttpResponse(
        csv_lines(_csv_rows(export)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="audit-events-{stamp}.csv"'
    return response


def _csv_rows(export: EventExport) -> Iterator[tuple[object, ...]]:
    yield CSV_HEADER
    for row in export.rows():
        event = row.event
        yield (
            event.seq,
            timezone.localtime(event.occurred_at).isoformat(timespec="seconds"),
            row.user_name or "Unknown or system",
            row.user_email,
            row.role_label,
            row.organisation_name,
            row.action_label,
            event.get_outcome_display(),
            event.reason,
            row.directory_number,
            row.subject_name,
            row.purpose_label,
            "Yes" if event.break_glass else "No",
            "Yes" if event.shielded_record else "No",
            event.detail,
            event.request_id,
        )


@require_safe
@auditor_view
def child_history_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    """Who has viewed this child, and why (opening it is audited)."""
    form = ChildHistoryForm(request.GET or None)
    rows = None
    number = ""
    if form.is_bound and form.is_valid():
        number, child_id = form.cleaned_data["number"]
        rows = child_history(actor=actor, child_id=child_id)
    return render(
        request,
        "audit/child_history.html",
        {
            "form": form,
            "rows": rows,
            "number": number,
            "printed_at": timezone.now(),
            "current": "history",
        },
    )
