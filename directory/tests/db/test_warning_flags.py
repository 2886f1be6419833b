"""Raising and ending warning flags: who may, what is checked, the audit."""

import datetime as dt
import uuid

import pytest
import time_machine
from django.core.exceptions import ValidationError

from accounts.roles import Role
from accounts.tests.admin_world import verified_actor
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from audit.models import AccessEvent
from directory.models import Provenance, WarningFlag
from directory.policies import Purpose
from directory.selectors import child_record_get
from directory.services.child_records import child_records_create
from directory.services.flags import (
    WarningFlagRefused,
    warning_flag_end,
    warning_flag_raise,
)
from directory.tests.factories import FEED_SOURCE, NewChildFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


@pytest.fixture
def authority():
    return LocalAuthorityFactory(name="Northshire Council")


@pytest.fixture
def school(authority):
    return SchoolFactory(name="Hilltop Primary", parent_authority=authority)


def _child(**kwargs):
    return child_records_create(
        children=[NewChildFactory.build(**kwargs)], source=FEED_SOURCE, today=TODAY
    )[0]


def _raise(who, child_id, **overrides):
    arguments = {
        "actor": who,
        "child_id": child_id,
        "kind": "child_protection_plan",
        "contact_name": "Northshire duty team",
        "contact_phone": "01632 960 300",
        "starts_on": dt.date(2026, 1, 5),
        "today": TODAY,
        **overrides,
    }
    return warning_flag_raise(**arguments)


def _events():
    return list(
        AccessEvent.objects.order_by("seq").values_list("action", "outcome", "reason")
    )


def test_a_raised_flag_shows_on_the_record_with_its_provenance(authority):
    social_worker = verified_actor((Role.PRACTITIONER, authority))
    child = _child()

    flag_id = _raise(social_worker, child.id, contact_email="duty@north.example.org")

    flag = WarningFlag.unaudited.get(pk=flag_id)
    assert (flag.owning_organisation_id, flag.raised_by_id) == (
        authority.pk,
        social_worker.user_id,
    )
    assert _events() == [("create", "allowed", "warning_flag_raised")]
    assert Provenance.objects.filter(
        record_type="warning_flag", record_id=flag_id, field="*", source="person"
    ).exists()
    record = child_record_get(
        actor=social_worker, child_id=child.id, purpose=Purpose.PROVIDING_SERVICE
    )
    assert [f.id for f in record.warning_flags] == [flag_id]


def test_a_data_manager_raises_flags_for_their_authority(authority):
    manager = verified_actor((Role.DATA_MANAGER, authority))

    assert _raise(manager, _child().id)


def test_someone_at_two_organisations_must_say_which_owns_the_flag(authority, school):
    both = verified_actor((Role.PRACTITIONER, authority), (Role.DATA_MANAGER, school))
    child = _child()

    with pytest.raises(ValidationError) as error:
        _raise(both, child.id)
    flag_id = _raise(both, child.id, owning_organisation_id=school.pk)

    assert list(error.value.message_dict) == ["owning_organisation_id"]
    assert WarningFlag.unaudited.get(pk=flag_id).owning_organisation_id == school.pk


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "rumour"}, "kind"),
        ({"starts_on": dt.date(2026, 3, 3)}, "starts_on"),
        ({"ends_on": dt.date(2025, 12, 31)}, "ends_on"),
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"contact_name": "   "}, "contact_name"),
    ],
)
def test_input_that_cannot_be_recorded_is_refused_unaudited(
    authority, overrides, field
):
    social_worker = verified_actor((Role.PRACTITIONER, authority))

    with pytest.raises(ValidationError) as error:
        _raise(social_worker, _child().id, **overrides)

    assert field in error.value.message_dict
    assert not WarningFlag.unaudited.exists()
    assert _events() == []


def test_a_current_flag_of_the_same_kind_and_organisation_is_not_doubled(authority):
    social_worker = verified_actor((Role.PRACTITIONER, authority))
    child = _child()
    _raise(social_worker, child.id, ends_on=dt.date(2026, 6, 1))

    with pytest.raises(ValidationError) as error:
        _raise(social_worker, child.id)
    other_kind = _raise(social_worker, child.id, kind="child_in_need")

    assert list(error.value.message_dict) == ["kind"]
    assert other_kind


