"""Reads for the nightly feeds: blocking candidates and the state a row changes.

These read child data on behalf of a feed run, not of a person: the run's
service (ingestion.services) writes one access event per run naming the feed
and the counts (STYLE.md B4, "audited once per run"). Nothing here is
reachable from a page or the API.
"""

import struct
from collections import defaultdict
from collections.abc import Collection, Mapping
from operator import itemgetter
from uuid import UUID

from django.db import connection

from accounts.actors import Actor
from contactpoint.crypto.blind_index import BlindIndex
from contactpoint.crypto.fields import binding, blind_index, unseal_value
from directory.models import (
    Address,
    Child,
    ChildStatus,
    FlagKind,
    ServiceType,
)
from directory.policies import ChildRecordFacts, Purpose, decide_child_record_view
from directory.records import (
    FeedChildState,
    FlagState,
    InvolvementState,
    MatchProfile,
)
from directory.search_index import rank_members
from directory.selectors.reading import match_profile_unseal

#: Each wanted posting list as one bytea: the children's 16-byte ids, end to
#: end. LATERAL: one index-only lookup per (index, value).
_POSTINGS_SQL = """
SELECT q.index, q.value, e.ids
FROM unnest(%s::smallint[], %s::bigint[]) AS q(index, value)
CROSS JOIN LATERAL (
    SELECT string_agg(uuid_send(child_id), ''::bytea) AS ids
    FROM directory_blindindexentry
    WHERE index = q.index AND value = q.value
) AS e
"""

#: The newest entry id, and the entries above ``%s`` for the indexes held:
#: (entry id, index, value, child id) packed end to end in one bytea, 34
#: bytes each (one value to fetch instead of thousands of rows). One
#: statement, so both parts see the same committed entries.
_CATCH_UP_SQL = """
SELECT
    (SELECT coalesce(max(id), 0) FROM directory_blindindexentry),
    (SELECT string_agg(
         int8send(id) || int2send(index) || int8send(value) || uuid_send(child_id),
         ''::bytea)
     FROM directory_blindindexentry
     WHERE id > %s AND index = ANY(%s))
"""
_ENTRY = struct.Struct(">qhq16s")
#: One child id of a posting list (16 bytes), and the one field it unpacks to.
_CHILD_ID = struct.Struct("16s")
_FIRST = itemgetter(0)

_MAX_ENTRY_ID_SQL = "SELECT coalesce(max(id), 0) FROM directory_blindindexentry"

#: How far below the newest entry id seen a catch-up looks again: ids are
#: taken when a row is written, so a transaction that wrote entries before
#: the last look may commit after it (another run's chunk, a merge).
CATCH_UP_MARGIN = 5_000

#: Decrypted profiles a run keeps; past this the cache starts again.
PROFILE_CACHE_SIZE = 50_000

IdBytes = bytes
Key = tuple[int, int]


