"""Archived records in the access policy, as a table: role x record x purpose.

A companion to test_policy_matrix.py for the retention rules (docs/
retention.md): an archived record opens only to a data manager stating data
management, only for a year after archiving, never by break glass or by a
practitioner's involvement. Each cell is written out by hand. Pure: no DB.

Record kinds (archived on ARCHIVED_ON unless said otherwise):

    active              not archived (the ordinary record, for contrast)
    archived            archived; read within the year
    archived_shielded   archived and shielded, responsible authority AUTHORITY
    shielded_elsewhere  archived and shielded, responsible authority OTHER
    archive_closed      archived; read on the day the year is up

Actions: view for data management, view for providing a service, view with
no purpose (as someone with a legitimate relationship), break glass.
"""

from datetime import date

import pytest

from accounts.roles import Role
from accounts.tests.factories import actor
from directory.policies import (
    ChildRecordFacts,
    Decision,
    Purpose,
    decide_child_record_view,
    decide_lifecycle_listing,
    decide_lifecycle_report,
)

AUTHORITY, OTHER, ORG = 10, 20, 11
ARCHIVED_ON = date(2030, 6, 16)
WITHIN_THE_YEAR = date(2031, 6, 15)
YEAR_UP = date(2031, 6, 16)


def _facts(
    *,
    archived: bool = True,
    shielded: bool = False,
    authority: int = AUTHORITY,
    today: date = WITHIN_THE_YEAR,
) -> ChildRecordFacts:
    return ChildRecordFacts(
        shielded=shielded,
        responsible_authority_id=authority,
        involved_organisation_ids=frozenset({ORG}),
        archived_on=ARCHIVED_ON if archived else None,
        today=today,
    )


KINDS = {
    "active": _facts(archived=False),
    "archived": _facts(),
    "archived_shielded": _facts(shielded=True),
    "shielded_elsewhere": _facts(shielded=True, authority=OTHER),
    "archive_closed": _facts(today=YEAR_UP),
}

OK = Decision(True, "granted")
OK_ARCH = Decision(True, "granted_archived")
OK_AUTH = Decision(True, "granted_responsible_authority")
ARCHIVED = Decision(False, "record_archived")
CLOSED = Decision(False, "archive_closed")
NO_PURP = Decision(False, "purpose_missing")
SHIELDED = Decision(False, "record_shielded")
NO_ROLE = Decision(False, "role_not_permitted")

# fmt: off
# Columns:             active   archived  archived   shielded   archive
#                                         shielded   elsewhere  closed
DATA_MANAGER = {
    "data_management": (OK,     OK_ARCH,  OK_AUTH,   SHIELDED,  CLOSED),
    "providing":       (OK,     ARCHIVED, ARCHIVED,  ARCHIVED,  CLOSED),
    "no_purpose":      (NO_PURP, NO_PURP, NO_PURP,   NO_PURP,   CLOSED),
    "break_glass":     (OK,     ARCHIVED, ARCHIVED,  ARCHIVED,  CLOSED),
}
PRACTITIONER = {
    "data_management": (OK,     ARCHIVED, ARCHIVED,  ARCHIVED,  CLOSED),
    "providing":       (OK,     ARCHIVED, ARCHIVED,  ARCHIVED,  CLOSED),
    "no_purpose":      (OK,     ARCHIVED, ARCHIVED,  ARCHIVED,  CLOSED),
    "break_glass":     (OK,     ARCHIVED, ARCHIVED,  ARCHIVED,  CLOSED),
}
SHIELDING_OFFICER = PRACTITIONER | {
    "no_purpose":      (NO_PURP, ARCHIVED, ARCHIVED, ARCHIVED,  CLOSED),
}
# fmt: on
NOT_A_READER = dict.fromkeys(
    ("data_management", "providing", "no_purpose", "break_glass"), (NO_ROLE,) * 5
)

EXPECTED = {
    Role.DATA_MANAGER: DATA_MANAGER,
    Role.PRACTITIONER: PRACTITIONER,
    Role.SHIELDING_OFFICER: SHIELDING_OFFICER,
    Role.ADMINISTRATOR: NOT_A_READER,
    Role.AUDITOR: NOT_A_READER,
    Role.FEED_SYSTEM: NOT_A_READER,
}


def _reader(role: str):
    # The practitioner recorded the involvement: a legitimate relationship.
    who = actor((role, ORG, AUTHORITY))
    return who, frozenset({who.user_id}) if role == Role.PRACTITIONER else frozenset()


def _ask(role: str, kind: str, action: str) -> Decision:
    who, practitioners = _reader(role)
    facts = ChildRecordFacts(
        shielded=KINDS[kind].shielded,
        responsible_authority_id=KINDS[kind].responsible_authority_id,
        involved_organisation_ids=KINDS[kind].involved_organisation_ids,
        involved_practitioner_ids=practitioners,
        archived_on=KINDS[kind].archived_on,
        today=KINDS[kind].today,
    )
    if action == "data_management":
        return decide_child_record_view(who, facts, Purpose.DATA_MANAGEMENT)
    if action == "providing":
        return decide_child_record_view(who, facts, Purpose.PROVIDING_SERVICE)
    if action == "no_purpose":
        return decide_child_record_view(who, facts, None)
    return decide_child_record_view(
        who, facts, Purpose.CHILD_PROTECTION, break_glass=True
    )


CELLS = [
    pytest.param(role, kind, action, row[i], id=f"{role}-{kind}-{action}")
    for role, table in EXPECTED.items()
    for action, row in table.items()
    for i, kind in enumerate(KINDS)
]


def test_the_table_covers_every_role():
    assert set(EXPECTED) == set(Role)


@pytest.mark.parametrize(("role", "kind", "action", "expected"), CELLS)
def test_archived_record_policy(role, kind, action, expected):
    assert _ask(role, kind, action) == expected


def test_an_archived_record_read_without_knowing_the_day_is_refused():
    facts = ChildRecordFacts(
        shielded=False, responsible_authority_id=None, archived_on=ARCHIVED_ON
    )
    manager = actor((Role.DATA_MANAGER, ORG, AUTHORITY))

    assert decide_child_record_view(
        manager, facts, Purpose.DATA_MANAGEMENT
    ) == Decision(False, "archive_closed")


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.DATA_MANAGER, OK),
        (Role.PRACTITIONER, NO_ROLE),
        (Role.SHIELDING_OFFICER, NO_ROLE),
        (Role.AUDITOR, NO_ROLE),
        (Role.ADMINISTRATOR, NO_ROLE),
    ],
)
def test_only_data_managers_see_the_retention_report(role, expected):
    assert decide_lifecycle_report(actor((role, ORG, AUTHORITY))) == expected


def test_the_retention_report_needs_a_verified_second_factor():
    manager = actor((Role.DATA_MANAGER, ORG, AUTHORITY), verified=False)

    assert decide_lifecycle_report(manager) == Decision(False, "second_factor_missing")


@pytest.mark.parametrize(
    ("shielded", "authority", "expected"),
    [
        (False, OTHER, OK),
        (True, AUTHORITY, OK_AUTH),
        (True, OTHER, SHIELDED),
        (True, None, SHIELDED),
    ],
)
def test_the_report_names_a_shielded_record_only_to_its_authority(
    shielded, authority, expected
):
    manager = actor((Role.DATA_MANAGER, ORG, AUTHORITY))
    facts = ChildRecordFacts(shielded=shielded, responsible_authority_id=authority)

    assert decide_lifecycle_listing(manager, facts) == expected
