"""The load test's pure helpers (benchmarks/load.py): no server is started."""

import pytest

from benchmarks.load import (
    Sample,
    by_name,
    parse_steps,
    percentile,
    summarise_step,
    totp_now,
)


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 21)]  # 1 .. 20
    assert percentile(values, 0.5) == 10.0
    assert percentile(values, 0.95) == 19.0
    assert percentile(values, 0.99) == 20.0
    assert percentile(values, 1.0) == 20.0
    assert percentile(values, 0.0) == 1.0


def test_percentile_does_not_depend_on_order():
    assert percentile([30.0, 10.0, 20.0], 0.5) == 20.0


def test_percentile_of_nothing_is_zero():
    assert percentile([], 0.95) == 0.0


def test_percentile_refuses_a_share_outside_zero_to_one():
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentile([1.0], 95)


def test_a_step_is_summarised_from_its_samples():
    samples = [
        Sample(at=i, name="search", ms=float(i), failed=i == 3) for i in range(1, 101)
    ]
    step = summarise_step(100, samples, seconds=50.0)
    assert step.users == 100
    assert step.requests == 100
    assert step.errors == 1
    assert step.requests_per_second == 2.0
    assert (step.p50_ms, step.p95_ms, step.p99_ms) == (50.0, 95.0, 99.0)


def test_an_empty_step_has_no_throughput():
    step = summarise_step(25, [], seconds=0.0)
    assert (step.requests, step.errors, step.requests_per_second) == (0, 0, 0.0)


def test_samples_are_grouped_by_request_name():
    samples = [
        Sample(at=0, name="search", ms=10.0, failed=False),
        Sample(at=0, name="search", ms=30.0, failed=False),
        Sample(at=0, name="record", ms=5.0, failed=False),
    ]
    assert by_name(samples) == {"record": (1, 5.0), "search": (2, 30.0)}


def test_steps_are_parsed_in_increasing_order():
    assert parse_steps("25,50,100") == [25, 50, 100]


@pytest.mark.parametrize("text", ["", "50,25", "25,25", "0,10", "ten"])
def test_bad_steps_are_refused_with_a_message(text):
    with pytest.raises(ValueError, match="--steps"):
        parse_steps(text)


def test_totp_code_matches_rfc_6238():
    # RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" at
    # T = 59 s gives 94287082 (8 digits); the service shows the last 6.
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of the RFC's secret
    assert totp_now(secret, at=59) == "287082"
    assert totp_now(secret, at=1111111109) == "081804"


def test_a_process_trees_cpu_counts_its_children():
    """The ingest benchmark's worker CPU: the worker and its pool processes."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from benchmarks import process_tree_cpu_seconds

    busy = (
        "import time\n"
        "end = time.process_time() + 0.3\n"
        "while time.process_time() < end: pass\n"
        "time.sleep(30)"
    )
    spawn = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {busy!r}])"
    parent = subprocess.Popen(  # noqa: S603 - this interpreter
        [sys.executable, "-c", spawn], start_new_session=True
    )
    try:
        deadline = time.monotonic() + 20
        while (
            process_tree_cpu_seconds(parent.pid) < 0.3 and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        # The busy loop ran in the grandchild: only the tree's sum reaches it.
        assert process_tree_cpu_seconds(parent.pid) >= 0.3
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()
    assert process_tree_cpu_seconds(parent.pid) == 0.0  # gone: nothing to read
