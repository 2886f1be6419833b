"""validate: one ``RawRow`` to a ``ValidRecord`` or a ``Rejection`` (STYLE.md B4).

Every problem in the row is reported, not just the first, so a data manager
fixes a row once. Each is a ``FieldProblem`` naming the canonical field
("carers[1].relationship" for the first carer's), a stable code and a message
that never quotes the refused value. Pure: no Django, no I/O.

Defaults, so that feeds which do not carry a value still load:
- an empty gender is "0" (not known);
- an empty carer relationship is "other"; an empty parental responsibility or
  lead-professional marker is "no";
- a service with no type has ``context.default_service_type``, one with no
  organisation code is the sender's own (``context.source_organisation_id``);
- a service with no start date starts on ``context.today``: registrations
  such as a FHIR Patient's GP carry none, and the directory records from when
  it knew of the involvement (an ended service must say when it started);
- a warning flag with no organisation code is the sender's; its contact name
  and phone are empty when the row has none.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from directory.identifiers import (
    IdentifierError,
    normalise_nhs_number,
    normalise_postcode,
    normalise_upn,
    parse_date_of_birth,
)
from directory.records import (
    NewAddress,
    NewCarer,
    NewChild,
    NewInvolvement,
    NewName,
    NewWarningFlag,
)
from ingestion.pipeline import vocab
from ingestion.pipeline.records import (
    FieldProblem,
    Rejection,
    ValidationContext,
    ValidRecord,
)
from ingestion.readers.base import RawRow

_T = TypeVar("_T")
#: Lengths of the directory's clear columns for practitioners' and flag
#: contacts' details (directory.models.Involvement and WarningFlag).
NAME_LIMIT, ROLE_LIMIT, PHONE_LIMIT, EMAIL_LIMIT = 150, 100, 32, 254
_PROBLEM_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True, slots=True)
class _Fields:
    """One mapping of a row (the child's, or one carer's, ...), read field by
    field; each refusal lands in the row's shared ``problems`` list."""

    values: Mapping[str, str]
    prefix: str  # "" for the child, "carers[1]." for the first carer, ...
    problems: list[FieldProblem]

    def problem(self, key: str, code: str, message: str | None = None) -> None:
        text = message if message is not None else vocab.MESSAGES[code]
        self.problems.append(FieldProblem(self.prefix + key, code, text))

    def text(self, key: str) -> str:
        return (self.values.get(key) or "").strip()

    def name(self, key: str) -> str:
        return " ".join(self.text(key).split())

    def short(self, key: str, limit: int, *, name: bool = False) -> str:
        """The value (a name's spaces tidied), or a problem when it is longer
        than the ``limit`` characters the directory keeps for it."""
        value = self.name(key) if name else self.text(key)
        if len(value) > limit:
            self.problem(
                key,
                "too_long",
                f"This is longer than the {limit} characters the directory keeps "
                "for it: shorten it.",
            )
        return value

    def yes_no(self, key: str) -> bool:
        answer = vocab.yes_no(self.text(key))
        if answer is None:
            self.problem(key, "boolean_invalid")
        return bool(answer)

    def email(self, key: str) -> str:
        raw = self.text(key)
        if raw and not vocab.looks_like_email(raw):
            self.problem(key, "email_invalid")
        return raw

    def date(self, key: str) -> date | None:
        raw = self.text(key)
        if not raw:
            return None
        try:
            return vocab.parse_date(raw)
        except vocab.DateError as exc:
            self.problem(key, exc.code)
            return None

    def identifier(self, key: str, normalise: Callable[[str], str]) -> str | None:
        raw = self.text(key)
        if not raw:
            return None
        try:
            return normalise(raw)
        except IdentifierError as exc:
            self.problem(key, exc.code, _identifier_message(exc))
            return None

    def organisation(self, key: str, context: ValidationContext) -> int | None:
        code = self.text(key)
        if not code:
            return context.source_organisation_id
        found = context.organisations_by_code.get(code)
        if found is None:
            found = context.organisations_by_code.get(code.upper())
        if found is None:
            message = vocab.organisation_unknown_message(code)
            self.problem(key, "organisation_unknown", message)
        return found


