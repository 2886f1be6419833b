"""Reads for the nightly feeds: blocking candidates and the state a row changes.

These read child data on behalf of a feed run, not of a person: the run's
service (ingestion.services) writes one access event per run naming the feed
and the counts (STYLE.md B4, "audited once per run"). Nothing here is
reachable from a page or the API.
"""

from collections import defaultdict
from collections.abc import Collection, Mapping
from uuid import UUID

from django.db import connection

from accounts.actors import Actor
from contactpoint.crypto.blind_index import BlindIndex
from contactpoint.crypto.fields import blind_index, unseal
from directory.models import (
    Address,
    Child,
    ChildStatus,
    FlagKind,
    Involvement,
    ServiceType,
    WarningFlag,
)
from directory.policies import ChildRecordFacts, Purpose, decide_child_record_view
from directory.records import (
    FeedChildState,
    FlagState,
    InvolvementState,
    MatchProfile,
)
from directory.selectors.reading import match_profile_decode

#: Per row, the candidates sharing the most index weight (best per index,
#: summed over indexes: the rule of search blocking), at most ``limit``.
_FEED_CANDIDATES_SQL = """
SELECT pos, child_id
FROM (
    SELECT pos, child_id,
           row_number() OVER (PARTITION BY pos ORDER BY sum(weight) DESC, child_id)
               AS rank
    FROM (
        SELECT q.pos, e.child_id, q.index, max(q.weight) AS weight
        FROM unnest(%s::integer[], %s::smallint[], %s::bigint[], %s::integer[])
             AS q(pos, index, value, weight)
        -- LATERAL: one index lookup per term. With thousands of terms a plain
        -- join tempts the planner into hashing the whole index table.
        CROSS JOIN LATERAL (
            SELECT child_id FROM directory_blindindexentry
            WHERE index = q.index AND value = q.value
            OFFSET 0  -- keeps the planner from flattening this into a join
        ) AS e
        GROUP BY q.pos, e.child_id, q.index
    ) AS best_per_index
    GROUP BY pos, child_id
) AS ranked
WHERE rank <= %s
"""


def feed_candidates(
    terms_by_row: Mapping[int, Mapping[tuple[BlindIndex, str], int]],
    *,
    limit: int = 10,
) -> dict[int, list[tuple[MatchProfile, bool]]]:
    """For each row (by position), the active children sharing its index terms,
    best first: (decrypted match profile, shielded). Two queries for the
    whole batch: one index-only blocking query, one load of the profiles."""
    positions: list[int] = []
    codes: list[int] = []
    values: list[int] = []
    weights: list[int] = []
    for position, terms in terms_by_row.items():
        for (index, transformed), weight in terms.items():
            positions.append(position)
            codes.append(index.code)
            values.append(blind_index(index, transformed))
            weights.append(weight)
    if not positions:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_FEED_CANDIDATES_SQL, [positions, codes, values, weights, limit])
        pairs = cursor.fetchall()
    ids = {child_id for _, child_id in pairs}
    loaded = {
        child.id: (match_profile_decode(child), child.shielded)
        for child in Child.unaudited.filter(pk__in=ids, status=ChildStatus.ACTIVE).only(
            "id", "match_profile", "shielded"
        )
    }
    found: dict[int, list[tuple[MatchProfile, bool]]] = defaultdict(list)
    for position, child_id in pairs:
        if child_id in loaded:
            found[position].append(loaded[child_id])
    return dict(found)


