"""Recording and withdrawing consent to share a sensitive involvement.

Only the providing organisation's practitioners see these pages. Like the
involvement pages, they show the child's name (read through the gate, with
the purpose stated in this session or a legitimate relationship; otherwise
the record page asks for a purpose first) and the involvement, and they give
the same "Page not found" for an involvement or consent that does not exist
and one the reader may not change. The writes are
directory/services/consents.py.
"""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.actors import Actor
from accounts.admin_forms import posted, service_errors_apply
from directory.forms import ConsentForm
from directory.services.consents import ConsentRefused, consent_record, consent_withdraw
from directory.views.common import AuthenticatedRequest, directory_view
from directory.views.display import InvolvementRow, RecordPage, record_page
from directory.views.records import record_for_session


def _refused(refusal: ConsentRefused) -> Exception:
    if refusal.unavailable:
        return Http404()
    return PermissionDenied(refusal.message)


def _page_and_row(
    request: AuthenticatedRequest,
    actor: Actor,
    child_id: UUID,
    *,
    involvement_id: UUID | None = None,
    consent_id: UUID | None = None,
) -> tuple[RecordPage, InvolvementRow] | None:
    """The record page and the involvement whose consent the reader may
    change (found by its id or its current consent's); None when the record
    needs a purpose first. Http404 when there is no such involvement."""
    record = record_for_session(request, actor, child_id)
    if record is None:
        return None
    page = record_page(record, actor, timezone.localdate())
    for row in page.involvements:
        consent = row.involvement.consent
        if row.can_change_consent and (
            row.involvement.id == involvement_id
            or (consent is not None and consent.id == consent_id)
        ):
            return page, row
    raise Http404


@require_http_methods(["GET", "HEAD", "POST"])
@directory_view
def consent_new_view(
    request: AuthenticatedRequest, actor: Actor, child_id: UUID, involvement_id: UUID
) -> HttpResponse:
    form = ConsentForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            consent_record(
                actor=actor,
                child_id=child_id,
                involvement_id=involvement_id,
                given_by=form.cleaned_data["given_by"],
            )
        except ValidationError as error:
            service_errors_apply(form, error)
        except ConsentRefused as refusal:
            raise _refused(refusal) from refusal
        else:
            messages.success(
                request,
                "Consent to share has been recorded. Practitioners at other "
                "organisations can now see this involvement.",
            )
            return redirect("directory:record", child_id=child_id)
    found = _page_and_row(request, actor, child_id, involvement_id=involvement_id)
    if found is None:
        return redirect("directory:record", child_id=child_id)
    page, row = found
    if row.involvement.consent is not None and request.method != "POST":
        raise Http404  # already shared: the record page offers withdrawal
    return render(
        request,
        "directory/consent_form.html",
        {"form": form, "page": page, "row": row},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@directory_view
def consent_withdraw_view(
    request: AuthenticatedRequest, actor: Actor, child_id: UUID, consent_id: UUID
) -> HttpResponse:
    if request.method == "POST":
        try:
            consent_withdraw(actor=actor, child_id=child_id, consent_id=consent_id)
        except ConsentRefused as refusal:
            raise _refused(refusal) from refusal
        except ValidationError:
            raise Http404 from None  # withdrawn a moment ago by a colleague
        messages.success(
            request,
            "Consent to share has been withdrawn. Practitioners at other "
            "organisations can no longer see this involvement.",
        )
        return redirect("directory:record", child_id=child_id)
    found = _page_and_row(request, actor, child_id, consent_id=consent_id)
    if found is None:
        return redirect("directory:record", child_id=child_id)
    page, row = found
    return render(
        request, "directory/consent_withdraw.html", {"page": page, "row": row}
    )
