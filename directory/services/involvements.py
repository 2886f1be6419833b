"""Practitioners recording and ending their own involvement with a child.

Who may do it is a pure rule (``directory.policies.decide_involvement_change``:
only a practitioner, only for an organisation at which they hold the
practitioner role), and a small one here (``lead_professional_allowed``: a
lead-professional mark only for the services that can hold one). Every
attempt is audited through ``access_event_record`` — a refusal is recorded
before it is raised, and a change is recorded before it is made (in its own
transaction), with a second event should the change then fail.
"""

import uuid
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Organisation
from accounts.roles import Role
from alerts.triggers import involvement_recorded
from audit.models import AccessAction
from audit.services import access_event_change
from directory.identifiers import long_date
from directory.models import (
    SENSITIVE_SERVICES,
    Child,
    ChildStatus,
    Involvement,
    Provenance,
    ServiceType,
    SourceKind,
)
from directory.policies import (
    ChildRecordFacts,
    Decision,
    Purpose,
    decide_child_record_view,
    decide_involvement_change,
)
from directory.services.refusals import RecordChangeRefused, refusal_audited

#: Services whose practitioner may be a child's lead professional: the
#: universal and targeted services that coordinate early help. Police,
#: "other" and the sensitive services (whose very existence may be hidden
#: from other practitioners) cannot hold the mark.
LEAD_PROFESSIONAL_SERVICES = frozenset(
    {
        ServiceType.EDUCATION,
        ServiceType.GP,
        ServiceType.HEALTH_VISITING,
        ServiceType.SCHOOL_NURSING,
        ServiceType.COMMUNITY_HEALTH,
        ServiceType.SOCIAL_CARE,
        ServiceType.EARLY_HELP,
        ServiceType.YOUTH_JUSTICE,
        ServiceType.YOUTH_WORK,
    }
)


class InvolvementRefused(RecordChangeRefused):
    """The actor may not make this change. ``code`` is the audited reason.

    ``unavailable`` is True when the child or involvement does not exist or
    the actor may not see it: callers show the same "not found" page for
    both, as for records.
    """


# Pure rules ------------------------------------------------------------------


def lead_professional_allowed(service_type: str) -> bool:
    """May the practitioner of a ``service_type`` involvement be lead professional?"""
    return service_type in LEAD_PROFESSIONAL_SERVICES


# Reads the pages need ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrganisationChoice:
    id: int
    name: str


def involvement_organisations(*, actor: Actor) -> list[OrganisationChoice]:
    """The organisations ``actor`` may record involvements for, by name."""
    ids = actor.organisations_with(Role.PRACTITIONER)
    if not ids:
        return []
    return [
        OrganisationChoice(id=pk, name=name)
        for pk, name in Organisation.objects.filter(
            pk__in=ids, is_active=True
        ).values_list("pk", "name")
    ]


# Writes ------------------------------------------------------------------------


def _refuse(
    actor: Actor,
    action: str,
    child_id: UUID | None,
    decision: Decision,
    message: str,
    *,
    unavailable: bool = False,
) -> InvolvementRefused:
    return refusal_audited(
        InvolvementRefused,
        actor=actor,
        action=action,
        child_id=child_id,
        decision=decision,
        message=message,
        unavailable=unavailable,
    )


def _child_facts(child_id: UUID, today: date) -> ChildRecordFacts | None:
    child = (
        Child.unaudited.filter(pk=child_id, status=ChildStatus.ACTIVE)
        .only("id", "shielded", "responsible_authority_id")
        .first()
    )
    if child is None:
        return None
    current = Involvement.unaudited.filter(child_id=child_id).filter(
        Involvement.current_on(today)
    )
    pairs = list(current.values_list("organisation_id", "practitioner_id"))
    return ChildRecordFacts(
        shielded=child.shielded,
        responsible_authority_id=child.responsible_authority_id,
        involved_organisation_ids=frozenset(org for org, _ in pairs),
        involved_practitioner_ids=frozenset(p for _, p in pairs if p),
    )


def _only_organisation(actor: Actor, organisation_id: int | None) -> int:
    """The organisation to record for: the one given, or the actor's only one."""
    if organisation_id is not None:
        return organisation_id
    practising_at = sorted(actor.organisations_with(Role.PRACTITIONER))
    if len(practising_at) > 1:
        raise ValidationError(
            {"organisation_id": "Select the organisation you work for with this child"}
        )
    return practising_at[0] if practising_at else 0


def _what(involvement: Involvement) -> str:
    """The involvement in the access log's words. The audit detail is not
    encrypted, so a sensitive service is not named (nor its organisation)."""
    if involvement.sensitive:
        return "a sensitive involvement"
    return f"an involvement ({_service_label(involvement.service_type)})"


def _service_label(service_type: str) -> str:
    return str(dict(ServiceType.choices).get(service_type, service_type))


