"""Creating child records: validate, seal, index, and write in one transaction.

``child_records_create`` takes one child or a hundred thousand: it validates
every identifier first (nothing is written when any child is invalid), seals
every identifying value bound to its row, computes the blind-index entries,
and writes all rows with COPY inside one transaction.
"""

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from contactpoint.crypto.fields import binding, blind_index, seal_value
from directory.identifiers import (
    IdentifierError,
    make_directory_number,
    normalise_nhs_number,
    normalise_postcode,
    normalise_upn,
    validate_date_of_birth,
)
from directory.models import (
    SENSITIVE_SERVICES,
    Address,
    BlindIndexEntry,
    Carer,
    Child,
    ChildName,
    ChildStatus,
    Consent,
    Involvement,
    Provenance,
    SourceKind,
    WarningFlag,
)
from directory.records import (
    NewAddress,
    NewChild,
    NewInvolvement,
    NewName,
    NewWarningFlag,
    Source,
)
from directory.search_index import IndexInputs, index_terms
from directory.services.copy_writer import copy_rows

#: Every table a child write fills, in foreign-key order.
WRITTEN_MODELS: tuple[type[Any], ...] = (
    Child,
    ChildName,
    Address,
    Carer,
    Involvement,
    Consent,
    WarningFlag,
    BlindIndexEntry,
    Provenance,
)


class ChildRecordInvalid(ValueError):
    """One or more children failed validation; nothing was written.

    ``problems`` maps each child's position to (code, message) pairs. Messages
    may quote what was entered (child data), so ``str()`` carries only the
    stable codes and is safe to log.
    """

    def __init__(self, problems: dict[int, list[tuple[str, str]]]) -> None:
        self.problems = problems
        lines = [
            f"child {i + 1}: {', '.join(code for code, _ in found)}"
            for i, found in problems.items()
        ]
        super().__init__("Invalid child records: " + "; ".join(lines))

    def messages(self) -> dict[int, list[str]]:
        """The messages a person can act on, by position."""
        return {i: [m for _, m in found] for i, found in self.problems.items()}


@dataclass(frozen=True, slots=True)
class CreatedChild:
    id: uuid.UUID
    directory_number: str


def _clean(child: NewChild, today: date) -> NewChild:
    """Normalise identifiers or raise IdentifierError / ValueError."""
    if not child.names:
        raise IdentifierError("name_missing", "Enter at least one name for the child.")
    for name in child.names:
        if not name.family_name.strip() or not name.given_names.strip():
            raise IdentifierError(
                "name_incomplete", "Every name needs a given name and a family name."
            )
    validate_date_of_birth(child.date_of_birth, today=today)
    return replace(
        child,
        nhs_number=normalise_nhs_number(child.nhs_number) if child.nhs_number else None,
        upn=normalise_upn(child.upn) if child.upn else None,
        addresses=tuple(
            replace(a, postcode=normalise_postcode(a.postcode)) for a in child.addresses
        ),
    )


def _validate_all(children: Sequence[NewChild], today: date) -> list[NewChild]:
    cleaned: list[NewChild] = []
    problems: dict[int, list[tuple[str, str]]] = {}
    for position, child in enumerate(children):
        try:
            cleaned.append(_clean(child, today))
        except IdentifierError as exc:
            problems.setdefault(position, []).append((exc.code, exc.message))
        current = sum(1 for a in child.addresses if a.is_current)
        if current > 1:
            problems.setdefault(position, []).append(
                ("address_current_twice", "A child can have only one current address.")
            )
        leads = sum(
            1 for i in child.involvements if i.is_lead_professional and not i.ended_on
        )
        if leads > 1:
            problems.setdefault(position, []).append(
                (
                    "lead_professional_twice",
                    "A child can have only one current lead professional.",
                )
            )
    if problems:
        raise ChildRecordInvalid(problems)
    return cleaned


def _directory_numbers(count: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval('directory_number_seq') FROM generate_series(1, %s)",
            [count],
        )
        return [make_directory_number(row[0]) for row in cursor.fetchall()]


def _seal(
    model: type[Any],
    field: str,
    row_id: uuid.UUID | str,
    value: str | None,
    *,
    owner: uuid.UUID | str | None = None,
) -> bytes | None:
    if value is None:
        return None
    return seal_value(binding(model, field, pk=row_id, owner=owner), value)


