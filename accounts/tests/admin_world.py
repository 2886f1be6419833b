"""A small world for the administrator's tests: two authorities, their
schools, an administrator, a practitioner in scope and one outside it."""

from dataclasses import dataclass
from typing import Any, cast

from accounts.actors import Actor, actor_for_user
from accounts.models import Organisation, RoleAssignment, User
from accounts.roles import Role
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory, UserFactory


@dataclass
class World:
    authority: Organisation
    school: Organisation
    other_authority: Organisation
    other_school: Organisation
    admin: User
    actor: Actor
    practitioner: User
    outsider: User


def make_user(**fields: Any) -> User:
    """A saved user (UserFactory), typed as the model it builds."""
    return cast(User, UserFactory(**fields))


def grant(user: User, organisation: Organisation, role: Role) -> RoleAssignment:
    return RoleAssignment.objects.create(
        user=user, organisation=organisation, role=role, reason="Test set-up"
    )


def verified_actor(*grants: tuple[Role, Any]) -> Actor:
    """A new user holding ``grants`` ((role, organisation) pairs), as the
    Actor of a session whose second factor is verified. (Any: organisations
    built inline by factory-boy are typed as their factory.)"""
    user = make_user()
    for role, organisation in grants:
        grant(user, organisation, role)
    return actor_for_user(user, second_factor_verified=True)


def admin_world() -> World:
    authority = cast(Organisation, LocalAuthorityFactory(name="Northshire Council"))
    school = cast(
        Organisation, SchoolFactory(name="Hilltop Primary", parent_authority=authority)
    )
    other_authority = cast(
        Organisation, LocalAuthorityFactory(name="Southshire Council")
    )
    other_school = cast(
        Organisation,
        SchoolFactory(name="Valley Primary", parent_authority=other_authority),
    )
    admin = make_user(username="ada.admin", first_name="Ada", last_name="Admin")
    grant(admin, authority, Role.ADMINISTRATOR)
    practitioner = make_user(username="pat.teacher", first_name="Pat")
    grant(practitioner, school, Role.PRACTITIONER)
    outsider = make_user(username="olly.outside", first_name="Olly")
    grant(outsider, other_school, Role.PRACTITIONER)
    return World(
        authority=authority,
        school=school,
        other_authority=other_authority,
        other_school=other_school,
        admin=admin,
        actor=actor_for_user(admin, second_factor_verified=True),
        practitioner=practitioner,
        outsider=outsider,
    )
