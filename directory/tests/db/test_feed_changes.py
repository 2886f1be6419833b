"""Applying a feed's planned changes to existing children: every change lands,
sealed and indexed, and a batch of any size costs the same few statements."""

import datetime as dt
from uuid import UUID

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import SchoolFactory
from contactpoint.crypto.fields import unseal
from directory.models import (
    Address,
    BlindIndexEntry,
    Child,
    ChildName,
    Involvement,
    NameKind,
    Provenance,
    WarningFlag,
)
from directory.records import (
    ChildChanges,
    NewInvolvement,
    NewName,
    NewWarningFlag,
)
from directory.selectors.reading import match_profile_decode
from directory.services.child_records import child_records_create
from directory.services.feed_changes import child_changes_apply
from directory.tests.factories import FEED_SOURCE, NewAddressFactory, NewChildFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


@pytest.fixture
def school():
    return SchoolFactory(name="Hilltop Primary")


def _children(count: int, **fields: object) -> list[UUID]:
    made = child_records_create(
        children=[
            NewChildFactory.build(
                names=(NewName(f"Child{n}", f"Family{n}"),), nhs_number=None, **fields
            )
            for n in range(count)
        ],
        source=FEED_SOURCE,
        today=TODAY,
    )
    return [created.id for created in made]


def _names(child_id):
    return sorted(
        (name.kind, unseal(name, "given_names"), unseal(name, "family_name"))
        for name in ChildName.unaudited.filter(child_id=child_id)
    )


def _index(child_id):
    return set(
        BlindIndexEntry.objects.filter(child_id=child_id).values_list("index", "value")
    )


def test_a_new_surname_and_address_keep_the_old_ones_and_reindex_the_child():
    (child_id,) = _children(1)
    indexed_before = _index(child_id)
    child_changes_apply(
        [
            ChildChanges(
                child_id=child_id,
                new_legal_name=NewName("Child0", "Okafor-Brown"),
                new_address=NewAddressFactory.build(
                    lines=("9 New Street", "Leeds"), postcode="LS1 4AP"
                ),
                set_nhs_number="9434765919",
                set_upn="A123456789012",
                set_gender="1",
            )
        ],
        source=FEED_SOURCE,
        today=TODAY,
    )
    assert _names(child_id) == [
        (NameKind.FORMER, "Child0", "Family0"),
        (NameKind.LEGAL, "Child0", "Okafor-Brown"),
    ]
    addresses = {
        unseal(a, "postcode"): (a.is_current, a.moved_in_on, a.moved_out_on)
        for a in Address.unaudited.filter(child_id=child_id)
    }
    assert addresses == {
        "N17 6QA": (False, None, TODAY),
        "LS1 4AP": (True, TODAY, None),
    }
    child = Child.unaudited.get(pk=child_id)
    assert unseal(child, "nhs_number") == "9434765919"
    assert unseal(child, "upn") == "A123456789012"
    assert child.gender == "1"
    profile = match_profile_decode(child)
    assert profile.family_names == ("Okafor-Brown", "Family0")
    assert profile.postcodes == ("LS1 4AP", "N17 6QA")
    assert (profile.nhs_number, profile.upn, profile.gender) == (
        "9434765919",
        "A123456789012",
        "1",
    )
    # The old terms are kept (former name, past address) and new ones added.
    assert indexed_before < _index(child_id)
    assert set(
        Provenance.objects.filter(child_id=child_id, source="feed")
        .exclude(field="*")
        .values_list("field", flat=True)
    ) == {"name", "address", "nhs_number", "upn", "gender"}


def test_a_feed_never_clears_what_it_does_not_send():
    (child_id,) = _children(1, upn="A123456789012")
    child_changes_apply(
        [ChildChanges(child_id=child_id, set_gender="1")],
        source=FEED_SOURCE,
        today=TODAY,
    )
    child = Child.unaudited.get(pk=child_id)
    assert unseal(child, "upn") == "A123456789012"
    assert unseal(child, "nhs_number") is None
    assert _names(child_id) == [(NameKind.LEGAL, "Child0", "Family0")]
    assert Address.unaudited.filter(child_id=child_id, is_current=True).count() == 1


def test_involvements_and_flags_are_added_and_ended(school):
    first, second = _children(2)
    started = dt.date(2025, 9, 1)
    child_changes_apply(
        [
            ChildChanges(
                child_id=child_id,
                add_involvements=(
                    NewInvolvement(
                        organisation_id=school.pk,
                        service_type="education",
                        started_on=started,
                        is_lead_professional=True,
                    ),
                ),
                add_flags=(
                    NewWarningFlag(
                        kind="child_protection_plan",
                        owning_organisation_id=school.pk,
                        contact_name="Duty social worker",
                        contact_phone="020 7946 0000",
                        starts_on=started,
                    ),
                ),
            )
            for child_id in (first, second)
        ],
        source=FEED_SOURCE,
        today=TODAY,
    )
    involvement = Involvement.unaudited.get(child_id=first, organisation=school)
    flag = WarningFlag.unaudited.get(child_id=first, owning_organisation=school)
    assert involvement.is_lead_professional
    child_changes_apply(
        [
            ChildChanges(
                child_id=first,
                end_involvements=((involvement.id, TODAY),),
                end_flags=((flag.id, TODAY),),
            )
        ],
        source=FEED_SOURCE,
        today=TODAY,
    )
    involvement.refresh_from_db()
    flag.refresh_from_db()
    assert (involvement.ended_on, flag.ends_on) == (TODAY, TODAY)
    # The other child's are untouched.
    assert (
        Involvement.unaudited.get(child_id=second, organisation=school).ended_on is None
    )
    assert WarningFlag.unaudited.get(child_id=second).ends_on is None


def _moves(child_ids):
    return [
        ChildChanges(
            child_id=child_id,
            new_legal_name=NewName("Moved", f"Surname{n}"),
            new_address=NewAddressFactory.build(postcode="LS1 4AP"),
            set_gender="1",
        )
        for n, child_id in enumerate(child_ids)
    ]


def test_a_batch_costs_the_same_statements_for_one_child_or_twenty():
    one, *twenty = _children(21)
    with CaptureQueriesContext(connection) as for_one:
        child_changes_apply(_moves([one]), source=FEED_SOURCE, today=TODAY)
    with CaptureQueriesContext(connection) as for_twenty:
        child_changes_apply(_moves(twenty), source=FEED_SOURCE, today=TODAY)
    # Lock, former names, past addresses, children, old index entries (the
    # new rows go by COPY, which Django does not count).
    assert len(for_one.captured_queries) == 5
    assert len(for_twenty.captured_queries) == 5
    renamed = ChildName.unaudited.filter(kind=NameKind.LEGAL, child_id__in=twenty)
    assert {unseal(name, "given_names") for name in renamed} == {"Moved"}
    assert len(renamed) == 20
    assert Address.unaudited.filter(child_id__in=twenty, is_current=True).count() == 20
    assert Address.unaudited.filter(child_id__in=twenty).count() == 40
