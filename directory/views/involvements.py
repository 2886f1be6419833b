"""Recording and ending one's own involvement with a child.

The pages show the child's name so nobody records against the wrong child;
that read goes through the gate like any other (with the purpose stated in
this session, or a legitimate relationship; otherwise the record page asks
for a purpose first). The writes are directory/services/involvements.py.
"""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.actors import Actor
from accounts.admin_forms import posted
from directory.forms import InvolvementEndForm, InvolvementForm
from directory.services.involvements import (
    InvolvementRefused,
    involvement_end,
    involvement_organisations,
    involvement_record,
)
from directory.views.common import AuthenticatedRequest, directory_view
from directory.views.display import record_page
from directory.views.records import record_for_session


def _refused(refusal: InvolvementRefused) -> Exception:
    if refusal.unavailable:
        return Http404()
    return PermissionDenied(refusal.message)


@require_http_methods(["GET", "HEAD", "POST"])
@directory_view
def involvement_new_view(
    request: AuthenticatedRequest, actor: Actor, child_id: UUID
) -> HttpResponse:
    organisations = involvement_organisations(actor=actor)
    if not organisations:
        raise PermissionDenied("Only practitioners can record an involvement.")
    user = request.user
    form = InvolvementForm(
        posted(request),
        organisations=[(o.id, o.name) for o in organisations],
        initial={
            "practitioner_role": user.job_title,
            "phone": user.phone,
            "email": user.email,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            involvement_record(
                actor=actor,
                child_id=child_id,
                organisation_id=data.get("organisation_id"),
                service_type=data["service_type"],
                practitioner_role=data["practitioner_role"],
                started_on=data["started_on"],
                phone=data["phone"],
                email=data["email"],
                lead_professional=data["lead_professional"],
            )
        except ValidationError as error:
            form.errors_apply(error)
        except InvolvementRefused as refusal:
            raise _refused(refusal) from refusal
        else:
            messages.success(
                request,
                "Your involvement has been recorded. Other practitioners can now "
                "see how to reach you.",
            )
            return redirect("directory:record", child_id=child_id)
    record = record_for_session(request, actor, child_id)
    if record is None:
        return redirect("directory:record", child_id=child_id)
    return render(
        request,
        "directory/involvement_form.html",
        {
            "form": form,
            "page": record_page(record, actor, timezone.localdate()),
            "organisation_name": organisations[0].name,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@directory_view
def involvement_end_view(
    request: AuthenticatedRequest, actor: Actor, child_id: UUID, involvement_id: UUID
) -> HttpResponse:
    today = timezone.localdate()
    form = InvolvementEndForm(
        posted(request),
        initial={
            "ended_on_day": today.day,
            "ended_on_month": today.month,
            "ended_on_year": today.year,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            involvement_end(
                actor=actor,
                child_id=child_id,
                involvement_id=involvement_id,
                ended_on=form.cleaned_data["ended_on"],
            )
        except ValidationError as error:
            form.errors_apply(error)
        except InvolvementRefused as refusal:
            raise _refused(refusal) from refusal
        else:
            messages.success(request, "Your involvement has been ended.")
            return redirect("directory:record", child_id=child_id)
    record = record_for_session(request, actor, child_id)
    if record is None:
        return redirect("directory:record", child_id=child_id)
    page = record_page(record, actor, today)
    row = next(
        (
            row
            for row in page.involvements
            if row.involvement.id == involvement_id and row.can_end
        ),
        None,
    )
    if row is None:
        raise Http404
    return render(
        request,
        "directory/involvement_end.html",
        {"form": form, "page": page, "row": row},
    )
