"""Opening one child's record: decide with the policy, audit, then load and decrypt."""

import json
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.db.models import Q
from django.utils import timezone

from accounts.actors import Actor
from alerts.triggers import record_opened
from audit.models import AccessAction
from audit.services import access_event_record
from contactpoint.crypto.fields import binding, unseal, unseal_value
from directory.models import (
    Address,
    Carer,
    Child,
    ChildName,
    ChildStatus,
    Consent,
    Involvement,
    WarningFlag,
)
from directory.policies import (
    ChildRecordFacts,
    Decision,
    InvolvementFacts,
    Purpose,
    decide_child_record_view,
    decide_involvement_visible,
)
from directory.records import (
    CarerView,
    ChildRecord,
    ConsentView,
    InvolvementView,
    MatchProfile,
    NameView,
    WarningFlagView,
)
from directory.selectors.corrections import (
    record_corrections,
    record_date_of_death,
)


class ChildRecordUnavailable(Exception):
    """The record does not exist or the actor may not see it (deliberately alike)."""


def _load_child(child_id: UUID) -> Child | None:
    """The child's row alone: what the policy decides on, before anything of
    the record is read."""
    # Always from the primary, never the read replica (contactpoint/db_router.py),
    # as are _facts and _load_record: the policy decides on these facts, and a
    # record opened just after an involvement, consent or shield was recorded
    # must show it.
    # Archived records load too: the policy lets data managers read them for
    # a year (directory/retention.py). Merged ones never load.
    readable = Q(status=ChildStatus.ACTIVE) | Q(
        status=ChildStatus.ARCHIVED, archived_at__isnull=False
    )
    return Child.unaudited.filter(readable, pk=child_id).first()


def _facts(child: Child, today: date) -> ChildRecordFacts:
    """The policy's facts: the child's row and its current involvements'
    organisations and practitioners (one query, no model instances)."""
    pairs = list(
        Involvement.unaudited.filter(
            Involvement.current_on(today), child_id=child.pk
        ).values_list("organisation_id", "practitioner_id")
    )
    return ChildRecordFacts(
        shielded=child.shielded,
        responsible_authority_id=child.responsible_authority_id,
        involved_organisation_ids=frozenset(org for org, _ in pairs),
        involved_practitioner_ids=frozenset(p for _, p in pairs if p),
        archived_on=timezone.localdate(child.archived_at)
        if child.status == ChildStatus.ARCHIVED and child.archived_at
        else None,
        today=today,
    )


@dataclass(frozen=True, slots=True)
class _RecordRows:
    """The rows of a record the policy allowed, read by ``_load_record``."""

    names: list[ChildName]
    address: Address | None
    carers: list[Carer]
    #: Current involvements, oldest first, each with its latest consent not
    #: withdrawn (None for none).
    involvements: list[tuple[Involvement, Consent | None]]
    warning_flags: list[WarningFlag]


def _load_record(child: Child, today: date) -> _RecordRows:
    """Read the rest of the record, once the policy allowed it: names,
    current address, carers, current involvements with their organisation
    and consents not withdrawn, current warning flags.

    One plain query a table (six at most, five without involvements): the
    same rows ``prefetch_related_objects`` would read, without its per-call
    machinery, which cost more CPU than the queries themselves.
    """
    involvements = list(
        Involvement.unaudited.filter(Involvement.current_on(today), child_id=child.pk)
        .select_related("organisation")
        .order_by("started_on")
    )
    consents: dict[UUID, Consent] = {}
    if involvements:
        # Newest first, so the first one kept per involvement is its latest.
        for consent in Consent.unaudited.filter(
            involvement_id__in=[involvement.pk for involvement in involvements],
            withdrawn_at__isnull=True,
        ).order_by("-recorded_at"):
            consents.setdefault(consent.involvement_id, consent)
    return _RecordRows(
        names=list(ChildName.unaudited.filter(child_id=child.pk)),
        address=next(
            iter(Address.unaudited.filter(child_id=child.pk, is_current=True)), None
        ),
        carers=list(Carer.unaudited.filter(child_id=child.pk)),
        involvements=[
            (involvement, consents.get(involvement.pk)) for involvement in involvements
        ],
        warning_flags=list(
            WarningFlag.unaudited.filter(
                WarningFlag.current_on(today), child_id=child.pk
            )
            .select_related("owning_organisation")
            .order_by("starts_on")
        ),
    )


