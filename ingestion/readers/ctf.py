"""DfE Common Transfer File (CTF) XML, as school management systems export it.

A CTF is ``<CTfile>`` with a ``<Header>`` (DocumentName, CTFversion,
DateTime, DocumentQualifier, SourceSchool with LEA/Estab/URN/SchoolName,
DestSchool) and ``<CTFpupilData>`` holding one ``<Pupil>`` per child. This
reader takes the subset the directory holds:

- identity: UPN, Forename (+ BasicDetails/MiddleNames), Surname,
  BasicDetails/FormerSurname and PreferredForename, DOB, Sex (``Gender`` in
  CTFs before version 21), and the home Address (a ``BS7666Address`` or
  ``AddressLines``, plus County and PostCode);
- each ``Contacts/Contact`` as a carer: Forename and Surname (Title when there
  is no forename), Relationship mapped by ``RELATIONSHIPS``, Responsibility,
  the first ``Phones/Phone`` number, Email, and Address (the pupil's when
  ``AddressAsPupil`` is true);
- one education service of the sending school (``organisation_code`` empty:
  the sender's own), started and ended on the EntryDate and LeavingDate of
  the pupil's ``SchoolHistory/School`` entry for the header's source school
  (LEA and Estab), when there is one.

Assessments, attendance, SEN, FSM and the rest are not read. Tags are matched
on their local names, so a namespaced export reads the same. ``reference`` is
"pupil N" and never names the child.
"""

from collections.abc import Mapping
from xml.etree.ElementTree import Element  # nosec B405  # a type; defusedxml parses

from ingestion.readers.base import (
    FeedFileRejected,
    Limits,
    ParsedFeed,
    RawRow,
    check_row_count,
    parse_xml,
    strip_namespaces,
    xml_text,
)

FORMAT_NAME = "CTF"

#: CTF contact relationship code -> the directory's carer relationship. Codes
#: not listed become "other"; doctors are contacts, not carers, and are skipped.
RELATIONSHIPS: Mapping[str, str] = {
    "PAM": "mother",  # parent: mother
    "PAF": "father",  # parent: father
    "STM": "step_parent",  # step-mother
    "STF": "step_parent",  # step-father
    "FOM": "foster_carer",  # foster mother
    "FOF": "foster_carer",  # foster father
    "REL": "other_relative",  # other relative
    "FAM": "other_relative",  # other family member
    "SWR": "local_authority",  # social worker: the corporate parent's contact
    "CAR": "other",  # carer
    "CHM": "other",  # childminder
    "OTH": "other",  # other contact
}
NOT_CARERS = frozenset({"DOC"})
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def read(data: bytes, limits: Limits = Limits()) -> ParsedFeed:  # noqa: B008 - frozen
    """Every pupil of a Common Transfer File, or FeedFileRejected for the file."""
    root = strip_namespaces(parse_xml(data, format_name=FORMAT_NAME))
    if root.tag != "CTfile":
        raise FeedFileRejected(
            "wrong_format",
            f"This is not a Common Transfer File: its top-level element is "
            f"<{root.tag[:40]}>, where a CTF has <CTfile>. Check that you chose "
            "the right file for this feed.",
        )
    pupils = root.findall("CTFpupilData/Pupil")
    if not pupils:
        raise FeedFileRejected(
            "empty",
            "The Common Transfer File has no pupils in it (no <Pupil> inside "
            "<CTFpupilData>). Export it again with the pupils included.",
        )
    check_row_count(len(pupils), limits)
    source = root.find("Header/SourceSchool")
    header = {
        "document_name": xml_text(root, "Header/DocumentName"),
        "source_lea": xml_text(source, "LEA"),
        "source_estab": xml_text(source, "Estab"),
        "source_urn": xml_text(source, "URN"),
    }
    rows = tuple(
        _pupil(position, pupil, header)
        for position, pupil in enumerate(pupils, start=1)
    )
    return ParsedFeed(rows=rows, header=header)


