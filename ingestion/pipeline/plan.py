"""Plan: what a row linked to an existing child changes in that child. Pure.

Feeds are trusted for what their sender knows, and conservative elsewhere:

- a family name the child has never had is a surname change: it becomes the
  legal name and the old one a former name. A different spelling of the
  given name is not applied (feeds disagree about "Katie" and "Catherine";
  the child keeps the name a person or an earlier feed recorded);
- a different current postcode is a move: the new address becomes current;
- an NHS number, UPN or known gender the record lacks is filled in; one it
  has is never overwritten by a feed (a conflict went to review instead);
- an involvement of the same organisation and service that is already open
  is kept (and ended when the row says it ended); otherwise it is added;
- a flag of the same kind, organisation and start date is kept (and ended
  when the row says so); otherwise it is added.
"""

from datetime import date
from uuid import UUID

from contactpoint.crypto.normalise import compact, fold
from directory.records import (
    ChildChanges,
    FeedChildState,
    NewAddress,
    NewInvolvement,
    NewName,
    NewWarningFlag,
)
from directory.retention import ADULT_AGE, anniversary
from ingestion.pipeline.records import FieldProblem, ValidRecord

_GENDER_NOT_KNOWN = "0"


def plan_changes(record: ValidRecord, state: FeedChildState) -> ChildChanges:
    """The changes ``record`` makes to the child in ``state`` (maybe none)."""
    child = record.child
    profile = state.profile
    legal = next((n for n in child.names if n.kind == "legal"), None)
    new_name: NewName | None = None
    known_families = {fold(name) for name in profile.family_names}
    if legal is not None and fold(legal.family_name) not in known_families:
        new_name = NewName(legal.given_names, legal.family_name, "legal")
    current = next((a for a in child.addresses if a.is_current), None)
    new_address: NewAddress | None = None
    if current is not None and current.postcode and _moved(current, state):
        new_address = current
    add_involvements: list[NewInvolvement] = []
    end_involvements: list[tuple[UUID, date]] = []
    for involvement in child.involvements:
        existing = next(
            (
                i
                for i in state.involvements
                if i.organisation_id == involvement.organisation_id
                and i.service_type == involvement.service_type
            ),
            None,
        )
        if existing is None:
            if involvement.ended_on is None:
                add_involvements.append(involvement)
        elif involvement.ended_on is not None:
            end_involvements.append(
                (existing.id, max(involvement.ended_on, existing.started_on))
            )
    add_flags: list[NewWarningFlag] = []
    end_flags: list[tuple[UUID, date]] = []
    for flag in child.warning_flags:
        known = next(
            (
                f
                for f in state.flags
                if f.kind == flag.kind
                and f.owning_organisation_id == flag.owning_organisation_id
                and f.starts_on == flag.starts_on
            ),
            None,
        )
        if known is None:
            if flag.ends_on is None:
                add_flags.append(flag)
        elif flag.ends_on is not None:
            end_flags.append((known.id, max(flag.ends_on, known.starts_on)))
    return ChildChanges(
        child_id=profile.child_id,
        new_legal_name=new_name,
        new_address=new_address,
        set_nhs_number=child.nhs_number if not profile.nhs_number else None,
        set_upn=child.upn if not profile.upn else None,
        set_gender=(
            child.gender
            if profile.gender == _GENDER_NOT_KNOWN and child.gender != _GENDER_NOT_KNOWN
            else None
        ),
        add_involvements=tuple(add_involvements),
        end_involvements=tuple(end_involvements),
        add_flags=tuple(add_flags),
        end_flags=tuple(end_flags),
    )


def _moved(address: NewAddress, state: FeedChildState) -> bool:
    if state.current_postcode is None:
        return True
    return compact(address.postcode).upper() != compact(state.current_postcode).upper()


#: Why a row for someone of 18 or over that matches no child is not made a
#: record: the directory holds children; a young person who stays on (to 25,
#: with consent) keeps the record they had, and one the nightly job archived
#: is not brought back by a feed.
ADULT_NOT_HELD = FieldProblem(
    field="date_of_birth",
    code="adult_not_held",
    message=(
        f"This person is {ADULT_AGE} or over and matches no child in the "
        "directory, which holds records of children only, so no record was "
        "made. If they should have a record (a care leaver who has consented "
        "to stay, say), a data manager can find their archived record or ask "
        "the sender to check the date of birth."
    ),
)


def creation_problem(date_of_birth: date, today: date) -> FieldProblem | None:
    """Why a row that matches no child may not become a new record, if it
    may not: only a child under ADULT_AGE on ``today`` gets one."""
    return ADULT_NOT_HELD if today >= anniversary(date_of_birth, ADULT_AGE) else None
