"""The administrator's workspace pages and the invitation link, over HTTP.

Pages render for a verified administrator; bad input shows GOV.UK errors and
changes nothing; a POST without its CSRF token is refused and changes
nothing; people who are not administrators get nowhere.
"""

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.template import loader
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.actors import actor_for_user, request_actor
from accounts.models import ApiToken, Invitation, RoleAssignment, User
from accounts.roles import Role
from accounts.services import (
    api_token_issue,
    feed_system_create,
    invitation_create,
    user_suspend,
)
from accounts.tests.admin_world import World, admin_world, grant, make_user
from accounts.tests.second_factors import verified_session_key
from audit.models import AccessEvent

pytestmark = pytest.mark.django_db

PASSWORD = "plum orchard lantern 42"


@pytest.fixture
def world() -> World:
    return admin_world()


@pytest.fixture
def admin_client(world, verified_client: Callable[[User], Client]) -> Client:
    return verified_client(world.admin)


@pytest.fixture
def feed(world) -> User:
    return feed_system_create(
        actor=world.actor,
        name="Hilltop MIS",
        username="hilltop-mis",
        email="mis@example.org",
        organisation=world.school,
        reason="Nightly feed",
    )


class _Response(Protocol):
    status_code: int
    content: bytes


def _html(response: _Response) -> str:
    return response.content.decode()


def _error_summary_links(html: str) -> dict[str, str]:
    """The error summary's links: {"#field-id": "message"}."""
    summary = re.search(r'class="govuk-error-summary".*?</ul>', html, re.S)
    assert summary is not None, "no error summary"
    return dict(re.findall(r'<a href="(#[^"]+)">([^<]+)</a>', summary.group(0)))


