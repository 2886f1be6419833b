"""Telling the responsible authority at once when a restricted record is opened
in an emergency ("break glass").

The e-mail names no child: it carries the directory number, a link to the
record (which only the authority's shielding officers and data managers can
open without breaking glass themselves), who opened it and when. Celery runs
it (directory/tasks.py) with ids only, so no personal data sits in Redis.
"""

import logging
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation, RoleAssignment, User
from accounts.roles import Role
from directory.identifiers import format_directory_number
from directory.models import Child

logger = logging.getLogger(__name__)

#: Who hears of a break-glass opening: the responsible authority's shielding
#: officers (who act on it) and its auditors (ARCHITECTURE §7).
NOTIFIED_ROLES = (Role.SHIELDING_OFFICER, Role.AUDITOR)


def _recipients(authority: Organisation) -> list[str]:
    emails = (
        RoleAssignment.objects.filter(
            Q(organisation=authority) | Q(organisation__parent_authority=authority),
            role__in=[role.value for role in NOTIFIED_ROLES],
            revoked_at__isnull=True,
            organisation__is_active=True,
            user__is_active=True,
            user__suspended_at__isnull=True,
        )
        .values_list("user__email", flat=True)
        .distinct()
    )
    found = sorted({email for email in emails if email})
    if not found and authority.email:
        found = [authority.email]
    return found


def break_glass_notification_send(
    *, child_id: UUID, actor_user_id: UUID, opened_at: datetime | None = None
) -> int:
    """E-mail the responsible authority's shielding officers and auditors that
    ``actor_user_id`` broke glass to open child ``child_id``'s record.

    Returns how many e-mails were sent (one per person, so no one sees the
    others' addresses). A child with no responsible authority, or an
    authority with nobody to tell, is logged (ids only) and sends nothing.
    """
    child = (
        Child.unaudited.filter(pk=child_id)
        .select_related("responsible_authority")
        .only("id", "directory_number", "responsible_authority")
        .first()
    )
    if child is None or child.responsible_authority is None:
        logger.warning("Break glass on %s: no responsible authority to tell", child_id)
        return 0
    recipients = _recipients(child.responsible_authority)
    if not recipients:
        logger.warning(
            "Break glass on %s: nobody at authority %s to tell",
            child_id,
            child.responsible_authority_id,
        )
        return 0
    opener = User.objects.filter(pk=actor_user_id).first()
    body = render_to_string(
        "directory/email/break_glass.txt",
        {
            "service_name": settings.SERVICE_NAME,
            "directory_number": format_directory_number(child.directory_number),
            "link": settings.SITE_URL + reverse("directory:record", args=[child.id]),
            "opener": str(opener) if opener else "An unknown user",
            "opener_email": opener.email if opener else "",
            "opened_at": timezone.localtime(opened_at or timezone.now()),
            "authority": child.responsible_authority.name,
        },
    )
    subject = (
        f"Restricted record {format_directory_number(child.directory_number)} "
        "opened in an emergency"
    )
    return send_mass_mail(
        [(subject, body, None, [recipient]) for recipient in recipients]
    )
