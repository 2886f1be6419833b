"""Passkeys required for administrators, auditors and shielding officers:
which steps each user reaches, with and without a passkey."""

import hashlib
import os

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from accounts.middleware import PASSKEY_PENDING, PASSKEY_REGISTRATION_URL_NAMES
from accounts.models import PasskeyCredential, User
from accounts.roles import Role
from accounts.tests.admin_world import World, admin_world, grant
from accounts.tests.second_factors import totp_code, totp_device_for
from accounts.two_factor import second_factor_options, second_factors_reset

pytestmark = pytest.mark.django_db

PASSWORD = "plum orchard lantern 42"
SECOND_FACTOR = reverse("accounts:second-factor")
PASSKEY_STEP = reverse("accounts:second-factor-passkey")
PASSKEY_ADD = reverse("accounts:passkey-add")
HOME = reverse("home")


@pytest.fixture
def world() -> World:
    return admin_world()


def _with_password(user: User) -> User:
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def auditor(world: World) -> User:
    user = _with_password(world.outsider)
    grant(user, world.other_authority, Role.AUDITOR)
    return user


@pytest.fixture
def practitioner(world: World) -> User:
    return _with_password(world.practitioner)


def passkey_for(user: User) -> PasskeyCredential:
    """A registered passkey (its keys are never used: no ceremony here)."""
    credential_id = os.urandom(32)
    passkey: PasskeyCredential = PasskeyCredential.objects.create(
        user=user,
        name="Test passkey",
        confirmed=True,
        credential_id=credential_id,
        credential_id_sha256=hashlib.sha256(credential_id).hexdigest(),
        public_key=os.urandom(77),
        aaguid="00000000-0000-0000-0000-000000000000",
    )
    return passkey


def _password(client: Client, user: User):
    return client.post(
        reverse("accounts:sign-in"), {"username": user.username, "password": PASSWORD}
    )


def _sign_in_with_code(client: Client, user: User, secret: str):
    _password(client, user)
    return client.post(SECOND_FACTOR, {"code": totp_code(secret)})


def test_options_say_who_needs_a_passkey(auditor, practitioner):
    assert second_factor_options(auditor).passkey_required is True
    assert second_factor_options(practitioner).passkey_required is False
    passkey_for(auditor)
    options = second_factor_options(auditor)
    assert (options.has_passkey, options.passkey_only) == (True, True)


def test_an_auditor_without_a_passkey_can_only_add_one_after_the_code(auditor):
    _device, secret = totp_device_for(auditor)
    client = Client()

    response = _sign_in_with_code(client, auditor, secret)

    assert response.status_code == 302
    assert client.session[PASSKEY_PENDING] is True
    assert client.get(response["Location"])["Location"] == PASSKEY_ADD
    for name in ("home", "accounts:account", "manage:index"):
        refused = client.get(reverse(name))
        assert (refused.status_code, refused["Location"]) == (302, PASSKEY_ADD), name
    page = client.get(PASSKEY_ADD)
    assert page.status_code == 200
    assert "You need to add one before you can continue" in page.content.decode()
    assert "passkey-registration-placeholder" in page.content.decode()
    begin = client.post(reverse("otp_webauthn:credential-registration-begin"))
    assert begin.status_code == 200
    assert begin.json()["rp"]["id"] == "localhost"


def test_the_registration_pages_are_all_a_pending_session_may_open():
    assert {
        "accounts:passkey-add",
        "otp_webauthn:credential-registration-begin",
        "otp_webauthn:credential-registration-complete",
    } <= PASSKEY_REGISTRATION_URL_NAMES


def test_an_auditor_with_a_passkey_cannot_use_codes(auditor):
    _device, secret = totp_device_for(auditor)
    passkey_for(auditor)
    client = Client()
    _password(client, auditor)

    totp_page = client.get(SECOND_FACTOR)
    backup_page = client.get(reverse("accounts:second-factor-backup-code"))
    setup_page = client.get(reverse("accounts:second-factor-setup"))
    code = client.post(SECOND_FACTOR, {"code": totp_code(secret)})

    for response in (totp_page, backup_page, setup_page, code):
        assert response.status_code == 302
        assert response["Location"] == PASSKEY_STEP
    assert client.get(HOME)["Location"].startswith(SECOND_FACTOR)
    step = client.get(PASSKEY_STEP)
    assert step.status_code == 200
    assert "Use your authenticator app instead" not in step.content.decode()
    begin = client.post(reverse("otp_webauthn:credential-authentication-begin"))
    assert begin.status_code == 200
    assert len(begin.json()["allowCredentials"]) == 1


def test_a_practitioner_is_not_made_to_add_a_passkey(practitioner):
    _device, secret = totp_device_for(practitioner)
    client = Client()

    response = _sign_in_with_code(client, practitioner, secret)

    assert PASSKEY_PENDING not in client.session
    assert client.get(response["Location"]).status_code == 200
    assert client.get(PASSKEY_ADD).status_code == 200


def test_a_practitioner_with_a_passkey_may_still_use_codes(practitioner):
    _device, secret = totp_device_for(practitioner)
    passkey_for(practitioner)
    client = Client()
    _password(client, practitioner)

    step = client.get(SECOND_FACTOR)
    assert step.status_code == 200
    assert "Use your passkey instead" in step.content.decode()
    assert client.get(PASSKEY_STEP).status_code == 200
    assert client.post(SECOND_FACTOR, {"code": totp_code(secret)})["Location"] == HOME


def test_the_passkey_step_sends_users_without_one_to_their_code(practitioner):
    totp_device_for(practitioner)
    client = Client()
    _password(client, practitioner)

    assert client.get(PASSKEY_STEP)["Location"] == SECOND_FACTOR


def test_a_bad_passkey_answer_is_refused_and_counted(auditor):
    passkey_for(auditor)
    client = Client()
    _password(client, auditor)
    client.post(reverse("otp_webauthn:credential-authentication-begin"))

    response = client.post(
        reverse("otp_webauthn:credential-authentication-complete"),
        data={"id": "x", "rawId": "x", "type": "public-key", "response": {}},
        content_type="application/json",
    )

    assert response.status_code in {400, 404, 422}
    assert not client.session.get("otp_device_id")
    assert AccessAttempt.objects.get(username=auditor.username).failures_since_start


def test_resetting_second_factors_removes_passkeys(auditor, world):
    passkey_for(auditor)

    second_factors_reset(user=auditor, reset_by=world.actor, reason="Lost laptop")

    assert PasskeyCredential.objects.filter(user=auditor).count() == 0
