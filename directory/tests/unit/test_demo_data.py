"""The demo generator: deterministic, valid, and as varied as real records."""

import random
import unicodedata
from collections import Counter
from datetime import date
from itertools import pairwise

import pytest

from directory.demo_data import (
    DEMO_USERS,
    NICKNAMES,
    DemoOrganisations,
    age_on,
    demo_children,
    demo_organisation_specs,
)
from directory.identifiers import (
    is_test_nhs_number,
    normalise_nhs_number,
    normalise_postcode,
    normalise_upn,
    validate_date_of_birth,
)
from directory.search_index import given_name_forms

TODAY = date(2026, 11, 22)
SENSITIVE = {"mental_health", "sexual_health", "substance_misuse"}


def _orgs():
    ids = {spec.key: n for n, spec in enumerate(demo_organisation_specs(), start=1)}
    return DemoOrganisations.from_ids(ids)


@pytest.fixture(scope="module")
def children():
    return list(demo_children(random.Random(2026), 5000, _orgs(), TODAY))


def _share(children, predicate):
    return sum(1 for child in children if predicate(child)) / len(children)


def test_the_same_seed_gives_the_same_children():
    first = list(demo_children(random.Random(7), 300, _orgs(), TODAY))
    again = list(demo_children(random.Random(7), 300, _orgs(), TODAY))
    other = list(demo_children(random.Random(8), 300, _orgs(), TODAY))

    assert first == again
    assert first != other


def test_yields_exactly_the_number_asked_for():
    for count in (0, 1, 2, 199):
        assert len(list(demo_children(random.Random(1), count, _orgs(), TODAY))) == (
            count
        )


def test_every_identifier_and_date_of_birth_passes_the_validators(children):
    for child in children:
        validate_date_of_birth(child.date_of_birth, today=TODAY)
        if child.nhs_number:
            assert is_test_nhs_number(normalise_nhs_number(child.nhs_number))
        if child.upn:
            normalise_upn(child.upn)
        assert sum(address.is_current for address in child.addresses) == 1
        for address in child.addresses:
            normalise_postcode(address.postcode)


def test_addresses_lie_in_the_local_authority_of_the_childs_gp(children):
    districts_by_practice = {}
    for authority in _orgs().authorities:
        districts = {district for district, _, _ in authority.spec.localities}
        for practice in authority.gp_practices:
            districts_by_practice[practice] = districts
    checked = 0
    for child in children:
        practices = [
            i.organisation_id for i in child.involvements if i.service_type == "gp"
        ]
        for practice in practices:
            for address in child.addresses:
                assert address.postcode.split(" ")[0] in districts_by_practice[practice]
            checked += 1
    assert checked > 0.9 * len(children)


def test_ratios_are_roughly_right(children):
    ages = [age_on(child.date_of_birth, TODAY) for child in children]
    assert max(ages) <= 24
    assert 0.9 < sum(age < 18 for age in ages) / len(ages) < 0.99
    assert 0.92 < _share(children, lambda c: c.nhs_number is not None) < 0.98
    assert 0.01 < _share(children, lambda c: bool(c.warning_flags)) < 0.05
    assert 0.001 < _share(children, lambda c: c.shielded) < 0.012
    assert (
        0.03
        < _share(
            children, lambda c: any(i.service_type in SENSITIVE for i in c.involvements)
        )
        < 0.08
    )
    assert (
        _share(children, lambda c: any(i.service_type == "gp" for i in c.involvements))
        > 0.9
    )
    genders = Counter(child.gender for child in children)
    assert genders["1"] > 0.4 * len(children)
    assert genders["2"] > 0.4 * len(children)
    assert genders["0"] > 0


def test_school_age_children_have_a_upn_and_a_school(children):
    for child in children:
        at_school = any(i.service_type == "education" for i in child.involvements)
        assert (child.upn is not None) == at_school
        if any(i.service_type == "health_visiting" for i in child.involvements):
            assert age_on(child.date_of_birth, TODAY) < 5


