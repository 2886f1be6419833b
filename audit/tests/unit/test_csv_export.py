"""Spreadsheet formula injection: every dangerous first character is disarmed."""

import csv
import io

import pytest

from audit.csv_export import FORMULA_TRIGGERS, UTF8_BOM, cell_neutralise, csv_lines


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        '=HYPERLINK("http://evil.example","Click")',
        "+447700900123",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "\0=1+1",
    ],
)
def test_a_value_starting_with_a_formula_trigger_gets_a_leading_quote(value):
    assert cell_neutralise(value) == f"'{value}"


def test_every_trigger_is_covered():
    assert set(FORMULA_TRIGGERS) == {"=", "+", "-", "@", "\t", "\r", "\0"}
    for trigger in FORMULA_TRIGGERS:
        assert cell_neutralise(f"{trigger}x") == f"'{trigger}x"


@pytest.mark.parametrize(
    "value",
    ["", "Pat Teacher", "pat@example.org", "1 + 1", "a=b", "'already quoted", " =1"],
)
def test_other_values_are_left_exactly_as_they_are(value):
    assert cell_neutralise(value) == value


def test_nothing_is_removed_from_a_neutralised_value():
    value = "-\0 nul inside\0"

    assert cell_neutralise(value).removeprefix("'") == value


def test_csv_lines_neutralise_every_cell_and_quote_for_csv():
    lines = list(
        csv_lines(
            [
                ("Name", "Detail", "Count"),
                ("=cmd|' /C calc'!A0", 'said "hello", then\nleft', 3),
                (None, "@x", -1),
            ]
        )
    )

    assert lines[0] == UTF8_BOM
    rows = list(csv.reader(io.StringIO("".join(lines[1:]))))
    assert rows == [
        ["Name", "Detail", "Count"],
        ["'=cmd|' /C calc'!A0", 'said "hello", then\nleft', "3"],
        ["", "'@x", "'-1"],
    ]
    assert all(line.endswith("\r\n") for line in lines[1:])
