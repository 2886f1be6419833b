"""Reads for the administrator's workspace: users, invitations, organisations.

Every function takes the acting administrator's Actor and returns only what
that actor's scope covers (accounts/policies.py decides the scope; the
queries here express the same rule in SQL). Nothing here reads child data.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.actors import Actor
from accounts.lockout import account_is_locked
from accounts.models import (
    ApiToken,
    Invitation,
    Organisation,
    OrganisationKind,
    RoleAssignment,
    User,
)
from accounts.policies import (
    AdminAction,
    AdminActionRefused,
    AdminScope,
    OrganisationRef,
    TargetFacts,
    admin_scope,
    decide_admin_action,
    decide_admin_workspace,
)
from accounts.roles import Role

USERS_PER_PAGE = 25
#: Accounts unused this long show on the access review ...
INACTIVE_REVIEW_DAYS = 60
#: ... and this long are suspended by the nightly job (accounts/tasks.py).
INACTIVE_SUSPEND_DAYS = 90
VETTING_WARNING_DAYS = 30
ROLE_RECONFIRM_DAYS = 365
#: secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
INVITATION_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")


class UserStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    INVITED = "invited"

    @property
    def label(self) -> str:
        return {
            UserStatus.ACTIVE: "Active",
            UserStatus.SUSPENDED: "Suspended",
            UserStatus.INVITED: "Not signed in yet",
        }[self]


class InvitationInvalid(Exception):
    """An invitation link that cannot be used, with a message for its holder."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


INVITATION_MESSAGES = {
    "invitation_unknown": (
        "This invitation link is not valid. Check that you copied the whole link "
        "from the email, or ask your administrator to invite you again."
    ),
    "invitation_expired": (
        "This invitation link has expired. Ask your administrator to invite you again."
    ),
    "invitation_used": (
        "This invitation link has already been used. Sign in with the username and "
        "password you chose."
    ),
    "invitation_withdrawn": (
        "This invitation has been withdrawn. Contact your administrator if you "
        "still need an account."
    ),
}


@dataclass(frozen=True, slots=True)
class UserFilters:
    """The users list's filters; every one optional."""

    organisation_id: int | None = None
    role: str | None = None
    status: UserStatus | None = None
    last_sign_in_before: date | None = None
    vetting_expires_before: date | None = None
    page: int | str = 1


@dataclass(frozen=True, slots=True)
class UserRow:
    """One line of the users list."""

    user: User
    status: UserStatus
    current_roles: list[RoleAssignment]


@dataclass(frozen=True, slots=True)
class RoleRow:
    assignment: RoleAssignment
    can_revoke: bool


@dataclass(frozen=True, slots=True)
class UserDetail:
    """One user as their administrator sees them, with what may be done."""

    user: User
    status: UserStatus
    current_roles: list[RoleRow]
    past_roles: list[RoleAssignment]
    api_tokens: list[ApiToken]
    is_feed_system: bool
    allowed: frozenset[AdminAction]
    #: Too many failed sign-ins for this username (accounts.lockout).
    is_locked_out: bool = False

    @property
    def can_grant(self) -> bool:
        return AdminAction.ROLE_GRANT in self.allowed

    @property
    def grantable_roles(self) -> list[Role]:
        """Feed systems hold the feed-system role only; people never hold it."""
        if self.is_feed_system:
            return [Role.FEED_SYSTEM]
        return [role for role in Role if role != Role.FEED_SYSTEM]

    @property
    def can_suspend(self) -> bool:
        return (
            AdminAction.USER_SUSPEND in self.allowed
            and self.status != UserStatus.SUSPENDED
        )

    @property
    def can_reactivate(self) -> bool:
        return (
            AdminAction.USER_REACTIVATE in self.allowed
            and self.status == UserStatus.SUSPENDED
        )

    @property
    def can_reset_second_factor(self) -> bool:
        return AdminAction.SECOND_FACTOR_RESET in self.allowed

    @property
    def can_unlock(self) -> bool:
        return AdminAction.ACCOUNT_UNLOCK in self.allowed

    @property
    def can_issue_token(self) -> bool:
        return AdminAction.TOKEN_ISSUE in self.allowed

    @property
    def can_revoke_token(self) -> bool:
        return AdminAction.TOKEN_REVOKE in self.allowed


@dataclass(frozen=True, slots=True)
class InactiveRow:
    user: User
    last_active: datetime
    days: int
    will_be_suspended: bool


@dataclass(frozen=True, slots=True)
class VettingRow:
    user: User
    expires_on: date
    expired: bool


@dataclass(frozen=True, slots=True)
class MissingChecksRow:
    user: User
    missing: tuple[str, ...]


