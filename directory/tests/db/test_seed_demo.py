"""manage.py seed_demo: demo organisations, users and children; safe to rerun."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Organisation, OrganisationKind, RoleAssignment, User
from directory.demo_data import DEMO_USERS, demo_organisation_specs
from directory.management.commands.seed_demo import DEFAULT_PASSWORD
from directory.models import Child, Involvement

pytestmark = pytest.mark.django_db


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True
    return settings


def _seed(**options):
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def test_seed_demo_creates_organisations_users_and_children(debug_on):
    output = _seed(children=50)

    assert Organisation.objects.count() == len(demo_organisation_specs())
    authorities = Organisation.objects.filter(kind=OrganisationKind.LOCAL_AUTHORITY)
    assert set(authorities.values_list("code", flat=True)) >= {
        "E08000025",
        "E09000022",
        "E06000023",
        "E08000035",
        "E10000003",
    }
    assert not Organisation.objects.filter(
        kind=OrganisationKind.SCHOOL, parent_authority__isnull=True
    ).exists()
    assert set(User.objects.values_list("username", flat=True)) == {
        u.username for u in DEMO_USERS
    }
    assert Child.unaudited.count() == 50
    assert Involvement.unaudited.filter(service_type="gp").exists()
    assert "50 / 50 children" in output
    from ingestion.models import FeedSource

    assert sorted(FeedSource.objects.values_list("format", flat=True)) == [
        "cin",
        "csv",
        "ctf",
        "fhir",
    ]
    _seed(children=0)  # again: nothing is created twice
    assert FeedSource.objects.count() == 4


def test_demo_users_hold_their_role_vetting_and_the_demo_password(debug_on):
    output = _seed(children=0)

    teacher = User.objects.get(username="demo.teacher")
    assert teacher.check_password(DEFAULT_PASSWORD)
    assert teacher.vetting_checked_on is not None
    assert teacher.vetting_expires_on is not None
    assert teacher.vetting_checked_on < teacher.vetting_expires_on
    assert RoleAssignment.objects.filter(user=teacher, role="practitioner").exists()
    for spec in DEMO_USERS:
        assert RoleAssignment.objects.filter(
            user__username=spec.username, role=spec.role, revoked_at__isnull=True
        ).exists()
    feed = User.objects.get(username="demo.feed.health")
    assert not feed.has_usable_password()
    assert "demo.teacher" in output
    assert DEFAULT_PASSWORD in output


def test_running_twice_does_not_duplicate_organisations_or_users(debug_on):
    _seed(children=5)
    counts = (
        Organisation.objects.count(),
        User.objects.count(),
        RoleAssignment.objects.count(),
    )

    output = _seed(children=5)

    assert (
        Organisation.objects.count(),
        User.objects.count(),
        RoleAssignment.objects.count(),
    ) == counts
    assert Child.unaudited.count() == 10
    assert "unchanged" in output


def test_refuses_to_run_when_debug_is_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--allow-production-like"):
        _seed(children=5)

    assert not Organisation.objects.exists()


def test_runs_with_debug_off_when_explicitly_allowed(settings):
    settings.DEBUG = False

    _seed(children=2, allow_production_like=True)

    assert Child.unaudited.count() == 2


def test_never_runs_with_production_settings(debug_on):
    debug_on.SETTINGS_MODULE = "contactpoint.settings.production"

    with pytest.raises(CommandError, match="production settings"):
        _seed(children=5, allow_production_like=True)

    assert not User.objects.exists()
