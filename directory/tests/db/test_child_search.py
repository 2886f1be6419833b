"""child_search: the audited search gate, on real PostgreSQL."""

import datetime as dt
import json

import pytest

from accounts.roles import Role
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory, actor
from audit.models import AccessEvent
from contactpoint.crypto.fields import unseal
from directory.models import Child, ChildStatus
from directory.records import NewName, RestrictedMatch, SearchQuery
from directory.selectors import SearchRefused, child_search, searching
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)
QUERY = SearchQuery(
    family_name="Climbie", given_name="Victoria", date_of_birth=dt.date(2015, 11, 2)
)


@pytest.fixture
def authority():
    return LocalAuthorityFactory(
        name="London Borough of Haringey",
        phone="020 7946 0123",
        email="shielding@haringey.example.org",
    )


@pytest.fixture
def school(authority):
    return SchoolFactory(parent_authority=authority)


@pytest.fixture
def practitioner(school):
    return actor((Role.PRACTITIONER, school.pk, school.parent_authority_id))


def _create(*children):
    built = children or (NewChildFactory.build(),)
    return child_records_create(children=list(built), source=FEED_SOURCE, today=TODAY)


def _search(who, query=QUERY):
    return child_search(actor=who, query=query, request_id="req-1", today=TODAY)


def _decrypted(event, field):
    return json.loads(unseal(event, field) or "null")


def test_practitioner_finds_the_child_with_only_what_disambiguates(practitioner):
    (created,) = _create()

    outcome = _search(practitioner)

    (result,) = outcome.results
    assert result.child_id == created.id
    assert (result.given_names, result.family_name) == ("Victoria", "Climbié")
    assert result.date_of_birth == dt.date(2015, 11, 2)
    assert (result.gender, result.postcode_district) == ("2", "N17")
    assert (result.score, result.strength) == (100.0, "Strong match")
    assert outcome.restricted == ()
    assert not outcome.capped


def test_search_writes_one_event_with_encrypted_terms_and_result_ids(practitioner):
    (created,) = _create()

    _search(practitioner)

    event = AccessEvent.objects.get()
    assert (event.action, event.outcome, event.reason) == (
        "search",
        "allowed",
        "granted",
    )
    assert event.request_id == "req-1"
    assert not event.shielded_record
    assert event.detail == "Showed 1 child and 0 restricted matches."
    assert b"Climb" not in bytes(event.query_terms)
    assert str(created.id).encode() not in bytes(event.result_ids)
    assert _decrypted(event, "query_terms") == {
        "family_name": "Climbie",
        "given_name": "Victoria",
        "date_of_birth": "2015-11-02",
    }
    assert _decrypted(event, "result_ids") == [str(created.id)]


def test_errors_in_the_query_still_find_the_child(practitioner):
    (created,) = _create(
        NewChildFactory.build(
            names=(
                NewName("William James", "Smith-Kowalski"),
                NewName("Bill", "Smith-Kowalski", "preferred"),
                NewName("William James", "Manning", "former"),
            ),
            gender="1",
            date_of_birth=dt.date(2014, 3, 7),
        )
    )
    queries = [
        SearchQuery("Kowalsky", "Bill", dt.date(2014, 7, 3)),
        SearchQuery("Smyth", "Will", dt.date(2014, 3, 8)),
        SearchQuery("Manning", "William", dt.date(2014, 3, 7)),
        SearchQuery("smith kowalski", "", age_from=11, age_to=12),
        SearchQuery("Kowalski", "William", postcode="N17 1ZZ"),
    ]
    for query in queries:
        assert [r.child_id for r in _search(practitioner, query).results] == [
            created.id
        ], query


def test_shielded_child_shows_only_as_a_contact_and_is_logged(authority, practitioner):
    (shown, hidden) = _create(
        NewChildFactory.build(names=(NewName("Victoria", "Climbie"),)),
        NewChildFactory.build(shielded=True, responsible_authority_id=authority.pk),
    )

    outcome = _search(practitioner)

    assert [r.child_id for r in outcome.results] == [shown.id]
    assert outcome.restricted == (
        RestrictedMatch(
            authority_name="London Borough of Haringey",
            contact_phone="020 7946 0123",
            contact_email="shielding@haringey.example.org",
        ),
    )
    event = AccessEvent.objects.get()
    assert event.shielded_record
    assert _decrypted(event, "result_ids") == [str(shown.id), str(hidden.id)]


def test_several_shielded_children_of_one_authority_give_one_contact(
    authority, practitioner
):
    _create(
        NewChildFactory.build(shielded=True, responsible_authority_id=authority.pk),
        NewChildFactory.build(shielded=True, responsible_authority_id=authority.pk),
    )

    outcome = _search(practitioner)

    assert outcome.results == ()
    assert len(outcome.restricted) == 1
    assert len(_decrypted(AccessEvent.objects.get(), "result_ids")) == 2