def _csrf_client(user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(user)
    return client


# Pages render ----------------------------------------------------------------


def _pages(world: World, feed: User) -> dict[str, str]:
    suspended = make_user(username="sus")
    grant(suspended, world.school, Role.PRACTITIONER)
    user_suspend(actor=world.actor, user=suspended, reason="Test")
    token, _raw = api_token_issue(actor=world.actor, user=feed, name="Upload server")
    invitation, _token = invitation_create(
        actor=world.actor,
        email="new@example.org",
        first_name="New",
        last_name="Person",
        organisation=world.school,
        role=Role.PRACTITIONER,
        reason="Starting soon",
    )
    practitioner = world.practitioner.pk
    assignment = RoleAssignment.objects.get(user=world.practitioner)
    return {
        "users": reverse("manage:user-list"),
        "filtered users": reverse("manage:user-list") + "?status=suspended&role=",
        "user": reverse("manage:user-detail", args=[practitioner]),
        "feed system": reverse("manage:user-detail", args=[feed.pk]),
        "invite": reverse("manage:user-invite"),
        "add feed system": reverse("manage:feed-system-create"),
        "access review": reverse("manage:access-review"),
        "organisations": reverse("manage:organisation-list"),
        "suspend": reverse("manage:user-suspend", args=[practitioner]),
        "reactivate": reverse("manage:user-reactivate", args=[suspended.pk]),
        "reset": reverse("manage:second-factor-reset", args=[practitioner]),
        "unlock": reverse("manage:account-unlock", args=[practitioner]),
        "remove role": reverse(
            "manage:role-revoke", args=[practitioner, assignment.pk]
        ),
        "issue token": reverse("manage:token-issue", args=[feed.pk]),
        "revoke token": reverse("manage:token-revoke", args=[feed.pk, token.pk]),
        "withdraw": reverse("manage:invitation-withdraw", args=[invitation.pk]),
    }


def test_every_workspace_page_renders_for_an_administrator(admin_client, world, feed):
    for name, url in _pages(world, feed).items():
        response = admin_client.get(url)

        assert response.status_code == 200, name
        html = _html(response)
        assert "Manage users" in html, name
        assert "no-store" in response["Cache-Control"], name


def test_manage_goes_to_the_users_list(admin_client):
    response = admin_client.get("/manage/")

    assert response.status_code == 302
    assert response["Location"] == reverse("manage:user-list")


def test_the_users_list_shows_users_in_scope_only(admin_client, world):
    html = _html(admin_client.get(reverse("manage:user-list")))

    assert "pat.teacher@example.org" in html
    assert "Hilltop Primary" in html
    assert "olly.outside" not in html
    assert "Valley Primary" not in html


def test_the_users_list_explains_an_empty_result(admin_client):
    html = _html(admin_client.get(reverse("manage:user-list") + "?status=suspended"))

    assert "No users match these filters" in html
    assert "clear the filters" in html


def test_a_practitioner_gets_403_on_every_workspace_page(verified_client, world, feed):
    pages = _pages(world, feed)
    client = verified_client(world.practitioner)

    for name, url in pages.items():
        assert client.get(url).status_code == 403, name
    assert client.get(reverse("manage:user-list")).status_code == 403


def test_the_navigation_item_shows_for_verified_administrators_only(world, rf):
    template = loader.get_template("includes/navigation_admin.html")
    cases = [
        (world.admin, True, True),
        (world.admin, False, False),
        (world.practitioner, True, False),
    ]
    for user, verified, shown in cases:
        request = rf.get("/")
        request.user = user
        user.is_verified = lambda verified=verified: verified
        html = template.render({}, request)
        assert ("Manage users" in html) is shown, (user, verified)


def test_the_request_actor_is_built_once_per_request(world, rf):
    anonymous = rf.get("/")
    anonymous.user = AnonymousUser()
    assert request_actor(anonymous) is None

    request = rf.get("/")
    request.user = world.admin
    world.admin.is_verified = lambda: True
    actor = request_actor(request)

    assert actor == actor_for_user(world.admin, second_factor_verified=True)
    assert request_actor(request) is actor


def test_a_user_outside_scope_is_not_found(admin_client, world):
    url = reverse("manage:user-detail", args=[world.outsider.pk])

    assert admin_client.get(url).status_code == 404
    suspend = reverse("manage:user-suspend", args=[world.outsider.pk])
    assert admin_client.post(suspend, {"reason": "Not mine"}).status_code == 404
    world.outsider.refresh_from_db()
    assert world.outsider.suspended_at is None


def test_the_workspace_needs_sign_in(client):
    response = client.get(reverse("manage:user-list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign-in"))


def test_the_workspace_needs_a_second_factor(client, world):
    client.force_login(world.admin)

    response = client.get(reverse("manage:user-list"))

    assert response.status_code == 302
    assert not response["Location"].startswith(reverse("manage:user-list"))


# Invitations -----------------------------------------------------------------


def test_inviting_a_user_sends_the_email_and_says_so(admin_client, world):
    response = admin_client.post(
        reverse("manage:user-invite"),
        {
            "first_name": "New",
            "last_name": "Person",
            "email": "new.person@example.org",
            "organisation": world.school.pk,
            "role": Role.PRACTITIONER.value,
            "reason": "New teacher",
        },
        follow=True,
    )

    assert response.redirect_chain == [(reverse("manage:user-list"), 302)]
    html = _html(response)
    assert "govuk-notification-banner--success" in html
    assert "Invitation sent to New Person at new.person@example.org" in html
    assert len(mail.outbox) == 1
    assert f"{settings.SITE_URL}/accounts/invitations/" in mail.outbox[0].body
    assert Invitation.objects.get().email == "new.person@example.org"


def test_an_empty_invitation_shows_every_error_and_changes_nothing(admin_client):
    response = admin_client.post(reverse("manage:user-invite"), {})

    html = _html(response)
    assert response.status_code == 200
    assert "<title>Error: Invite a user" in html
    assert _error_summary_links(html) == {
        "#id_first_name": "Enter their first name",
        "#id_last_name": "Enter their last name",
        "#id_email": "Enter their email address",
        "#id_organisation": "Select the organisation they work for",
        "#id_role": "Select the role they need",
        "#id_reason": "Enter the reason for this change",
    }
    assert 'id="id_role"' in html  # The first radio: the summary's link lands.
    assert 'aria-describedby="id_email-hint id_email-error"' in html
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_an_invitation_to_an_organisation_outside_scope_is_refused(admin_client, world):
    response = admin_client.post(
        reverse("manage:user-invite"),
        {
            "first_name": "New",
            "last_name": "Person",
            "email": "not-an-email",
            "organisation": world.other_school.pk,
            "role": Role.FEED_SYSTEM.value,
            "reason": "x",
        },
    )

    assert _error_summary_links(_html(response)) == {
        "#id_email": (
            "Enter an email address in the correct format, like name@example.org"
        ),
        "#id_organisation": "Select an organisation you administer",
        "#id_role": "Select one of the roles shown",
    }
    assert not Invitation.objects.exists()


def test_an_invitation_to_someone_with_an_account_shows_the_error(admin_client, world):
    response = admin_client.post(
        reverse("manage:user-invite"),
        {
            "first_name": "Pat",
            "last_name": "Again",
            "email": world.practitioner.email,
            "organisation": world.school.pk,
            "role": Role.PRACTITIONER.value,
            "reason": "Again",
        },
    )

    assert _error_summary_links(_html(response)) == {
        "#id_email": "There is already an account with this email address"
    }


# Account actions ----------------------------------------------------------------


def test_suspending_needs_a_reason(admin_client, world):
    url = reverse("manage:user-suspend", args=[world.practitioner.pk])

    response = admin_client.post(url, {"reason": ""})

    assert _error_summary_links(_html(response)) == {
        "#id_reason": "Enter the reason for this change"
    }
    world.practitioner.refresh_from_db()
    assert world.practitioner.suspended_at is None


def test_suspending_with_a_reason_says_so(admin_client, world):
    url = reverse("manage:user-suspend", args=[world.practitioner.pk])

    response = admin_client.post(url, {"reason": "Left the school"}, follow=True)

    assert response.redirect_chain == [
        (reverse("manage:user-detail", args=[world.practitioner.pk]), 302)
    ]
    assert "has been suspended and signed out" in _html(response)
    world.practitioner.refresh_from_db()
    assert world.practitioner.suspended_reason == "Left the school"


def test_suspending_an_already_suspended_account_shows_why_not(admin_client, world):
    user_suspend(actor=world.actor, user=world.practitioner, reason="First")
    url = reverse("manage:user-suspend", args=[world.practitioner.pk])

    response = admin_client.post(url, {"reason": "Second"})

    assert _error_summary_links(_html(response)) == {
        "#id_reason": "This account is already suspended."
    }


def test_an_administrator_cannot_suspend_themselves(admin_client, world):
    own_page = _html(
        admin_client.get(reverse("manage:user-detail", args=[world.admin.pk]))
    )
    response = admin_client.post(
        reverse("manage:user-suspend", args=[world.admin.pk]), {"reason": "Me"}
    )

    assert "Suspend account" not in own_page
    assert response.status_code == 403
    world.admin.refresh_from_db()
    assert world.admin.suspended_at is None


def test_a_missing_csrf_token_is_refused_and_changes_nothing(world):
    client = _csrf_client(world.admin)
    events_before = AccessEvent.objects.count()

    suspend = client.post(
        reverse("manage:user-suspend", args=[world.practitioner.pk]),
        {"reason": "No token"},
    )
    invite = client.post(
        reverse("manage:user-invite"),
        {
            "first_name": "New",
            "last_name": "Person",
            "email": "new@example.org",
            "organisation": world.school.pk,
            "role": Role.PRACTITIONER.value,
            "reason": "No token",
        },
    )
    grant_role = client.post(
        reverse("manage:role-grant", args=[world.practitioner.pk]),
        {
            "grant-organisation": world.school.pk,
            "grant-role": Role.DATA_MANAGER.value,
            "grant-reason": "No token",
        },
    )

    assert (suspend.status_code, invite.status_code, grant_role.status_code) == (
        403,
        403,
        403,
    )
    world.practitioner.refresh_from_db()
    assert world.practitioner.suspended_at is None
    assert not Invitation.objects.exists()
    assert RoleAssignment.objects.filter(user=world.practitioner).count() == 1
    assert AccessEvent.objects.count() == events_before


def test_the_pages_carry_csrf_tokens_that_work(world):
    client = _csrf_client(world.admin)
    url = reverse("manage:user-suspend", args=[world.practitioner.pk])
    html = _html(client.get(url))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token is not None

    response = client.post(
        url, {"reason": "With token", "csrfmiddlewaretoken": token.group(1)}
    )

    assert response.status_code == 302
    world.practitioner.refresh_from_db()
    assert world.practitioner.suspended_at is not None


def test_giving_a_role(admin_client, world):
    response = admin_client.post(
        reverse("manage:role-grant", args=[world.practitioner.pk]),
        {
            "grant-organisation": world.authority.pk,
            "grant-role": Role.DATA_MANAGER.value,
            "grant-reason": "Covering the data team",
        },
        follow=True,
    )

    assert "is now data manager at Northshire Council" in _html(response)
    assert RoleAssignment.objects.filter(
        user=world.practitioner, role=Role.DATA_MANAGER, organisation=world.authority
    ).exists()


def test_giving_a_role_with_bad_input_shows_errors_on_the_user_page(
    admin_client, world
):
    response = admin_client.post(
        reverse("manage:role-grant", args=[world.practitioner.pk]),
        {
            "grant-organisation": world.other_school.pk,
            "grant-role": "overlord",
            "grant-reason": "",
        },
    )

    html = _html(response)
    assert response.status_code == 200
    assert _error_summary_links(html) == {
        "#id_grant-organisation": "Select an organisation you administer",
        "#id_grant-role": "Select one of the roles shown",
        "#id_grant-reason": "Enter the reason for this change",
    }
    assert "pat.teacher" in html
    assert RoleAssignment.objects.filter(user=world.practitioner).count() == 1


def test_removing_a_role(admin_client, world):
    assignment = RoleAssignment.objects.get(user=world.practitioner)
    url = reverse("manage:role-revoke", args=[world.practitioner.pk, assignment.pk])

    response = admin_client.post(url, {"reason": "Left"}, follow=True)

    assert "is no longer practitioner at Hilltop Primary" in _html(response)
    assignment.refresh_from_db()
    assert assignment.revoke_reason == "Left"


def test_resetting_a_second_factor_needs_a_fresh_one(world, verified_client):
    client = verified_client(world.admin)
    url = reverse("manage:second-factor-reset", args=[world.practitioner.pk])

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        stale = client.post(url, {"reason": "Lost phone"})

    assert stale.status_code == 302
    assert stale["Location"].startswith(reverse("accounts:confirm-identity"))
    response = client.post(url, {"reason": "Lost phone"}, follow=True)
    assert "has been reset" in _html(response)


def test_an_api_token_is_shown_once(admin_client, world, feed):
    url = reverse("manage:token-issue", args=[feed.pk])

    response = admin_client.post(url, {"name": "Upload server"})

    html = _html(response)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "you will not see it again" in html
    token = ApiToken.objects.get()
    raw = re.search(rf'value="({token.prefix}\.[A-Za-z0-9_-]{{43}})"', html)
    assert raw is not None
    detail = _html(admin_client.get(reverse("manage:user-detail", args=[feed.pk])))
    assert token.prefix in detail
    assert raw.group(1) not in detail


def test_an_api_token_needs_a_name(admin_client, feed):
    response = admin_client.post(reverse("manage:token-issue", args=[feed.pk]), {})

    assert _error_summary_links(_html(response)) == {
        "#id_name": "Enter a name for the token"
    }
    assert not ApiToken.objects.exists()


# Accepting an invitation (no sign-in) --------------------------------------------


def _invitation(world: World) -> tuple[Invitation, str]:
    return invitation_create(
        actor=world.actor,
        email="new.person@example.org",
        first_name="New",
        last_name="Person",
        organisation=world.school,
        role=Role.PRACTITIONER,
        reason="New teacher",
    )


def _accept_url(token: str) -> str:
    return reverse("invitations:invitation-accept", kwargs={"token": token})


def test_the_invitation_page_opens_without_sign_in(client, world):
    _invitation_row, token = _invitation(world)

    response = client.get(_accept_url(token))

    html = _html(response)
    assert response.status_code == 200
    assert "Set up your account" in html
    assert "new.person@example.org" in html
    assert "no-store" in response["Cache-Control"]


def test_accepting_an_invitation_then_signing_in(client, world):
    _invitation_row, token = _invitation(world)

    response = client.post(
        _accept_url(token),
        {"username": "new.person", "password": PASSWORD, "password_again": PASSWORD},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("accounts:sign-in"), 302)]
    assert "Your account is ready" in _html(response)
    assert User.objects.get(username="new.person").check_password(PASSWORD)


