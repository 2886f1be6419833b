"""python -m benchmarks: run every benchmark, then rewrite docs/benchmarks.md.

    python -m benchmarks                    # every module in BENCHMARKS
    python -m benchmarks --only seed        # one of them
    python -m benchmarks --report-only      # re-render from var/benchmarks/*.json

Each benchmark runs in its own process (its own Django set-up and database),
and its exit status is reported; the report is rewritten from whatever results
exist, so a failed benchmark keeps its previous figures, marked by their date.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks import REPORT, RESULTS_DIR, ROOT

#: Benchmark modules, in the order they run and appear in the report.
BENCHMARKS = (
    "benchmarks.seed",
    "benchmarks.audit",
    "benchmarks.search",
    "benchmarks.ingest",
    "benchmarks.load",
)
BENCHMARKS_BY_NAME = {module.rsplit(".", 1)[1]: module for module in BENCHMARKS}


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def _bound(target: dict[str, Any]) -> str:
    return "<=" if target.get("at_most") else ">="


def _machine_line(machine: dict[str, Any]) -> str:
    parts = [
        f"{machine.get('cpu')}",
        f"{machine.get('cores')} cores",
        f"{machine.get('memory_gib')} GiB memory",
        f"Python {machine.get('python')}",
        f"PostgreSQL {machine.get('postgresql')}",
    ]
    if machine.get("load_average_at_start") is not None:
        parts.append(f"load average {machine['load_average_at_start']} at start")
    return "; ".join(parts)


def _section(result: dict[str, Any]) -> list[str]:
    target = result["target"]
    figures = {f["key"]: f for f in result["figures"]}
    headline = figures[target["key"]]
    verdict = "PASS" if result["passed"] else "FAIL"
    lines = [
        f"## {result['title']}",
        "",
        f"- Measured: {result['measured_at']} "
        f"by `python -m benchmarks.{result['name']}`",
        f"- Machine: {_machine_line(result['machine'])}",
        f"- Target: {headline['label']} {_bound(target)} {_number(target['minimum'])} "
        f"{target['unit']}: **{verdict}** ({_number(headline['value'])} "
        f"{headline['unit']})",
        "",
        "| Figure | Value | Unit |",
        "| --- | ---: | --- |",
    ]
    lines += [
        f"| {f['label']} | {_number(f['value'])} | {f['unit']} |"
        for f in result["figures"]
    ]
    if result.get("notes"):
        lines += ["", *(f"- {note}" for note in result["notes"])]
    return [*lines, ""]


def render_report(results_dir: Path = RESULTS_DIR, report: Path = REPORT) -> Path:
    """Rewrite ``report`` from every ``<name>.json`` in ``results_dir``."""
    order = {name: i for i, name in enumerate(BENCHMARKS_BY_NAME)}
    results = sorted(
        (json.loads(path.read_text()) for path in results_dir.glob("*.json")),
        key=lambda r: (order.get(r["name"], len(order)), r["name"]),
    )
    lines = [
        "# Benchmarks",
        "",
        "<!-- Written by `python -m benchmarks` (make bench) from "
        "var/benchmarks/*.json: edit benchmarks/, not this file. -->",
        "",
        "Figures from the latest run of each benchmark on the machine named in "
        "its section. Timings are never asserted in tests; they are recorded "
        "here against their targets.",
        "",
        "| Benchmark | Figure | Result | Target | Verdict | Measured |",
        "| --- | --- | ---: | ---: | --- | --- |",
    ]
    for result in results:
        target = result["target"]
        headline = next(f for f in result["figures"] if f["key"] == target["key"])
        lines.append(
            f"| {result['name']} | {headline['label']} | "
            f"{_number(headline['value'])} {headline['unit']} | "
            f"{_bound(target)} {_number(target['minimum'])} {target['unit']} | "
            f"{'PASS' if result['passed'] else 'FAIL'} | "
            f"{result['measured_at'][:10]} |"
        )
    lines.append("")
    for result in results:
        lines += _section(result)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(lines))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS_BY_NAME))
    parser.add_argument("--report-only", action="store_true")
    options = parser.parse_args(argv)
    failed = []
    if not options.report_only:
        for name in options.only or BENCHMARKS_BY_NAME:
            module = BENCHMARKS_BY_NAME[name]
            print(f"== {module}", flush=True)
            run = subprocess.run([sys.executable, "-m", module], cwd=ROOT, check=False)  # noqa: S603
            if run.returncode:
                failed.append(module)
    print(f"Wrote {render_report().relative_to(ROOT)}")
    if failed:
        print(f"Benchmarks that did not finish: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
