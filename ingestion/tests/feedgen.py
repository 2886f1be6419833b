"""Synthetic feeds with known truth, for the match-quality test and benchmarks.

Pure and deterministic for a seed: no Django, no clock (``today`` is passed);
100,000 records take a couple of seconds.

The population (``GeneratedFeed.existing``) lives in households: siblings
share a surname and an address, about 2% of children are twins (same
surname, date of birth and address, different given names and NHS numbers).
Names: English 72% (surnames weighted by Faker's en_GB frequencies, popular
children's names and en_GB first names), South Asian 12%, African 7%,
European 9% (with diacritics: Yılmaz, Łukasz). Aged 0-17; 85% hold an NHS
number (the 999 test range), about 60% a UPN (school age only), 2% a former
surname, 1% are shielded. One district per 300 children, 40 postcodes each.

Feed records send the legal name, the current address, the NHS number (90%
of the time) and the UPN (80%), gender unknown 3% of the time; each carries
one injected error (``ERROR_KINDS``) with probability ``error_rate``, else
none ("exact"). ``new_rate`` of the records are children the directory does
not hold (``NEW_KINDS``: unrelated 60%; a new sibling at an existing child's
address 30%; the co-twin of an existing child 10%).
"""

import csv
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from importlib import import_module
from itertools import accumulate
from pathlib import Path

import directory
from directory.identifiers import make_test_nhs_number, make_upn
from directory.records import NewAddress, NewChild, NewName
from ingestion.pipeline.records import ValidRecord

ERROR_KINDS = (
    "family_typo",
    "given_typo",
    "nickname",
    "dob_swap",
    "dob_digit",
    "moved_same_district",
    "moved_other_district",
    "missing_ids",
    "surname_change",
)
NEW_KINDS = ("new_unrelated", "new_sibling", "new_twin")
EXACT = "exact"
TODAY = date(2026, 9, 1)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_BOYS = _words(
    "Oliver George Harry Noah Jack Leo Arthur Muhammad Oscar Charlie Jacob Thomas "
    "Henry William Freddie Alfie Theo Archie Joshua Alexander James Isaac Edward "
    "Lucas Tommy Finley Max Logan Ethan Teddy Benjamin Samuel Joseph Daniel Reggie "
    "Harrison Sebastian Adam Elijah Matthew Nathan Zachary Dominic Patrick Michael"
)
_GIRLS = _words(
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow "
    "Florence Emily Ella Poppy Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe "
    "Sophie Alice Harper Matilda Ruby Emilia Maya Isabelle Millie Jessica Eva Ellie "
    "Layla Chloe Hannah Scarlett Katherine Elizabeth Victoria Rebecca Abigail"
)
_STREETS = _words(
    "Acacia Albert Alexandra Ash Beech Birch Bridge Brook Castle Cedar "
    "Chapel Cherry Church Clarence Dale Elm Field Forest Garden Grange "
    "Green Grove Hall High Hill Holly Kings Lime Manor Maple Market Meadow "
    "Mill Moor New Oak Orchard Park Queens Railway Rectory Redwood School "
    "Springfield Station Victoria Water West Willow Windsor York"
)
_SUFFIXES = _words("Road Street Avenue Close Lane Way Gardens Crescent Drive Court")
_AREAS = _words(
    "B BS CF E L LS M N NE NG NW S SE SW W BD CV LE OX PL RG SO ST WV BN CB DE HU"
)
_INWARD = "ABDEFGHJLNPQRSTUWXYZ"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class GeneratedFeed:
    existing: list[NewChild]
    records: list[ValidRecord]
    #: ValidRecord.position (1, 2, ...) -> index into ``existing``, None if new.
    truth: dict[int, int | None]
    #: ValidRecord.position -> the injected error kind ("exact", ERROR_KINDS
    #: or NEW_KINDS).
    kinds: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Pool:
    weight: float
    surnames: tuple[str, ...]
    #: Cumulative weights (random.choices' cum_weights), None for uniform.
    surname_weights: tuple[float, ...] | None
    boys: tuple[str, ...]
    girls: tuple[str, ...]


def _names(attribute: str, *locales: str) -> tuple[str, ...]:
    """Faker's person-name lists for ``locales`` (read once, drawn from with
    our own seeded random: much faster than calling Faker per name)."""
    return tuple(
        name
        for locale in locales
        for name in getattr(
            import_module(f"faker.providers.person.{locale}").Provider, attribute
        )
    )


