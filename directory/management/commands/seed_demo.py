"""manage.py seed_demo: demo organisations, users and synthetic children.

For demonstrations and load tests only. It refuses production settings outright
and any settings with DEBUG off unless --allow-production-like is given, since
it creates users who share one published password.
"""

import random
import time
from datetime import date, timedelta
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, RoleAssignment, User
from accounts.roles import Role
from accounts.services import organisation_create, role_grant, user_create
from directory.demo_data import (
    DEMO_USERS,
    DemoOrganisations,
    demo_children,
    demo_organisation_specs,
)
from directory.models import SourceKind
from directory.records import Source
from directory.services.child_records import child_records_create
from ingestion.demo import demo_feed_sources_ensure

#: Published with the code: it protects nothing but demo data.
DEFAULT_PASSWORD = "demo only: tulip kettle harbour"  # noqa: S105
SOURCE = Source(kind=SourceKind.FEED, reference="seed_demo")


def demo_organisations_ensure() -> dict[tuple[str, str], Organisation]:
    """Get or create every demo organisation, keyed by (kind, code)."""
    found: dict[tuple[str, str], Organisation] = {
        (o.kind, o.code): o
        for o in Organisation.objects.filter(
            code__in=[s.code for s in demo_organisation_specs()]
        )
    }
    with transaction.atomic():
        for spec in demo_organisation_specs():
            if spec.key not in found:
                parent = ("local_authority", spec.authority_code or "")
                found[spec.key] = organisation_create(
                    name=spec.name,
                    kind=spec.kind,
                    code=spec.code,
                    phone=spec.phone,
                    email=spec.email,
                    parent_authority=found.get(parent),
                )
    return found


def demo_users_ensure(
    organisations: dict[tuple[str, str], Organisation], password: str, today: date
) -> list[tuple[User, str, Organisation, bool]]:
    """Get or create the demo users and their roles: (user, role, where, created)."""
    rows = []
    vetted = today - timedelta(days=200)
    for spec in DEMO_USERS:
        organisation = organisations[spec.organisation]
        user = User.objects.filter(username=spec.username).first()
        created = user is None
        if user is None:
            user = user_create(
                username=spec.username,
                email=f"{spec.username}@example.org",
                password=password if spec.can_sign_in else None,
                first_name=spec.first_name,
                last_name=spec.last_name,
                job_title=spec.job_title,
                phone=organisation.phone,
                vetting_checked_on=vetted,
                vetting_expires_on=vetted + timedelta(days=3 * 365),
                training_completed_on=vetted + timedelta(days=20),
                agreement_signed_on=vetted + timedelta(days=20),
            )
        role = Role(spec.role)
        if not RoleAssignment.objects.filter(
            user=user, organisation=organisation, role=role, revoked_at__isnull=True
        ).exists():
            role_grant(
                user=user,
                organisation=organisation,
                role=role,
                reason="Demo user created by manage.py seed_demo",
            )
        rows.append((user, role.label, organisation, created))
    return rows


class Command(BaseCommand):
    help = (
        "Create demo organisations and users (once) and add N synthetic children "
        "through child_records_create, in batches. Every run adds children: give "
        "another --seed for different ones. Never for production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--children", type=int, required=True)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--password", default=DEFAULT_PASSWORD)
        parser.add_argument(
            "--allow-production-like",
            action="store_true",
            help="Run although DEBUG is off (a staging or load-test copy).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self._refuse_unsafe_settings(options["allow_production_like"])
        if options["children"] < 0 or options["batch_size"] < 1:
            raise CommandError("--children must be 0 or more, --batch-size 1 or more.")
        if len(options["password"]) < 16:
            raise CommandError("--password must be at least 16 characters.")
        today = timezone.localdate()
        organisations = demo_organisations_ensure()
        self.stdout.write(f"{len(organisations)} demo organisations ready.")
        users = demo_users_ensure(organisations, options["password"], today)
        feeds = demo_feed_sources_ensure(organisations)
        self.stdout.write(f"{len(feeds)} demo feed sources ready.")
        orgs = DemoOrganisations.from_ids({k: o.pk for k, o in organisations.items()})
        self._seed_children(orgs, today, **options)
        self._print_sign_ins(users, options["password"])

    def _refuse_unsafe_settings(self, allow_production_like: bool) -> None:
        module = str(getattr(settings, "SETTINGS_MODULE", "") or "")
        if "production" in module.split("."):
            raise CommandError(
                f"seed_demo never runs with production settings ({module}): it "
                "creates users who share a published password."
            )
        if not settings.DEBUG and not allow_production_like:
            raise CommandError(
                "DEBUG is off, so these settings look like production. seed_demo "
                "creates users who share a published password and thousands of "
                "synthetic children. If this is a demo, test or load-test copy, "
                "run it again with --allow-production-like."
            )

    def _seed_children(
        self, orgs: DemoOrganisations, today: date, **options: Any
    ) -> None:
        total, size = options["children"], options["batch_size"]
        stream = demo_children(random.Random(options["seed"]), total, orgs, today)
        done, started = 0, time.perf_counter()
        # One batch in memory at a time, so a million children fit as well as ten.
        while batch := list(islice(stream, size)):
            child_records_create(children=batch, source=SOURCE, today=today)
            done += len(batch)
            rate = done / max(time.perf_counter() - started, 1e-9)
            self.stdout.write(f"{done:,} / {total:,} children ({rate:,.0f} children/s)")
        if total:
            self.stdout.write(self.style.SUCCESS(f"Added {done:,} children."))

    def _print_sign_ins(
        self, users: list[tuple[User, str, Organisation, bool]], password: str
    ) -> None:
        self.stdout.write("\nDemo sign-ins:")
        self.stdout.write(
            f"{'Username':<20} {'Role':<18} {'Organisation':<46} Password"
        )
        for user, role, organisation, created in users:
            shown = password if created else "(unchanged: the user already existed)"
            if not user.has_usable_password():
                shown = "(none: a feed's API client)"
            name = organisation.name[:46]
            self.stdout.write(f"{user.username:<20} {role:<18} {name:<46} {shown}")