def test_names_include_diacritics_hyphens_apostrophes_and_spaces(children):
    family_names = {n.family_name for c in children for n in c.names}
    given_names = {n.given_names for c in children for n in c.names}
    everything = family_names | given_names
    assert any(not name.isascii() for name in family_names)
    assert any(not name.isascii() for name in given_names)
    assert any("-" in name for name in family_names)
    assert any("'" in name for name in family_names)
    assert any(" " in name for name in family_names)
    assert all(unicodedata.is_normalized("NFC", name) for name in everything)


def test_preferred_names_are_nicknames_the_search_index_maps_back(children):
    preferred = [
        (c.names[0], n) for c in children for n in c.names if n.kind == "preferred"
    ]
    assert len(preferred) > 0.01 * len(children)
    for legal, nickname in preferred:
        formal = legal.given_names.split(" ")[0]
        assert nickname.given_names in NICKNAMES[formal]
        assert formal.casefold() in given_name_forms(nickname.given_names)


def test_former_names_and_aliases_occur(children):
    kinds = Counter(n.kind for c in children for n in c.names)
    assert kinds["legal"] == len(children)
    assert kinds["former"] > 0.01 * len(children)
    assert kinds["alias"] > 0.005 * len(children)
    for child in children:
        for name in child.names:
            if name.kind == "former":
                assert name.family_name != child.names[0].family_name


def test_about_one_percent_are_twins(children):
    twins = [
        (a, b)
        for a, b in pairwise(children)
        if a.date_of_birth == b.date_of_birth and a.addresses == b.addresses
    ]
    assert 0.003 < 2 * len(twins) / len(children) < 0.02
    for a, b in twins:
        assert a.names[0].family_name == b.names[0].family_name
        assert a.names[0].given_names.split()[0] != b.names[0].given_names.split()[0]


def test_involvements_are_consistent(children):
    for child in children:
        leads = [i for i in child.involvements if i.is_lead_professional]
        assert len([i for i in leads if i.ended_on is None]) <= 1
        for involvement in child.involvements:
            assert child.date_of_birth <= involvement.started_on <= TODAY
            assert involvement.ended_on is None or (
                involvement.started_on <= involvement.ended_on <= TODAY
            )
            if involvement.consent_given_by:
                assert involvement.service_type in SENSITIVE
        if child.shielded:
            assert child.responsible_authority_id is not None
    assert any(i.consent_given_by for c in children for i in c.involvements)
    assert any(i.is_lead_professional for c in children for i in c.involvements)


def test_warning_flags_are_owned_by_the_local_authority_with_a_contact(children):
    authority_ids = {authority.id for authority in _orgs().authorities}
    flags = [flag for child in children for flag in child.warning_flags]
    assert {flag.kind for flag in flags} >= {
        "child_protection_plan",
        "looked_after",
        "early_help_assessment",
        "contact_social_care",
    }
    for flag in flags:
        assert flag.owning_organisation_id in authority_ids
        assert flag.contact_name
        assert flag.contact_phone.replace(" ", "").isdigit()


def test_contact_details_are_fictional(children):
    for child in children:
        for carer in child.carers:
            assert carer.phone.startswith("07700 900")
            assert carer.email is None or carer.email.endswith("@example.org")
        for involvement in child.involvements:
            assert involvement.email.endswith("@example.org")
        assert 1 <= len(child.carers) <= 3


def test_catalogue_is_consistent():
    specs = demo_organisation_specs()
    keys = [spec.key for spec in specs]
    assert len(keys) == len(set(keys))
    assert {user.organisation for user in DEMO_USERS} <= set(keys)
    schools = [spec for spec in specs if spec.kind == "school"]
    assert all(len(spec.code) == 6 and spec.code.isdigit() for spec in schools)
    assert {user.role for user in DEMO_USERS} >= {
        "practitioner",
        "data_manager",
        "shielding_officer",
        "administrator",
        "auditor",
        "feed_system",
    }