@cache
def _pools() -> tuple[_Pool, ...]:
    """English (Faker en_GB surname frequencies; popular children's names and
    en_GB first names), South Asian, African and European names."""
    gb = import_module("faker.providers.person.en_GB").Provider
    boys, girls = "first_names_male", "first_names_female"
    return (
        _Pool(
            0.72,
            tuple(gb.last_names),
            tuple(accumulate(gb.last_names.values())),
            _BOYS * 2 + _names(boys, "en_GB"),
            _GIRLS * 2 + _names(girls, "en_GB"),
        ),
        _Pool(
            0.12,
            _names("last_names", "en_IN", "en_PK"),
            None,
            (*_names(boys, "en_IN"), "Muhammad", "Ali", "Hamza"),
            (*_names(girls, "en_IN"), "Aisha", "Fatima", "Zara"),
        ),
        _Pool(
            0.07,
            _names("last_names", "yo_NG", "en_KE")[:500],
            None,
            _names(boys, "yo_NG"),
            _names(girls, "yo_NG"),
        ),
        _Pool(
            0.09,
            _names("last_names", "ro_RO", "lt_LT", "tr_TR", "pt_PT"),
            None,
            _names(boys, "pl_PL", "ro_RO"),
            _names(girls, "pl_PL", "ro_RO"),
        ),
    )


@cache
def nickname_forms() -> dict[str, tuple[str, ...]]:
    """Formal given name (lower case) -> its nicknames, from nicknames.csv."""
    path = Path(directory.__file__).with_name("data") / "nicknames.csv"
    table: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            table.setdefault(row["formal"], []).append(row["nickname"].title())
    return {formal: tuple(names) for formal, names in table.items()}


def typo(name: str, rng: random.Random) -> str:
    """One keying slip after the first letter: substitute, swap, drop, double
    or insert a letter."""
    for _ in range(20):
        at = rng.randrange(1, len(name)) if len(name) > 1 else 1
        kind = rng.randrange(5)
        letter = rng.choice(_LETTERS)
        if kind == 0:
            out = name[:at] + letter + name[at + 1 :]
        elif kind == 1 and at < len(name) - 1:
            out = name[:at] + name[at + 1] + name[at] + name[at + 2 :]
        elif kind == 2 and len(name) > 3:
            out = name[:at] + name[at + 1 :]
        elif kind == 3:
            out = name[:at] + name[at - 1] + name[at:]
        else:
            out = name[:at] + letter + name[at:]
        if out.lower() != name.lower() and " " not in out.strip():
            return out
    return name + "e"


