"""The access policy as a matrix: role x record kind x action. Pure, no DB."""

import uuid

import pytest

from accounts.roles import Role
from accounts.tests.factories import actor
from directory.policies import (
    ChildRecordFacts,
    InvolvementFacts,
    Purpose,
    decide_child_record_view,
    decide_child_search,
    decide_involvement_visible,
)

AUTHORITY = 10
OTHER_AUTHORITY = 20
ORG = 11

ORDINARY = ChildRecordFacts(shielded=False, responsible_authority_id=AUTHORITY)
SHIELDED = ChildRecordFacts(shielded=True, responsible_authority_id=AUTHORITY)

# (role, authority of the actor's organisation, record, expected reason)
VIEW_MATRIX = [
    (Role.PRACTITIONER, AUTHORITY, ORDINARY, "granted"),
    (Role.PRACTITIONER, AUTHORITY, SHIELDED, "record_shielded"),
    (Role.DATA_MANAGER, AUTHORITY, ORDINARY, "granted"),
    (Role.DATA_MANAGER, AUTHORITY, SHIELDED, "granted_responsible_authority"),
    (Role.DATA_MANAGER, OTHER_AUTHORITY, SHIELDED, "record_shielded"),
    (Role.SHIELDING_OFFICER, AUTHORITY, SHIELDED, "granted_responsible_authority"),
    (Role.SHIELDING_OFFICER, OTHER_AUTHORITY, SHIELDED, "record_shielded"),
    (Role.ADMINISTRATOR, AUTHORITY, ORDINARY, "role_not_permitted"),
    (Role.AUDITOR, AUTHORITY, ORDINARY, "role_not_permitted"),
    (Role.FEED_SYSTEM, AUTHORITY, ORDINARY, "role_not_permitted"),
    (Role.ADMINISTRATOR, AUTHORITY, SHIELDED, "role_not_permitted"),
]


@pytest.mark.parametrize(("role", "authority", "facts", "reason"), VIEW_MATRIX)
def test_view_matrix(role, authority, facts, reason):
    decision = decide_child_record_view(
        actor((role, ORG, authority)), facts, Purpose.PROVIDING_SERVICE
    )
    assert decision.reason == reason
    assert decision.allowed == reason.startswith("granted")


@pytest.mark.parametrize("role", list(Role))
def test_nothing_is_allowed_without_a_verified_second_factor(role):
    unverified = actor((role, ORG, AUTHORITY), verified=False)
    assert decide_child_search(unverified).reason == "second_factor_missing"
    decision = decide_child_record_view(unverified, ORDINARY, Purpose.OTHER)
    assert not decision.allowed


def test_an_actor_with_no_roles_is_denied():
    nobody = actor()
    assert not decide_child_search(nobody).allowed
    assert not decide_child_record_view(nobody, ORDINARY, Purpose.OTHER).allowed


def test_purpose_is_required_without_a_legitimate_relationship():
    reader = actor((Role.PRACTITIONER, ORG, AUTHORITY))
    assert decide_child_record_view(reader, ORDINARY, None).reason == "purpose_missing"


def test_recorded_involvement_is_a_legitimate_relationship():
    user_id = uuid.uuid4()
    reader = actor((Role.PRACTITIONER, ORG, AUTHORITY), user_id=user_id)
    facts = ChildRecordFacts(
        shielded=False,
        responsible_authority_id=AUTHORITY,
        involved_practitioner_ids=frozenset({user_id}),
    )
    assert decide_child_record_view(reader, facts, None).allowed


def test_break_glass_opens_a_shielded_record_only_for_child_protection():
    reader = actor((Role.PRACTITIONER, ORG, OTHER_AUTHORITY))
    emergency = decide_child_record_view(
        reader, SHIELDED, Purpose.CHILD_PROTECTION, break_glass=True
    )
    casual = decide_child_record_view(
        reader, SHIELDED, Purpose.PROVIDING_SERVICE, break_glass=True
    )
    assert emergency.reason == "granted_break_glass"
    assert casual.reason == "record_shielded"


@pytest.mark.parametrize(
    ("sensitive", "own_org", "consent", "reason"),
    [
        (False, False, False, "granted"),
        (True, True, False, "granted_providing_organisation"),
        (True, False, True, "granted_consent"),
        (True, False, False, "sensitive_without_consent"),
    ],
)
def test_sensitive_involvement_visibility(sensitive, own_org, consent, reason):
    reader = actor((Role.PRACTITIONER, ORG, AUTHORITY))
    facts = InvolvementFacts(
        sensitive=sensitive,
        organisation_id=ORG if own_org else 99,
        has_consent=consent,
    )
    assert decide_involvement_visible(reader, facts).reason == reason
