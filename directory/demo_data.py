"""Synthetic but realistic English children, for demos and benchmarks.

Pure: no Django, no I/O, no clock. Everything comes from a seeded
``random.Random`` and ``today``, so one seed always gives the same children.
The pools are built once at import and a child costs a few dozen draws, so
ten thousand children take a fraction of a second.

Nothing generated can reach or name a real person: phone numbers are in
Ofcom's drama ranges, e-mail addresses are at example.org, NHS numbers are in
the never-issued 999 range, and the schools, surgeries and other bodies are
invented (their URNs and ODS codes only have the right shape). The local
authorities, their GSS codes and DfE numbers are real public data.
"""

import unicodedata
from bisect import bisect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from itertools import accumulate
from random import Random
from typing import TypeVar

from directory.identifiers import TestNhsNumbers, make_upn_with_serial
from directory.records import (
    NewAddress,
    NewCarer,
    NewChild,
    NewInvolvement,
    NewName,
    NewWarningFlag,
)

# ---------------------------------------------------------------------------
# Weighted pools
# ---------------------------------------------------------------------------


_T = TypeVar("_T")


def _below(rng: Random, n: int) -> int:
    """0 <= result < n from one ``random()`` call, several times cheaper than
    ``randrange``; the generator draws a few dozen per child."""
    return int(rng.random() * n)


def _one(rng: Random, items: Sequence[_T]) -> _T:
    return items[int(rng.random() * len(items))]


class Pool:
    """Values with relative frequencies, drawn in O(log n)."""

    __slots__ = ("_cumulative", "_total", "values")

    def __init__(self, spec: str) -> None:
        """``spec`` is "Name weight, Name weight, ..."; a name may hold spaces."""
        pairs = [
            item.strip().rsplit(" ", 1) for item in spec.split(",") if item.strip()
        ]
        self.values = tuple(name for name, _ in pairs)
        self._cumulative = list(accumulate(int(weight) for _, weight in pairs))
        self._total = self._cumulative[-1]

    def pick(self, rng: Random) -> str:
        return self.values[bisect(self._cumulative, rng.random() * self._total)]


