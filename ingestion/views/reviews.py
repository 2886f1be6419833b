"""The review queue, deciding a waiting row, and a quarantined row as sent.

Reading a row decrypts what the sender sent, and its candidates are opened
through the directory's gate: ``ingestion.reviews.feed_row_get`` audits
both, on every request (the decision form is checked against exactly the
candidates the data manager was shown). A decision is applied by
``feed_row_decide``; a refusal it explains is shown in the error summary.
"""

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from accounts.actors import Actor
from accounts.admin_forms import posted
from contactpoint.paging import paging
from directory.views.common import request_id_of
from ingestion.forms import ReviewDecisionForm
from ingestion.models import RowState
from ingestion.reviews import Decide, ReviewRefused, feed_row_decide, feed_row_get
from ingestion.selectors import feed_review_page
from ingestion.views.common import AuthenticatedRequest, feeds_view
from ingestion.views.display import (
    candidate_cards,
    match_reason,
    problems_of,
    row_fields,
)

DECIDED_MESSAGES = {
    Decide.LINK: "The row has been linked to the child you chose.",
    Decide.NEW: "A new child has been created from the row.",
    Decide.DISMISS: "The row will not be imported.",
}


def _run_filter(request: AuthenticatedRequest) -> UUID | None:
    try:
        return UUID(request.GET.get("run", ""))
    except ValueError:
        return None


@require_safe
@feeds_view
def review_queue_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    """Rows waiting for a person across the data manager's feeds (or one run's)."""
    run_id = _run_filter(request)
    page = feed_review_page(actor=actor, run_id=run_id, page=request.GET.get("page", 1))
    return render(
        request,
        "ingestion/review_queue.html",
        {
            "rows": [(row, match_reason(row.match)) for row in page],
            "run_id": run_id,
            **paging(request, page),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@feeds_view
def review_view(
    request: AuthenticatedRequest, actor: Actor, row_id: UUID
) -> HttpResponse:
    """GET: the incoming row beside each candidate, and the decision form.
    POST: apply the decision, then back to the queue. A row no longer
    waiting (decided by a colleague) goes to its own page."""
    request_id = request_id_of(request)
    view = feed_row_get(actor=actor, row_id=row_id, request_id=request_id)
    row = view.row
    if row.state != RowState.WAITING:  # decided already: the row's own page
        return redirect("feeds:row", row_id=row.pk)
    cards = candidate_cards(view.raw, view.candidates)
    form = ReviewDecisionForm(
        posted(request),
        links=[(card.child_id, card.link_label) for card in cards if card.visible],
    )
    if request.method == "POST" and form.is_valid():
        decision, child_id = form.chosen()
        try:
            feed_row_decide(
                actor=actor,
                row_id=row.pk,
                decision=decision,
                child_id=child_id,
                request_id=request_id,
            )
        except ReviewRefused as refused:
            form.add_error("decision", refused.message)
        else:
            messages.success(request, DECIDED_MESSAGES[decision])
            return redirect("feeds:review-queue")
    return render(
        request,
        "ingestion/review.html",
        {
            "form": form,
            "row": row,
            "run": row.run,
            "reason": match_reason(row.match),
            "cards": cards,
            "restricted": any(not card.visible for card in cards),
            "incoming": row_fields(view.raw, [])[0],
        },
    )


@require_safe
@feeds_view
def row_view(request: AuthenticatedRequest, actor: Actor, row_id: UUID) -> HttpResponse:
    """A quarantined (or decided) row as it was sent, each field beside its
    problems. A waiting row goes to its review page."""
    view = feed_row_get(actor=actor, row_id=row_id, request_id=request_id_of(request))
    row = view.row
    if row.state == RowState.WAITING:
        return redirect("feeds:review", row_id=row.pk)
    fields, whole_row = row_fields(view.raw, problems_of(row.problems))
    return render(
        request,
        "ingestion/row.html",
        {
            "row": row,
            "run": row.run,
            "fields": fields,
            "whole_row": whole_row,
        },
    )
