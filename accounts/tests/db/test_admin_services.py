"""The administrator's services and selectors against the database.

Each service: allowed, refused (and the refusal audited), and the audit rows
saying who, what and why. Invitations: expired, reused, withdrawn and
malformed links change nothing. Inactive accounts are suspended; expired
vetting stops access.
"""

import hashlib
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.actors import actor_for_user
from accounts.models import (
    ApiToken,
    Invitation,
    RoleAssignment,
    SecondFactorReset,
    TotpDevice,
    User,
)
from accounts.policies import AdminActionRefused
from accounts.roles import Role
from accounts.selectors import (
    InvitationInvalid,
    UserFilters,
    UserStatus,
    access_review,
    user_detail,
    user_list,
)
from accounts.services import (
    account_unlock,
    api_token_hash,
    api_token_issue,
    api_token_revoke,
    feed_system_create,
    invitation_accept,
    invitation_create,
    invitation_withdraw,
    role_grant,
    role_revoke,
    user_reactivate,
    user_second_factor_reset,
    user_suspend,
    users_suspend_inactive,
)
from accounts.tasks import suspend_inactive_users
from accounts.tests.admin_world import World, admin_world, grant, make_user
from accounts.tests.second_factors import totp_device_for
from audit.models import AccessAction, AccessEvent

pytestmark = pytest.mark.django_db

PASSWORD = "plum orchard lantern 42"


@pytest.fixture
def world() -> World:
    return admin_world()


def _events(action: str) -> list[AccessEvent]:
    return list(AccessEvent.objects.filter(action=action).order_by("occurred_at"))


def _only_event(action: str) -> AccessEvent:
    events = _events(action)
    assert len(events) == 1, [(e.outcome, e.reason, e.detail) for e in events]
    return events[0]


def _invite(world: World, **overrides) -> tuple[Invitation, str]:
    arguments = {
        "actor": world.actor,
        "email": "new.person@example.org",
        "first_name": "New",
        "last_name": "Person",
        "organisation": world.school,
        "role": Role.PRACTITIONER,
        "reason": "New designated safeguarding lead",
        "link_base": "https://directory.example",
    }
    return invitation_create(**{**arguments, **overrides})


def _accept(token: str, **overrides) -> User:
    arguments = {
        "token": token,
        "username": "new.person",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    return invitation_accept(**{**arguments, **overrides})


# Invitations ----------------------------------------------------------------


def test_invitation_emails_a_one_time_link_and_stores_only_a_hash(world):
    invitation, token = _invite(world)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.org"]
    assert f"https://directory.example/accounts/invitations/{token}/" in message.body
    assert "Hilltop Primary" in message.body
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Invitation.objects.values().get())
    assert len(token) == 43
    lifetime = invitation.expires_at - timezone.now()
    assert timedelta(hours=71, minutes=59) < lifetime <= timedelta(hours=72)
    event = _only_event(AccessAction.USER_INVITE)
    assert (event.outcome, event.actor_id) == ("allowed", world.admin.pk)
    assert "new.person@example.org" in event.detail
    assert "Reason: New designated safeguarding lead" in event.detail


def test_invitation_outside_scope_is_refused_audited_and_not_sent(world):
    with pytest.raises(AdminActionRefused) as refused:
        _invite(world, organisation=world.other_school)

    assert refused.value.reason_code == "out_of_scope"
    assert not Invitation.objects.exists()
    assert mail.outbox == []
    event = _only_event(AccessAction.USER_INVITE)
    assert (event.outcome, event.reason, event.actor_id) == (
        "denied",
        "out_of_scope",
        world.admin.pk,
    )
    assert event.detail.startswith("Refused: invite")


def test_invitation_to_an_existing_email_address_is_refused(world):
    with pytest.raises(ValidationError) as invalid:
        _invite(world, email=world.practitioner.email.upper())

    assert "already an account" in invalid.value.message_dict["email"][0]
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_invitation_needs_a_reason(world):
    with pytest.raises(ValidationError) as invalid:
        _invite(world, reason="   ")

    assert invalid.value.message_dict == {
        "reason": ["Enter the reason for this change"]
    }
    assert not Invitation.objects.exists()


