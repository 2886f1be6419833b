"""Helpers for tests that need users with second factors, or past them.

Shared by accounts/tests/conftest.py (``verified_client``) and
tests/browser/conftest.py (``verified_page``).
"""

import time
from importlib import import_module

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    load_backend,
)
from django.contrib.auth.backends import ModelBackend
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.middleware import LAST_SEEN, SECOND_FACTOR_AT, SIGNED_IN_AT
from accounts.models import TotpDevice, User
from accounts.two_factor import TOTP_STEP_SECONDS, totp_code_at, totp_device_create


def totp_device_for(user: User, *, confirmed: bool = True) -> tuple[TotpDevice, str]:
    """An authenticator app for ``user`` and its secret (base32).

    Confirmed directly, without spending a code, so a test can still use
    the current one.
    """
    enrolment = totp_device_create(user)
    if confirmed:
        TotpDevice.objects.filter(pk=enrolment.device.pk).update(confirmed=True)
        enrolment.device.confirmed = True
    return enrolment.device, enrolment.secret


def totp_code(secret: str, *, at: float | None = None, steps: int = 0) -> str:
    """The code an authenticator app with ``secret`` shows now (or ``steps``
    time steps away)."""
    moment = time.time() if at is None else at
    return totp_code_at(secret, at=moment + steps * TOTP_STEP_SECONDS)


def _model_backend_path() -> str:
    for path in settings.AUTHENTICATION_BACKENDS:
        if isinstance(load_backend(path), ModelBackend):
            return path
    raise LookupError("No ModelBackend in AUTHENTICATION_BACKENDS.")


def verified_session_key(user: User) -> str:
    """A stored session of ``user`` signed in with a password and an
    authenticator app just now, as the sign-in journey leaves it."""
    device = TotpDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device, _secret = totp_device_for(user)
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore()
    now = time.time()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = _model_backend_path()
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[SIGNED_IN_AT] = now
    session[SECOND_FACTOR_AT] = now
    session[LAST_SEEN] = now
    session.save()
    session_key: str = session.session_key
    return session_key
