"""A small world for the alert tests, and helpers that play the worker.

Northshire Council owns a child-protection flag on Victoria's record; its
contact is Sam Social (who has an account). Lee Lead at Hilltop Primary is
her lead professional. Val Viewer at Valley Primary (another authority's
school) is the practitioner from outside who opens the record.
"""

import datetime as dt
from dataclasses import dataclass
from typing import cast
from uuid import UUID

from accounts.actors import Actor, actor_for_user
from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from alerts.models import AlertEvent
from alerts.tasks import alert_event_task
from directory.records import NewInvolvement, NewWarningFlag
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory

FLAG_STARTED = dt.date(2025, 1, 6)


@dataclass
class AlertWorld:
    authority: Organisation
    school: Organisation
    other_authority: Organisation
    other_school: Organisation
    social_worker: User
    colleague: User
    lead: User
    viewer: User
    officer: User
    auditor: User
    far_auditor: User


def alert_world() -> AlertWorld:
    authority = cast(
        Organisation,
        LocalAuthorityFactory(
            name="Northshire Council", email="shielding@northshire.example.org"
        ),
    )
    school = cast(
        Organisation, SchoolFactory(name="Hilltop Primary", parent_authority=authority)
    )
    other_authority = cast(
        Organisation, LocalAuthorityFactory(name="Southshire Council")
    )
    other_school = cast(
        Organisation,
        SchoolFactory(
            name="Valley Primary", parent_authority=other_authority, phone=""
        ),
    )
    social_worker = make_user(
        username="sam.social",
        email="Sam.Social@northshire.example.org",
        first_name="Sam",
        last_name="Social",
    )
    grant(social_worker, authority, Role.PRACTITIONER)
    colleague = make_user(username="cat.colleague", first_name="Cat", last_name="Lee")
    grant(colleague, authority, Role.PRACTITIONER)
    lead = make_user(
        username="lee.lead",
        email="lee.lead@hilltop.example.org",
        first_name="Lee",
        last_name="Lead",
    )
    grant(lead, school, Role.PRACTITIONER)
    viewer = make_user(
        username="val.viewer",
        email="val.viewer@valley.example.org",
        first_name="Val",
        last_name="Viewer",
        phone="01632 960001",
    )
    grant(viewer, other_school, Role.PRACTITIONER)
    officer = make_user(username="olu.officer", email="olu@northshire.example.org")
    grant(officer, authority, Role.SHIELDING_OFFICER)
    auditor = make_user(username="ana.audit", email="ana@northshire.example.org")
    grant(auditor, authority, Role.AUDITOR)
    far_auditor = make_user(username="far.audit", email="far@southshire.example.org")
    grant(far_auditor, other_authority, Role.AUDITOR)
    return AlertWorld(
        authority=authority,
        school=school,
        other_authority=other_authority,
        other_school=other_school,
        social_worker=social_worker,
        colleague=colleague,
        lead=lead,
        viewer=viewer,
        officer=officer,
        auditor=auditor,
        far_auditor=far_auditor,
    )


def flag(
    world: AlertWorld,
    *,
    email: str = "sam.social@northshire.example.org",
    starts_on: dt.date = FLAG_STARTED,
    ends_on: dt.date | None = None,
    owner: Organisation | None = None,
) -> NewWarningFlag:
    return NewWarningFlag(
        kind="child_protection_plan",
        owning_organisation_id=(owner or world.authority).pk,
        contact_name="Sam Social",
        contact_phone="01632 960123",
        contact_email=email,
        starts_on=starts_on,
        ends_on=ends_on,
    )


def lead_involvement(world: AlertWorld) -> NewInvolvement:
    return NewInvolvement(
        organisation_id=world.school.pk,
        service_type="education",
        started_on=dt.date(2024, 9, 1),
        practitioner_id=world.lead.pk,
        practitioner_name="Lee Lead",
        practitioner_role="Designated safeguarding lead",
        phone="01632 960777",
        is_lead_professional=True,
    )


def child(
    *,
    flags: tuple[NewWarningFlag, ...] = (),
    involvements: tuple[NewInvolvement, ...] = (),
    **kwargs: object,
) -> UUID:
    return child_records_create(
        children=[
            NewChildFactory.build(
                warning_flags=flags, involvements=involvements, **kwargs
            )
        ],
        source=FEED_SOURCE,
    )[0].id


def verified(user: User) -> Actor:
    return actor_for_user(user, second_factor_verified=True)


def run_alert_tasks() -> int:
    """Do what the worker does for every event still waiting; e-mails sent."""
    return sum(
        alert_event_task(str(event_id))
        for event_id in AlertEvent.objects.filter(processed_at__isnull=True)
        .order_by("occurred_at")
        .values_list("id", flat=True)
    )
