"""FHIR R4 Bundle of UK Core Patient resources (health feeds), as JSON.

``fhir.resources.R4B`` (pydantic v2 models) checks the structure: the Bundle
itself must be valid, and each Patient is validated on its own. Entries that
are not Patients are ignored and counted in ``header["ignored_entries"]``. A
Patient that fails validation does not refuse the file: it is yielded with
``fields["_row_problem"] = "fhir_invalid"`` and ``_row_problem_detail``
naming the failing elements and error types (never their values), plus what
could be read, and validation quarantines it.

Each Patient gives the NHS number (system https://fhir.nhs.uk/Id/nhs-number),
names (official, else usual, else the first current; an old or maiden name
gives ``former_family_name``, a usual name with other given names
``preferred_given_name``), ``birthDate``, ``gender`` as written, the current
address (home first), a "gp" service for each ``generalPractitioner`` with an
ODS code identifier (others are skipped) and a carer for each ``contact``
with a relationship. docs/feed-formats.md has the full mapping.

``reference`` is "entry N" (the N-th entry of the Bundle); ``position``
counts Patients. ``source_key`` is ``Patient.id``.
"""

import json
from collections.abc import Iterator, Mapping

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from ingestion.readers.base import (
    FeedFileRejected,
    Limits,
    ParsedFeed,
    RawRow,
    check_not_empty,
    check_row_count,
    decode_text,
)

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
ROLE_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
CONTACT_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0131"

_FORMER_NAME_USES = frozenset({"old", "maiden"})
_NOT_CURRENT_ADDRESS_USES = frozenset({"old", "work", "billing"})
_MAX_DETAILS = 5

#: v3 RoleCode personal relationships as the words validation maps
#: (ingestion.pipeline.vocab). Parents of unstated sex depend on the contact's
#: gender; codes not listed become "other".
_ROLE_CODE_WORDS: dict[str, str] = {
    code: word
    for word, codes in (
        ("mother", "MTH NMTH ADOPTM GESTM"),
        ("father", "FTH NFTH ADOPTF"),
        ("step-parent", "STPMTH STPFTH STPPRN"),
        (
            "grandparent",
            "GRPRN GRMTH GRFTH MGRPRN MGRMTH MGRFTH PGRPRN PGRMTH PGRFTH GGRPRN "
            "GGRMTH GGRFTH MGGRPRN MGGRMTH MGGRFTH PGGRPRN PGGRMTH PGGRFTH",
        ),
        ("foster carer", "PRNFOST MTHFOST FTHFOST"),
        (
            "other relative",
            "FAMMEMB EXT AUNT MAUNT PAUNT UNCLE MUNCLE PUNCLE SIB NSIB HSIB STPSIB "
            "BRO NBRO HBRO STPBRO SIS NSIS HSIS STPSIS TWIN TWINBRO TWINSIS FTWIN "
            "FTWINBRO FTWINSIS ITWIN ITWINBRO ITWINSIS COUSN MCOUSN PCOUSN",
        ),
    )
    for code in codes.split()
}
_PARENT_CODES = frozenset({"PRN", "NPRN", "ADOPTP"})
_PARENT_BY_GENDER = {"female": "mother", "male": "father"}
#: v2-0131 contact roles that are organisations, not people who care.
_ORGANISATION_ROLES = frozenset({"E", "F", "I", "S"})


def read(data: bytes, limits: Limits = Limits()) -> ParsedFeed:  # noqa: B008 - frozen
    """The Patients of a FHIR R4 Bundle, or FeedFileRejected for the file."""
    check_not_empty(data)
    root = _load_json(decode_text(data))
    if not isinstance(root, dict) or root.get("resourceType") != "Bundle":
        raise FeedFileRejected(
            "wrong_format",
            "This is not a FHIR Bundle: the file's resourceType must be "
            '"Bundle". Export the Patients as a Bundle (for example a '
            "collection or searchset) and upload it again.",
        )
    entries = root.get("entry")
    if entries is None or entries == []:
        raise FeedFileRejected(
            "empty", "The Bundle has no entries. Check that you chose the right file."
        )
    _check_bundle(root, entries)
    patients = [
        (number, entry["resource"])
        for number, entry in enumerate(entries, start=1)
        if isinstance(entry, dict)
        and isinstance(entry.get("resource"), dict)
        and entry["resource"].get("resourceType") == "Patient"
    ]
    if not patients:
        raise FeedFileRejected(
            "empty",
            "The Bundle has no Patient resources. Check that you chose the right file.",
        )
    check_row_count(len(patients), limits)
    rows = tuple(
        _row(position, number, resource)
        for position, (number, resource) in enumerate(patients, start=1)
    )
    header = {
        "bundle_type": _text(root.get("type")),
        "ignored_entries": str(len(entries) - len(patients)),
    }
    return ParsedFeed(rows=rows, header=header)


