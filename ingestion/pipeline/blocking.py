"""Blocking for feed matching: which existing children a feed record is
compared with.

Pure: no Django, no I/O, no keys. A record's blocking terms are the same
(blind index, transformed input) pairs the directory stores for children
(``directory.search_index.index_terms``) over every name, the date of birth,
every postcode and both identifiers of the record, as given: no widening
(no date variants, no spelling confusions), because a feed row is compared
field by field afterwards and its identifiers usually find the child alone.

Ranking rule (``directory.search_index.rank_members``; steps 1 to 3 are
those of ``_CANDIDATES_SQL`` in ``directory.selectors.searching`` for
searches; feed runs apply it to the posting lists of the truncated HMAC
values that ``directory.selectors.feeds.FeedBlocking`` keeps for the run):

1. each term weighs its index's truncation bits (``index.bits``: family +
   birth year 10, given name + date of birth 12, family + postcode district
   12, NHS number 22, UPN 22);
2. a child counts, per index, the best weight among the terms it shares;
3. its blocking weight is the sum of those per-index bests;
4. children are ordered by that sum, highest first, then by child id
   (ascending, as PostgreSQL orders uuids), and kept while a whole sum's
   children fit in the ``limit``: the first sum that does not fit is left
   out, with every sum below it.

Why step 4 leaves a crowded sum out rather than taking its smallest ids: at a
million children one truncated value of one index is shared by hundreds of
children, nearly all strangers to the row (the truncation is there so that
it is). Which ten of them would be compared would be decided by their ids,
not by the row, so comparing them finds nothing a person could not find
better, fills the review queue with chance, and decrypts ten strangers'
profiles per row. A child the row truly describes shares two indexes or
more, or its identifier; a child sharing one index only scores under LOWER
unless its birth date is a day-month swap (``ingestion.pipeline.match``),
and at a million children it was one draw in a hundred to be offered at
all. In a small directory every sum fits and nothing changes.

``MemoryChildIndex`` applies that rule to plain transformed strings (no HMAC,
so no truncation collisions): tests and the match-quality test use it.
"""

from collections import defaultdict
from collections.abc import Iterable
from uuid import UUID

from contactpoint.crypto.blind_index import BlindIndex
from directory.records import MatchProfile, NewChild
from directory.search_index import (
    NHS_NUMBER,
    UPN,
    IndexInputs,
    index_terms,
    rank_members,
)
from ingestion.pipeline.records import Candidate

Term = tuple[BlindIndex, str]


def child_inputs(child: NewChild) -> IndexInputs:
    """Index inputs of an incoming child: all names, addresses, identifiers."""
    return IndexInputs(
        family_names=tuple(name.family_name for name in child.names),
        given_names=tuple(name.given_names for name in child.names),
        dates_of_birth=(child.date_of_birth,),
        postcodes=tuple(address.postcode for address in child.addresses),
        nhs_number=child.nhs_number,
        upn=child.upn,
    )


def profile_inputs(profile: MatchProfile) -> IndexInputs:
    """Index inputs of an existing child's decrypted match profile."""
    return IndexInputs(
        family_names=profile.family_names,
        given_names=profile.given_names,
        dates_of_birth=(profile.date_of_birth,),
        postcodes=profile.postcodes,
        nhs_number=profile.nhs_number,
        upn=profile.upn,
    )


def profile_from_child(child: NewChild, child_id: UUID) -> MatchProfile:
    """The match profile the directory would hold for ``child`` (the same
    fields as ``Child.match_profile``): for tests and generated feeds."""
    return MatchProfile(
        child_id=child_id,
        given_names=tuple(name.given_names for name in child.names),
        family_names=tuple(name.family_name for name in child.names),
        date_of_birth=child.date_of_birth,
        gender=child.gender,
        postcodes=tuple(address.postcode for address in child.addresses),
        nhs_number=child.nhs_number,
        upn=child.upn,
    )


def blocking_terms(child: NewChild) -> dict[Term, int]:
    """Every blocking term of an incoming record, weighted ``index.bits``."""
    return {term: term[0].bits for term in index_terms(child_inputs(child))}


#: The identifier indexes, in the order a feed trusts them, with the field of
#: the child each one reads.
IDENTIFIER_INDEXES: tuple[tuple[BlindIndex, str], ...] = (
    (NHS_NUMBER, "nhs_number"),
    (UPN, "upn"),
)


def identifier_lookup(
    child: NewChild, index: BlindIndex, field: str
) -> tuple[BlindIndex, str, str, str] | None:
    """What ``directory.selectors.feeds.feed_identifier_holders`` needs to find
    the holders of the child's ``field`` (None when the child has none):
    (index, transformed value, the identifier, the field)."""
    value = getattr(child, field)
    if not value:
        return None
    # The identifier's term alone (index_terms of every field would also
    # derive the phonetic name keys, for nothing).
    terms = index_terms(IndexInputs(**{field: value}))
    transformed = next(t for (i, t) in terms if i == index)
    return index, transformed, value, field


class MemoryChildIndex:
    """Existing children and their blocking terms, in memory.

    Built from (match profile, shielded) pairs; ``candidates`` answers what
    the database's blocking query answers, ranked by the same rule.
    """

    def __init__(self, children: Iterable[tuple[MatchProfile, bool]]) -> None:
        self._children: dict[UUID, Candidate] = {}
        self._postings: dict[Term, list[UUID]] = defaultdict(list)
        for profile, shielded in children:
            if profile.child_id in self._children:
                raise ValueError("Each child may be indexed once.")
            self._children[profile.child_id] = Candidate(profile, shielded)
            for term in index_terms(profile_inputs(profile)):
                self._postings[term].append(profile.child_id)

    def __len__(self) -> int:
        return len(self._children)

    def candidates(self, child: NewChild, limit: int = 10) -> list[Candidate]:
        """Children sharing blocking terms with ``child``, best first."""
        members: dict[int, tuple[int, list[UUID]]] = {}
        for term, weight in blocking_terms(child).items():
            found = members.setdefault(term[0].code, (weight, []))[1]
            found.extend(self._postings.get(term, ()))
        ranked = rank_members(members.values(), limit)
        return [self._children[child_id] for child_id, _ in ranked]
