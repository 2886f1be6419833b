"""A data manager's duties over one record, as a table: role x record kind x
action, for ``decide_record_correction`` and ``decide_subject_access``.

Written out by hand, like test_policy_matrix.py, so any change to either
rule shows up as a changed cell. Pure: no DB.

The actor holds one role at a local authority AUTHORITY (the organisation is
the authority itself, as data managers' organisations are) unless the row
says otherwise. Record kinds:

    ordinary_here        ordinary, responsible authority AUTHORITY
    ordinary_elsewhere   ordinary, responsible authority OTHER_AUTHORITY
    ordinary_nobody      ordinary, no responsible authority recorded
    shielded_here        shielded, responsible authority AUTHORITY
    shielded_elsewhere   shielded, responsible authority OTHER_AUTHORITY
    shielded_nobody      shielded, no responsible authority recorded
"""

import pytest

from accounts.roles import Role
from accounts.tests.factories import actor
from directory.policies import (
    ChildRecordFacts,
    RecordDutyReason,
    decide_record_correction,
    decide_subject_access,
)

AUTHORITY = 10
OTHER_AUTHORITY = 20
SCHOOL = 11

KINDS = {
    "ordinary_here": ChildRecordFacts(False, AUTHORITY),
    "ordinary_elsewhere": ChildRecordFacts(False, OTHER_AUTHORITY),
    "ordinary_nobody": ChildRecordFacts(False, None),
    "shielded_here": ChildRecordFacts(True, AUTHORITY),
    "shielded_elsewhere": ChildRecordFacts(True, OTHER_AUTHORITY),
    "shielded_nobody": ChildRecordFacts(True, None),
}

GRANTED = RecordDutyReason.GRANTED
HERE = RecordDutyReason.GRANTED_RESPONSIBLE_AUTHORITY
ROLE = RecordDutyReason.ROLE_NOT_PERMITTED
SHIELDED = RecordDutyReason.RECORD_SHIELDED
ELSEWHERE = RecordDutyReason.NOT_RESPONSIBLE_AUTHORITY

#: role -> kind -> (correct, subject access): the reason code; "granted…"
#: codes are allowed, every other code is a denial.
MATRIX: dict[str, dict[str, tuple[str, str]]] = {
    Role.DATA_MANAGER: {
        "ordinary_here": (GRANTED, HERE),
        "ordinary_elsewhere": (GRANTED, ELSEWHERE),
        "ordinary_nobody": (GRANTED, GRANTED),
        "shielded_here": (HERE, HERE),
        "shielded_elsewhere": (SHIELDED, SHIELDED),
        "shielded_nobody": (SHIELDED, SHIELDED),
    },
    **{
        role: dict.fromkeys(KINDS, (ROLE, ROLE))
        for role in (
            Role.PRACTITIONER,
            Role.SHIELDING_OFFICER,
            Role.ADMINISTRATOR,
            Role.AUDITOR,
            Role.FEED_SYSTEM,
        )
    },
}

CELLS = [
    (role, kind, action, MATRIX[role][kind][position])
    for role in MATRIX
    for kind in KINDS
    for position, action in enumerate(("correct", "subject_access"))
]
DECIDE = {"correct": decide_record_correction, "subject_access": decide_subject_access}


@pytest.mark.parametrize(("role", "kind", "action", "expected"), CELLS)
def test_matrix(role, kind, action, expected):
    decision = DECIDE[action](actor((role, AUTHORITY, AUTHORITY)), KINDS[kind])

    assert (decision.allowed, decision.reason) == (
        expected.startswith("granted"),
        expected,
    )


@pytest.mark.parametrize("action", ["correct", "subject_access"])
def test_an_unverified_data_manager_is_refused_before_anything_else(action):
    manager = actor((Role.DATA_MANAGER, AUTHORITY, AUTHORITY), verified=False)

    decision = DECIDE[action](manager, KINDS["ordinary_here"])

    assert (decision.allowed, decision.reason) == (False, "second_factor_missing")


@pytest.mark.parametrize("action", ["correct", "subject_access"])
def test_a_data_manager_at_a_member_organisation_acts_for_its_authority(action):
    # A data manager employed by a school in the authority (the grant's
    # authority is the school's local authority).
    manager = actor((Role.DATA_MANAGER, SCHOOL, AUTHORITY))

    decision = DECIDE[action](manager, KINDS["shielded_here"])

    assert (decision.allowed, decision.reason) == (True, HERE)


def test_a_practitioner_who_is_also_a_data_manager_elsewhere_cannot_report_here():
    both = actor(
        (Role.PRACTITIONER, SCHOOL, AUTHORITY),
        (Role.DATA_MANAGER, OTHER_AUTHORITY, OTHER_AUTHORITY),
    )

    assert not decide_subject_access(both, KINDS["ordinary_here"]).allowed
    assert decide_subject_access(both, KINDS["ordinary_elsewhere"]).allowed


def test_a_shielding_officer_of_the_authority_is_not_a_data_manager():
    officer = actor((Role.SHIELDING_OFFICER, AUTHORITY, AUTHORITY))

    assert decide_record_correction(officer, KINDS["shielded_here"]).reason == ROLE
