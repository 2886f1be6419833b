"""Factories for organisations, users and actors."""

import uuid

import factory

from accounts.actors import Actor, Grant
from accounts.models import Organisation, OrganisationKind, User


class LocalAuthorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("kind", "code")

    name = factory.Sequence(lambda n: f"Test Borough Council {n}")
    kind = OrganisationKind.LOCAL_AUTHORITY
    code = factory.Sequence(lambda n: f"E0900{n:04d}")
    phone = "0121 496 0000"


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Test Primary School {n}")
    kind = OrganisationKind.SCHOOL
    code = factory.Sequence(lambda n: f"{100000 + n}")
    parent_authority = factory.SubFactory(LocalAuthorityFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = "Sam"
    last_name = "Tester"
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


def actor(
    *roles_at: tuple[str, int, int | None],
    verified: bool = True,
    user_id: uuid.UUID | None = None,
) -> Actor:
    """An Actor with grants given as (role, organisation id, authority id)."""
    return Actor(
        user_id=user_id or uuid.uuid4(),
        grants=frozenset(Grant(r, org, auth) for r, org, auth in roles_at),
        second_factor_verified=verified,
        display_name="Test actor",
    )