def _decrypt_record(
    actor: Actor, child: Child, rows: _RecordRows, decision: Decision
) -> ChildRecord:
    address = rows.address
    involvements: list[InvolvementView] = []
    hidden = 0
    for involvement, consent in rows.involvements:
        # Only consents not withdrawn are loaded, so a withdrawal hides it again.
        visible = decide_involvement_visible(
            actor,
            InvolvementFacts(
                sensitive=involvement.sensitive,
                organisation_id=involvement.organisation_id,
                has_consent=consent is not None,
            ),
        )
        if not visible.allowed:
            hidden += 1
            continue
        involvements.append(
            InvolvementView(
                id=involvement.id,
                organisation_id=involvement.organisation_id,
                organisation_name=involvement.organisation.name,
                service_type=involvement.service_type,
                practitioner_name=involvement.practitioner_name,
                practitioner_role=involvement.practitioner_role,
                phone=involvement.phone,
                email=involvement.email,
                is_lead_professional=involvement.is_lead_professional,
                started_on=involvement.started_on,
                ended_on=involvement.ended_on,
                sensitive=involvement.sensitive,
                consent=ConsentView(
                    id=consent.id,
                    given_by=consent.given_by,
                    scope=consent.scope,
                    recorded_at=consent.recorded_at,
                )
                if consent
                else None,
            )
        )
    return ChildRecord(
        id=child.id,
        directory_number=child.directory_number,
        gender=child.gender,
        date_of_birth=date.fromisoformat(unseal(child, "date_of_birth") or ""),
        names=tuple(
            NameView(
                kind=name.kind,
                given_names=unseal(name, "given_names") or "",
                family_name=unseal(name, "family_name") or "",
            )
            for name in rows.names
        ),
        current_address=tuple((unseal(address, "lines") or "").split("\n"))
        if address
        else (),
        current_postcode=unseal(address, "postcode") if address else None,
        nhs_number=unseal(child, "nhs_number"),
        upn=unseal(child, "upn"),
        shielded=child.shielded,
        carers=tuple(
            CarerView(
                name=unseal(carer, "name") or "",
                relationship=carer.relationship,
                parental_responsibility=carer.parental_responsibility,
                phone=unseal(carer, "phone"),
                email=unseal(carer, "email"),
                address=unseal(carer, "address"),
            )
            for carer in rows.carers
        ),
        involvements=tuple(involvements),
        warning_flags=tuple(
            WarningFlagView(
                id=flag.id,
                kind=flag.kind,
                owning_organisation_name=flag.owning_organisation.name,
                contact_name=flag.contact_name,
                contact_phone=flag.contact_phone,
                contact_email=flag.contact_email,
                starts_on=flag.starts_on,
                ends_on=flag.ends_on,
            )
            for flag in rows.warning_flags
        ),
        hidden_involvements=hidden,
        access_reason=decision.reason,
        responsible_authority_id=child.responsible_authority_id,
        date_of_death=record_date_of_death(child),
        corrections=record_corrections(actor, child),
    )


def child_record_get(
    *,
    actor: Actor,
    child_id: UUID,
    purpose: Purpose | None,
    purpose_detail: str = "",
    break_glass: bool = False,
    request_id: str = "",
) -> ChildRecord:
    """Return the child's record as ``actor`` may see it. Every attempt is audited.

    Missing, merged-away and forbidden records raise the same
    ChildRecordUnavailable. Sensitive involvements the actor may not see are
    left out and only counted.

    The policy decides on the child's row and its current involvements'
    organisations and practitioners alone (two queries); names, addresses,
    carers, involvements and flags are read only once it has allowed the
    read, so a refusal (most often the purpose page) reads none of them.
    """
    today = timezone.localdate()
    child = _load_child(child_id)
    decision = (
        Decision(False, "not_found")
        if child is None
        else decide_child_record_view(
            actor, _facts(child, today), purpose, break_glass=break_glass
        )
    )
    access_event_record(
        actor=actor,
        action=AccessAction.VIEW,
        allowed=decision.allowed,
        reason=decision.reason,
        child_id=child_id,
        purpose=purpose.value if purpose else "",
        purpose_detail=purpose_detail,
        break_glass=break_glass and decision.allowed,
        shielded_record=child is not None and child.shielded,
        request_id=request_id,
    )
    if child is None or not decision.allowed:
        raise ChildRecordUnavailable
    record_opened(
        actor=actor,
        child_id=child_id,
        purpose=purpose,
        purpose_detail=purpose_detail,
        break_glass=break_glass,
    )
    return _decrypt_record(actor, child, _load_record(child, today), decision)


def match_profile_decode(child: Child) -> MatchProfile:
    """Decrypt one child's match profile. Callers are selectors that audit."""
    return match_profile_unseal(child.id, child.match_profile)


def match_profile_unseal(child_id: UUID, token: bytes | memoryview) -> MatchProfile:
    """Decrypt a match profile read without its Child (raw SQL, values_list):
    the same as ``match_profile_decode``, without building a model instance
    per candidate. Callers are selectors that audit."""
    text = unseal_value(binding(Child, "match_profile", pk=child_id), token)
    data = json.loads(text or "{}")
    return MatchProfile(
        child_id=child_id,
        given_names=tuple(data["g"]),
        family_names=tuple(data["f"]),
        date_of_birth=date.fromisoformat(data["d"]),
        gender=data["s"],
        postcodes=tuple(data["p"]),
        nhs_number=data.get("n"),
        upn=data.get("u"),
    )
