"""Consent to share a sensitive involvement: who may record and withdraw it,
what the audit says, and what other practitioners then see (service and pages)."""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import cast

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.actors import Actor, actor_for_user
from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from accounts.tests.second_factors import verified_session_key
from audit.models import AccessEvent
from directory.models import Consent, Involvement, Provenance
from directory.policies import Purpose
from directory.records import NewInvolvement
from directory.selectors import child_record_get
from directory.services.child_records import child_records_create
from directory.services.consents import (
    ConsentRefused,
    consent_record,
    consent_withdraw,
)
from directory.tests.factories import FEED_SOURCE, NewChildFactory

pytestmark = pytest.mark.django_db

STARTED = dt.date(2025, 9, 1)
NOT_SHOWN = "1 involvement is not shown because it is sensitive"


@dataclass
class World:
    authority: Organisation
    school: Organisation
    clinic: Organisation
    teacher_user: User
    nurse_user: User
    teacher: Actor
    nurse: Actor


@pytest.fixture
def world() -> World:
    authority = cast(Organisation, LocalAuthorityFactory(name="Northshire Council"))
    school = cast(
        Organisation, SchoolFactory(name="Hilltop Primary", parent_authority=authority)
    )
    clinic = cast(
        Organisation,
        SchoolFactory(
            name="Riverside Sexual Health Clinic",
            kind="nhs_trust",
            code="RQ9",
            parent_authority=authority,
        ),
    )
    teacher = make_user(username="pat.teacher", first_name="Pat", last_name="Teacher")
    grant(teacher, school, Role.PRACTITIONER)
    nurse = make_user(username="jo.nurse", first_name="Jo", last_name="Nurse")
    grant(nurse, clinic, Role.PRACTITIONER)
    return World(
        authority=authority,
        school=school,
        clinic=clinic,
        teacher_user=teacher,
        nurse_user=nurse,
        teacher=actor_for_user(teacher, second_factor_verified=True),
        nurse=actor_for_user(nurse, second_factor_verified=True),
    )


def _child(*involvements: NewInvolvement):
    return child_records_create(
        children=[NewChildFactory.build(involvements=involvements)],
        source=FEED_SOURCE,
    )[0]


def _sensitive_child(world: World, **kwargs):
    """A child with a sexual-health involvement at the clinic; returns
    (child, involvement id)."""
    child = _child(
        NewInvolvement(
            world.clinic.pk,
            "sexual_health",
            STARTED,
            practitioner_name="Jo Nurse",
            phone="020 7946 0777",
            **kwargs,
        )
    )
    return child, Involvement.unaudited.get(child_id=child.id).pk


def _events():
    return list(
        AccessEvent.objects.exclude(action="view")
        .order_by("seq")
        .values_list("action", "outcome", "reason")
    )


def _seen_by(who: Actor, child_id):
    return child_record_get(
        actor=who, child_id=child_id, purpose=Purpose.PROVIDING_SERVICE
    )


# The service --------------------------------------------------------------------


def test_the_provider_records_consent_and_other_organisations_then_see_it(world):
    child, involvement_id = _sensitive_child(world)
    assert _seen_by(world.teacher, child.id).hidden_involvements == 1

    consent_id = consent_record(
        actor=world.nurse,
        child_id=child.id,
        involvement_id=involvement_id,
        given_by=Consent.GivenBy.YOUNG_PERSON,
    )

    consent = Consent.unaudited.get()
    assert (
        consent.id,
        consent.involvement_id,
        consent.given_by,
        consent.scope,
        consent.recorded_by_id,
        consent.withdrawn_at,
    ) == (
        consent_id,
        involvement_id,
        "young_person",
        "All practitioners using the directory",
        world.nurse_user.pk,
        None,
    )
    assert _events() == [("create", "allowed", "consent_recorded")]
    assert AccessEvent.objects.get(action="create").child_id == child.id
    assert Provenance.objects.filter(
        record_type="consent", record_id=consent_id
    ).exists()
    record = _seen_by(world.teacher, child.id)
    (shown,) = record.involvements
    assert (shown.id, shown.practitioner_name, record.hidden_involvements) == (
        involvement_id,
        "Jo Nurse",
        0,
    )
    assert shown.consent is not None
    assert shown.consent.given_by == "young_person"


