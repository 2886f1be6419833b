"""The whole access policy as one table: role x record kind x action.

Every cell says what the pure rules of directory/policies.py decide: allowed
or denied, and the reason code the access log keeps. The table is written out
by hand, so a change to any rule shows up here as a changed cell. Pure: no DB.

The actor holds one role at organisation ORG, in local authority AUTHORITY.
Each record kind is a child (ChildRecordFacts) with one current involvement
(InvolvementFacts) of another organisation, OTHER_ORG, unless said otherwise:

    ordinary            an ordinary record; the involvement is not sensitive
    shielded_here       shielded, responsible authority AUTHORITY (the actor's)
    shielded_elsewhere  shielded, responsible authority OTHER_AUTHORITY
    consented           ordinary; a sensitive involvement, consent recorded
    unconsented         ordinary; a sensitive involvement, no consent
    own_organisation    ordinary; a sensitive involvement of ORG, no consent
                        (recorded by a colleague, so the actor has no
                        legitimate relationship of their own)

Actions, each asked the way the gate or the service asks it:

    search              decide_child_search
    view_with_purpose   decide_child_record_view, purpose "providing service"
    view_no_purpose     decide_child_record_view, no purpose
    break_glass         decide_child_record_view, child protection, break glass
    see_involvement     the record opens with a purpose (the selector's first
                        question), then decide_involvement_visible
    record_involvement  decide_involvement_change for ORG, then the record
                        opens with "providing service" (involvement_record)
    change_consent      decide_consent_change on the involvement
"""

from dataclasses import dataclass

import pytest

from accounts.actors import Actor
from accounts.roles import Role
from accounts.tests.factories import actor
from directory.policies import (
    ChildRecordFacts,
    Decision,
    InvolvementFacts,
    Purpose,
    decide_child_record_view,
    decide_child_search,
    decide_consent_change,
    decide_involvement_change,
    decide_involvement_visible,
)

AUTHORITY = 10
OTHER_AUTHORITY = 20
ORG = 11
OTHER_ORG = 12


@dataclass(frozen=True)
class Kind:
    record: ChildRecordFacts
    involvement: InvolvementFacts


def _kind(
    *,
    shielded: bool = False,
    authority: int = AUTHORITY,
    sensitive: bool = False,
    organisation: int = OTHER_ORG,
    consent: bool = False,
) -> Kind:
    return Kind(
        record=ChildRecordFacts(
            shielded=shielded,
            responsible_authority_id=authority,
            involved_organisation_ids=frozenset({organisation}),
        ),
        involvement=InvolvementFacts(
            sensitive=sensitive, organisation_id=organisation, has_consent=consent
        ),
    )


KINDS = {
    "ordinary": _kind(),
    "shielded_here": _kind(shielded=True),
    "shielded_elsewhere": _kind(shielded=True, authority=OTHER_AUTHORITY),
    "consented": _kind(sensitive=True, consent=True),
    "unconsented": _kind(sensitive=True),
    "own_organisation": _kind(sensitive=True, organisation=ORG),
}

# The cells. Allowed:
OK = Decision(True, "granted")
OK_AUTH = Decision(True, "granted_responsible_authority")
OK_GLASS = Decision(True, "granted_break_glass")
OK_CONS = Decision(True, "granted_consent")
OK_PROV = Decision(True, "granted_providing_organisation")
OK_ORG = Decision(True, "granted_own_organisation")
# Denied:
NO_ROLE = Decision(False, "role_not_permitted")
NO_PURP = Decision(False, "purpose_missing")
SHIELDED = Decision(False, "record_shielded")
HIDDEN = Decision(False, "sensitive_without_consent")
NOT_PROV = Decision(False, "not_providing_organisation")

#: Action -> the decision for each record kind, in the order of KINDS.
Table = dict[str, tuple[Decision, ...]]