# Roughly ONS and census frequencies per 10,000 people, with the spellings a
# national directory must cope with: diacritics, apostrophes, hyphens, spaces
# (\u0131 is the Turkish dotless i).
FAMILY_NAMES = Pool("""
Smith 500, Jones 400, Williams 290, Taylor 240, Brown 240, Davies 220, Evans 170,
Wilson 170, Thomas 160, Johnson 160, Roberts 160, Robinson 130, Thompson 130,
Wright 130, Walker 130, White 120, Edwards 120, Hughes 120, Green 120, Hall 120,
Lewis 110, Harris 110, Clarke 110, Patel 110, Jackson 100, Wood 100, Turner 95,
Martin 95, Cooper 95, Hill 95, Ward 95, Morris 90, Moore 90, Clark 90, Lee 90,
King 90, Baker 90, Harrison 90, Morgan 85, Allen 85, James 85, Scott 85,
Phillips 80, Watson 80, Parker 80, Price 75, Bennett 75, Young 75, Griffiths 75,
Mitchell 75, Kelly 75, Cook 75, Carter 75, Richardson 75, Bailey 70, Collins 70,
Bell 70, Shaw 70, Murphy 70, Miller 70, Cox 70, Khan 65, Marshall 65,
Anderson 65, Simpson 65, Ellis 65, Adams 65, Singh 60, Begum 60, Wilkinson 60,
Foster 60, Chapman 60, Powell 60, Webb 60, Rogers 60, Gray 60, Mason 60, Ali 60,
Hunt 55, Hussain 55, Campbell 55, Matthews 55, Owen 55, Palmer 55, Holmes 55,
Mills 55, Barnes 55, Knight 55, Lloyd 55, Butler 55, Russell 50, Barker 50,
Fisher 50, Stevens 50, Jenkins 50, Murray 50, Dixon 50, Harvey 50, Ahmed 50,
Mohamed 30, Rahman 30, Kaur 30, Akhtar 30, O'Brien 30, Mahmood 25, Iqbal 25,
Uddin 25, Islam 25, Miah 25, O'Connor 25, O'Neill 25, McDonald 25, McCarthy 20,
Okafor 15, Adeyemi 12, Mensah 12, Osei 10, Okonkwo 8, Abdi 12, Sharma 12,
Chen 12, Wang 10, Wong 8, Gupta 8, Chaudhry 10, Kowalski 12, Nowak 12,
Kowalczyk 8, Wiśniewski 6, Wójcik 6, Silva 10, Santos 10, Ferreira 8,
Popescu 8, Nguyễn 8, Trần 4, Y\u0131lmaz 6, Şahin 5, Öztürk 4, Müller 4,
García 6, Horváth 3, Dvořák 2, MacLeod 10, Smith-Jones 4, Lloyd-Davies 3,
Ó Súilleabháin 2, Climbié 2, De Souza 5, Van der Berg 2, D'Souza 4, N'Diaye 3
""")
BOY_NAMES = Pool("""
Muhammad 60, Oliver 55, Noah 50, George 50, Leo 45, Arthur 45, Harry 40,
Oscar 38, Theodore 36, Henry 35, Jack 34, Charlie 33, Jacob 30, Thomas 30,
Freddie 29, Alfie 28, Theo 28, William 28, Archie 27, Joshua 26, Alexander 25,
James 25, Isaac 24, Edward 23, Lucas 23, Tommy 22, Finley 22, Max 21, Logan 20,
Ethan 20, Mohammed 20, Teddy 19, Benjamin 19, Arlo 18, Joseph 18, Sebastian 17,
Harrison 17, Elijah 17, Adam 16, Daniel 16, Samuel 16, Louie 15, Mason 15,
Reuben 14, Albie 14, Rory 14, Jaxon 13, Hugo 13, Luca 13, Zachary 12, Reggie 12,
Dylan 12, Albert 12, David 12, Jude 11, Frankie 11, Roman 11, Ezra 10, Toby 10,
Riley 10, Ronnie 10, Frederick 10, Gabriel 10, Stanley 10, Bobby 9, Michael 9,
Ibrahim 9, Yusuf 9, Ali 8, Omar 8, Ayaan 8, Aarav 6, Kacper 6, Jakub 6, Filip 5,
José 4, Mateo 5, Kwame 3, Chidi 3, Hamza 7, Zain 6, Matthew 9, Christopher 6,
Robert 6, Nathaniel 5, Anthony 5, Patrick 5, Dominic 5, Jamie 6, Kai 6,
Tyler 6, Connor 6, Callum 5, Declan 3, Seán 3, Oisín 2, Ciarán 2, Nicholas 4
""")
GIRL_NAMES = Pool("""
Olivia 55, Amelia 50, Isla 45, Ava 42, Ivy 38, Freya 36, Lily 36, Florence 34,
Mia 32, Willow 31, Rosie 30, Sophia 30, Isabella 29, Grace 29, Daisy 28,
Sienna 27, Poppy 27, Elsie 26, Emily 26, Ella 25, Evelyn 24, Phoebe 24,
Sofia 23, Evie 23, Charlotte 22, Harper 22, Millie 21, Matilda 21, Maya 20,
Sophie 20, Alice 20, Emilia 19, Isabelle 19, Ruby 19, Luna 18, Maisie 18,
Aria 17, Penelope 16, Mila 16, Bonnie 15, Eva 15, Hallie 14, Eliza 14, Ada 14,
Violet 13, Esme 13, Arabella 12, Imogen 12, Jessica 12, Delilah 11, Zoë 6,
Zoe 8, Chloé 4, Chloe 10, Renée 3, Aisha 10, Fatima 9, Maryam 9, Zara 9,
Hafsa 5, Amira 6, Khadija 5, Inaya 6, Anaya 5, Priya 4, Zuzanna 4, Maja 4,
Julia 5, Amelie 7, Niamh 5, Aoife 3, Siobhán 2, Saoirse 3, Catherine 8,
Elizabeth 9, Margaret 2, Rebecca 6, Jennifer 3, Victoria 6, Abigail 7,
Samantha 3, Alexandra 5, Katherine 4, Natalie 3, Eleanor 8, Mary 3
""")
WOMEN_NAMES = Pool("""
Sarah 40, Emma 38, Laura 36, Rebecca 30, Gemma 28, Nicola 26, Claire 26,
Amy 25, Rachel 24, Kelly 22, Hannah 22, Charlotte 22, Jennifer 20, Natalie 20,
Samantha 20, Stephanie 18, Louise 18, Michelle 16, Lisa 16, Danielle 15,
Kirsty 14, Jade 14, Leanne 14, Stacey 12, Kerry 12, Jodie 10, Chloe 10,
Fatima 12, Shazia 8, Nasreen 6, Aisha 10, Zainab 8, Sadia 6, Agnieszka 6,
Joanna 8, Katarzyna 5, Ngozi 4, Funmilayo 3, Abena 3, Marie-Thérèse 2,
Siobhán 3, Mei 3, Thi Lan 2, Elif 3, Ana 4, Ioana 4, Renée 2, Zoë 2
""")
MEN_NAMES = Pool("""
David 40, Daniel 36, James 36, Michael 32, Christopher 30, Mark 28, Paul 28,
Andrew 26, Richard 24, Matthew 24, Thomas 22, Lee 20, Craig 18, Wayne 14,
Ryan 20, Adam 20, Mohammed 18, Muhammad 14, Imran 10, Tariq 8, Adeel 6,
Piotr 8, Tomasz 6, Emeka 4, Kwame 4, Darren 14, Jason 14, Stuart 12,
Gareth 10, Liam 16, Dean 10, Sean 12, Ciarán 3, José 3, Minh 3, Mehmet 3,
Andrei 4, Jamal 5, Nathan 12, Kevin 10, Steven 12, Jonathan 10, Anthony 10
""")
GRANDPARENT_NAMES = Pool("""
Margaret 20, Susan 20, Patricia 16, Linda 16, Janet 14, Barbara 12,
Christine 12, Carol 12, Jean 8, Maureen 8, Shamim 4, Kulsoom 3, Halina 3,
John 18, Peter 14, Robert 12, Brian 10, Keith 8, Alan 10, Terence 6,
Mohammed Rafiq 4, Errol 3, Desmond 3
""")
STREET_NAMES = Pool("""
Victoria 20, Church 20, Station 18, Mill 14, Park 20, Queen's 10, King's 10,
Albert 12, Grange 12, Oak 10, Elm 10, Beech 10, Ash 8, Willow 8, Meadow 10,
Chestnut 8, Windsor 10, York 10, Manor 12, Springfield 10, Highfield 10,
Orchard 8, St John's 6, St Mary's 6, Alexandra 8, Cromwell 5, Tennyson 5,
Shakespeare 5, Nelson 6, Wellington 6, Cedar 6, Rowan 6, Hawthorn 6,
Primrose 5, Clarendon 5, Stratford 4, Ladypool 3, Coventry 4, Gloucester 5,
Chapel 8, Green 10, Bridge 8, Market 6, School 8, Hall 6
""")
STREET_KINDS = Pool("""
Road 40, Street 25, Avenue 10, Close 10, Lane 8, Drive 6, Gardens 5,
Crescent 5, Way 5, Grove 5, Terrace 4, Place 3, Court 3
""")
BLOCK_NAMES = Pool("""
Tennyson House 3, Keats House 3, Nightingale Court 3, Kingfisher Court 3,
Brunel Tower 2, Windrush House 2, Seacole Court 2, Attlee House 2
""")


