"""Generic CSV feed: one child per row, under a heading row of documented columns.

The columns are ``TEMPLATE_HEADER`` (docs/feed-formats.md describes each).
Headings are matched ignoring case and surrounding spaces; any order is fine.
``given_names``, ``family_name`` and ``date_of_birth`` must be present. A
heading this service does not know refuses the whole file, because a misspelt
heading would otherwise drop that column's data without anyone noticing.

Values are passed on stripped and otherwise as written; dates stay as written.
``address_line_1``-``3`` and ``town`` become ``address_lines`` (one per line,
empty parts skipped). A non-empty ``carer_name`` gives one carer; a non-empty
``service_type`` or ``service_started_on`` gives one service of the sender's
own (``organisation_code`` empty).

Row markers: a row whose number of cells differs from the heading row (a
truncated last line, a stray comma) is still yielded with the cells it has,
and its ``fields`` carry three extra keys so validation can quarantine it::

    "_row_problem": "cells_count"
    "_cells_expected": "<number of headings>"
    "_cells_found": "<number of cells in the row>"

Keys beginning with "_" are never directory fields. Blank lines, and lines of
nothing but commas, are skipped. ``reference`` is "line N", the physical line
of the file on which the row starts (a quoted value may span lines).
"""

import csv
import io
from collections.abc import Iterator, Mapping

from ingestion.readers.base import (
    FeedFileRejected,
    Limits,
    ParsedFeed,
    RawRow,
    check_not_empty,
    check_row_count,
    decode_text,
)

TEMPLATE_HEADER: tuple[str, ...] = (
    "source_key",
    "nhs_number",
    "upn",
    "given_names",
    "family_name",
    "former_family_name",
    "preferred_given_name",
    "date_of_birth",
    "gender",
    "address_line_1",
    "address_line_2",
    "address_line_3",
    "town",
    "postcode",
    "carer_name",
    "carer_relationship",
    "carer_parental_responsibility",
    "carer_phone",
    "carer_email",
    "service_type",
    "service_started_on",
    "service_ended_on",
    "practitioner_name",
    "practitioner_role",
    "practitioner_phone",
    "practitioner_email",
    "lead_professional",
)
REQUIRED_COLUMNS = ("given_names", "family_name", "date_of_birth")

_IDENTITY_COLUMNS = (
    "source_key",
    "nhs_number",
    "upn",
    "given_names",
    "family_name",
    "former_family_name",
    "preferred_given_name",
    "date_of_birth",
    "gender",
    "postcode",
)
_ADDRESS_COLUMNS = ("address_line_1", "address_line_2", "address_line_3", "town")
#: Carer key -> column.
_CARER_COLUMNS = {
    "name": "carer_name",
    "relationship": "carer_relationship",
    "parental_responsibility": "carer_parental_responsibility",
    "phone": "carer_phone",
    "email": "carer_email",
}
#: Service key -> column.
_SERVICE_COLUMNS = {
    "service_type": "service_type",
    "started_on": "service_started_on",
    "ended_on": "service_ended_on",
    "practitioner_name": "practitioner_name",
    "practitioner_role": "practitioner_role",
    "phone": "practitioner_phone",
    "email": "practitioner_email",
    "lead_professional": "lead_professional",
}
_EXAMPLE_ROW = {
    "source_key": "EXAMPLE-0001",
    "nhs_number": "999 000 0018",
    "upn": "M201123424001",
    "given_names": "Example Alex",
    "family_name": "Template-Child",
    "preferred_given_name": "Alex",
    "date_of_birth": "2016-04-01",
    "gender": "not known",
    "address_line_1": "1 Example Street",
    "town": "Exampletown",
    "postcode": "ZZ99 3CZ",
    "carer_name": "Sam Template-Child",
    "carer_relationship": "mother",
    "carer_parental_responsibility": "yes",
    "carer_phone": "01632 960000",
    "carer_email": "sam@example.org",
    "service_type": "education",
    "service_started_on": "2021-09-01",
    "practitioner_name": "Jo Example",
    "practitioner_role": "Designated safeguarding lead",
    "practitioner_phone": "01632 960001",
    "practitioner_email": "dsl@example.org",
    "lead_professional": "no",
}
_MAX_NAMES_SHOWN = 5


