"""People raising and ending warning flags (feeds raise and end theirs in
``directory.services.feed_changes``).

A flag says "contact this organisation before acting". Who may raise one in
an organisation's name, or end one it owns, is the pure rule
``directory.policies.decide_warning_flag_change`` (a practitioner or data
manager there); raising also needs a child the actor may open. Every attempt
is audited through ``access_event_record``: a refusal is recorded before it
is raised, and a change is recorded before it is made, with a second event
should the change then fail (``access_event_change``). The access log's
detail never names the kind of flag: it is in clear, and "child protection
plan" said of a child id is child data.
"""

import uuid
from datetime import date
from uuid import UUID

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.actors import Actor
from audit.models import AccessAction
from audit.services import access_event_change
from directory.identifiers import long_date
from directory.models import Child, ChildStatus, FlagKind, WarningFlag
from directory.policies import (
    ChildRecordFacts,
    Decision,
    Purpose,
    decide_child_record_view,
    decide_warning_flag_change,
    warning_flag_organisations,
)
from directory.services.involvements import provenance_by_person
from directory.services.refusals import RecordChangeRefused, refusal_audited


class WarningFlagRefused(RecordChangeRefused):
    """The actor may not make this change. ``code`` is the audited reason.

    ``unavailable`` is True when the child or flag does not exist or is not
    the actor's to see or change: callers answer "not found" for both, as
    for records.
    """


def _refuse(
    actor: Actor,
    action: str,
    child_id: UUID | None,
    decision: Decision,
    message: str,
    *,
    unavailable: bool = False,
) -> WarningFlagRefused:
    return refusal_audited(
        WarningFlagRefused,
        actor=actor,
        action=action,
        child_id=child_id,
        decision=decision,
        message=message,
        unavailable=unavailable,
    )


def _owning_organisation(actor: Actor, organisation_id: int | None) -> int:
    """The organisation named, or the actor's only one (0 when they have none,
    which the policy refuses)."""
    if organisation_id is not None:
        return organisation_id
    answering_for = sorted(warning_flag_organisations(actor))
    if len(answering_for) > 1:
        raise ValidationError(
            {
                "owning_organisation_id": "Select the organisation that owns the "
                "flag: you work for more than one"
            }
        )
    return answering_for[0] if answering_for else 0


def _child_facts(child_id: UUID) -> ChildRecordFacts | None:
    child = (
        Child.unaudited.filter(pk=child_id, status=ChildStatus.ACTIVE)
        .only("id", "shielded", "responsible_authority_id")
        .first()
    )
    if child is None:
        return None
    return ChildRecordFacts(
        shielded=child.shielded,
        responsible_authority_id=child.responsible_authority_id,
    )


def _raise_input_check(
    *,
    child_id: UUID,
    kind: str,
    owning_organisation_id: int,
    starts_on: date,
    ends_on: date | None,
    today: date,
) -> None:
    errors: dict[str, str] = {}
    if kind not in FlagKind.values:
        errors["kind"] = "Select the kind of flag"
    elif (
        WarningFlag.unaudited.filter(
            child_id=child_id, kind=kind, owning_organisation_id=owning_organisation_id
        )
        .filter(WarningFlag.current_on(today))
        .exists()
    ):
        errors["kind"] = (
            "Your organisation already has a current flag of this kind on "
            "this child. End it first if it needs replacing"
        )
    if starts_on > today:
        errors["starts_on"] = "The start date must be today or in the past"
    if ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = "The end date must be the same as or after the start date"
    if errors:
        raise ValidationError(errors)