def validate(row: RawRow, context: ValidationContext) -> ValidRecord | Rejection:
    """The row in the directory's terms, or every reason it cannot be used."""
    problems: list[FieldProblem] = []
    child = _Fields(row.fields, "", problems)
    _check_row_problem(child)
    names = _names(child)
    dob = _date_of_birth(child, context.today)
    nhs_number = child.identifier("nhs_number", normalise_nhs_number)
    upn = child.identifier("upn", normalise_upn)
    gender = vocab.gender_code(child.text("gender"))
    if gender is None:
        child.problem("gender", "gender_unknown")
    addresses = _addresses(child)

    def each(
        items: tuple[Mapping[str, str], ...],
        kind: str,
        check: Callable[[_Fields, ValidationContext], _T | None],
    ) -> tuple[_T, ...]:
        found = (
            check(_Fields(values, f"{kind}[{index}].", problems), context)
            for index, values in enumerate(items, start=1)
        )
        return tuple(item for item in found if item is not None)

    carers = each(row.carers, "carers", _carer)
    involvements = each(row.services, "services", _service)
    flags = each(row.flags, "flags", _flag)
    if problems or dob is None or gender is None:
        return Rejection(row.position, row.reference, tuple(problems))
    record = NewChild(
        names=names,
        date_of_birth=dob,
        gender=gender,
        nhs_number=nhs_number,
        upn=upn,
        addresses=addresses,
        carers=carers,
        involvements=involvements,
        warning_flags=flags,
        responsible_authority_id=context.responsible_authority_id,
    )
    return ValidRecord(row.position, row.reference, record, child.text("source_key"))


def _identifier_message(exc: IdentifierError) -> str:
    # identifiers.py repeats the value in its check-digit messages (a person
    # typing it needs to see it); a rejection report must not. Only
    # date_of_birth_too_old keeps its own message: it names the cut-off date.
    return vocab.MESSAGES.get(exc.code, exc.message)


def _check_row_problem(child: _Fields) -> None:
    code = child.text("_row_problem")
    if not code:
        return
    detail = child.text("_row_problem_detail")
    found, expected = child.text("_cells_found"), child.text("_cells_expected")
    if code == "cells_count" and found.isdigit() and expected.isdigit():
        message = vocab.cells_count_message(int(found), int(expected))
        child.problem("row", code, message)
    elif code == "fhir_invalid" and detail:
        child.problem("row", code, vocab.fhir_invalid_message(detail))
    elif code in {"cells_count", "fhir_invalid"}:
        child.problem("row", code)
    elif _PROBLEM_CODE.fullmatch(code):
        child.problem("row", code, vocab.MESSAGES["row_unreadable"])
    else:
        child.problem("row", "row_unreadable")


def _names(child: _Fields) -> tuple[NewName, ...]:
    given, family = child.name("given_names"), child.name("family_name")
    for key, value in (("given_names", given), ("family_name", family)):
        if not value:
            child.problem(key, "name_missing", vocab.MESSAGES[f"{key}.name_missing"])
    names = [NewName(given, family)]
    former = child.name("former_family_name")
    if former and former.casefold() != family.casefold():
        names.append(NewName(given, former, kind="former"))
    preferred = child.name("preferred_given_name")
    if preferred and preferred.casefold() != given.casefold():
        names.append(NewName(preferred, family, kind="preferred"))
    return tuple(names)


def _date_of_birth(child: _Fields, today: date) -> date | None:
    raw = child.text("date_of_birth")
    if not raw:
        child.problem("date_of_birth", "date_of_birth_missing")
        return None
    try:
        return parse_date_of_birth(raw, today=today)
    except IdentifierError as exc:
        child.problem("date_of_birth", exc.code, _identifier_message(exc))
        return None


