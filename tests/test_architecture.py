"""Rules enforced by tools, not reviewers' memory (STYLE.md B3, B8)."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "audit", "alerts", "contactpoint", "directory", "ingestion")
GATE_MODULES = {
    *Path("directory/selectors").glob("*.py"),
    *Path("directory/services").glob("*.py"),
    # What the alerts app reads of the directory: outside selectors/ and
    # services/ because both call the alerts app (the layers contract).
    Path("directory/alerting.py"),
}


def _source_files():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if "tests" in relative.parts or "migrations" in relative.parts:
                continue
            yield relative


def test_unaudited_managers_are_used_only_by_the_gate_and_services():
    offenders = [
        str(path)
        for path in _source_files()
        if re.search(r"\.unaudited\b", (ROOT / path).read_text())
        and path not in GATE_MODULES
    ]
    assert offenders == []


def test_import_contracts_hold():
    result = subprocess.run(  # noqa: S603 - the project's own linter
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
