"""Recording and ending one's own involvement: who may, what is checked, the audit."""

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError

from accounts.actors import actor_for_user
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user, verified_actor
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from audit.models import AccessEvent
from directory.models import Involvement, Provenance
from directory.records import NewInvolvement
from directory.selectors import child_record_get
from directory.services.child_records import child_records_create
from directory.services.involvements import (
    InvolvementRefused,
    involvement_end,
    involvement_organisations,
    involvement_record,
    lead_professional_allowed,
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


@pytest.fixture
def teacher(school):
    return verified_actor((Role.PRACTITIONER, school))


def _child(**kwargs):
    return child_records_create(
        children=[NewChildFactory.build(**kwargs)], source=FEED_SOURCE, today=TODAY
    )[0]


def _record(who, child_id, **overrides):
    arguments = {
        "actor": who,
        "child_id": child_id,
        "service_type": "education",
        "practitioner_role": "Class teacher",
        "started_on": dt.date(2025, 9, 3),
        "phone": "01632 960 001",
        "email": "teacher@hilltop.example.org",
        "lead_professional": False,
        "today": TODAY,
        **overrides,
    }
    return involvement_record(**arguments)


def _events():
    return list(
        AccessEvent.objects.order_by("seq").values_list("action", "outcome", "reason")
    )


def test_a_practitioner_records_their_involvement_audited_first(teacher, school):
    child = _child()

    involvement_id = _record(teacher, child.id, lead_professional=True)

    involvement = Involvement.unaudited.get(pk=involvement_id)
    assert (
        involvement.child_id,
        involvement.organisation_id,
        involvement.practitioner_id,
        involvement.practitioner_role,
        involvement.is_lead_professional,
        involvement.sensitive,
        involvement.source,
        involvement.source_reference,
    ) == (
        child.id,
        school.pk,
        teacher.user_id,
        "Class teacher",
        True,
        False,
        "person",
        str(teacher.user_id),
    )
    assert _events() == [("create", "allowed", "involvement_recorded")]
    assert AccessEvent.objects.get().child_id == child.id
    assert Provenance.objects.filter(
        record_type="involvement", record_id=involvement_id
    ).exists()


def test_recording_gives_a_legitimate_relationship(school):
    user = make_user(username="pat.teacher", first_name="Pat", last_name="Teacher")
    grant(user, school, Role.PRACTITIONER)
    teacher = actor_for_user(user, second_factor_verified=True)
    child = _child()
    _record(teacher, child.id)

    record = child_record_get(actor=teacher, child_id=child.id, purpose=None)

    (shown,) = record.involvements
    assert (shown.practitioner_name, shown.phone) == ("Pat Teacher", "01632 960 001")


def test_sensitive_services_are_marked_sensitive(authority):
    clinic = SchoolFactory(kind="nhs_trust", code="RQ3", parent_authority=authority)
    nurse = verified_actor((Role.PRACTITIONER, clinic))
    child = _child()

    involvement_id = _record(nurse, child.id, service_type="sexual_health")

    assert Involvement.unaudited.get(pk=involvement_id).sensitive


@pytest.mark.parametrize(
    ("role", "reason"),
    [
        (Role.DATA_MANAGER, "role_not_permitted"),
        (Role.SHIELDING_OFFICER, "role_not_permitted"),
        (Role.ADMINISTRATOR, "role_not_permitted"),
    ],
)
def test_only_practitioners_record_and_refusals_are_audited(school, role, reason):
    child = _child()
    who = verified_actor((role, school))

    with pytest.raises(InvolvementRefused) as refused:
        _record(who, child.id)

    assert refused.value.code == reason
    assert not Involvement.unaudited.exists()
    assert _events() == [("create", "denied", reason)]


def test_a_practitioner_records_only_for_their_own_organisation(teacher, authority):
    elsewhere = SchoolFactory(parent_authority=authority)
    child = _child()

    with pytest.raises(InvolvementRefused) as refused:
        _record(teacher, child.id, organisation_id=elsewhere.pk)

    assert refused.value.code == "not_own_organisation"
    assert _events() == [("create", "denied", "not_own_organisation")]


def test_a_practitioner_at_two_organisations_says_which(school, authority):
    clinic = SchoolFactory(kind="nhs_trust", code="RQ4", parent_authority=authority)
    both = verified_actor((Role.PRACTITIONER, school), (Role.PRACTITIONER, clinic))
    child = _child()

    with pytest.raises(ValidationError) as invalid:
        _record(both, child.id)
    involvement_id = _record(both, child.id, organisation_id=clinic.pk)

    assert "organisation_id" in invalid.value.message_dict
    assert Involvement.unaudited.get(pk=involvement_id).organisation_id == clinic.pk
    assert {c.name for c in involvement_organisations(actor=both)} == {
        school.name,
        clinic.name,
    }


def test_missing_and_shielded_children_are_refused_alike(teacher, authority):
    shielded = _child(shielded=True, responsible_authority_id=authority.pk)

    for child_id in (shielded.id, uuid.uuid4()):
        with pytest.raises(InvolvementRefused) as refused:
            _record(teacher, child_id)
        assert refused.value.unavailable

    assert not Involvement.unaudited.exists()
    assert _events() == [
        ("create", "denied", "record_shielded"),
        ("create", "denied", "not_found"),
    ]


def test_lead_professional_only_for_services_that_can_hold_it(teacher):
    child = _child()

    with pytest.raises(ValidationError) as invalid:
        _record(teacher, child.id, service_type="police", lead_professional=True)

    assert "lead_professional" in invalid.value.message_dict
    assert lead_professional_allowed("early_help")
    assert not lead_professional_allowed("sexual_health")
    assert _events() == []


def test_a_child_has_one_current_lead_professional(teacher, school):
    child = _child(
        involvements=(
            NewInvolvement(
                school.pk, "social_care", dt.date(2025, 1, 6), is_lead_professional=True
            ),
        )
    )

    with pytest.raises(ValidationError) as invalid:
        _record(teacher, child.id, lead_professional=True)

    assert invalid.value.message_dict["lead_professional"][0].startswith(
        "This child already has a lead professional"
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"started_on": dt.date(2026, 3, 3)}, "started_on"),
        ({"service_type": "astrology"}, "service_type"),
        ({"email": "not an email"}, "email"),
    ],
)
def test_impossible_input_is_refused_by_field(teacher, overrides, field):
    child = _child()

    with pytest.raises(ValidationError) as invalid:
        _record(teacher, child.id, **overrides)

    assert field in invalid.value.message_dict
    assert not Involvement.unaudited.exists()


