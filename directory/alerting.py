"""What the alerts app (alerts/) needs from the directory, as plain values.

The alerts app tells a warning flag's contact and a child's lead
professional when someone outside the flag's organisation opens the record,
and tells the lead professional who has joined. It needs the flags' owners
and contacts, who the lead professional is, and the child's directory
number: contact details of professionals and ids, never the child's
identity. These reads are not audited themselves (as ``lookups``): the
alerts app audits every alert it sends (``AccessAction.ALERT_SEND``).

The one read of child data, the name shown beside an alert in the inbox,
goes through the access policy and is audited: ``child_name_for_alert``.

It sits beside ``selectors/`` and ``services/`` rather than in either:
both call into the alerts app (the read gate and the involvement and
break-glass services), and the layers contract keeps selectors and services
from reaching each other, even through another app. Like them, it is one of
the few modules allowed the ``unaudited`` managers (tests/test_architecture.py).
"""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.db.models import QuerySet

from accounts.actors import Actor
from audit.models import AccessAction
from audit.services import access_event_record
from contactpoint.crypto.fields import unseal
from directory.models import (
    SENSITIVE_SERVICES,
    Child,
    ChildName,
    ChildStatus,
    Involvement,
    NameKind,
    ServiceType,
    WarningFlag,
)
from directory.policies import (
    ChildRecordFacts,
    Decision,
    decide_child_record_view,
)


@dataclass(frozen=True, slots=True)
class FlagContactFacts:
    owning_organisation_id: int
    contact_email: str


@dataclass(frozen=True, slots=True)
class ChildAlertFacts:
    """A child's current flags and lead professional; nothing of the child."""

    child_id: UUID
    directory_number: str
    shielded: bool
    responsible_authority_id: int | None
    flags: tuple[FlagContactFacts, ...]
    lead_professional_id: UUID | None


@dataclass(frozen=True, slots=True)
class InvolvementFacts:
    """An involvement as the lead professional would be told of it."""

    child_id: UUID
    organisation_id: int
    organisation_name: str
    service_label: str
    sensitive: bool
    practitioner_id: UUID | None
    practitioner_name: str
    practitioner_role: str
    phone: str
    email: str
    started_on: date


def _current_flags(child_id: UUID, today: date) -> "QuerySet[WarningFlag]":
    return WarningFlag.unaudited.filter(child_id=child_id, starts_on__lte=today).filter(
        WarningFlag.current_on(today)
    )


def _current_lead(child_id: UUID, today: date) -> UUID | None:
    found: UUID | None = (
        Involvement.unaudited.filter(
            child_id=child_id,
            is_lead_professional=True,
            practitioner_id__isnull=False,
        )
        .filter(Involvement.current_on(today))
        .order_by("-started_on")
        .values_list("practitioner_id", flat=True)
        .first()
    )
    return found


def flag_outside_exists(
    *, child_id: UUID, organisation_ids: frozenset[int], today: date
) -> bool:
    """Has the child a current warning flag owned by none of
    ``organisation_ids``? One index-backed query, for every record opening."""
    return (
        _current_flags(child_id, today)
        .exclude(owning_organisation_id__in=list(organisation_ids))
        .exists()
    )


def lead_professional_other_than(*, child_id: UUID, user_id: UUID, today: date) -> bool:
    """Has the child a current lead professional who is not ``user_id``?"""
    lead = _current_lead(child_id, today)
    return lead is not None and lead != user_id


def child_alert_facts(*, child_id: UUID, today: date) -> ChildAlertFacts | None:
    """The active child's current flags and lead professional, or None."""
    child = (
        Child.unaudited.filter(pk=child_id, status=ChildStatus.ACTIVE)
        .only("id", "directory_number", "shielded", "responsible_authority_id")
        .first()
    )
    if child is None:
        return None
    flags = tuple(
        FlagContactFacts(owning_organisation_id=org, contact_email=email)
        for org, email in _current_flags(child_id, today)
        .order_by("starts_on", "id")
        .values_list("owning_organisation_id", "contact_email")
    )
    return ChildAlertFacts(
        child_id=child.id,
        directory_number=child.directory_number,
        shielded=child.shielded,
        responsible_authority_id=child.responsible_authority_id,
        flags=flags,
        lead_professional_id=_current_lead(child_id, today),
    )


def involvement_for_alert(*, involvement_id: UUID) -> InvolvementFacts | None:
    """One involvement of an active child, as the lead professional is told."""
    involvement = (
        Involvement.unaudited.filter(
            pk=involvement_id, child__status=ChildStatus.ACTIVE
        )
        .select_related("organisation")
        .first()
    )
    if involvement is None:
        return None
    return InvolvementFacts(
        child_id=involvement.child_id,
        organisation_id=involvement.organisation_id,
        organisation_name=involvement.organisation.name,
        service_label=str(
            dict(ServiceType.choices).get(
                involvement.service_type, involvement.service_type
            )
        ),
        sensitive=involvement.sensitive
        or involvement.service_type in SENSITIVE_SERVICES,
        practitioner_id=involvement.practitioner_id,
        practitioner_name=involvement.practitioner_name,
        practitioner_role=involvement.practitioner_role,
        phone=involvement.phone,
        email=involvement.email,
        started_on=involvement.started_on,
    )


def child_name_for_alert(
    *, actor: Actor, child_id: UUID, today: date, request_id: str = ""
) -> str | None:
    """The child's name for an alert in ``actor``'s inbox, or None.

    Shown only when the policy would open the record for ``actor`` without
    asking why (``decide_child_record_view`` with no purpose: a practitioner
    named on one of the child's current involvements, and for a shielded
    record only its responsible authority's officers), so an alert never
    shows more than the record page would. Audited either way, as a view.
    """
    child = (
        Child.unaudited.filter(pk=child_id, status=ChildStatus.ACTIVE)
        .only("id", "shielded", "responsible_authority_id")
        .first()
    )
    if child is None:
        decision = Decision(False, "not_found")
    else:
        pairs = list(
            Involvement.unaudited.filter(child_id=child_id)
            .filter(Involvement.current_on(today))
            .values_list("organisation_id", "practitioner_id")
        )
        facts = ChildRecordFacts(
            shielded=child.shielded,
            responsible_authority_id=child.responsible_authority_id,
            involved_organisation_ids=frozenset(org for org, _ in pairs),
            involved_practitioner_ids=frozenset(p for _, p in pairs if p),
        )
        decision = decide_child_record_view(actor, facts, None)
    access_event_record(
        actor=actor,
        action=AccessAction.VIEW,
        allowed=decision.allowed,
        reason=decision.reason,
        child_id=child_id,
        detail="The child's name beside an alert in the inbox."
        if decision.allowed
        else "The child's name was not shown beside an alert in the inbox.",
        shielded_record=child is not None and child.shielded,
        request_id=request_id,
    )
    if child is None or not decision.allowed:
        return None
    names = {
        name.kind: name
        for name in ChildName.unaudited.filter(
            child_id=child_id, kind__in=[NameKind.PREFERRED, NameKind.LEGAL]
        ).only("id", "child_id", "kind", "given_names", "family_name")
    }
    name = names.get(NameKind.PREFERRED) or names.get(NameKind.LEGAL)
    if name is None:
        return None
    given = unseal(name, "given_names") or ""
    family = unseal(name, "family_name") or ""
    return f"{given} {family}".strip() or None
