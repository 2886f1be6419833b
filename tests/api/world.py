"""A small world for the API tests: two organisations in two local
authorities, a person or system of each kind, and objects that belong to
organisation A (a record with A's involvement and flag, a shielded record
of authority A, A's feed source and run).

An ``Identity`` is how a caller authenticates: a signed-in session with a
verified second factor (cookies, plus the CSRF header REST framework asks
of sessions), or a feed system's bearer token (a header).
"""

import datetime as dt
import json
import secrets
import time
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, cast
from uuid import UUID

from django.conf import settings
from django.test import Client
from django.utils.crypto import get_random_string

from accounts.actors import actor_for_user
from accounts.middleware import SECOND_FACTOR_AT
from accounts.models import ApiToken, Organisation, User
from accounts.roles import Role
from accounts.services import api_token_hash
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from accounts.tests.second_factors import verified_session_key
from directory.records import NewName
from directory.services.child_records import child_records_create
from directory.services.flags import warning_flag_raise
from directory.services.involvements import involvement_record
from directory.tests.factories import FEED_SOURCE, NewChildFactory
from ingestion.models import FeedRun, FeedSource
from ingestion.tests.factories import FeedRunFactory, FeedSourceFactory

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

STARTED = dt.date(2024, 9, 2)


@dataclass(frozen=True)
class Identity:
    name: str
    user: User
    headers: dict[str, str]
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def sends(self) -> dict[str, dict[str, str]]:
        """Keyword arguments for schemathesis' ``case.call``."""
        return {"headers": self.headers, "cookies": self.cookies}

    def client(self) -> Client:
        """Django's test client, sending what this identity sends."""
        client = Client(headers=self.headers)
        for name, value in self.cookies.items():
            client.cookies[name] = value
        return client


def session_identity(name: str, user: User) -> Identity:
    """``user`` signed in with a password and a second factor just now."""
    csrf = get_random_string(32)
    return Identity(
        name,
        user,
        {"X-CSRFToken": csrf},
        {
            settings.SESSION_COOKIE_NAME: verified_session_key(user),
            settings.CSRF_COOKIE_NAME: csrf,
        },
    )


def token_identity(name: str, user: User) -> Identity:
    """A feed system calling with one of its API tokens."""
    raw = f"{secrets.token_hex(4)}.{secrets.token_urlsafe(32)}"
    ApiToken.objects.create(
        user=user,
        name=f"{name} token",
        prefix=raw[:8],
        token_hash=api_token_hash(raw),
        created_by_id=user.pk,
    )
    return Identity(name, user, {"Authorization": f"Bearer {raw}"})


def person(username: str, organisation: Organisation, role: Role) -> User:
    first_name = username.split(".", maxsplit=1)[0].title()
    user = make_user(username=username, first_name=first_name)
    grant(user, organisation, role)
    return user


@dataclass
class ApiWorld:
    authority_a: Organisation
    school_a: Organisation
    authority_b: Organisation
    school_b: Organisation
    practitioner_a: Identity
    practitioner_b: Identity
    data_manager_a: Identity
    data_manager_b: Identity
    auditor: Identity
    feed_a: Identity
    feed_b: Identity
    #: An ordinary record: any practitioner may open it with a purpose.
    child: UUID
    #: Shielded, responsible authority A.
    shielded_child: UUID
    #: Practitioner A's involvement with ``child`` (school A).
    involvement: UUID
    #: School A's flag on ``child``.
    flag: UUID
    source: FeedSource
    run: FeedRun


def api_world() -> ApiWorld:
    authority_a = cast(Organisation, LocalAuthorityFactory(name="Northshire Council"))
    school_a = cast(
        Organisation,
        SchoolFactory(name="Hilltop Primary", parent_authority=authority_a),
    )
    authority_b = cast(Organisation, LocalAuthorityFactory(name="Southshire Council"))
    school_b = cast(
        Organisation, SchoolFactory(name="Valley Primary", parent_authority=authority_b)
    )
    teacher_a = person("ann.teacher", school_a, Role.PRACTITIONER)
    child, shielded = child_records_create(
        children=[
            NewChildFactory.build(),
            NewChildFactory.build(
                names=(NewName("Ada", "Lovelace"),),
                nhs_number=None,
                shielded=True,
                responsible_authority_id=authority_a.pk,
            ),
        ],
        source=FEED_SOURCE,
    )
    actor_a = actor_for_user(teacher_a, second_factor_verified=True)
    involvement = involvement_record(
        actor=actor_a,
        child_id=child.id,
        service_type="education",
        practitioner_role="Class teacher",
        started_on=STARTED,
        phone="01632 960 001",
        email="ann.teacher@example.org",
        lead_professional=False,
    )
    flag = warning_flag_raise(
        actor=actor_a,
        child_id=child.id,
        kind="early_help_assessment",
        contact_name="Hilltop safeguarding lead",
        contact_phone="01632 960 002",
        starts_on=STARTED,
    )
    source = cast(FeedSource, FeedSourceFactory(organisation=school_a))
    return ApiWorld(
        authority_a=authority_a,
        school_a=school_a,
        authority_b=authority_b,
        school_b=school_b,
        practitioner_a=session_identity("practitioner A", teacher_a),
        practitioner_b=session_identity(
            "practitioner B", person("bob.teacher", school_b, Role.PRACTITIONER)
        ),
        data_manager_a=session_identity(
            "data manager A", person("dee.manager", authority_a, Role.DATA_MANAGER)
        ),
        data_manager_b=session_identity(
            "data manager B", person("dan.manager", authority_b, Role.DATA_MANAGER)
        ),
        auditor=session_identity(
            "auditor", person("aud.itor", authority_a, Role.AUDITOR)
        ),
        feed_a=token_identity(
            "feed system A", person("hilltop.mis", school_a, Role.FEED_SYSTEM)
        ),
        feed_b=token_identity(
            "feed system B", person("valley.mis", school_b, Role.FEED_SYSTEM)
        ),
        child=child.id,
        shielded_child=shielded.id,
        involvement=involvement,
        flag=flag,
        source=source,
        run=cast(FeedRun, FeedRunFactory(source=source)),
    )


def post(identity: Identity, url: str, body: object) -> "_MonkeyPatchedWSGIResponse":
    """POST ``body`` as JSON, as ``identity``."""
    return identity.client().post(
        url, json.dumps(body), content_type="application/json"
    )


def second_factor_given_long_ago(identity: Identity) -> None:
    """Make ``identity``'s session one whose second factor is 10 minutes old."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(
        identity.cookies[settings.SESSION_COOKIE_NAME]
    )
    store[SECOND_FACTOR_AT] = time.time() - 600
    store.save()