def test_withdrawing_consent_hides_the_involvement_again(world):
    child, involvement_id = _sensitive_child(world, consent_given_by="parent")
    consent = Consent.unaudited.get()
    assert len(_seen_by(world.teacher, child.id).involvements) == 1

    returned = consent_withdraw(
        actor=world.nurse, child_id=child.id, consent_id=consent.pk
    )

    assert returned == involvement_id
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert _events() == [("update", "allowed", "consent_withdrawn")]
    record = _seen_by(world.teacher, child.id)
    assert (record.involvements, record.hidden_involvements) == ((), 1)
    # The provider still sees it, now without consent.
    (own,) = _seen_by(world.nurse, child.id).involvements
    assert own.consent is None


def test_consent_can_be_recorded_again_after_withdrawal(world):
    child, involvement_id = _sensitive_child(world, consent_given_by="parent")
    consent_withdraw(
        actor=world.nurse, child_id=child.id, consent_id=Consent.unaudited.get().pk
    )

    consent_record(
        actor=world.nurse,
        child_id=child.id,
        involvement_id=involvement_id,
        given_by="young_person",
    )

    assert Consent.unaudited.filter(withdrawn_at__isnull=True).count() == 1
    assert len(_seen_by(world.teacher, child.id).involvements) == 1


def test_another_organisation_cannot_record_consent_and_it_looks_missing(world):
    child, involvement_id = _sensitive_child(world)

    with pytest.raises(ConsentRefused) as refused:
        consent_record(
            actor=world.teacher,
            child_id=child.id,
            involvement_id=involvement_id,
            given_by="young_person",
        )

    assert (refused.value.code, refused.value.unavailable) == (
        "not_providing_organisation",
        True,
    )
    assert not Consent.unaudited.exists()
    assert _events() == [("create", "denied", "not_providing_organisation")]


@pytest.mark.parametrize(
    "role", [Role.DATA_MANAGER, Role.SHIELDING_OFFICER, Role.ADMINISTRATOR]
)
def test_only_practitioners_at_the_provider_change_consent(world, role):
    child, involvement_id = _sensitive_child(world)
    user = make_user()
    grant(user, world.clinic, role)
    who = actor_for_user(user, second_factor_verified=True)

    with pytest.raises(ConsentRefused) as refused:
        consent_record(
            actor=who,
            child_id=child.id,
            involvement_id=involvement_id,
            given_by="young_person",
        )

    assert refused.value.code == "role_not_permitted"
    assert _events() == [("create", "denied", "role_not_permitted")]


def test_consent_is_only_for_sensitive_involvements(world):
    child = _child(NewInvolvement(world.school.pk, "education", STARTED))
    involvement = Involvement.unaudited.get(child_id=child.id)

    with pytest.raises(ConsentRefused) as refused:
        consent_record(
            actor=world.teacher,
            child_id=child.id,
            involvement_id=involvement.pk,
            given_by="young_person",
        )

    assert refused.value.code == "involvement_not_sensitive"
    assert not Consent.unaudited.exists()


def test_missing_ended_and_other_childrens_involvements_are_not_found(world):
    child, involvement_id = _sensitive_child(world)
    other_child = _child()
    ended, ended_id = _sensitive_child(world, ended_on=dt.date(2025, 10, 1))

    for child_id, wanted in (
        (child.id, uuid.uuid4()),
        (other_child.id, involvement_id),
        (ended.id, ended_id),
    ):
        with pytest.raises(ConsentRefused) as refused:
            consent_record(
                actor=world.nurse,
                child_id=child_id,
                involvement_id=wanted,
                given_by="young_person",
            )
        assert (refused.value.code, refused.value.unavailable) == ("not_found", True)

    assert not Consent.unaudited.exists()
    assert _events() == [("create", "denied", "not_found")] * 3


