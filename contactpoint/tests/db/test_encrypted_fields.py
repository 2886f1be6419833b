"""EncryptedField, seal and unseal on real rows in PostgreSQL."""

import itertools
from uuid import UUID

import pytest
from django.db import connection
from django.test import override_settings

from contactpoint.crypto.aead import token_key_version
from contactpoint.crypto.errors import DecryptionError, KeyConfigurationError
from contactpoint.crypto.fields import (
    EncryptedField,
    encrypted_fields,
    field_cipher,
    seal,
    unseal,
)
from contactpoint.settings.published_test_keys import TEST_FIELD_ENCRYPTION_KEYS
from directory.models import Address, Carer, Child, ChildName, NameKind

pytestmark = pytest.mark.django_db

_numbers = itertools.count(17)

DOB = "1991-11-02"
PROFILE = '{"family": ["Climbié"], "given": ["Victoria Adjo"], "districts": ["N15"]}'


def make_child(
    *, date_of_birth: str = DOB, match_profile: str = PROFILE, nhs: str | None = None
) -> Child:
    child = Child(directory_number=f"{next(_numbers):013d}")
    seal(child, "date_of_birth", date_of_birth)
    seal(child, "match_profile", match_profile)
    seal(child, "nhs_number", nhs)
    child.save()
    return child


def reload(child: Child) -> Child:
    return Child.unaudited.get(pk=child.pk)


def raw_column(table: str, column: str, row_id: UUID) -> bytes | None:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "{column}" FROM "{table}" WHERE id = %s',  # noqa: S608
            [row_id],
        )
        row = cursor.fetchone()
    assert row is not None
    (value,) = row
    return None if value is None else bytes(value)


def copy_column(
    table: str, source_column: str, source_id: UUID, column: str, target_id: UUID
) -> None:
    """What a DBA (or an attacker with SQL access) could do: move a ciphertext."""
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "{column}" = '  # noqa: S608
            f'(SELECT "{source_column}" FROM "{table}" WHERE id = %s) WHERE id = %s',
            [source_id, target_id],
        )
        assert cursor.rowcount == 1


# --- round trips ------------------------------------------------------------------


def test_child_round_trips_through_postgresql() -> None:
    child = make_child(nhs="9434765919")
    stored = reload(child)
    assert unseal(stored, "date_of_birth") == DOB
    assert unseal(stored, "match_profile") == PROFILE
    assert unseal(stored, "nhs_number") == "9434765919"
    assert unseal(stored, "upn") is None


@pytest.mark.parametrize(
    "value",
    ["Climbié", "O\u2019Brien-Smith", "👶🏽", "", "x" * 20_000, "a\x00b"],
    ids=["diacritics", "apostrophe", "emoji", "empty", "long", "nul"],
)
def test_any_text_round_trips(value: str) -> None:
    child = make_child()
    name = ChildName(child=child, kind=NameKind.LEGAL)
    seal(name, "family_name", value)
    seal(name, "given_names", "Victoria")
    name.save()
    stored = ChildName.unaudited.get(pk=name.pk)
    assert unseal(stored, "family_name") == value
    assert unseal(stored, "given_names") == "Victoria"


def test_address_and_carer_round_trip() -> None:
    child = make_child()
    address = Address(child=child)
    seal(address, "lines", "1 High Street\nTottenham\nLondon")
    seal(address, "postcode", "N15 4AA")
    address.save()
    carer = Carer(child=child, relationship="other_relative")
    seal(carer, "name", "Marie-Thérèse Kouao")
    seal(carer, "phone", "020 7946 0000")
    seal(carer, "email", None)
    carer.save()
    assert unseal(Address.unaudited.get(pk=address.pk), "postcode") == "N15 4AA"
    stored_carer = Carer.unaudited.get(pk=carer.pk)
    assert unseal(stored_carer, "name") == "Marie-Thérèse Kouao"
    assert unseal(stored_carer, "phone") == "020 7946 0000"
    assert unseal(stored_carer, "email") is None


def test_the_column_holds_only_the_token() -> None:
    child = make_child(nhs="9434765919")
    stored = raw_column(Child._meta.db_table, "date_of_birth", child.pk)
    assert stored is not None
    assert stored[0] == 1
    assert token_key_version(stored) == 1
    assert DOB.encode() not in stored
    assert b"1991" not in stored
    nhs = raw_column(Child._meta.db_table, "nhs_number", child.pk)
    assert nhs is not None
    assert b"9434765919" not in nhs
    assert raw_column(Child._meta.db_table, "upn", child.pk) is None


def test_the_model_attribute_is_the_token_not_plaintext() -> None:
    child = reload(make_child())
    assert isinstance(child.date_of_birth, bytes | memoryview)
    assert DOB.encode() not in bytes(child.date_of_birth)


def test_two_children_with_the_same_date_of_birth_store_different_tokens() -> None:
    one, other = make_child(), make_child()
    table = Child._meta.db_table
    assert raw_column(table, "date_of_birth", one.pk) != raw_column(
        table, "date_of_birth", other.pk
    )


def test_encrypted_fields_lists_the_child_columns() -> None:
    assert {f.name for f in encrypted_fields(Child)} == {
        "date_of_birth",
        "nhs_number",
        "upn",
        "date_of_death",
        "match_profile",
    }
    assert all(isinstance(f, EncryptedField) for f in encrypted_fields(Child))
    assert not Child._meta.get_field("date_of_birth").editable


# --- moved ciphertexts ------------------------------------------------------------


