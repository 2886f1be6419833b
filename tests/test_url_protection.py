"""No page of the project opens without a password *and* a second factor.

The test walks every URL pattern the project has (its own, the Django
admin's, the API's, and whatever is added later), makes a URL for each one,
and sends GET and POST requests to it as a visitor who has not signed in and
as a user who has given only their password. Both must be turned away
(a redirect to sign in or to the second-factor step, or 401/403 from the
API): never a page.

The only exceptions are the allow-lists below. They repeat the middleware's
on purpose: opening a URL to people without a second factor means changing
both, in plain sight.
"""

import re
import uuid
from collections.abc import Iterator, Sequence

import pytest
from django.urls import (
    Resolver404,
    URLPattern,
    URLResolver,
    converters,
    get_resolver,
    resolve,
    reverse,
)
from django.urls.resolvers import RegexPattern, RoutePattern
from hypothesis import HealthCheck, find, settings
from hypothesis import strategies as st

from accounts import middleware
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

#: Anyone may open these, signed in or not.
OPEN_TO_ANYONE = {
    "accounts:sign-in",
    "accounts:sign-out",
    "accessibility",
    "privacy",
    "govuk-frontend-asset",
    "healthz",
    "readyz",
    "metrics",
}
#: ...and every URL whose name starts with one of these (invitation links).
OPEN_TO_ANYONE_PREFIXES = ("accounts:invitation-", "invitations:invitation-")
#: A user who has given their password but no second factor yet may open these.
OPEN_WITH_PASSWORD_ONLY = {
    "accounts:second-factor",
    "accounts:second-factor-backup-code",
    "accounts:second-factor-setup",
    "accounts:second-factor-passkey",
    "otp_webauthn:credential-authentication-begin",
    "otp_webauthn:credential-authentication-complete",
    "otp_webauthn:js-i18n-catalog",
}

SIGN_IN = reverse("accounts:sign-in")
SECOND_FACTOR = reverse("accounts:second-factor")
SAMPLE_VALUES: dict[type, object] = {
    converters.IntConverter: 1,
    converters.StringConverter: "x",
    converters.SlugConverter: "x",
    converters.UUIDConverter: uuid.UUID(int=1),
    converters.PathConverter: "x",
}
_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")


def _patterns(
    patterns: Sequence[URLPattern | URLResolver],
    parents: tuple[object, ...] = (),
    namespaces: tuple[str, ...] = (),
) -> Iterator[tuple[tuple[object, ...], URLPattern, str]]:
    """Every endpoint, with the patterns leading to it and its full name."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = (
                (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            )
            yield from _patterns(
                pattern.url_patterns, (*parents, pattern.pattern), inner
            )
        else:
            name = ":".join((*namespaces, pattern.name)) if pattern.name else ""
            yield (*parents, pattern.pattern), pattern, name


def _part(pattern: object) -> st.SearchStrategy[str]:
    """Text matching one level of a URL: path() routes get converter samples,
    re_path() regexes get the simplest text Hypothesis finds for them."""
    if isinstance(pattern, RoutePattern):

        def fill(match: re.Match[str]) -> str:
            converter = pattern.converters[match.group("parameter")]
            sample = SAMPLE_VALUES.get(type(converter))
            if sample is None:
                pytest.fail(f"Add a sample value for {type(converter).__name__}.")
            return str(converter.to_url(sample))

        return st.just(_PARAMETER.sub(fill, str(pattern)))
    assert isinstance(pattern, RegexPattern)
    return st.from_regex(pattern.regex, fullmatch=True)


def _url_for(parts: tuple[object, ...], endpoint: URLPattern) -> str:
    def reaches_endpoint(path: str) -> bool:
        try:
            return resolve(path).func is endpoint.callback
        except Resolver404:
            return False

    return find(
        st.tuples(*(_part(part) for part in parts)).map(lambda t: "/" + "".join(t)),
        reaches_endpoint,
        settings=settings(
            database=None,
            derandomize=True,
            max_examples=200,
            suppress_health_check=list(HealthCheck),
        ),
    )


def _project_urls() -> list[tuple[str, str]]:
    return [
        (name or f"(unnamed) {_url_for(parts, endpoint)}", _url_for(parts, endpoint))
        for parts, endpoint, name in _patterns(get_resolver().url_patterns)
    ]


PROJECT_URLS = _project_urls()


def _open_to_anyone(name: str) -> bool:
    return name in OPEN_TO_ANYONE or name.startswith(OPEN_TO_ANYONE_PREFIXES)


def _describe(response) -> str:
    return f"{response.status_code} {response.get('Location', '')}".strip()


def test_the_allow_lists_are_the_middlewares():
    assert middleware.PUBLIC_URL_NAMES == OPEN_TO_ANYONE
    assert middleware.PUBLIC_URL_NAME_PREFIXES == OPEN_TO_ANYONE_PREFIXES
    assert middleware.SIGN_IN_STEP_URL_NAMES == OPEN_WITH_PASSWORD_ONLY


def test_the_walk_reaches_every_kind_of_url():
    names = {name for name, _path in PROJECT_URLS}
    assert {"home", "accounts:sign-in", "admin:index", "api-schema"} <= names
    assert names >= OPEN_WITH_PASSWORD_ONLY
    assert any(name.startswith("(unnamed)") for name in names)


def _anonymous_refusal(response, path: str) -> str | None:
    """What is wrong with the answer to a visitor who has not signed in."""
    if path.startswith("/api/"):
        if response.status_code == 401 and response["Content-Type"] == (
            "application/json"
        ):
            return None
    elif response.status_code == 302 and (
        response["Location"].split("?")[0] == SIGN_IN
    ):
        return None
    return _describe(response)


def _password_only_refusal(response, path: str) -> str | None:
    """What is wrong with the answer to a user with only a password."""
    if path.startswith("/api/"):
        if response.status_code == 403 and (
            response.json().get("code") == "second_factor_required"
        ):
            return None
    elif response.status_code == 302 and response["Location"].startswith(
        f"{SECOND_FACTOR}?next="
    ):
        return None
    return _describe(response)


@pytest.mark.parametrize(
    ("name", "path"), PROJECT_URLS, ids=[n for n, _ in PROJECT_URLS]
)
def test_every_url_needs_both_factors(client, name, path):
    if _open_to_anyone(name):
        pytest.skip("open to anyone")
    problems = {}

    for method in ("get", "post"):
        problems[f"anonymous {method}"] = _anonymous_refusal(
            getattr(client, method)(path), path
        )
    if name not in OPEN_WITH_PASSWORD_ONLY:
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        for method in ("get", "post"):
            problems[f"password only {method}"] = _password_only_refusal(
                getattr(client, method)(path), path
            )

    assert {who: problem for who, problem in problems.items() if problem} == {}