def test_invitation_that_could_not_be_emailed_is_not_kept(world, monkeypatch):
    def unreachable(**kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("accounts.services.send_mail", unreachable)

    with pytest.raises(ConnectionRefusedError):
        _invite(world)

    assert not Invitation.objects.exists()
    outcomes = [(e.outcome, e.reason) for e in _events(AccessAction.USER_INVITE)]
    assert outcomes == [("allowed", "granted"), ("denied", "not_completed")]


def test_accepting_an_invitation_creates_the_user_and_role_at_once(world):
    invitation, token = _invite(world)

    user = _accept(token)

    user.refresh_from_db()
    assert (user.email, user.first_name, user.last_name) == (
        "new.person@example.org",
        "New",
        "Person",
    )
    assert user.check_password(PASSWORD)
    assignment = RoleAssignment.objects.get(user=user)
    assert (assignment.organisation, assignment.role) == (
        world.school,
        Role.PRACTITIONER,
    )
    assert assignment.granted_by_id == world.admin.pk
    assert assignment.reason == "New designated safeguarding lead"
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert invitation.user == user
    event = _only_event(AccessAction.USER_ACTIVATE)
    assert (event.outcome, event.actor_id, event.subject_user_id) == (
        "allowed",
        user.pk,
        user.pk,
    )


def _nothing_changed(invitation: Invitation) -> None:
    fresh = Invitation.objects.get(pk=invitation.pk)
    assert fresh.accepted_at == invitation.accepted_at
    assert fresh.user_id == invitation.user_id
    assert not User.objects.filter(username="new.person").exists()


def test_an_expired_invitation_link_changes_nothing(world):
    invitation, token = _invite(world)

    with (
        time_machine.travel(timezone.now() + timedelta(hours=72, seconds=1)),
        pytest.raises(InvitationInvalid) as invalid,
    ):
        _accept(token)

    assert invalid.value.reason_code == "invitation_expired"
    assert "expired" in invalid.value.message
    _nothing_changed(invitation)
    event = _only_event(AccessAction.USER_ACTIVATE)
    assert (event.outcome, event.reason) == ("denied", "invitation_expired")


def test_a_used_invitation_link_cannot_be_used_again(world):
    _invitation, token = _invite(world)
    first = _accept(token)

    with pytest.raises(InvitationInvalid) as invalid:
        _accept(token, username="someone.else")

    assert invalid.value.reason_code == "invitation_used"
    assert "already been used" in invalid.value.message
    assert list(User.objects.filter(email="new.person@example.org")) == [first]
    assert not User.objects.filter(username="someone.else").exists()


def test_a_withdrawn_invitation_link_changes_nothing(world):
    invitation, token = _invite(world)
    invitation_withdraw(
        actor=world.actor, invitation=invitation, reason="Sent to the wrong person"
    )
    invitation.refresh_from_db()

    with pytest.raises(InvitationInvalid) as invalid:
        _accept(token)

    assert invalid.value.reason_code == "invitation_withdrawn"
    _nothing_changed(invitation)
    withdrawn = _events(AccessAction.USER_INVITE)[-1]
    assert withdrawn.detail.startswith("Withdrew the invitation")
    assert "Reason: Sent to the wrong person" in withdrawn.detail


@pytest.mark.parametrize(
    "token",
    ["", "short", "../../etc/passwd", "x" * 43, "a" * 200, "é" * 43],
    ids=["empty", "short", "path", "unknown", "long", "non-ascii"],
)
def test_a_malformed_or_unknown_invitation_link_changes_nothing(world, token):
    invitation, _token = _invite(world)

    with pytest.raises(InvitationInvalid) as invalid:
        _accept(token)

    assert invalid.value.reason_code == "invitation_unknown"
    assert "not valid" in invalid.value.message
    _nothing_changed(invitation)


@pytest.mark.parametrize(
    ("password", "again", "field", "message"),
    [
        ("short", "short", "password", "too short"),
        ("plum orchard lantern 42", "plum orchard lantern 43", "password_again", ""),
        ("new.person.example", "new.person.example", "password", "too similar"),
        ("123456789012345", "123456789012345", "password", "entirely numeric"),
    ],
)
def test_a_weak_or_mistyped_password_changes_nothing(
    world, password, again, field, message
):
    invitation, token = _invite(world)

    with pytest.raises(ValidationError) as invalid:
        _accept(token, password=password, password_again=again)

    assert field in invalid.value.message_dict
    assert message in " ".join(invalid.value.message_dict[field])
    _nothing_changed(invitation)
    assert not _events(AccessAction.USER_ACTIVATE)


def test_a_taken_username_changes_nothing(world):
    invitation, token = _invite(world)

    with pytest.raises(ValidationError) as invalid:
        _accept(token, username=world.practitioner.username)

    assert "username" in invalid.value.message_dict
    _nothing_changed(invitation)


def test_withdrawing_is_refused_outside_scope(world):
    invitation, _token = _invite(world)
    other_admin = make_user()
    grant(other_admin, world.other_authority, Role.ADMINISTRATOR)
    elsewhere = actor_for_user(other_admin, second_factor_verified=True)

    with pytest.raises(AdminActionRefused):
        invitation_withdraw(actor=elsewhere, invitation=invitation, reason="Mine now")

    invitation.refresh_from_db()
    assert invitation.withdrawn_at is None


# Roles ---------------------------------------------------------------------


def test_granting_a_role_records_who_what_and_why(world):
    assignment = role_grant(
        actor=world.actor,
        user=world.practitioner,
        organisation=world.authority,
        role=Role.DATA_MANAGER,
        reason="Covering the data team",
    )

    assert assignment.granted_by_id == world.admin.pk
    assert assignment.reason == "Covering the data team"
    event = _only_event(AccessAction.ROLE_GRANT)
    assert (event.outcome, event.actor_id, event.subject_user_id) == (
        "allowed",
        world.admin.pk,
        world.practitioner.pk,
    )
    assert "Granted Data manager at Northshire Council" in event.detail
    assert "Reason: Covering the data team" in event.detail


def test_nobody_grants_themselves_a_role(world):
    with pytest.raises(AdminActionRefused) as refused:
        role_grant(
            actor=world.actor,
            user=world.admin,
            organisation=world.authority,
            role=Role.SHIELDING_OFFICER,
            reason="I need it",
        )

    assert refused.value.reason_code == "own_account"
    assert not RoleAssignment.objects.filter(role=Role.SHIELDING_OFFICER).exists()
    event = _only_event(AccessAction.ROLE_GRANT)
    assert (event.outcome, event.reason) == ("denied", "own_account")


def test_granting_a_role_outside_scope_is_refused(world):
    with pytest.raises(AdminActionRefused) as refused:
        role_grant(
            actor=world.actor,
            user=world.outsider,
            organisation=world.other_school,
            role=Role.DATA_MANAGER,
            reason="Helping out",
        )

    assert refused.value.reason_code == "out_of_scope"
    assert RoleAssignment.objects.filter(user=world.outsider).count() == 1


def test_granting_a_role_held_already_is_a_clear_error(world):
    with pytest.raises(ValidationError) as invalid:
        role_grant(
            actor=world.actor,
            user=world.practitioner,
            organisation=world.school,
            role=Role.PRACTITIONER,
            reason="Again",
        )

    assert "already practitioner" in invalid.value.message_dict["role"][0]


def test_a_practitioner_and_an_auditor_cannot_grant_roles(world):
    auditor = make_user()
    grant(auditor, world.authority, Role.AUDITOR)
    for who in (world.practitioner, auditor):
        with pytest.raises(AdminActionRefused) as refused:
            role_grant(
                actor=actor_for_user(who, second_factor_verified=True),
                user=world.outsider,
                organisation=world.school,
                role=Role.PRACTITIONER,
                reason="Trying",
            )
        assert refused.value.reason_code == "role_not_permitted"


def test_an_administrator_without_a_verified_second_factor_is_refused(world):
    unverified = actor_for_user(world.admin, second_factor_verified=False)

    with pytest.raises(AdminActionRefused) as refused:
        user_suspend(actor=unverified, user=world.practitioner, reason="Left")

    assert refused.value.reason_code == "second_factor_missing"
    world.practitioner.refresh_from_db()
    assert world.practitioner.suspended_at is None


def test_system_grants_still_work_and_are_recorded_as_the_systems(world):
    assignment = role_grant(
        user=world.practitioner,
        organisation=world.school,
        role=Role.SHIELDING_OFFICER,
        reason="Seeded by an operator",
    )

    assert assignment.granted_by_id is None
    event = _only_event(AccessAction.ROLE_GRANT)
    assert (event.actor_id, event.reason) == (None, "system")
    with pytest.raises(PermissionError):
        role_grant(
            user=world.admin,
            organisation=world.school,
            role=Role.AUDITOR,
            reason="Self",
            granted_by_id=world.admin.pk,
        )


def test_removing_a_role_keeps_the_row_with_who_when_and_why(world):
    assignment = RoleAssignment.objects.get(user=world.practitioner)

    role_revoke(actor=world.actor, assignment=assignment, reason="Left the school")

    assignment.refresh_from_db()
    assert assignment.revoked_at is not None
    assert assignment.revoked_by_id == world.admin.pk
    assert assignment.revoke_reason == "Left the school"
    event = _only_event(AccessAction.ROLE_REVOKE)
    assert "Removed Practitioner at Hilltop Primary" in event.detail
    assert "Reason: Left the school" in event.detail
    assert actor_for_user(world.practitioner, second_factor_verified=True).grants == (
        frozenset()
    )


def test_nobody_removes_their_own_role(world):
    own = RoleAssignment.objects.get(user=world.admin)

    with pytest.raises(AdminActionRefused):
        role_revoke(actor=world.actor, assignment=own, reason="Stepping down")

    own.refresh_from_db()
    assert own.revoked_at is None
    assert _only_event(AccessAction.ROLE_REVOKE).reason == "own_account"


# Suspension, reactivation, second factors, unlock ---------------------------------


def test_suspending_ends_sessions_and_is_recorded(world):
    stamp = world.practitioner.security_stamp
    session_hash = world.practitioner.get_session_auth_hash()

    user_suspend(actor=world.actor, user=world.practitioner, reason="Misuse reported")

    user = User.objects.get(pk=world.practitioner.pk)
    assert user.suspended_at is not None
    assert user.suspended_reason == "Misuse reported"
    assert user.security_stamp != stamp
    assert user.get_session_auth_hash() != session_hash
    assert actor_for_user(user, second_factor_verified=True).grants == frozenset()
    event = _only_event(AccessAction.USER_SUSPEND)
    assert (event.outcome, event.actor_id, event.subject_user_id) == (
        "allowed",
        world.admin.pk,
        user.pk,
    )
    assert event.detail.endswith("Reason: Misuse reported")


def test_nobody_suspends_themselves(world):
    with pytest.raises(AdminActionRefused) as refused:
        user_suspend(actor=world.actor, user=world.admin, reason="Holiday")

    assert refused.value.reason_code == "own_account"
    world.admin.refresh_from_db()
    assert world.admin.suspended_at is None


def test_suspending_outside_scope_is_refused_and_audited(world):
    with pytest.raises(AdminActionRefused):
        user_suspend(actor=world.actor, user=world.outsider, reason="Not mine")

    world.outsider.refresh_from_db()
    assert world.outsider.suspended_at is None
    event = _only_event(AccessAction.USER_SUSPEND)
    assert (event.outcome, event.reason, event.subject_user_id) == (
        "denied",
        "out_of_scope",
        world.outsider.pk,
    )


def test_reactivating_lifts_the_suspension(world):
    user_suspend(actor=world.actor, user=world.practitioner, reason="Misuse reported")

    user_reactivate(actor=world.actor, user=world.practitioner, reason="Cleared")

    user = User.objects.get(pk=world.practitioner.pk)
    assert (user.suspended_at, user.suspended_reason) == (None, "")
    event = _only_event(AccessAction.USER_REACTIVATE)
    assert "Reason: Cleared" in event.detail


def test_reactivating_an_active_account_is_a_clear_error(world):
    with pytest.raises(ValidationError, match="not suspended"):
        user_reactivate(actor=world.actor, user=world.practitioner, reason="Why not")


def test_resetting_second_factors_removes_them_and_records_it(world):
    totp_device_for(world.practitioner)

    user_second_factor_reset(
        actor=world.actor, user=world.practitioner, reason="Lost phone, called back"
    )

    assert not TotpDevice.objects.filter(user=world.practitioner).exists()
    reset = SecondFactorReset.objects.get(user=world.practitioner)
    assert (reset.reset_by_id, reset.reason) == (
        world.admin.pk,
        "Lost phone, called back",
    )
    event = _only_event(AccessAction.SECOND_FACTOR_RESET)
    assert (event.outcome, event.actor_id) == ("allowed", world.admin.pk)


def test_nobody_resets_their_own_second_factor(world):
    totp_device_for(world.admin)

    with pytest.raises(AdminActionRefused) as refused:
        user_second_factor_reset(actor=world.actor, user=world.admin, reason="Mine")

    assert refused.value.reason_code == "own_account"
    assert TotpDevice.objects.filter(user=world.admin).exists()
    assert _only_event(AccessAction.SECOND_FACTOR_RESET).outcome == "denied"


def test_unlocking_clears_the_second_factor_lockout(world):
    device, _secret = totp_device_for(world.practitioner)
    TotpDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=7, throttling_failure_timestamp=timezone.now()
    )

    account_unlock(
        user=world.practitioner, unlocked_by=world.actor, reason="Called the help desk"
    )

    device.refresh_from_db()
    assert (device.throttling_failure_count, device.throttling_failure_timestamp) == (
        0,
        None,
    )
    event = _only_event(AccessAction.ACCOUNT_UNLOCK)
    assert (event.outcome, event.subject_user_id) == ("allowed", world.practitioner.pk)
    assert "Reason: Called the help desk" in event.detail