class _Generator:
    def __init__(self, seed: int, today: date, existing_count: int) -> None:
        self.rng = random.Random(seed)
        self.today = today
        count = max(3, existing_count // 300)
        districts = [f"{area}{n}" for area in _AREAS for n in range(1, 21)]
        self.districts = self.rng.sample(districts, min(count, len(districts)))
        self.nhs_seen: set[str] = set()
        self.upn_seen: set[str] = set()
        self.pools = _pools()
        self.pool_weights = list(accumulate(pool.weight for pool in self.pools))

    # --- drawing values -------------------------------------------------------

    def pool(self) -> _Pool:
        return self.rng.choices(self.pools, cum_weights=self.pool_weights)[0]

    def surname(self, pool: _Pool) -> str:
        if pool.surname_weights is None:
            return self.rng.choice(pool.surnames)
        return self.rng.choices(pool.surnames, cum_weights=pool.surname_weights)[0]

    def given(self, pool: _Pool, gender: str, avoid: Sequence[str] = ()) -> str:
        names = pool.boys if gender == "1" else pool.girls
        first = self.rng.choice(names)
        while first in avoid:
            first = self.rng.choice(names)
        if self.rng.random() < 0.3:
            return f"{first} {self.rng.choice(names)}"
        return first

    def postcode(self, district: str | None = None) -> str:
        district = district or self.rng.choice(self.districts)
        unit = self.rng.randrange(40)  # 40 distinct inward codes per district
        inward = f"{unit // 4}{_INWARD[unit % 20]}{_INWARD[(unit * 3) % 20]}"
        return f"{district} {inward}"

    def address(self, district: str | None = None) -> NewAddress:
        street = f"{self.rng.choice(_STREETS)} {self.rng.choice(_SUFFIXES)}"
        line = f"{self.rng.randrange(1, 180)} {street}"
        return NewAddress(lines=(line,), postcode=self.postcode(district))

    def dob(self, near: date | None = None) -> date:
        """Aged 0-17 today; with ``near``, a sibling's: 10 months to 6 years
        apart."""
        earliest = self.today - timedelta(days=18 * 365)
        if near is None:
            return self.today - timedelta(days=self.rng.randrange(18 * 365))
        while True:
            gap = timedelta(days=self.rng.randrange(300, 2200))
            day = near + gap if self.rng.random() < 0.5 else near - gap
            if earliest < day <= self.today:
                return day

    def nhs(self) -> str | None:
        if self.rng.random() >= 0.85:
            return None
        number = make_test_nhs_number(self.rng)
        while number in self.nhs_seen:
            number = make_test_nhs_number(self.rng)
        self.nhs_seen.add(number)
        return number

    def upn(self, dob: date) -> str | None:
        # Pupil numbers come with school (from about 4): about 60% overall.
        if self.today.year - dob.year < 4 or self.rng.random() >= 0.74:
            return None
        la, school = self.rng.randrange(201, 940), self.rng.randrange(1000, 7000)
        number = make_upn(self.rng, la, school, (dob.year + 5) % 100)
        while number in self.upn_seen:
            number = make_upn(self.rng, la, school, (dob.year + 5) % 100)
        self.upn_seen.add(number)
        return number

    def child(
        self,
        pool: _Pool,
        family: str,
        address: NewAddress,
        dob: date,
        avoid: Sequence[str] = (),
    ) -> NewChild:
        gender = self.rng.choice("12")
        names: tuple[NewName, ...] = (NewName(self.given(pool, gender, avoid), family),)
        if self.rng.random() < 0.02:  # a former surname, held by the directory
            names += (NewName(names[0].given_names, self.surname(pool), "former"),)
        return NewChild(
            names=names,
            date_of_birth=dob,
            gender=gender,
            nhs_number=self.nhs(),
            upn=self.upn(dob),
            addresses=(address,),
            shielded=self.rng.random() < 0.01,
        )

    def household(self, count: int, twin_rate: float) -> list[NewChild]:
        pool = self.pool()
        family, address = self.surname(pool), self.address()
        members: list[NewChild] = []
        dob = self.dob()
        while len(members) < count:
            first = [m.names[0].given_names.split()[0] for m in members]
            members.append(self.child(pool, family, address, dob, first))
            if len(members) < count and self.rng.random() < twin_rate / 2:
                first = [m.names[0].given_names.split()[0] for m in members]
                members.append(self.child(pool, family, address, dob, first))
            dob = self.dob(near=dob)
        return members

    # --- feed records ---------------------------------------------------------

    def moved(self, child: NewChild, same_district: bool) -> NewChild:
        district = child.addresses[0].postcode.split()[0]
        if not same_district:
            district = self.rng.choice([d for d in self.districts if d != district])
        address = self.address(district)
        while address.postcode == child.addresses[0].postcode:
            address = self.address(district)
        return replace(child, addresses=(address,))

    def one_digit(self, dob: date) -> date:
        """``dob`` with one digit of DDMMYYYY changed (a real, holdable date)."""
        digits, earliest = f"{dob:%d%m%Y}", self.today - timedelta(days=24 * 365)
        found = []
        for at in range(8):
            for digit in "0123456789":
                text = f"{digits[:at]}{digit}{digits[at + 1 :]}"
                try:
                    day = date(int(text[4:]), int(text[2:4]), int(text[:2]))
                except ValueError:
                    continue
                if day != dob and earliest < day <= self.today:
                    found.append(day)
        return self.rng.choice(found)


def _rename(
    child: NewChild, given: str | None = None, family: str | None = None
) -> NewChild:
    legal = child.names[0]
    name = NewName(given or legal.given_names, family or legal.family_name)
    return replace(child, names=(name,))


def _swap(day: date) -> date:
    return date(day.year, day.day, day.month)


def _first(child: NewChild) -> str:
    return child.names[0].given_names.split()[0]


def _eligible(kind: str, child: NewChild) -> bool:
    if kind == "nickname":
        return _first(child).lower() in nickname_forms()
    if kind == "dob_swap":
        return (
            child.date_of_birth.day <= 12
            and child.date_of_birth.day != child.date_of_birth.month
        )
    return True


def _with_error(gen: _Generator, kind: str, child: NewChild) -> NewChild:
    rng, legal = gen.rng, child.names[0]
    edits: dict[str, Callable[[], NewChild]] = {
        EXACT: lambda: child,
        "family_typo": lambda: _rename(child, family=typo(legal.family_name, rng)),
        "given_typo": lambda: _rename(
            child,
            given=" ".join([typo(_first(child), rng), *legal.given_names.split()[1:]]),
        ),
        "nickname": lambda: _rename(
            child, given=rng.choice(nickname_forms()[_first(child).lower()])
        ),
        "dob_swap": lambda: replace(child, date_of_birth=_swap(child.date_of_birth)),
        "dob_digit": lambda: replace(
            child, date_of_birth=gen.one_digit(child.date_of_birth)
        ),
        "moved_same_district": lambda: gen.moved(child, same_district=True),
        "moved_other_district": lambda: gen.moved(child, same_district=False),
        "missing_ids": lambda: replace(child, nhs_number=None, upn=None),
        "surname_change": lambda: replace(
            child,
            names=(
                NewName(legal.given_names, _new_surname(gen, legal.family_name)),
                NewName(legal.given_names, legal.family_name, "former"),
            ),
        ),
    }
    return edits[kind]()


def _new_surname(gen: _Generator, old: str) -> str:
    name = gen.surname(gen.pool())
    while name == old:
        name = gen.surname(gen.pool())
    return name


def _new_child(gen: _Generator, kind: str, relative: NewChild) -> NewChild:
    """A child the directory does not hold: unrelated to anyone, or a new
    sibling or twin of ``relative`` (same surname and address; a twin also
    the same date of birth; another given name and identifiers)."""
    if kind == "new_unrelated":
        return gen.household(1, 0.0)[0]
    dob = relative.date_of_birth
    if kind == "new_sibling":
        dob = gen.dob(near=dob)
    family, address = relative.names[0].family_name, relative.addresses[0]
    return gen.child(gen.pool(), family, address, dob, [_first(relative)])


def _as_sent(gen: _Generator, child: NewChild) -> NewChild:
    """What a feed sends of a child: the legal name, the current address, and
    the identifiers it happens to hold."""
    rng = gen.rng
    return NewChild(  # not dataclasses.replace: this runs once per record
        names=child.names[:1],
        date_of_birth=child.date_of_birth,
        gender=child.gender if rng.random() >= 0.03 else "0",
        nhs_number=child.nhs_number if rng.random() < 0.9 else None,
        upn=child.upn if rng.random() < 0.8 else None,
        addresses=child.addresses,
    )


def generate_feed(
    seed: int,
    existing_count: int,
    record_count: int,
    error_rate: float = 0.25,
    *,
    new_rate: float = 0.1,
    twin_rate: float = 0.02,
    today: date = TODAY,
) -> GeneratedFeed:
    """A population of ``existing_count`` children and ``record_count`` feed
    records (positions 1, 2, ...): ``new_rate`` of them new children, the rest
    derived from existing children, ``error_rate`` of those with one error of
    a kind drawn uniformly from ERROR_KINDS (a child the kind cannot apply to,
    such as a swap of 25/12, is replaced by one it can)."""
    gen = _Generator(seed, today, existing_count)
    rng = gen.rng
    existing: list[NewChild] = []
    while len(existing) < existing_count:
        size = rng.choices((1, 2, 3, 4), (50, 32, 13, 5))[0]
        existing.extend(gen.household(size, twin_rate))
    del existing[existing_count:]
    eligible: dict[str, list[int]] = {}
    records: list[ValidRecord] = []
    truth: dict[int, int | None] = {}
    kinds: dict[int, str] = {}
    for position in range(1, record_count + 1):
        if rng.random() < new_rate:
            kind = rng.choices(NEW_KINDS, (6, 3, 1))[0]
            index: int | None = None
            child = _new_child(gen, kind, existing[rng.randrange(existing_count)])
            child = _as_sent(gen, child)
        else:
            kind = rng.choice(ERROR_KINDS) if rng.random() < error_rate else EXACT
            index = rng.randrange(existing_count)
            if not _eligible(kind, existing[index]):
                if kind not in eligible:
                    eligible[kind] = [
                        i for i, c in enumerate(existing) if _eligible(kind, c)
                    ]
                index = rng.choice(eligible[kind])
            child = _with_error(gen, kind, _as_sent(gen, existing[index]))
        records.append(
            ValidRecord(position=position, reference=f"R{position:07d}", child=child)
        )
        truth[position], kinds[position] = index, kind
    return GeneratedFeed(existing, records, truth, kinds)
