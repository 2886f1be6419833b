"""Browser tests: Playwright drives Debian's Chromium against Django's live_server.

Every test in this folder is marked ``browser`` (deselect with
``-m "not browser"``). Chromium comes from ``apt-get install chromium``;
never run ``playwright install``.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response

from accounts.models import Organisation, OrganisationKind, RoleAssignment, User
from accounts.roles import Role
from accounts.tests.second_factors import verified_session_key
from accounts.two_factor import totp_code_at

# Playwright's sync API keeps an event loop running in the test thread, and
# Django refuses ORM calls from such a thread unless told they are safe.
# It is set at import, before any session fixture touches the database.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
BROWSER_TESTS = Path(__file__).resolve().parent
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_TESTS in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any],
) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: run `apt-get install -y chromium` "
            "(never `playwright install`), or set CP_CHROMIUM."
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


@cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


def assert_no_axe_violations(page: Page) -> None:
    """Run axe-core on the page against WCAG 2.0, 2.1 and 2.2 A and AA.

    The script goes in through ``page.evaluate``: the page's nonce-based CSP
    would block a script tag added by the test.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    results = page.evaluate(
        """(tags) => axe.run(document, {
            runOnly: {type: "tag", values: tags},
            resultTypes: ["violations"],
        })""",
        WCAG_TAGS,
    )
    violations = results["violations"]
    if violations:
        pytest.fail(_describe_violations(page.url, violations), pytrace=False)


def _describe_violations(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {url}:"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" <{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {', '.join(map(str, node['target']))}")
            lines.append(f"       {node['html']}")
            lines.extend(
                f"       {line}"
                for line in node["failureSummary"].splitlines()
                if line.strip()
            )
    return "\n".join(lines)


FAVICON_PATH = "/favicon.svg"
ABORTED = "net::ERR_ABORTED"


@dataclass
class PageProblems:
    """What went wrong while a page loaded, as the browser saw it."""

    requested_urls: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    error_responses: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def all(self, *, ignoring_url: str | None = None) -> list[str]:
        """Every problem, leaving out those that mention ``ignoring_url``."""
        problems = self.failed_requests + self.error_responses + self.console_errors
        if ignoring_url is None:
            return problems
        return [problem for problem in problems if ignoring_url not in problem]


@pytest.fixture
def page_problems(page: Page) -> PageProblems:
    """Record failed requests, HTTP errors and console errors (CSP violations
    are console errors) on ``page`` from now on."""
    problems = PageProblems()

    def on_request(request: Request) -> None:
        problems.requested_urls.append(request.url)

    def on_request_failed(request: Request) -> None:
        # Chromium fetches the favicon after the page; the next navigation
        # often cuts that fetch short. Only that abort is harmless.
        if request.url.endswith(FAVICON_PATH) and request.failure == ABORTED:
            return
        problems.failed_requests.append(f"{request.url}: {request.failure}")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            problems.error_responses.append(f"{response.status} {response.url}")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.console_errors.append(f"{message.text} ({message.location})")

    page.on("request", on_request)
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.console_errors.append(str(error)))
    return problems


@dataclass(frozen=True)
class Credentials:
    user: User
    username: str
    email: str
    password: str
    full_name: str


@pytest.fixture
def known_user(django_user_model: type[User]) -> Credentials:
    """A practitioner at a school, with a password the test knows."""
    password = "correct horse battery staple"
    user = django_user_model.objects.create_user(
        username="sam.okafor",
        email="sam.okafor@example.org",
        password=password,
        first_name="Sam",
        last_name="Okafor",
    )
    school = Organisation.objects.create(
        name="Hilltop Primary School", kind=OrganisationKind.SCHOOL, code="100001"
    )
    RoleAssignment.objects.create(
        user=user,
        organisation=school,
        role=Role.PRACTITIONER,
        reason="Designated safeguarding lead",
    )
    return Credentials(
        user=user,
        username=user.username,
        email=user.email,
        password=password,
        full_name=user.get_full_name(),
    )


def sign_in(page: Page, base_url: str, identifier: str, password: str) -> None:
    """Fill in and send the sign-in form as a person would."""
    page.goto(f"{base_url}/accounts/sign-in/")
    page.get_by_label("Username or email address").fill(identifier)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def enter_authenticator_code(page: Page, secret: str) -> None:
    """Type the code an authenticator app with ``secret`` shows now, and send it."""
    field = page.get_by_label("Enter the 6-digit code from your authenticator app")
    # The code page has arrived (its field shows); let it finish loading its
    # script before sending it on, as a person would, or a slow machine sees
    # the script's request cut short by the next page (net::ERR_ABORTED).
    field.wait_for()
    page.wait_for_load_state("load")
    field.fill(totp_code_at(secret, at=time.time()))
    page.get_by_role("button", name="Continue").click()


def add_verified_session(context: BrowserContext, base_url: str, user: User) -> None:
    """Give the browser the session a full two-factor sign-in leaves."""
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": verified_session_key(user),
                "url": base_url,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )


@pytest.fixture
def authenticator(page: Page) -> str:
    """A platform authenticator that says yes, like a fingerprint reader:
    Chromium's virtual authenticator (the DevTools protocol's WebAuthn
    domain), for the passkey pages. Returns its id."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return str(added["authenticatorId"])


@pytest.fixture
def verified_page(page: Page, live_server: Any) -> Callable[[User], Page]:
    """Sign ``page`` in as a user with a password *and* a second factor (an
    authenticator app, created if they have none), without the journey.

    Usage: ``page = verified_page(user)``; then ``page.goto(...)``.
    """

    def sign_in_verified(user: User) -> Page:
        add_verified_session(page.context, live_server.url, user)
        return page

    return sign_in_verified