# fmt: off
# Columns:                 ordinary shielded  shielded   consented uncon-    own
#                                   here      elsewhere            sented    org.
PRACTITIONER: Table = {
    "search":             (OK,      OK,       OK,        OK,       OK,       OK),
    "view_with_purpose":  (OK,      SHIELDED, SHIELDED,  OK,       OK,       OK),
    "view_no_purpose":    (NO_PURP, NO_PURP,  NO_PURP,   NO_PURP,  NO_PURP,  NO_PURP),
    "break_glass":        (OK,      OK_GLASS, OK_GLASS,  OK,       OK,       OK),
    "see_involvement":    (OK,      SHIELDED, SHIELDED,  OK_CONS,  HIDDEN,   OK_PROV),
    "record_involvement": (OK_ORG,  SHIELDED, SHIELDED,  OK_ORG,   OK_ORG,   OK_ORG),
    "change_consent":     (NOT_PROV, NOT_PROV, NOT_PROV, NOT_PROV, NOT_PROV, OK_PROV),
}
#: Shielding officers and data managers: the responsible authority's shielded
#: records open to them; they record no involvements and change no consent.
SHIELDING_READER: Table = {
    "search":             (OK,      OK,       OK,        OK,       OK,       OK),
    "view_with_purpose":  (OK,      OK_AUTH,  SHIELDED,  OK,       OK,       OK),
    "view_no_purpose":    (NO_PURP, NO_PURP,  NO_PURP,   NO_PURP,  NO_PURP,  NO_PURP),
    "break_glass":        (OK,      OK_AUTH,  OK_GLASS,  OK,       OK,       OK),
    "see_involvement":    (OK,      OK,       SHIELDED,  OK_CONS,  HIDDEN,   OK_PROV),
    "record_involvement": (NO_ROLE, NO_ROLE,  NO_ROLE,   NO_ROLE,  NO_ROLE,  NO_ROLE),
    "change_consent":     (NO_ROLE, NO_ROLE,  NO_ROLE,   NO_ROLE,  NO_ROLE,  NO_ROLE),
}
#: Roles that read no child records at all, and no role.
NOT_A_READER: Table = {
    "search":             (NO_ROLE, NO_ROLE,  NO_ROLE,   NO_ROLE,  NO_ROLE,  NO_ROLE),
    "view_with_purpose":  (NO_ROLE, NO_ROLE,  NO_ROLE,   NO_ROLE,  NO_ROLE,  NO_ROLE),
    "view_no_purpose":    (NO_ROLE, NO_ROLE,  NO_ROLE,   NO_ROLE,  NO_ROLE,  NO_ROLE),
    "break_glass":        (NO_ROLE, NO_ROLE,  NO_ROLE,   NO_ROLE,  NO_ROLE,  NO_ROLE),
    "see_involvement":    (NO_ROLE, NO_ROLE,  NO_ROLE,   NO_ROLE,  NO_ROLE,  NO_ROLE),
    "record_involvement": (NO_ROLE, NO_ROLE,  NO_ROLE,   NO_ROLE,  NO_ROLE,  NO_ROLE),
    "change_consent":     (NO_ROLE, NO_ROLE,  NO_ROLE,   NO_ROLE,  NO_ROLE,  NO_ROLE),
}
# fmt: on

EXPECTED: dict[str, Table] = {
    Role.PRACTITIONER: PRACTITIONER,
    Role.DATA_MANAGER: SHIELDING_READER,
    Role.SHIELDING_OFFICER: SHIELDING_READER,
    Role.ADMINISTRATOR: NOT_A_READER,
    Role.AUDITOR: NOT_A_READER,
    Role.FEED_SYSTEM: NOT_A_READER,
    "none": NOT_A_READER,
}


def _actor_with(role: str, *, verified: bool = True) -> Actor:
    if role == "none":
        return actor(verified=verified)
    return actor((role, ORG, AUTHORITY), verified=verified)


def _see_involvement(who: Actor, kind: Kind) -> Decision:
    opened = decide_child_record_view(who, kind.record, Purpose.PROVIDING_SERVICE)
    if not opened.allowed:
        return opened
    return decide_involvement_visible(who, kind.involvement)


def _record_involvement(who: Actor, kind: Kind) -> Decision:
    change = decide_involvement_change(who, ORG)
    if not change.allowed:
        return change
    seen = decide_child_record_view(who, kind.record, Purpose.PROVIDING_SERVICE)
    return change if seen.allowed else seen


ACTIONS = {
    "search": lambda who, _kind: decide_child_search(who),
    "view_with_purpose": lambda who, kind: decide_child_record_view(
        who, kind.record, Purpose.PROVIDING_SERVICE
    ),
    "view_no_purpose": lambda who, kind: decide_child_record_view(
        who, kind.record, None
    ),
    "break_glass": lambda who, kind: decide_child_record_view(
        who, kind.record, Purpose.CHILD_PROTECTION, break_glass=True
    ),
    "see_involvement": _see_involvement,
    "record_involvement": _record_involvement,
    "change_consent": lambda who, kind: decide_consent_change(who, kind.involvement),
}

CELLS = [
    pytest.param(role, kind, action, row[i], id=f"{role}-{kind}-{action}")
    for role, table in EXPECTED.items()
    for action, row in table.items()
    for i, kind in enumerate(KINDS)
]


def test_the_table_covers_every_role_kind_and_action():
    assert set(EXPECTED) == {*Role, "none"}
    for table in EXPECTED.values():
        assert list(table) == list(ACTIONS)
        assert all(len(row) == len(KINDS) for row in table.values())


@pytest.mark.parametrize(("role", "kind", "action", "expected"), CELLS)
def test_policy_matrix(role, kind, action, expected):
    decision = ACTIONS[action](_actor_with(role), KINDS[kind])

    assert (decision.allowed, decision.reason) == (expected.allowed, expected.reason)


@pytest.mark.parametrize("role", [*Role, "none"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_without_a_verified_second_factor_every_action_is_denied(role, action):
    who = _actor_with(role, verified=False)

    for kind in KINDS.values():
        assert ACTIONS[action](who, kind) == Decision(False, "second_factor_missing")


def test_consent_is_changed_only_on_sensitive_involvements():
    provider = _actor_with(Role.PRACTITIONER)
    own_ordinary = InvolvementFacts(
        sensitive=False, organisation_id=ORG, has_consent=False
    )

    assert decide_consent_change(provider, own_ordinary) == Decision(
        False, "involvement_not_sensitive"
    )


@pytest.mark.parametrize("has_consent", [False, True])
def test_recorded_consent_does_not_change_who_may_change_it(has_consent):
    provider = _actor_with(Role.PRACTITIONER)
    facts = InvolvementFacts(
        sensitive=True, organisation_id=ORG, has_consent=has_consent
    )

    assert decide_consent_change(provider, facts) == OK_PROV
