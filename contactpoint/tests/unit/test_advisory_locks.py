"""Advisory-lock keys: stable, 64-bit, and distinct per name and part."""

import uuid

from contactpoint.advisory_locks import lock_key


def test_a_key_is_stable_and_fits_a_signed_bigint():
    run = uuid.UUID("6f1c2b9e-0000-4000-8000-000000000001")
    assert lock_key("feed-run", run) == lock_key("feed-run", str(run))
    assert -(2**63) <= lock_key("feed-run", run) < 2**63


def test_keys_differ_by_namespace_and_part():
    run = uuid.uuid4()
    keys = {
        lock_key("feed-run", run),
        lock_key("lifecycle-run", run),
        lock_key("feed-run", run, "slice", 0),
        lock_key("feed-run", run, "slice", 1),
        lock_key("feed-run", run, "creations"),
        lock_key("feed-run", f"{run}slice", 0),  # joined with a separator
    }
    assert len(keys) == 6
