"""Users, the organisations they work for, and the roles they hold there.

Roles are data (one row per user, organisation and role) so that later
capabilities — two-factor sign-in, administration, access review — build on
them without migrating users again.
"""

import uuid
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Now
from django.utils.crypto import salted_hmac

from accounts.roles import ROLE_CHOICES


class OrganisationKind(models.TextChoices):
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    SCHOOL = "school", "School"
    GP_PRACTICE = "gp_practice", "GP practice"
    NHS_TRUST = "nhs_trust", "NHS trust"
    POLICE = "police", "Police force"
    YOUTH_OFFENDING_TEAM = "youth_offending_team", "Youth offending team"
    VOLUNTARY = "voluntary", "Voluntary or community body"


#: What the organisation code means for each kind.
CODE_SCHEMES = {
    OrganisationKind.LOCAL_AUTHORITY: "GSS code",
    OrganisationKind.SCHOOL: "URN",
    OrganisationKind.GP_PRACTICE: "ODS code",
    OrganisationKind.NHS_TRUST: "ODS code",
    OrganisationKind.POLICE: "ODS code",
    OrganisationKind.YOUTH_OFFENDING_TEAM: "local reference",
    OrganisationKind.VOLUNTARY: "charity number",
}


class Organisation(models.Model):
    """A body whose practitioners work with children. Public data: not encrypted."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=OrganisationKind.choices)
    code = models.CharField(
        max_length=20, help_text="GSS code, school URN or ODS code, by kind."
    )
    parent_authority = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="member_organisations",
        limit_choices_to={"kind": OrganisationKind.LOCAL_AUTHORITY},
        help_text="The local authority this organisation sits in, where one applies.",
    )
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "code"], name="organisation_unique_code_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def authority_id(self) -> int | None:
        """The responsible local authority: itself, or its parent."""
        if self.kind == OrganisationKind.LOCAL_AUTHORITY:
            return self.pk
        return self.parent_authority_id


class User(AbstractUser):
    """A person (or, with the feed-system role, an API client) who signs in.

    The primary key is a UUID so the audit log can hold it as a plain value
    that outlives the account.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    phone = models.CharField(max_length=32, blank=True)
    job_title = models.CharField(max_length=100, blank=True)
    vetting_checked_on = models.DateField(
        null=True, blank=True, help_text="Date of the enhanced DBS check."
    )
    vetting_expires_on = models.DateField(null=True, blank=True)
    training_completed_on = models.DateField(null=True, blank=True)
    agreement_signed_on = models.DateField(
        null=True, blank=True, help_text="Date the user agreement was signed."
    )
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_reason = models.CharField(max_length=200, blank=True)
    #: Changed whenever a password or second factor is reset: every session
    #: signed in before then ends (it is part of the session auth hash).
    security_stamp = models.UUIDField(default=uuid.uuid4)

    def get_session_auth_hash(self) -> str:
        """An HMAC of the password hash and the security stamp."""
        return self._session_hash(secret=None)

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for fallback in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=fallback)

    def _session_hash(self, secret: str | bytes | None) -> str:
        return salted_hmac(
            "accounts.User.session_auth_hash",
            f"{self.password}|{self.security_stamp}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class RoleAssignment(models.Model):
    """One role held by one user at one organisation, with who granted it and why."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="role_assignments"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="role_assignments"
    )
    role = models.CharField(max_length=32, choices=ROLE_CHOICES)
    granted_by_id = models.UUIDField(
        null=True, blank=True, help_text="The granting user's id, kept as a value."
    )
    granted_at = models.DateTimeField(db_default=Now(), editable=False)
    reason = models.CharField(max_length=300)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_id = models.UUIDField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["user_id", "organisation_id", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"],
                condition=models.Q(revoked_at__isnull=True),
                name="role_assignment_one_active_per_user_org_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} at {self.organisation_id}"
