"""The corrections data managers made to a record, as the record page shows them.

Called by the read gate (``reading._decrypt_record``) after it has decided
and audited the read, so nothing here audits again. Only readers who may
correct the record (``decide_record_correction``) get the corrections, with
the reason decrypted: a practitioner reading the record sees the corrected
values, not who corrected them or why.
"""

from collections.abc import Collection
from datetime import date
from uuid import UUID

from accounts.actors import Actor
from accounts.models import User
from contactpoint.crypto.fields import unseal
from directory.models import Child, Provenance, SourceKind
from directory.policies import ChildRecordFacts, decide_record_correction
from directory.records import CorrectionView

#: Who corrected a field when their account no longer exists.
UNKNOWN_PERSON = "A person whose account has been removed"


def people_names(user_ids: Collection[str]) -> dict[str, str]:
    """Names of the users whose ids (as provenance holds them) are given."""
    valid = set()
    for value in user_ids:
        try:
            valid.add(UUID(value))
        except ValueError:
            continue
    if not valid:
        return {}
    return {str(user.pk): str(user) for user in User.objects.filter(pk__in=valid)}


def corrections_of(rows: Collection[Provenance]) -> tuple[CorrectionView, ...]:
    """The correction rows among ``rows`` (of one child), newest first, with
    their reasons decrypted and their authors named: one query for the names."""
    corrections = sorted(
        (row for row in rows if row.source == SourceKind.CORRECTION),
        key=lambda row: (row.set_at, row.pk),
        reverse=True,
    )
    names = people_names({row.source_reference for row in corrections})
    return tuple(
        CorrectionView(
            record_type=row.record_type,
            field_name=row.field,
            corrected_at=row.set_at,
            corrected_by=names.get(row.source_reference, UNKNOWN_PERSON),
            reason=unseal(row, "reason") or "",
        )
        for row in corrections
    )


def record_corrections(actor: Actor, child: Child) -> tuple[CorrectionView, ...]:
    """The record's corrections for a reader who may correct it; () for anyone
    else, without a query."""
    facts = ChildRecordFacts(
        shielded=child.shielded,
        responsible_authority_id=child.responsible_authority_id,
    )
    if not decide_record_correction(actor, facts).allowed:
        return ()
    return corrections_of(
        list(Provenance.objects.filter(child=child, source=SourceKind.CORRECTION))
    )


def record_date_of_death(child: Child) -> date | None:
    """The child's recorded date of death, decrypted (None when none)."""
    died = unseal(child, "date_of_death")
    return date.fromisoformat(died) if died else None
