"""Children in Need (CIN) census XML from a local authority's social care system.

The DfE census file is ``<Message>`` with a ``<Header>`` (CollectionDetails;
Source with SourceLevel, LEA, SoftwareCode, Release, SerialNo, DateTime) and
``<Children>`` holding one ``<Child>`` each: ``ChildIdentifiers`` (LAchildID,
UPN, FormerUPN, UPNunknown, PersonBirthDate, ExpectedPersonBirthDate,
GenderCurrent - ``Sex`` from the 2024 census - and PersonDeathDate),
``ChildCharacteristics``, and one ``CINdetails`` per episode of need
(CINreferralDate, CINclosureDate, ReferralNFA, Assessments, Section47,
``ChildProtectionPlans`` with CPPstartDate and CPPendDate, ...).

The census carries no names, addresses or contacts. Our documented extension
(docs/feed-formats.md) lets the same file carry them, all optional:

- ``ChildIdentifiers/GivenNames``, ``ChildIdentifiers/FamilyName`` and
  ``ChildIdentifiers/NHSnumber``;
- ``Child/Address`` with ``AddressLine1``..``AddressLine5`` and ``PostCode``;
- ``Child/SocialWorker`` with ``Name``, ``Phone`` and ``Email``.

Mapping: LAchildID is ``source_key``. Each CINdetails is a ``social_care``
service of the sender (organisation_code empty) from the referral date to
the closure date, with the social worker as practitioner. Each
ChildProtectionPlans entry is a ``child_protection_plan`` flag with the
social worker as contact. An episode still open (no closure date, not closed
as "no further action") with no open protection plan is also a
``child_in_need`` flag from the referral date. Gender stays as written
(1/2/0/9 or M/F); validation maps it. Tags are matched on local names.
"""

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

FORMAT_NAME = "Children in Need census"
_TRUE = frozenset({"true", "1"})


def read(data: bytes, limits: Limits = Limits()) -> ParsedFeed:  # noqa: B008 - frozen
    """Every child of a CIN census file, or FeedFileRejected for the file."""
    root = strip_namespaces(parse_xml(data, format_name=FORMAT_NAME))
    children = root.find("Children") if root.tag == "Message" else None
    if children is None:
        raise FeedFileRejected(
            "wrong_format",
            f"This is not a Children in Need census file: its top-level element "
            f"is <{root.tag[:40]}>, where the census has <Message> containing "
            "<Children>. Check that you chose the right file for this feed.",
        )
    found = children.findall("Child")
    if not found:
        raise FeedFileRejected(
            "empty",
            "The Children in Need census file has no children in it (no <Child> "
            "inside <Children>). Export it again with the children included.",
        )
    check_row_count(len(found), limits)
    rows = tuple(
        _child(position, child) for position, child in enumerate(found, start=1)
    )
    return ParsedFeed(
        rows=rows, header={"la_code": xml_text(root, "Header/Source/LEA")}
    )


def _child(position: int, child: Element) -> RawRow:
    ids = child.find("ChildIdentifiers")
    address = child.find("Address")
    lines = [] if address is None else _address_lines(address)
    fields = {
        "source_key": xml_text(ids, "LAchildID"),
        "nhs_number": xml_text(ids, "NHSnumber"),
        "upn": xml_text(ids, "UPN"),
        "given_names": xml_text(ids, "GivenNames"),
        "family_name": xml_text(ids, "FamilyName"),
        "date_of_birth": xml_text(ids, "PersonBirthDate"),
        "gender": xml_text(ids, "GenderCurrent") or xml_text(ids, "Sex"),
        "address_lines": "\n".join(lines),
        "postcode": xml_text(address, "PostCode"),
    }
    worker = child.find("SocialWorker")
    name = xml_text(worker, "Name")
    phone = xml_text(worker, "Phone")
    email = xml_text(worker, "Email")
    services: list[dict[str, str]] = []
    flags: list[dict[str, str]] = []
    contact = {"contact_name": name, "contact_phone": phone, "contact_email": email}
    for episode in child.findall("CINdetails"):
        referred = xml_text(episode, "CINreferralDate")
        closed = xml_text(episode, "CINclosureDate")
        services.append(
            {
                "service_type": "social_care",
                "organisation_code": "",
                "started_on": referred,
                "ended_on": closed,
                "practitioner_name": name,
                "practitioner_role": "Social worker" if name else "",
                "phone": phone,
                "email": email,
            }
        )
        plans = episode.findall("ChildProtectionPlans")
        flags.extend(
            _flag("child_protection_plan", plan, "CPPstartDate", "CPPendDate", contact)
            for plan in plans
        )
        open_plan = any(not xml_text(plan, "CPPendDate") for plan in plans)
        no_further_action = xml_text(episode, "ReferralNFA").lower() in _TRUE
        if not closed and not open_plan and not no_further_action:
            flags.append(
                _flag("child_in_need", episode, "CINreferralDate", "", contact)
            )
    return RawRow(
        position=position,
        reference=f"child {position}",
        fields=fields,
        services=tuple(services),
        flags=tuple(flags),
    )


def _flag(
    kind: str, element: Element, starts: str, ends: str, contact: dict[str, str]
) -> dict[str, str]:
    return {
        "kind": kind,
        "organisation_code": "",
        "starts_on": xml_text(element, starts),
        "ends_on": xml_text(element, ends) if ends else "",
        **contact,
    }


def _address_lines(address: Element) -> list[str]:
    """The non-empty AddressLine1..5 texts, in file order."""
    return [
        (line.text or "").strip()
        for line in address
        if line.tag.startswith("AddressLine") and (line.text or "").strip()
    ]
