"""Recording and ending involvements, raising and ending flags, through the
API: the same services and policy as the pages, the same audit rows."""

import datetime as dt

import pytest
from django.urls import reverse

from audit.models import AccessAction, AccessEvent
from tests.api.world import STARTED, Identity, post

pytestmark = pytest.mark.django_db

INVOLVEMENT = {
    "service_type": "health_visiting",
    "practitioner_role": "Health visitor",
    "started_on": "2025-01-06",
    "phone": "01632 960 111",
    "email": "bob@example.org",
}
FLAG = {
    "kind": "contact_social_care",
    "contact_name": "Valley duty team",
    "contact_phone": "01632 960 222",
    "starts_on": "2025-01-06",
}


def _events(identity: Identity) -> list[tuple[str, str, str]]:
    return list(
        AccessEvent.objects.filter(actor_id=identity.user.pk)
        .order_by("seq")
        .values_list("action", "outcome", "reason")
    )


# Involvements ---------------------------------------------------------------------


def test_a_practitioner_records_an_involvement_and_it_is_audited_first(world):
    url = reverse("directory-api:involvement-record", args=[world.child])

    response = post(world.practitioner_b, url, INVOLVEMENT)

    assert response.status_code == 201, response.content
    assert response.json()["child_id"] == str(world.child)
    assert _events(world.practitioner_b) == [
        (AccessAction.CREATE, "allowed", "involvement_recorded")
    ]
    opened = post(
        world.practitioner_b, reverse("directory-api:open", args=[world.child]), {}
    )
    assert opened.status_code == 200, "a recorded involvement needs no purpose"
    assert response.json()["id"] in {i["id"] for i in opened.json()["involvements"]}


def test_recording_an_involvement_checks_every_field(world):
    url = reverse("directory-api:involvement-record", args=[world.child])

    response = post(
        world.practitioner_b,
        url,
        {
            "service_type": "astrology",
            "practitioner_role": "",
            "started_on": "2999-01-01",
            "phone": "call me",
            "email": "not an address",
        },
    )

    assert response.status_code == 400
    assert set(response.json()) == {
        "service_type",
        "practitioner_role",
        "phone",
        "email",
    }
    assert _events(world.practitioner_b) == []


def test_the_services_own_rules_come_back_as_field_errors(world):
    url = reverse("directory-api:involvement-record", args=[world.child])

    response = post(
        world.practitioner_b,
        url,
        INVOLVEMENT
        | {
            "started_on": "2999-01-01",
            "service_type": "police",
            "lead_professional": True,
        },
    )

    assert response.status_code == 400
    assert set(response.json()) == {"started_on", "lead_professional"}


def test_a_data_manager_may_not_record_an_involvement(world):
    url = reverse("directory-api:involvement-record", args=[world.child])

    response = post(world.data_manager_a, url, INVOLVEMENT)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert _events(world.data_manager_a) == [
        (AccessAction.CREATE, "denied", "role_not_permitted")
    ]


def test_a_feed_system_token_may_not_record_an_involvement(world):
    url = reverse("directory-api:involvement-record", args=[world.child])

    assert post(world.feed_a, url, INVOLVEMENT).status_code == 403


def test_an_involvement_for_another_organisation_is_refused(world):
    url = reverse("directory-api:involvement-record", args=[world.child])

    response = post(
        world.practitioner_b, url, INVOLVEMENT | {"organisation_id": world.school_a.pk}
    )

    assert response.status_code == 403
    assert _events(world.practitioner_b) == [
        (AccessAction.CREATE, "denied", "not_own_organisation")
    ]


def test_a_shielded_child_looks_missing_to_a_practitioner(world):
    url = reverse("directory-api:involvement-record", args=[world.shielded_child])

    response = post(world.practitioner_b, url, INVOLVEMENT)

    assert response.status_code == 404
    assert _events(world.practitioner_b) == [
        (AccessAction.CREATE, "denied", "record_shielded")
    ]


def test_a_practitioner_ends_their_organisations_involvement(world):
    url = reverse(
        "directory-api:involvement-end", args=[world.child, world.involvement]
    )

    response = post(world.practitioner_a, url, {"ended_on": "2025-02-03"})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": str(world.involvement),
        "child_id": str(world.child),
        "ended_on": "2025-02-03",
    }
    assert _events(world.practitioner_a)[-1] == (
        AccessAction.UPDATE,
        "allowed",
        "involvement_ended",
    )
    again = post(world.practitioner_a, url, {"ended_on": "2025-02-03"})
    assert again.status_code == 400
    assert again.json() == {"ended_on": ["This involvement has already ended"]}


