"""schemathesis against the API's own OpenAPI description, in-process.

For each operation (one test each, valid and invalid input), the schema is
read the way an integrating system reads it (GET /api/schema/ with a
token) and the operation is called through the project's WSGI application
with generated input, as the identity the operation is for. Every response
must be no server error, and have a status code, content type and body the
schema declares.

Object-level authorisation: where a path names objects of organisation A
(A's involvement or flag, A's feed source or run), the generated path
sometimes carries those real ids, and every such request is replayed as
the same kind of caller from organisation B, who must get 404 (or a 400 for
a body no one could send) and never the object.

schemathesis' pytest plugin (``schema.parametrize``) reads a node attribute
pytest 9.2 no longer has, so the cases come from schemathesis' Hypothesis
strategies (``operation.as_strategy``) under ``@given``: the same
generation, checks and reports. Without the strings schemathesis borrows
from the schema (``NO_FEEDBACK``): a search seals its terms as a child's
name, and words like "status" would then be found in other tests' logs by
the log scan.
"""

import logging
from dataclasses import dataclass

import pytest
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.feedback import NO_FEEDBACK

from tests.api.world import ApiWorld, Identity

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Examples per operation and mode: enough to find the shapes that break,
#: few enough for the whole file to run in well under a minute.
EXAMPLES = 15

#: Whether a case's path names the world's objects (three times in four)
#: rather than generated ids, which are nobody's.
SEEDED = st.sampled_from([True, True, True, False])
#: Path parameters naming objects that belong to one organisation.
OWNED = frozenset({"involvement_id", "flag_id", "source_id", "run_id"})


def _operations() -> list[tuple[str, str, GenerationMode]]:
    """Every (METHOD, path) the API describes (read at collection, no DB),
    with valid input and, when it takes any input, invalid input."""
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return [
        (method.upper(), path, mode)
        for path, methods in paths.items()
        for method, operation in methods.items()
        if method in {"get", "post", "put", "patch", "delete"}
        for mode in GenerationMode
        if mode.is_positive or "parameters" in operation or "requestBody" in operation
    ]


OPERATIONS = _operations()


@dataclass(frozen=True)
class Callers:
    owner: Identity
    #: The same kind of caller at organisation B (None: nothing to replay).
    peer: Identity | None


def callers_for(path: str, world: ApiWorld) -> Callers:
    if path.startswith("/api/v1/feeds/"):
        return Callers(world.feed_a, world.feed_b)
    if path.startswith("/api/v1/audit/"):
        return Callers(world.auditor, None)
    return Callers(world.practitioner_a, world.practitioner_b)


def seeded_ids(world: ApiWorld) -> dict[str, object]:
    return {
        "child_id": str(world.child),
        "involvement_id": str(world.involvement),
        "flag_id": str(world.flag),
        "source_id": world.source.pk,
        "run_id": str(world.run.pk),
    }


def object_level_authorization(peer: Identity, mode: GenerationMode):
    """A check: replay a case naming owned objects as ``peer``.

    The peer must never get the object. With input the schema allows
    (positive cases) the peer must get 404 whatever the owner got: a 400
    would mean the peer's request reached the object (its dates, its
    state). Input the schema forbids may be refused as 400 before any
    object is looked at.
    """

    def check(ctx, response, case) -> None:
        if not OWNED & set(case.path_parameters or {}):
            return
        replay = case.call(**peer.sends)
        seen = f"{replay.status_code} {replay.text[:300]}"
        assert not 200 <= replay.status_code < 300, (
            f"{peer.name} got {case.method} {case.formatted_path}: {seen}"
        )
        expected = {404} if mode.is_positive else {400, 404}
        assert replay.status_code in expected, (
            f"{peer.name} should find nothing at {case.formatted_path}: {seen}"
        )

    check.__name__ = "object_level_authorization"
    return check


@pytest.fixture(autouse=True)
def no_client_error_warnings():
    """Django logs every 4xx with its path. Generated text is sealed as a
    child's details when one operation sends it (search terms) and sent as
    a path segment by another (an invalid id); the log scan
    (contactpoint/tests/log_scan.py) cannot tell the two apart, so these
    warnings are off here. Server errors are still logged, and fail the
    not_a_server_error check anyway."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.mark.parametrize(
    ("method", "path", "mode"),
    OPERATIONS,
    ids=[f"{method} {path} {mode}" for method, path, mode in OPERATIONS],
)
def test_operation_keeps_to_its_schema(api_schema, world, method, path, mode):
    operation = api_schema[path][method]
    callers = callers_for(path, world)
    extra = [object_level_authorization(callers.peer, mode)] if callers.peer else []
    known = seeded_ids(world)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode, feedback=NO_FEEDBACK),
        data=st.data(),
    )
    def call_and_check(case, data):
        if case.path_parameters and data.draw(SEEDED, label="seeded ids"):
            case.path_parameters = {
                name: known.get(name, value)
                for name, value in case.path_parameters.items()
            }
        response = case.call(**callers.owner.sends)
        case.validate_response(response, checks=CHECKS, additional_checks=extra)

    call_and_check()
