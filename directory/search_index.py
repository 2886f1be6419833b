"""The declared blind indexes of the directory and how each input is formed.

Few compound indexes, each sized by the CipherSweet planner rule (see
contactpoint/crypto/planner.py and docs/crypto.md); no index over date of
birth or postcode alone. ``K`` (input_bits) estimates:

- metaphone of an English surname part: about 11.5 bits; of a given name
  (after nickname canonicalisation): about 8 bits;
- birth year over the 25 years the directory covers: 4.6 bits; full date of
  birth over 25 years: 13.2 bits;
- postcode district (about 2,900 in the UK): 11.5 bits;
- an NHS number (9 free digits): 29.9 bits; a UPN (11 free digits): 36.5 bits.

Everything here is pure: no Django, no I/O.
"""

import csv
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import TypeVar
from uuid import UUID

import jellyfish

from contactpoint.crypto.blind_index import BlindIndex
from contactpoint.crypto.normalise import compact, fold, name_parts

TABLE = "directory_child"

FAMILY_YEAR = BlindIndex(
    code=1,
    name="family_phonetic_birth_year",
    table=TABLE,
    fields=("family_name", "date_of_birth"),
    bits=10,
    input_bits=16.1,
)
GIVEN_DOB = BlindIndex(
    code=2,
    name="given_phonetic_date_of_birth",
    table=TABLE,
    fields=("given_names", "date_of_birth"),
    bits=12,
    input_bits=21.2,
)
FAMILY_DISTRICT = BlindIndex(
    code=3,
    name="family_phonetic_postcode_district",
    table=TABLE,
    fields=("family_name", "postcode"),
    bits=12,
    input_bits=23.0,
)
#: The identifier indexes keep 22 bits: at the planned 12,000,000 children
#: each value is still shared by about three (C = 2.86, as for family name
#: and date of birth), and at a million a feed row's NHS number or UPN offers
#: about one other child to decrypt instead of fifteen (16 bits until
#: migration 0006 rebuilt them).
NHS_NUMBER = BlindIndex(
    code=4,
    name="nhs_number",
    table=TABLE,
    fields=("nhs_number",),
    bits=22,
    input_bits=29.9,
)
UPN = BlindIndex(
    code=5, name="upn", table=TABLE, fields=("upn",), bits=22, input_bits=36.5
)

DECLARED_INDEXES: tuple[BlindIndex, ...] = (
    FAMILY_YEAR,
    GIVEN_DOB,
    FAMILY_DISTRICT,
    NHS_NUMBER,
    UPN,
)

_NICKNAMES_CSV = Path(__file__).with_name("data") / "nicknames.csv"


@cache
def _nickname_table() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    with _NICKNAMES_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            table.setdefault(fold(row["nickname"]), set()).add(fold(row["formal"]))
    return {name: frozenset(formals) for name, formals in table.items()}


def given_name_forms(given_names: str) -> set[str]:
    """The first given name and its formal forms: "Katie" -> {katie, catherine}."""
    parts = fold(given_names).split()
    if not parts:
        return set()
    first = parts[0]
    return {first} | set(_nickname_table().get(first, ()))


def phonetic(part: str) -> str:
    """Metaphone of one folded name part (falls back to the part itself)."""
    return jellyfish.metaphone(part) or part


@lru_cache(maxsize=65_536)
def family_keys(family_name: str) -> frozenset[str]:
    """Phonetic keys of every part of a family name, and of the joined form."""
    return frozenset(phonetic(part) for part in name_parts(family_name))


@lru_cache(maxsize=65_536)
def given_keys(given_names: str) -> frozenset[str]:
    return frozenset(phonetic(form) for form in given_name_forms(given_names))


def postcode_district(postcode: str) -> str:
    """Outward code of a (possibly unformatted) postcode: "sw1a1aa" -> "SW1A"."""
    squashed = compact(postcode).upper()
    return squashed[:-3] if len(squashed) > 3 else squashed


@dataclass(frozen=True, slots=True)
class IndexInputs:
    """The plaintext a child's (or a query's) blind-index entries derive from."""

    family_names: tuple[str, ...] = ()
    given_names: tuple[str, ...] = ()
    dates_of_birth: tuple[date, ...] = ()
    birth_years: tuple[int, ...] = ()
    postcodes: tuple[str, ...] = ()
    nhs_number: str | None = None
    upn: str | None = None


