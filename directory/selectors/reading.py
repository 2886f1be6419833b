"""Opening one child's record: load, decide with the policy, audit, decrypt."""

import json
from datetime import date
from uuid import UUID

from django.db.models import Prefetch, Q
from django.utils import timezone

from accounts.actors import Actor
from alerts.triggers import record_opened
from audit.models import AccessAction
from audit.services import access_event_record
from contactpoint.crypto.fields import binding, unseal, unseal_value
from directory.models import (
    Address,
    Child,
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
    # Always from the primary, never the read replica (contactpoint/db_router.py):
    # the policy decides on these facts, and a record opened just after an
    # involvement, consent or shield was recorded must show it.
    today = timezone.localdate()
    current_involvements = Involvement.unaudited.filter(
        ended_on__isnull=True
    ) | Involvement.unaudited.filter(ended_on__gte=today)
    # Archived records load too: the policy lets data managers read them for
    # a year (directory/retention.py). Merged ones never load.
    readable = Q(status=ChildStatus.ACTIVE) | Q(
        status=ChildStatus.ARCHIVED, archived_at__isnull=False
    )
    return (
        Child.unaudited.filter(readable, pk=child_id)
        .prefetch_related(
            "names",
            Prefetch("addresses", queryset=Address.unaudited.filter(is_current=True)),
            "carers",
            Prefetch(
                "involvements",
                queryset=current_involvements.select_related("organisation")
                .prefetch_related(
                    Prefetch(
                        "consents",
                        queryset=Consent.unaudited.filter(
                            withdrawn_at__isnull=True
                        ).order_by("-recorded_at"),
                    )
                )
                .order_by("started_on"),
            ),
            Prefetch(
                "warning_flags",
                queryset=(
                    WarningFlag.unaudited.filter(ends_on__isnull=True)
                    | WarningFlag.unaudited.filter(ends_on__gte=today)
                )
                .select_related("owning_organisation")
                .order_by("starts_on"),
            ),
        )
        .first()
    )


def _facts(child: Child) -> ChildRecordFacts:
    involvements = list(child.involvements.all())
    return ChildRecordFacts(
        shielded=child.shielded,
        responsible_authority_id=child.responsible_authority_id,
        involved_organisation_ids=frozenset(i.organisation_id for i in involvements),
        involved_practitioner_ids=frozenset(
            i.practitioner_id for i in involvements if i.practitioner_id
        ),
        archived_on=timezone.localdate(child.archived_at)
        if child.status == ChildStatus.ARCHIVED and child.archived_at
        else None,
        today=timezone.localdate(),
    )


def _decrypt_record(actor: Actor, child: Child, decision: Decision) -> ChildRecord:
    address = next(iter(child.addresses.all()), None)
    involvements: list[InvolvementView] = []
    hidden = 0
    for involvement in child.involvements.all():
        # Only consents not withdrawn are loaded, so a withdrawal hides it again.
        consent = next(iter(involvement.consents.all()), None)
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
            for name in child.names.all()
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
            for carer in child.carers.all()
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
            for flag in child.warning_flags.all()
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
    """
    child = _load_child(child_id)
    decision = (
        Decision(False, "not_found")
        if child is None
        else decide_child_record_view(
            actor, _facts(child), purpose, break_glass=break_glass
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
    return _decrypt_record(actor, child, decision)


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
