"""Who may administer whom, as a matrix: role x admin action x target. No DB."""

import uuid

import pytest

from accounts.policies import (
    REFUSAL_MESSAGES,
    AdminAction,
    AdminActionRefused,
    OrganisationRef,
    TargetFacts,
    admin_scope,
    decide_admin_action,
    decide_admin_workspace,
)
from accounts.roles import Role
from accounts.tests.factories import actor

AUTHORITY = OrganisationRef(id=10, authority_id=10)
SCHOOL = OrganisationRef(id=11, authority_id=10)
OTHER_SCHOOL_SAME_AUTHORITY = OrganisationRef(id=12, authority_id=10)
OTHER_AUTHORITY = OrganisationRef(id=20, authority_id=20)
OTHER_AUTHORITY_SCHOOL = OrganisationRef(id=21, authority_id=20)
NATIONAL_BODY = OrganisationRef(id=30, authority_id=None)

ACTOR_ID = uuid.uuid4()
TOKEN_ACTIONS = {AdminAction.TOKEN_ISSUE, AdminAction.TOKEN_REVOKE}
INVITE_ACTIONS = {AdminAction.USER_INVITE, AdminAction.INVITATION_WITHDRAW}
RELATIONS = ("own_account", "in_scope", "out_of_scope")


def _target(action: AdminAction, relation: str) -> TargetFacts:
    """The account ``action`` is taken on, related to the actor as ``relation``."""
    where = OTHER_AUTHORITY_SCHOOL if relation == "out_of_scope" else SCHOOL
    feed = action in TOKEN_ACTIONS
    if action in INVITE_ACTIONS:
        return TargetFacts(
            user_id=None, role_organisation=where, role=Role.PRACTITIONER
        )
    return TargetFacts(
        user_id=ACTOR_ID if relation == "own_account" else uuid.uuid4(),
        organisations=frozenset({where}),
        role_organisation=where,
        role=Role.FEED_SYSTEM if feed else Role.PRACTITIONER,
        is_feed_system=feed,
    )


def _expected(role: Role, action: AdminAction, relation: str) -> str:
    if role != Role.ADMINISTRATOR:
        return "role_not_permitted"
    if relation == "out_of_scope":
        return "out_of_scope"
    if relation == "own_account" and action != AdminAction.USER_VIEW:
        return "own_account"
    return "granted"


MATRIX = [
    pytest.param(role, action, relation, id=f"{role}-{action}-{relation}")
    for role in Role
    for action in AdminAction
    for relation in RELATIONS
    # An invitation is for someone with no account yet: never one's own.
    if not (action in INVITE_ACTIONS and relation == "own_account")
]


@pytest.mark.parametrize(("role", "action", "relation"), MATRIX)
def test_permission_matrix(role, action, relation):
    """Every role x every administrator action x own / in scope / out of scope.

    Only administrators act, only within their authority, never on their own
    account (they may look at it); everyone else is refused.
    """
    who = actor((role, AUTHORITY.id, AUTHORITY.authority_id), user_id=ACTOR_ID)

    decision = decide_admin_action(who, action, _target(action, relation))

    assert decision.reason == _expected(role, action, relation)
    assert decision.allowed == (decision.reason == "granted")


def test_the_matrix_covers_every_role_action_and_relation():
    assert len(MATRIX) == len(Role) * (
        len(AdminAction) * len(RELATIONS) - len(INVITE_ACTIONS)
    )


@pytest.mark.parametrize("action", list(AdminAction))
def test_nothing_is_allowed_without_a_verified_second_factor(action):
    unverified = actor(
        (Role.ADMINISTRATOR, AUTHORITY.id, AUTHORITY.authority_id), verified=False
    )

    decision = decide_admin_action(unverified, action, _target(action, "in_scope"))

    assert decision.reason == "second_factor_missing"
    assert not decide_admin_workspace(unverified).allowed


@pytest.mark.parametrize("action", [a for a in AdminAction if a != "user_view"])
def test_an_auditor_changes_nothing_even_as_an_administrator_too(action):
    both = actor(
        (Role.ADMINISTRATOR, AUTHORITY.id, AUTHORITY.authority_id),
        (Role.AUDITOR, AUTHORITY.id, AUTHORITY.authority_id),
    )

    decision = decide_admin_action(both, action, _target(action, "in_scope"))

    assert decision.reason == "auditor_changes_nothing"


def test_an_auditor_administrator_may_still_look():
    both = actor(
        (Role.ADMINISTRATOR, AUTHORITY.id, AUTHORITY.authority_id),
        (Role.AUDITOR, AUTHORITY.id, AUTHORITY.authority_id),
    )
    target = _target(AdminAction.USER_VIEW, "in_scope")

    assert decide_admin_action(both, AdminAction.USER_VIEW, target).allowed


def test_an_actor_with_no_roles_cannot_open_the_workspace():
    assert decide_admin_workspace(actor()).reason == "role_not_permitted"


@pytest.mark.parametrize(
    ("organisation", "covered"),
    [
        (AUTHORITY, True),
        (SCHOOL, True),
        (OTHER_SCHOOL_SAME_AUTHORITY, True),
        (OTHER_AUTHORITY, False),
        (OTHER_AUTHORITY_SCHOOL, False),
        (NATIONAL_BODY, False),
    ],
)
def test_an_authority_administrator_covers_the_authority_and_its_members(
    organisation, covered
):
    scope = admin_scope(actor((Role.ADMINISTRATOR, AUTHORITY.id, AUTHORITY.id)))

    assert scope.covers(organisation) is covered


