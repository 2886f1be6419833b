"""Every API error is JSON in one of two shapes; no input makes a 500."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AccessAction, AccessEvent
from tests.api.world import post, second_factor_given_long_ago

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/api/v1/feeds/runs/not-a-uuid/", "/api/v1/children/1/open/", "/api/v2/"],
)
def test_an_api_url_that_names_nothing_is_a_json_404(world, path):
    for client in (Client(), world.practitioner_a.client()):
        response = client.post(path, {}, content_type="application/json")

        assert response.status_code == 404
        assert response.json() == {
            "detail": "Nothing the caller may see is at this URL.",
            "code": "not_found",
        }


def test_a_page_url_that_names_nothing_is_still_the_404_page(world):
    response = world.practitioner_a.client().get("/children/not-a-uuid/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_body_that_is_not_json_is_a_field_error(world):
    response = world.practitioner_a.client().post(
        reverse("directory-api:search"), "{not json", content_type="application/json"
    )

    assert response.status_code == 400
    [message] = response.json()["non_field_errors"]
    assert message.startswith("The request body cannot be read: JSON parse error")


def test_a_body_that_is_not_an_object_is_a_field_error(world):
    response = post(world.practitioner_a, reverse("directory-api:search"), [1, 2])

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


def test_other_errors_carry_a_detail_and_a_code(world):
    response = post(
        world.practitioner_a,
        reverse("directory-api:open", args=[uuid.uuid4()]),
        {"purpose": "providing_service"},
    )

    assert response.status_code == 404
    assert set(response.json()) == {"detail", "code"}
    assert response.json()["code"] == "not_found"


def test_breaking_glass_needs_a_recent_second_factor_and_opens_nothing(world):
    second_factor_given_long_ago(world.practitioner_b)

    response = post(
        world.practitioner_b,
        reverse("directory-api:open", args=[world.shielded_child]),
        {"purpose": "child_protection", "break_glass": True},
    )

    assert response.status_code == 403
    assert response.json()["code"] == "fresh_second_factor_required"
    assert not AccessEvent.objects.filter(actor_id=world.practitioner_b.user.pk)


def test_the_api_records_the_request_id_as_the_pages_do(world):
    client = world.practitioner_a.client()

    client.post(
        reverse("directory-api:search"),
        {"family_name": "Climbie", "date_of_birth": "2015-11-02"},
        content_type="application/json",
        headers={"X-Request-ID": "lb-1234"},
    )

    event = AccessEvent.objects.get(action=AccessAction.SEARCH)
    assert event.request_id == "lb-1234"


def test_a_session_must_send_the_csrf_header_with_a_change(world):
    identity = world.practitioner_b
    client = Client(enforce_csrf_checks=True)
    for name, value in identity.cookies.items():
        client.cookies[name] = value
    url = reverse("directory-api:flag-raise", args=[world.child])
    body = {
        "kind": "contact_social_care",
        "contact_name": "Valley duty team",
        "contact_phone": "01632 960 222",
        "starts_on": "2025-01-06",
    }

    without = client.post(url, body, content_type="application/json")
    with_header = client.post(
        url, body, content_type="application/json", headers=identity.headers
    )

    assert without.status_code == 403
    assert without.json()["detail"].startswith("CSRF Failed")
    assert with_header.status_code == 201
