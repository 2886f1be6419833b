"""Every bad file of every format, through the whole import: a clear outcome and
no partial writes. Valid files of each format import; a truncated CSV keeps
its good rows and quarantines the cut one."""

from pathlib import Path

import pytest
from django.db import connection

from accounts.models import Organisation, OrganisationKind
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from ingestion.models import (
    Channel,
    FeedMode,
    FeedRow,
    FeedRun,
    FeedSource,
    RowState,
    RunStatus,
)
from ingestion.services import feed_file_receive, feed_run_process

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

#: (fixture, format, refusal code) for files refused whole.
REFUSED = [
    ("csv_empty.csv", "csv", "empty"),
    ("csv_header_only.csv", "csv", "empty"),
    ("csv_windows1252.csv", "csv", "encoding"),
    ("csv_unknown_column.csv", "csv", "csv_columns_unknown"),
    ("csv_missing_columns.csv", "csv", "csv_columns_missing"),
    ("csv_duplicate_columns.csv", "csv", "csv_columns_duplicate"),
    ("csv_malformed.csv", "csv", "csv_malformed"),
    ("ctf_valid.xml", "csv", "wrong_format"),
    ("ctf_empty.xml", "ctf", "empty"),
    ("ctf_truncated.xml", "ctf", "xml_malformed"),
    ("ctf_malformed.xml", "ctf", "xml_malformed"),
    ("ctf_xxe.xml", "ctf", "xml_forbidden"),
    ("ctf_billion_laughs.xml", "ctf", "xml_forbidden"),
    ("ctf_windows1252.xml", "ctf", "encoding"),
    ("cin_valid.xml", "ctf", "wrong_format"),
    ("cin_truncated.xml", "cin", "xml_malformed"),
    ("cin_xxe.xml", "cin", "xml_forbidden"),
    ("cin_billion_laughs.xml", "cin", "xml_forbidden"),
    ("cin_windows1252.xml", "cin", "encoding"),
    ("fhir_truncated.json", "fhir", "json_malformed"),
    ("fhir_not_bundle.json", "fhir", "wrong_format"),
    ("fhir_empty.json", "fhir", "empty"),
    ("fhir_windows1252.json", "fhir", "encoding"),
    ("csv_valid.csv", "fhir", "wrong_format"),
    ("csv_valid.csv", "cin", "wrong_format"),
    ("fhir_valid.json", "ctf", "wrong_format"),
]


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
        return int(cursor.fetchone()[0])


@pytest.fixture
def authority():
    return LocalAuthorityFactory(name="Northshire Council")


def _source(authority: Organisation, format_code: str) -> FeedSource:
    school = SchoolFactory(parent_authority=authority)
    return FeedSource.objects.create(
        organisation=school,
        name=f"{format_code} feed",
        format=format_code,
        mode=FeedMode.SNAPSHOT,
        default_service_type="education",
    )


def _import(source: FeedSource, fixture: str) -> FeedRun:
    receipt = feed_file_receive(
        source=source,
        data=(FIXTURES / fixture).read_bytes(),
        channel=Channel.UPLOAD,
        actor=None,
    )
    return feed_run_process(receipt.run.pk)


@pytest.mark.parametrize(("fixture", "format_code", "code"), REFUSED)
def test_a_bad_file_is_refused_whole_and_writes_nothing(
    authority, fixture, format_code, code
):
    run = _import(_source(authority, format_code), fixture)

    assert (run.status, run.refusal_code) == (RunStatus.REJECTED, code)
    assert len(run.refusal_message) > 30
    assert run.total_rows == run.rows_done == 0
    assert not FeedRow.objects.exists()
    assert _count("directory_child") == 0
    assert _count("directory_involvement") == 0


@pytest.mark.parametrize(
    ("fixture", "format_code"),
    [
        ("csv_valid.csv", "csv"),
        ("ctf_valid.xml", "ctf"),
        ("ctf_namespaced.xml", "ctf"),
        ("cin_valid.xml", "cin"),
        ("fhir_valid.json", "fhir"),
    ],
)
def test_a_valid_file_of_each_format_imports(authority, fixture, format_code):
    # The organisations the fixtures name (GP practices by ODS code).
    for code in ("A81001", "A81002", "B82005", "Y00001"):
        Organisation.objects.get_or_create(
            kind=OrganisationKind.GP_PRACTICE,
            code=code,
            defaults={"name": f"Practice {code}", "parent_authority": authority},
        )
    run = _import(_source(authority, format_code), fixture)

    assert run.status == RunStatus.COMPLETED
    assert run.total_rows > 0
    assert run.created + run.quarantined + run.waiting == run.total_rows
    assert run.created > 0
    assert FeedRow.objects.filter(run=run).count() == run.total_rows
    assert _count("directory_child") == run.created


def test_a_truncated_csv_keeps_its_whole_rows_and_quarantines_the_cut_one(
    authority,
):
    run = _import(_source(authority, "csv"), "csv_truncated.csv")

    assert run.status == RunStatus.COMPLETED
    cut = FeedRow.objects.get(run=run, state=RowState.QUARANTINED)
    assert "cells_count" in [p["code"] for p in cut.problems]
    assert run.created == run.total_rows - 1
