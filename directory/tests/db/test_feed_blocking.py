"""A feed run's blocking: posting lists kept for the run, caught up with the
children written since, and the profiles of re-indexed children read afresh."""

import datetime as dt

import pytest

from directory.records import ChildChanges, NewName
from directory.selectors.feeds import FeedBlocking
from directory.services.child_records import child_records_create
from directory.services.feed_changes import child_changes_apply
from directory.tests.factories import FEED_SOURCE, NewChildFactory
from ingestion.pipeline.blocking import blocking_terms

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


def _create(child):
    (made,) = child_records_create(children=[child], source=FEED_SOURCE, today=TODAY)
    return made.id


def _found(blocking, child):
    found = blocking.candidates({0: blocking_terms(child)})
    return {profile.child_id: profile for profile, _ in found.get(0, [])}


def test_children_written_after_the_first_look_are_found_by_the_next():
    incoming = NewChildFactory.build(names=(NewName("Amara", "Okafor"),))
    first = _create(incoming)
    blocking = FeedBlocking()
    assert set(_found(blocking, incoming)) == {first}
    # Another run (or slice) makes a second record sharing every term.
    second = _create(incoming)
    assert set(_found(blocking, incoming)) == {first, second}


def test_a_child_indexed_again_is_compared_with_its_new_profile():
    incoming = NewChildFactory.build(names=(NewName("Amara", "Okafor"),))
    child_id = _create(incoming)
    blocking = FeedBlocking()
    assert _found(blocking, incoming)[child_id].family_names == ("Okafor",)
    child_changes_apply(
        [
            ChildChanges(
                child_id=child_id, new_legal_name=NewName("Amara", "Okafor-Ade")
            )
        ],
        source=FEED_SOURCE,
        today=TODAY,
    )
    profile = _found(blocking, incoming)[child_id]
    assert profile.family_names == ("Okafor-Ade", "Okafor")
    # Looking again re-reads the same entries (the margin) without
    # forgetting what it has: the profile stays as read.
    assert _found(blocking, incoming)[child_id] is profile
