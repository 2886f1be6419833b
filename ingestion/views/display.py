"""Turn runs, rows and review candidates into what the feeds templates show.

Plain functions over values the selectors and ``ingestion.reviews`` return:
codes become words, a row's fields are laid out beside their problems, and
an incoming row is set against each candidate child field by field with the
match's agreement. No reads, and no rules about who may see what.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.utils import dateformat

from directory.forms import GENDER_LABELS
from directory.identifiers import format_directory_number
from directory.records import ChildRecord
from ingestion.readers.base import RawRow
from ingestion.reviews import CandidateView

#: The child's own fields of a row, in the order a person reads them.
FIELD_LABELS = {
    "source_key": "Your reference for the child",
    "nhs_number": "NHS number",
    "upn": "Unique pupil number (UPN)",
    "given_names": "Given names",
    "family_name": "Family name",
    "former_family_name": "Former family name",
    "preferred_given_name": "Preferred given name",
    "date_of_birth": "Date of birth",
    "gender": "Gender",
    "address_lines": "Address",
    "postcode": "Postcode",
}
#: Problems about no one field.
WHOLE_ROW_LABELS = {"row": "The whole row", "record": "The whole record"}
#: "carers[1].phone" -> "Carer 1: phone"
GROUP_LABELS = {"carers": "Carer", "services": "Service", "flags": "Warning flag"}
PART_LABELS = {
    "name": "name",
    "relationship": "relationship",
    "parental_responsibility": "parental responsibility",
    "phone": "phone",
    "email": "email",
    "address": "address",
    "service_type": "service",
    "organisation_code": "organisation code",
    "started_on": "start date",
    "ended_on": "end date",
    "practitioner_name": "practitioner's name",
    "practitioner_role": "practitioner's role",
    "lead_professional": "lead professional",
    "kind": "kind",
    "starts_on": "start date",
    "ends_on": "end date",
    "contact_name": "contact's name",
    "contact_phone": "contact's phone",
    "contact_email": "contact's email",
}
_GROUPED = re.compile(r"^(?P<group>[a-z_]+)\[(?P<index>[0-9]+)\]\.(?P<part>[a-z_]+)$")

#: Why a row waits for a person, in words (``FeedRow.match["reason"]``).
MATCH_REASONS = {
    "between_thresholds": (
        "Some details match a child already in the directory, but not enough "
        "to be sure it is the same child."
    ),
    "close_runner_up": (
        "More than one child in the directory matches closely (twins, perhaps)."
    ),
    "nhs_number_conflict": (
        "The NHS number does not fit with the other details of the children it matches."
    ),
    "upn_conflict": (
        "The unique pupil number does not fit with the other details of the "
        "children it matches."
    ),
    "shielded_candidate": "A restricted record may be the same child.",
    "linked_twice_in_file": ("Another row of the same file matched the same child."),
    "made_while_importing": (
        "A record that matches was made by another import while this file was "
        "being imported."
    ),
}
UNKNOWN_MATCH_REASON = "The match needs a person to decide."

#: Agreement (``ingestion.pipeline.match.agreement``): words and tag colour.
AGREEMENT_TAGS = {
    "agree": ("Same", "govuk-tag--green"),
    "partial": ("Similar", "govuk-tag--yellow"),
    "disagree": ("Different", "govuk-tag--red"),
    "missing": ("Not compared", "govuk-tag--grey"),
}


def field_label(field: str) -> str:
    """A problem's or value's field name in words."""
    if field in FIELD_LABELS:
        return FIELD_LABELS[field]
    if field in WHOLE_ROW_LABELS:
        return WHOLE_ROW_LABELS[field]
    grouped = _GROUPED.match(field)
    if grouped and grouped["group"] in GROUP_LABELS:
        part = PART_LABELS.get(grouped["part"], grouped["part"].replace("_", " "))
        return f"{GROUP_LABELS[grouped['group']]} {grouped['index']}: {part}"
    return field.replace("_", " ").capitalize()


def match_reason(match: Mapping[str, Any]) -> str:
    return MATCH_REASONS.get(str(match.get("reason", "")), UNKNOWN_MATCH_REASON)


# A quarantined row's report line and page -------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    label: str
    message: str


def problems_of(problems: Iterable[Mapping[str, Any]]) -> list[Problem]:
    return [
        Problem(
            field=str(p.get("field", "")),
            label=field_label(str(p.get("field", ""))),
            message=str(p.get("message", "")),
        )
        for p in problems
    ]


@dataclass(frozen=True, slots=True)
class FieldLine:
    """One field of a row as sent, with the problems found in it."""

    label: str
    value: str
    problems: tuple[str, ...] = ()


def _raw_values(raw: RawRow) -> dict[str, str]:
    """Every value of ``raw`` under its canonical name ("carers[1].phone")."""
    values = {
        name: raw.fields[name] for name in FIELD_LABELS if raw.fields.get(name, "")
    }
    groups = (("carers", raw.carers), ("services", raw.services), ("flags", raw.flags))
    for group, items in groups:
        for index, item in enumerate(items, start=1):
            for part, value in item.items():
                if value:
                    values[f"{group}[{index}].{part}"] = value
    return values


def row_fields(
    raw: RawRow | None, problems: Sequence[Problem]
) -> tuple[list[FieldLine], list[Problem]]:
    """(each field as sent with its problems, the problems of no one field).

    Fields with a problem but no value ("Enter the child's family name") are
    shown too, as "Not given".
    """
    values = _raw_values(raw) if raw is not None else {}
    by_field: dict[str, list[str]] = {}
    for problem in problems:
        by_field.setdefault(problem.field, []).append(problem.message)
    names = list(values)
    for name in by_field:
        if name not in values and name not in WHOLE_ROW_LABELS:
            names.append(name)
    lines = [
        FieldLine(
            label=field_label(name),
            value=values.get(name, ""),
            problems=tuple(by_field.get(name, ())),
        )
        for name in names
    ]
    whole = [p for p in problems if p.field in WHOLE_ROW_LABELS]
    return lines, whole


# The review page --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """One field, incoming beside the candidate's, with the match's agreement."""

    label: str
    incoming: str
    candidate: str
    agreement: str
    agreement_class: str


@dataclass(frozen=True, slots=True)
class CandidateCard:
    number: int
    child_id: UUID
    #: False for a record the data manager may not see (restricted).
    visible: bool
    name: str = ""
    date_of_birth: str = ""
    directory_number: str = ""
    comparisons: tuple[Comparison, ...] = ()

    @property
    def link_label(self) -> str:
        return (
            f"Link to this child: candidate {self.number}, {self.name}, "
            f"born {self.date_of_birth}"
        )


def _joined(values: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(v for v in values if v))


def _incoming(raw: RawRow | None) -> dict[str, str]:
    fields = raw.fields if raw is not None else {}

    def get(name: str) -> str:
        return str(fields.get(name, "")).strip()

    return {
        "family_name": _joined((get("family_name"), get("former_family_name"))),
        "given_name": _joined((get("given_names"), get("preferred_given_name"))),
        "date_of_birth": get("date_of_birth"),
        "gender": get("gender"),
        "postcode": get("postcode"),
        "address": ", ".join(get("address_lines").splitlines()),
        "nhs_number": get("nhs_number"),
        "upn": get("upn"),
    }


def _held(record: ChildRecord) -> dict[str, str]:
    return {
        "family_name": _joined(n.family_name for n in record.names),
        "given_name": _joined(n.given_names for n in record.names),
        "date_of_birth": dateformat.format(record.date_of_birth, "j F Y"),
        "gender": GENDER_LABELS.get(record.gender, "Not known"),
        "postcode": record.current_postcode or "",
        "address": ", ".join(record.current_address),
        "nhs_number": _nhs_number(record.nhs_number),
        "upn": record.upn or "",
    }


def _nhs_number(number: str | None) -> str:
    if not number or len(number) != 10:
        return number or ""
    return f"{number[:3]} {number[3:6]} {number[6:]}"


#: The compared fields (``ingestion.pipeline.match.compare``), in reading order.
COMPARED = (
    ("given_name", "Given names"),
    ("family_name", "Family name"),
    ("date_of_birth", "Date of birth"),
    ("gender", "Gender"),
    ("nhs_number", "NHS number"),
    ("upn", "Unique pupil number (UPN)"),
    ("postcode", "Postcode"),
    ("address", "Address"),
)


def _legal_name(record: ChildRecord) -> str:
    for kind in ("legal", "preferred"):
        for name in record.names:
            if name.kind == kind:
                return f"{name.given_names} {name.family_name}".strip()
    first = record.names[0] if record.names else None
    return f"{first.given_names} {first.family_name}".strip() if first else ""


def candidate_cards(
    raw: RawRow | None, candidates: Sequence[CandidateView]
) -> list[CandidateCard]:
    """Each candidate, compared with the incoming row field by field; a
    record the reader may not see is only counted as restricted."""
    incoming = _incoming(raw)
    cards = []
    for number, candidate in enumerate(candidates, start=1):
        record = candidate.record
        if record is None:
            cards.append(
                CandidateCard(number=number, child_id=candidate.child_id, visible=False)
            )
            continue
        held = _held(record)
        comparisons = []
        for key, label in COMPARED:
            level = candidate.agreement.get(key, "missing")
            words, tag = AGREEMENT_TAGS.get(level, AGREEMENT_TAGS["missing"])
            if not incoming[key] and not held[key]:
                continue
            comparisons.append(
                Comparison(
                    label=label,
                    incoming=incoming[key] or "Not given",
                    candidate=held[key] or "Not known",
                    agreement=words,
                    agreement_class=tag,
                )
            )
        cards.append(
            CandidateCard(
                number=number,
                child_id=candidate.child_id,
                visible=True,
                name=_legal_name(record),
                date_of_birth=held["date_of_birth"],
                directory_number=format_directory_number(record.directory_number),
                comparisons=tuple(comparisons),
            )
        )
    return cards
