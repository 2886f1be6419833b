"""The runs list, a run's page (progress and report) and its progress (JSON)."""

from dataclasses import dataclass
from uuid import UUID

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.actors import Actor
from contactpoint.paging import paging
from ingestion.forms import RunFilterForm
from ingestion.models import FeedRow, FeedRun, RunStatus
from ingestion.selectors import (
    feed_run_get,
    feed_run_is_active,
    feed_run_quarantined_page,
    feed_runs_page,
    feed_source_choices,
)
from ingestion.views.common import AuthenticatedRequest, feeds_view
from ingestion.views.display import Problem, problems_of

#: How often a running run's page asks for progress, and how many times (a
#: page left open must not keep a session alive for ever: 5 minutes).
POLL_SECONDS = 2
POLL_LIMIT = 150


@require_safe
@feeds_view
def run_list_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    form = RunFilterForm(request.GET or None, sources=feed_source_choices(actor=actor))
    filters = form.to_filters()
    invalid = form.is_bound and not form.is_valid()
    page = (
        None
        if invalid
        else feed_runs_page(
            actor=actor, filters=filters, page=request.GET.get("page", 1)
        )
    )
    return render(
        request,
        "ingestion/run_list.html",
        {
            "form": form,
            "filters": filters,
            **paging(request, page),
        },
    )


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One quarantined row of the run's report, with its problems in words."""

    row: FeedRow
    problems: list[Problem]


def progress_of(run: FeedRun) -> dict[str, object]:
    """A run's status and counters, as the progress script reads them."""
    return {
        "id": str(run.pk),
        "status": run.status,
        "status_label": run.get_status_display(),
        "active": feed_run_is_active(run),
        "total_rows": run.total_rows,
        "rows_done": run.rows_done,
        "percent_done": run.percent_done,
        "applied": run.applied,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "quarantined": run.quarantined,
        "waiting": run.waiting,
    }


@require_safe
@feeds_view
def run_view(request: AuthenticatedRequest, actor: Actor, run_id: UUID) -> HttpResponse:
    """The run's status, progress and counters, and the quarantined rows."""
    run = feed_run_get(actor=actor, run_id=run_id)
    page = feed_run_quarantined_page(
        actor=actor, run=run, page=request.GET.get("page", 1)
    )
    return render(
        request,
        "ingestion/run.html",
        {
            "run": run,
            "active": feed_run_is_active(run),
            "refused": run.status == RunStatus.REJECTED,
            "report": [ReportLine(row, problems_of(row.problems)) for row in page],
            "poll_seconds": POLL_SECONDS,
            "poll_limit": POLL_LIMIT,
            **paging(request, page),
        },
    )


@require_safe
@feeds_view
def run_progress_view(
    request: AuthenticatedRequest, actor: Actor, run_id: UUID
) -> HttpResponse:
    """The run's progress, for the run page's script (JSON)."""
    return JsonResponse(progress_of(feed_run_get(actor=actor, run_id=run_id)))