def _pupil(position: int, pupil: Element, header: Mapping[str, str]) -> RawRow:
    basic = pupil.find("BasicDetails")
    given = " ".join(
        part
        for part in (xml_text(pupil, "Forename"), xml_text(basic, "MiddleNames"))
        if part
    )
    address_lines, postcode = _address(pupil.find("Address"))
    fields = {
        "upn": xml_text(pupil, "UPN"),
        "given_names": given,
        "family_name": xml_text(pupil, "Surname"),
        "former_family_name": xml_text(basic, "FormerSurname"),
        "preferred_given_name": xml_text(basic, "PreferredForename"),
        "date_of_birth": xml_text(pupil, "DOB"),
        "gender": xml_text(pupil, "Sex") or xml_text(pupil, "Gender"),
        "address_lines": address_lines,
        "postcode": postcode,
    }
    home = _join(address_lines, postcode)
    carers = tuple(
        carer
        for contact in pupil.findall("Contacts/Contact")
        if (carer := _carer(contact, home)) is not None
    )
    started_on, ended_on = _attendance(pupil, header)
    service = {
        "service_type": "education",
        "organisation_code": "",
        "started_on": started_on,
        "ended_on": ended_on,
    }
    return RawRow(
        position=position,
        reference=f"pupil {position}",
        fields=fields,
        carers=carers,
        services=(service,),
    )


def _carer(contact: Element, pupil_address: str) -> dict[str, str] | None:
    code = xml_text(contact, "Relationship").upper()
    if code in NOT_CARERS:
        return None
    forename = xml_text(contact, "Forename")
    first = forename or xml_text(contact, "Title")
    name = " ".join(part for part in (first, xml_text(contact, "Surname")) if part)
    address = contact.find("Address")
    if xml_text(address, "AddressAsPupil").lower() in _TRUE:
        where = pupil_address
    else:
        where = _join(*_address(address))
    phone = ""
    for number in contact.findall("Phones/Phone"):
        phone = xml_text(number, "PhoneNo") or xml_text(number, "TelephoneNumber")
        if phone:
            break
    return {
        "name": name,
        "relationship": RELATIONSHIPS.get(code, "other") if code else "",
        "parental_responsibility": _boolean(xml_text(contact, "Responsibility")),
        "phone": phone,
        "email": xml_text(contact, "Email"),
        "address": where,
    }


def _address(address: Element | None) -> tuple[str, str]:
    """(newline-separated lines, postcode) of a CTF ``Address`` element."""
    if address is None:
        return "", ""
    bs7666 = address.find("BS7666Address")
    lines: list[str] = []
    if bs7666 is not None:
        paon = xml_text(bs7666, "PAON")
        street = xml_text(bs7666, "Street")
        lines.append(xml_text(bs7666, "SAON"))
        # "12" + "Acacia Avenue" is one line; "Rose Cottage" is a line of its own.
        if paon[:1].isdigit() and street:
            lines.append(f"{paon} {street}")
        else:
            lines += [paon, street]
        for tag in ("Locality", "Town", "PostTown", "AdministrativeArea"):
            lines.append(xml_text(bs7666, tag))
    else:
        lines += [
            xml_text(address, f"AddressLines/AddressLine{n}") for n in range(1, 6)
        ]
    lines.append(xml_text(address, "County"))
    kept: list[str] = []
    for line in lines:
        if line and (not kept or kept[-1].casefold() != line.casefold()):
            kept.append(line)
    return "\n".join(kept), xml_text(address, "PostCode")


def _attendance(pupil: Element, header: Mapping[str, str]) -> tuple[str, str]:
    """EntryDate and LeavingDate at the source school ("" when not recorded)."""
    lea, estab = header["source_lea"], header["source_estab"]
    if not (lea and estab):
        return "", ""
    found = ("", "")
    for school in pupil.findall("SchoolHistory/School"):
        if xml_text(school, "LEA") == lea and xml_text(school, "Estab") == estab:
            # The last entry wins: a pupil who left and came back is there now.
            found = (xml_text(school, "EntryDate"), xml_text(school, "LeavingDate"))
    return found


def _boolean(raw: str) -> str:
    """xs:boolean as "true"/"false"; anything else as written, for validation."""
    if raw.lower() in _TRUE:
        return "true"
    if raw.lower() in _FALSE:
        return "false"
    return raw


def _join(*parts: str) -> str:
    return "\n".join(part for part in parts if part)