@dataclass(slots=True)
class AccessReview:
    """The periodic access review: who to chase, suspend or re-confirm."""

    today: date
    inactive: list[InactiveRow] = field(default_factory=list)
    vetting: list[VettingRow] = field(default_factory=list)
    missing_checks: list[MissingChecksRow] = field(default_factory=list)
    old_roles: list[RoleAssignment] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (
            self.inactive or self.vetting or self.missing_checks or self.old_roles
        )


def _require_workspace(actor: Actor) -> AdminScope:
    decision = decide_admin_workspace(actor)
    if not decision.allowed:
        raise AdminActionRefused.of(decision)
    return admin_scope(actor)


def _organisation_q(scope: AdminScope, prefix: str = "") -> Q:
    """Rows whose organisation (reached through ``prefix``) is in scope."""
    return Q(**{f"{prefix}id__in": scope.organisation_ids}) | Q(
        **{f"{prefix}parent_authority_id__in": scope.authority_ids}
    )


def _visible_users(scope: AdminScope) -> QuerySet[User]:
    """Users working in scope now, or (holding no role now) who worked in it.

    The same rule as TargetFacts.organisations with a USER_VIEW decision.
    """
    in_scope = _organisation_q(scope, prefix="organisation__")
    current = RoleAssignment.objects.filter(
        user=OuterRef("pk"), revoked_at__isnull=True
    )
    past = RoleAssignment.objects.filter(user=OuterRef("pk"))
    return User.objects.filter(
        Exists(current.filter(in_scope))
        | (~Exists(current) & Exists(past.filter(in_scope)))
    )


def _current_roles_prefetch() -> "Prefetch[str, QuerySet[RoleAssignment], str]":
    return Prefetch(
        "role_assignments",
        queryset=RoleAssignment.objects.filter(revoked_at__isnull=True)
        .select_related("organisation")
        .order_by("organisation__name", "role"),
        to_attr="current_roles",
    )


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def user_status(user: User, *, is_feed_system: bool = False) -> UserStatus:
    """Suspended; not signed in yet (feed systems never sign in); or active."""
    if user.suspended_at is not None:
        return UserStatus.SUSPENDED
    if user.last_login is None and not is_feed_system:
        return UserStatus.INVITED
    return UserStatus.ACTIVE


def _feed_system_q() -> Exists:
    return Exists(
        RoleAssignment.objects.filter(
            user=OuterRef("pk"), revoked_at__isnull=True, role=Role.FEED_SYSTEM
        )
    )


def organisation_ref(organisation: Organisation) -> OrganisationRef:
    return OrganisationRef(id=organisation.pk, authority_id=organisation.authority_id)


def user_target_facts(
    user: User,
    *,
    role_organisation: Organisation | None = None,
    role: str | None = None,
) -> TargetFacts:
    """The policy's view of ``user``: where they work and whether they are a feed.

    Where they work is the organisations of their current roles or, when they
    hold none now, of their past roles (so a user whose roles were all
    removed stays with the administrators who looked after them).
    """
    rows = list(
        RoleAssignment.objects.filter(user=user).values_list(
            "organisation_id",
            "organisation__kind",
            "organisation__parent_authority_id",
            "role",
            "revoked_at",
        )
    )
    current = [row for row in rows if row[4] is None]
    chosen = current or rows
    organisations = frozenset(
        OrganisationRef(
            id=org_id,
            authority_id=org_id if kind == OrganisationKind.LOCAL_AUTHORITY else parent,
        )
        for org_id, kind, parent, _, _ in chosen
    )
    return TargetFacts(
        user_id=user.pk,
        organisations=organisations,
        role_organisation=(
            organisation_ref(role_organisation) if role_organisation else None
        ),
        role=role,
        is_feed_system=any(row[3] == Role.FEED_SYSTEM for row in current),
    )


def organisations_in_scope(*, actor: Actor) -> QuerySet[Organisation]:
    """The organisations ``actor`` administers, by name."""
    scope = _require_workspace(actor)
    return (
        Organisation.objects.filter(_organisation_q(scope))
        .select_related("parent_authority")
        .order_by("name")
    )


