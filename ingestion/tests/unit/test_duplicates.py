from dataclasses import replace
from datetime import date

import pytest

from directory.records import NewChild, NewName
from ingestion.pipeline.duplicates import find_duplicates
from ingestion.pipeline.records import FieldProblem, Rejection, ValidRecord

CHILD = NewChild(
    names=(NewName("Oliver", "Testington"),),
    date_of_birth=date(2016, 5, 12),
    gender="1",
    nhs_number="9993395633",
    upn="B801200005001",
)


def record(
    position: int, child: NewChild = CHILD, source_key: str = "C-1"
) -> ValidRecord:
    return ValidRecord(position, f"line {position + 1}", child, source_key)


def test_distinct_children_are_all_kept():
    other = NewChild(
        names=(NewName("Amira", "Exampleton"),), date_of_birth=date(2019, 11, 3)
    )

    assert find_duplicates([record(1), record(2, other, "C-2")]) == {}


def test_identical_row_repeats_the_first_which_is_kept():
    found = find_duplicates([record(1), record(2), record(3)])

    assert found == {
        2: Rejection(
            2,
            "line 3",
            (
                FieldProblem(
                    "row",
                    "duplicate_row",
                    "This row repeats line 2; only the first was used.",
                ),
            ),
        ),
        3: Rejection(
            3,
            "line 4",
            (
                FieldProblem(
                    "row",
                    "duplicate_row",
                    "This row repeats line 2; only the first was used.",
                ),
            ),
        ),
    }


@pytest.mark.parametrize(
    ("second", "field", "label"),
    [
        (
            replace(CHILD, upn=None, names=(NewName("Olly", "Testington"),)),
            "nhs_number",
            "NHS number",
        ),
        (replace(CHILD, nhs_number=None, gender="0"), "upn", "UPN"),
    ],
)
def test_same_identifier_with_different_content_is_repeated(second, field, label):
    found = find_duplicates([record(1, source_key=""), record(2, second, "")])

    assert found == {
        2: Rejection(
            2,
            "line 3",
            (
                FieldProblem(
                    field,
                    "identifier_repeated",
                    f"The same {label} is also on line 2; send one row per child.",
                ),
            ),
        )
    }


def test_same_source_key_with_different_content_is_repeated():
    other = NewChild(
        names=(NewName("Amira", "Exampleton"),), date_of_birth=date(2019, 11, 3)
    )

    found = find_duplicates([record(1), record(2, other, "C-1")])

    assert [(p.field, p.code) for p in found[2].problems] == [
        ("source_key", "identifier_repeated")
    ]
    assert "sender's id for the child" in found[2].problems[0].message


def test_every_shared_identifier_is_named():
    changed = replace(CHILD, gender="2")

    found = find_duplicates([record(1), record(2, changed)])

    assert [p.field for p in found[2].problems] == ["nhs_number", "upn", "source_key"]


def test_empty_identifiers_never_match():
    first = replace(CHILD, nhs_number=None, upn=None)
    second = replace(first, gender="2")

    assert find_duplicates([record(1, first, ""), record(2, second, "")]) == {}


def test_a_quarantined_row_does_not_make_later_rows_repeats():
    clash = replace(CHILD, upn="P207000016049", gender="2")  # shares the NHS number
    later = NewChild(
        names=(NewName("Amira", "Exampleton"),),
        date_of_birth=date(2019, 11, 3),
        upn="P207000016049",
    )

    found = find_duplicates(
        [record(1, source_key=""), record(2, clash, ""), record(3, later, "")]
    )

    assert list(found) == [2]


def test_same_content_with_another_source_key_is_an_identifier_repeat():
    found = find_duplicates([record(1, source_key="A"), record(2, source_key="B")])

    assert [p.field for p in found[2].problems] == ["nhs_number", "upn"]


def test_messages_quote_references_never_identifiers():
    found = find_duplicates([record(1), record(2, replace(CHILD, gender="2"))])

    for problem in found[2].problems:
        assert "9993395633" not in problem.message
        assert "B801200005001" not in problem.message
        assert "C-1" not in problem.message
