"""Deciding the review queue: what a data manager may and may not do."""

import random
from typing import cast

import pytest
import time_machine

from accounts.actors import actor_for_user
from accounts.models import Organisation
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from directory.identifiers import make_test_nhs_number
from ingestion.models import Channel, FeedMode, FeedRow, FeedSource, RowState
from ingestion.reviews import Decide, ReviewRefused, feed_row_decide
from ingestion.services import feed_file_receive, feed_run_process

pytestmark = pytest.mark.django_db

NHS = make_test_nhs_number(random.Random(5))
HEADER = "nhs_number,given_names,family_name,date_of_birth,postcode\n"


@pytest.fixture
def world():
    authority = cast(Organisation, LocalAuthorityFactory())
    school = SchoolFactory(parent_authority=authority)
    source = FeedSource.objects.create(
        organisation=school,
        name="Pupils",
        format="csv",
        mode=FeedMode.CHANGES,
        default_service_type="education",
    )
    user = make_user()
    grant(user, authority, Role.DATA_MANAGER)
    return source, actor_for_user(user, second_factor_verified=True)


def _import(source, text):
    receipt = feed_file_receive(
        source=source, data=text.encode(), channel=Channel.UPLOAD, actor=None
    )
    return feed_run_process(receipt.run.pk)


def _waiting(world):
    source, _ = world
    _import(source, HEADER + f"{NHS},Amara,Okafor,2016-04-12,N17 6AA\n")
    # The same NHS number on somebody quite different: a conflict to review.
    run = _import(source, HEADER + f"{NHS},Zed,Quinlan,2012-09-30,B1 1AA\n")
    assert run.waiting == 1
    return FeedRow.objects.get(run=run, state=RowState.WAITING)


def test_a_new_child_is_refused_while_another_holds_the_nhs_number(world):
    row = _waiting(world)
    with pytest.raises(ReviewRefused) as refused:
        feed_row_decide(actor=world[1], row_id=row.pk, decision=Decide.NEW)
    assert refused.value.code == "identifier_held"
    row.refresh_from_db()
    assert row.state == RowState.WAITING


def test_linking_to_a_child_who_is_not_a_candidate_is_refused(world):
    import uuid

    row = _waiting(world)
    with pytest.raises(ReviewRefused):
        feed_row_decide(
            actor=world[1], row_id=row.pk, decision=Decide.LINK, child_id=uuid.uuid4()
        )


def test_a_decision_is_applied_once(world):
    row = _waiting(world)
    feed_row_decide(actor=world[1], row_id=row.pk, decision=Decide.DISMISS)
    with pytest.raises(ReviewRefused) as refused:
        feed_row_decide(actor=world[1], row_id=row.pk, decision=Decide.DISMISS)
    assert refused.value.code == "already_decided"
    row.refresh_from_db()
    assert row.state == RowState.DISMISSED
    assert row.run.waiting == 0


def test_a_new_record_is_refused_for_someone_of_eighteen_or_over(world):
    source, actor = world
    with time_machine.travel("2030-04-11"):
        _import(source, HEADER + f"{NHS},Amara,Okafor,2012-04-12,N17 6AA\n")
        # A conflicting NHS number sends the row to review; by the time a
        # data manager decides, the person it describes has turned 18.
        run = _import(source, HEADER + f"{NHS},Zed,Quinlan,2012-04-12,B1 1AA\n")
        row = FeedRow.objects.get(run=run, state=RowState.WAITING)
    with (
        time_machine.travel("2030-04-12"),
        pytest.raises(ReviewRefused) as refused,
    ):
        feed_row_decide(actor=actor, row_id=row.pk, decision=Decide.NEW)
    assert refused.value.code == "adult_not_held"
    row.refresh_from_db()
    assert row.state == RowState.WAITING


def test_a_decision_moves_the_runs_counters_last_without_locking_the_run(world):
    """A run's slices change children and then move the run's counters; a
    decision taken while the run still imports must take its locks in the
    same order (children, then the run), or the two could deadlock. So it
    never locks the run row up front: its counters move by a relative UPDATE
    after everything else."""
    import uuid

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    row = _waiting(world)
    child_id = uuid.UUID(row.match["candidates"][0]["child_id"])
    with CaptureQueriesContext(connection) as queries:
        feed_row_decide(
            actor=world[1], row_id=row.pk, decision=Decide.LINK, child_id=child_id
        )
    sql = [q["sql"] for q in queries.captured_queries]
    assert not any("FOR UPDATE" in s and '"ingestion_feedrun"' in s for s in sql)
    updates = [
        i for i, s in enumerate(sql) if s.startswith('UPDATE "ingestion_feedrun"')
    ]
    assert len(updates) == 1
    assert not any(s.startswith(("UPDATE", "INSERT")) for s in sql[updates[0] + 1 :])
    run = row.run
    run.refresh_from_db()
    assert (run.waiting, run.unchanged + run.updated) == (0, 1)
