"""What every feed reader shares: the row it yields, the refusal it raises,
the limits it enforces, and the one safe way to decode text and parse XML.

Readers are pure: bytes in, ``RawRow`` values out, no Django and no I/O. A
problem with the whole file (not UTF-8, malformed or dangerous XML, the wrong
format, too many rows, no rows) raises ``FeedFileRejected`` with a stable
code and a message a data manager can act on; nothing from such a file is
ever applied. A problem with one row is not the reader's business: it yields
the row as it found it (missing fields empty) and validation quarantines it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element  # nosec B405  # a type; defusedxml parses

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

#: The canonical identity fields of ``RawRow.fields``. Readers fill what their
#: format carries, as the text found in the file (stripped), and leave the
#: rest out. Dates stay as written; validation parses them.
IDENTITY_FIELDS = (
    "source_key",  # the sender's own id for the child (LA child id, …)
    "nhs_number",
    "upn",
    "given_names",
    "family_name",
    "former_family_name",
    "preferred_given_name",
    "date_of_birth",
    "gender",  # as the format writes it: M/F, male/female, 1/2/0/9, …
    "address_lines",  # newline-separated
    "postcode",
)
#: Keys of each mapping in ``RawRow.carers``.
CARER_FIELDS = (
    "name",
    "relationship",
    "parental_responsibility",
    "phone",
    "email",
    "address",
)
#: Keys of each mapping in ``RawRow.services`` (an involvement of an
#: organisation with the child). ``organisation_code`` is empty when the
#: service is the sending organisation's own.
SERVICE_FIELDS = (
    "service_type",
    "organisation_code",
    "started_on",
    "ended_on",
    "practitioner_name",
    "practitioner_role",
    "phone",
    "email",
    "lead_professional",
)
#: Keys of each mapping in ``RawRow.flags`` (a warning flag).
FLAG_FIELDS = (
    "kind",
    "organisation_code",
    "starts_on",
    "ends_on",
    "contact_name",
    "contact_phone",
    "contact_email",
)


@dataclass(frozen=True, slots=True)
class RawRow:
    """One child as a feed file describes them; every value still a string.

    ``position`` counts rows from 1 in file order; ``reference`` tells a
    person where to look ("line 14", "pupil 3", "entry 7").
    """

    position: int
    reference: str
    fields: Mapping[str, str]
    carers: tuple[Mapping[str, str], ...] = ()
    services: tuple[Mapping[str, str], ...] = ()
    flags: tuple[Mapping[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A whole file's rows, and what its header says about the sender."""

    rows: tuple[RawRow, ...]
    #: Header values useful for checks (e.g. CTF "source_urn", CIN "la_code").
    header: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Limits:
    max_rows: int = 250_000


class FeedFileRejected(ValueError):
    """The whole file is refused; nothing in it is applied.

    ``code`` is stable (for logs and tests); ``message`` says what is wrong and
    what to do, and never quotes child data.
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


def decode_text(data: bytes) -> str:
    """The file as text, or FeedFileRejected('encoding') saying where it broke.

    UTF-8 only (a byte-order mark is allowed and dropped). Spreadsheet
    programs often save in Windows-1252: the message says how to fix that.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FeedFileRejected(
            "encoding",
            f"The file is not UTF-8 text (the first unreadable byte is on line "
            f"{line}). Save it again as UTF-8 - in Excel, choose 'CSV UTF-8' - "
            "and upload it again.",
        ) from None
    if "\x00" in text:
        raise FeedFileRejected(
            "encoding",
            "The file contains null characters, so it is not a text file. "
            "Check that you chose the right file.",
        )
    return text


def check_not_empty(data: bytes) -> None:
    if not data.strip():
        raise FeedFileRejected(
            "empty", "The file is empty. Check that you chose the right file."
        )


def check_row_count(count: int, limits: Limits) -> None:
    if count > limits.max_rows:
        raise FeedFileRejected(
            "too_many_rows",
            f"The file has more than {limits.max_rows:,} children. Split it into "
            f"files of at most {limits.max_rows:,} and send each one.",
        )


def parse_xml(data: bytes, *, format_name: str) -> Element:
    """The root element, parsed by defusedxml with DTDs forbidden.

    Entity expansion ("billion laughs"), external entities and any DOCTYPE are
    refused; so is XML that is not well formed (a truncated file, say), with
    the line the parser stopped at.
    """
    check_not_empty(data)
    decode_text(data)  # the same encoding rule as every format
    try:
        root: Element = fromstring(data, forbid_dtd=True)
        return root
    except DefusedXmlException:
        raise FeedFileRejected(
            "xml_forbidden",
            f"The {format_name} file contains a document type declaration or "
            "entities, which this service refuses for safety. Export the file "
            "again without a DOCTYPE.",
        ) from None
    except ParseError as exc:
        line = exc.position[0] if exc.position else "?"
        raise FeedFileRejected(
            "xml_malformed",
            f"The {format_name} file is not well-formed XML (the problem is near "
            f"line {line}); it may be cut short. Export it again and upload it "
            "again.",
        ) from None


def strip_namespaces(root: Element) -> Element:
    """``root`` with every tag reduced to its local name ("{urn:x}Pupil" -> "Pupil").

    Senders differ in whether they declare a default namespace; matching on
    local names lets one set of paths read both. The tree is changed in place
    (it belongs to the reader that parsed it) and returned.
    """
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.rpartition("}")[2]
    return root


def xml_text(element: Element | None, path: str) -> str:
    """The stripped text at ``path`` under ``element``; "" when either is absent."""
    if element is None:
        return ""
    return (element.findtext(path) or "").strip()
