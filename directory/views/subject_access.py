"""A child's subject access report, as a printable page and as a PDF.

Both need a second factor given in the last five minutes (a session left
open is not enough to take away everything held about a child), and each
production is one audited read (``subject_access_report``, with its
format). A record the reader may not report on looks missing. The page
prints without the service's header, navigation and buttons
(css/subject_access_print.css).
"""

from uuid import UUID

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.actors import Actor
from accounts.decorators import fresh_second_factor_required
from directory.selectors import ChildRecordUnavailable
from directory.selectors.subject_access import (
    ReportFormat,
    SubjectAccessReport,
    subject_access_report,
)
from directory.subject_access_pdf import subject_access_pdf
from directory.views.common import AuthenticatedRequest, directory_view, request_id_of


def _report(
    request: AuthenticatedRequest,
    actor: Actor,
    child_id: UUID,
    report_format: ReportFormat,
) -> SubjectAccessReport:
    try:
        return subject_access_report(
            actor=actor,
            child_id=child_id,
            report_format=report_format,
            request_id=request_id_of(request),
        )
    except ChildRecordUnavailable:
        raise Http404 from None


@require_safe
@fresh_second_factor_required()
@directory_view
def subject_access_view(
    request: AuthenticatedRequest, actor: Actor, child_id: UUID
) -> HttpResponse:
    report = _report(request, actor, child_id, ReportFormat.HTML)
    return render(request, "directory/subject_access.html", {"report": report})


@require_safe
@fresh_second_factor_required()
@directory_view
def subject_access_pdf_view(
    request: AuthenticatedRequest, actor: Actor, child_id: UUID
) -> HttpResponse:
    report = _report(request, actor, child_id, ReportFormat.PDF)
    response = HttpResponse(
        subject_access_pdf(report, service_name=settings.SERVICE_NAME),
        content_type="application/pdf",
    )
    number = report.directory_number.replace(" ", "")
    response["Content-Disposition"] = (
        f'attachment; filename="subject-access-report-{number}.pdf"'
    )
    return response
