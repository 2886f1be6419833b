"""Opening a child's record: the purpose page, the record, break glass.

Every read goes through ``directory.selectors.child_record_get``, which
audits it. A record the reader may not see and one that does not exist give
the same "Page not found" page.

Without a purpose stated in this session, the page first asks the gate for
the record without one: a practitioner named on one of the child's current
involvements (a legitimate relationship) sees it at once; anyone else (and
any id that is not a child) gets the purpose page, and that attempt is in
the access log as ``purpose_missing``. The purpose page is the same for
every id, so it reveals nothing either.
"""

from uuid import UUID

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.actors import Actor
from accounts.admin_forms import posted
from accounts.decorators import fresh_second_factor_required
from directory.forms import BreakGlassForm, PurposeForm
from directory.policies import BROKE_GLASS, Purpose
from directory.records import ChildRecord
from directory.selectors import ChildRecordUnavailable, child_record_get
from directory.tasks import break_glass_notify_on_commit
from directory.views.common import (
    AuthenticatedRequest,
    Grant,
    directory_view,
    grant_forget,
    grant_get,
    grant_store,
    request_id_of,
)
from directory.views.display import record_page

#: The gate's reason when a restricted record was opened by breaking glass.


def record_for_session(
    request: AuthenticatedRequest, actor: Actor, child_id: UUID
) -> ChildRecord | None:
    """The record, read with the purpose stated in this session, or as
    someone with a legitimate relationship; None when a purpose is needed.

    A stated purpose that no longer opens the record (a role was removed)
    is forgotten and gives the "not found" page.
    """
    grant = grant_get(request, child_id)
    try:
        return child_record_get(
            actor=actor,
            child_id=child_id,
            purpose=grant.purpose if grant else None,
            break_glass=grant.break_glass if grant else False,
            request_id=request_id_of(request),
        )
    except ChildRecordUnavailable:
        if grant is None:
            return None
        grant_forget(request, child_id)
        raise Http404 from None


def render_record(
    request: AuthenticatedRequest,
    actor: Actor,
    record: ChildRecord,
) -> HttpResponse:
    return render(
        request,
        "directory/record.html",
        {
            "page": record_page(record, actor, timezone.localdate()),
            "broke_glass": record.access_reason == BROKE_GLASS,
        },
    )


def _purpose_page(
    request: AuthenticatedRequest, child_id: UUID, form: PurposeForm
) -> HttpResponse:
    return render(
        request, "directory/purpose.html", {"form": form, "child_id": child_id}
    )


@require_http_methods(["GET", "HEAD", "POST"])
@directory_view
def record_view(
    request: AuthenticatedRequest, actor: Actor, child_id: UUID
) -> HttpResponse:
    """GET: the record, or the purpose page. POST: the purpose, then the record."""
    if request.method != "POST":
        record = record_for_session(request, actor, child_id)
        if record is None:
            return _purpose_page(request, child_id, PurposeForm())
        return render_record(request, actor, record)
    form = PurposeForm(request.POST)
    if not form.is_valid():
        return _purpose_page(request, child_id, form)
    try:
        record = child_record_get(
            actor=actor,
            child_id=child_id,
            purpose=form.chosen_purpose,
            purpose_detail=form.cleaned_data["detail"].strip(),
            request_id=request_id_of(request),
        )
    except ChildRecordUnavailable:
        raise Http404 from None
    grant_store(
        request, child_id, Grant(purpose=form.chosen_purpose, break_glass=False)
    )
    return render_record(request, actor, record)


@require_http_methods(["GET", "HEAD", "POST"])
@fresh_second_factor_required()
@directory_view
def break_glass_view(
    request: AuthenticatedRequest, actor: Actor, child_id: UUID
) -> HttpResponse:
    """Open a restricted record in a child-protection emergency.

    Needs a second factor given in the last five minutes. When the record
    was restricted, its responsible authority's shielding officers and
    auditors are e-mailed at once (after this request's writes commit).
    """
    form = BreakGlassForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            record = child_record_get(
                actor=actor,
                child_id=child_id,
                purpose=Purpose.CHILD_PROTECTION,
                purpose_detail=form.cleaned_data["reason"].strip(),
                break_glass=True,
                request_id=request_id_of(request),
            )
        except ChildRecordUnavailable:
            raise Http404 from None
        broke_glass = record.access_reason == BROKE_GLASS
        grant_store(
            request,
            child_id,
            Grant(purpose=Purpose.CHILD_PROTECTION, break_glass=broke_glass),
        )
        if broke_glass:
            break_glass_notify_on_commit(child_id, actor.user_id)
        return render_record(request, actor, record)
    return render(
        request, "directory/break_glass.html", {"form": form, "child_id": child_id}
    )