def match_profile_json(child: NewChild) -> str:
    """The plaintext of Child.match_profile (compact JSON, documented keys)."""
    return json.dumps(
        {
            "g": [n.given_names for n in child.names],
            "f": [n.family_name for n in child.names],
            "d": child.date_of_birth.isoformat(),
            "s": child.gender,
            "p": [a.postcode for a in child.addresses],
            "n": child.nhs_number,
            "u": child.upn,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def child_index_inputs(child: NewChild) -> IndexInputs:
    return IndexInputs(
        family_names=tuple(n.family_name for n in child.names),
        given_names=tuple(n.given_names for n in child.names),
        dates_of_birth=(child.date_of_birth,),
        postcodes=tuple(a.postcode for a in child.addresses),
        nhs_number=child.nhs_number,
        upn=child.upn,
    )


def child_records_create(
    *, children: Sequence[NewChild], source: Source, today: date | None = None
) -> list[CreatedChild]:
    """Create ``children`` with their names, addresses, carers, involvements and
    flags, sealed and indexed, in one transaction.

    Raises ChildRecordInvalid (listing every problem) before writing anything
    when any child is invalid. Returns the new ids and directory numbers in
    input order.
    """
    today = today or timezone.localdate()
    cleaned = _validate_all(children, today)
    if not cleaned:
        return []
    now = timezone.now()
    rows: dict[type[Any], list[dict[str, Any]]] = defaultdict(list)
    created: list[CreatedChild] = []
    with transaction.atomic():
        numbers = _directory_numbers(len(cleaned))
        for child, number in zip(cleaned, numbers, strict=True):
            child_id = uuid.uuid4()
            created.append(CreatedChild(id=child_id, directory_number=number))
            _child_rows(rows, child, child_id, number, source, now)
        for model in WRITTEN_MODELS:
            if rows.get(model):
                copy_rows(model, rows[model])
    return created


def _provenance(
    child_id: uuid.UUID,
    record_type: str,
    record_id: uuid.UUID,
    source: Source,
    now: Any,
) -> dict[str, Any]:
    return {
        "child_id": child_id,
        "record_type": record_type,
        "record_id": record_id,
        "field": "*",
        "source": source.kind,
        "source_reference": source.reference,
        "set_at": now,
        "reason": None,
    }


def involvement_row(
    child_id: uuid.UUID,
    involvement: NewInvolvement,
    source: Source,
    now: Any,
    *,
    row_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The Involvement row (for copy_rows) of one new involvement."""
    return {
        "id": row_id or uuid.uuid4(),
        "child_id": child_id,
        "organisation_id": involvement.organisation_id,
        "practitioner_id": involvement.practitioner_id,
        "practitioner_name": involvement.practitioner_name,
        "practitioner_role": involvement.practitioner_role,
        "phone": involvement.phone,
        "email": involvement.email,
        "service_type": involvement.service_type,
        "is_lead_professional": involvement.is_lead_professional,
        "sensitive": involvement.service_type in SENSITIVE_SERVICES,
        "started_on": involvement.started_on,
        "ended_on": involvement.ended_on,
        "source": source.kind,
        "source_reference": source.involvement_source,
        "created_at": now,
    }


def flag_row(child_id: uuid.UUID, flag: NewWarningFlag, now: Any) -> dict[str, Any]:
    """The WarningFlag row (for copy_rows) of one new flag."""
    return {
        "id": uuid.uuid4(),
        "child_id": child_id,
        "kind": flag.kind,
        "owning_organisation_id": flag.owning_organisation_id,
        "contact_name": flag.contact_name,
        "contact_phone": flag.contact_phone,
        "contact_email": flag.contact_email,
        "starts_on": flag.starts_on,
        "ends_on": flag.ends_on,
        "raised_by_id": None,
        "created_at": now,
    }


def name_row(child_id: uuid.UUID, name: NewName, now: Any) -> dict[str, Any]:
    """The ChildName row (for copy_rows) of one name, sealed."""
    name_id, owner = uuid.uuid4(), str(child_id)
    return {
        "id": name_id,
        "child_id": child_id,
        "kind": name.kind,
        "given_names": _seal(
            ChildName, "given_names", name_id, name.given_names.strip(), owner=owner
        ),
        "family_name": _seal(
            ChildName, "family_name", name_id, name.family_name.strip(), owner=owner
        ),
        "created_at": now,
    }


def address_row(child_id: uuid.UUID, address: NewAddress, now: Any) -> dict[str, Any]:
    """The Address row (for copy_rows) of one address, sealed."""
    address_id, owner = uuid.uuid4(), str(child_id)
    lines = "\n".join(line.strip() for line in address.lines)
    return {
        "id": address_id,
        "child_id": child_id,
        "lines": _seal(Address, "lines", address_id, lines, owner=owner),
        "postcode": _seal(
            Address, "postcode", address_id, address.postcode, owner=owner
        ),
        "is_current": address.is_current,
        "moved_in_on": address.moved_in_on,
        "moved_out_on": address.moved_out_on,
        "created_at": now,
    }


def _child_rows(  # noqa: PLR0917 - private row builder
    rows: dict[type[Any], list[dict[str, Any]]],
    child: NewChild,
    child_id: uuid.UUID,
    number: str,
    source: Source,
    now: Any,
) -> None:
    child_key = str(child_id)
    rows[Child].append(
        {
            "id": child_id,
            "directory_number": number,
            "status": ChildStatus.ACTIVE,
            "merged_into_id": None,
            "gender": child.gender,
            "date_of_birth": _seal(
                Child, "date_of_birth", child_key, child.date_of_birth.isoformat()
            ),
            "nhs_number": _seal(Child, "nhs_number", child_key, child.nhs_number),
            "upn": _seal(Child, "upn", child_key, child.upn),
            "date_of_death": None,
            "match_profile": _seal(
                Child, "match_profile", child_key, match_profile_json(child)
            ),
            "shielded": child.shielded,
            "responsible_authority_id": child.responsible_authority_id,
            "consent_to_retain_until_25": child.consent_to_retain_until_25,
            "archived_at": None,
            "created_at": now,
            "updated_at": now,
        }
    )
    # One provenance row covers every record created here (field "*"):
    # later changes add one row per changed field.
    rows[Provenance].append(
        _provenance(child_id, "child_record", child_id, source, now)
    )
    rows[ChildName].extend(name_row(child_id, name, now) for name in child.names)
    rows[Address].extend(
        address_row(child_id, address, now) for address in child.addresses
    )
    for carer in child.carers:
        carer_id = uuid.uuid4()
        carer_key = str(carer_id)
        rows[Carer].append(
            {
                "id": carer_id,
                "child_id": child_id,
                "name": _seal(Carer, "name", carer_key, carer.name, owner=child_key),
                "relationship": carer.relationship,
                "parental_responsibility": carer.parental_responsibility,
                "phone": _seal(Carer, "phone", carer_key, carer.phone, owner=child_key),
                "email": _seal(Carer, "email", carer_key, carer.email, owner=child_key),
                "address": _seal(
                    Carer, "address", carer_key, carer.address, owner=child_key
                ),
                "created_at": now,
            }
        )
    for involvement in child.involvements:
        involvement_id = uuid.uuid4()
        rows[Involvement].append(
            involvement_row(child_id, involvement, source, now, row_id=involvement_id)
        )
        if involvement.consent_given_by:
            rows[Consent].append(
                {
                    "id": uuid.uuid4(),
                    "involvement_id": involvement_id,
                    "given_by": involvement.consent_given_by,
                    "scope": "All practitioners using the directory",
                    "recorded_by_id": (
                        uuid.UUID(source.reference)
                        if source.kind == SourceKind.PERSON
                        else None
                    ),
                    "recorded_at": now,
                    "withdrawn_at": None,
                }
            )
    rows[WarningFlag].extend(
        flag_row(child_id, flag, now) for flag in child.warning_flags
    )
    entries = {
        (index.code, blind_index(index, transformed))
        for index, transformed in index_terms(child_index_inputs(child))
    }
    rows[BlindIndexEntry].extend(
        {"child_id": child_id, "index": code, "value": value}
        for code, value in sorted(entries)
    )
