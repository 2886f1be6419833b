"""Which second factors each role may sign in with: the passkey rule as a
matrix of role x has-a-passkey."""

import pytest

from accounts.policies import (
    BACKUP_CODE,
    PASSKEY,
    TOTP,
    SecondFactorRule,
    decide_second_factor_methods,
)
from accounts.roles import Role

CODES = frozenset({TOTP, BACKUP_CODE})
PASSKEY_ONLY = SecondFactorRule(True, frozenset({PASSKEY}), must_add_passkey=False)
CODES_THEN_ADD_PASSKEY = SecondFactorRule(True, CODES, must_add_passkey=True)
CODES_ONLY = SecondFactorRule(False, CODES, must_add_passkey=False)
CODES_OR_PASSKEY = SecondFactorRule(False, CODES | {PASSKEY}, must_add_passkey=False)


@pytest.mark.parametrize(
    ("roles", "has_passkey", "expected"),
    [
        ({Role.ADMINISTRATOR}, False, CODES_THEN_ADD_PASSKEY),
        ({Role.ADMINISTRATOR}, True, PASSKEY_ONLY),
        ({Role.AUDITOR}, False, CODES_THEN_ADD_PASSKEY),
        ({Role.AUDITOR}, True, PASSKEY_ONLY),
        ({Role.SHIELDING_OFFICER}, False, CODES_THEN_ADD_PASSKEY),
        ({Role.SHIELDING_OFFICER}, True, PASSKEY_ONLY),
        ({Role.PRACTITIONER}, False, CODES_ONLY),
        ({Role.PRACTITIONER}, True, CODES_OR_PASSKEY),
        ({Role.DATA_MANAGER}, False, CODES_ONLY),
        ({Role.DATA_MANAGER}, True, CODES_OR_PASSKEY),
        (set(), False, CODES_ONLY),
        ({Role.PRACTITIONER, Role.AUDITOR}, False, CODES_THEN_ADD_PASSKEY),
        ({Role.PRACTITIONER, Role.SHIELDING_OFFICER}, True, PASSKEY_ONLY),
    ],
)
def test_second_factor_methods_by_role_and_passkey(roles, has_passkey, expected):
    assert (
        decide_second_factor_methods(frozenset(roles), has_passkey=has_passkey)
        == expected
    )