def _table(spec: str) -> dict[str, tuple[str, ...]]:
    """Parse "Catherine: Katie Kate; William: Bill" into a dict of tuples."""
    pairs = (item.split(":") for item in spec.split(";") if item.strip())
    return {key.strip(): tuple(value.split()) for key, value in pairs}


#: Legal given name -> preferred forms. Every pair is in
#: directory/data/nicknames.csv, so a search for Katie also finds Catherine.
NICKNAMES: Mapping[str, tuple[str, ...]] = _table("""
Catherine: Katie Kate Kitty; Katherine: Kath Katy; William: Bill Billy Will;
Elizabeth: Libby Beth Lizzie Ellie; Alexander: Alex Sandy; Alexandra: Alex Lexi;
Benjamin: Ben Benji; Charlotte: Lottie Charlie; Christopher: Chris Kit;
Daniel: Dan Danny; David: Dave Davey; Edward: Ed Ted Eddie; Eleanor: Ellie Nell;
Frederick: Freddie Fred; Henry: Harry; Isabella: Izzy Bella; Jacob: Jake;
Jessica: Jess; Joseph: Joe Joey; Joshua: Josh; Margaret: Maggie Meg;
Matilda: Tilly Mattie; Matthew: Matt; Michael: Mike; Nicholas: Nick;
Oliver: Ollie Olly; Rebecca: Becky Bex; Robert: Rob Bobby; Samuel: Sam Sammy;
Samantha: Sam; Theodore: Theo; Thomas: Tom Tommy; Victoria: Vicky;
Abigail: Abbie Abby; Zachary: Zac; Amelia: Millie; Mary: Molly Polly
""")
#: Other spellings a child is also known by (recorded as an alias).
VARIANT_SPELLINGS: Mapping[str, tuple[str, ...]] = _table("""
Muhammad: Mohammed; Mohammed: Muhammad; Zoë: Zoe; Zoe: Zoë; Chloé: Chloe;
Chloe: Chloé; Renée: Renee; Aisha: Ayesha; Seán: Sean; Sofia: Sophia;
José: Jose; Isabelle: Isobel
""")

# ---------------------------------------------------------------------------
# The organisations and users the seeder creates
# ---------------------------------------------------------------------------

DRAMA_MOBILE = "07700 900"  # Ofcom's drama range: 07700 900000 to 900999
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # a postcode's inward code never uses CIKMOV


@dataclass(frozen=True, slots=True)
class AuthoritySpec:
    """A real local authority, its postcode districts and drama-range phones."""

    code: str  # GSS code
    name: str
    short: str
    dfe_code: int  # DfE LA number: digits 2-4 of a UPN
    phone_prefix: str  # Ofcom drama range: append three digits
    gp_ods_prefix: str
    weight: int  # relative number of children
    places: str  # "District Locality[=Post town]; ..."
    town: str

    @property
    def localities(self) -> tuple[tuple[str, str, str], ...]:
        """(postcode district, locality, post town) for each place."""
        return _LOCALITIES[self.code]

    def phone(self, last_three: int) -> str:
        return f"{self.phone_prefix}{last_three:03d}"


