"""Who may raise or end a warning flag, as a table: role x whose flag.

The actor holds one role at organisation ORG. A flag is owned by ORG (the
actor's own organisation) or by OTHER_ORG. Pure: no DB. Raising also needs
a record the actor may open (test_policy_matrix.py, ``view_with_purpose``).
"""

import pytest

from accounts.roles import Role
from accounts.tests.factories import actor
from directory.policies import (
    Decision,
    decide_warning_flag_change,
    warning_flag_organisations,
)

ORG = 11
OTHER_ORG = 12
AUTHORITY = 10

OK = Decision(True, "granted_own_organisation")
NOT_OWN = Decision(False, "not_own_organisation")
NO_ROLE = Decision(False, "role_not_permitted")

# fmt: off
#: role -> (a flag of ORG, a flag of OTHER_ORG)
EXPECTED = {
    Role.PRACTITIONER:      (OK,      NOT_OWN),
    Role.DATA_MANAGER:      (OK,      NOT_OWN),
    Role.SHIELDING_OFFICER: (NO_ROLE, NO_ROLE),
    Role.ADMINISTRATOR:     (NO_ROLE, NO_ROLE),
    Role.AUDITOR:           (NO_ROLE, NO_ROLE),
    Role.FEED_SYSTEM:       (NO_ROLE, NO_ROLE),
    "none":                 (NO_ROLE, NO_ROLE),
}
# fmt: on


def _actor(role: str, *, verified: bool = True):
    if role == "none":
        return actor(verified=verified)
    return actor((role, ORG, AUTHORITY), verified=verified)


def test_the_table_covers_every_role():
    assert set(EXPECTED) == {*Role, "none"}


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize(("column", "owner"), [(0, ORG), (1, OTHER_ORG)])
def test_flag_change_matrix(role, column, owner):
    assert decide_warning_flag_change(_actor(role), owner) == EXPECTED[role][column]


@pytest.mark.parametrize("role", list(EXPECTED))
def test_without_a_verified_second_factor_nobody_changes_a_flag(role):
    for owner in (ORG, OTHER_ORG):
        assert decide_warning_flag_change(
            _actor(role, verified=False), owner
        ) == Decision(False, "second_factor_missing")


def test_someone_answers_for_every_organisation_they_practise_or_manage_at():
    who = actor(
        (Role.PRACTITIONER, ORG, AUTHORITY),
        (Role.DATA_MANAGER, OTHER_ORG, AUTHORITY),
        (Role.AUDITOR, 13, AUTHORITY),
    )

    assert warning_flag_organisations(who) == {ORG, OTHER_ORG}
