"""Who may see what of a child's record: pure rules, default deny.

Each ``decide_*`` function takes an Actor and plain facts and returns a
Decision with a stable reason code that the audit log stores. No Django, no
ORM, no I/O (an import-linter contract enforces it), so the whole rule set is
tested as a matrix in milliseconds.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from accounts.actors import Actor
from accounts.roles import Role
from directory.retention import archive_readable


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
    #: Set when the record is archived (directory/retention.py), with the
    #: day the reader asks on: archived records are read by data managers
    #: only, and by nobody a year after archiving.
    archived_on: date | None = None
    today: date | None = None


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
    purpose (which the caller must make loud: notify and audit). Archived
    records open only to data managers for data management, for a year.
    """
    denial = _common_denial(actor) or _archived_record_denial(actor, facts, purpose)
    if denial:
        return denial
    if facts.archived_on is not None:
        break_glass = False
    elif purpose is None and not has_legitimate_relationship(actor, facts):
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
    granted = "granted" if facts.archived_on is None else "granted_archived"
    return Decision(True, granted)


def _archived_record_denial(
    actor: Actor, facts: ChildRecordFacts, purpose: Purpose | None
) -> Decision | None:
    """An archived record opens only to a data manager stating data
    management, and to nobody from a year after archiving (then it looks
    missing). No legitimate relationship and no break glass opens it: the
    child has left the directory's work."""
    if facts.archived_on is None:
        return None
    if facts.today is None or not archive_readable(facts.archived_on, facts.today):
        return Decision(False, "archive_closed")
    if Role.DATA_MANAGER not in actor.roles:
        return Decision(False, "record_archived")
    if purpose is None:
        return Decision(False, "purpose_missing")
    if purpose != Purpose.DATA_MANAGEMENT:
        return Decision(False, "record_archived")
    return None


def decide_lifecycle_report(actor: Actor) -> Decision:
    """May ``actor`` see what the retention job will archive and purge?

    Data managers, with a verified second factor: they answer for the
    records' accuracy and may need to stop a destruction that is wrong.
    """
    if not actor.second_factor_verified:
        return Decision(False, "second_factor_missing")
    if Role.DATA_MANAGER not in actor.roles:
        return Decision(False, "role_not_permitted")
    return Decision(True, "granted")


def decide_lifecycle_listing(actor: Actor, facts: ChildRecordFacts) -> Decision:
    """Does the retention report show this child's directory number to
    ``actor`` (a data manager)? A shielded child's only to the data managers
    and shielding officers of its responsible authority, as in search."""
    if not facts.shielded:
        return Decision(True, "granted")
    authority = facts.responsible_authority_id
    readers = actor.authorities_with(Role.DATA_MANAGER) | actor.authorities_with(
        Role.SHIELDING_OFFICER
    )
    if authority is not None and authority in readers:
        return Decision(True, "granted_responsible_authority")
    return Decision(False, "record_shielded")


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


#: Roles that answer for an organisation's warning flags.
FLAG_ROLES = frozenset({Role.PRACTITIONER, Role.DATA_MANAGER})


def warning_flag_organisations(actor: Actor) -> frozenset[int]:
    """The organisations in whose name ``actor`` may raise or end flags."""
    return frozenset(g.organisation_id for g in actor.grants if g.role in FLAG_ROLES)


def decide_warning_flag_change(actor: Actor, owning_organisation_id: int) -> Decision:
    """May ``actor`` raise a flag owned by ``owning_organisation_id``, or end one?

    A flag tells every reader to contact its organisation before acting, so
    only someone who answers for that organisation may put its name on a
    flag or take it off: a practitioner or data manager there, with a
    verified second factor. (The caller also checks that the actor may see
    the child before raising.)
    """
    if not actor.second_factor_verified:
        return Decision(False, "second_factor_missing")
    answering_for = warning_flag_organisations(actor)
    if not answering_for:
        return Decision(False, "role_not_permitted")
    if owning_organisation_id not in answering_for:
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


class RecordDutyReason(StrEnum):
    """Reason codes of a data manager's duties over one record: correcting it
    (``decide_record_correction``) and answering a subject access request
    (``decide_subject_access``). Stored on the access event."""

    SECOND_FACTOR_MISSING = "second_factor_missing"
    ROLE_NOT_PERMITTED = "role_not_permitted"
    RECORD_SHIELDED = "record_shielded"
    NOT_RESPONSIBLE_AUTHORITY = "not_responsible_authority"
    GRANTED = "granted_data_manager"
    GRANTED_RESPONSIBLE_AUTHORITY = "granted_responsible_authority"


def _data_manager_denial(actor: Actor) -> Decision | None:
    if not actor.second_factor_verified:
        return Decision(False, RecordDutyReason.SECOND_FACTOR_MISSING)
    if Role.DATA_MANAGER not in actor.roles:
        return Decision(False, RecordDutyReason.ROLE_NOT_PERMITTED)
    return None


def _managed_authorities(actor: Actor) -> frozenset[int]:
    """Local authorities whose records ``actor`` manages as a data manager."""
    return actor.authorities_with(Role.DATA_MANAGER) | actor.organisations_with(
        Role.DATA_MANAGER
    )


def decide_record_correction(actor: Actor, facts: ChildRecordFacts) -> Decision:
    """May ``actor`` correct the child's identity details?

    Data managers only, with a verified second factor: they fix what feeds
    got wrong, and feeds cross boundaries, so any data manager may correct
    an ordinary record (as for merges). A shielded record only by a data
    manager of its responsible authority: no one else may even see it.
    """
    denial = _data_manager_denial(actor)
    if denial:
        return denial
    if not facts.shielded:
        return Decision(True, RecordDutyReason.GRANTED)
    if facts.responsible_authority_id in _managed_authorities(actor):
        return Decision(True, RecordDutyReason.GRANTED_RESPONSIBLE_AUTHORITY)
    return Decision(False, RecordDutyReason.RECORD_SHIELDED)


def decide_subject_access(actor: Actor, facts: ChildRecordFacts) -> Decision:
    """May ``actor`` produce the child's subject access report?

    The report holds everything, sensitive involvements and the access log
    included, so only data managers of the child's responsible authority
    (the controller who answers the request), with a verified second factor.
    A record with no responsible authority may be answered by any data
    manager (otherwise nobody could), unless it is shielded: then nobody.
    """
    denial = _data_manager_denial(actor)
    if denial:
        return denial
    authority = facts.responsible_authority_id
    if authority is not None and authority in _managed_authorities(actor):
        return Decision(True, RecordDutyReason.GRANTED_RESPONSIBLE_AUTHORITY)
    if facts.shielded:
        return Decision(False, RecordDutyReason.RECORD_SHIELDED)
    if authority is None:
        return Decision(True, RecordDutyReason.GRANTED)
    return Decision(False, RecordDutyReason.NOT_RESPONSIBLE_AUTHORITY)