def involvement_record(
    *,
    actor: Actor,
    child_id: UUID,
    service_type: str,
    practitioner_role: str,
    started_on: date,
    phone: str,
    email: str,
    lead_professional: bool,
    organisation_id: int | None = None,
    today: date | None = None,
) -> UUID:
    """Record that ``actor`` (and their organisation) works with the child.

    ``organisation_id`` is needed only when the actor is a practitioner at
    more than one organisation. The actor becomes the named practitioner, so
    they have a legitimate relationship with the child from now on.

    Raises InvolvementRefused (audited) when the actor may not record for the
    organisation, or may not see the child (``unavailable``: missing and
    forbidden alike), and ValidationError, keyed by argument name, for input
    that cannot be recorded.
    """
    today = today or timezone.localdate()
    action = AccessAction.CREATE
    organisation_id = _only_organisation(actor, organisation_id)
    decision = decide_involvement_change(actor, organisation_id)
    if not decision.allowed:
        raise _refuse(
            actor,
            action,
            child_id,
            decision,
            "Only a practitioner can record their own organisation's involvement.",
        )
    facts = _child_facts(child_id, today)
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
    _involvement_input_check(
        child_id=child_id,
        service_type=service_type,
        started_on=started_on,
        lead_professional=lead_professional,
        today=today,
    )
    involvement = Involvement(
        id=uuid.uuid4(),
        child_id=child_id,
        organisation_id=organisation_id,
        practitioner_id=actor.user_id,
        practitioner_name=actor.display_name[:150],
        practitioner_role=practitioner_role.strip(),
        phone=phone.strip(),
        email=email.strip(),
        service_type=service_type,
        is_lead_professional=lead_professional,
        sensitive=service_type in SENSITIVE_SERVICES,
        started_on=started_on,
        source=SourceKind.PERSON,
        source_reference=str(actor.user_id),
    )
    involvement.full_clean(exclude=["child", "organisation", "practitioner"])
    lead = " as lead professional" if lead_professional else ""
    with access_event_change(
        actor=actor,
        action=action,
        reason="involvement_recorded",
        child_id=child_id,
        detail=f"Recorded {_what(involvement)}{lead}.",
    ):
        try:
            with transaction.atomic():
                involvement.save(force_insert=True)
        except IntegrityError as error:
            raise ValidationError(
                {"lead_professional": LEAD_PROFESSIONAL_TAKEN}
            ) from error
        provenance_by_person(
            actor=actor,
            child_id=child_id,
            record_type="involvement",
            record_id=involvement.id,
            field="*",
        )
    involvement_recorded(actor=actor, child_id=child_id, involvement_id=involvement.id)
    return involvement.id


LEAD_PROFESSIONAL_TAKEN = (
    "This child already has a lead professional. They need to end their "
    "involvement, or stop being lead professional, first"
)


def _involvement_input_check(
    *,
    child_id: UUID,
    service_type: str,
    started_on: date,
    lead_professional: bool,
    today: date,
) -> None:
    errors: dict[str, str] = {}
    if service_type not in ServiceType.values:
        errors["service_type"] = "Select the service you provide"
    if started_on > today:
        errors["started_on"] = "The date you started must be today or in the past"
    if lead_professional and "service_type" not in errors:
        if not lead_professional_allowed(service_type):
            errors["lead_professional"] = (
                f"A practitioner in {_service_label(service_type).lower()} "
                "cannot be the lead professional"
            )
        elif Involvement.unaudited.filter(
            child_id=child_id, is_lead_professional=True, ended_on__isnull=True
        ).exists():
            errors["lead_professional"] = LEAD_PROFESSIONAL_TAKEN
    if errors:
        raise ValidationError(errors)


def involvement_end(
    *,
    actor: Actor,
    involvement_id: UUID,
    ended_on: date,
    child_id: UUID | None = None,
    today: date | None = None,
) -> UUID:
    """End one of the actor's own organisation's current involvements.

    Returns the child's id. With ``child_id`` the involvement must also be
    that child's (a page's URL names both). Raises InvolvementRefused
    (audited; ``unavailable`` for a missing involvement, or another
    organisation's) when the involvement is not their organisation's, and
    ValidationError for an impossible end date.
    """
    today = today or timezone.localdate()
    action = AccessAction.UPDATE
    found = Involvement.unaudited.filter(
        pk=involvement_id, child__status=ChildStatus.ACTIVE
    )
    if child_id is not None:
        found = found.filter(child_id=child_id)
    involvement = found.select_related("organisation").first()
    if involvement is None:
        raise _refuse(
            actor,
            action,
            child_id,
            Decision(False, "not_found"),
            "The involvement is not available.",
            unavailable=True,
        )
    decision = decide_involvement_change(actor, involvement.organisation_id)
    if not decision.allowed:
        raise _refuse(
            actor,
            action,
            involvement.child_id,
            decision,
            "Only a practitioner at the organisation can end its involvement.",
            unavailable=decision.reason == "not_own_organisation",
        )
    if involvement.ended_on is not None and involvement.ended_on <= today:
        raise ValidationError({"ended_on": "This involvement has already ended"})
    if ended_on > today:
        raise ValidationError({"ended_on": "The end date must be today or in the past"})
    if ended_on < involvement.started_on:
        raise ValidationError(
            {
                "ended_on": "The end date must be the same as or after the date "
                f"it started ({long_date(involvement.started_on)})"
            }
        )
    involvement.ended_on = ended_on
    involvement.full_clean(exclude=["child", "organisation", "practitioner"])
    with access_event_change(
        actor=actor,
        action=action,
        reason="involvement_ended",
        child_id=involvement.child_id,
        detail=f"Ended {_what(involvement)}.",
    ):
        involvement.save(update_fields=["ended_on"])
        provenance_by_person(
            actor=actor,
            child_id=involvement.child_id,
            record_type="involvement",
            record_id=involvement.id,
            field="ended_on",
        )
    return involvement.child_id


def provenance_by_person(
    *, actor: Actor, child_id: UUID, record_type: str, record_id: UUID, field: str
) -> None:
    """Record that ``actor`` (a person, not a feed) wrote ``field`` of a row."""
    Provenance.objects.create(
        child_id=child_id,
        record_type=record_type,
        record_id=record_id,
        field=field,
        source=SourceKind.PERSON,
        source_reference=str(actor.user_id),
    )