def test_a_second_current_consent_is_refused(world):
    child, involvement_id = _sensitive_child(world, consent_given_by="young_person")

    with pytest.raises(ValidationError) as invalid:
        consent_record(
            actor=world.nurse,
            child_id=child.id,
            involvement_id=involvement_id,
            given_by="parent",
        )

    assert invalid.value.message_dict == {
        "given_by": ["Consent to share this involvement is already recorded"]
    }
    assert Consent.unaudited.count() == 1
    assert _events() == []


def test_an_unknown_giver_is_refused_by_field(world):
    child, involvement_id = _sensitive_child(world)

    with pytest.raises(ValidationError) as invalid:
        consent_record(
            actor=world.nurse,
            child_id=child.id,
            involvement_id=involvement_id,
            given_by="the_neighbour",
        )

    assert "given_by" in invalid.value.message_dict
    assert not Consent.unaudited.exists()
    assert _events() == []


def test_another_organisation_cannot_withdraw_consent(world):
    child, _involvement_id = _sensitive_child(world, consent_given_by="parent")
    consent = Consent.unaudited.get()

    with pytest.raises(ConsentRefused) as refused:
        consent_withdraw(actor=world.teacher, child_id=child.id, consent_id=consent.pk)

    assert (refused.value.code, refused.value.unavailable) == (
        "not_providing_organisation",
        True,
    )
    consent.refresh_from_db()
    assert consent.withdrawn_at is None
    assert _events() == [("update", "denied", "not_providing_organisation")]


def test_a_withdrawn_or_other_childs_consent_is_not_found(world):
    child, _involvement_id = _sensitive_child(world, consent_given_by="parent")
    other_child = _child()
    consent = Consent.unaudited.get()
    consent_withdraw(actor=world.nurse, child_id=child.id, consent_id=consent.pk)

    for child_id in (child.id, other_child.id):
        with pytest.raises(ConsentRefused) as refused:
            consent_withdraw(
                actor=world.nurse, child_id=child_id, consent_id=consent.pk
            )
        assert refused.value.code == "not_found"

    assert _events()[1:] == [("update", "denied", "not_found")] * 2


def test_a_failed_change_is_recorded_as_not_completed(world, monkeypatch):
    child, involvement_id = _sensitive_child(world)

    def broken_save(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Consent, "save", broken_save)
    with pytest.raises(RuntimeError):
        consent_record(
            actor=world.nurse,
            child_id=child.id,
            involvement_id=involvement_id,
            given_by="young_person",
        )

    assert _events() == [
        ("create", "allowed", "consent_recorded"),
        ("create", "denied", "not_completed"),
    ]
    assert not Consent.unaudited.exists()


def test_the_access_log_does_not_name_the_service_or_its_organisation(world):
    child, involvement_id = _sensitive_child(world)
    consent_id = consent_record(
        actor=world.nurse,
        child_id=child.id,
        involvement_id=involvement_id,
        given_by="young_person",
    )
    consent_withdraw(actor=world.nurse, child_id=child.id, consent_id=consent_id)
    with pytest.raises(ConsentRefused):
        consent_record(
            actor=world.teacher,
            child_id=child.id,
            involvement_id=involvement_id,
            given_by="parent",
        )

    details = list(
        AccessEvent.objects.exclude(action="view")
        .order_by("seq")
        .values_list("detail", flat=True)
    )
    assert details == [
        "Recorded consent, given by the young person, to share a sensitive "
        "involvement.",
        "Withdrew consent to share a sensitive involvement.",
        "Refused: Only a practitioner at the providing organisation can record "
        "consent to share a sensitive involvement.",
    ]
    for detail in details:
        assert "sexual" not in detail.lower()
        assert "Riverside" not in detail


# The pages ----------------------------------------------------------------------


def _client(user: User) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(user)
    return client