def test_token_copied_to_another_child_fails_to_decrypt() -> None:
    victim = make_child(date_of_birth="2010-01-01")
    other = make_child(date_of_birth="2015-06-30")
    copy_column(
        Child._meta.db_table, "date_of_birth", other.pk, "date_of_birth", victim.pk
    )
    moved = reload(victim)
    assert bytes(moved.date_of_birth) == raw_column(
        Child._meta.db_table, "date_of_birth", other.pk
    )
    with pytest.raises(DecryptionError) as excinfo:
        unseal(moved, "date_of_birth")
    assert "2015" not in str(excinfo.value)
    # The source row is untouched and still opens.
    assert unseal(reload(other), "date_of_birth") == "2015-06-30"


def test_token_copied_to_another_column_fails_to_decrypt() -> None:
    child = make_child(nhs="9434765919")
    copy_column(Child._meta.db_table, "date_of_birth", child.pk, "nhs_number", child.pk)
    with pytest.raises(DecryptionError):
        unseal(reload(child), "nhs_number")


def test_token_copied_to_another_table_fails_to_decrypt() -> None:
    child = make_child()
    name = ChildName(child=child, kind=NameKind.LEGAL)
    seal(name, "family_name", "Climbié")
    seal(name, "given_names", "Victoria")
    name.save()
    carer = Carer(child=child, relationship="other_relative")
    seal(carer, "name", "Kouao")
    carer.save()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE directory_carer SET name = "
            "(SELECT family_name FROM directory_childname WHERE id = %s) "
            "WHERE id = %s",
            [name.pk, carer.pk],
        )
    with pytest.raises(DecryptionError):
        unseal(Carer.unaudited.get(pk=carer.pk), "name")


def test_tampered_token_in_the_database_fails() -> None:
    child = make_child()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE directory_child SET date_of_birth = "
            "overlay(date_of_birth placing '\\x00'::bytea from 20 for 1) "
            "WHERE id = %s",
            [child.pk],
        )
    with pytest.raises(DecryptionError):
        unseal(reload(child), "date_of_birth")


def test_plaintext_written_straight_into_the_column_is_never_returned() -> None:
    child = make_child()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE directory_child SET date_of_birth = convert_to(%s, 'UTF8') "
            "WHERE id = %s",
            ["2001-02-03", child.pk],
        )
    with pytest.raises(DecryptionError):
        unseal(reload(child), "date_of_birth")


# --- keys from settings -----------------------------------------------------------


def test_active_version_comes_from_settings() -> None:
    assert token_key_version(bytes(make_child().date_of_birth)) == 1
    with override_settings(FIELD_ENCRYPTION_ACTIVE_VERSION=2):
        assert field_cipher().keyring.active_version == 2
        child = make_child()
        assert token_key_version(bytes(child.date_of_birth)) == 2
        assert unseal(reload(child), "date_of_birth") == DOB
    assert field_cipher().keyring.active_version == 1


def test_retired_key_version_cannot_open_old_tokens() -> None:
    child = make_child()
    only_version_2 = TEST_FIELD_ENCRYPTION_KEYS.split(",")[1]
    with (
        override_settings(
            FIELD_ENCRYPTION_KEYS=only_version_2, FIELD_ENCRYPTION_ACTIVE_VERSION=0
        ),
        pytest.raises(DecryptionError, match="No key with version 1"),
    ):
        unseal(reload(child), "date_of_birth")


def test_bad_key_settings_fail_loudly() -> None:
    with (
        override_settings(FIELD_ENCRYPTION_ACTIVE_VERSION=3),
        pytest.raises(KeyConfigurationError, match="version 3 is not among"),
    ):
        field_cipher()


# --- misuse -----------------------------------------------------------------------


def test_seal_needs_an_encrypted_field() -> None:
    child = make_child()
    with pytest.raises(TypeError, match="not encrypted"):
        seal(child, "directory_number", "0000000000000")
    with pytest.raises(TypeError, match="not encrypted"):
        unseal(child, "gender")


def test_seal_needs_a_primary_key() -> None:
    child = Child(directory_number="0000000000999")
    child.pk = None
    with pytest.raises(ValueError, match="primary key first"):
        seal(child, "date_of_birth", DOB)


# --- known limits of the row binding ----------------------------------------------


def test_name_row_re_parented_to_another_child_fails_to_decrypt() -> None:
    owner, other = make_child(), make_child()
    name = ChildName(child=owner, kind=NameKind.LEGAL)
    seal(name, "family_name", "Climbié")
    seal(name, "given_names", "Victoria")
    name.save()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE directory_childname SET child_id = %s WHERE id = %s",
            [other.pk, name.pk],
        )
    moved = ChildName.unaudited.get(pk=name.pk)
    assert moved.child_id == other.pk
    with pytest.raises(DecryptionError):
        unseal(moved, "family_name")


def test_a_row_rolled_back_to_its_own_older_token_still_decrypts() -> None:
    """Documented limit (docs/crypto.md): AEAD cannot tell an older value of
    the same cell from the current one; only the audit trail and backups can."""
    child = make_child(date_of_birth="2010-01-01")
    old = raw_column(Child._meta.db_table, "date_of_birth", child.pk)
    seal(child, "date_of_birth", "2010-01-02")
    child.save(update_fields=["date_of_birth"])
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE directory_child SET date_of_birth = %s WHERE id = %s",
            [old, child.pk],
        )
    assert unseal(reload(child), "date_of_birth") == "2010-01-01"
