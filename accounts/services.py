"""Writes to organisations, users, roles, invitations and API tokens.

Every administrative change is decided by accounts/policies.py, validated
(``full_clean``), recorded in the access log with who, what, when and why,
and written with ``update_fields`` inside ``transaction.atomic``. A refusal
raises AdminActionRefused after its own access event is written.

The access event of a change is written before the change, in its own
transaction (audit/services.py makes it durable), so no change is ever made
without its record; should the change then fail, a second event says so.
"""

import hashlib
import secrets
import uuid
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.actors import Actor
from accounts.lockout import account_failures_clear
from accounts.models import (
    ApiToken,
    BackupCodeDevice,
    Invitation,
    Organisation,
    RoleAssignment,
    TotpDevice,
    User,
)
from accounts.policies import (
    AdminAction,
    AdminActionRefused,
    Decision,
    TargetFacts,
    decide_admin_action,
)
from accounts.roles import Role
from accounts.selectors import (
    INACTIVE_SUSPEND_DAYS,
    INVITATION_MESSAGES,
    InvitationInvalid,
    invitation_for_token,
    invitation_token_hash,
    organisation_ref,
    user_target_facts,
)
from accounts.two_factor import second_factors_reset
from audit.models import AccessAction, AccessEvent, Outcome
from audit.services import access_event_change, access_event_record, detail_fit

INVITATION_VALID_FOR = timedelta(hours=72)
REASON_MAX_LENGTH = 200
API_TOKEN_PREFIX_BYTES = 4  # 8 hexadecimal characters
SYSTEM_REASON_INACTIVE = "inactive_90_days"


def organisation_create(
    *,
    name: str,
    kind: str,
    code: str,
    parent_authority: Organisation | None = None,
    phone: str = "",
    email: str = "",
    address: str = "",
) -> Organisation:
    """Create an organisation after model validation (unique code per kind)."""
    organisation = Organisation(
        name=name,
        kind=kind,
        code=code,
        parent_authority=parent_authority,
        phone=phone,
        email=email,
        address=address,
    )
    organisation.full_clean()
    organisation.save(force_insert=True)
    return organisation


def user_create(
    *,
    username: str,
    email: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    job_title: str = "",
    vetting_checked_on: date | None = None,
    vetting_expires_on: date | None = None,
    training_completed_on: date | None = None,
    agreement_signed_on: date | None = None,
) -> User:
    """Create a user; ``password=None`` leaves an unusable password (API clients)."""
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        job_title=job_title,
        vetting_checked_on=vetting_checked_on,
        vetting_expires_on=vetting_expires_on,
        training_completed_on=training_completed_on,
        agreement_signed_on=agreement_signed_on,
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save(force_insert=True)
    return user


class _NoLongerApplies(Exception):
    """The user signed in (or was suspended) while the job was running."""


