"""The inbox pages: the list, one alert (marked read when opened), and
"mark all as read". Everyone signed in with both factors has an inbox; each
sees only their own alerts, and anyone else's looks missing."""

from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.actors import Actor
from alerts.selectors import NotificationUnavailable, inbox_page
from alerts.services import notification_open, notifications_mark_all_read
from contactpoint.paging import paging
from directory.views.common import AuthenticatedRequest, directory_view, request_id_of


@require_http_methods(["GET", "HEAD"])
@directory_view
def inbox_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    page = inbox_page(user_id=actor.user_id, page_number=request.GET.get("page"))
    return render(
        request,
        "alerts/inbox.html",
        {**paging(request, page), "inbox_current": True},
    )


@require_http_methods(["GET", "HEAD"])
@directory_view
def notification_view(
    request: AuthenticatedRequest, actor: Actor, notification_id: UUID
) -> HttpResponse:
    try:
        detail = notification_open(
            actor=actor,
            notification_id=notification_id,
            request_id=request_id_of(request),
        )
    except NotificationUnavailable:
        raise Http404 from None
    return render(
        request,
        "alerts/notification.html",
        {"alert": detail, "inbox_current": True},
    )


@require_POST
@directory_view
def read_all_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    marked = notifications_mark_all_read(user_id=actor.user_id)
    if marked:
        messages.success(
            request,
            "1 alert marked as read"
            if marked == 1
            else f"{marked} alerts marked as read",
        )
    return redirect("alerts:inbox")
