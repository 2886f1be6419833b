"""Turn decrypted records and search results into what the templates show.

Plain functions over the selector's values: codes become words, names are
put in the order a person reads them, and each involvement says whether the
reader may end it, and whether they may record or withdraw consent to share
it (``directory.policies.decide_consent_change``, the rule the service
applies). No reads, and no rules of its own about who may see what.
"""

from dataclasses import dataclass
from datetime import date

from accounts.actors import Actor
from accounts.roles import Role
from directory.forms import (
    CONSENT_GIVEN_BY_LABELS,
    FLAG_LABELS,
    GENDER_LABELS,
    NAME_KIND_LABELS,
    RELATIONSHIP_LABELS,
    SERVICE_LABELS,
)
from directory.identifiers import format_directory_number
from directory.policies import InvolvementFacts, decide_consent_change
from directory.records import (
    CarerView,
    ChildRecord,
    InvolvementView,
    NameView,
    SearchResult,
    WarningFlagView,
)

#: Names shown as the child's current names, in this order; the rest are
#: former names and aliases.
CURRENT_NAME_KINDS = ("preferred", "legal")


def age_on(born: date, today: date) -> int:
    """Age in whole years (a 29 February birthday counts on 1 March)."""
    before_birthday = (today.month, today.day) < (born.month, born.day)
    return today.year - born.year - before_birthday


def full_name(name: NameView) -> str:
    return f"{name.given_names} {name.family_name}".strip()


@dataclass(frozen=True, slots=True)
class NameRow:
    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class InvolvementRow:
    involvement: InvolvementView
    service: str
    can_end: bool
    #: The reader may record or withdraw consent to share it.
    can_change_consent: bool = False
    #: Who gave the current consent to share it, in words ("" for none).
    consent_given_by: str = ""


@dataclass(frozen=True, slots=True)
class CarerRow:
    carer: CarerView
    relationship: str


@dataclass(frozen=True, slots=True)
class FlagRow:
    flag: WarningFlagView
    kind: str


@dataclass(frozen=True, slots=True)
class RecordPage:
    """Everything the record page shows, in words."""

    record: ChildRecord
    directory_number: str
    nhs_number: str
    name: str
    current_names: tuple[NameRow, ...]
    other_names: tuple[NameRow, ...]
    age: int
    gender: str
    carers: tuple[CarerRow, ...]
    involvements: tuple[InvolvementRow, ...]
    flags: tuple[FlagRow, ...]
    can_record_involvement: bool


def _name_rows(names: tuple[NameView, ...], kinds: tuple[str, ...]) -> list[NameRow]:
    return [
        NameRow(kind=NAME_KIND_LABELS.get(n.kind, n.kind), name=full_name(n))
        for kind in kinds
        for n in names
        if n.kind == kind
    ]


def nhs_number_display(number: str | None) -> str:
    """An NHS number as people write it: 943 476 5919."""
    if not number or len(number) != 10:
        return number or ""
    return f"{number[:3]} {number[3:6]} {number[6:]}"


def record_page(record: ChildRecord, actor: Actor, today: date) -> RecordPage:
    current = _name_rows(record.names, CURRENT_NAME_KINDS)
    other_kinds = tuple(
        dict.fromkeys(n.kind for n in record.names if n.kind not in CURRENT_NAME_KINDS)
    )
    others = _name_rows(record.names, other_kinds)
    practising_at = actor.organisations_with(Role.PRACTITIONER)
    return RecordPage(
        record=record,
        directory_number=format_directory_number(record.directory_number),
        nhs_number=nhs_number_display(record.nhs_number),
        name=(current or others or [NameRow("", "Name not known")])[0].name,
        current_names=tuple(current),
        other_names=tuple(others),
        age=age_on(record.date_of_birth, today),
        gender=GENDER_LABELS.get(record.gender, "Not known"),
        carers=tuple(
            CarerRow(c, RELATIONSHIP_LABELS.get(c.relationship, c.relationship))
            for c in record.carers
        ),
        involvements=tuple(
            _involvement_row(i, actor, practising_at) for i in record.involvements
        ),
        flags=tuple(
            FlagRow(f, FLAG_LABELS.get(f.kind, f.kind)) for f in record.warning_flags
        ),
        can_record_involvement=bool(practising_at),
    )


def _involvement_row(
    involvement: InvolvementView, actor: Actor, practising_at: frozenset[int]
) -> InvolvementRow:
    consent = involvement.consent
    return InvolvementRow(
        involvement=involvement,
        service=SERVICE_LABELS.get(involvement.service_type, involvement.service_type),
        can_end=involvement.organisation_id in practising_at
        and involvement.ended_on is None,
        can_change_consent=decide_consent_change(
            actor,
            InvolvementFacts(
                sensitive=involvement.sensitive,
                organisation_id=involvement.organisation_id,
                has_consent=consent is not None,
            ),
        ).allowed,
        consent_given_by=(
            CONSENT_GIVEN_BY_LABELS.get(consent.given_by, consent.given_by).lower()
            if consent
            else ""
        ),
    )


@dataclass(frozen=True, slots=True)
class ResultRow:
    result: SearchResult
    name: str
    gender: str


def result_rows(results: tuple[SearchResult, ...]) -> list[ResultRow]:
    return [
        ResultRow(
            result=r,
            name=f"{r.given_names} {r.family_name}".strip(),
            gender=GENDER_LABELS.get(r.gender, "Not known"),
        )
        for r in results
    ]
