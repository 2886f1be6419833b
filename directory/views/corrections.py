"""A data manager corrects a detail of a child's record, with a reason.

``/children/<id>/correct/`` lists the details that can be corrected with
what the record holds now; each links to its own page
(``/children/<id>/correct/<detail>/``) with the value filled in and a
reason to give. The record is read through the gate with the purpose stated
in this session (the record page asks for one first), so every showing is
audited; a record the reader may not correct looks missing, as does one that
does not exist. The write, its checks and its audit are
``directory.services.corrections.record_correct``.
"""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from accounts.actors import Actor
from directory.corrections import CorrectableDetail
from directory.forms import GENDER_LABELS
from directory.forms_corrections import CORRECTION_FORMS, CorrectionForm
from directory.identifiers import long_date
from directory.policies import ChildRecordFacts, decide_record_correction
from directory.records import ChildRecord
from directory.services.corrections import CorrectionRefused, record_correct
from directory.views.common import AuthenticatedRequest, directory_view
from directory.views.display import full_name, nhs_number_display, record_page
from directory.views.records import record_for_session

NOT_RECORDED = "Not recorded"


@dataclass(frozen=True, slots=True)
class DetailRow:
    """One correctable detail and what the record holds now, as lines."""

    detail: CorrectableDetail
    lines: tuple[str, ...]


def _long_date(value: date | None) -> str:
    return long_date(value) if value else NOT_RECORDED


def detail_lines(record: ChildRecord, detail: CorrectableDetail) -> tuple[str, ...]:
    """What the record holds now for ``detail``, in words."""
    if detail == CorrectableDetail.NAME:
        legal = [full_name(n) for n in record.names if n.kind == "legal"]
        return tuple(legal[:1]) or (NOT_RECORDED,)
    if detail == CorrectableDetail.ADDRESS:
        lines = tuple(line for line in record.current_address if line)
        postcode = (record.current_postcode,) if record.current_postcode else ()
        return (lines + postcode) or (NOT_RECORDED,)
    value = {
        CorrectableDetail.DATE_OF_BIRTH: _long_date(record.date_of_birth),
        CorrectableDetail.GENDER: GENDER_LABELS.get(record.gender, "Not known"),
        CorrectableDetail.NHS_NUMBER: nhs_number_display(record.nhs_number),
        CorrectableDetail.UPN: record.upn or "",
        CorrectableDetail.DATE_OF_DEATH: _long_date(record.date_of_death),
    }[detail]
    return (value or NOT_RECORDED,)


def may_correct(actor: Actor, record: ChildRecord) -> bool:
    return decide_record_correction(
        actor,
        ChildRecordFacts(
            shielded=record.shielded,
            responsible_authority_id=record.responsible_authority_id,
        ),
    ).allowed


def _correctable(
    request: AuthenticatedRequest, actor: Actor, child_id: UUID
) -> ChildRecord | None:
    """The record, read with this session's purpose; None when a purpose is
    needed first. Http404 when the reader may not correct it."""
    record = record_for_session(request, actor, child_id)
    if record is not None and not may_correct(actor, record):
        raise Http404
    return record


@require_safe
@directory_view
def correction_start_view(
    request: AuthenticatedRequest, actor: Actor, child_id: UUID
) -> HttpResponse:
    """The details that can be corrected, each with what is recorded now."""
    record = _correctable(request, actor, child_id)
    if record is None:
        return redirect("directory:record", child_id=child_id)
    return render(
        request,
        "directory/correction_start.html",
        {
            "page": record_page(record, actor, timezone.localdate()),
            "rows": [
                DetailRow(detail, detail_lines(record, detail))
                for detail in CorrectableDetail
            ],
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@directory_view
def correction_view(
    request: AuthenticatedRequest, actor: Actor, child_id: UUID, detail: str
) -> HttpResponse:
    """GET: the detail's form, filled in. POST: correct it, or show why not."""
    try:
        chosen = CorrectableDetail(detail)
    except ValueError:
        raise Http404 from None
    form_class = CORRECTION_FORMS[chosen]
    form: CorrectionForm | None = None
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            try:
                record_correct(
                    actor=actor,
                    child_id=child_id,
                    detail=chosen,
                    value=form.to_value(),
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                form.errors_apply(error)
            except CorrectionRefused:
                raise Http404 from None
            else:
                messages.success(request, f"{chosen.label} corrected.")
                return redirect("directory:record", child_id=child_id)
    record = _correctable(request, actor, child_id)
    if record is None:
        return redirect("directory:record", child_id=child_id)
    if form is None:
        form = form_class(initial=form_class.initial_for(record))
    return render(
        request,
        "directory/correction_form.html",
        {
            "form": form,
            "page": record_page(record, actor, timezone.localdate()),
            "detail": chosen,
            "recorded": detail_lines(record, chosen),
        },
    )