AUTHORITIES: tuple[AuthoritySpec, ...] = (
    AuthoritySpec(
        code="E08000025",
        name="Birmingham City Council",
        short="Birmingham",
        dfe_code=330,
        phone_prefix="0121 496 0",
        gp_ods_prefix="M85",
        weight=30,
        places="B8 Washwood Heath; B10 Small Heath; B11 Sparkhill; B12 Balsall Heath; "
        "B13 Moseley; B14 Kings Heath; B15 Edgbaston; B16 Ladywood; B20 Handsworth; "
        "B23 Erdington; B29 Selly Oak; B31 Northfield; B33 Stechford; "
        "B44 Kingstanding",
        town="Birmingham",
    ),
    AuthoritySpec(
        code="E09000022",
        name="London Borough of Lambeth",
        short="Lambeth",
        dfe_code=208,
        phone_prefix="020 7946 0",
        gp_ods_prefix="G85",
        weight=9,
        places="SE11 Kennington; SW9 Stockwell; SW2 Brixton; SE27 West Norwood; "
        "SW16 Streatham; SE24 Herne Hill; SW4 Clapham; SW8 South Lambeth; "
        "SE1 Waterloo; SE5 Camberwell",
        town="London",
    ),
    AuthoritySpec(
        code="E06000023",
        name="Bristol City Council",
        short="Bristol",
        dfe_code=801,
        phone_prefix="0117 496 0",
        gp_ods_prefix="L81",
        weight=12,
        places="BS2 St Pauls; BS3 Bedminster; BS4 Knowle; BS5 Easton; BS6 Redland; "
        "BS7 Horfield; BS10 Southmead; BS11 Avonmouth; BS13 Hartcliffe; "
        "BS14 Stockwood; BS16 Fishponds",
        town="Bristol",
    ),
    AuthoritySpec(
        code="E08000035",
        name="Leeds City Council",
        short="Leeds",
        dfe_code=383,
        phone_prefix="0113 496 0",
        gp_ods_prefix="B86",
        weight=21,
        places="LS6 Headingley; LS7 Chapeltown; LS8 Harehills; LS9 Burmantofts; "
        "LS10 Belle Isle; LS11 Beeston; LS12 Armley; LS13 Bramley; LS14 Seacroft; "
        "LS15 Cross Gates; LS17 Moortown; LS28 Pudsey=Pudsey",
        town="Leeds",
    ),
    AuthoritySpec(
        code="E10000003",
        name="Cambridgeshire County Council",
        short="Cambridgeshire",
        dfe_code=873,
        phone_prefix="01632 960",
        gp_ods_prefix="D81",
        weight=17,
        places="CB1 Cherry Hinton; CB2 Trumpington; CB4 Chesterton; CB6 Ely=Ely; "
        "CB7 Soham=Ely; PE19 Eaton Socon=St Neots; PE29 Huntingdon=Huntingdon; "
        "PE27 St Ives=St Ives; PE15 March=March; PE13 Wisbech=Wisbech",
        town="Cambridge",
    ),
)


def _parse_places(a: AuthoritySpec) -> tuple[tuple[str, str, str], ...]:
    places = []
    for item in a.places.split(";"):
        district, rest = item.strip().split(" ", 1)
        locality, _, post_town = rest.partition("=")
        places.append((district, locality, post_town or a.town))
    return tuple(places)


_LOCALITIES = {a.code: _parse_places(a) for a in AUTHORITIES}


@dataclass(frozen=True, slots=True)
class OrganisationSpec:
    kind: str  # accounts.models.OrganisationKind value
    code: str
    name: str
    authority_code: str | None = None  # GSS code of its local authority
    phone: str = ""
    email: str = ""
    phase: str = ""  # schools: "primary" or "secondary"
    establishment: int = 0  # schools: DfE establishment number, digits 5-8 of a UPN

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.code)


#: Each authority's invented members: kind, code, name, phone, phase, establishment.
_MEMBERS = (
    ("school", "{dfe}101", "{l0} Primary School", 101, "primary", 2101),
    ("school", "{dfe}102", "St Mary's CE Primary School, {l1}", 102, "primary", 3102),
    ("school", "{dfe}103", "{l2} Academy", 103, "secondary", 4103),
    ("gp_practice", "{ods}901", "{l3} Medical Centre", 201, "", 0),
    ("gp_practice", "{ods}902", "{l4} Family Practice", 202, "", 0),
    ("youth_offending_team", "YJS{dfe}", "{short} Youth Justice Service", 301, "", 0),
)
SHARED: Mapping[str, OrganisationSpec] = {
    kind: OrganisationSpec(kind, code, name, None, phone, f"{mailbox}@example.org")
    for kind, code, name, phone, mailbox in (
        (
            "nhs_trust",
            "RZ9",
            "Heartlands and Fens Community Health NHS Trust",
            "08081 570100",
            "childrens.health",
        ),
        (
            "police",
            "PZ01",
            "Demo Constabulary Public Protection Unit",
            "08081 570200",
            "public.protection",
        ),
        (
            "voluntary",
            "1190001",
            "Brighter Futures Youth and Family Trust",
            "08081 570300",
            "hello",
        ),
    )
}


def demo_organisation_specs() -> tuple[OrganisationSpec, ...]:
    """Every demo organisation, local authorities first (the others point at them)."""
    specs = [
        OrganisationSpec(
            "local_authority",
            a.code,
            a.name,
            None,
            a.phone(0),
            f"childrens.services.{a.dfe_code}@example.org",
        )
        for a in AUTHORITIES
    ]
    for a in AUTHORITIES:
        names = {f"l{i}": place[1] for i, place in enumerate(a.localities)}
        names |= {"dfe": str(a.dfe_code), "ods": a.gp_ods_prefix, "short": a.short}
        for kind, code_template, name, phone, phase, establishment in _MEMBERS:
            code = code_template.format(**names)
            specs.append(
                OrganisationSpec(
                    kind,
                    code,
                    name.format(**names),
                    a.code,
                    a.phone(phone),
                    f"enquiries.{code.lower()}@example.org",
                    phase,
                    establishment,
                )
            )
    return (*specs, *SHARED.values())


