import csv
import io
from pathlib import Path

import pytest

from directory.identifiers import (
    is_pseudo_postcode,
    is_test_nhs_number,
    normalise_nhs_number,
)
from ingestion.readers import csv_feed
from ingestion.readers.base import FeedFileRejected, Limits, RawRow

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rejection(data: bytes, limits: Limits = Limits()) -> FeedFileRejected:  # noqa: B008
    with pytest.raises(FeedFileRejected) as caught:
        csv_feed.read(data, limits)
    return caught.value


def test_valid_file_yields_every_child_with_fields_carer_and_service():
    rows = csv_feed.read(fixture("csv_valid.csv")).rows

    assert rows[0] == RawRow(
        position=1,
        reference="line 2",
        fields={
            "source_key": "C-001",
            "nhs_number": "999 765 4323",
            "upn": "B201123424002",
            "given_names": "Amelia Rose",
            "family_name": "Exampleton",
            "former_family_name": "",
            "preferred_given_name": "Millie",
            "date_of_birth": "2016-03-14",
            "gender": "F",
            "address_lines": "Flat 2, Acorn House\n1 Example Street\nExampletown",
            "postcode": "ZZ99 3CZ",
        },
        carers=(
            {
                "name": "Harriet Exampleton",
                "relationship": "mother",
                "parental_responsibility": "yes",
                "phone": "07700 900001",
                "email": "harriet@example.org",
            },
        ),
        services=(
            {
                "service_type": "education",
                "organisation_code": "",
                "started_on": "2020-09-01",
                "ended_on": "",
                "practitioner_name": "Pat Teacher",
                "practitioner_role": "Designated safeguarding lead",
                "phone": "01632 960001",
                "email": "dsl@school.example.org",
                "lead_professional": "no",
            },
        ),
    )


def test_blank_and_comma_only_lines_are_skipped_and_positions_count_children():
    rows = csv_feed.read(fixture("csv_valid.csv")).rows

    assert [(row.position, row.reference) for row in rows] == [
        (1, "line 2"),
        (2, "line 4"),
        (3, "line 7"),
    ]


def test_quoted_value_spanning_lines_is_one_cell_and_values_are_stripped():
    row = csv_feed.read(fixture("csv_valid.csv")).rows[1]

    assert row.fields["address_lines"] == "Rose Cottage\nLong Lane\nSampleford"
    assert row.fields["given_names"] == "Benedict"
    # Dates and postcodes stay as written: validation parses them.
    assert row.fields["date_of_birth"] == "04/11/2014"
    assert row.fields["postcode"] == "zz99 3wz"
    assert row.carers == ()
    assert row.services == ()
    assert "_row_problem" not in row.fields


def test_service_is_read_when_only_its_type_or_start_is_given():
    row = csv_feed.read(fixture("csv_valid.csv")).rows[2]

    assert row.services[0]["service_type"] == "health_visiting"
    assert row.services[0]["ended_on"] == "2021-07-30"
    assert row.carers[0]["name"] == "Okey Placeholder"
    started_only = b"given_names,family_name,date_of_birth,service_started_on\n"
    started_only += b"Ann,Sampleby,2015-01-01,2020-01-01\n"
    assert csv_feed.read(started_only).rows[0].services == (
        {"organisation_code": "", "started_on": "2020-01-01"},
    )


def test_truncated_last_line_is_yielded_with_its_cells_and_marked():
    rows = csv_feed.read(fixture("csv_truncated.csv")).rows

    assert len(rows) == 2
    assert "_row_problem" not in rows[0].fields
    assert rows[1].reference == "line 3"
    assert rows[1].fields == {
        "source_key": "T-002",
        "nhs_number": "",
        "upn": "",
        "given_names": "Eli",
        "family_name": "Testwell",
        "former_family_name": "",
        "preferred_given_name": "",
        "date_of_birth": "2018-05",
        "_row_problem": "cells_count",
        "_cells_expected": "27",
        "_cells_found": "8",
    }


def test_row_with_too_many_cells_is_marked():
    data = b"given_names,family_name,date_of_birth\nAnn,Sampleby,2015-01-01,extra\n"

    row = csv_feed.read(data).rows[0]

    assert row.fields["given_names"] == "Ann"
    assert row.fields["_row_problem"] == "cells_count"
    assert (row.fields["_cells_expected"], row.fields["_cells_found"]) == ("3", "4")


