"""Who may see what of a child's record: pure rules, default deny.

Each ``decide_*`` function takes an Actor and plain facts and returns a
Decision with a stable reason code that the audit log stores. No Django, no
ORM, no I/O (an import-linter contract enforces it), so the whole rule set is
tested as a matrix in milliseconds.
"""

from dataclasses import dataclass
from enum import StrEnum

from accounts.actors import Actor
from accounts.roles import Role


class Purpose(StrEnum):
    """Why a record is opened; stored on the access event."""

    PROVIDING_SERVICE = "providing_service"
    ASSESSING_REFERRAL = "assessing_referral"
    CHILD_PROTECTION = "child_protection"
    DATA_MANAGEMENT = "data_management"
    OTHER = "other"


#: The reason a shielded record was opened by breaking glass: the caller
#: must then notify the responsible authority at once.
BROKE_GLASS = "granted_break_glass"

#: Roles that may read child records at all.
READER_ROLES = frozenset({Role.PRACTITIONER, Role.DATA_MANAGER, Role.SHIELDING_OFFICER})


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class ChildRecordFacts:
    """What the policy needs to know about one child, as plain data."""

    shielded: bool
    responsible_authority_id: int | None
    involved_organisation_ids: frozenset[int] = frozenset()
    involved_practitioner_ids: frozenset[object] = frozenset()


@dataclass(frozen=True, slots=True)
class InvolvementFacts:
    sensitive: bool
    organisation_id: int
    has_consent: bool


def _common_denial(actor: Actor) -> Decision | None:
    if not actor.second_factor_verified:
        return Decision(False, "second_factor_missing")
    if not actor.roles & READER_ROLES:
        return Decision(False, "role_not_permitted")
    return None


def has_legitimate_relationship(actor: Actor, facts: ChildRecordFacts) -> bool:
    """A practitioner who recorded an involvement need not state a reason again."""
    return actor.user_id in facts.involved_practitioner_ids


def decide_child_search(actor: Actor) -> Decision:
    """Searching needs a verified second factor and a role that reads records."""
    return _common_denial(actor) or Decision(True, "granted")


def decide_child_record_view(
    actor: Actor,
    facts: ChildRecordFacts,
    purpose: Purpose | None,
    *,
    break_glass: bool = False,
) -> Decision:
    """May ``actor`` open this child's record for ``purpose``?

    Shielded records open only to the responsible authority's shielding
    officers and data managers, or by break-glass for a child-protection
    purpose (which the caller must make loud: notify and audit).
    """
    denial = _common_denial(actor)
    if denial:
        return denial
    if purpose is None and not has_legitimate_relationship(actor, facts):
        return Decision(False, "purpose_missing")
    if facts.shielded:
        authority = facts.responsible_authority_id
        officers = actor.authorities_with(Role.SHIELDING_OFFICER) | (
            actor.authorities_with(Role.DATA_MANAGER)
        )
        if authority is not None and authority in officers:
            return Decision(True, "granted_responsible_authority")
        if break_glass and purpose == Purpose.CHILD_PROTECTION:
            return Decision(True, BROKE_GLASS)
        return Decision(False, "record_shielded")
    # Practitioners search nationally on purpose: children move across boundaries.
    return Decision(True, "granted")


def decide_involvement_visible(actor: Actor, facts: InvolvementFacts) -> Decision:
    """Sensitive involvements show only to their provider, unless consent exists."""
    if not facts.sensitive:
        return Decision(True, "granted")
    if facts.organisation_id in actor.organisation_ids:
        return Decision(True, "granted_providing_organisation")
    if facts.has_consent:
        return Decision(True, "granted_consent")
    return Decision(False, "sensitive_without_consent")


def decide_involvement_change(actor: Actor, organisation_id: int) -> Decision:
    """May ``actor`` record or end an involvement of ``organisation_id``?

    Only practitioners, with a verified second factor, and only for an
    organisation at which they hold the practitioner role.
    """
    if not actor.second_factor_verified:
        return Decision(False, "second_factor_missing")
    practising_at = actor.organisations_with(Role.PRACTITIONER)
    if not practising_at:
        return Decision(False, "role_not_permitted")
    if organisation_id not in practising_at:
        return Decision(False, "not_own_organisation")
    return Decision(True, "granted_own_organisation")


def decide_consent_change(actor: Actor, facts: InvolvementFacts) -> Decision:
    """May ``actor`` record or withdraw consent to share this involvement?

    Only a practitioner at the organisation that provides it: they know the
    young person and heard the consent given (or taken back). Only sensitive
    involvements need consent; every other involvement is shown anyway.
    Whether consent is already recorded does not change who may act.
    """
    if not actor.second_factor_verified:
        return Decision(False, "second_factor_missing")
    practising_at = actor.organisations_with(Role.PRACTITIONER)
    if not practising_at:
        return Decision(False, "role_not_permitted")
    if facts.organisation_id not in practising_at:
        return Decision(False, "not_providing_organisation")
    if not facts.sensitive:
        return Decision(False, "involvement_not_sensitive")
    return Decision(True, "granted_providing_organisation")


def decide_child_merge(
    actor: Actor, survivor: ChildRecordFacts, merged: ChildRecordFacts
) -> Decision:
    """May ``actor`` merge two records (or undo their merge)?

    Data managers only, with a verified second factor; a shielded record only
    by a data manager of its responsible authority (no one else may even see
    it). The caller checks that the two are different active records.
    """
    if not actor.second_factor_verified:
        return Decision(False, "second_factor_missing")
    if Role.DATA_MANAGER not in actor.roles:
        return Decision(False, "role_not_permitted")
    authorities = actor.authorities_with(Role.DATA_MANAGER) | actor.organisations_with(
        Role.DATA_MANAGER
    )
    for facts in (survivor, merged):
        if facts.shielded and facts.responsible_authority_id not in authorities:
            return Decision(False, "shielded_other_authority")
    return Decision(True, "granted")