@pytest.mark.parametrize(
    ("organisation", "covered"),
    [
        (SCHOOL, True),
        (OTHER_SCHOOL_SAME_AUTHORITY, False),
        (AUTHORITY, False),
    ],
)
def test_a_school_administrator_covers_the_school_only(organisation, covered):
    scope = admin_scope(actor((Role.ADMINISTRATOR, SCHOOL.id, SCHOOL.authority_id)))

    assert scope.covers(organisation) is covered


def test_an_administrator_at_a_body_outside_any_authority_covers_only_it():
    scope = admin_scope(actor((Role.ADMINISTRATOR, NATIONAL_BODY.id, None)))

    assert scope.covers(NATIONAL_BODY)
    assert not scope.covers(SCHOOL)


def test_roles_other_than_administrator_give_no_scope():
    others = actor(
        *[
            (role, AUTHORITY.id, AUTHORITY.id)
            for role in Role
            if role != "administrator"
        ]
    )

    assert not admin_scope(others)


# A person working in two authorities: either may stop them; reopening an
# account needs both areas.
TWO_AREAS = frozenset({SCHOOL, OTHER_AUTHORITY_SCHOOL})


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        (AdminAction.USER_VIEW, "granted"),
        (AdminAction.USER_SUSPEND, "granted"),
        (AdminAction.TOKEN_REVOKE, "granted"),
        (AdminAction.USER_REACTIVATE, "out_of_scope"),
        (AdminAction.SECOND_FACTOR_RESET, "out_of_scope"),
        (AdminAction.ACCOUNT_UNLOCK, "out_of_scope"),
        (AdminAction.TOKEN_ISSUE, "out_of_scope"),
    ],
)
def test_an_account_in_two_areas(action, reason):
    administrator = actor((Role.ADMINISTRATOR, AUTHORITY.id, AUTHORITY.id))
    target = TargetFacts(
        user_id=uuid.uuid4(),
        organisations=TWO_AREAS,
        is_feed_system=action in TOKEN_ACTIONS,
    )

    assert decide_admin_action(administrator, action, target).reason == reason


@pytest.mark.parametrize(
    ("action", "where", "reason"),
    [
        (AdminAction.ROLE_GRANT, SCHOOL, "granted"),
        (AdminAction.ROLE_REVOKE, SCHOOL, "granted"),
        (AdminAction.ROLE_GRANT, OTHER_AUTHORITY_SCHOOL, "out_of_scope"),
        (AdminAction.ROLE_REVOKE, OTHER_AUTHORITY_SCHOOL, "out_of_scope"),
    ],
)
def test_roles_of_an_account_in_two_areas_follow_the_role_organisation(
    action, where, reason
):
    administrator = actor((Role.ADMINISTRATOR, AUTHORITY.id, AUTHORITY.id))
    target = TargetFacts(
        user_id=uuid.uuid4(),
        organisations=TWO_AREAS,
        role_organisation=where,
        role=Role.PRACTITIONER,
    )

    assert decide_admin_action(administrator, action, target).reason == reason


def test_nobody_adopts_another_areas_staff_by_granting_them_a_role():
    administrator = actor((Role.ADMINISTRATOR, AUTHORITY.id, AUTHORITY.id))
    elsewhere = TargetFacts(
        user_id=uuid.uuid4(),
        organisations=frozenset({OTHER_AUTHORITY_SCHOOL}),
        role_organisation=SCHOOL,
        role=Role.PRACTITIONER,
    )

    decision = decide_admin_action(administrator, AdminAction.ROLE_GRANT, elsewhere)

    assert decision.reason == "out_of_scope"


@pytest.mark.parametrize("action", [a for a in AdminAction if a not in INVITE_ACTIONS])
def test_an_account_with_no_organisation_is_nobodys_to_administer(action):
    administrator = actor((Role.ADMINISTRATOR, AUTHORITY.id, AUTHORITY.id))
    orphan = TargetFacts(
        user_id=uuid.uuid4(), role_organisation=SCHOOL, role=Role.PRACTITIONER
    )

    decision = decide_admin_action(administrator, action, orphan)

    assert decision.reason == "out_of_scope"


def test_api_tokens_are_issued_to_feed_systems_only():
    administrator = actor((Role.ADMINISTRATOR, AUTHORITY.id, AUTHORITY.id))
    person = TargetFacts(user_id=uuid.uuid4(), organisations=frozenset({SCHOOL}))

    decision = decide_admin_action(administrator, AdminAction.TOKEN_ISSUE, person)

    assert decision.reason == "not_a_feed_system"


@pytest.mark.parametrize(
    ("action", "role", "is_feed_system"),
    [
        (AdminAction.ROLE_GRANT, Role.FEED_SYSTEM, False),
        (AdminAction.ROLE_GRANT, Role.PRACTITIONER, True),
        (AdminAction.USER_INVITE, Role.FEED_SYSTEM, False),
    ],
)
def test_feed_systems_and_people_never_share_an_account(action, role, is_feed_system):
    administrator = actor((Role.ADMINISTRATOR, AUTHORITY.id, AUTHORITY.id))
    target = TargetFacts(
        user_id=None if action == AdminAction.USER_INVITE else uuid.uuid4(),
        organisations=frozenset({SCHOOL}),
        role_organisation=SCHOOL,
        role=role,
        is_feed_system=is_feed_system,
    )

    decision = decide_admin_action(administrator, action, target)

    assert decision.reason == "feed_system_kept_separate"


def test_every_refusal_has_a_plain_english_message():
    refusal = AdminActionRefused.of_reason("own_account")

    assert refusal.reason_code == "own_account"
    assert "your own account" in refusal.message
    for code, message in REFUSAL_MESSAGES.items():
        assert message.endswith("."), code
