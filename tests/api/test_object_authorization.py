"""No caller reaches another organisation's objects by their ids (IDOR).

For every operation whose path names an object that belongs to an
organisation, the same schemathesis case (the operation from the live
schema, a valid body) is sent first by a caller of the same kind at
organisation B, then by the owner at organisation A: B gets 404, exactly
as for an id that does not exist, and A gets the object.
test_schemathesis.py replays generated cases the same way.
"""

from dataclasses import dataclass

import pytest
from django.utils import timezone

from audit.models import AccessEvent
from ingestion.tests.factories import csv_feed, csv_row
from tests.api.world import ApiWorld, Identity

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Probe:
    method: str
    path: str
    owner: str
    peers: tuple[str, ...]
    owner_gets: int


PROBES = [
    Probe(
        "POST",
        "/api/v1/children/{child_id}/involvements/{involvement_id}/end/",
        "practitioner_a",
        ("practitioner_b",),
        200,
    ),
    Probe(
        "POST",
        "/api/v1/children/{child_id}/flags/{flag_id}/end/",
        "practitioner_a",
        ("practitioner_b", "data_manager_b"),
        200,
    ),
    Probe(
        "POST",
        "/api/v1/children/{child_id}/open/",
        "data_manager_a",
        ("data_manager_b", "practitioner_b", "practitioner_a"),
        200,
    ),
    Probe("GET", "/api/v1/feeds/runs/{run_id}/", "feed_a", ("feed_b",), 200),
    Probe(
        "POST", "/api/v1/feeds/sources/{source_id}/files/", "feed_a", ("feed_b",), 202
    ),
]


def _case(api_schema, world: ApiWorld, probe: Probe):
    operation = api_schema[probe.path][probe.method]
    today = str(timezone.localdate())
    ids = {
        "child_id": str(world.child),
        "involvement_id": str(world.involvement),
        "flag_id": str(world.flag),
        "run_id": str(world.run.pk),
        "source_id": world.source.pk,
    }
    if probe.path.endswith("/open/"):
        ids["child_id"] = str(world.shielded_child)
    names = {p.name for p in operation.path_parameters}
    path_parameters = {name: value for name, value in ids.items() if name in names}
    if probe.path.endswith("/end/"):
        return operation.Case(path_parameters=path_parameters, body={"ended_on": today})
    if probe.path.endswith("/open/"):
        return operation.Case(
            path_parameters=path_parameters, body={"purpose": "data_management"}
        )
    if probe.path.endswith("/files/"):
        upload = csv_feed(csv_row(given="Amara", family="Mensah", born="2015-06-01"))
        return operation.Case(
            path_parameters=path_parameters,
            body={"file": upload},
            media_type="multipart/form-data",
        )
    return operation.Case(path_parameters=path_parameters)


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: f"{p.method} {p.path}")
def test_another_organisations_object_looks_missing(api_schema, world, probe):
    case = _case(api_schema, world, probe)
    peers: list[Identity] = [getattr(world, name) for name in probe.peers]
    owner: Identity = getattr(world, probe.owner)

    before = AccessEvent.objects.order_by("-seq").values_list("seq", flat=True)[0]

    answers = {peer.name: case.call(**peer.sends).status_code for peer in peers}
    owned = case.call(**owner.sends)

    assert answers == dict.fromkeys(answers, 404)
    assert owned.status_code == probe.owner_gets, owned.text
    granted_to_peers = AccessEvent.objects.filter(
        seq__gt=before, actor_id__in=[peer.user.pk for peer in peers], outcome="allowed"
    )
    assert not granted_to_peers.exists()
