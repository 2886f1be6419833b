"""Merging two records of one child and undoing it: exact, audited, refused if wrong."""

import datetime as dt

import pytest

from accounts.roles import Role
from accounts.tests.admin_world import verified_actor
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from audit.models import AccessAction, AccessEvent
from directory.models import (
    Address,
    BlindIndexEntry,
    Carer,
    Child,
    ChildName,
    ChildStatus,
    Involvement,
)
from directory.records import NewInvolvement, NewName, SearchQuery
from directory.selectors import child_search
from directory.services.child_records import child_records_create
from directory.services.merges import MergeRefused, children_merge, merge_undo
from directory.tests.factories import FEED_SOURCE, NewAddressFactory, NewChildFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


@pytest.fixture
def authority():
    return LocalAuthorityFactory(name="Northshire Council")


@pytest.fixture
def school(authority):
    return SchoolFactory(name="Hilltop Primary", parent_authority=authority)


@pytest.fixture
def data_manager(authority):
    return verified_actor((Role.DATA_MANAGER, authority))


def _pair(school):
    first, second = child_records_create(
        children=[
            NewChildFactory.build(upn=None),
            NewChildFactory.build(
                names=(NewName("Anna", "Kouao"),),
                nhs_number=None,
                addresses=(NewAddressFactory.build(postcode="E8 1AA"),),
                involvements=(
                    NewInvolvement(
                        organisation_id=school.pk,
                        service_type="education",
                        started_on=dt.date(2025, 9, 1),
                        is_lead_professional=True,
                    ),
                ),
            ),
        ],
        source=FEED_SOURCE,
        today=TODAY,
    )
    return first.id, second.id


def _snapshot(child_id):
    return (
        Child.unaudited.get(pk=child_id).status,
        ChildName.unaudited.filter(child_id=child_id).count(),
        Address.unaudited.filter(child_id=child_id).count(),
        Carer.unaudited.filter(child_id=child_id).count(),
        Involvement.unaudited.filter(child_id=child_id).count(),
        set(
            BlindIndexEntry.objects.filter(child_id=child_id).values_list(
                "index", "value"
            )
        ),
    )


def test_a_merge_moves_everything_and_undoing_it_restores_both(data_manager, school):
    survivor, merged = _pair(school)
    before = (_snapshot(survivor), _snapshot(merged))

    record = children_merge(
        actor=data_manager,
        survivor_id=survivor,
        merged_id=merged,
        reason="Same child: school and health visiting records",
    )

    assert Child.unaudited.get(pk=merged).status == ChildStatus.MERGED
    assert Child.unaudited.get(pk=merged).merged_into_id == survivor
    assert not BlindIndexEntry.objects.filter(child_id=merged).exists()
    assert ChildName.unaudited.filter(child_id=survivor, kind="alias").count() == 1
    assert Involvement.unaudited.filter(child_id=survivor).count() == 1
    # The merged record's other name now finds the survivor.
    practitioner = verified_actor((Role.PRACTITIONER, school))
    found = child_search(
        actor=practitioner,
        query=SearchQuery(family_name="Kouao", date_of_birth=dt.date(2015, 11, 2)),
        today=TODAY,
    )
    assert [r.child_id for r in found.results] == [survivor]

    merge_undo(actor=data_manager, merge_id=record.id)

    assert (_snapshot(survivor), _snapshot(merged)) == before
    assert Involvement.unaudited.get(child_id=merged).is_lead_professional
    actions = list(
        AccessEvent.objects.filter(
            action__in=[AccessAction.CHILD_MERGE, AccessAction.CHILD_SPLIT]
        ).values_list("action", "outcome")
    )
    assert actions == [("child_merge", "allowed"), ("child_split", "allowed")]