def feed_child_states(
    child_ids: Collection[UUID], *, organisation_ids: Collection[int]
) -> dict[UUID, FeedChildState]:
    """The current state of each active child that a feed row may change: its
    profile, current postcode, and the open involvements and flags of the
    feed's organisations (the only ones a feed may add to or end)."""
    children = {
        child.id: child
        for child in Child.unaudited.filter(
            pk__in=child_ids, status=ChildStatus.ACTIVE
        ).only("id", "match_profile", "shielded")
    }
    postcodes = {
        address.child_id: unseal(address, "postcode")
        for address in Address.unaudited.filter(
            child_id__in=children, is_current=True
        ).only("id", "child_id", "postcode")
    }
    involvements: dict[UUID, list[InvolvementState]] = defaultdict(list)
    for involvement in Involvement.unaudited.filter(
        child_id__in=children,
        organisation_id__in=organisation_ids,
        ended_on__isnull=True,
    ).only("id", "child_id", "organisation_id", "service_type", "started_on"):
        involvements[involvement.child_id].append(
            InvolvementState(
                id=involvement.id,
                organisation_id=involvement.organisation_id,
                service_type=involvement.service_type,
                started_on=involvement.started_on,
                ended_on=None,
            )
        )
    flags: dict[UUID, list[FlagState]] = defaultdict(list)
    for flag in WarningFlag.unaudited.filter(
        child_id__in=children,
        owning_organisation_id__in=organisation_ids,
        ends_on__isnull=True,
    ).only("id", "child_id", "kind", "owning_organisation_id", "starts_on"):
        flags[flag.child_id].append(
            FlagState(
                id=flag.id,
                kind=flag.kind,
                owning_organisation_id=flag.owning_organisation_id,
                starts_on=flag.starts_on,
                ends_on=None,
            )
        )
    return {
        child_id: FeedChildState(
            profile=match_profile_decode(child),
            shielded=child.shielded,
            current_postcode=postcodes.get(child_id),
            involvements=tuple(involvements[child_id]),
            flags=tuple(flags[child_id]),
        )
        for child_id, child in children.items()
    }


def active_child_ids(child_ids: Collection[UUID]) -> set[UUID]:
    """Which of ``child_ids`` are active records (a review decision links only
    to those)."""
    return set(
        Child.unaudited.filter(pk__in=child_ids, status=ChildStatus.ACTIVE).values_list(
            "id", flat=True
        )
    )


def feed_vocabulary() -> tuple[frozenset[str], frozenset[str]]:
    """The service types and warning-flag kinds a feed row may name."""
    return frozenset(ServiceType.values), frozenset(FlagKind.values)


_HOLDERS_SQL = """
SELECT q.pos, e.child_id
FROM unnest(%s::integer[], %s::smallint[], %s::bigint[]) AS q(pos, index, value)
CROSS JOIN LATERAL (
    SELECT child_id FROM directory_blindindexentry
    WHERE index = q.index AND value = q.value
    OFFSET 0
) AS e
"""


def feed_identifier_holders(
    wanted: Mapping[int, tuple[BlindIndex, str, str, str]],
) -> dict[int, list[tuple[MatchProfile, bool]]]:
    """For each row (by position), the active children holding exactly its
    identifier: ``wanted`` maps a position to (index, transformed value, the
    normalised identifier, the Child field holding it: "nhs_number" or
    "upn"). The truncated index offers a bucket of children; only the
    identifier of each is decrypted to find the exact holders, and only
    their profiles are decrypted. Two queries for the whole batch."""
    if not wanted:
        return {}
    positions = list(wanted)
    with connection.cursor() as cursor:
        cursor.execute(
            _HOLDERS_SQL,
            [
                positions,
                [wanted[p][0].code for p in positions],
                [blind_index(wanted[p][0], wanted[p][1]) for p in positions],
            ],
        )
        pairs = cursor.fetchall()
    fields = {field for _, _, _, field in wanted.values()}
    children = {
        child.id: child
        for child in Child.unaudited.filter(
            pk__in={child_id for _, child_id in pairs}, status=ChildStatus.ACTIVE
        ).only("id", "match_profile", "shielded", *fields)
    }
    decrypted: dict[tuple[UUID, str], str | None] = {}
    found: dict[int, list[tuple[MatchProfile, bool]]] = defaultdict(list)
    for position, child_id in pairs:
        child = children.get(child_id)
        if child is None:
            continue
        _, _, identifier, field = wanted[position]
        key = (child_id, field)
        if key not in decrypted:
            decrypted[key] = unseal(child, field)
        if decrypted[key] == identifier:
            found[position].append((match_profile_decode(child), child.shielded))
    return dict(found)


def restricted_for(actor: Actor, child_ids: Collection[UUID]) -> set[UUID]:
    """Which of ``child_ids`` are shielded records ``actor`` may not open:
    a feed decision must not link to them blind, nor create a duplicate of
    one of them. Reads only the shielded flag and authority (no child data)."""
    restricted = set()
    for child_id, shielded, authority_id in Child.unaudited.filter(
        pk__in=child_ids, shielded=True
    ).values_list("id", "shielded", "responsible_authority_id"):
        facts = ChildRecordFacts(
            shielded=shielded, responsible_authority_id=authority_id
        )
        if not decide_child_record_view(actor, facts, Purpose.DATA_MANAGEMENT).allowed:
            restricted.add(child_id)
    return restricted