def warning_flag_raise(
    *,
    actor: Actor,
    child_id: UUID,
    kind: str,
    contact_name: str,
    contact_phone: str,
    starts_on: date,
    contact_email: str = "",
    ends_on: date | None = None,
    owning_organisation_id: int | None = None,
    today: date | None = None,
) -> UUID:
    """Raise a flag on the child in the name of the actor's organisation.

    ``owning_organisation_id`` is needed only when the actor answers for
    more than one organisation. ``ends_on`` may lie in the future (a plan's
    review date). Returns the flag's id.

    Raises WarningFlagRefused (audited) when the actor may not raise flags
    for the organisation, or may not see the child (``unavailable``: missing
    and forbidden alike), and ValidationError, keyed by argument name, for
    input that cannot be recorded.
    """
    today = today or timezone.localdate()
    action = AccessAction.CREATE
    organisation_id = _owning_organisation(actor, owning_organisation_id)
    decision = decide_warning_flag_change(actor, organisation_id)
    if not decision.allowed:
        raise _refuse(
            actor,
            action,
            child_id,
            decision,
            "Only a practitioner or data manager can raise a flag, and only "
            "for their own organisation.",
        )
    facts = _child_facts(child_id)
    seen = (
        Decision(False, "not_found")
        if facts is None
        else decide_child_record_view(actor, facts, Purpose.PROVIDING_SERVICE)
    )
    if not seen.allowed:
        raise _refuse(
            actor,
            action,
            child_id,
            seen,
            "The record is not available.",
            unavailable=True,
        )
    _raise_input_check(
        child_id=child_id,
        kind=kind,
        owning_organisation_id=organisation_id,
        starts_on=starts_on,
        ends_on=ends_on,
        today=today,
    )
    flag = WarningFlag(
        id=uuid.uuid4(),
        child_id=child_id,
        kind=kind,
        owning_organisation_id=organisation_id,
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
        contact_email=contact_email.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        raised_by_id=actor.user_id,
    )
    flag.full_clean(exclude=["child", "owning_organisation"])
    with access_event_change(
        actor=actor,
        action=action,
        reason="warning_flag_raised",
        child_id=child_id,
        detail="Raised a warning flag.",
    ):
        flag.save(force_insert=True)
        provenance_by_person(
            actor=actor,
            child_id=child_id,
            record_type="warning_flag",
            record_id=flag.id,
            field="*",
        )
    return flag.id


def warning_flag_end(
    *,
    actor: Actor,
    flag_id: UUID,
    ended_on: date,
    child_id: UUID | None = None,
    today: date | None = None,
) -> UUID:
    """End a current flag that the actor's organisation owns. Returns the
    child's id.

    With ``child_id`` the flag must also be that child's (a URL names both).
    Raises WarningFlagRefused (audited; ``unavailable`` for a missing flag,
    or another organisation's) and ValidationError for an impossible end
    date or a flag that has already ended.
    """
    today = today or timezone.localdate()
    action = AccessAction.UPDATE
    found = WarningFlag.unaudited.filter(pk=flag_id, child__status=ChildStatus.ACTIVE)
    if child_id is not None:
        found = found.filter(child_id=child_id)
    flag = found.first()
    if flag is None:
        raise _refuse(
            actor,
            action,
            child_id,
            Decision(False, "not_found"),
            "The flag is not available.",
            unavailable=True,
        )
    decision = decide_warning_flag_change(actor, flag.owning_organisation_id)
    if not decision.allowed:
        raise _refuse(
            actor,
            action,
            flag.child_id,
            decision,
            "Only a practitioner or data manager at the organisation that "
            "owns the flag can end it.",
            unavailable=decision.reason == "not_own_organisation",
        )
    if flag.ends_on is not None and flag.ends_on <= today:
        raise ValidationError({"ended_on": "This flag has already ended"})
    if ended_on > today:
        raise ValidationError({"ended_on": "The end date must be today or in the past"})
    if ended_on < flag.starts_on:
        raise ValidationError(
            {
                "ended_on": "The end date must be the same as or after the date "
                f"it started ({long_date(flag.starts_on)})"
            }
        )
    flag.ends_on = ended_on
    flag.full_clean(exclude=["child", "owning_organisation"])
    with access_event_change(
        actor=actor,
        action=action,
        reason="warning_flag_ended",
        child_id=flag.child_id,
        detail="Ended a warning flag.",
    ):
        flag.save(update_fields=["ends_on"])
        provenance_by_person(
            actor=actor,
            child_id=flag.child_id,
            record_type="warning_flag",
            record_id=flag.id,
            field="ends_on",
        )
    return flag.child_id
