"""Applying a feed's changes to existing children, in the caller's transaction.

``child_changes_apply`` takes the explicit changes planned by the pure
ingestion stages (``directory.records.ChildChanges``): a surname change (the
old legal name kept as a former name), a move (the old address kept as a past
one), identifiers the record lacked, involvements and flags of the feed's
organisation added or ended. Every identity change re-seals the child's match
profile, re-computes its blind-index entries and adds a provenance row per
field; a batch of changes costs a fixed number of statements (array UPDATEs
and COPY), whatever its size. ``involvements_end_unreported`` ends what a
snapshot no longer reports.
"""

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from django.db import connection
from django.utils import timezone

from contactpoint.crypto.fields import binding, blind_index, seal_value, unseal_value
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
from directory.services.child_records import (
    address_row,
    flag_row,
    involvement_row,
    name_row,
)
from directory.services.copy_writer import copy_rows


def child_changes_apply(
    changes: Sequence[ChildChanges], *, source: Source, today: date
) -> None:
    """Apply ``changes`` (one per child) inside the caller's transaction: a
    fixed number of statements for the whole batch, whatever its size."""
    now = timezone.now()
    involvement_rows: list[dict[str, Any]] = []
    flag_rows: list[dict[str, Any]] = []
    leads = set(
        Involvement.unaudited.filter(
            child_id__in=[c.child_id for c in changes if c.add_involvements],
            is_lead_professional=True,
            ended_on__isnull=True,
        ).values_list("child_id", flat=True)
    )
    for change in changes:
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
    provenance = _identities_apply(
        [c for c in changes if c.changes_identity], today=today, now=now
    )
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
    with connection.cursor() as cursor:
        ended = [e for c in changes for e in c.end_involvements]
        if ended:
            cursor.execute(_END_INVOLVEMENTS_SQL, _columns(ended))
        ended = [e for c in changes for e in c.end_flags]
        if ended:
            cursor.execute(_END_FLAGS_SQL, _columns(ended))


_END_INVOLVEMENTS_SQL = """
UPDATE directory_involvement AS i SET ended_on = e.ended_on
FROM unnest(%s::uuid[], %s::date[]) AS e(id, ended_on)
WHERE i.id = e.id AND i.ended_on IS NULL
"""

_END_FLAGS_SQL = """
UPDATE directory_warningflag AS f SET ends_on = e.ends_on
FROM unnest(%s::uuid[], %s::date[]) AS e(id, ends_on)
WHERE f.id = e.id AND f.ends_on IS NULL
"""

#: The children whose identity changes, locked in id order (the order claims
#: and every other batch of child locks take).
_LOCK_PROFILES_SQL = """
SELECT id, match_profile FROM directory_child
WHERE id = ANY(%s::uuid[]) ORDER BY id FOR UPDATE
"""

_FORMER_NAMES_SQL = """
UPDATE directory_childname SET kind = %s
WHERE child_id = ANY(%s::uuid[]) AND kind = %s
"""

_PAST_ADDRESSES_SQL = """
UPDATE directory_address SET is_current = false, moved_out_on = %s
WHERE child_id = ANY(%s::uuid[]) AND is_current
"""

#: A NULL identifier or gender keeps the one held (a feed never clears one).
_CHILDREN_SQL = """
UPDATE directory_child AS c
SET match_profile = v.profile, nhs_number = coalesce(v.nhs, c.nhs_number),
    upn = coalesce(v.upn, c.upn), gender = coalesce(v.gender, c.gender),
    updated_at = %s
FROM unnest(%s::uuid[], %s::bytea[], %s::bytea[], %s::bytea[], %s::text[])
     AS v(id, profile, nhs, upn, gender)
WHERE c.id = v.id
"""


