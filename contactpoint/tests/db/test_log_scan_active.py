"""The log scan (contactpoint/tests/log_scan.py) is watching this very run."""

import logging

import pytest

from contactpoint.tests import log_scan
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory, NewNameFactory

pytestmark = pytest.mark.django_db


def test_what_the_directory_encrypts_is_looked_for_in_every_record():
    name = NewNameFactory.build(given_names="Zephyrine", family_name="Quarrington")
    child_records_create(
        children=[NewChildFactory.build(names=(name,), nhs_number="999 399 5290")],
        source=FEED_SOURCE,
    )
    logging.getLogger("contactpoint.tests").warning("log scan marker 41")

    assert {
        ("name", "Zephyrine"),
        ("name", "Quarrington"),
        ("date of birth", "2015-11-02"),
        ("NHS number", "9993995290"),
        ("postcode", "N17 6QA"),
    } <= log_scan._needles.added
    assert any(
        kept.text.startswith("log scan marker 41") for kept in log_scan._handler.kept
    )