def user_list(*, actor: Actor, filters: UserFilters) -> Page[UserRow]:
    """One page (25) of the users ``actor`` administers, filtered.

    Each user carries ``current_roles`` (their current role assignments with
    organisations). "Last signed in before" includes users who never signed
    in. Raises AdminActionRefused for anyone who is not a verified
    administrator.
    """
    scope = _require_workspace(actor)
    users = _visible_users(scope)
    current_in_scope = RoleAssignment.objects.filter(
        user=OuterRef("pk"), revoked_at__isnull=True
    ).filter(_organisation_q(scope, prefix="organisation__"))
    if filters.organisation_id is not None:
        users = users.filter(
            Exists(current_in_scope.filter(organisation_id=filters.organisation_id))
        )
    if filters.role:
        users = users.filter(Exists(current_in_scope.filter(role=filters.role)))
    if filters.status == UserStatus.SUSPENDED:
        users = users.filter(suspended_at__isnull=False)
    elif filters.status == UserStatus.INVITED:
        users = users.filter(
            ~_feed_system_q(), suspended_at__isnull=True, last_login__isnull=True
        )
    elif filters.status == UserStatus.ACTIVE:
        users = users.filter(
            Q(last_login__isnull=False) | _feed_system_q(), suspended_at__isnull=True
        )
    if filters.last_sign_in_before is not None:
        users = users.filter(
            Q(last_login__isnull=True)
            | Q(last_login__lt=_start_of(filters.last_sign_in_before))
        )
    if filters.vetting_expires_before is not None:
        users = users.filter(vetting_expires_on__lt=filters.vetting_expires_before)
    users = users.prefetch_related(_current_roles_prefetch()).order_by(
        "last_name", "first_name", "username"
    )
    paginator = Paginator(users, USERS_PER_PAGE)
    page = paginator.get_page(filters.page)
    rows = []
    for user in page:
        current: list[RoleAssignment] = user.current_roles  # type: ignore[attr-defined]  # Prefetch to_attr
        is_feed = any(a.role == Role.FEED_SYSTEM for a in current)
        rows.append(
            UserRow(
                user=user,
                status=user_status(user, is_feed_system=is_feed),
                current_roles=current,
            )
        )
    return Page(rows, page.number, paginator)  # type: ignore[arg-type]  # rows for the users on this page


def user_detail(*, actor: Actor, user_id: UUID) -> UserDetail:
    """One user ``actor`` administers, with the actions ``actor`` may take.

    A user outside the actor's scope raises AdminActionRefused with
    ``out_of_scope``, exactly as a user who does not exist does, so nobody
    can probe for accounts elsewhere.
    """
    _require_workspace(actor)
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise AdminActionRefused.of_reason("out_of_scope")
    facts = user_target_facts(user)
    view = decide_admin_action(actor, AdminAction.USER_VIEW, facts)
    if not view.allowed:
        raise AdminActionRefused.of(view)
    assignments = list(
        RoleAssignment.objects.filter(user=user)
        .select_related("organisation")
        .order_by("organisation__name", "role", "-granted_at")
    )
    allowed = {
        action
        for action in AdminAction
        if decide_admin_action(actor, action, facts).allowed
    }
    if _may_grant_somewhere(actor, facts):
        allowed.add(AdminAction.ROLE_GRANT)
    current_roles = [
        RoleRow(
            assignment=a,
            can_revoke=decide_admin_action(
                actor,
                AdminAction.ROLE_REVOKE,
                TargetFacts(
                    user_id=user.pk,
                    organisations=facts.organisations,
                    role_organisation=organisation_ref(a.organisation),
                    role=a.role,
                ),
            ).allowed,
        )
        for a in assignments
        if a.revoked_at is None
    ]
    return UserDetail(
        user=user,
        status=user_status(user, is_feed_system=facts.is_feed_system),
        current_roles=current_roles,
        past_roles=[a for a in assignments if a.revoked_at is not None],
        api_tokens=(
            list(ApiToken.objects.filter(user=user)) if facts.is_feed_system else []
        ),
        is_feed_system=facts.is_feed_system,
        allowed=frozenset(allowed),
        is_locked_out=not facts.is_feed_system and account_is_locked(user),
    )


def _may_grant_somewhere(actor: Actor, facts: TargetFacts) -> bool:
    """Could ``actor`` grant this user some role at one of their organisations?"""
    scope = admin_scope(actor)
    role = Role.FEED_SYSTEM if facts.is_feed_system else Role.PRACTITIONER
    return any(
        decide_admin_action(
            actor,
            AdminAction.ROLE_GRANT,
            TargetFacts(
                user_id=facts.user_id,
                organisations=facts.organisations,
                role_organisation=organisation,
                role=role,
                is_feed_system=facts.is_feed_system,
            ),
        ).allowed
        for organisation in facts.organisations
        if scope.covers(organisation)
    )


def invitation_list(*, actor: Actor) -> list[Invitation]:
    """Invitations in scope that nobody has accepted or withdrawn, newest first.

    Expired ones are included (their holders may ask about them) for 30 days.
    """
    scope = _require_workspace(actor)
    since = timezone.now() - timedelta(days=30)
    return list(
        Invitation.objects.filter(
            _organisation_q(scope, prefix="organisation__"),
            accepted_at__isnull=True,
            withdrawn_at__isnull=True,
            expires_at__gte=since,
        )
        .select_related("organisation")
        .order_by("-created_at")
    )