class FeedBlocking:
    """Demographic blocking for one feed run: which active children each row
    is compared with, best first, by the ranking rule of
    ``directory.search_index.rank_members`` (documented in
    ``ingestion.pipeline.blocking``).

    The truncated indexes hold few values (2^10 + 2 x 2^12 for the
    demographic ones), each shared by hundreds of children at a million, and
    a night's feed asks for most of them many times over. So the run fetches
    each (index, value) posting list once, as one bytea of child ids, keeps
    it, and ranks in Python; a database GROUP BY over every (row, child)
    pair cost ten times as much (docs/benchmarks.md). Before each batch the
    entries written since the last look (children this or another run
    created or re-indexed) are added to the lists held, and those children's
    decrypted profiles dropped; each entry once, though the catch-up margin
    reads it again (``CATCH_UP_MARGIN``). An entry deleted meanwhile (a merge, a
    re-index) can leave a child in a list it no longer belongs to: it is
    then only compared needlessly, as profiles are read afresh and only
    active children kept. Read as the run; the run audits (module docstring).
    """

    def __init__(self, *, limit: int = 10) -> None:
        self._limit = limit
        self._postings: dict[Key, frozenset[IdBytes]] = {}
        self._profiles: dict[IdBytes, tuple[MatchProfile, bool] | None] = {}
        self._seen_entry_id: int | None = None
        #: Ids of the entries within the margin already added.
        self._absorbed: set[int] = set()

    def candidates(
        self, terms_by_row: Mapping[int, Mapping[tuple[BlindIndex, str], int]]
    ) -> dict[int, list[tuple[MatchProfile, bool]]]:
        """For each row (by position): (decrypted match profile, shielded) of
        the active children sharing its terms, best first, at most ``limit``.
        At most four queries for the whole batch."""
        keyed: dict[int, list[tuple[Key, int]]] = {
            position: [
                ((index.code, blind_index(index, transformed)), weight)
                for (index, transformed), weight in terms.items()
            ]
            for position, terms in terms_by_row.items()
        }
        if not any(keyed.values()):
            return {}
        self._catch_up()
        self._fetch({key for keys in keyed.values() for key, _ in keys})
        ranked: dict[int, list[IdBytes]] = {}
        for position, keys in keyed.items():
            per_index: dict[int, tuple[int, frozenset[IdBytes]]] = {}
            for key, weight in keys:
                held = per_index.get(key[0])
                members = self._postings[key]
                per_index[key[0]] = (
                    (weight, members) if held is None else (weight, held[1] | members)
                )
            ranked[position] = [
                child for child, _ in rank_members(per_index.values(), self._limit)
            ]
        self._load_profiles({child for ids in ranked.values() for child in ids})
        found: dict[int, list[tuple[MatchProfile, bool]]] = {}
        for position, ids in ranked.items():
            loaded = [p for child in ids if (p := self._profiles.get(child))]
            if loaded:
                found[position] = loaded
        return found

    def _catch_up(self) -> None:
        with connection.cursor() as cursor:
            if self._seen_entry_id is None:
                cursor.execute(_MAX_ENTRY_ID_SQL)
                self._seen_entry_id = int(cursor.fetchone()[0])
                return
            if not self._postings:
                return
            floor = self._seen_entry_id - CATCH_UP_MARGIN
            cursor.execute(
                _CATCH_UP_SQL, [floor, sorted({code for code, _ in self._postings})]
            )
            newest, packed = cursor.fetchone()
        self._seen_entry_id = int(newest)
        added: dict[Key, set[IdBytes]] = defaultdict(set)
        absorbed = self._absorbed
        for entry_id, code, value, member in _ENTRY.iter_unpack(packed or b""):
            # The margin reads entries again: only an entry not yet added
            # changes a list, or says that a child was indexed again.
            if entry_id in absorbed:
                continue
            absorbed.add(entry_id)
            self._profiles.pop(member, None)
            key = (code, value)
            held = self._postings.get(key)
            if held is not None and member not in held:
                added[key].add(member)
        for key, children in added.items():
            self._postings[key] = self._postings[key] | children
        floor = self._seen_entry_id - CATCH_UP_MARGIN
        self._absorbed = {entry_id for entry_id in absorbed if entry_id > floor}

    def _fetch(self, keys: set[Key]) -> None:
        missing = sorted(keys - self._postings.keys())
        if not missing:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                _POSTINGS_SQL,
                [[code for code, _ in missing], [value for _, value in missing]],
            )
            for code, value, ids in cursor.fetchall():
                self._postings[(code, value)] = frozenset(
                    map(_FIRST, _CHILD_ID.iter_unpack(ids or b""))
                )

    def _load_profiles(self, children: set[IdBytes]) -> None:
        missing = children - self._profiles.keys()
        if not missing:
            return
        if len(self._profiles) + len(missing) > PROFILE_CACHE_SIZE:
            self._profiles.clear()
        for member in missing:
            self._profiles[member] = None  # not active (or gone) unless loaded
        loaded = _active_profiles([UUID(bytes=member) for member in missing])
        for child_id, profile in loaded.items():
            self._profiles[child_id.bytes] = profile


_CURRENT_POSTCODES_SQL = """
SELECT id, child_id, postcode FROM directory_address
WHERE child_id = ANY(%s::uuid[]) AND is_current
"""

_OPEN_INVOLVEMENTS_SQL = """
SELECT id, child_id, organisation_id, service_type, started_on
FROM directory_involvement
WHERE child_id = ANY(%s::uuid[]) AND organisation_id = ANY(%s::integer[])
  AND ended_on IS NULL
"""

_OPEN_FLAGS_SQL = """
SELECT id, child_id, kind, owning_organisation_id, starts_on
FROM directory_warningflag
WHERE child_id = ANY(%s::uuid[]) AND owning_organisation_id = ANY(%s::integer[])
  AND ends_on IS NULL
"""


