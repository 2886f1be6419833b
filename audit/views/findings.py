"""Anomaly findings (list, detail, review, run the checks) and the news list."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from accounts.actors import Actor
from accounts.admin_forms import posted, service_errors_apply
from audit.forms import FindingFilterForm, NewsListAddForm, ReviewForm
from audit.models import AnomalyFinding, NewsListEntry
from audit.reports import (
    anomalies_scan_request,
    finding_review,
    news_list_add,
    news_list_remove,
)
from audit.selectors import finding_detail, findings_page, news_list
from audit.views.common import AuthenticatedRequest, auditor_view
from contactpoint.paging import paging
from directory.identifiers import format_directory_number


@require_safe
@auditor_view
def finding_list_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    filter_form = FindingFilterForm(request.GET or None)
    kind, reviewed = filter_form.values()
    page = findings_page(
        actor=actor, kind=kind, reviewed=reviewed, page=request.GET.get("page", 1)
    )
    return render(
        request,
        "audit/finding_list.html",
        {
            "filter_form": filter_form,
            "today": timezone.localdate(),
            "current": "findings",
            **paging(request, page),
        },
    )


@require_POST
@auditor_view
def finding_scan_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    """Run today's checks now (Celery), instead of waiting for the night."""
    today = timezone.localdate()
    anomalies_scan_request(actor=actor, day=today)
    messages.success(
        request,
        f"The checks for today ({date_format(today, 'j F Y')}) have started. "
        "New findings appear on this page when they finish, usually within a "
        "few minutes.",
    )
    return redirect("audit:finding-list")


def _finding_page(
    request: AuthenticatedRequest,
    actor: Actor,
    finding_id: UUID,
    form: ReviewForm | None = None,
) -> HttpResponse:
    detail = finding_detail(actor=actor, finding_id=finding_id)
    if detail is None:
        raise Http404("No such finding.")
    return render(
        request,
        "audit/finding_detail.html",
        {
            "detail": detail,
            "finding": detail.row.finding,
            "form": form or ReviewForm(),
            "current": "findings",
        },
    )


@require_safe
@auditor_view
def finding_detail_view(
    request: AuthenticatedRequest, actor: Actor, finding_id: UUID
) -> HttpResponse:
    return _finding_page(request, actor, finding_id)


@require_POST
@auditor_view
def finding_review_view(
    request: AuthenticatedRequest, actor: Actor, finding_id: UUID
) -> HttpResponse:
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            finding_review(
                actor=actor, finding_id=finding_id, note=form.cleaned_data["note"]
            )
        except AnomalyFinding.DoesNotExist as missing:
            raise Http404("No such finding.") from missing
        except ValidationError as error:
            service_errors_apply(form, error)
        else:
            messages.success(request, "The finding is marked as reviewed.")
            return redirect("audit:finding-detail", finding_id=finding_id)
    return _finding_page(request, actor, finding_id, form)


@require_http_methods(["GET", "HEAD", "POST"])
@auditor_view
def news_list_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    """The children in the news; add one (POST)."""
    form = NewsListAddForm(posted(request))
    if request.method == "POST" and form.is_valid():
        number, child_id = form.cleaned_data["number"]
        try:
            news_list_add(
                actor=actor, child_id=child_id, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            service_errors_apply(form, _child_id_as_number(error))
        else:
            messages.success(
                request,
                f"The child with directory number {format_directory_number(number)} "
                "is on the "
                "news list. Every opening of their record will now be a finding.",
            )
            return redirect("audit:news-list")
    return render(
        request,
        "audit/news_list.html",
        {"form": form, "rows": news_list(actor=actor), "current": "news"},
    )


@require_POST
@auditor_view
def news_list_remove_view(
    request: AuthenticatedRequest, actor: Actor, entry_id: UUID
) -> HttpResponse:
    try:
        news_list_remove(actor=actor, entry_id=entry_id)
    except NewsListEntry.DoesNotExist as missing:
        raise Http404("No such entry.") from missing
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The child has been taken off the news list.")
    return redirect("audit:news-list")


def _child_id_as_number(error: ValidationError) -> ValidationError:
    """The service names the child by id; the form asks for their number."""
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError(
        {
            "number" if key == "child_id" else key: errors
            for key, errors in error.error_dict.items()
        }
    )