@dataclass(frozen=True, slots=True)
class UserSpec:
    username: str
    first_name: str
    last_name: str
    role: str  # accounts.roles.Role value
    organisation: tuple[str, str]  # (kind, code)
    job_title: str

    @property
    def can_sign_in(self) -> bool:
        """A feed system is an API client: it gets no password to sign in with."""
        return self.role != "feed_system"


#: Where the demo users work (and the demo feeds come from), by short name:
#: (kind, code) keys of demo_organisation_specs(), all in Birmingham.
DEMO_PLACES: Mapping[str, tuple[str, str]] = {
    "la": ("local_authority", AUTHORITIES[0].code),
    "school": ("school", f"{AUTHORITIES[0].dfe_code}101"),
    "gp": ("gp_practice", f"{AUTHORITIES[0].gp_ods_prefix}901"),
    "trust": SHARED["nhs_trust"].key,
}


def _users(spec: str) -> tuple[UserSpec, ...]:
    places = DEMO_PLACES
    rows = [[cell.strip() for cell in line.split("|")] for line in spec.splitlines()]
    users = []
    for username, name, role, place, job_title in (r for r in rows if len(r) == 5):
        first_name, last_name = name.rsplit(" ", 1)
        users.append(
            UserSpec(username, first_name, last_name, role, places[place], job_title)
        )
    return tuple(users)


#: One demo user per role and kind of practitioner: username | name | role |
#: where (la, school, gp, trust: in Birmingham) | job title.
DEMO_USERS = _users("""
demo.teacher | Hannah Okafor | practitioner | school | Designated safeguarding lead
demo.gp | Anjali Mehta | practitioner | gp | GP partner
demo.healthvisitor | Siobhán O'Connor | practitioner | trust | Health visitor
demo.socialworker | Marcus Bennett | practitioner | la | Social worker
demo.datamanager | Priya Sharma | data_manager | la | Directory data manager
demo.shielding | Gareth Lloyd-Davies | shielding_officer | la | Shielding officer
demo.admin | Joanna Nowak | administrator | la | Directory administrator
demo.auditor | Kwame Mensah | auditor | la | Information governance auditor
demo.feed.health | Child-health Feed | feed_system | trust | Child health system feed
""")

# ---------------------------------------------------------------------------
# What the generator needs from the database: organisation ids
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoSchool:
    id: int
    phase: str
    establishment: int


@dataclass(frozen=True, slots=True)
class DemoAuthority:
    id: int
    spec: AuthoritySpec
    schools: tuple[DemoSchool, ...]
    gp_practices: tuple[int, ...]
    youth_offending_team: int

    def school(self, rng: Random, phase: str) -> DemoSchool:
        return _one(rng, [s for s in self.schools if s.phase == phase])


@dataclass(frozen=True, slots=True)
class DemoOrganisations:
    """Organisation ids by local authority (with its postcode areas) and by kind."""

    authorities: tuple[DemoAuthority, ...]
    nhs_trust: int
    police: int
    voluntary: int
    _weights: Pool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        spec = ", ".join(f"{i} {a.spec.weight}" for i, a in enumerate(self.authorities))
        object.__setattr__(self, "_weights", Pool(spec))

    @classmethod
    def from_ids(cls, ids: Mapping[tuple[str, str], int]) -> "DemoOrganisations":
        """Build from the ids of ``demo_organisation_specs()`` by (kind, code)."""
        specs = demo_organisation_specs()
        authorities = []
        for a in AUTHORITIES:
            members = [s for s in specs if s.authority_code == a.code]
            by_kind = {
                kind: [s for s in members if s.kind == kind]
                for kind in ("school", "gp_practice", "youth_offending_team")
            }
            authorities.append(
                DemoAuthority(
                    id=ids[("local_authority", a.code)],
                    spec=a,
                    schools=tuple(
                        DemoSchool(ids[s.key], s.phase, s.establishment)
                        for s in by_kind["school"]
                    ),
                    gp_practices=tuple(ids[s.key] for s in by_kind["gp_practice"]),
                    youth_offending_team=ids[by_kind["youth_offending_team"][0].key],
                )
            )
        shared = {kind: ids[spec.key] for kind, spec in SHARED.items()}
        return cls(tuple(authorities), **shared)

    def pick_authority(self, rng: Random) -> DemoAuthority:
        return self.authorities[int(self._weights.pick(rng))]


# ---------------------------------------------------------------------------
# Children
# ---------------------------------------------------------------------------

TWIN_PAIR_RATE = 0.005  # a pair in 200 births: about 1 % of children are twins
NHS_NUMBER_RATE = 0.95
PREFERRED_NAME_RATE = 0.35  # of children whose legal name has a nickname
FORMER_NAME_RATE = 0.03
ALIAS_RATE = 0.02
DOUBLE_BARRELLED_RATE = 0.02
WARNING_FLAG_RATE = 0.03
SHIELDED_RATE = 0.005
SENSITIVE_RATE = 0.07  # of children aged 5 or more: about 5 % of all children
#: NHS Data Dictionary stated gender: male, female, indeterminate, not known.
GENDERS = Pool("1 490, 2 490, 9 5, 0 15")
SOCIAL_CARE_FLAGS = frozenset(
    {"child_protection_plan", "looked_after", "child_in_need", "contact_social_care"}
)
FLAG_KINDS = (*sorted(SOCIAL_CARE_FLAGS), "looked_after", "early_help_assessment")
ROLES = {
    "education": "Designated safeguarding lead",
    "gp": "GP",
    "health_visiting": "Health visitor",
    "school_nursing": "School nurse",
    "social_care": "Social worker",
    "early_help": "Early help practitioner",
    "youth_justice": "Youth justice case manager",
    "youth_work": "Youth worker",
    "mental_health": "CAMHS clinician",
    "sexual_health": "Sexual health nurse",
    "substance_misuse": "Young people's substance misuse worker",
}


