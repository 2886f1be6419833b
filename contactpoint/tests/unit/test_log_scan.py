"""The scan for test children's details in the run's logs (log_scan.py)."""

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from contactpoint.tests.log_scan import Kept, Needles, record_text, scan

ROOT = Path(__file__).resolve().parents[3]


def _found(needles: Needles, text: str) -> set[tuple[str, str]]:
    return set(needles.found_in(text))


def test_sealed_names_are_found_as_written_or_in_capitals_with_or_without_accents():
    needles = Needles()
    needles.add_sealed("directory_childname", "family_name", "Climbié")
    needles.add_sealed("directory_childname", "given_names", "Hope")
    needles.add_sealed("directory_carer", "name", "Marie-Thérèse Kouao")

    assert _found(needles, "search for CLIMBIE failed") == {("name", "Climbié")}
    assert _found(needles, "no match: Climbie") == {("name", "Climbié")}
    assert _found(needles, "carer Marie Therese Kouao") == {
        ("name", "Marie-Thérèse Kouao")
    }
    assert _found(needles, "Hope") == {("name", "Hope")}
    assert _found(needles, "we hope the Climbing Kouao-free text is fine") == set()


def test_dates_nhs_numbers_and_postcodes_are_found_as_commonly_written():
    needles = Needles()
    needles.add_sealed("directory_child", "date_of_birth", "2015-11-02")
    needles.add_sealed("directory_child", "nhs_number", "9434765919")
    needles.add_sealed("directory_address", "postcode", "N17 6QA")

    for text in ("born 2015-11-02", "born 02/11/2015", "born 2 November 2015"):
        assert _found(needles, text) == {("date of birth", "2015-11-02")}, text
    for text in ("nhs 9434765919", "nhs 943 476 5919"):
        assert _found(needles, text) == {("NHS number", "9434765919")}, text
    for text in ("at N17 6QA", "at n176qa"):
        assert _found(needles, text) == {("postcode", "N17 6QA")}, text
    assert _found(needles, "run 2015-11-03, row 943476591, N17 6QB") == set()


def test_details_inside_feed_rows_and_search_terms_are_collected():
    needles = Needles()
    needles.add_sealed(
        "ingestion_feedrow",
        "payload",
        '{"fields": {"family_name": "Okafor", "town": "London"},'
        ' "carers": [{"name": "Ada Okafor"}]}',
    )
    needles.add_sealed(
        "audit_accessevent", "query_terms", '{"given_name": "Amara", "gender": "2"}'
    )

    assert _found(needles, "Okafor") == {("name", "Okafor")}
    assert _found(needles, "AMARA") == {("name", "Amara")}
    assert _found(needles, "London") == set()


def test_other_columns_and_junk_are_not_details():
    needles = Needles()
    needles.add_sealed("accounts_totpdevice", "secret", "JBSWY3DPEHPK3PXP")
    needles.add_sealed("directory_childname", "given_names", "Al")
    needles.add_sealed("audit_accessevent", "query_terms", '{"family_name": "0000"}')
    needles.add_sealed(
        "audit_accessevent",
        "query_terms",
        '{"family_name": "status", "given_name": "®KF", "postcode": "updated",'
        ' "date_of_birth": "0588-01-13"}',
    )
    needles.add_sealed("audit_accessevent", "query_terms", "not json")
    needles.add_sealed("directory_child", "date_of_birth", "2015-02-31")

    assert len(needles) == 0


def test_a_record_is_read_with_its_exceptions_and_extras_but_no_source():
    try:
        try:
            raise KeyError("inner detail")
        except KeyError as exc:
            raise ValueError("outer detail") from exc
    except ValueError as exc:
        record = logging.makeLogRecord(
            {
                "msg": "run %s failed",
                "args": ("r-1",),
                "exc_info": (type(exc), exc, exc.__traceback__),
                "child": "Victoria",
            }
        )

    text = record_text(record)

    assert text.splitlines() == [
        "run r-1 failed",
        "ValueError: outer detail",
        "KeyError: 'inner detail'",
        "child=Victoria",
    ]


def test_scan_names_the_test_logger_and_kind():
    needles = Needles()
    needles.add("name", "Okafor")
    kept = [
        Kept("t.py::test_a", "ingestion", "INFO", "3 rows committed"),
        Kept("t.py::test_b", "directory", "WARNING", "no match for Okafor"),
    ]

    (finding,) = scan(kept, needles)

    assert str(finding) == (
        "t.py::test_b: WARNING record of logger 'directory' holds a name ('Okafor')"
    )


def _run_pytest(tmp_path: Path, test_source: str, *args: str):
    (tmp_path / "test_leaky.py").write_text(textwrap.dedent(test_source))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DJANGO_"))
    }
    env["PYTHONPATH"] = str(ROOT)
    # Only the plugins this needs: starts in a second, not several.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run(  # noqa: S603  # our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "xdist.plugin",
            "-p",
            "contactpoint.tests.log_scan",
            "-p",
            "no:cacheprovider",
            *args,
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


LEAKY = """
    import logging

    from contactpoint.tests import log_scan


    def test_seals_a_name():
        log_scan._needles.add("name", "Zebedee")


    def test_logs_it():
        logging.getLogger("leaky").warning("cannot match Zebedee")
"""


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_run_whose_logs_hold_a_detail_fails(tmp_path, workers):
    result = _run_pytest(tmp_path, LEAKY, "-n", workers)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    assert "personal data in logs" in result.stdout
    assert "logger 'leaky' holds a name ('Zebedee')" in result.stdout


@pytest.mark.slow
def test_a_run_with_clean_logs_passes(tmp_path):
    result = _run_pytest(
        tmp_path, LEAKY.replace("cannot match Zebedee", "cannot match row 3")
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "personal data in logs" not in result.stdout
