"""The audited read gate: policy, then audit, then a decrypted record."""

import datetime as dt
import re
import uuid

import pytest
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory, actor
from audit.models import AccessEvent
from directory.models import Consent, Involvement
from directory.policies import Purpose
from directory.records import NewInvolvement
from directory.selectors import ChildRecordUnavailable, child_record_get
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def authority():
    return LocalAuthorityFactory()


@pytest.fixture
def school(authority):
    return SchoolFactory(parent_authority=authority)


def _create(**kwargs):
    return child_records_create(
        children=[NewChildFactory.build(**kwargs)], source=FEED_SOURCE
    )[0]


def test_practitioner_with_purpose_sees_decrypted_record_and_is_audited(school):
    created = _create()
    reader = actor((Role.PRACTITIONER, school.pk, school.parent_authority_id))

    record = child_record_get(
        actor=reader, child_id=created.id, purpose=Purpose.PROVIDING_SERVICE
    )

    assert record.names[0].family_name == "Climbié"
    assert record.date_of_birth == dt.date(2015, 11, 2)
    assert record.current_postcode == "N17 6QA"
    assert record.carers[0].phone == "07700 900123"
    event = AccessEvent.objects.get()
    assert (event.child_id, event.outcome, event.reason, event.purpose) == (
        created.id,
        "allowed",
        "granted",
        "providing_service",
    )


def test_missing_and_forbidden_records_raise_the_same_error_and_are_audited(
    authority, school
):
    shielded = _create(shielded=True, responsible_authority_id=authority.pk)
    reader = actor((Role.PRACTITIONER, school.pk, authority.pk))

    with pytest.raises(ChildRecordUnavailable):
        child_record_get(
            actor=reader, child_id=shielded.id, purpose=Purpose.PROVIDING_SERVICE
        )
    with pytest.raises(ChildRecordUnavailable):
        child_record_get(
            actor=reader,
            child_id=uuid.uuid4(),
            purpose=Purpose.PROVIDING_SERVICE,
        )

    reasons = list(
        AccessEvent.objects.order_by("occurred_at").values_list("outcome", "reason")
    )
    assert reasons == [("denied", "record_shielded"), ("denied", "not_found")]


def test_denied_without_second_factor_is_audited(school):
    created = _create()
    reader = actor(
        (Role.PRACTITIONER, school.pk, school.parent_authority_id), verified=False
    )

    with pytest.raises(ChildRecordUnavailable):
        child_record_get(actor=reader, child_id=created.id, purpose=Purpose.OTHER)

    assert AccessEvent.objects.get().reason == "second_factor_missing"


def test_administrator_and_auditor_never_read_child_data(school):
    created = _create()
    for role in (Role.ADMINISTRATOR, Role.AUDITOR, Role.FEED_SYSTEM):
        with pytest.raises(ChildRecordUnavailable):
            child_record_get(
                actor=actor((role, school.pk, school.parent_authority_id)),
                child_id=created.id,
                purpose=Purpose.DATA_MANAGEMENT,
            )
    assert set(AccessEvent.objects.values_list("reason", flat=True)) == {
        "role_not_permitted"
    }


def test_sensitive_involvement_is_hidden_from_other_organisations(authority, school):
    clinic = SchoolFactory(kind="nhs_trust", code="RQ3", parent_authority=authority)
    created = _create(
        involvements=(
            NewInvolvement(clinic.pk, "sexual_health", dt.date(2025, 1, 6)),
            NewInvolvement(school.pk, "education", dt.date(2024, 9, 2)),
        )
    )

    teacher = actor((Role.PRACTITIONER, school.pk, authority.pk))
    nurse = actor((Role.PRACTITIONER, clinic.pk, authority.pk))
    seen_by_teacher = child_record_get(
        actor=teacher, child_id=created.id, purpose=Purpose.PROVIDING_SERVICE
    )
    seen_by_nurse = child_record_get(
        actor=nurse, child_id=created.id, purpose=Purpose.PROVIDING_SERVICE
    )

    assert [i.service_type for i in seen_by_teacher.involvements] == ["education"]
    assert seen_by_teacher.hidden_involvements == 1
    assert {i.service_type for i in seen_by_nurse.involvements} == {
        "education",
        "sexual_health",
    }


