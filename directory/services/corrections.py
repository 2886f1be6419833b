"""A data manager corrects one detail of a record, with a reason.

What may be corrected is ``directory.corrections.CorrectableDetail``: the
current legal name, date of birth, gender, NHS number, UPN, date of death
and the current address. Who may is ``directory.policies.
decide_record_correction``.

A correction fixes a value that was wrong: it re-seals the value in place,
so a misspelt name does not become a "former name" (the child was never
called that) and a mistyped postcode is not kept as a past address. A real
change of name or a move is a feed's change (``feed_changes``), which keeps
the old value as history. Like a feed's change, a correction updates the
match profile (the corrected value takes the old one's place, so the first
name and postcode stay the ones search results show) and rebuilds the
blind-index entries with ``feed_changes.reindex_from_profile``; it adds one
``Provenance`` row per field (source ``correction``, reference the data
manager's user id, the reason sealed) in the same transaction.

Audit follows the project's order for changes: refusals (missing,
forbidden, invalid) are recorded, then raised; a correction is recorded
(RECORD_CORRECT, the reason encrypted) and then made atomically by
``access_event_change``. The value is checked again under the row lock, so
two data managers correcting the same child at once cannot both pass a
check the other invalidates.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.actors import Actor
from audit.models import AccessAction
from audit.services import access_event_change, access_event_record
from contactpoint.crypto.fields import blind_index, seal, unseal
from directory.corrections import REASON_MAX_LENGTH, CorrectableDetail
from directory.identifiers import (
    IdentifierError,
    normalise_nhs_number,
    normalise_postcode,
    normalise_upn,
    validate_date_of_birth,
)
from directory.models import (
    Address,
    BlindIndexEntry,
    Child,
    ChildName,
    ChildStatus,
    Gender,
    NameKind,
    Provenance,
    SourceKind,
)
from directory.policies import ChildRecordFacts, decide_record_correction
from directory.search_index import IndexInputs, index_terms
from directory.services.feed_changes import reindex_from_profile

#: The longest name part and address line (as the search form allows).
TEXT_MAX_LENGTH = 100
ADDRESS_MAX_LINES = 6


class CorrectionRefused(Exception):
    """The record does not exist, or is not the actor's to correct (alike, so
    callers show the same "not found" page). ``code`` is the audited reason."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


@dataclass(frozen=True, slots=True)
class CorrectedValue:
    """The new value of one detail: only the fields of that detail are read.

    Blank identifiers and date of death remove a value recorded in error.
    """

    given_names: str = ""
    family_name: str = ""
    date_of_birth: date | None = None
    gender: str = ""
    nhs_number: str = ""
    upn: str = ""
    date_of_death: date | None = None
    address_lines: tuple[str, ...] = ()
    postcode: str = ""


def record_correct(
    *,
    actor: Actor,
    child_id: UUID,
    detail: CorrectableDetail,
    value: CorrectedValue,
    reason: str,
    today: date | None = None,
) -> None:
    """Correct ``detail`` of the child's record to ``value``, because ``reason``.

    Raises CorrectionRefused when the record is missing or not the actor's
    to correct, and ValidationError (keyed by the fields of
    ``CorrectedValue`` and ``reason``) when the value or the reason is not
    acceptable: no change, not valid, or an identifier another active child
    already holds. Every refusal is audited before it is raised.
    """
    today = today or timezone.localdate()
    child = Child.unaudited.filter(pk=child_id, status=ChildStatus.ACTIVE).first()
    if child is None:
        _refuse(actor, child_id, "not_found")
        raise CorrectionRefused("not_found")
    decision = decide_record_correction(
        actor,
        ChildRecordFacts(
            shielded=child.shielded,
            responsible_authority_id=child.responsible_authority_id,
        ),
    )
    if not decision.allowed:
        _refuse(actor, child_id, decision.reason, shielded=child.shielded)
        raise CorrectionRefused(decision.reason)
    reason = reason.strip()
    try:
        _check(child, detail, value, reason, today)
    except ValidationError as error:
        _refuse(actor, child_id, _first_code(error), shielded=child.shielded)
        raise
    with access_event_change(
        actor=actor,
        action=AccessAction.RECORD_CORRECT,
        reason="corrected",
        child_id=child_id,
        detail=f"Corrected record {child.directory_number}: {detail.label}.",
        purpose_detail=reason,
    ):
        locked = (
            Child.unaudited.select_for_update()
            .filter(pk=child_id, status=ChildStatus.ACTIVE)
            .first()
        )
        if locked is None:
            raise CorrectionRefused("not_found")
        new = _check(locked, detail, value, reason, today)
        written = _apply(locked, detail, new)
        _provenance(actor, locked.id, written, reason)