def _columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows as columns: the arrays an ``unnest`` takes."""
    return [list(column) for column in zip(*rows, strict=True)]


def _identities_apply(
    changes: Sequence[ChildChanges], *, today: date, now: Any
) -> list[dict[str, Any]]:
    """Change the children's identity fields, profiles and index entries;
    return the provenance rows (without source)."""
    if not changes:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_PROFILES_SQL, [[c.child_id for c in changes]])
        tokens = dict(cursor.fetchall())
    names: list[dict[str, Any]] = []
    addresses: list[dict[str, Any]] = []
    #: (id, sealed profile, sealed NHS number, sealed UPN, gender): None keeps.
    children: list[tuple[UUID, bytes | None, bytes | None, bytes | None, str | None]]
    children = []
    profiles: dict[UUID, dict[str, Any]] = {}
    changed: list[tuple[UUID, str, UUID, str]] = []
    for change in changes:
        child_id = change.child_id
        text = unseal_value(
            binding(Child, "match_profile", pk=child_id), tokens[child_id]
        )
        profile = json.loads(text or "{}")
        if name := change.new_legal_name:
            names.append(name_row(child_id, replace(name, kind=NameKind.LEGAL), now))
            profile["g"] = [name.given_names, *profile["g"]]
            profile["f"] = [name.family_name, *profile["f"]]
            changed.append((child_id, "child_name", names[-1]["id"], "name"))
        if address := change.new_address:
            moved = replace(
                address,
                is_current=True,
                moved_in_on=address.moved_in_on or today,
                moved_out_on=None,
            )
            addresses.append(address_row(child_id, moved, now))
            profile["p"] = [address.postcode, *profile["p"]]
            changed.append((child_id, "address", addresses[-1]["id"], "address"))
        for field, value, key in (
            ("nhs_number", change.set_nhs_number, "n"),
            ("upn", change.set_upn, "u"),
        ):
            if value:
                profile[key] = value
                changed.append((child_id, "child", child_id, field))
        if change.set_gender:
            profile["s"] = change.set_gender
            changed.append((child_id, "child", child_id, "gender"))
        sealed = seal_value(
            binding(Child, "match_profile", pk=child_id),
            json.dumps(profile, ensure_ascii=False, separators=(",", ":")),
        )
        children.append(
            (
                child_id,
                sealed,
                _seal_identifier(child_id, "nhs_number", change.set_nhs_number),
                _seal_identifier(child_id, "upn", change.set_upn),
                change.set_gender,
            )
        )
        profiles[child_id] = profile
    with connection.cursor() as cursor:
        renamed = [row["child_id"] for row in names]
        if renamed:
            cursor.execute(
                _FORMER_NAMES_SQL,
                [NameKind.FORMER.value, renamed, NameKind.LEGAL.value],
            )
        moved_out = [row["child_id"] for row in addresses]
        if moved_out:
            cursor.execute(_PAST_ADDRESSES_SQL, [today, moved_out])
        cursor.execute(_CHILDREN_SQL, [now, *_columns(children)])
    copy_rows(ChildName, names)
    copy_rows(Address, addresses)
    reindex_from_profiles(profiles)
    return [
        {"child_id": child, "record_type": kind, "record_id": rid, "field": field}
        for child, kind, rid, field in changed
    ]


def _seal_identifier(child_id: UUID, field: str, value: str | None) -> bytes | None:
    """A new identifier sealed for the child's row; None (keep) when none."""
    return seal_value(binding(Child, field, pk=child_id), value) if value else None


def reindex_from_profile(child_id: UUID, profile: dict[str, Any]) -> None:
    """Replace a child's blind-index entries with those of its match profile."""
    reindex_from_profiles({child_id: profile})


def reindex_from_profiles(profiles: Mapping[UUID, dict[str, Any]]) -> None:
    """Replace each child's blind-index entries with those of its match
    profile (decrypted JSON): one DELETE and one COPY for them all."""
    if not profiles:
        return
    rows: list[dict[str, Any]] = []
    for child_id, profile in profiles.items():
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
        rows.extend(
            {"child_id": child_id, "index": code, "value": value}
            for code, value in sorted(entries)
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM directory_blindindexentry WHERE child_id = ANY(%s::uuid[])",
            [list(profiles)],
        )
    copy_rows(BlindIndexEntry, rows)


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