@pytest.mark.parametrize("role", [Role.SHIELDING_OFFICER, Role.DATA_MANAGER])
def test_the_responsible_authoritys_officers_see_shielded_children(authority, role):
    (hidden,) = _create(
        NewChildFactory.build(shielded=True, responsible_authority_id=authority.pk)
    )

    outcome = _search(actor((role, authority.pk, authority.pk)))

    assert [r.child_id for r in outcome.results] == [hidden.id]
    assert outcome.restricted == ()


def test_another_authoritys_shielding_officer_sees_only_the_contact(authority):
    elsewhere = LocalAuthorityFactory()
    _create(NewChildFactory.build(shielded=True, responsible_authority_id=authority.pk))

    outcome = _search(actor((Role.SHIELDING_OFFICER, elsewhere.pk, elsewhere.pk)))

    assert outcome.results == ()
    assert [m.authority_name for m in outcome.restricted] == [
        "London Borough of Haringey"
    ]


def test_merged_and_archived_children_are_never_found(practitioner):
    merged, archived, active = _create(
        NewChildFactory.build(), NewChildFactory.build(), NewChildFactory.build()
    )
    Child.unaudited.filter(pk=merged.id).update(
        status=ChildStatus.MERGED, merged_into_id=active.id
    )
    Child.unaudited.filter(pk=archived.id).update(status=ChildStatus.ARCHIVED)

    assert [r.child_id for r in _search(practitioner).results] == [active.id]


def test_too_broad_query_is_refused_and_audited_without_clear_terms(practitioner):
    _create()

    with pytest.raises(SearchRefused) as refused:
        _search(practitioner, SearchQuery(family_name="Climbié"))

    assert refused.value.reason == "query_too_broad"
    assert refused.value.problems[0][1].startswith("Add the child's date of birth")
    assert "Climb" not in str(refused.value)
    event = AccessEvent.objects.get()
    assert (event.action, event.outcome, event.reason) == (
        "search",
        "denied",
        "query_too_broad",
    )
    assert b"Climb" not in bytes(event.query_terms)
    assert _decrypted(event, "query_terms") == {"family_name": "Climbié"}
    assert event.result_ids is None


def test_invalid_query_is_refused_as_invalid(practitioner):
    with pytest.raises(SearchRefused) as refused:
        _search(practitioner, SearchQuery("Climbié", postcode="nowhere"))

    assert refused.value.reason == "query_invalid"
    assert [field for field, _ in refused.value.problems] == ["postcode"]
    assert AccessEvent.objects.get().reason == "query_invalid"


@pytest.mark.parametrize(
    ("role", "verified", "reason"),
    [
        (Role.PRACTITIONER, False, "second_factor_missing"),
        (Role.AUDITOR, True, "role_not_permitted"),
        (Role.ADMINISTRATOR, True, "role_not_permitted"),
    ],
)
def test_policy_refusal_is_audited_and_raised(school, role, verified, reason):
    _create()
    who = actor((role, school.pk, school.parent_authority_id), verified=verified)

    with pytest.raises(SearchRefused) as refused:
        _search(who)

    assert (refused.value.reason, refused.value.problems) == (reason, [])
    event = AccessEvent.objects.get()
    assert (event.outcome, event.reason) == ("denied", reason)


def test_more_than_twenty_matches_are_capped(practitioner):
    _create(
        *(
            NewChildFactory.build(names=(NewName(f"Victoria {n}", "Climbié"),))
            for n in range(22)
        )
    )

    outcome = _search(practitioner)

    assert len(outcome.results) == 20
    assert outcome.capped
    assert len(_decrypted(AccessEvent.objects.get(), "result_ids")) == 20


def test_candidates_beyond_the_cap_are_not_decrypted(practitioner, monkeypatch):
    monkeypatch.setattr(searching, "PHASE_ONE_CAP", 2)
    monkeypatch.setattr(searching, "CANDIDATE_CAP", 2)
    _create(*(NewChildFactory.build() for _ in range(3)))

    outcome = _search(practitioner)

    assert len(outcome.results) == 2
    assert outcome.capped


def test_a_search_without_a_strong_match_widens_to_variants(practitioner):
    """Phase 1 (typed terms only) finds nothing strong for a mistyped year;
    phase 2 finds the child through the date-of-birth variants."""
    (created,) = _create()
    mistyped = SearchQuery(
        family_name="Climbie", given_name="Victoria", date_of_birth=dt.date(2016, 11, 2)
    )

    outcome = _search(practitioner, mistyped)

    assert outcome.results[0].child_id == created.id


def test_nothing_found_is_still_audited(practitioner):
    outcome = _search(practitioner)

    assert (outcome.results, outcome.restricted, outcome.capped) == ((), (), False)
    event = AccessEvent.objects.get()
    assert (event.outcome, event.result_ids) == ("allowed", None)


def test_search_takes_a_fixed_number_of_queries(
    authority, practitioner, django_assert_num_queries
):
    _create(
        *(NewChildFactory.build() for _ in range(5)),
        NewChildFactory.build(shielded=True, responsible_authority_id=authority.pk),
    )

    # the index lookup, the candidates with their authorities, and the audit
    # event (audit_event_append, then the wait for its flush).
    with django_assert_num_queries(4):
        outcome = _search(practitioner)

    assert len(outcome.results) == 5
    assert len(outcome.restricted) == 1