def read(data: bytes, limits: Limits = Limits()) -> ParsedFeed:  # noqa: B008 - frozen
    """Every data row of a CSV feed file, or FeedFileRejected for the whole file."""
    check_not_empty(data)
    text = decode_text(data)
    lines = _records(text)
    header = next(lines, None)
    if header is None:
        raise FeedFileRejected(
            "empty", "The file is empty. Check that you chose the right file."
        )
    columns = _check_header(header[1])
    rows: list[RawRow] = []
    for line, cells in lines:
        for index, name in enumerate(columns):
            if name == "" and index < len(cells) and cells[index].strip():
                raise FeedFileRejected(
                    "csv_columns_unknown",
                    f"Column {index + 1} has values but no heading (first seen on "
                    f"line {line}). Add the heading from the template, or remove "
                    "the column, and upload the file again.",
                )
        check_row_count(len(rows) + 1, limits)
        rows.append(_row(len(rows) + 1, line, columns, cells))
    if not rows:
        raise FeedFileRejected(
            "empty",
            "The file has a header row but no children. Add one row per child "
            "under the headings and upload it again.",
        )
    return ParsedFeed(rows=tuple(rows))


def template_csv() -> str:
    """The heading row and one obviously fictional example row, as CSV text.

    The example uses a test-range NHS number (999...), a pseudo-postcode and
    01632 (Ofcom's drama range) phone numbers, so it can never be a real child.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(TEMPLATE_HEADER)
    writer.writerow([_EXAMPLE_ROW.get(name, "") for name in TEMPLATE_HEADER])
    return buffer.getvalue()


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(physical start line, cells) for each non-blank record."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise FeedFileRejected(
                "csv_malformed",
                f"The file is not valid CSV in the row starting on line {start}: "
                "a quote mark is probably not closed, or text follows a closing "
                "quote. Fix that row, or export the file again, and upload it "
                "again.",
            ) from None
        if any(cell.strip() for cell in cells):
            yield start, cells


def _check_header(header: list[str]) -> tuple[str, ...]:
    """The normalised column names ("" for a blank heading), or the refusal."""
    columns = tuple(cell.strip().lower() for cell in header)
    named = [name for name in columns if name]
    known = set(TEMPLATE_HEADER)
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if not known.intersection(named):
        raise FeedFileRejected(
            "csv_columns_missing",
            "The first row must be the column headings, and none of them was "
            "recognised. Start the file with the heading row from the template "
            "(download it from this page) and upload it again.",
        )
    unknown = [name for name in named if name not in known]
    if unknown:
        also = (
            f" These required columns are missing too: {_names(missing)}; a "
            "misspelt heading may be one of them."
            if missing
            else ""
        )
        raise FeedFileRejected(
            "csv_columns_unknown",
            f"The file has columns this service does not recognise: "
            f"{_names(unknown)}.{also} Check the headings against the template, "
            "correct them, and upload the file again.",
        )
    if missing:
        raise FeedFileRejected(
            "csv_columns_missing",
            f"The file is missing these required columns: {_names(missing)}. "
            "Add them (see the template) and upload the file again.",
        )
    repeated = sorted({name for name in named if named.count(name) > 1})
    if repeated:
        raise FeedFileRejected(
            "csv_columns_duplicate",
            f"The file has these columns more than once: {_names(repeated)}. Keep "
            "one of each and upload the file again.",
        )
    return columns


def _names(names: list[str]) -> str:
    shown = ", ".join(name[:40] for name in names[:_MAX_NAMES_SHOWN])
    more = len(names) - _MAX_NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def _row(
    position: int, line: int, columns: tuple[str, ...], cells: list[str]
) -> RawRow:
    values = {
        name: cell.strip() for name, cell in zip(columns, cells, strict=False) if name
    }
    fields = {name: values[name] for name in _IDENTITY_COLUMNS if name in values}
    address = [values[name] for name in _ADDRESS_COLUMNS if name in values]
    if address:
        fields["address_lines"] = "\n".join(part for part in address if part)
    if len(cells) != len(columns):
        fields["_row_problem"] = "cells_count"
        fields["_cells_expected"] = str(len(columns))
        fields["_cells_found"] = str(len(cells))
    carers: tuple[Mapping[str, str], ...] = ()
    if values.get("carer_name"):
        carers = (_pick(values, _CARER_COLUMNS),)
    services: tuple[Mapping[str, str], ...] = ()
    if values.get("service_type") or values.get("service_started_on"):
        services = ({"organisation_code": "", **_pick(values, _SERVICE_COLUMNS)},)
    return RawRow(
        position=position,
        reference=f"line {line}",
        fields=fields,
        carers=carers,
        services=services,
    )


def _pick(values: Mapping[str, str], mapping: Mapping[str, str]) -> dict[str, str]:
    return {key: values[column] for key, column in mapping.items() if column in values}