def index_terms(inputs: IndexInputs) -> set[tuple[BlindIndex, str]]:
    """Every (index, transformed input) pair for ``inputs``.

    The same function serves storing a child and forming a query, so both sides
    always agree. Birth years come from ``birth_years`` plus the years of
    ``dates_of_birth``.
    """
    terms: set[tuple[BlindIndex, str]] = set()
    families = set().union(*(family_keys(n) for n in inputs.family_names))
    givens = set().union(*(given_keys(n) for n in inputs.given_names))
    years = set(inputs.birth_years) | {d.year for d in inputs.dates_of_birth}
    districts = {postcode_district(p) for p in inputs.postcodes if p.strip()}
    for family in families:
        terms |= {(FAMILY_YEAR, f"{family}|{year}") for year in years}
        terms |= {(FAMILY_DISTRICT, f"{family}|{d}") for d in districts}
    for given in givens:
        terms |= {
            (GIVEN_DOB, f"{given}|{d.isoformat()}") for d in inputs.dates_of_birth
        }
    if inputs.nhs_number:
        terms.add((NHS_NUMBER, compact(inputs.nhs_number)))
    if inputs.upn:
        terms.add((UPN, compact(inputs.upn).upper()))
    return terms


def union_inputs(items: Iterable[IndexInputs]) -> IndexInputs:
    """Merge several inputs (e.g. every name and address of one child)."""
    merged: dict[str, list[object]] = {
        "family_names": [],
        "given_names": [],
        "dates_of_birth": [],
        "birth_years": [],
        "postcodes": [],
    }
    nhs = upn = None
    for item in items:
        for key, values in merged.items():
            values.extend(getattr(item, key))
        nhs = nhs or item.nhs_number
        upn = upn or item.upn
    return IndexInputs(
        **{key: tuple(dict.fromkeys(values)) for key, values in merged.items()},  # type: ignore[arg-type]
        nhs_number=nhs,
        upn=upn,
    )


#: A child as blocking sees it: its id, or the id's 16 bytes (which sort as
#: PostgreSQL sorts uuids).
ChildKey = TypeVar("ChildKey", UUID, bytes)


def rank_members(
    per_index: Iterable[tuple[int, Iterable[ChildKey]]], limit: int
) -> list[tuple[ChildKey, int]]:
    """(child, blocking weight), best first, at most ``limit``: the feeds'
    blocking rule (``ingestion.pipeline.blocking`` explains it). Each index
    counts its weight once per child; children sharing more weigh more; the
    children of one weight are kept in child-id order, and only when all of
    them fit in the room ``limit`` leaves: a weight that does not fit whole
    is left out, with every weight below it.

    ``per_index`` gives, for each index the record has terms in, that index's
    weight and every child found under any of its terms (pass a set where
    one is at hand: it is not copied). Children are anything hashable that
    sorts as PostgreSQL sorts uuids: ``UUID`` objects, or their 16 bytes.

    At a million children a row shares some truncated value with a couple of
    thousand children, nearly all under one index only; so the few under
    several are found by set intersections, and a weight's members are
    counted before any of them is listed.
    """
    sets: list[tuple[int, AbstractSet[ChildKey]]] = [
        (weight, members if isinstance(members, AbstractSet) else set(members))
        for weight, members in per_index
    ]
    several: dict[ChildKey, int] = {}
    for i, (_, first) in enumerate(sets):
        for _, second in sets[i + 1 :]:
            for child in first & second:
                several[child] = 0
    for child in several:
        several[child] = sum(weight for weight, members in sets if child in members)
    sizes: dict[int, int] = defaultdict(int)
    for weight, members in sets:
        sizes[weight] += len(members) - sum(1 for c in several if c in members)
    for weight in several.values():
        sizes[weight] += 1
    ranked: list[tuple[ChildKey, int]] = []
    for weight in sorted(sizes, reverse=True):
        if sizes[weight] > limit - len(ranked):
            break
        tier = {child for w, members in sets if w == weight for child in members}
        tier = {c for c in tier if c not in several}
        tier.update(c for c, w in several.items() if w == weight)
        ranked.extend((child, weight) for child in sorted(tier))
    return ranked