def _refuse(
    actor: Actor, child_id: UUID, reason: str, *, shielded: bool = False
) -> None:
    access_event_record(
        actor=actor,
        action=AccessAction.RECORD_CORRECT,
        allowed=False,
        reason=reason,
        child_id=child_id,
        shielded_record=shielded,
    )


def _first_code(error: ValidationError) -> str:
    for problems in error.error_dict.values():
        for problem in problems:
            if problem.code:
                return str(problem.code)
    return "invalid"


def _problem(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


# Checking ---------------------------------------------------------------------


def _check(
    child: Child,
    detail: CorrectableDetail,
    value: CorrectedValue,
    reason: str,
    today: date,
) -> CorrectedValue:
    """The new value normalised, or ValidationError naming every problem."""
    problems: dict[str, list[ValidationError]] = {}
    if not reason:
        problems["reason"] = [
            ValidationError(
                "Enter why you are making this correction", code="reason_missing"
            )
        ]
    elif len(reason) > REASON_MAX_LENGTH:
        problems["reason"] = [
            ValidationError(
                f"The reason must be {REASON_MAX_LENGTH} characters or fewer",
                code="reason_too_long",
            )
        ]
    new = value
    try:
        new = CHECKS[detail](child, value, today)
    except ValidationError as error:
        for field, found in error.error_dict.items():
            problems.setdefault(field, []).extend(found)
    if problems:
        raise ValidationError(problems)
    return new


def _unchanged(field: str, what: str) -> ValidationError:
    return _problem(
        field,
        f"The {what} you entered is the one already recorded. "
        "Enter the correct one, or cancel.",
        "no_change",
    )


def legal_name(child: Child) -> ChildName | None:
    """The child's current legal name row (the latest, should there be two)."""
    return (
        ChildName.unaudited.filter(child=child, kind=NameKind.LEGAL)
        .order_by("-created_at", "-id")
        .first()
    )


def current_address(child: Child) -> Address | None:
    return Address.unaudited.filter(child=child, is_current=True).first()


def _text(field: str, label: str, raw: str) -> str:
    text = " ".join(raw.split())
    if not text:
        raise _problem(field, f"Enter the {label}", f"{field}_missing")
    if len(text) > TEXT_MAX_LENGTH:
        raise _problem(
            field,
            f"The {label} must be {TEXT_MAX_LENGTH} characters or fewer",
            f"{field}_too_long",
        )
    return text


def _check_name(child: Child, value: CorrectedValue, today: date) -> CorrectedValue:
    name = legal_name(child)
    if name is None:
        raise _problem(
            "given_names",
            "This record has no legal name to correct. Ask the organisation "
            "that sent the record to send the child's legal name.",
            "no_legal_name",
        )
    problems: dict[str, list[ValidationError]] = {}
    cleaned: dict[str, str] = {}
    for field, label in (
        ("given_names", "given names"),
        ("family_name", "family name"),
    ):
        try:
            cleaned[field] = _text(field, label, getattr(value, field))
        except ValidationError as error:
            problems.update(error.error_dict)
    if problems:
        raise ValidationError(problems)
    old = (unseal(name, "given_names"), unseal(name, "family_name"))
    if (cleaned["given_names"], cleaned["family_name"]) == old:
        raise _unchanged("given_names", "name")
    return replace(
        value, given_names=cleaned["given_names"], family_name=cleaned["family_name"]
    )


def _check_date_of_birth(
    child: Child, value: CorrectedValue, today: date
) -> CorrectedValue:
    born = value.date_of_birth
    if born is None:
        raise _problem(
            "date_of_birth", "Enter the date of birth", "date_of_birth_missing"
        )
    try:
        validate_date_of_birth(born, today=today)
    except IdentifierError as error:
        raise _problem("date_of_birth", error.message, error.code) from error
    died = unseal(child, "date_of_death")
    if died and born > date.fromisoformat(died):
        raise _problem(
            "date_of_birth",
            "Date of birth must be on or before the recorded date of death",
            "date_of_birth_after_death",
        )
    if born.isoformat() == unseal(child, "date_of_birth"):
        raise _unchanged("date_of_birth", "date of birth")
    return value


def _check_gender(child: Child, value: CorrectedValue, today: date) -> CorrectedValue:
    if value.gender not in Gender.values:
        raise _problem("gender", "Select the child's gender", "gender_missing")
    if value.gender == child.gender:
        raise _unchanged("gender", "gender")
    return value


def _identifier(
    child: Child, value: CorrectedValue, field: str, label: str
) -> CorrectedValue:
    raw = str(getattr(value, field)).strip()
    normalise = normalise_nhs_number if field == "nhs_number" else normalise_upn
    try:
        new = normalise(raw) if raw else ""
    except IdentifierError as error:
        raise _problem(field, error.message, error.code) from error
    if new == (unseal(child, field) or ""):
        if not new:
            raise _problem(
                field, f"Enter the {label}: the record has none to remove", "no_change"
            )
        raise _unchanged(field, label)
    if new and identifier_held_elsewhere(child, field, new):
        raise _problem(
            field,
            f"Another child's record already has this {label}. Check it has "
            "been copied correctly. If both records are the same child, merge "
            "them instead.",
            "identifier_held",
        )
    if field == "nhs_number":
        return replace(value, nhs_number=new)
    return replace(value, upn=new)


def identifier_held_elsewhere(child: Child, field: str, value: str) -> bool:
    """Whether another active child holds ``value`` as its ``field`` (NHS
    number or UPN): the truncated blind index offers a few candidates and
    only their ``field`` is decrypted."""
    inputs = (
        IndexInputs(nhs_number=value)
        if field == "nhs_number"
        else IndexInputs(upn=value)
    )
    ((index, transformed),) = index_terms(inputs)
    candidates = (
        BlindIndexEntry.objects.filter(
            index=index.code, value=blind_index(index, transformed)
        )
        .exclude(child_id=child.id)
        .values("child_id")
    )
    others = Child.unaudited.filter(pk__in=candidates, status=ChildStatus.ACTIVE).only(
        "id", field
    )
    return any(unseal(other, field) == value for other in others)


def _check_nhs_number(
    child: Child, value: CorrectedValue, today: date
) -> CorrectedValue:
    return _identifier(child, value, "nhs_number", "NHS number")


def _check_upn(child: Child, value: CorrectedValue, today: date) -> CorrectedValue:
    return _identifier(child, value, "upn", "unique pupil number")


def _check_date_of_death(
    child: Child, value: CorrectedValue, today: date
) -> CorrectedValue:
    died = value.date_of_death
    recorded = unseal(child, "date_of_death")
    if died is None:
        if recorded is None:
            raise _problem(
                "date_of_death",
                "Enter the date of death: the record has none to remove",
                "no_change",
            )
        return value
    if died > today:
        raise _problem(
            "date_of_death",
            "Date of death must be today or in the past",
            "date_of_death_future",
        )
    born = date.fromisoformat(unseal(child, "date_of_birth") or "")
    if died < born:
        raise _problem(
            "date_of_death",
            "Date of death must be on or after the date of birth",
            "date_of_death_before_birth",
        )
    if died.isoformat() == recorded:
        raise _unchanged("date_of_death", "date of death")
    return value


def _check_address(child: Child, value: CorrectedValue, today: date) -> CorrectedValue:
    address = current_address(child)
    if address is None:
        raise _problem(
            "address_lines",
            "This record has no current address to correct. A new address "
            "comes from the organisations that send records.",
            "no_current_address",
        )
    problems: dict[str, list[ValidationError]] = {}
    lines = tuple(" ".join(line.split()) for line in value.address_lines)
    lines = tuple(line for line in lines if line)
    if not lines:
        problems["address_lines"] = [
            ValidationError("Enter the address", code="address_missing")
        ]
    elif len(lines) > ADDRESS_MAX_LINES or any(
        len(line) > TEXT_MAX_LENGTH for line in lines
    ):
        problems["address_lines"] = [
            ValidationError(
                f"Enter the address in {ADDRESS_MAX_LINES} lines or fewer, each "
                f"{TEXT_MAX_LENGTH} characters or fewer",
                code="address_too_long",
            )
        ]
    postcode = ""
    try:
        postcode = normalise_postcode(value.postcode)
    except IdentifierError as error:
        problems["postcode"] = [ValidationError(error.message, code=error.code)]
    if problems:
        raise ValidationError(problems)
    old = (unseal(address, "lines"), unseal(address, "postcode"))
    if ("\n".join(lines), postcode) == old:
        raise _unchanged("address_lines", "address")
    return replace(value, address_lines=lines, postcode=postcode)


CHECKS = {
    CorrectableDetail.NAME: _check_name,
    CorrectableDetail.DATE_OF_BIRTH: _check_date_of_birth,
    CorrectableDetail.GENDER: _check_gender,
    CorrectableDetail.NHS_NUMBER: _check_nhs_number,
    CorrectableDetail.UPN: _check_upn,
    CorrectableDetail.DATE_OF_DEATH: _check_date_of_death,
    CorrectableDetail.ADDRESS: _check_address,
}


# Applying ---------------------------------------------------------------------

#: (Provenance.record_type, row id, field) of each field written.
Written = list[tuple[str, UUID, str]]


def _swap(values: list[Any], old: Any, new: Any, *, still_held: bool) -> list[Any]:
    """``values`` with ``old`` replaced by ``new`` where it stands (so the
    first entry, the one search results show, stays first). When another row
    still holds ``old``, ``new`` goes in beside it instead."""
    if old in values and not still_held:
        values[values.index(old)] = new
    else:
        values.insert(values.index(old) if old in values else 0, new)
    return values


def _apply(child: Child, detail: CorrectableDetail, new: CorrectedValue) -> Written:
    profile: dict[str, Any] = json.loads(unseal(child, "match_profile") or "{}")
    written: Written = []
    child_fields: list[str] = []
    if detail == CorrectableDetail.NAME:
        written = _apply_name(child, new, profile)
    elif detail == CorrectableDetail.ADDRESS:
        written = _apply_address(child, new, profile)
    elif detail == CorrectableDetail.DATE_OF_BIRTH:
        assert new.date_of_birth is not None  # noqa: S101 - checked above
        seal(child, "date_of_birth", new.date_of_birth.isoformat())
        profile["d"] = new.date_of_birth.isoformat()
        child_fields = ["date_of_birth"]
    elif detail == CorrectableDetail.GENDER:
        child.gender = new.gender
        profile["s"] = new.gender
        child_fields = ["gender"]
    elif detail == CorrectableDetail.DATE_OF_DEATH:
        died = new.date_of_death
        seal(child, "date_of_death", died.isoformat() if died else None)
        child_fields = ["date_of_death"]
    else:
        field = str(detail)
        identifier = getattr(new, field) or None
        seal(child, field, identifier)
        profile["n" if detail == CorrectableDetail.NHS_NUMBER else "u"] = identifier
        child_fields = [field]
    written += [("child", child.id, field) for field in child_fields]
    seal(
        child,
        "match_profile",
        json.dumps(profile, ensure_ascii=False, separators=(",", ":")),
    )
    child.save(update_fields=[*child_fields, "match_profile", "updated_at"])
    reindex_from_profile(child.id, profile)
    return written


def _apply_name(child: Child, new: CorrectedValue, profile: dict[str, Any]) -> Written:
    name = legal_name(child)
    assert name is not None  # noqa: S101 - checked under the same lock
    old = (unseal(name, "given_names"), unseal(name, "family_name"))
    still_held = any(
        (unseal(other, "given_names"), unseal(other, "family_name")) == old
        for other in ChildName.unaudited.filter(child=child).exclude(pk=name.pk)
    )
    pairs = _swap(
        [list(pair) for pair in zip(profile["g"], profile["f"], strict=True)],
        list(old),
        [new.given_names, new.family_name],
        still_held=still_held,
    )
    profile["g"], profile["f"] = [g for g, _ in pairs], [f for _, f in pairs]
    fields = [
        field
        for field, before in zip(("given_names", "family_name"), old, strict=True)
        if getattr(new, field) != before
    ]
    for field in fields:
        seal(name, field, getattr(new, field))
    name.save(update_fields=fields)
    return [("child_name", name.id, field) for field in fields]


def _apply_address(
    child: Child, new: CorrectedValue, profile: dict[str, Any]
) -> Written:
    address = current_address(child)
    assert address is not None  # noqa: S101 - checked under the same lock
    lines = "\n".join(new.address_lines)
    fields = [
        field
        for field, value in (("lines", lines), ("postcode", new.postcode))
        if unseal(address, field) != value
    ]
    if "postcode" in fields:
        old = unseal(address, "postcode")
        still_held = any(
            unseal(other, "postcode") == old
            for other in Address.unaudited.filter(child=child).exclude(pk=address.pk)
        )
        profile["p"] = _swap(profile["p"], old, new.postcode, still_held=still_held)
    for field in fields:
        seal(address, field, lines if field == "lines" else new.postcode)
    address.save(update_fields=fields)
    return [("address", address.id, field) for field in fields]


def _provenance(
    actor: Actor, child_id: UUID, written: Iterable[tuple[str, UUID, str]], reason: str
) -> None:
    """One row per field, its reason sealed (the row's id is needed first)."""
    now = timezone.now()
    for record_type, record_id, field in written:
        row = Provenance(
            child_id=child_id,
            record_type=record_type,
            record_id=record_id,
            field=field,
            source=SourceKind.CORRECTION,
            source_reference=str(actor.user_id),
            set_at=now,
        )
        row.save(force_insert=True)
        seal(row, "reason", reason)
        row.save(update_fields=["reason"])