def feed_child_states(
    child_ids: Collection[UUID],
    *,
    organisation_ids: Collection[int],
    known: Mapping[UUID, MatchProfile] | None = None,
) -> dict[UUID, FeedChildState]:
    """The current state of each active child that a feed row may change: its
    profile, current postcode, and the open involvements and flags of the
    feed's organisations (the only ones a feed may add to or end). Raw SQL
    over arrays: four queries for a chunk's thousand children, none of them
    compiled by the ORM a thousand parameters at a time. ``known``: profiles
    the caller has just decrypted (matching did): those children's status is
    read again, their profiles not decrypted twice."""
    known = known or {}
    children = _active_profiles([c for c in child_ids if c not in known])
    children.update(_still_active({c: known[c] for c in child_ids if c in known}))
    ids, organisations = list(children), list(organisation_ids)
    with connection.cursor() as cursor:
        cursor.execute(_CURRENT_POSTCODES_SQL, [ids])
        addresses = cursor.fetchall()
        cursor.execute(_OPEN_INVOLVEMENTS_SQL, [ids, organisations])
        open_involvements = cursor.fetchall()
        cursor.execute(_OPEN_FLAGS_SQL, [ids, organisations])
        open_flags = cursor.fetchall()
    postcodes = {
        child_id: unseal_value(
            binding(Address, "postcode", pk=address_id, owner=child_id), token
        )
        for address_id, child_id, token in addresses
    }
    involvements: dict[UUID, list[InvolvementState]] = defaultdict(list)
    for (
        involvement_id,
        child_id,
        organisation_id,
        service,
        started,
    ) in open_involvements:
        involvements[child_id].append(
            InvolvementState(
                id=involvement_id,
                organisation_id=organisation_id,
                service_type=service,
                started_on=started,
                ended_on=None,
            )
        )
    flags: dict[UUID, list[FlagState]] = defaultdict(list)
    for flag_id, child_id, kind, organisation_id, starts in open_flags:
        flags[child_id].append(
            FlagState(
                id=flag_id,
                kind=kind,
                owning_organisation_id=organisation_id,
                starts_on=starts,
                ends_on=None,
            )
        )
    return {
        child_id: FeedChildState(
            profile=profile,
            shielded=shielded,
            current_postcode=postcodes.get(child_id),
            involvements=tuple(involvements[child_id]),
            flags=tuple(flags[child_id]),
        )
        for child_id, (profile, shielded) in children.items()
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


#: The active bucket members of each row's identifier value, with the token
#: of the field the row asks about (the NHS number, else the UPN).
_HOLDERS_SQL = """
SELECT q.pos, c.id, CASE WHEN q.nhs THEN c.nhs_number ELSE c.upn END
FROM unnest(%s::integer[], %s::smallint[], %s::bigint[], %s::boolean[])
     AS q(pos, index, value, nhs)
CROSS JOIN LATERAL (
    SELECT child_id FROM directory_blindindexentry
    WHERE index = q.index AND value = q.value
    OFFSET 0
) AS e
JOIN directory_child AS c ON c.id = e.child_id AND c.status = %s
"""

_PROFILES_SQL = """
SELECT id, match_profile, shielded FROM directory_child
WHERE id = ANY(%s::uuid[]) AND status = %s
"""


_ACTIVE_SQL = """
SELECT id, shielded FROM directory_child
WHERE id = ANY(%s::uuid[]) AND status = %s
"""


def _still_active(
    profiles: Mapping[UUID, MatchProfile],
) -> dict[UUID, tuple[MatchProfile, bool]]:
    """Those of ``profiles`` whose children are active, with their shielded flag."""
    if not profiles:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_ACTIVE_SQL, [list(profiles), ChildStatus.ACTIVE.value])
        rows = cursor.fetchall()
    return {child_id: (profiles[child_id], shielded) for child_id, shielded in rows}


def _active_profiles(
    child_ids: Collection[UUID],
) -> dict[UUID, tuple[MatchProfile, bool]]:
    """Decrypted match profiles of those of ``child_ids`` that are active.
    Raw SQL: a ``pk__in`` of thousands of uuids costs Django more to compile
    than PostgreSQL to answer."""
    if not child_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_PROFILES_SQL, [list(child_ids), ChildStatus.ACTIVE.value])
        rows = cursor.fetchall()
    return {
        child_id: (match_profile_unseal(child_id, token), shielded)
        for child_id, token, shielded in rows
    }


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
                [wanted[p][3] == "nhs_number" for p in positions],
                ChildStatus.ACTIVE.value,
            ],
        )
        members = cursor.fetchall()
    decrypted: dict[tuple[UUID, str], str | None] = {}
    matched: list[tuple[int, UUID]] = []
    for position, child_id, token in members:
        _, _, identifier, field = wanted[position]
        key = (child_id, field)
        if key not in decrypted:
            decrypted[key] = unseal_value(binding(Child, field, pk=child_id), token)
        if decrypted[key] == identifier:
            matched.append((position, child_id))
    profiles = _active_profiles({child_id for _, child_id in matched})
    found: dict[int, list[tuple[MatchProfile, bool]]] = defaultdict(list)
    for position, child_id in matched:
        if child_id in profiles:
            found[position].append(profiles[child_id])
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
