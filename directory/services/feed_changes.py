"""Applying a feed's changes to existing children, in the caller's transaction.

``child_changes_apply`` takes the explicit changes planned by the pure
ingestion stages (``directory.records.ChildChanges``): a surname change (the
old legal name kept as a former name), a move (the old address kept as a past
one), identifiers the record lacked, involvements and flags of the feed's
organisation added or ended. Every identity change re-seals the child's match
profile, re-computes its blind-index entries and adds a provenance row per
field. ``involvements_end_unreported`` ends what a snapshot no longer reports.
"""

import json
import uuid
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from django.db import connection
from django.utils import timezone

from contactpoint.crypto.fields import blind_index, seal, unseal
from directory.models import (
    Address,
    BlindIndexEntry,
    Child,
    ChildName,
    Involvement,
    NameKind,
    Provenance,
    WarningFlag,
)
from directory.records import ChildChanges, Source
from directory.search_index import IndexInputs, index_terms
from directory.services.child_records import flag_row, involvement_row
from directory.services.copy_writer import copy_rows


def child_changes_apply(
    changes: Sequence[ChildChanges], *, source: Source, today: date
) -> None:
    """Apply ``changes`` (one per child) inside the caller's transaction."""
    now = timezone.now()
    involvement_rows: list[dict[str, Any]] = []
    flag_rows: list[dict[str, Any]] = []
    provenance: list[dict[str, Any]] = []
    ended_involvements: list[tuple[UUID, date]] = []
    ended_flags: list[tuple[UUID, date]] = []
    identity = [c for c in changes if c.changes_identity]
    children = {
        child.id: child
        for child in Child.unaudited.select_for_update().filter(
            pk__in=[c.child_id for c in identity]
        )
    }
    leads = set(
        Involvement.unaudited.filter(
            child_id__in=[c.child_id for c in changes if c.add_involvements],
            is_lead_professional=True,
            ended_on__isnull=True,
        ).values_list("child_id", flat=True)
    )
    for change in changes:
        if change.changes_identity:
            provenance += _identity_apply(children[change.child_id], change, today)
        for involvement in change.add_involvements:
            lead = involvement.is_lead_professional and change.child_id not in leads
            if lead:
                leads.add(change.child_id)
            involvement_rows.append(
                involvement_row(
                    change.child_id,
                    replace(involvement, is_lead_professional=lead),
                    source,
                    now,
                )
            )
        flag_rows.extend(
            flag_row(change.child_id, flag, now) for flag in change.add_flags
        )
        ended_involvements += change.end_involvements
        ended_flags += change.end_flags
    for row in provenance:
        row.update(
            source=source.kind,
            source_reference=source.reference,
            set_at=now,
            reason=None,
        )
    copy_rows(Involvement, involvement_rows)
    copy_rows(WarningFlag, flag_rows)
    copy_rows(Provenance, provenance)
    for involvement_id, ended_on in ended_involvements:
        Involvement.unaudited.filter(pk=involvement_id, ended_on__isnull=True).update(
            ended_on=ended_on
        )
    for flag_id, ended_on in ended_flags:
        WarningFlag.unaudited.filter(pk=flag_id, ends_on__isnull=True).update(
            ends_on=ended_on
        )


def _identity_apply(
    child: Child, change: ChildChanges, today: date
) -> list[dict[str, Any]]:
    """Change one child's identity fields, profile and index entries; return
    the provenance rows (without source)."""
    profile = json.loads(unseal(child, "match_profile") or "{}")
    changed: list[tuple[str, UUID, str]] = []
    if change.new_legal_name:
        name = change.new_legal_name
        ChildName.unaudited.filter(child=child, kind=NameKind.LEGAL).update(
            kind=NameKind.FORMER
        )
        new_name = ChildName(id=uuid.uuid4(), child=child, kind=NameKind.LEGAL)
        seal(new_name, "given_names", name.given_names.strip())
        seal(new_name, "family_name", name.family_name.strip())
        new_name.save(force_insert=True)
        profile["g"] = [name.given_names, *profile["g"]]
        profile["f"] = [name.family_name, *profile["f"]]
        changed.append(("child_name", new_name.id, "name"))
    if change.new_address:
        address = change.new_address
        Address.unaudited.filter(child=child, is_current=True).update(
            is_current=False, moved_out_on=today
        )
        new_address = Address(
            id=uuid.uuid4(),
            child=child,
            is_current=True,
            moved_in_on=address.moved_in_on or today,
        )
        seal(new_address, "lines", "\n".join(line.strip() for line in address.lines))
        seal(new_address, "postcode", address.postcode)
        new_address.save(force_insert=True)
        profile["p"] = [address.postcode, *profile["p"]]
        changed.append(("address", new_address.id, "address"))
    for field, value, key in (
        ("nhs_number", change.set_nhs_number, "n"),
        ("upn", change.set_upn, "u"),
    ):
        if value:
            seal(child, field, value)
            profile[key] = value
            changed.append(("child", child.id, field))
    if change.set_gender:
        child.gender = change.set_gender
        profile["s"] = change.set_gender
        changed.append(("child", child.id, "gender"))
    seal(
        child,
        "match_profile",
        json.dumps(profile, ensure_ascii=False, separators=(",", ":")),
    )
    child.save(update_fields=["match_profile", "nhs_number", "upn", "gender"])
    reindex_from_profile(child.id, profile)
    return [
        {"child_id": child.id, "record_type": kind, "record_id": rid, "field": field}
        for kind, rid, field in changed
    ]


def reindex_from_profile(child_id: UUID, profile: dict[str, Any]) -> None:
    """Replace a child's blind-index entries with those of its match profile."""
    inputs = IndexInputs(
        family_names=tuple(profile["f"]),
        given_names=tuple(profile["g"]),
        dates_of_birth=(date.fromisoformat(profile["d"]),),
        postcodes=tuple(profile["p"]),
        nhs_number=profile.get("n"),
        upn=profile.get("u"),
    )
    entries = {
        (index.code, blind_index(index, transformed))
        for index, transformed in index_terms(inputs)
    }
    BlindIndexEntry.objects.filter(child_id=child_id).delete()
    BlindIndexEntry.objects.bulk_create(
        BlindIndexEntry(child_id=child_id, index=code, value=value)
        for code, value in sorted(entries)
    )


def involvements_end_unreported(
    *, involvement_source: str, reported: Collection[UUID], today: date
) -> int:
    """End the open involvements a feed source recorded for children its latest
    snapshot did not report; return how many ended."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS feed_reported (child_id uuid)"
            " ON COMMIT DROP"
        )
        cursor.execute("TRUNCATE feed_reported")
        with cursor.cursor.copy("COPY feed_reported (child_id) FROM STDIN") as copy:
            for child_id in reported:
                copy.write_row((child_id,))
        cursor.execute(
            "UPDATE directory_involvement SET ended_on = greatest(%s, started_on)"
            " WHERE source = 'feed' AND source_reference = %s"
            " AND ended_on IS NULL"
            " AND child_id NOT IN (SELECT child_id FROM feed_reported)",
            [today, involvement_source],
        )
        return int(cursor.rowcount)