def _addresses(child: _Fields) -> tuple[NewAddress, ...]:
    raw_lines = child.text("address_lines").split("\n")
    lines = tuple(line.strip() for line in raw_lines if line.strip())
    postcode = child.identifier("postcode", normalise_postcode)
    if not lines and not child.text("postcode"):
        return ()
    return (NewAddress(lines=lines, postcode=postcode or ""),)


def _carer(carer: _Fields, context: ValidationContext) -> NewCarer | None:
    if not any(carer.text(key) for key in carer.values):
        return None
    before = len(carer.problems)
    name = carer.name("name")
    if not name:
        carer.problem("name", "carer_name_missing")
    raw = carer.text("relationship")
    relationship = vocab.relationship(raw) if raw else "other"
    if relationship is None:
        carer.problem("relationship", "carer_relationship_unknown")
    responsibility = carer.yes_no("parental_responsibility")
    email = carer.email("email")
    if len(carer.problems) > before or relationship is None:
        return None
    return NewCarer(
        name=name,
        relationship=relationship,
        parental_responsibility=responsibility,
        phone=carer.text("phone") or None,
        email=email or None,
        address=carer.text("address") or None,
    )


def _service(service: _Fields, context: ValidationContext) -> NewInvolvement | None:
    before = len(service.problems)
    raw_type = service.text("service_type")
    service_type = vocab.code_word(raw_type) or context.default_service_type
    if service_type not in context.service_types:
        message = vocab.choice_message("service type", context.service_types)
        service.problem("service_type", "service_type_unknown", message)
    organisation_id = service.organisation("organisation_code", context)
    started_on = service.date("started_on")
    if not service.text("started_on"):
        if service.text("ended_on"):
            service.problem("started_on", "service_start_missing")
        else:
            started_on = context.today
    ended_on = service.date("ended_on")
    if started_on is not None and ended_on is not None and ended_on < started_on:
        service.problem("ended_on", "service_end_before_start")
    lead = service.yes_no("lead_professional")
    email = service.email("email")
    practitioner = service.short("practitioner_name", NAME_LIMIT, name=True)
    role = service.short("practitioner_role", ROLE_LIMIT)
    phone = service.short("phone", PHONE_LIMIT)
    service.short("email", EMAIL_LIMIT)
    if len(service.problems) > before or organisation_id is None or started_on is None:
        return None
    return NewInvolvement(
        organisation_id=organisation_id,
        service_type=service_type,
        started_on=started_on,
        practitioner_name=practitioner,
        practitioner_role=role,
        phone=phone,
        email=email,
        is_lead_professional=lead,
        ended_on=ended_on,
    )


def _flag(flag: _Fields, context: ValidationContext) -> NewWarningFlag | None:
    before = len(flag.problems)
    kind = vocab.code_word(flag.text("kind"))
    if not kind:
        message = vocab.flag_kind_missing_message(context.flag_kinds)
        flag.problem("kind", "flag_kind_missing", message)
    elif kind not in context.flag_kinds:
        message = vocab.choice_message("warning flag kind", context.flag_kinds)
        flag.problem("kind", "flag_kind_unknown", message)
    organisation_id = flag.organisation("organisation_code", context)
    if not flag.text("starts_on"):
        flag.problem("starts_on", "flag_start_missing")
    starts_on = flag.date("starts_on")
    ends_on = flag.date("ends_on")
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        flag.problem("ends_on", "flag_end_before_start")
    email = flag.email("contact_email")
    contact = flag.short("contact_name", NAME_LIMIT, name=True)
    phone = flag.short("contact_phone", PHONE_LIMIT)
    flag.short("contact_email", EMAIL_LIMIT)
    if len(flag.problems) > before or organisation_id is None or starts_on is None:
        return None
    return NewWarningFlag(
        kind=kind,
        owning_organisation_id=organisation_id,
        contact_name=contact,
        contact_phone=phone,
        starts_on=starts_on,
        contact_email=email,
        ends_on=ends_on,
    )