def test_different_identifiers_or_dates_of_birth_are_refused(data_manager, school):
    first, second = child_records_create(
        children=[
            NewChildFactory.build(),
            NewChildFactory.build(nhs_number="401 023 2137"),
        ],
        source=FEED_SOURCE,
        today=TODAY,
    )
    with pytest.raises(MergeRefused) as refused:
        children_merge(
            actor=data_manager, survivor_id=first.id, merged_id=second.id, reason="x"
        )
    assert refused.value.code == "identifier_conflict"
    third = child_records_create(
        children=[
            NewChildFactory.build(nhs_number=None, date_of_birth=dt.date(2016, 1, 1))
        ],
        source=FEED_SOURCE,
        today=TODAY,
    )[0]
    with pytest.raises(MergeRefused) as refused:
        children_merge(
            actor=data_manager, survivor_id=first.id, merged_id=third.id, reason="x"
        )
    assert refused.value.code == "date_of_birth_conflict"
    assert Child.unaudited.filter(status=ChildStatus.ACTIVE).count() == 3


def test_only_data_managers_merge_and_refusals_are_audited(school):
    survivor, merged = _pair(school)
    practitioner = verified_actor((Role.PRACTITIONER, school))
    with pytest.raises(MergeRefused):
        children_merge(
            actor=practitioner, survivor_id=survivor, merged_id=merged, reason="x"
        )
    event = AccessEvent.objects.get(action=AccessAction.CHILD_MERGE)
    assert (event.outcome, event.reason) == ("denied", "role_not_permitted")
    assert Child.unaudited.get(pk=merged).status == ChildStatus.ACTIVE


def test_a_merge_cannot_be_undone_twice(data_manager, school):
    survivor, merged = _pair(school)
    record = children_merge(
        actor=data_manager, survivor_id=survivor, merged_id=merged, reason="x"
    )
    merge_undo(actor=data_manager, merge_id=record.id)
    with pytest.raises(MergeRefused):
        merge_undo(actor=data_manager, merge_id=record.id)


def test_a_restricted_record_is_never_merged_into_an_open_one(data_manager, school):
    open_record, restricted = child_records_create(
        children=[
            NewChildFactory.build(),
            NewChildFactory.build(
                nhs_number=None,
                shielded=True,
                responsible_authority_id=school.parent_authority_id,
            ),
        ],
        source=FEED_SOURCE,
        today=TODAY,
    )
    with pytest.raises(MergeRefused) as refused:
        children_merge(
            actor=data_manager,
            survivor_id=open_record.id,
            merged_id=restricted.id,
            reason="x",
        )
    assert refused.value.code == "shielded_mismatch"


def test_undo_keeps_what_the_survivor_gained_since(data_manager, school):
    from directory.records import ChildChanges
    from directory.services.feed_changes import child_changes_apply

    survivor, merged = _pair(school)
    record = children_merge(
        actor=data_manager, survivor_id=survivor, merged_id=merged, reason="x"
    )
    # A feed moves the child after the merge.
    child_changes_apply(
        [
            ChildChanges(
                child_id=survivor,
                new_address=NewAddressFactory.build(postcode="B1 1AA"),
            )
        ],
        source=FEED_SOURCE,
        today=TODAY,
    )
    merge_undo(actor=data_manager, merge_id=record.id)

    practitioner = verified_actor((Role.PRACTITIONER, school))
    found = child_search(
        actor=practitioner,
        query=SearchQuery(family_name="Climbié", postcode="B1 1AA"),
        today=TODAY,
    )
    assert [r.child_id for r in found.results] == [survivor]
    assert not Address.unaudited.filter(child_id=survivor, postcode__isnull=True)


def test_undo_refused_once_the_survivor_is_merged_away(data_manager, school):
    survivor, merged = _pair(school)
    third = child_records_create(
        children=[NewChildFactory.build(nhs_number=None, names=(NewName("V", "C"),))],
        source=FEED_SOURCE,
        today=TODAY,
    )[0]
    first = children_merge(
        actor=data_manager, survivor_id=survivor, merged_id=merged, reason="x"
    )
    children_merge(
        actor=data_manager, survivor_id=third.id, merged_id=survivor, reason="x"
    )
    with pytest.raises(MergeRefused) as refused:
        merge_undo(actor=data_manager, merge_id=first.id)
    assert refused.value.code == "not_undoable"
