"""The audit log's integrity: the last checkpoint and the latest full check."""

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from accounts.actors import Actor
from audit.selectors import integrity_status
from audit.verification import verification_request
from audit.views.common import AuthenticatedRequest, auditor_view

#: How often the page asks for progress while a check runs, and for how long
#: (a page left open must not keep a session alive for ever).
POLL_SECONDS = 5
POLL_LIMIT = 60


@require_safe
@auditor_view
def integrity_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    return render(
        request,
        "audit/integrity.html",
        {
            "status": integrity_status(actor=actor),
            "poll_seconds": POLL_SECONDS,
            "poll_limit": POLL_LIMIT,
            "current": "integrity",
        },
    )


@require_safe
@auditor_view
def integrity_progress_view(
    request: AuthenticatedRequest, actor: Actor
) -> HttpResponse:
    """The latest check's progress, for the integrity page's script (JSON)."""
    verification = integrity_status(actor=actor).verification
    if verification is None:
        return JsonResponse({"status": None})
    return JsonResponse(
        {
            "id": str(verification.id),
            "status": verification.status,
            "status_label": verification.get_status_display(),
            "events_checked": verification.events_checked,
        }
    )


@require_POST
@auditor_view
def integrity_verify_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    """Ask for a full check now (it runs in the background)."""
    verification_request(actor=actor)
    messages.success(
        request,
        "The full check has been asked for. It runs in the background: this "
        "page shows its progress and, when it finishes, the result.",
    )
    return redirect("audit:integrity")