def invitation_get(*, actor: Actor, invitation_id: UUID) -> Invitation:
    """One invitation in ``actor``'s scope; anything else is out of scope."""
    scope = _require_workspace(actor)
    invitation = (
        Invitation.objects.filter(
            _organisation_q(scope, prefix="organisation__"), pk=invitation_id
        )
        .select_related("organisation")
        .first()
    )
    if invitation is None:
        raise AdminActionRefused.of_reason("out_of_scope")
    return invitation


def role_assignment_get(
    *, actor: Actor, user_id: UUID, assignment_id: int
) -> RoleAssignment:
    """One current role of a user in ``actor``'s scope."""
    scope = _require_workspace(actor)
    assignment = (
        RoleAssignment.objects.filter(
            _organisation_q(scope, prefix="organisation__"),
            pk=assignment_id,
            user_id=user_id,
            revoked_at__isnull=True,
        )
        .select_related("organisation", "user")
        .first()
    )
    if assignment is None:
        raise AdminActionRefused.of_reason("out_of_scope")
    return assignment


def api_token_get(*, actor: Actor, user_id: UUID, token_id: UUID) -> ApiToken:
    """One unrevoked API token of a user ``actor`` may see."""
    detail = user_detail(actor=actor, user_id=user_id)
    for token in detail.api_tokens:
        if token.pk == token_id and token.revoked_at is None:
            return token
    raise AdminActionRefused.of_reason("out_of_scope")


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def invitation_for_token(*, token: str, now: datetime | None = None) -> Invitation:
    """The invitation an emailed link points to, if it can still be used.

    Raises InvitationInvalid with a message for the person holding the link:
    malformed and unknown links alike, expired, already used, withdrawn.
    """
    if not INVITATION_TOKEN_PATTERN.fullmatch(token):
        raise _invitation_invalid("invitation_unknown")
    invitation = (
        Invitation.objects.filter(token_hash=invitation_token_hash(token))
        .select_related("organisation")
        .first()
    )
    if invitation is None:
        raise _invitation_invalid("invitation_unknown")
    if invitation.accepted_at is not None:
        raise _invitation_invalid("invitation_used")
    if invitation.withdrawn_at is not None:
        raise _invitation_invalid("invitation_withdrawn")
    if invitation.expires_at <= (now or timezone.now()):
        raise _invitation_invalid("invitation_expired")
    return invitation


def _invitation_invalid(reason_code: str) -> InvitationInvalid:
    return InvitationInvalid(reason_code, INVITATION_MESSAGES[reason_code])


def access_review(*, actor: Actor, today: date) -> AccessReview:
    """What an administrator should look at in their periodic access review.

    Over the users in scope who are not suspended (feed systems aside, which
    never sign in): who has not signed in for 60 days or more (90 or more:
    the nightly job will suspend them), whose vetting has expired or expires
    within 30 days, who lacks vetting, training or a signed user agreement,
    and which roles were granted more than a year ago and need confirming.
    """
    scope = _require_workspace(actor)
    people = list(
        _visible_users(scope)
        .filter(~_feed_system_q(), suspended_at__isnull=True, is_active=True)
        .annotate(last_active=Coalesce("last_login", "date_joined"))
        .order_by("last_name", "first_name", "username")
    )
    review = AccessReview(today=today)
    inactive_since = _start_of(today - timedelta(days=INACTIVE_REVIEW_DAYS - 1))
    vetting_horizon = today + timedelta(days=VETTING_WARNING_DAYS)
    for person in people:
        last_active: datetime = person.last_active
        if last_active < inactive_since:
            days = (today - timezone.localdate(last_active)).days
            review.inactive.append(
                InactiveRow(
                    user=person,
                    last_active=last_active,
                    days=days,
                    will_be_suspended=days >= INACTIVE_SUSPEND_DAYS,
                )
            )
        expires = person.vetting_expires_on
        if expires is not None and expires <= vetting_horizon:
            review.vetting.append(
                VettingRow(user=person, expires_on=expires, expired=expires < today)
            )
        missing = tuple(
            label
            for label, value in (
                ("vetting check", person.vetting_checked_on),
                ("training", person.training_completed_on),
                ("signed user agreement", person.agreement_signed_on),
            )
            if value is None
        )
        if missing:
            review.missing_checks.append(MissingChecksRow(user=person, missing=missing))
    review.inactive.sort(key=lambda row: row.last_active)
    review.vetting.sort(key=lambda row: row.expires_on)
    review.old_roles = list(
        RoleAssignment.objects.filter(
            _organisation_q(scope, prefix="organisation__"),
            revoked_at__isnull=True,
            granted_at__lt=_start_of(today - timedelta(days=ROLE_RECONFIRM_DAYS)),
            user__suspended_at__isnull=True,
        )
        .exclude(role=Role.FEED_SYSTEM)
        .select_related("user", "organisation")
        .order_by("granted_at")
    )
    return review
