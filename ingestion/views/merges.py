"""Merging two records of the same child, and undoing a merge.

The data manager names both records by directory number; numbers travel in
POST bodies (hidden fields on the confirm page), never ids or child data in
URLs. The confirm page opens both records through the directory's gate
(``child_record_get`` for data management), so each showing is audited; a
number that names no record and one the data manager may not see get the
same error. ``children_merge`` and ``merge_undo`` decide, audit and refuse;
a refusal is shown in the error summary.
"""

from dataclasses import dataclass
from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import dateformat
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from accounts.actors import Actor
from directory.forms import GENDER_LABELS, NAME_KIND_LABELS
from directory.identifiers import format_directory_number
from directory.policies import Purpose
from directory.records import ChildRecord
from directory.selectors import (
    ChildRecordUnavailable,
    child_id_for_directory_number,
    child_record_get,
)
from directory.selectors.merges import merge_list
from directory.services.merges import MergeRefused, children_merge, merge_undo
from directory.views.common import request_id_of
from directory.views.display import full_name, nhs_number_display
from ingestion.forms_merges import MergeConfirmForm, MergeNumbersForm
from ingestion.views.common import AuthenticatedRequest, feeds_view

#: Why the records are opened, on each access event.
PURPOSE_DETAIL = "Checking two records are the same child before merging them"
#: For a number that names no record and for one the data manager may not
#: see, alike, so the form cannot be used to probe which children exist.
NOT_FOUND = (
    "No record you can merge has this directory number. "
    "Check it has been copied correctly."
)
NOT_KNOWN = "Not known"


@dataclass(frozen=True, slots=True)
class ComparedLine:
    """One row of the side-by-side table: each value as lines of text."""

    label: str
    kept: tuple[str, ...]
    merged: tuple[str, ...]
    #: Both records hold a value and they differ, where a merge needs them
    #: equal (the service refuses).
    conflict: bool = False


@dataclass(frozen=True, slots=True)
class MergePair:
    survivor: ChildRecord
    merged: ChildRecord


def _names(record: ChildRecord) -> tuple[str, ...]:
    names = tuple(
        f"{full_name(n)} ({NAME_KIND_LABELS.get(n.kind, n.kind).lower()})"
        for n in record.names
    )
    return names or (NOT_KNOWN,)


def _involvements(record: ChildRecord) -> str:
    shown, hidden = len(record.involvements), record.hidden_involvements
    if not hidden:
        return str(shown)
    return (
        f"{shown + hidden}, including {hidden} not shown because "
        f"{'it is' if hidden == 1 else 'they are'} sensitive"
    )


def _conflict(kept: str | None, merged: str | None) -> bool:
    return bool(kept and merged and kept != merged)


def compared_lines(pair: MergePair) -> list[ComparedLine]:
    """Both records field by field, in the order a person compares them."""
    a, b = pair.survivor, pair.merged

    def dob(record: ChildRecord) -> str:
        return dateformat.format(record.date_of_birth, "j F Y")

    def gender(record: ChildRecord) -> str:
        return GENDER_LABELS.get(record.gender, NOT_KNOWN)

    return [
        ComparedLine("Names", _names(a), _names(b)),
        ComparedLine(
            "Date of birth",
            (dob(a),),
            (dob(b),),
            conflict=a.date_of_birth != b.date_of_birth,
        ),
        ComparedLine("Gender", (gender(a),), (gender(b),)),
        ComparedLine(
            "Current postcode",
            (a.current_postcode or NOT_KNOWN,),
            (b.current_postcode or NOT_KNOWN,),
        ),
        ComparedLine(
            "NHS number",
            (nhs_number_display(a.nhs_number) or NOT_KNOWN,),
            (nhs_number_display(b.nhs_number) or NOT_KNOWN,),
            conflict=_conflict(a.nhs_number, b.nhs_number),
        ),
        ComparedLine(
            "Unique pupil number (UPN)",
            (a.upn or NOT_KNOWN,),
            (b.upn or NOT_KNOWN,),
            conflict=_conflict(a.upn, b.upn),
        ),
        ComparedLine("Involvements now", (_involvements(a),), (_involvements(b),)),
    ]