def test_consent_shows_a_sensitive_involvement_to_everyone(authority, school):
    clinic = SchoolFactory(kind="nhs_trust", code="RQ4", parent_authority=authority)
    created = _create(
        involvements=(
            NewInvolvement(
                clinic.pk,
                "mental_health",
                dt.date(2025, 1, 6),
                consent_given_by="young_person",
            ),
        )
    )
    teacher = actor((Role.PRACTITIONER, school.pk, authority.pk))

    record = child_record_get(
        actor=teacher, child_id=created.id, purpose=Purpose.PROVIDING_SERVICE
    )

    assert [i.service_type for i in record.involvements] == ["mental_health"]


def test_record_read_takes_a_fixed_number_of_queries(school, django_assert_num_queries):
    created = _create()
    reader = actor((Role.PRACTITIONER, school.pk, school.parent_authority_id))

    # child, its current involvements' organisations and practitioners (the
    # policy's facts), the audit event (audit_event_append, then the wait for
    # its flush), whether a flag is owned elsewhere (alerts/triggers.py); then
    # the record: names, addresses, carers, involvements (+ consents), flags.
    with django_assert_num_queries(10):
        child_record_get(
            actor=reader, child_id=created.id, purpose=Purpose.PROVIDING_SERVICE
        )


def test_many_involvements_and_consents_take_the_same_queries_and_the_latest_consent(
    authority, school, django_assert_num_queries
):
    """No query per involvement or consent: each involvement shows its latest
    consent not withdrawn, read in one query with the others'."""
    clinics = [
        SchoolFactory(kind="nhs_trust", code=f"RQ{n}", parent_authority=authority)
        for n in (5, 6, 7)
    ]
    created = _create(
        involvements=(
            NewInvolvement(school.pk, "education", dt.date(2024, 9, 2)),
            *(
                NewInvolvement(
                    clinic.pk,
                    "mental_health",
                    dt.date(2025, 1, 6 + n),
                    consent_given_by="young_person",
                )
                for n, clinic in enumerate(clinics)
            ),
        )
    )
    later, withdrawn = clinics[0], clinics[1]
    Consent.unaudited.create(
        involvement=Involvement.unaudited.get(organisation_id=later.pk),
        given_by=Consent.GivenBy.PARENT,
        recorded_at=timezone.now() + dt.timedelta(minutes=1),
    )
    Consent.unaudited.filter(involvement__organisation_id=withdrawn.pk).update(
        withdrawn_at=timezone.now()
    )
    reader = actor((Role.PRACTITIONER, school.pk, authority.pk))

    # As test_record_read_takes_a_fixed_number_of_queries, and one query for
    # the consents of all four involvements.
    with django_assert_num_queries(11):
        record = child_record_get(
            actor=reader, child_id=created.id, purpose=Purpose.PROVIDING_SERVICE
        )

    shown = {i.organisation_id: i.consent for i in record.involvements}
    assert list(shown) == [school.pk, later.pk, clinics[2].pk]
    assert shown[school.pk] is None
    latest, other = shown[later.pk], shown[clinics[2].pk]
    assert latest is not None
    assert latest.given_by == "parent"
    assert other is not None
    assert other.given_by == "young_person"
    assert record.hidden_involvements == 1


#: The tables of what a record shows beyond the policy's facts.
RECORD_TABLES = re.compile(r'"directory_(childname|address|carer|consent|warningflag)"')


def test_a_refusal_reads_only_what_the_policy_needs(school, django_assert_num_queries):
    other = SchoolFactory(parent_authority=school.parent_authority)
    created = _create(
        involvements=(NewInvolvement(other.pk, "education", dt.date(2024, 9, 2)),)
    )
    reader = actor((Role.PRACTITIONER, school.pk, school.parent_authority_id))

    # child, its current involvements' ids, the audit event (append, flush).
    with (
        django_assert_num_queries(4) as queries,
        pytest.raises(ChildRecordUnavailable),
    ):
        child_record_get(actor=reader, child_id=created.id, purpose=None)

    assert not [
        q["sql"] for q in queries.captured_queries if RECORD_TABLES.search(q["sql"])
    ]
    event = AccessEvent.objects.get()
    assert (event.outcome, event.reason, event.shielded_record) == (
        "denied",
        "purpose_missing",
        False,
    )
