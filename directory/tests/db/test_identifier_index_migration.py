"""Migration 0006 rebuilds the NHS number and UPN entries at the indexes'
current width, and leaves the other indexes alone."""

import importlib

import pytest
from django.apps import apps

from contactpoint.crypto.fields import blind_index
from directory.models import BlindIndexEntry
from directory.search_index import NHS_NUMBER, UPN
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module(
    "directory.migrations.0006_widen_identifier_indexes"
)


def _entries(child_id) -> set[tuple[int, int]]:
    return set(
        BlindIndexEntry.objects.filter(child_id=child_id).values_list("index", "value")
    )


def test_rebuild_replaces_stale_identifier_entries_and_keeps_the_rest():
    with_both = child_records_create(
        children=[NewChildFactory.build(upn="B801200005001")], source=FEED_SOURCE
    )[0]
    without = child_records_create(
        children=[NewChildFactory.build(nhs_number=None)], source=FEED_SOURCE
    )[0]
    expected = _entries(with_both.id)
    assert (NHS_NUMBER.code, blind_index(NHS_NUMBER, "9434765919")) in expected
    assert (UPN.code, blind_index(UPN, "B801200005001")) in expected
    untouched = _entries(without.id)
    # As a database indexed at 16 bits holds them: other values entirely.
    BlindIndexEntry.objects.filter(
        child_id=with_both.id, index__in=(NHS_NUMBER.code, UPN.code)
    ).update(value=7)

    migration.rebuild(apps, None)
    migration.rebuild(apps, None)  # and again: nothing doubles

    assert _entries(with_both.id) == expected
    assert _entries(without.id) == untouched
    assert not BlindIndexEntry.objects.filter(value=7).exists()
