"""pip-audit --strict over requirements/lock.txt, when it can run (make lint).

pip-audit asks PyPI's JSON API for each locked version's known
vulnerabilities. First one short request asks the same API about the locked
Django: when it does not answer within a few seconds (no network, or a
registry mirror that does not serve that API), the audit is skipped with a
notice rather than failing every lint run on a machine that cannot check.
"""

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
TIMEOUT_SECONDS = 5


def _probe_url() -> str:
    version = re.search(r"^django==(\S+)", LOCK.read_text(), re.MULTILINE)
    if version is None:
        raise SystemExit(f"{LOCK} pins no django version to probe with.")
    return f"https://pypi.org/pypi/django/{version.group(1)}/json"


def _service_answers(url: str) -> str | None:
    """None when the API answers as pip-audit needs, else why not."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310  # a fixed https URL
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            body = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return str(exc)
    if "vulnerabilities" not in body:
        return "the answer holds no vulnerability data"
    return None


def main() -> int:
    url = _probe_url()
    problem = _service_answers(url)
    if problem is not None:
        sys.stdout.write(
            "pip-audit: SKIPPED. The vulnerability service did not answer "
            f"({url}: {problem}), so {LOCK.relative_to(ROOT)} was not checked "
            "for known vulnerabilities on this machine.\n"
        )
        return 0
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--strict",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--requirement",
        str(LOCK),
    ]
    return subprocess.run(command, cwd=ROOT, check=False).returncode  # noqa: S603


if __name__ == "__main__":
    sys.exit(main())