def test_unlocking_outside_scope_is_refused(world):
    with pytest.raises(AdminActionRefused):
        account_unlock(user=world.outsider, unlocked_by=world.actor, reason="Help")

    assert _only_event(AccessAction.ACCOUNT_UNLOCK).outcome == "denied"


# Feed systems and API tokens ---------------------------------------------------


@pytest.fixture
def feed(world) -> User:
    return feed_system_create(
        actor=world.actor,
        name="Hilltop MIS",
        username="hilltop-mis",
        email="mis-support@example.org",
        organisation=world.school,
        reason="Nightly pupil feed",
    )


def test_a_feed_system_has_no_password_and_only_the_feed_role(feed, world):
    assert not feed.has_usable_password()
    assert list(RoleAssignment.objects.filter(user=feed).values_list("role")) == [
        (Role.FEED_SYSTEM.value,)
    ]


def test_an_api_token_is_shown_once_and_stored_as_a_hash(feed, world):
    _token, raw = api_token_issue(actor=world.actor, user=feed, name="Upload server")

    prefix, secret = raw.split(".")
    assert re.fullmatch(r"[0-9a-f]{8}", prefix)
    assert len(secret) == 43
    stored = ApiToken.objects.get()
    assert (stored.prefix, stored.user, stored.created_by_id) == (
        prefix,
        feed,
        world.admin.pk,
    )
    assert stored.token_hash == api_token_hash(raw)
    assert secret not in str(ApiToken.objects.values().get())
    event = _only_event(AccessAction.TOKEN_ISSUE)
    assert prefix in event.detail
    assert secret not in event.detail