@cache
def fold_ascii(text: str) -> str:
    """ASCII letters, digits, spaces and hyphens only: "Zoë O'Brien" -> "Zoe OBrien"."""
    text = unicodedata.normalize("NFKD", text.replace("'", "").replace("\u0131", "i"))
    return "".join(c for c in text if c.isascii() and (c.isalnum() or c in " -"))


def age_on(dob: date, day: date) -> int:
    """Age in whole years on ``day``, reckoned as birthdays are in England."""
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


@dataclass(frozen=True, slots=True)
class _Household:
    """What twins share: authority, family name, home, carers, GP and any flag."""

    authority: DemoAuthority
    family_name: str
    addresses: tuple[NewAddress, ...]
    carers: tuple[NewCarer, ...]
    gp_practice: int
    flag_kind: str | None


class _Maker:
    """One generator run: the seeded rng, the date, and named staff to reuse."""

    def __init__(
        self,
        rng: Random,
        orgs: DemoOrganisations,
        today: date,
        shard: tuple[int, int] = (0, 1),
    ) -> None:
        self.rng, self.orgs, self.today = rng, orgs, today
        self.nhs_numbers = TestNhsNumbers(rng, *shard)
        self.shard = shard
        self.upn_serials: dict[tuple[int, int, int], int] = {}
        self.academic_year = today.year if today.month >= 9 else today.year - 1
        self.two_years_ago = today - timedelta(days=730)
        self.staff: dict[tuple[int, str], list[tuple[str, str]]] = {}

    def date_of_birth(self) -> date:
        rng = self.rng
        # Mostly under 18; care leavers and young people with SEND stay to 24.
        years = _below(rng, 18) if rng.random() < 0.95 else 18 + _below(rng, 7)
        # Never 25 * 365 days or more: always under the directory's age limit.
        days = min(int((years + rng.random()) * 365.2425), 25 * 365 - 1)
        return self.today - timedelta(days=days)

    def between(self, start: date, end: date) -> date:
        return start + timedelta(days=_below(self.rng, max((end - start).days, 0) + 1))

    def address(self, authority: AuthoritySpec) -> tuple[tuple[str, ...], str]:
        rng = self.rng
        district, locality, town = _one(rng, authority.localities)
        street = f"{STREET_NAMES.pick(rng)} {STREET_KINDS.pick(rng)}"
        door: tuple[str, ...]
        if rng.random() < 0.15:
            door = (f"Flat {1 + _below(rng, 40)}, {BLOCK_NAMES.pick(rng)}", street)
        else:
            door = (f"{1 + _below(rng, 180)} {street}",)
        inward = (
            f"{_below(rng, 10)}{_one(rng, INWARD_LETTERS)}{_one(rng, INWARD_LETTERS)}"
        )
        places = (locality, town) if locality != town else (town,)
        return (*door, *places), f"{district} {inward}"

    def email(self, given: str, family: str) -> str:
        local = f"{fold_ascii(given)}.{fold_ascii(family)}".lower().replace(" ", "")
        return f"{local}{_below(self.rng, 100)}@example.org"

    def carer(
        self,
        pool: Pool,
        family: str,
        relationship: str,
        *,
        responsibility: bool,
        address: str,
    ) -> NewCarer:
        given = pool.pick(self.rng)
        return NewCarer(
            name=f"{given} {family}",
            relationship=relationship,
            parental_responsibility=responsibility,
            phone=f"{DRAMA_MOBILE}{_below(self.rng, 1000):03d}",
            email=self.email(given, family) if self.rng.random() < 0.8 else None,
            address=address,
        )

    def household(self, dob: date) -> _Household:
        rng = self.rng
        authority = self.orgs.pick_authority(rng)
        family = FAMILY_NAMES.pick(rng)
        if rng.random() < DOUBLE_BARRELLED_RATE:
            other = FAMILY_NAMES.pick(rng)
            if " " not in family + other and other != family:
                family = f"{family}-{other}"
        lines, postcode = self.address(authority.spec)
        moved_in = self.between(dob, self.today) if rng.random() < 0.2 else dob
        addresses = [NewAddress(lines, postcode, True, moved_in)]
        if moved_in > dob:
            old_lines, old_postcode = self.address(authority.spec)
            addresses.append(NewAddress(old_lines, old_postcode, False, dob, moved_in))
        home = ", ".join((*lines, postcode))
        flag = _one(rng, FLAG_KINDS) if rng.random() < WARNING_FLAG_RATE else None
        carers = []
        if flag != "looked_after" or rng.random() < 0.5:
            surname = family if rng.random() < 0.8 else FAMILY_NAMES.pick(rng)
            carers.append(
                self.carer(
                    WOMEN_NAMES, surname, "mother", responsibility=True, address=home
                )
            )
        if rng.random() < 0.55:
            elsewhere = rng.random() < 0.3
            lines, postcode = (
                self.address(authority.spec) if elsewhere else (lines, postcode)
            )
            carers.append(
                self.carer(
                    MEN_NAMES,
                    family,
                    "father",
                    responsibility=rng.random() < 0.9,
                    address=", ".join((*lines, postcode)),
                )
            )
        if flag == "looked_after":
            carers.append(
                self.carer(
                    WOMEN_NAMES,
                    FAMILY_NAMES.pick(rng),
                    "foster_carer",
                    responsibility=False,
                    address=home,
                )
            )
        elif not carers or rng.random() < 0.05:
            carers.append(
                self.carer(
                    GRANDPARENT_NAMES,
                    family,
                    "grandparent",
                    responsibility=rng.random() < 0.5,
                    address=home,
                )
            )
        return _Household(
            authority,
            family,
            tuple(addresses),
            tuple(carers[:3]),
            _one(rng, authority.gp_practices),
            flag,
        )

    def names(self, gender: str, family: str, avoid: str) -> tuple[NewName, ...]:
        rng = self.rng
        pool = {"1": BOY_NAMES, "2": GIRL_NAMES}.get(gender) or _one(
            rng, (BOY_NAMES, GIRL_NAMES)
        )
        first = pool.pick(rng)
        while first == avoid:
            first = pool.pick(rng)
        middle = pool.pick(rng) if rng.random() < 0.6 else first
        given = first if middle == first else f"{first} {middle}"
        names = [NewName(given, family, "legal")]
        if first in NICKNAMES and rng.random() < PREFERRED_NAME_RATE:
            names.append(NewName(_one(rng, NICKNAMES[first]), family, "preferred"))
        former = FAMILY_NAMES.pick(rng)
        if rng.random() < FORMER_NAME_RATE and former != family:
            names.append(NewName(given, former, "former"))
        if rng.random() < ALIAS_RATE:
            variant = VARIANT_SPELLINGS.get(first)
            alias = (
                NewName(variant[0], family, "alias")
                if variant
                else NewName(given, FAMILY_NAMES.pick(rng), "alias")
            )
            names.append(alias)
        return tuple(names)

    def involvement(
        self,
        household: _Household,
        organisation: int,
        service: str,
        started_on: date,
        *,
        lead: bool = False,
        ended_on: date | None = None,
        consent_given_by: str | None = None,
    ) -> NewInvolvement:
        """An involvement with one of a few named staff per organisation and service."""
        rng = self.rng
        team = self.staff.setdefault((organisation, service), [])
        if len(team) < 4:
            given = (WOMEN_NAMES if rng.random() < 0.7 else MEN_NAMES).pick(rng)
            family = FAMILY_NAMES.pick(rng)
            title = "Dr " if service in {"gp", "mental_health"} else ""
            team.append((f"{title}{given} {family}", self.email(given, family)))
        name, email = _one(rng, team)
        return NewInvolvement(
            organisation_id=organisation,
            service_type=service,
            started_on=min(started_on, self.today),
            practitioner_name=name,
            practitioner_role=ROLES[service],
            phone=household.authority.spec.phone(400 + _below(rng, 600)),
            email=email,
            is_lead_professional=lead,
            ended_on=ended_on,
            consent_given_by=consent_given_by,
        )

    def universal(
        self, household: _Household, dob: date
    ) -> tuple[str | None, list[NewInvolvement]]:
        """School (and UPN) or health visiting, and a GP practice."""
        rng, orgs = self.rng, self.orgs
        school_age = age_on(dob, date(self.academic_year, 8, 31))
        found: list[NewInvolvement] = []
        upn = None
        if 4 <= school_age <= 15 or (16 <= school_age <= 17 and rng.random() < 0.8):
            phase = "primary" if school_age <= 10 else "secondary"
            school = household.authority.school(rng, phase)
            entered = self.academic_year - (school_age - 4)
            spec = household.authority.spec
            upn = self.upn(spec.dfe_code, school.establishment, entered % 100)
            phase_age = 4 if phase == "primary" else 11
            started = date(self.academic_year - (school_age - phase_age), 9, 1)
            found.append(self.involvement(household, school.id, "education", started))
            if rng.random() < 0.04:
                found.append(
                    self.involvement(
                        household, orgs.nhs_trust, "school_nursing", self.recent(dob)
                    )
                )
        elif school_age < 4 and rng.random() < 0.9:
            found.append(
                self.involvement(
                    household,
                    orgs.nhs_trust,
                    "health_visiting",
                    dob + timedelta(days=10),
                )
            )
        if rng.random() < 0.97:
            registered = dob + timedelta(days=_below(rng, 42))
            found.append(
                self.involvement(household, household.gp_practice, "gp", registered)
            )
        return upn, found

    def upn(self, la_code: int, establishment: int, year: int) -> str | None:
        """A UPN no other child of this seeding holds: serials of a school's
        intake year are dealt out in turn, this shard's every ``shards``-th;
        a school-year whose thousand serials are used up gives none (the demo
        has far fewer schools than England, so at a million children some
        pupils go without)."""
        key = (la_code, establishment, year)
        count = self.upn_serials.get(key, 0)
        index, shards = self.shard
        serial = count * shards + index
        if serial > 999:
            return None
        self.upn_serials[key] = count + 1
        return make_upn_with_serial(la_code, establishment, year, serial)

    def recent(self, dob: date) -> date:
        return self.between(max(dob, self.two_years_ago), self.today)

    def targeted(
        self, household: _Household, dob: date, age: int
    ) -> list[NewInvolvement]:
        """Social care, early help, youth justice or youth work, with one lead."""
        rng, authority = self.rng, household.authority
        services = []
        if household.flag_kind in SOCIAL_CARE_FLAGS or rng.random() < 0.03:
            services.append((authority.id, "social_care"))
        if household.flag_kind == "early_help_assessment" or rng.random() < 0.05:
            services.append((authority.id, "early_help"))
        if 10 <= age <= 17 and rng.random() < 0.015:
            services.append((authority.youth_offending_team, "youth_justice"))
        if 11 <= age <= 19 and rng.random() < 0.06:
            services.append((self.orgs.voluntary, "youth_work"))
        found = []
        lead_needed = rng.random() < 0.8
        for organisation, service in services:
            lead = lead_needed and service != "youth_work"
            lead_needed = lead_needed and not lead
            found.append(
                self.involvement(
                    household, organisation, service, self.recent(dob), lead=lead
                )
            )
        if age >= 2 and rng.random() < 0.03:
            started = self.between(dob, self.today - timedelta(days=400))
            ended = started + timedelta(days=60 + _below(rng, 305))
            found.append(
                self.involvement(
                    household, authority.id, "early_help", started, ended_on=ended
                )
            )
        return found

    def sensitive(
        self, household: _Household, dob: date, age: int
    ) -> list[NewInvolvement]:
        """Mental health from 5, sexual health and substance misuse from 13."""
        rng = self.rng
        if age < 5 or rng.random() >= SENSITIVE_RATE:
            return []
        services = ["mental_health"]
        if age >= 13:
            services += ["sexual_health", "substance_misuse"]
        service = _one(rng, services)
        provider = self.orgs.nhs_trust
        if service == "substance_misuse":
            provider = self.orgs.voluntary
        consent = None
        if rng.random() < 0.4:
            consent = "young_person" if age >= 13 else "parent"
        return [
            self.involvement(
                household, provider, service, self.recent(dob), consent_given_by=consent
            )
        ]

    def flags(self, household: _Household, dob: date) -> tuple[NewWarningFlag, ...]:
        if household.flag_kind is None:
            return ()
        spec, rng = household.authority.spec, self.rng
        return (
            NewWarningFlag(
                kind=household.flag_kind,
                owning_organisation_id=household.authority.id,
                contact_name=f"{WOMEN_NAMES.pick(rng)} {FAMILY_NAMES.pick(rng)}",
                contact_phone=spec.phone(10 + _below(self.rng, 90)),
                contact_email=f"mash.{spec.dfe_code}@example.org",
                starts_on=self.recent(dob),
            ),
        )

    def child(self, household: _Household, dob: date, avoid: str = "") -> NewChild:
        rng = self.rng
        age = age_on(dob, self.today)
        gender = GENDERS.pick(rng)
        upn, involvements = self.universal(household, dob)
        involvements += self.targeted(household, dob, age)
        involvements += self.sensitive(household, dob, age)
        shielded = rng.random() < SHIELDED_RATE
        nhs = self.nhs_numbers.next() if rng.random() < NHS_NUMBER_RATE else None
        return NewChild(
            names=self.names(gender, household.family_name, avoid),
            date_of_birth=dob,
            gender=gender,
            nhs_number=f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}" if nhs else None,
            upn=upn,
            addresses=household.addresses,
            carers=household.carers,
            involvements=tuple(involvements),
            warning_flags=self.flags(household, dob),
            shielded=shielded,
            responsible_authority_id=household.authority.id if shielded else None,
            consent_to_retain_until_25=age >= 16 and rng.random() < 0.1,
        )


def demo_children(
    rng: Random,
    count: int,
    orgs: DemoOrganisations,
    today: date,
    *,
    shard: tuple[int, int] = (0, 1),
) -> Iterator[NewChild]:
    """Yield ``count`` realistic children, the same ones for the same seed.

    Every child passes ``child_records_create``'s validation on ``today``:
    test-range NHS numbers, UPNs with their check letter, postcodes in the
    child's local authority, dates of birth under 25 years ago, one current
    address and at most one current lead professional. About 1 % are twins:
    same household and date of birth, different given names. NHS numbers are
    distinct (``TestNhsNumbers``); processes seeding one database in parallel
    pass their ``shard`` (index, count) so theirs are distinct too.
    """
    maker = _Maker(rng, orgs, today, shard)
    made = 0
    while made < count:
        dob = maker.date_of_birth()
        household = maker.household(dob)
        child = maker.child(household, dob)
        yield child
        made += 1
        if made < count and rng.random() < TWIN_PAIR_RATE:
            first = child.names[0].given_names.split(" ", 1)[0]
            yield maker.child(household, dob, avoid=first)
            made += 1
