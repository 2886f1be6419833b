"""Benchmarks: timings live here, never in tests (ARCHITECTURE.md §10).

Each benchmark is a module run as ``python -m benchmarks.<name>``. It measures
one thing and writes ``var/benchmarks/<name>.json`` with ``write_result``:

    {
      "name": "seed",
      "title": "...",
      "measured_at": "2026-11-22T05:40:00+00:00",       # UTC, ISO 8601
      "machine": {"cpu": ..., "cores": 2, "memory_gib": 23.4,
                  "python": "3.11.7", "postgresql": "15.20"},
      "figures": [{"key": ..., "label": ..., "value": 2345.6, "unit": ...}, ...],
      "target": {"key": <a figure's key>, "minimum": 2000, "unit": ...},
      "passed": true,
      "notes": ["...", ...]
    }

``python -m benchmarks`` (``make bench``) runs every module in
``benchmarks.__main__.BENCHMARKS`` and rewrites docs/benchmarks.md from all the
JSON files present, so a report always shows the latest run of each.
"""

import json
import os
import platform
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "var" / "benchmarks"
REPORT = ROOT / "docs" / "benchmarks.md"
#: The embedded Redis a benchmark starts when REDIS_URL is unset.
BENCH_REDIS_DIR = ROOT / "var" / "bench-redis"


def process_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user and system) process ``pid`` has used so far, read
    from /proc (Linux); None when it cannot be read (gone, or not here)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1]
    except OSError:
        return None
    fields = stat.split()
    # utime and stime are fields 14 and 15 of stat(5), in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    """The live children of process ``pid`` (none when it is gone)."""
    try:
        return [
            int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except OSError:
        return []


def process_tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` and its live descendants."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        used = process_cpu_seconds(current)
        if used is None:
            continue  # it ended meanwhile
        total += used
        pending.extend(child_pids(current))
    return total


def bench_redis_url() -> str:
    """REDIS_URL, else the embedded Redis under var/bench-redis (started or
    reused; ``bench_redis_release`` stops it)."""
    url = os.environ.get("REDIS_URL")
    if url:
        return url
    from contactpoint import embedded  # noqa: PLC0415 - only without REDIS_URL

    return embedded.ensure_redis(BENCH_REDIS_DIR)[0]


def bench_redis_release() -> None:
    """Stop the embedded Redis if this process started it (REDIS_URL unset)."""
    if os.environ.get("REDIS_URL"):
        return
    from contactpoint import embedded  # noqa: PLC0415 - only without REDIS_URL

    embedded.stop_redis(BENCH_REDIS_DIR)


@dataclass(frozen=True, slots=True)
class Figure:
    key: str
    label: str
    value: float
    unit: str


@dataclass(frozen=True, slots=True)
class Target:
    """The figure that decides pass or fail, and its bound: at least
    ``minimum``, or, when ``at_most`` is set, at most ``minimum``."""

    key: str
    minimum: float
    unit: str
    at_most: bool = False


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "unknown"
    models = [
        line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")
    ]
    return models[0] if models else platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def machine_facts(postgresql_version: str | None = None) -> dict[str, Any]:
    """What a figure depends on: CPU, cores, memory, Python and PostgreSQL."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "python": platform.python_version(),
        "postgresql": postgresql_version,
        "load_average_at_start": round(load, 2) if load is not None else None,
    }


def write_result(
    name: str,
    *,
    title: str,
    figures: list[Figure],
    target: Target,
    machine: dict[str, Any],
    notes: list[str] | None = None,
) -> Path:
    """Write ``var/benchmarks/<name>.json``; returns its path."""
    values = {figure.key: figure.value for figure in figures}
    result = {
        "name": name,
        "title": title,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "figures": [asdict(figure) for figure in figures],
        "target": asdict(target),
        "passed": (
            values[target.key] <= target.minimum
            if target.at_most
            else values[target.key] >= target.minimum
        ),
        "notes": notes or [],
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return path