def _pair_open(
    actor: Actor, form: MergeNumbersForm, request_id: str
) -> MergePair | None:
    """Open both records of a valid ``form`` through the gate (each attempt
    audited), or add NOT_FOUND to each number that opens none and return None.
    """
    records: dict[str, ChildRecord] = {}
    for field, number in zip(("survivor", "merged"), form.numbers(), strict=True):
        child_id = child_id_for_directory_number(number)
        try:
            if child_id is None:
                raise ChildRecordUnavailable
            records[field] = child_record_get(
                actor=actor,
                child_id=child_id,
                purpose=Purpose.DATA_MANAGEMENT,
                purpose_detail=PURPOSE_DETAIL,
                request_id=request_id,
            )
        except ChildRecordUnavailable:
            form.add_error(field, NOT_FOUND)
    if len(records) < 2:
        return None
    return MergePair(survivor=records["survivor"], merged=records["merged"])


def _new_page(request: AuthenticatedRequest, form: MergeNumbersForm) -> HttpResponse:
    return render(request, "ingestion/merge_new.html", {"form": form})


def _confirm_page(
    request: AuthenticatedRequest, form: MergeConfirmForm, pair: MergePair
) -> HttpResponse:
    return render(
        request,
        "ingestion/merge_confirm.html",
        {
            "form": form,
            "survivor_number": format_directory_number(pair.survivor.directory_number),
            "merged_number": format_directory_number(pair.merged.directory_number),
            "lines": compared_lines(pair),
        },
    )


def _list_page(
    request: AuthenticatedRequest,
    actor: Actor,
    refusal: str = "",
    refused_id: UUID | None = None,
) -> HttpResponse:
    views = merge_list(actor)
    listed = any(v.id == refused_id and v.undone_at is None for v in views)
    return render(
        request,
        "ingestion/merge_list.html",
        {
            "merges": [
                (
                    view,
                    format_directory_number(view.survivor_number),
                    format_directory_number(view.merged_number),
                )
                for view in views
            ],
            "refusal": refusal,
            "refusal_anchor": f"undo-{refused_id}" if listed else "",
        },
    )


@require_safe
@feeds_view
def merge_list_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    """The latest merges the data manager may undo, newest first."""
    return _list_page(request, actor)


@require_http_methods(["GET", "HEAD", "POST"])
@feeds_view
def merge_new_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    """GET: the two directory numbers. POST: check them and open both
    records; then the confirm page, which posts to merge-confirm."""
    if request.method != "POST":
        return _new_page(request, MergeNumbersForm())
    form = MergeNumbersForm(request.POST)
    if not form.is_valid():
        return _new_page(request, form)
    pair = _pair_open(actor, form, request_id_of(request))
    if pair is None:
        return _new_page(request, form)
    survivor, merged = form.numbers()
    confirm = MergeConfirmForm(initial={"survivor": survivor, "merged": merged})
    return _confirm_page(request, confirm, pair)


@require_POST
@feeds_view
def merge_confirm_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    """Merge, with the reason, then back to the list. Otherwise the confirm
    page again (both records reopened) with the problem, or the numbers page
    when a record can no longer be opened."""
    numbers = MergeNumbersForm(request.POST)
    if not numbers.is_valid():
        return _new_page(request, numbers)
    form = MergeConfirmForm(request.POST)
    if form.is_valid():
        survivor_number, merged_number = form.numbers()
        survivor_id = child_id_for_directory_number(survivor_number)
        merged_id = child_id_for_directory_number(merged_number)
        if survivor_id is not None and merged_id is not None:
            try:
                children_merge(
                    actor=actor,
                    survivor_id=survivor_id,
                    merged_id=merged_id,
                    reason=form.reason_text(),
                )
            except MergeRefused as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(
                    request,
                    f"Records merged. {format_directory_number(merged_number)} "
                    f"is now part of {format_directory_number(survivor_number)}.",
                )
                return redirect("feeds:merge-list")
    pair = _pair_open(actor, numbers, request_id_of(request))
    if pair is None:
        return _new_page(request, numbers)
    return _confirm_page(request, form, pair)


@require_POST
@feeds_view
def merge_undo_view(
    request: AuthenticatedRequest, actor: Actor, merge_id: UUID
) -> HttpResponse:
    """Undo a merge, then back to the list; a refusal is shown on the list."""
    try:
        record = merge_undo(actor=actor, merge_id=merge_id)
    except MergeRefused as refused:
        return _list_page(request, actor, refused.message, merge_id)
    messages.success(
        request,
        "Merge undone. "
        f"{format_directory_number(record.merged.directory_number)} and "
        f"{format_directory_number(record.survivor.directory_number)} "
        "are separate records again.",
    )
    return redirect("feeds:merge-list")
