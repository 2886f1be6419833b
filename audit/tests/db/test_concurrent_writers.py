"""Two writers at once never share or skip a sequence number."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from audit.models import AccessAction, AccessEvent
from audit.services import access_event_record
from audit.verification import audit_verify

PER_WRITER = 40


def write_many(writer: int) -> None:
    try:
        for number in range(PER_WRITER):
            access_event_record(
                actor=None,
                action=AccessAction.SIGN_IN_FAILED,
                allowed=False,
                reason="bad_password",
                detail=f"writer {writer} event {number}",
            )
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_the_chain_gap_free_and_valid():
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(write_many, [1, 2]))

    seqs = list(AccessEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 2 * PER_WRITER + 1))
    verifier, problems = audit_verify()
    assert problems == []
    assert verifier.events_checked == 2 * PER_WRITER