def test_api_tokens_are_only_for_feed_systems(world):
    with pytest.raises(AdminActionRefused) as refused:
        api_token_issue(actor=world.actor, user=world.practitioner, name="Mine")

    assert refused.value.reason_code == "not_a_feed_system"
    assert not ApiToken.objects.exists()
    assert _only_event(AccessAction.TOKEN_ISSUE).reason == "not_a_feed_system"


def test_revoking_an_api_token(feed, world):
    token, _raw = api_token_issue(actor=world.actor, user=feed, name="Upload server")

    api_token_revoke(actor=world.actor, token=token, reason="Server replaced")

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoked_by_id == world.admin.pk
    assert "Reason: Server replaced" in _only_event(AccessAction.TOKEN_REVOKE).detail


def test_a_person_cannot_be_given_the_feed_system_role(world):
    with pytest.raises(AdminActionRefused) as refused:
        role_grant(
            actor=world.actor,
            user=world.practitioner,
            organisation=world.school,
            role=Role.FEED_SYSTEM,
            reason="Uploads",
        )

    assert refused.value.reason_code == "feed_system_kept_separate"


# Inactive accounts and vetting -------------------------------------------------------

DAY_ONE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_accounts_unused_for_90_days_are_suspended_overnight(world):
    with time_machine.travel(DAY_ONE, tick=False):
        never = make_user(username="never.signed.in")
        grant(never, world.school, Role.PRACTITIONER)
        lapsed = make_user(username="lapsed", last_login=DAY_ONE)
        grant(lapsed, world.school, Role.PRACTITIONER)
        recent = make_user(username="recent", last_login=DAY_ONE + timedelta(days=2))
        grant(recent, world.school, Role.PRACTITIONER)
        feed = make_user(username="feed")
        grant(feed, world.school, Role.FEED_SYSTEM)
    User.objects.exclude(pk__in=[never.pk, lapsed.pk, recent.pk, feed.pk]).update(
        last_login=DAY_ONE + timedelta(days=89)
    )

    with time_machine.travel(DAY_ONE + timedelta(days=89), tick=False):
        assert suspend_inactive_users() == 0
    with time_machine.travel(DAY_ONE + timedelta(days=90, hours=17), tick=False):
        assert suspend_inactive_users() == 2
        assert suspend_inactive_users() == 0

    suspended = set(
        User.objects.filter(suspended_at__isnull=False).values_list(
            "username", flat=True
        )
    )
    assert suspended == {"never.signed.in", "lapsed"}
    lapsed.refresh_from_db()
    assert lapsed.suspended_reason == "Not signed in for 90 days or more"
    events = _events(AccessAction.USER_SUSPEND)
    assert {e.subject_user_id for e in events} == {never.pk, lapsed.pk}
    assert {(e.actor_id, e.reason, e.outcome) for e in events} == {
        (None, "inactive_90_days", "allowed")
    }