def test_another_organisations_involvement_looks_missing(world):
    url = reverse(
        "directory-api:involvement-end", args=[world.child, world.involvement]
    )

    response = post(world.practitioner_b, url, {"ended_on": "2025-02-03"})

    assert response.status_code == 404
    assert _events(world.practitioner_b) == [
        (AccessAction.UPDATE, "denied", "not_own_organisation")
    ]


def test_an_end_date_before_the_start_is_refused(world):
    url = reverse(
        "directory-api:involvement-end", args=[world.child, world.involvement]
    )

    response = post(
        world.practitioner_a, url, {"ended_on": str(STARTED - dt.timedelta(days=1))}
    )

    assert response.status_code == 400
    assert "ended_on" in response.json()


# Flags ------------------------------------------------------------------------------


def test_a_practitioner_raises_a_flag_without_naming_its_kind_in_the_log(world):
    url = reverse("directory-api:flag-raise", args=[world.child])

    response = post(world.practitioner_b, url, FLAG)

    assert response.status_code == 201, response.content
    event = AccessEvent.objects.filter(actor_id=world.practitioner_b.user.pk).get()
    assert (event.action, event.outcome, event.reason) == (
        AccessAction.CREATE,
        "allowed",
        "warning_flag_raised",
    )
    assert "social care" not in event.detail
    opened = post(
        world.practitioner_b,
        reverse("directory-api:open", args=[world.child]),
        {"purpose": "providing_service"},
    )
    flags = {f["id"]: f for f in opened.json()["warning_flags"]}
    assert flags[response.json()["id"]]["owning_organisation_name"] == "Valley Primary"


def test_a_data_manager_raises_a_flag_on_their_authoritys_shielded_child(world):
    url = reverse("directory-api:flag-raise", args=[world.shielded_child])

    assert post(world.data_manager_a, url, FLAG).status_code == 201
    assert post(world.data_manager_b, url, FLAG).status_code == 404


def test_raising_a_flag_checks_every_field(world):
    url = reverse("directory-api:flag-raise", args=[world.child])

    response = post(
        world.practitioner_b,
        url,
        {
            "kind": "gossip",
            "contact_name": "",
            "contact_phone": "x",
            "contact_email": "nope",
            "starts_on": "yesterday",
        },
    )

    assert response.status_code == 400
    assert set(response.json()) == {
        "kind",
        "contact_name",
        "contact_phone",
        "contact_email",
        "starts_on",
    }


def test_a_second_current_flag_of_the_same_kind_is_refused(world):
    url = reverse("directory-api:flag-raise", args=[world.child])

    response = post(world.practitioner_a, url, FLAG | {"kind": "early_help_assessment"})

    assert response.status_code == 400
    assert list(response.json()) == ["kind"]


def test_auditors_and_feed_systems_raise_no_flags(world):
    url = reverse("directory-api:flag-raise", args=[world.child])

    assert post(world.auditor, url, FLAG).status_code == 403
    assert post(world.feed_a, url, FLAG).status_code == 403
    assert _events(world.auditor) == [
        (AccessAction.CREATE, "denied", "role_not_permitted")
    ]


def test_a_flag_is_ended_only_by_its_owning_organisation(world):
    url = reverse("directory-api:flag-end", args=[world.child, world.flag])

    refused = post(world.practitioner_b, url, {"ended_on": "2025-03-03"})
    ended = post(world.practitioner_a, url, {"ended_on": "2025-03-03"})

    assert refused.status_code == 404
    assert ended.status_code == 200, ended.content
    assert _events(world.practitioner_b) == [
        (AccessAction.UPDATE, "denied", "not_own_organisation")
    ]
    assert _events(world.practitioner_a)[-1] == (
        AccessAction.UPDATE,
        "allowed",
        "warning_flag_ended",
    )


def test_a_flag_of_another_child_looks_missing(world):
    url = reverse("directory-api:flag-end", args=[world.shielded_child, world.flag])

    response = post(world.practitioner_a, url, {"ended_on": "2025-03-03"})

    assert response.status_code == 404


# Who may call at all ------------------------------------------------------------------


def test_a_session_without_a_second_factor_is_refused_before_anything_happens(
    client, world
):
    # A practitioner who has given a password but no second factor yet.
    client.force_login(world.practitioner_b.user)
    url = reverse("directory-api:flag-raise", args=[world.child])

    response = client.post(url, FLAG, content_type="application/json")

    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"
    assert _events(world.practitioner_b) == []