@pytest.mark.parametrize(
    ("role", "reason"),
    [
        (Role.AUDITOR, "role_not_permitted"),
        (Role.SHIELDING_OFFICER, "role_not_permitted"),
    ],
)
def test_other_roles_are_refused_and_the_refusal_is_audited(authority, role, reason):
    with pytest.raises(WarningFlagRefused) as refused:
        _raise(verified_actor((role, authority)), _child().id)

    assert (refused.value.code, refused.value.unavailable) == (reason, False)
    assert _events() == [("create", "denied", reason)]


def test_a_shielded_child_elsewhere_looks_missing(authority, school):
    other = LocalAuthorityFactory(name="Southshire Council")
    shielded = _child(shielded=True, responsible_authority_id=other.pk)

    with pytest.raises(WarningFlagRefused) as refused:
        _raise(verified_actor((Role.PRACTITIONER, school)), shielded.id)
    own_authoritys = _raise(verified_actor((Role.DATA_MANAGER, other)), shielded.id)

    assert (refused.value.code, refused.value.unavailable) == ("record_shielded", True)
    assert own_authoritys


def test_a_missing_child_looks_like_a_forbidden_one(authority):
    with pytest.raises(WarningFlagRefused) as refused:
        _raise(verified_actor((Role.PRACTITIONER, authority)), uuid.uuid4())

    assert (refused.value.code, refused.value.unavailable) == ("not_found", True)


def test_the_owning_organisation_ends_a_flag_once(authority):
    social_worker = verified_actor((Role.PRACTITIONER, authority))
    colleague = verified_actor((Role.DATA_MANAGER, authority))
    child = _child()
    flag_id = _raise(social_worker, child.id)

    ended_child = warning_flag_end(
        actor=colleague, flag_id=flag_id, ended_on=dt.date(2026, 2, 27), today=TODAY
    )
    with pytest.raises(ValidationError) as again:
        warning_flag_end(actor=colleague, flag_id=flag_id, ended_on=TODAY, today=TODAY)

    assert ended_child == child.id
    assert WarningFlag.unaudited.get(pk=flag_id).ends_on == dt.date(2026, 2, 27)
    assert again.value.message_dict == {"ended_on": ["This flag has already ended"]}
    assert _events()[-1] == ("update", "allowed", "warning_flag_ended")
    with time_machine.travel(dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)):
        record = child_record_get(
            actor=colleague, child_id=child.id, purpose=Purpose.DATA_MANAGEMENT
        )
    assert record.warning_flags == ()


def test_a_flag_with_a_future_end_date_can_be_ended_now(authority):
    social_worker = verified_actor((Role.PRACTITIONER, authority))
    flag_id = _raise(social_worker, _child().id, ends_on=dt.date(2026, 12, 31))

    warning_flag_end(actor=social_worker, flag_id=flag_id, ended_on=TODAY, today=TODAY)

    assert WarningFlag.unaudited.get(pk=flag_id).ends_on == TODAY


@pytest.mark.parametrize(
    ("ended_on", "message"),
    [
        (dt.date(2026, 3, 3), "The end date must be today or in the past"),
        (
            dt.date(2026, 1, 4),
            "The end date must be the same as or after the date it started "
            "(5 January 2026)",
        ),
    ],
)
def test_impossible_end_dates_are_refused(authority, ended_on, message):
    social_worker = verified_actor((Role.PRACTITIONER, authority))
    flag_id = _raise(social_worker, _child().id)

    with pytest.raises(ValidationError) as error:
        warning_flag_end(
            actor=social_worker, flag_id=flag_id, ended_on=ended_on, today=TODAY
        )

    assert error.value.message_dict == {"ended_on": [message]}


def test_another_organisations_flag_looks_missing_and_is_audited(authority, school):
    flag_id = _raise(verified_actor((Role.PRACTITIONER, authority)), _child().id)

    with pytest.raises(WarningFlagRefused) as refused:
        warning_flag_end(
            actor=verified_actor((Role.PRACTITIONER, school)),
            flag_id=flag_id,
            ended_on=TODAY,
            today=TODAY,
        )

    assert (refused.value.code, refused.value.unavailable) == (
        "not_own_organisation",
        True,
    )
    assert _events()[-1] == ("update", "denied", "not_own_organisation")
    assert WarningFlag.unaudited.get(pk=flag_id).ends_on is None