def _opened(user: User, child_id) -> Client:
    """A client of ``user`` who has stated a purpose for the child's record."""
    client = _client(user)
    response = client.post(
        reverse("directory:record", args=[child_id]),
        {"purpose": "providing_service"},
    )
    assert response.status_code == 200
    return client


def _text(response) -> str:
    return " ".join(response.content.decode().split())


def test_the_provider_records_consent_from_the_record_page(world):
    child, involvement_id = _sensitive_child(world)
    record_url = reverse("directory:record", args=[child.id])
    consent_url = reverse("directory:consent-new", args=[child.id, involvement_id])
    nurse = _opened(world.nurse_user, child.id)
    teacher = _opened(world.teacher_user, child.id)
    before = _text(teacher.get(record_url))
    assert NOT_SHOWN in before
    assert "Riverside" not in before
    assert "consent/new" not in before

    page = _text(nurse.get(record_url))
    assert f'href="{consent_url}">Record consent to share' in page
    assert "Not recorded. Only practitioners at Riverside" in page
    assert "Record consent to share" in _text(nurse.get(consent_url))
    response = nurse.post(consent_url, {"given_by": "young_person"})

    assert response.status_code == 302
    assert response["Location"] == record_url
    after_for_nurse = _text(nurse.get(record_url))
    assert "Consent to share has been recorded" in after_for_nurse
    assert "Given by the young person on" in after_for_nurse
    assert "Withdraw consent" in after_for_nurse
    after = _text(teacher.get(record_url))
    assert NOT_SHOWN not in after
    assert "Riverside Sexual Health Clinic" in after
    assert "Withdraw consent" not in after


def test_choosing_nobody_is_an_error(world):
    child, involvement_id = _sensitive_child(world)
    nurse = _opened(world.nurse_user, child.id)

    response = nurse.post(
        reverse("directory:consent-new", args=[child.id, involvement_id]), {}
    )

    text = _text(response)
    assert "<title>Error: Record consent to share" in text
    assert 'href="#id_given_by">Select who gave consent' in text
    assert not Consent.unaudited.exists()


def test_another_organisation_gets_not_found_for_the_consent_pages(world):
    child, involvement_id = _sensitive_child(world, consent_given_by="parent")
    consent = Consent.unaudited.get()
    teacher = _opened(world.teacher_user, child.id)
    new_url = reverse("directory:consent-new", args=[child.id, involvement_id])
    withdraw_url = reverse("directory:consent-withdraw", args=[child.id, consent.pk])

    assert teacher.get(new_url).status_code == 404
    assert teacher.get(withdraw_url).status_code == 404
    assert teacher.post(new_url, {"given_by": "young_person"}).status_code == 404
    assert teacher.post(withdraw_url).status_code == 404
    consent.refresh_from_db()
    assert consent.withdrawn_at is None
    assert Consent.unaudited.count() == 1


def test_the_consent_page_asks_for_a_purpose_first(world):
    child, involvement_id = _sensitive_child(world)
    nurse = _client(world.nurse_user)

    response = nurse.get(
        reverse("directory:consent-new", args=[child.id, involvement_id])
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("directory:record", args=[child.id])


def test_the_provider_withdraws_consent(world):
    child, _involvement_id = _sensitive_child(world, consent_given_by="parent")
    consent = Consent.unaudited.get()
    record_url = reverse("directory:record", args=[child.id])
    withdraw_url = reverse("directory:consent-withdraw", args=[child.id, consent.pk])
    nurse = _opened(world.nurse_user, child.id)
    teacher = _opened(world.teacher_user, child.id)
    assert "Riverside Sexual Health Clinic" in _text(teacher.get(record_url))
    assert f'href="{withdraw_url}">Withdraw consent' in _text(nurse.get(record_url))

    page = _text(nurse.get(withdraw_url))
    assert "Given by a person with parental responsibility on" in page
    response = nurse.post(withdraw_url)

    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert "Consent to share has been withdrawn" in _text(nurse.get(record_url))
    assert NOT_SHOWN in _text(teacher.get(record_url))
    assert nurse.get(withdraw_url).status_code == 404
