"""Two requests racing with the same TOTP code: exactly one signs in.

Each thread has its own database connection (Django's connections are per
thread) and its own transaction, as two web workers would; a barrier
releases them at the same moment.
"""

import threading
from collections.abc import Callable

import pytest
from django.db import connections

from accounts.models import TotpDevice
from accounts.tests.factories import UserFactory
from accounts.tests.second_factors import totp_code, totp_device_for
from accounts.two_factor import backup_code_verify, backup_codes_generate, totp_verify
from audit.models import AccessAction, AccessEvent

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 2


def _race(check: Callable[[], object]) -> list[object]:
    """Run ``check`` in RACERS threads released together; their results."""
    barrier = threading.Barrier(RACERS)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def racer() -> None:
        try:
            barrier.wait(timeout=10)
            outcome = check()
            with lock:
                results.append(outcome)
        except BaseException as error:  # reported by the main thread
            with lock:
                errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    return results


@pytest.fixture
def user():
    return UserFactory()


def test_the_same_totp_code_sent_twice_at_once_is_accepted_once(user):
    device, secret = totp_device_for(user)
    code = totp_code(secret)

    results = _race(lambda: totp_verify(user=user, code=code))

    accepted = [result for result in results if result is not None]
    assert len(results) == RACERS
    assert len(accepted) == 1
    assert isinstance(accepted[0], TotpDevice)
    assert accepted[0].pk == device.pk
    reasons = sorted(
        AccessEvent.objects.filter(action=AccessAction.SECOND_FACTOR).values_list(
            "reason", flat=True
        )
    )
    assert reasons == ["totp_ok", "totp_replayed"]


def test_the_same_backup_code_sent_twice_at_once_is_accepted_once(user):
    code = backup_codes_generate(user)[0]

    results = _race(lambda: backup_code_verify(user=user, code=code))

    assert len(results) == RACERS
    assert len([result for result in results if result is not None]) == 1