def test_a_reactivated_account_is_not_suspended_again_the_same_night(world):
    long_ago = timezone.now() - timedelta(days=200)
    User.objects.filter(pk=world.practitioner.pk).update(last_login=long_ago)
    User.objects.exclude(pk=world.practitioner.pk).update(last_login=timezone.now())
    user_suspend(actor=world.actor, user=world.practitioner, reason="Inactive")
    user_reactivate(actor=world.actor, user=world.practitioner, reason="Back at work")

    assert users_suspend_inactive(today=timezone.localdate()) == 0


def test_access_stops_when_vetting_expires(world):
    User.objects.filter(pk=world.practitioner.pk).update(
        vetting_expires_on=date(2026, 6, 30)
    )
    user = User.objects.get(pk=world.practitioner.pk)

    with time_machine.travel(datetime(2026, 6, 30, 23, 0, tzinfo=UTC), tick=False):
        # 23:00 UTC is already 1 July in London (BST).
        assert actor_for_user(user, second_factor_verified=True).grants == frozenset()
    with time_machine.travel(datetime(2026, 6, 30, 12, 0, tzinfo=UTC), tick=False):
        assert actor_for_user(user, second_factor_verified=True).roles == {
            Role.PRACTITIONER
        }


# Selectors --------------------------------------------------------------------------