def _reason_clean(reason: str) -> str:
    """The stated reason for a change: required, and short enough to keep."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Enter the reason for this change"})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": f"Reason must be {REASON_MAX_LENGTH} characters or fewer"}
        )
    return reason


def _decide(
    actor: Actor,
    action: AdminAction,
    facts: TargetFacts,
    *,
    audit_action: str,
    detail: str,
) -> Decision:
    """Ask the policy; audit and raise a refusal, return an allowance."""
    decision = decide_admin_action(actor, action, facts)
    if not decision.allowed:
        access_event_record(
            actor=actor,
            action=audit_action,
            allowed=False,
            reason=decision.reason,
            subject_user_id=facts.user_id,
            detail=detail_fit(f"Refused: {detail}"),
        )
        raise AdminActionRefused.of(decision)
    return decision


def _who(user: User) -> str:
    return f"{user.get_full_name() or user.username} ({user.username})"


def _where(organisation: Organisation) -> str:
    return f"{organisation.name} ({organisation.code})"


def role_grant(
    *,
    user: User,
    organisation: Organisation,
    role: Role,
    reason: str,
    granted_by_id: UUID | None = None,
    actor: Actor | None = None,
) -> RoleAssignment:
    """Give ``user`` ``role`` at ``organisation``, recording who and why.

    With ``actor`` (the administrator's workspace) the policy decides and the
    grant is recorded as theirs; without one (operators' commands) it is
    recorded as the system's. Nobody may grant a role to themselves
    (separation of duties).
    """
    if actor is not None:
        granted_by_id = actor.user_id
        facts = user_target_facts(user, role_organisation=organisation, role=role)
        decision = _decide(
            actor,
            AdminAction.ROLE_GRANT,
            facts,
            audit_action=AccessAction.ROLE_GRANT,
            detail=f"grant {role.label} at {_where(organisation)} to {_who(user)}",
        )
        reason_code = decision.reason
    elif granted_by_id is not None and granted_by_id == user.pk:
        raise PermissionError("Nobody can change their own roles.")
    else:
        reason_code = "system"
    reason = _reason_clean(reason)
    assignment = RoleAssignment(
        user=user,
        organisation=organisation,
        role=role.value,
        reason=reason,
        granted_by_id=granted_by_id,
    )
    if RoleAssignment.objects.filter(
        user=user, organisation=organisation, role=role, revoked_at__isnull=True
    ).exists():
        raise ValidationError(
            {"role": f"{user} is already {role.label.lower()} at {organisation}"}
        )
    assignment.full_clean()
    with access_event_change(
        actor=actor,
        action=AccessAction.ROLE_GRANT,
        reason=reason_code,
        subject_user_id=user.pk,
        detail=(
            f"Granted {role.label} at {_where(organisation)} to {_who(user)}. "
            f"Reason: {reason}"
        ),
    ):
        assignment.save(force_insert=True)
    return assignment


def role_revoke(
    *, actor: Actor, assignment: RoleAssignment, reason: str
) -> RoleAssignment:
    """End one role assignment; the row stays, marked with who, when and why."""
    user = assignment.user
    role = Role(assignment.role)
    what = f"{role.label} at {_where(assignment.organisation)} from {_who(user)}"
    facts = user_target_facts(
        user, role_organisation=assignment.organisation, role=role
    )
    decision = _decide(
        actor,
        AdminAction.ROLE_REVOKE,
        facts,
        audit_action=AccessAction.ROLE_REVOKE,
        detail=f"remove {what}",
    )
    reason = _reason_clean(reason)
    if assignment.revoked_at is not None:
        raise ValidationError("This role has already been removed.")
    with access_event_change(
        actor=actor,
        action=AccessAction.ROLE_REVOKE,
        reason=decision.reason,
        subject_user_id=user.pk,
        detail=f"Removed {what}. Reason: {reason}",
    ):
        locked = RoleAssignment.objects.select_for_update().get(pk=assignment.pk)
        if locked.revoked_at is not None:
            raise ValidationError("This role has already been removed.")
        locked.revoked_at = timezone.now()
        locked.revoked_by_id = actor.user_id
        locked.revoke_reason = reason
        locked.full_clean()
        locked.save(update_fields=["revoked_at", "revoked_by_id", "revoke_reason"])
    return locked


def invitation_create(
    *,
    actor: Actor,
    email: str,
    first_name: str,
    last_name: str,
    organisation: Organisation,
    role: Role,
    reason: str,
    link_base: str = "",
) -> tuple[Invitation, str]:
    """Invite one person to one role at one organisation, by email.

    The email holds a one-time link to /accounts/invitations/<token>/ (prefixed
    with ``link_base``, the site's address); only a SHA-256 of the token is
    stored, and the link works for 72 hours. Returns the invitation and the
    token. No invitation is kept unless its email was handed to the email
    backend.
    """
    email = User.objects.normalize_email(email.strip())
    who = f"{first_name} {last_name} <{email}>"
    decision = _decide(
        actor,
        AdminAction.USER_INVITE,
        TargetFacts(
            user_id=None, role_organisation=organisation_ref(organisation), role=role
        ),
        audit_action=AccessAction.USER_INVITE,
        detail=f"invite {who} as {role.label} at {_where(organisation)}",
    )
    reason = _reason_clean(reason)
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": "There is already an account with this email address"}
        )
    if Invitation.objects.filter(
        email__iexact=email,
        accepted_at__isnull=True,
        withdrawn_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).exists():
        raise ValidationError(
            {
                "email": "This person already has an invitation waiting. "
                "Withdraw it first to send a new one"
            }
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        organisation=organisation,
        role=role.value,
        reason=reason,
        invited_by_id=actor.user_id,
        token_hash=invitation_token_hash(token),
        expires_at=timezone.now() + INVITATION_VALID_FOR,
    )
    invitation.full_clean()
    link = link_base.rstrip("/") + reverse(
        "invitations:invitation-accept", kwargs={"token": token}
    )
    with access_event_change(
        actor=actor,
        action=AccessAction.USER_INVITE,
        reason=decision.reason,
        subject_user_id=None,
        detail=(
            f"Invited {who} as {role.label} at {_where(organisation)}. Reason: {reason}"
        ),
    ):
        invitation.save(force_insert=True)
        send_mail(
            subject=f"You have been invited to use {settings.SERVICE_NAME}",
            message=render_to_string(
                "manage/email/invitation.txt",
                {
                    "invitation": invitation,
                    "role_label": role.label,
                    "link": link,
                    "invited_by": actor.display_name,
                    "service_name": settings.SERVICE_NAME,
                    "valid_hours": int(INVITATION_VALID_FOR.total_seconds() // 3600),
                },
            ),
            from_email=None,
            recipient_list=[email],
        )
    return invitation, token


def invitation_withdraw(
    *, actor: Actor, invitation: Invitation, reason: str
) -> Invitation:
    """Stop an invitation's link from working. Accepted ones cannot be withdrawn."""
    what = f"the invitation for {invitation.email} ({Role(invitation.role).label})"
    decision = _decide(
        actor,
        AdminAction.INVITATION_WITHDRAW,
        TargetFacts(
            user_id=None,
            role_organisation=organisation_ref(invitation.organisation),
            role=invitation.role,
        ),
        audit_action=AccessAction.USER_INVITE,
        detail=f"withdraw {what}",
    )
    reason = _reason_clean(reason)
    with access_event_change(
        actor=actor,
        action=AccessAction.USER_INVITE,
        reason=decision.reason,
        subject_user_id=invitation.user_id,
        detail=f"Withdrew {what}. Reason: {reason}",
    ):
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise ValidationError("This invitation has already been accepted.")
        if locked.withdrawn_at is not None:
            raise ValidationError("This invitation has already been withdrawn.")
        locked.withdrawn_at = timezone.now()
        locked.save(update_fields=["withdrawn_at"])
    return locked


def invitation_accept(
    *, token: str, username: str, password: str, password_again: str
) -> User:
    """Turn an invitation into an account: the user, their role, the used link.

    Malformed, unknown, expired, used and withdrawn links raise
    InvitationInvalid (and are recorded as refused activations); a bad
    username or password raises ValidationError keyed by field. Either way
    nothing changes. The new user then signs in and enrols a second factor
    through the normal sign-in flow.
    """
    try:
        invitation = invitation_for_token(token=token)
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise InvitationInvalid(
                "invitation_email_taken",
                "There is already an account with this email address. Sign in "
                "with it, or contact your administrator.",
            )
    except InvitationInvalid as invalid:
        access_event_record(
            actor=None,
            action=AccessAction.USER_ACTIVATE,
            allowed=False,
            reason=invalid.reason_code,
            detail="Refused: an invitation link that cannot be used",
        )
        raise
    user = User(
        id=uuid.uuid4(),
        username=username.strip(),
        email=invitation.email,
        first_name=invitation.first_name,
        last_name=invitation.last_name,
    )
    errors: dict[str, list[str]] = {}
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as error:
        errors.update(error.message_dict)
    if password != password_again:
        errors["password_again"] = ["The passwords do not match"]
    else:
        try:
            validate_password(password, user=user)
        except ValidationError as error:
            errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    role = Role(invitation.role)
    assignment = RoleAssignment(
        user=user,
        organisation=invitation.organisation,
        role=role.value,
        reason=invitation.reason,
        granted_by_id=invitation.invited_by_id,
    )
    with access_event_change(
        actor=Actor(user_id=user.pk, display_name=str(user)),
        action=AccessAction.USER_ACTIVATE,
        reason="invitation_accepted",
        subject_user_id=user.pk,
        detail=(
            f"{_who(user)} accepted the invitation as {role.label} at "
            f"{_where(invitation.organisation)}"
        ),
    ):
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None or locked.withdrawn_at is not None:
            raise InvitationInvalid(
                "invitation_used", INVITATION_MESSAGES["invitation_used"]
            )
        user.save(force_insert=True)
        assignment.save(force_insert=True)
        locked.accepted_at = timezone.now()
        locked.user = user
        locked.save(update_fields=["accepted_at", "user"])
    return user


def user_suspend(*, actor: Actor, user: User, reason: str) -> User:
    """Stop ``user`` signing in, and end their sessions now.

    Rotating the security stamp changes the session hash, so every session
    the user has open ends on its next request.
    """
    decision = _decide(
        actor,
        AdminAction.USER_SUSPEND,
        user_target_facts(user),
        audit_action=AccessAction.USER_SUSPEND,
        detail=f"suspend {_who(user)}",
    )
    reason = _reason_clean(reason)
    if user.suspended_at is not None:
        raise ValidationError("This account is already suspended.")
    with access_event_change(
        actor=actor,
        action=AccessAction.USER_SUSPEND,
        reason=decision.reason,
        subject_user_id=user.pk,
        detail=f"Suspended {_who(user)}. Reason: {reason}",
    ):
        _suspend(user, reason)
    return user


def _suspend(user: User, reason: str) -> None:
    user.suspended_at = timezone.now()
    user.suspended_reason = reason
    user.security_stamp = uuid.uuid4()
    user.full_clean(exclude=["password"])
    user.save(update_fields=["suspended_at", "suspended_reason", "security_stamp"])


def user_reactivate(*, actor: Actor, user: User, reason: str) -> User:
    """Let a suspended user sign in again (with their existing factors)."""
    decision = _decide(
        actor,
        AdminAction.USER_REACTIVATE,
        user_target_facts(user),
        audit_action=AccessAction.USER_REACTIVATE,
        detail=f"reactivate {_who(user)}",
    )
    reason = _reason_clean(reason)
    if user.suspended_at is None:
        raise ValidationError("This account is not suspended.")
    with access_event_change(
        actor=actor,
        action=AccessAction.USER_REACTIVATE,
        reason=decision.reason,
        subject_user_id=user.pk,
        detail=(
            f"Reactivated {_who(user)}, suspended since "
            f"{timezone.localtime(user.suspended_at):%Y-%m-%d} "
            f"({user.suspended_reason}). Reason: {reason}"
        ),
    ):
        user.suspended_at = None
        user.suspended_reason = ""
        user.full_clean(exclude=["password"])
        user.save(update_fields=["suspended_at", "suspended_reason"])
    return user


def user_second_factor_reset(*, actor: Actor, user: User, reason: str) -> None:
    """Clear ``user``'s second factors so they enrol again at next sign-in.

    The policy decides here (refusals are recorded here); the reset itself,
    its record and the end of the user's sessions are
    ``accounts.two_factor.second_factors_reset``'s.
    """
    _decide(
        actor,
        AdminAction.SECOND_FACTOR_RESET,
        user_target_facts(user),
        audit_action=AccessAction.SECOND_FACTOR_RESET,
        detail=f"reset the second factors of {_who(user)}",
    )
    reason = _reason_clean(reason)
    second_factors_reset(user=user, reset_by=actor, reason=reason)


def account_unlock(*, user: User, unlocked_by: Actor, reason: str) -> User:
    """Lift the lockout that repeated wrong codes put on ``user``'s account.

    Clears django-axes' failed sign-ins for the user's username (the
    account lockout) and the failure counters that throttle their second
    factors (authenticator app and backup codes). A lock on an IP address is
    not the account's and stays until its hour passes. Suspension is not a
    lockout: it is lifted by user_reactivate.
    """
    decision = _decide(
        unlocked_by,
        AdminAction.ACCOUNT_UNLOCK,
        user_target_facts(user),
        audit_action=AccessAction.ACCOUNT_UNLOCK,
        detail=f"unlock {_who(user)}",
    )
    reason = _reason_clean(reason)
    with access_event_change(
        actor=unlocked_by,
        action=AccessAction.ACCOUNT_UNLOCK,
        reason=decision.reason,
        subject_user_id=user.pk,
        detail=f"Unlocked {_who(user)}. Reason: {reason}",
    ):
        for device_model in (TotpDevice, BackupCodeDevice):
            device_model.objects.filter(user=user).update(
                throttling_failure_count=0, throttling_failure_timestamp=None
            )
        account_failures_clear(user)
    return user


def api_token_hash(token: str) -> str:
    """The stored form of an API token: SHA-256 of the whole "<prefix>.<secret>"."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def api_token_issue(*, actor: Actor, user: User, name: str) -> tuple[ApiToken, str]:
    """Issue a bearer token to a feed-system user; the token is returned once.

    The token is "<prefix>.<secret>": an 8-character prefix that names the
    row and a 43-character secret. Only its SHA-256 is stored.
    """
    name = name.strip()
    decision = _decide(
        actor,
        AdminAction.TOKEN_ISSUE,
        user_target_facts(user),
        audit_action=AccessAction.TOKEN_ISSUE,
        detail=f"issue API token {name!r} to {_who(user)}",
    )
    prefix = secrets.token_hex(API_TOKEN_PREFIX_BYTES)
    while ApiToken.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(API_TOKEN_PREFIX_BYTES)
    raw = f"{prefix}.{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user=user,
        name=name,
        prefix=prefix,
        token_hash=api_token_hash(raw),
        created_by_id=actor.user_id,
    )
    token.full_clean()
    with access_event_change(
        actor=actor,
        action=AccessAction.TOKEN_ISSUE,
        reason=decision.reason,
        subject_user_id=user.pk,
        detail=f"Issued API token {name!r} ({prefix}) to {_who(user)}",
    ):
        token.save(force_insert=True)
    return token, raw


def api_token_revoke(*, actor: Actor, token: ApiToken, reason: str) -> ApiToken:
    """Stop an API token working, at once and for good."""
    user = token.user
    what = f"API token {token.name!r} ({token.prefix}) of {_who(user)}"
    decision = _decide(
        actor,
        AdminAction.TOKEN_REVOKE,
        user_target_facts(user),
        audit_action=AccessAction.TOKEN_REVOKE,
        detail=f"revoke {what}",
    )
    reason = _reason_clean(reason)
    if token.revoked_at is not None:
        raise ValidationError("This token has already been revoked.")
    with access_event_change(
        actor=actor,
        action=AccessAction.TOKEN_REVOKE,
        reason=decision.reason,
        subject_user_id=user.pk,
        detail=f"Revoked {what}. Reason: {reason}",
    ):
        token.revoked_at = timezone.now()
        token.revoked_by_id = actor.user_id
        token.save(update_fields=["revoked_at", "revoked_by_id"])
    return token


def feed_system_create(
    *,
    actor: Actor,
    name: str,
    username: str,
    email: str,
    organisation: Organisation,
    reason: str,
) -> User:
    """Create an account for a feed system (an API client) at ``organisation``.

    It has no usable password, so it never signs in to the browser; it holds
    the feed-system role only, and reaches the API with tokens issued by
    api_token_issue. ``email`` is the supplier's technical contact.
    """
    email = User.objects.normalize_email(email.strip())
    decision = _decide(
        actor,
        AdminAction.USER_INVITE,
        TargetFacts(
            user_id=None,
            role_organisation=organisation_ref(organisation),
            role=Role.FEED_SYSTEM,
            is_feed_system=True,
        ),
        audit_action=AccessAction.USER_INVITE,
        detail=f"create feed system {name!r} at {_where(organisation)}",
    )
    reason = _reason_clean(reason)
    user = User(id=uuid.uuid4(), username=username.strip(), email=email)
    user.first_name = name.strip()
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    assignment = RoleAssignment(
        user=user,
        organisation=organisation,
        role=Role.FEED_SYSTEM.value,
        reason=reason,
        granted_by_id=actor.user_id,
    )
    with access_event_change(
        actor=actor,
        action=AccessAction.USER_INVITE,
        reason=decision.reason,
        subject_user_id=user.pk,
        detail=(
            f"Created feed system {_who(user)} at {_where(organisation)}. "
            f"Reason: {reason}"
        ),
    ):
        user.save(force_insert=True)
        assignment.save(force_insert=True)
    return user


def users_suspend_inactive(*, today: date) -> int:
    """Suspend every account unused for 90 days or more; return how many.

    Unused means no sign-in (or, never signed in, no account) since 90 days
    before ``today``, and no reactivation by an administrator since then
    either (otherwise a reactivated user would be suspended again the same
    night). Feed systems never sign in and are left alone: their tokens show
    when they were last used. Each suspension is recorded as the system's
    (no actor) with reason ``inactive_90_days``.
    """
    since = timezone.make_aware(
        datetime.combine(today - timedelta(days=INACTIVE_SUSPEND_DAYS - 1), time.min)
    )
    reactivated = AccessEvent.objects.filter(
        subject_user_id=OuterRef("pk"),
        action=AccessAction.USER_REACTIVATE,
        outcome=Outcome.ALLOWED,
        occurred_at__gte=since,
    )
    feed_system = RoleAssignment.objects.filter(
        user=OuterRef("pk"), revoked_at__isnull=True, role=Role.FEED_SYSTEM
    )
    candidates = (
        User.objects.filter(suspended_at__isnull=True, is_active=True)
        .annotate(last_active=Coalesce("last_login", "date_joined"))
        .filter(last_active__lt=since)
        .exclude(Q(Exists(reactivated)) | Q(Exists(feed_system)))
        .values_list("pk", flat=True)
    )
    suspended = 0
    for user in User.objects.filter(pk__in=list(candidates)):
        try:
            with access_event_change(
                actor=None,
                action=AccessAction.USER_SUSPEND,
                reason=SYSTEM_REASON_INACTIVE,
                subject_user_id=user.pk,
                detail=(
                    f"Suspended {_who(user)} automatically: not signed in for "
                    f"{INACTIVE_SUSPEND_DAYS} days or more"
                ),
            ):
                locked = User.objects.select_for_update().get(pk=user.pk)
                if locked.suspended_at is not None or (
                    (locked.last_login or locked.date_joined) >= since
                ):
                    raise _NoLongerApplies
                _suspend(
                    locked, f"Not signed in for {INACTIVE_SUSPEND_DAYS} days or more"
                )
        except _NoLongerApplies:
            continue
        suspended += 1
    return suspended
