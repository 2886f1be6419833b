"""Signing in (password, then a second factor) and out, the home page, and the
headers every page carries."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    Organisation,
    OrganisationKind,
    RoleAssignment,
    TotpDevice,
    User,
)
from accounts.roles import Role
from accounts.tests.second_factors import totp_code, totp_device_for
from accounts.two_factor import backup_codes_generate
from audit.models import AccessAction, AccessEvent, Outcome

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
INVALID_LOGIN = "Enter a correct username and password."


@pytest.fixture
def user() -> User:
    return User.objects.create_user(
        username="ada.lovelace",
        email="Ada.Lovelace@example.org",
        password=PASSWORD,
        first_name="Ada",
        last_name="Lovelace",
    )


def _sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post(
        reverse("accounts:sign-in"), {"username": username, "password": password}
    )


def _signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


SECOND_FACTOR = reverse("accounts:second-factor")
NOON = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def app(user) -> str:
    """The user has an authenticator app; its secret."""
    _device, secret = totp_device_for(user)
    return secret


def test_a_password_alone_leads_to_the_second_factor_step(client, user, app):
    response = _sign_in(client, "ada.lovelace")

    assert response.status_code == 302
    assert response["Location"] == SECOND_FACTOR
    assert _signed_in_user_id(client) == str(user.pk)
    # Signed in with a password only, the home page is still closed.
    home = client.get(reverse("home"))
    assert home["Location"] == f"{SECOND_FACTOR}?next=%2F"


def test_sign_in_with_username_and_authenticator_code_goes_home(
    client, clock, user, app
):
    _sign_in(client, "ada.lovelace")
    page = client.get(SECOND_FACTOR).content.decode()
    assert "Enter the 6-digit code from your authenticator app" in page
    assert re.search(r'<input[^>]*autocomplete="one-time-code"', page)
    assert re.search(r'<input[^>]*inputmode="numeric"', page)
    assert "Use a backup code instead" in page

    response = client.post(SECOND_FACTOR, {"code": totp_code(app)})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    event = AccessEvent.objects.get(action=AccessAction.SIGN_IN)
    assert (event.outcome, event.reason) == (Outcome.ALLOWED, "second_factor_totp")
    assert event.actor_id == user.pk


def test_the_session_gets_a_new_key_once_the_second_factor_passes(
    client, clock, user, app
):
    _sign_in(client, "ada.lovelace")
    password_only_key = client.session.session_key

    client.post(SECOND_FACTOR, {"code": totp_code(app)})

    assert client.session.session_key != password_only_key


def test_sign_in_with_email_address_in_any_case(client, user):
    response = _sign_in(client, "ada.lovelace@EXAMPLE.org")

    assert response.status_code == 302
    assert _signed_in_user_id(client) == str(user.pk)


def test_sign_in_follows_a_safe_next_url_only(client, clock, user, app):
    url = reverse("accounts:sign-in")
    data = {"username": "ada.lovelace", "password": PASSWORD}

    first = client.post(f"{url}?next=/privacy/", data)
    assert first["Location"] == f"{SECOND_FACTOR}?next=%2Fprivacy%2F"
    done = client.post(first["Location"], {"code": totp_code(app)})
    assert done["Location"] == "/privacy/"

    client.logout()
    clock.shift(30)
    evil = client.post(f"{url}?next=https://evil.example/", data)
    assert evil["Location"] == SECOND_FACTOR
    sneaky = client.post(
        f"{SECOND_FACTOR}?next=https://evil.example/", {"code": totp_code(app)}
    )
    assert sneaky["Location"] == reverse("home")


def test_a_wrong_code_is_refused_with_a_linked_error(client, clock, user, app):
    _sign_in(client, "ada.lovelace")

    response = client.post(SECOND_FACTOR, {"code": "000000"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Check your authenticator app" in html
    assert '<a href="#id_code">The code is not correct.' in html
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter the 6-digit code from your authenticator app"),
        ("12345", "The code must be 6 digits"),
        ("12a456", "The code must only include numbers"),
    ],
)
def test_malformed_codes_are_explained_without_using_up_a_try(
    client, user, app, code, message
):
    _sign_in(client, "ada.lovelace")

    response = client.post(SECOND_FACTOR, {"code": code})

    assert message in response.content.decode()
    assert not AccessEvent.objects.filter(action=AccessAction.SECOND_FACTOR).exists()


def test_a_replayed_code_is_refused(client, clock, user, app):
    code = totp_code(app)
    other = Client()
    _sign_in(other, "ada.lovelace")
    other.post(SECOND_FACTOR, {"code": code})

    _sign_in(client, "ada.lovelace")
    response = client.post(SECOND_FACTOR, {"code": code})

    assert "This code has already been used" in response.content.decode()


def test_repeated_wrong_codes_ask_the_user_to_wait(client, clock, user, app):
    _sign_in(client, "ada.lovelace")
    client.post(SECOND_FACTOR, {"code": "000000"})

    response = client.post(SECOND_FACTOR, {"code": totp_code(app)})

    assert "You have entered too many wrong codes. Wait 1 second" in (
        response.content.decode()
    )


def test_signing_in_with_a_backup_code(client, user, app):
    codes = backup_codes_generate(user)
    _sign_in(client, "ada.lovelace")
    url = reverse("accounts:second-factor-backup-code")

    response = client.post(url, {"code": codes[0].upper()})

    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert AccessEvent.objects.get(action=AccessAction.SIGN_IN).reason == (
        "second_factor_backup_code"
    )


def test_a_used_backup_code_is_refused(client, user, app):
    codes = backup_codes_generate(user)
    first = Client()
    _sign_in(first, "ada.lovelace")
    first.post(reverse("accounts:second-factor-backup-code"), {"code": codes[0]})

    _sign_in(client, "ada.lovelace")
    response = client.post(
        reverse("accounts:second-factor-backup-code"), {"code": codes[0]}
    )

    assert "This backup code is not correct, or it has already been used" in (
        response.content.decode()
    )


def test_first_sign_in_enrols_an_authenticator_app_then_shows_backup_codes(
    client, clock, user
):
    _sign_in(client, "ada.lovelace")
    assert client.get(SECOND_FACTOR)["Location"] == reverse(
        "accounts:second-factor-setup"
    )

    page = client.get(reverse("accounts:second-factor-setup")).content.decode()
    assert re.search(r'<svg class="app-qr-code" role="img" aria-label="[^"]+"', page)
    key = re.search(r'<code id="secret-key">([A-Z2-7 ]+)</code>', page)
    assert key is not None
    secret = key.group(1).replace(" ", "")
    assert len(key.group(1).split()) == 8
    # Reloading shows the same key: the app the user has just added still works.
    again = client.get(reverse("accounts:second-factor-setup")).content.decode()
    assert key.group(0) in again

    response = client.post(
        reverse("accounts:second-factor-setup"), {"code": totp_code(secret)}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "Save your backup codes" in html
    assert "You will only see these codes once." in html
    codes = re.findall(r"<code[^>]*>([2-9a-z]{5}-[2-9a-z]{5})</code>", html)
    assert len(codes) == 10
    assert "I have saved these codes" in html
    assert TotpDevice.objects.get(user=user).confirmed
    assert client.get(reverse("home")).status_code == 200
    # The codes are nowhere to be seen again.
    assert client.get(reverse("accounts:second-factor-setup"))["Location"] == (
        SECOND_FACTOR
    )


def test_a_wrong_code_during_enrolment_confirms_nothing(client, clock, user):
    _sign_in(client, "ada.lovelace")
    client.get(reverse("accounts:second-factor-setup"))

    response = client.post(reverse("accounts:second-factor-setup"), {"code": "000000"})

    assert "The code is not correct" in response.content.decode()
    assert 'id="secret-key"' in response.content.decode()
    assert not TotpDevice.objects.filter(user=user, confirmed=True).exists()


def test_second_factor_steps_send_a_visitor_without_a_password_to_sign_in(client):
    for name in (
        "accounts:second-factor",
        "accounts:second-factor-backup-code",
        "accounts:second-factor-setup",
    ):
        response = client.get(f"{reverse(name)}?next=/privacy/")
        assert response["Location"] == (
            f"{reverse('accounts:sign-in')}?next=%2Fprivacy%2F"
        )


def test_a_verified_user_visiting_sign_in_goes_on(user, verified_client):
    client = verified_client(user)

    response = client.get(f"{reverse('accounts:sign-in')}?next=/privacy/")

    assert response["Location"] == "/privacy/"


def test_wrong_password_shows_the_error_and_does_not_sign_in(client, user):
    response = _sign_in(client, "ada.lovelace", "wrong password")
    event = AccessEvent.objects.get(action=AccessAction.SIGN_IN_FAILED)
    assert (event.reason, event.subject_user_id) == ("password_wrong", user.pk)
    assert "wrong password" not in f"{event.detail} {event.reason}"

    html = response.content.decode()
    assert response.status_code == 200
    assert _signed_in_user_id(client) is None
    assert "<title>Error: Sign in \N{EN DASH} " in html
    assert 'class="govuk-error-summary"' in html
    assert f'<a href="#id_username">{INVALID_LOGIN}' in html
    assert 'id="id_username-error"' in html
    assert 'aria-describedby="id_username-error"' in html
    assert "wrong password" not in html


def test_unknown_email_address_fails_like_a_wrong_password(client, user):
    response = _sign_in(client, "nobody@example.org")

    assert INVALID_LOGIN in response.content.decode()
    assert _signed_in_user_id(client) is None
    event = AccessEvent.objects.get(action=AccessAction.SIGN_IN_FAILED)
    assert (event.reason, event.subject_user_id, event.actor_id) == (
        "unknown_user",
        None,
        None,
    )


def test_empty_form_asks_for_both_fields(client):
    response = client.post(reverse("accounts:sign-in"), {})

    html = response.content.decode()
    assert '<a href="#id_username">Enter your username or email address</a>' in html
    assert '<a href="#id_password">Enter your password</a>' in html


def test_suspended_user_cannot_sign_in(client, user):
    user.suspended_at = timezone.now()
    user.save(update_fields=["suspended_at"])

    response = _sign_in(client, "ada.lovelace")

    assert "This account has been suspended." in response.content.decode()
    assert _signed_in_user_id(client) is None
    assert AccessEvent.objects.get().reason == "account_suspended"


def test_a_closed_account_is_told_so_only_with_the_right_password(client, user):
    user.is_active = False
    user.save(update_fields=["is_active"])

    wrong = _sign_in(client, "ada.lovelace", "wrong password").content.decode()
    right = _sign_in(client, "ada.lovelace").content.decode()

    assert INVALID_LOGIN in wrong
    assert "This account has been closed." in right
    assert _signed_in_user_id(client) is None


def test_a_feed_system_cannot_sign_in_with_a_browser(client, user):
    authority = Organisation.objects.create(
        name="Test Borough", kind=OrganisationKind.LOCAL_AUTHORITY, code="E09000099"
    )
    RoleAssignment.objects.create(
        user=user, organisation=authority, role=Role.FEED_SYSTEM, reason="Feed"
    )

    response = _sign_in(client, "ada.lovelace")

    html = response.content.decode()
    assert "Feed systems send data through the API" in html
    assert "cannot sign in with a browser" in html
    assert _signed_in_user_id(client) is None
    assert AccessEvent.objects.get().reason == "feed_system"


def test_a_user_suspended_while_signed_in_is_signed_out(user, verified_client):
    client = verified_client(user)
    user.suspended_at = timezone.now()
    user.save(update_fields=["suspended_at"])

    response = client.get(reverse("home"), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("accounts:sign-in"))
    assert "because your account has been suspended" in response.content.decode()


def test_sign_in_page_has_autocomplete_attributes(client):
    html = client.get(reverse("accounts:sign-in")).content.decode()

    assert re.search(r'<input[^>]*name="username"[^>]*autocomplete="username"', html)
    assert re.search(
        r'<input[^>]*name="password"[^>]*autocomplete="current-password"', html
    )


def test_sign_out_requires_post(user, verified_client):
    client = verified_client(user)

    assert client.get(reverse("accounts:sign-out")).status_code == 405
    assert _signed_in_user_id(client) == str(user.pk)

    response = client.post(reverse("accounts:sign-out"), follow=True)
    assert response.redirect_chain[0] == (reverse("accounts:sign-in"), 302)
    assert _signed_in_user_id(client) is None
    assert "You have signed out." in response.content.decode()
    assert AccessEvent.objects.get(action=AccessAction.SIGN_OUT).reason == (
        "signed_out"
    )


def test_home_requires_sign_in(client):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:sign-in')}?next=/"


def test_home_shows_who_is_signed_in_and_their_current_roles(user, verified_client):
    school = Organisation.objects.create(
        name="Hilltop Primary School", kind=OrganisationKind.SCHOOL, code="100001"
    )
    RoleAssignment.objects.create(
        user=user, organisation=school, role=Role.PRACTITIONER, reason="Teacher"
    )
    RoleAssignment.objects.create(
        user=user,
        organisation=school,
        role=Role.AUDITOR,
        reason="Left the role",
        revoked_at=timezone.now(),
    )
    client = verified_client(user)

    html = client.get(reverse("home")).content.decode()

    assert "You are signed in as <strong>Ada Lovelace</strong>" in html
    assert "Practitioner" in html
    assert "Hilltop Primary School" in html
    assert "Auditor" not in html


def test_home_explains_what_to_do_without_a_role(user, verified_client):
    client = verified_client(user)

    html = client.get(reverse("home")).content.decode()

    assert "You do not have a role in this service yet" in html


def test_pages_carry_security_headers_and_a_csp_nonce(client):
    response = client.get(reverse("accounts:sign-in"))

    csp = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce is not None, csp
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
    assert len(scripts) == 2
    assert all(f'nonce="{nonce.group(1)}"' in tag for tag in scripts)


def test_public_pages_need_no_sign_in(client):
    for name in ("accessibility", "privacy"):
        response = client.get(reverse(name))
        assert response.status_code == 200


def test_api_schema_and_docs_require_both_factors(client, user, verified_client):
    for name in ("api-docs", "api-schema"):
        anonymous = client.get(reverse(name))
        assert anonymous.status_code == 401
        assert anonymous.json()["detail"]
    client.force_login(user)
    for name in ("api-docs", "api-schema"):
        password_only = client.get(reverse(name))
        assert password_only.status_code == 403
        assert password_only.json()["code"] == "second_factor_required"

    verified = verified_client(user)
    assert verified.get(reverse("api-docs")).status_code == 200
    assert verified.get(reverse("api-schema")).status_code == 200


def test_an_api_token_header_does_not_stand_in_for_a_second_factor(client, user):
    client.force_login(user)

    response = client.get(
        reverse("api-schema"), headers={"Authorization": "Bearer made-up"}
    )

    assert response.status_code == 403


def test_an_anonymous_api_request_with_a_bad_token_is_refused_by_the_api(client):
    response = client.get(
        reverse("api-schema"), headers={"Authorization": "Bearer made-up"}
    )

    assert response.status_code in {401, 403}


def test_admin_sends_people_to_the_service_sign_in_page(client, user, verified_client):
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0] == (
        f"{reverse('accounts:sign-in')}?next=/admin/"
    )
    client = verified_client(user)
    assert client.get("/admin/login/").status_code == 403

    user.is_staff = True
    user.save(update_fields=["is_staff"])
    assert client.get("/admin/").status_code == 200


def test_unknown_page_shows_the_service_404_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_server_error_page_renders_without_a_request_context(rf, settings):
    from contactpoint.urls import server_error

    response = server_error(rf.get("/"))

    assert response.status_code == 500
    assert settings.SERVICE_NAME in response.content.decode()