def test_unclosed_quote_refuses_the_file_naming_the_line():
    refused = rejection(fixture("csv_malformed.csv"))

    assert refused.code == "csv_malformed"
    assert "line 3" in refused.message
    assert "quote" in refused.message
    assert "Gus" not in refused.message


def test_windows_1252_file_is_refused_with_how_to_save_as_utf8():
    refused = rejection(fixture("csv_windows1252.csv"))

    assert refused.code == "encoding"
    assert "line 3" in refused.message
    assert "CSV UTF-8" in refused.message


def test_empty_file_is_refused():
    refused = rejection(fixture("csv_empty.csv"))

    assert refused.code == "empty"
    assert "empty" in refused.message


def test_header_only_file_is_refused_as_having_no_children():
    refused = rejection(fixture("csv_header_only.csv"))

    assert refused.code == "empty"
    assert "header row but no children" in refused.message


def test_unknown_heading_refuses_the_file_naming_it_and_the_missing_column():
    refused = rejection(fixture("csv_unknown_column.csv"))

    assert refused.code == "csv_columns_unknown"
    assert "famly_name, shoe_size" in refused.message
    assert "required columns are missing too: family_name;" in refused.message
    assert "Sampleby" not in refused.message


def test_missing_required_column_refuses_the_file_naming_it():
    refused = rejection(fixture("csv_missing_columns.csv"))

    assert refused.code == "csv_columns_missing"
    assert "missing these required columns: date_of_birth." in refused.message


def test_file_without_a_heading_row_is_refused_without_quoting_its_data():
    refused = rejection(fixture("csv_no_header.csv"))

    assert refused.code == "csv_columns_missing"
    assert "heading" in refused.message
    assert "Lena" not in refused.message
    assert "Sampleby" not in refused.message


def test_repeated_heading_refuses_the_file():
    refused = rejection(fixture("csv_duplicate_columns.csv"))

    assert refused.code == "csv_columns_duplicate"
    assert "family_name" in refused.message


def test_blank_heading_is_allowed_only_while_its_column_is_empty():
    empty_column = b"given_names,family_name,date_of_birth,\nAnn,Sampleby,2015-01-01,\n"
    used_column = b"given_names,family_name,date_of_birth,\nAnn,Sampleby,2015-01-01,x\n"

    assert csv_feed.read(empty_column).rows[0].fields["given_names"] == "Ann"
    refused = rejection(used_column)
    assert refused.code == "csv_columns_unknown"
    assert "Column 4" in refused.message
    assert "line 2" in refused.message


def test_an_xml_file_is_refused_without_quoting_it():
    refused = rejection(fixture("cin_valid.xml"))

    assert refused.code == "csv_columns_missing"
    assert "LA-0001" not in refused.message


def test_more_rows_than_the_limit_refuses_the_file():
    refused = rejection(fixture("csv_valid.csv"), Limits(max_rows=2))

    assert refused.code == "too_many_rows"
    assert "2" in refused.message


def test_template_header_lists_the_documented_columns_in_order():
    assert csv_feed.TEMPLATE_HEADER[:4] == (
        "source_key",
        "nhs_number",
        "upn",
        "given_names",
    )
    assert len(csv_feed.TEMPLATE_HEADER) == 27
    assert len(set(csv_feed.TEMPLATE_HEADER)) == 27
    assert set(csv_feed.REQUIRED_COLUMNS) <= set(csv_feed.TEMPLATE_HEADER)


def test_template_is_the_header_and_one_fictional_child_that_reads_back():
    text = csv_feed.template_csv()
    lines = list(csv.reader(io.StringIO(text, newline="")))

    assert lines[0] == list(csv_feed.TEMPLATE_HEADER)
    assert len(lines) == 2
    (row,) = csv_feed.read(text.encode()).rows
    assert "_row_problem" not in row.fields
    assert is_test_nhs_number(normalise_nhs_number(row.fields["nhs_number"]))
    assert is_pseudo_postcode(row.fields["postcode"])
    assert row.carers[0]["relationship"] == "mother"
    assert row.services[0]["service_type"] == "education"