def test_a_mistyped_password_shows_the_error_and_changes_nothing(client, world):
    _invitation_row, token = _invitation(world)

    response = client.post(
        _accept_url(token),
        {"username": "new.person", "password": PASSWORD, "password_again": "other"},
    )

    html = _html(response)
    assert _error_summary_links(html) == {
        "#id_password_again": "The passwords do not match"
    }
    assert PASSWORD not in html
    assert not User.objects.filter(username="new.person").exists()


def test_a_short_password_shows_the_validators_message(client, world):
    _invitation_row, token = _invitation(world)

    response = client.post(
        _accept_url(token),
        {"username": "new.person", "password": "short", "password_again": "short"},
    )

    links = _error_summary_links(_html(response))
    assert "at least 12 characters" in links["#id_password"]
    assert not User.objects.filter(username="new.person").exists()


@pytest.mark.parametrize(
    "case",
    [
        ("malformed", 404, "This invitation link is not valid."),
        ("expired", 410, "This invitation link has expired."),
        ("used", 410, "This invitation link has already been used."),
        ("withdrawn", 410, "This invitation has been withdrawn."),
    ],
    ids=lambda case: case[0],
)
def test_an_unusable_invitation_link_says_why_and_changes_nothing(
    client, world, admin_client, case
):
    how, status, message = case
    invitation, token = _invitation(world)
    if how == "malformed":
        token = token[:-3] + "!!!"
    elif how == "used":
        invitation_accept_via_http(client, token, username="first.person")
    elif how == "withdrawn":
        admin_client.post(
            reverse("manage:invitation-withdraw", args=[invitation.pk]),
            {"reason": "Wrong person"},
        )
    users_before = User.objects.count()
    moment = timezone.now() + timedelta(hours=73 if how == "expired" else 0)

    with time_machine.travel(moment):
        shown = client.get(_accept_url(token))
        sent = client.post(
            _accept_url(token),
            {
                "username": "new.person",
                "password": PASSWORD,
                "password_again": PASSWORD,
            },
        )

    for response in (shown, sent):
        assert response.status_code == status
        assert message in _html(response)
        assert 'name="password"' not in _html(response)
    assert User.objects.count() == users_before


def invitation_accept_via_http(client: Client, token: str, *, username: str) -> None:
    response = client.post(
        _accept_url(token),
        {"username": username, "password": PASSWORD, "password_again": PASSWORD},
    )
    assert response.status_code == 302


def test_accepting_without_a_csrf_token_is_refused(world):
    _invitation_row, token = _invitation(world)
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        _accept_url(token),
        {"username": "new.person", "password": PASSWORD, "password_again": PASSWORD},
    )

    assert response.status_code == 403
    assert not User.objects.filter(username="new.person").exists()
    assert Invitation.objects.get().accepted_at is None
