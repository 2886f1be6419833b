"""Merging two records of the same child, and undoing a merge (a split).

A data manager who finds the same child twice (two feeds that could not be
matched, or a review decision later found wrong) merges the second record
into the first. Nothing is destroyed, so the merge can be undone exactly:
see ``directory.models.ChildMerge`` for what moves and what is kept. Both are
audited (``child_merge`` / ``child_split``) before the change is made.
"""

import json
import uuid
from typing import Any
from uuid import UUID

from django.db import IntegrityError
from django.utils import timezone

from accounts.actors import Actor
from audit.models import AccessAction
from audit.services import access_event_change, access_event_record
from contactpoint.crypto.fields import seal, unseal
from directory.models import (
    Address,
    BlindIndexEntry,
    Carer,
    Child,
    ChildMerge,
    ChildName,
    ChildStatus,
    Involvement,
    NameKind,
    Provenance,
    WarningFlag,
)
from directory.policies import ChildRecordFacts, decide_child_merge
from directory.services.feed_changes import reindex_from_profile

PERSON = "person"


class MergeRefused(Exception):
    """Refused or impossible; ``message`` says why for a person (no child data)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(code)


def _facts(child: Child) -> ChildRecordFacts:
    return ChildRecordFacts(
        shielded=child.shielded, responsible_authority_id=child.responsible_authority_id
    )


def _refuse(actor: Actor, action: str, reason: str, child_id: UUID | None) -> None:
    access_event_record(
        actor=actor, action=action, allowed=False, reason=reason, child_id=child_id
    )


def children_merge(
    *, actor: Actor, survivor_id: UUID, merged_id: UUID, reason: str
) -> ChildMerge:
    """Merge ``merged_id`` into ``survivor_id``; raise MergeRefused."""
    children = {
        c.id: c
        for c in Child.unaudited.filter(
            pk__in=[survivor_id, merged_id], status=ChildStatus.ACTIVE
        )
    }
    survivor, merged = children.get(survivor_id), children.get(merged_id)
    if survivor is None or merged is None or survivor_id == merged_id:
        _refuse(actor, AccessAction.CHILD_MERGE, "not_found", survivor_id)
        raise MergeRefused(
            "not_found",
            "Choose two different records that are both in the directory.",
        )
    decision = decide_child_merge(actor, _facts(survivor), _facts(merged))
    if not decision.allowed:
        _refuse(actor, AccessAction.CHILD_MERGE, decision.reason, survivor_id)
        raise MergeRefused("not_found", "You cannot merge these records.")
    conflict = _conflict(survivor, merged)
    if conflict is not None:
        _refuse(actor, AccessAction.CHILD_MERGE, conflict.code, survivor_id)
        raise conflict
    try:
        with access_event_change(
            actor=actor,
            action=AccessAction.CHILD_MERGE,
            reason="merged",
            child_id=survivor_id,
            detail=(
                f"Merged {merged.directory_number} into {survivor.directory_number}."
            ),
            purpose_detail=reason,
        ):
            return _merge(actor, survivor_id, merged_id, reason)
    except IntegrityError:
        # The same record merged elsewhere at the same moment.
        raise MergeRefused(
            "changed", "One of these records has just changed: check and try again."
        ) from None


def _conflict(survivor: Child, merged: Child) -> MergeRefused | None:
    """Why these two cannot be the same child (or be merged by a data manager)."""
    if survivor.shielded != merged.shielded:
        return MergeRefused(
            "shielded_mismatch",
            "One of these records is restricted and the other is not. Ask the "
            "responsible authority's shielding officer to restrict both first.",
        )
    ours, theirs = _profile(survivor), _profile(merged)
    for key, label in (("n", "NHS numbers"), ("u", "UPNs")):
        if ours.get(key) and theirs.get(key) and ours[key] != theirs[key]:
            return MergeRefused(
                "identifier_conflict",
                f"These records have different {label}, so they are different "
                "children. Check the identifiers with the organisations that "
                "sent them.",
            )
    if ours["d"] != theirs["d"]:
        return MergeRefused(
            "date_of_birth_conflict",
            "These records have different dates of birth. Correct the wrong one "
            "first, then merge them.",
        )
    return None


def _profile(child: Child) -> dict[str, Any]:
    return dict(json.loads(unseal(child, "match_profile") or "{}"))


def _locked(*child_ids: UUID) -> dict[UUID, Child]:
    """The children, locked in id order (so two merges never deadlock)."""
    return {
        c.id: c
        for c in Child.unaudited.select_for_update()
        .filter(pk__in=child_ids)
        .order_by("pk")
    }


def _merge(actor: Actor, survivor_id: UUID, merged_id: UUID, reason: str) -> ChildMerge:
    children = _locked(survivor_id, merged_id)
    survivor, merged = children[survivor_id], children[merged_id]
    if survivor.status != ChildStatus.ACTIVE or merged.status != ChildStatus.ACTIVE:
        raise MergeRefused(
            "changed", "One of these records has just changed: check and try again."
        )
    conflict = _conflict(survivor, merged)
    if conflict is not None:
        raise conflict
    ours, theirs = _profile(survivor), _profile(merged)
    record = ChildMerge(
        survivor=survivor,
        merged=merged,
        merged_by_id=actor.user_id,
        survivor_profile_before=bytes(survivor.match_profile),
        survivor_nhs_number_before=(
            bytes(survivor.nhs_number) if survivor.nhs_number else None
        ),
        survivor_upn_before=bytes(survivor.upn) if survivor.upn else None,
    )
    seal(record, "reason", reason)
    moved: dict[str, Any] = {
        "names": [],
        "addresses": [],
        "carers": [],
        "involvements": [],
        "flags": [],
        "unlead": [],
    }
    _copy_identity_rows(survivor, merged, moved)
    has_lead = Involvement.unaudited.filter(
        child=survivor, is_lead_professional=True, ended_on__isnull=True
    ).exists()
    for involvement in Involvement.unaudited.filter(child=merged):
        if (
            involvement.is_lead_professional
            and involvement.ended_on is None
            and has_lead
        ):
            involvement.is_lead_professional = False
            moved["unlead"].append(str(involvement.id))
        involvement.child = survivor
        involvement.save(update_fields=["child", "is_lead_professional"])
        moved["involvements"].append(str(involvement.id))
    flags = WarningFlag.unaudited.filter(child=merged)
    moved["flags"] = [str(i) for i in flags.values_list("id", flat=True)]
    flags.update(child=survivor)
    pairs = list(zip(ours["g"], ours["f"], strict=True))
    pairs += [
        pair for pair in zip(theirs["g"], theirs["f"], strict=True) if pair not in pairs
    ]
    ours["g"], ours["f"] = [g for g, _ in pairs], [f for _, f in pairs]
    ours["p"] = [*ours["p"], *(p for p in theirs["p"] if p not in ours["p"])]
    for key, field in (("n", "nhs_number"), ("u", "upn")):
        if not ours.get(key) and theirs.get(key):
            ours[key] = theirs[key]
            seal(survivor, field, theirs[key])
            moved[f"took_{field}"] = True
    seal(survivor, "match_profile", json.dumps(ours, separators=(",", ":")))
    survivor.save(update_fields=["match_profile", "nhs_number", "upn", "updated_at"])
    reindex_from_profile(survivor.id, ours)
    merged.status, merged.merged_into = ChildStatus.MERGED, survivor
    merged.save(update_fields=["status", "merged_into", "updated_at"])
    BlindIndexEntry.objects.filter(child=merged).delete()
    record.moved = moved
    record.save(force_insert=True)
    Provenance.objects.create(
        child=survivor,
        record_type="child_merge",
        record_id=record.id,
        field="*",
        source=PERSON,
        source_reference=str(actor.user_id),
    )
    return record


def _copy_identity_rows(survivor: Child, merged: Child, moved: dict[str, Any]) -> None:
    """Re-sealed copies of the merged record's names (as aliases, former
    names staying former), addresses (as past ones) and carers."""
    for name in ChildName.unaudited.filter(child=merged):
        copy = ChildName(
            id=uuid.uuid4(),
            child=survivor,
            kind=NameKind.FORMER if name.kind == NameKind.FORMER else NameKind.ALIAS,
        )
        seal(copy, "given_names", unseal(name, "given_names"))
        seal(copy, "family_name", unseal(name, "family_name"))
        copy.save(force_insert=True)
        moved["names"].append(str(copy.id))
    for address in Address.unaudited.filter(child=merged):
        copy_address = Address(
            id=uuid.uuid4(),
            child=survivor,
            is_current=False,
            moved_in_on=address.moved_in_on,
            moved_out_on=address.moved_out_on,
        )
        seal(copy_address, "lines", unseal(address, "lines"))
        seal(copy_address, "postcode", unseal(address, "postcode"))
        copy_address.save(force_insert=True)
        moved["addresses"].append(str(copy_address.id))
    for carer in Carer.unaudited.filter(child=merged):
        copy_carer = Carer(
            id=uuid.uuid4(),
            child=survivor,
            relationship=carer.relationship,
            parental_responsibility=carer.parental_responsibility,
        )
        for field in ("name", "phone", "email", "address"):
            seal(copy_carer, field, unseal(carer, field))
        copy_carer.save(force_insert=True)
        moved["carers"].append(str(copy_carer.id))


def merge_undo(*, actor: Actor, merge_id: UUID) -> ChildMerge:
    """Undo a merge: both records as they were, plus what the survivor gained since."""
    record = (
        ChildMerge.objects.select_related("survivor", "merged")
        .filter(pk=merge_id, undone_at__isnull=True)
        .first()
    )
    if record is None:
        _refuse(actor, AccessAction.CHILD_SPLIT, "not_found", None)
        raise MergeRefused("not_found", "This merge cannot be undone.")
    decision = decide_child_merge(actor, _facts(record.survivor), _facts(record.merged))
    if not decision.allowed:
        _refuse(actor, AccessAction.CHILD_SPLIT, decision.reason, record.survivor_id)
        raise MergeRefused("not_found", "This merge cannot be undone.")
    with access_event_change(
        actor=actor,
        action=AccessAction.CHILD_SPLIT,
        reason="split",
        child_id=record.survivor_id,
        detail=(
            f"Undid the merge of {record.merged.directory_number} into "
            f"{record.survivor.directory_number}."
        ),
    ):
        _split(actor, merge_id)
    record.refresh_from_db()
    return record


def _split(actor: Actor, merge_id: UUID) -> None:
    record = ChildMerge.objects.select_for_update().get(pk=merge_id)
    if record.undone_at is not None:
        raise MergeRefused("not_found", "This merge has already been undone.")
    children = _locked(record.survivor_id, record.merged_id)
    survivor, merged = children[record.survivor_id], children[record.merged_id]
    if (
        survivor.status != ChildStatus.ACTIVE
        or merged.status != ChildStatus.MERGED
        or merged.merged_into_id != survivor.id
    ):
        raise MergeRefused(
            "not_undoable",
            "The record it was merged into has been merged or archived since: "
            "undo that first.",
        )
    moved = record.moved
    ChildName.unaudited.filter(pk__in=moved["names"]).delete()
    Address.unaudited.filter(pk__in=moved["addresses"]).delete()
    Carer.unaudited.filter(pk__in=moved["carers"]).delete()
    Involvement.unaudited.filter(pk__in=moved["involvements"]).update(child=merged)
    Involvement.unaudited.filter(pk__in=moved["unlead"]).update(
        is_lead_professional=True
    )
    WarningFlag.unaudited.filter(pk__in=moved["flags"]).update(child=merged)
    for field in ("nhs_number", "upn"):
        # An identifier the survivor took from the merged record goes back,
        # unless it has been changed since.
        if moved.get(f"took_{field}") and unseal(survivor, field) == unseal(
            merged, field
        ):
            setattr(survivor, field, None)
    profile = _profile_from_rows(survivor)
    seal(survivor, "match_profile", json.dumps(profile, separators=(",", ":")))
    survivor.save(update_fields=["match_profile", "nhs_number", "upn", "updated_at"])
    merged.status, merged.merged_into = ChildStatus.ACTIVE, None
    merged.save(update_fields=["status", "merged_into", "updated_at"])
    reindex_from_profile(survivor.id, profile)
    reindex_from_profile(merged.id, _profile(merged))
    record.undone_by_id = actor.user_id
    record.undone_at = timezone.now()
    record.save(update_fields=["undone_by_id", "undone_at"])


def _profile_from_rows(child: Child) -> dict[str, Any]:
    """The match profile rebuilt from the child's own rows as they are now
    (legal name and current address first), so whatever the record gained
    since a merge stays findable after the merge is undone."""
    profile = _profile(child)
    names = sorted(
        ChildName.unaudited.filter(child=child),
        key=lambda n: (n.kind != NameKind.LEGAL, n.created_at),
    )
    addresses = sorted(
        Address.unaudited.filter(child=child),
        key=lambda a: (not a.is_current, a.created_at),
    )
    profile["g"] = [unseal(n, "given_names") for n in names]
    profile["f"] = [unseal(n, "family_name") for n in names]
    profile["p"] = [unseal(a, "postcode") for a in addresses]
    profile["s"] = child.gender
    profile["n"] = unseal(child, "nhs_number")
    profile["u"] = unseal(child, "upn")
    return profile