def test_the_users_list_shows_only_users_in_scope(world, django_assert_num_queries):
    with django_assert_num_queries(3):
        page = user_list(actor=world.actor, filters=UserFilters())
        rows = list(page)

    assert {row.user.username for row in rows} == {"ada.admin", "pat.teacher"}
    pat = next(row for row in rows if row.user.username == "pat.teacher")
    assert [a.organisation.name for a in pat.current_roles] == ["Hilltop Primary"]


def test_the_users_list_filters(world):
    suspended = make_user(username="sus", last_login=timezone.now())
    grant(suspended, world.school, Role.DATA_MANAGER)
    user_suspend(actor=world.actor, user=suspended, reason="Test")
    User.objects.filter(pk=world.admin.pk).update(last_login=timezone.now())

    def names(**filters) -> set[str]:
        page = user_list(actor=world.actor, filters=UserFilters(**filters))
        return {row.user.username for row in page}

    assert names(role=Role.DATA_MANAGER) == {"sus"}
    assert names(organisation_id=world.authority.pk) == {"ada.admin"}
    assert names(status=UserStatus.SUSPENDED) == {"sus"}
    assert names(status=UserStatus.INVITED) == {"pat.teacher"}
    assert names(status=UserStatus.ACTIVE) == {"ada.admin"}
    assert names(last_sign_in_before=timezone.localdate()) == {"pat.teacher"}
    User.objects.filter(pk=world.practitioner.pk).update(
        vetting_expires_on=timezone.localdate()
    )
    assert names(vetting_expires_before=timezone.localdate() + timedelta(days=1)) == {
        "pat.teacher"
    }