# Ending ---------------------------------------------------------------------


def test_a_practitioner_ends_their_organisations_involvement(teacher):
    child = _child()
    involvement_id = _record(teacher, child.id, lead_professional=True)

    child_id = involvement_end(
        actor=teacher,
        involvement_id=involvement_id,
        ended_on=TODAY,
        child_id=child.id,
        today=TODAY,
    )

    assert child_id == child.id
    assert Involvement.unaudited.get(pk=involvement_id).ended_on == TODAY
    assert _events()[-1] == ("update", "allowed", "involvement_ended")
    # The lead professional's place is free again.
    _record(teacher, child.id, lead_professional=True)


def test_another_organisations_involvement_cannot_be_ended(teacher, authority):
    other = SchoolFactory(parent_authority=authority)
    child = _child(
        involvements=(NewInvolvement(other.pk, "education", dt.date(2025, 1, 6)),)
    )
    involvement = Involvement.unaudited.get(child_id=child.id)

    with pytest.raises(InvolvementRefused) as refused:
        involvement_end(
            actor=teacher, involvement_id=involvement.pk, ended_on=TODAY, today=TODAY
        )

    assert (refused.value.code, refused.value.unavailable) == (
        "not_own_organisation",
        True,
    )
    assert Involvement.unaudited.get(pk=involvement.pk).ended_on is None
    assert _events() == [("update", "denied", "not_own_organisation")]


def test_an_involvement_of_another_child_is_not_found(teacher):
    child, other_child = _child(), _child()
    involvement_id = _record(teacher, child.id)

    with pytest.raises(InvolvementRefused) as refused:
        involvement_end(
            actor=teacher,
            involvement_id=involvement_id,
            ended_on=TODAY,
            child_id=other_child.id,
            today=TODAY,
        )

    assert refused.value.code == "not_found"


@pytest.mark.parametrize(
    "ended_on", [dt.date(2026, 3, 3), dt.date(2025, 9, 2)], ids=["future", "early"]
)
def test_impossible_end_dates_are_refused(teacher, ended_on):
    child = _child()
    involvement_id = _record(teacher, child.id)

    with pytest.raises(ValidationError) as invalid:
        involvement_end(
            actor=teacher, involvement_id=involvement_id, ended_on=ended_on, today=TODAY
        )

    assert "ended_on" in invalid.value.message_dict
    assert Involvement.unaudited.get(pk=involvement_id).ended_on is None


def test_an_ended_involvement_cannot_be_ended_again(teacher):
    child = _child()
    involvement_id = _record(teacher, child.id)
    involvement_end(
        actor=teacher, involvement_id=involvement_id, ended_on=TODAY, today=TODAY
    )

    with pytest.raises(ValidationError):
        involvement_end(
            actor=teacher, involvement_id=involvement_id, ended_on=TODAY, today=TODAY
        )


def test_a_failed_change_is_recorded_as_not_completed(teacher, monkeypatch):
    child = _child()

    def broken_save(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Involvement, "save", broken_save)
    with pytest.raises(RuntimeError):
        _record(teacher, child.id)

    assert _events() == [
        ("create", "allowed", "involvement_recorded"),
        ("create", "denied", "not_completed"),
    ]


def test_the_access_log_does_not_name_a_sensitive_service(authority):
    clinic = SchoolFactory(kind="nhs_trust", code="RQ5", parent_authority=authority)
    nurse = verified_actor((Role.PRACTITIONER, clinic))
    child = _child()

    involvement_id = _record(nurse, child.id, service_type="sexual_health")
    involvement_end(
        actor=nurse, involvement_id=involvement_id, ended_on=TODAY, today=TODAY
    )

    details = list(AccessEvent.objects.order_by("seq").values_list("detail", flat=True))
    assert details == [
        "Recorded a sensitive involvement.",
        "Ended a sensitive involvement.",
    ]
