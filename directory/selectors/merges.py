"""The merges a data manager may see and undo: numbers and dates, no child data."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from accounts.actors import Actor
from directory.models import ChildMerge
from directory.policies import ChildRecordFacts, decide_child_merge


@dataclass(frozen=True, slots=True)
class MergeView:
    id: UUID
    survivor_id: UUID
    survivor_number: str
    merged_number: str
    merged_at: datetime
    merged_by_id: UUID
    undone_at: datetime | None


def merge_list(actor: Actor, *, limit: int = 200) -> list[MergeView]:
    """The latest merges the policy lets ``actor`` undo, newest first.

    Directory numbers and dates only (not personal data), so not audited; the
    merge reason, which a person wrote and may name the child, is left out.
    """
    merges = ChildMerge.objects.select_related("survivor", "merged").order_by(
        "-merged_at"
    )[:limit]
    return [
        MergeView(
            id=m.id,
            survivor_id=m.survivor_id,
            survivor_number=m.survivor.directory_number,
            merged_number=m.merged.directory_number,
            merged_at=m.merged_at,
            merged_by_id=m.merged_by_id,
            undone_at=m.undone_at,
        )
        for m in merges
        if decide_child_merge(
            actor,
            ChildRecordFacts(m.survivor.shielded, m.survivor.responsible_authority_id),
            ChildRecordFacts(m.merged.shielded, m.merged.responsible_authority_id),
        ).allowed
    ]