def test_the_users_list_has_25_to_a_page(world):
    for n in range(30):
        grant(make_user(username=f"bulk{n:02d}"), world.school, Role.PRACTITIONER)

    first = user_list(actor=world.actor, filters=UserFilters())
    last = user_list(actor=world.actor, filters=UserFilters(page=2))
    beyond = user_list(actor=world.actor, filters=UserFilters(page="nonsense"))

    assert (len(first), len(last), first.paginator.count) == (25, 7, 32)
    assert beyond.number == 1


def test_the_users_list_is_refused_to_a_practitioner(world):
    with pytest.raises(AdminActionRefused) as refused:
        user_list(
            actor=actor_for_user(world.practitioner, second_factor_verified=True),
            filters=UserFilters(),
        )

    assert refused.value.reason_code == "role_not_permitted"


def test_a_user_outside_scope_looks_like_no_user(world):
    with pytest.raises(AdminActionRefused) as outside:
        user_detail(actor=world.actor, user_id=world.outsider.pk)
    with pytest.raises(AdminActionRefused) as missing:
        user_detail(actor=world.actor, user_id=uuid.uuid4())

    assert outside.value.reason_code == missing.value.reason_code == "out_of_scope"


def test_user_detail_says_what_the_administrator_may_do(
    world, django_assert_num_queries
):
    # The user, their roles, their feed-system role, their lockout records.
    with django_assert_num_queries(4):
        detail = user_detail(actor=world.actor, user_id=world.practitioner.pk)
    own = user_detail(actor=world.actor, user_id=world.admin.pk)

    assert (detail.can_suspend, detail.can_grant, detail.can_reset_second_factor) == (
        True,
        True,
        True,
    )
    assert not detail.can_issue_token
    assert [row.can_revoke for row in detail.current_roles] == [True]
    assert (own.can_suspend, own.can_grant, own.can_unlock) == (False, False, False)
    assert [row.can_revoke for row in own.current_roles] == [False]


@time_machine.travel(datetime(2026, 5, 13, 12, 0, tzinfo=UTC), tick=False)
def test_the_access_review(world, django_assert_num_queries):
    today = timezone.localdate()
    now = timezone.now()
    User.objects.filter(pk=world.admin.pk).update(
        last_login=now,
        vetting_checked_on=today,
        vetting_expires_on=today + timedelta(days=400),
        training_completed_on=today,
        agreement_signed_on=today,
    )
    User.objects.filter(pk=world.practitioner.pk).update(
        last_login=now - timedelta(days=95),
        vetting_checked_on=today,
        vetting_expires_on=today + timedelta(days=10),
        training_completed_on=None,
        agreement_signed_on=today,
    )
    quiet = make_user(
        username="quiet",
        last_login=now - timedelta(days=61),
        vetting_checked_on=today,
        vetting_expires_on=today - timedelta(days=1),
        training_completed_on=today,
        agreement_signed_on=today,
    )
    grant(quiet, world.school, Role.PRACTITIONER)
    RoleAssignment.objects.filter(user=world.practitioner).update(
        granted_at=now - timedelta(days=400)
    )
    outsider_old = RoleAssignment.objects.get(user=world.outsider)
    outsider_old.granted_at = now - timedelta(days=400)
    outsider_old.save(update_fields=["granted_at"])

    with django_assert_num_queries(2):
        review = access_review(actor=world.actor, today=today)

    assert [
        (r.user.username, r.days, r.will_be_suspended) for r in review.inactive
    ] == [
        ("pat.teacher", 95, True),
        ("quiet", 61, False),
    ]
    assert [(r.user.username, r.expired) for r in review.vetting] == [
        ("quiet", True),
        ("pat.teacher", False),
    ]
    assert [(r.user.username, r.missing) for r in review.missing_checks] == [
        ("pat.teacher", ("training",))
    ]
    assert [a.user.username for a in review.old_roles] == ["pat.teacher"]