def _load_json(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FeedFileRejected(
            "json_malformed",
            f"The file is not well-formed JSON (the problem is near line "
            f"{exc.lineno}, column {exc.colno}); it may be cut short. Export it "
            "again and upload it again.",
        ) from None
    except RecursionError:
        raise FeedFileRejected(
            "json_malformed",
            "The file's JSON is nested too deeply to be a FHIR Bundle. Check "
            "that you chose the right file.",
        ) from None


def _check_bundle(root: dict[str, object], entries: object) -> None:
    # Resources are validated one by one later: an invalid Patient must not
    # refuse the whole file.
    shell = dict(root)
    if isinstance(entries, list):
        shell["entry"] = [
            {key: value for key, value in entry.items() if key != "resource"}
            if isinstance(entry, dict)
            else entry
            for entry in entries
        ]
    try:
        Bundle.model_validate(shell)
    except ValidationError as exc:
        raise FeedFileRejected(
            "bundle_invalid",
            f"The Bundle is not valid FHIR R4 ({_describe(exc)}). Export it "
            "again and upload it again.",
        ) from None


def _describe(exc: ValidationError) -> str:
    """Where validation failed and how, never with the values found."""
    errors = exc.errors()
    parts = [
        f"{_location(error['loc'], error['type'])}: {error['type']}"
        for error in errors[:_MAX_DETAILS]
    ]
    if len(errors) > _MAX_DETAILS:
        parts.append(f"and {len(errors) - _MAX_DETAILS} more")
    return "; ".join(parts)


def _location(loc: tuple[int | str, ...], error_type: str) -> str:
    if error_type == "extra_forbidden":
        # The last part is a key found in the file: name no more than its parent.
        loc = (*loc[:-1], "(unknown element)")
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    return text.lstrip(".") or "resource"


def _row(position: int, number: int, patient: dict[str, object]) -> RawRow:
    fields: dict[str, str] = {}
    try:
        Patient.model_validate(patient)
    except ValidationError as exc:
        fields["_row_problem"] = "fhir_invalid"
        fields["_row_problem_detail"] = _describe(exc)
    fields.update(_identity(patient))
    return RawRow(
        position=position,
        reference=f"entry {number}",
        fields=fields,
        carers=tuple(_carers(patient)),
        services=_services(patient),
    )


# Defensive readers: an invalid Patient is read too, so nothing may be
# assumed about the shape of what the file holds.


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _dicts(value: object) -> list[dict[str, object]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def _texts(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [text for item in items if (text := _text(item))]


def _ended(element: Mapping[str, object]) -> bool:
    return any(_text(period.get("end")) for period in _dicts(element.get("period")))


def _identity(patient: dict[str, object]) -> dict[str, str]:
    found = {
        "source_key": _text(patient.get("id")),
        "nhs_number": next(
            (
                _text(identifier.get("value"))
                for identifier in _dicts(patient.get("identifier"))
                if identifier.get("system") == NHS_NUMBER_SYSTEM
            ),
            "",
        ),
        "date_of_birth": _text(patient.get("birthDate")),
        "gender": _text(patient.get("gender")),
        **_names(_dicts(patient.get("name"))),
        **_address(_dicts(patient.get("address"))),
    }
    return {key: value for key, value in found.items() if value}


def _given(name: Mapping[str, object]) -> str:
    return " ".join(_texts(name.get("given")))


def _names(names: list[dict[str, object]]) -> dict[str, str]:
    def with_use(use: str) -> dict[str, object] | None:
        return next((name for name in names if _text(name.get("use")) == use), None)

    current = (
        with_use("official")
        or with_use("usual")
        or next(
            (n for n in names if _text(n.get("use")) not in _FORMER_NAME_USES), None
        )
    )
    if current is None:
        return {}
    given, family = _given(current), _text(current.get("family"))
    found = {"given_names": given, "family_name": family}
    found["former_family_name"] = next(
        (
            former
            for name in names
            if _text(name.get("use")) in _FORMER_NAME_USES
            and (former := _text(name.get("family")))
            and former.casefold() != family.casefold()
        ),
        "",
    )
    usual = with_use("usual")
    preferred = _given(usual) if usual is not None else ""
    if preferred and preferred.casefold() != given.casefold():
        found["preferred_given_name"] = preferred
    return found


def _current_address(addresses: list[dict[str, object]]) -> dict[str, object] | None:
    current = [
        address
        for address in addresses
        if _text(address.get("use")) not in _NOT_CURRENT_ADDRESS_USES
        and not _ended(address)
    ]
    return min(
        current, key=lambda address: _text(address.get("use")) != "home", default=None
    )


def _address(addresses: list[dict[str, object]]) -> dict[str, str]:
    chosen = _current_address(addresses)
    if chosen is None:
        return {}
    lines = [*_texts(chosen.get("line")), *_texts(chosen.get("city"))]
    return {
        "address_lines": "\n".join(lines),
        "postcode": _text(chosen.get("postalCode")),
    }


def _services(patient: dict[str, object]) -> tuple[dict[str, str], ...]:
    ods_codes = dict.fromkeys(
        code
        for reference in _dicts(patient.get("generalPractitioner"))
        for identifier in _dicts(reference.get("identifier"))
        if identifier.get("system") == ODS_CODE_SYSTEM
        and (code := _text(identifier.get("value")))
    )
    return tuple(
        {"service_type": "gp", "organisation_code": code, "started_on": ""}
        for code in ods_codes
    )


def _carers(patient: dict[str, object]) -> Iterator[dict[str, str]]:
    for contact in _dicts(patient.get("contact")):
        if _ended(contact):
            continue
        relationship = _relationship(contact)
        if not relationship:
            continue
        telecom = _dicts(contact.get("telecom"))
        carer = {
            "name": _contact_name(_dicts(contact.get("name"))),
            "relationship": relationship,
            "phone": _first_telecom(telecom, "phone"),
            "email": _first_telecom(telecom, "email"),
            "address": _one_line_address(_dicts(contact.get("address"))),
        }
        yield {key: value for key, value in carer.items() if value}


def _relationship(contact: Mapping[str, object]) -> str:
    """A word for the contact's relationship; "" when it is not a carer."""
    concepts = _dicts(contact.get("relationship"))
    codings = [coding for c in concepts for coding in _dicts(c.get("coding"))]
    for coding in codings:
        if coding.get("system") == ROLE_CODE_SYSTEM:
            code = _text(coding.get("code")).upper()
            if code in _PARENT_CODES:
                gender = _text(contact.get("gender"))
                return _PARENT_BY_GENDER.get(gender, "other")
            return _ROLE_CODE_WORDS.get(code, "other")
    for coding in codings:
        if coding.get("system") not in {ROLE_CODE_SYSTEM, CONTACT_ROLE_SYSTEM}:
            written = _text(coding.get("display")) or _text(coding.get("code"))
            if written:
                return written
    texts = [text for c in concepts if (text := _text(c.get("text")))]
    if texts:
        return texts[0]
    roles = {_text(coding.get("code")).upper() for coding in codings}
    if roles and roles <= _ORGANISATION_ROLES:
        return ""
    # Next of kin, emergency contact, unknown: a person, relationship unsaid.
    return "other" if roles else ""


def _contact_name(names: list[dict[str, object]]) -> str:
    if not names:
        return ""
    name = names[0]
    parts = [_given(name), _text(name.get("family"))]
    return " ".join(part for part in parts if part) or _text(name.get("text"))


def _first_telecom(telecom: list[dict[str, object]], system: str) -> str:
    return next(
        (
            value
            for point in telecom
            if point.get("system") == system
            and not _ended(point)
            and (value := _text(point.get("value")))
        ),
        "",
    )


def _one_line_address(addresses: list[dict[str, object]]) -> str:
    chosen = _current_address(addresses)
    if chosen is None:
        return ""
    parts = [
        *_texts(chosen.get("line")),
        *_texts(chosen.get("city")),
        *_texts(chosen.get("postalCode")),
    ]
    return ", ".join(parts) or _text(chosen.get("text"))
