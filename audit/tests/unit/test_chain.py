"""The hash chain and checkpoint rules, without a database."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from audit.chain import (
    EVENT_FIELDS,
    GENESIS_HASH,
    ChainVerifier,
    Checkpoint,
    canonical_json,
    checkpoint_sign,
    entry_hash,
    event_document,
    key_id,
    signing_key_load,
)
from contactpoint.settings.published_test_keys import TEST_AUDIT_SIGNING_KEY

KEY = signing_key_load(TEST_AUDIT_SIGNING_KEY)
KEYS = {key_id(KEY.public_key()): KEY.public_key()}
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def chain(n):
    events, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        values = dict.fromkeys(EVENT_FIELDS)
        values.update(
            id=uuid.UUID(int=seq),
            seq=seq,
            occurred_at=T0 + timedelta(seconds=seq),
            actor_role="practitioner",
            action="view",
            outcome="allowed",
            reason="purpose_given",
            detail="",
            purpose="",
            break_glass=False,
            shielded_record=False,
            request_id="",
            purpose_detail=b"\x00sealed",
            prev_hash=prev,
        )
        values["entry_hash"] = prev = entry_hash(values)
        events.append(values)
    return events


def verify(events, checkpoints=()):
    verifier = ChainVerifier(public_keys=KEYS, checkpoints=checkpoints)
    for values in events:
        verifier.add(values)
    return verifier.finish()


def test_canonical_json_sorts_keys_without_whitespace_and_keeps_unicode():
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()


def test_event_document_encodes_each_type_as_documented():
    values = chain(1)[0]
    document = event_document(values)
    assert "occurred_at" not in document
    assert "seq" not in document
    assert document["id"] == "00000000-0000-0000-0000-000000000001"
    assert document["purpose_detail"] == "AHNlYWxlZA=="
    assert document["actor_id"] is None
    assert "entry_hash" not in document


def test_entry_hash_covers_prev_hash_seq_time_and_body_as_documented():
    import hashlib

    values = chain(1)[0]
    text = (
        f"{GENESIS_HASH}\n1\n2026-11-30T09:00:01.000000Z\n"
        + canonical_json(event_document(values)).decode()
    )
    assert entry_hash(values) == hashlib.sha256(text.encode()).hexdigest()


def test_naive_times_are_refused():
    values = chain(1)[0] | {"occurred_at": datetime(2026, 1, 1)}  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        entry_hash(values)


def test_intact_chain_has_no_problems():
    assert verify(chain(5)) == []


def test_changed_event_is_named():
    events = chain(5)
    events[2] = events[2] | {"reason": "changed"}
    problems = verify(events)
    assert problems[0].seq == 3
    assert "changed after it was written" in problems[0].message


def test_removed_event_is_named_as_missing():
    events = chain(5)
    del events[1]
    problems = verify(events)
    assert problems[0].seq == 2
    assert "Sequence number 2 is missing" in problems[0].message


def test_reordered_events_break_at_the_first_moved_one():
    events = chain(5)
    events[1], events[2] = events[2] | {"seq": 2}, events[1] | {"seq": 3}
    assert verify(events)[0].seq == 2


def test_valid_checkpoint_passes_and_rewritten_history_fails_it():
    events = chain(5)
    checkpoint = checkpoint_sign(
        KEY, seq=4, entry_hash=events[3]["entry_hash"], created_at=T0
    )
    assert verify(events, [checkpoint]) == []

    # A superuser rewrites event 2 and recomputes every hash after it: the
    # chain is consistent again, but the signed checkpoint is not.
    rewritten = chain(5)
    rewritten[1]["detail"] = "rewritten"
    prev = rewritten[0]["entry_hash"]
    for values in rewritten[1:]:
        values["prev_hash"] = prev
        values["entry_hash"] = prev = entry_hash(values)
    problems = verify(rewritten, [checkpoint])
    assert [p.seq for p in problems] == [4]
    assert "differs from the signed checkpoint" in problems[0].message


def test_events_removed_from_the_end_are_caught_by_a_checkpoint():
    events = chain(5)
    checkpoint = checkpoint_sign(
        KEY, seq=5, entry_hash=events[4]["entry_hash"], created_at=T0
    )
    problems = verify(events[:3], [checkpoint])
    assert problems[0].seq == 4
    assert "log ends at 3" in problems[0].message


def test_forged_checkpoint_signature_is_reported():
    events = chain(3)
    genuine = checkpoint_sign(
        KEY, seq=3, entry_hash=events[2]["entry_hash"], created_at=T0
    )
    forged = replace(genuine, entry_hash="f" * 64)
    problems = verify(events, [forged])
    assert "does not verify" in problems[0].message


def test_checkpoint_survives_a_file_round_trip():
    checkpoint = checkpoint_sign(KEY, seq=7, entry_hash="a" * 64, created_at=T0)
    assert Checkpoint.from_line(checkpoint.as_line()) == checkpoint


@pytest.mark.parametrize("seed", ["not base64!", "c2hvcnQ="])
def test_bad_signing_keys_are_refused_with_a_reason(seed):
    with pytest.raises(ValueError, match="audit signing key"):
        signing_key_load(seed)
