"""Rows of one file that describe a child already described earlier in it.

A feed should send one row per child. When it sends two, the first is used
and every later one is quarantined, so nothing is applied twice and the two
never race each other through matching:
- a row identical to an earlier one (the same child, carers, services, flags
  and sender's id once validated) is "duplicate_row";
- a row that shares an NHS number, a UPN or a non-empty sender's id with an
  earlier row but differs from it is "identifier_repeated", once for each
  identifier shared.

Only rows that are kept count as "earlier": a row already quarantined here
cannot make a later one a repeat. Pure: no Django.
"""

from collections.abc import Sequence

from directory.records import NewChild
from ingestion.pipeline import vocab
from ingestion.pipeline.records import FieldProblem, Rejection, ValidRecord

_IDENTIFIERS = ("nhs_number", "upn", "source_key")


def find_duplicates(records: Sequence[ValidRecord]) -> dict[int, Rejection]:
    """Rejections for the repeats in ``records`` (file order), by position."""
    first_with_content: dict[tuple[NewChild, str], ValidRecord] = {}
    first_with_identifier: dict[tuple[str, str], ValidRecord] = {}
    rejected: dict[int, Rejection] = {}
    for record in records:
        content = (record.child, record.source_key)
        earlier = first_with_content.get(content)
        if earlier is not None:
            problem = FieldProblem(
                "row", "duplicate_row", vocab.duplicate_row_message(earlier.reference)
            )
            rejected[record.position] = _rejection(record, (problem,))
            continue
        identifiers = _identifiers(record)
        problems = tuple(
            FieldProblem(
                name,
                "identifier_repeated",
                vocab.identifier_repeated_message(name, first.reference),
            )
            for name, value in identifiers
            if (first := first_with_identifier.get((name, value))) is not None
        )
        if problems:
            rejected[record.position] = _rejection(record, problems)
            continue
        first_with_content[content] = record
        for key in identifiers:
            first_with_identifier[key] = record
    return rejected


def _identifiers(record: ValidRecord) -> tuple[tuple[str, str], ...]:
    values = (record.child.nhs_number, record.child.upn, record.source_key)
    return tuple(
        (name, value) for name, value in zip(_IDENTIFIERS, values, strict=True) if value
    )


def _rejection(record: ValidRecord, problems: tuple[FieldProblem, ...]) -> Rejection:
    return Rejection(record.position, record.reference, problems)
