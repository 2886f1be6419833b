"""Bearer-token authentication for feed systems (Django REST framework).

``Authorization: Bearer <prefix>.<secret>``. The prefix finds the row; the
SHA-256 of the whole token is compared in constant time. A revoked token, a
suspended or inactive account, or an account that is not a feed system is
refused with a message saying which, never which part of a token was wrong.
"""

import re
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import ApiToken, User
from accounts.roles import Role
from accounts.services import api_token_hash

_TOKEN = re.compile(r"^(?P<prefix>[0-9a-f]{8})\.[A-Za-z0-9_-]{20,100}$")
#: last_used_at is written at most this often per token, not on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as 'Authorization: Bearer <token>', with one space."
            )
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                "The API token is not valid: it contains characters a token never has."
            ) from None
        return self._check(raw)

    def _check(self, raw: str) -> tuple[User, ApiToken]:
        match = _TOKEN.match(raw)
        if match is None:
            raise exceptions.AuthenticationFailed(
                "The API token is not valid: it is not in the form issued "
                "(8 characters, a dot, then the secret). Copy it again in full."
            )
        token = (
            ApiToken.objects.select_related("user")
            .filter(prefix=match["prefix"])
            .first()
        )
        if token is None or not constant_time_compare(
            token.token_hash, api_token_hash(raw)
        ):
            raise exceptions.AuthenticationFailed(
                "The API token is not valid. Ask your administrator for a new one."
            )
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                "This API token has been revoked. Ask your administrator for a new one."
            )
        user = token.user
        if not user.is_active or user.suspended_at is not None:
            raise exceptions.AuthenticationFailed(
                "The account this API token belongs to is suspended."
            )
        if not user.role_assignments.filter(
            role=Role.FEED_SYSTEM, revoked_at__isnull=True
        ).exists():
            raise exceptions.AuthenticationFailed(
                "This API token's account is no longer a feed system."
            )
        now = timezone.now()
        if (
            token.last_used_at is None
            or now - token.last_used_at > LAST_USED_RESOLUTION
        ):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token

    def authenticate_header(self, request: Any) -> str:
        return f'{self.keyword} realm="api"'
