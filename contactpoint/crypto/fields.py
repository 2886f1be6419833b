"""Django glue: encrypted model fields and the process-wide key material.

An ``EncryptedField`` column holds only the token from ``aead.py``; the model
attribute is that token (bytes), never plaintext. Code that needs a value
calls ``unseal(instance, "field")`` — done by the directory's selectors and
services only — and ``seal(instance, "field", value)`` to set one.

The row id in the associated data is the instance's primary key (so models
with encrypted fields use UUIDs assigned before the first save). A field
declared ``bind_to="child_id"`` is also bound to its owner: the row id becomes
"<child id>/<primary key>", so moving a whole name, address or carer row to
another child by rewriting its foreign key makes it fail to decrypt.
``binding`` is the one place that forms (table, column, row id).
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.db import models

from contactpoint.crypto.aead import FieldCipher
from contactpoint.crypto.blind_index import BlindIndex, index_value
from contactpoint.crypto.keys import BlindIndexRoot, FieldKeyRing


class EncryptedField(models.BinaryField):  # type: ignore[type-arg]  # generic only in the stubs
    """A bytea column holding an AES-256-GCM token bound to its row and column."""

    description = "Encrypted value (AES-256-GCM, row-bound)"

    def __init__(self, *args: Any, bind_to: str | None = None, **kwargs: Any) -> None:
        self.bind_to = bind_to
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.bind_to:
            kwargs["bind_to"] = self.bind_to
        return name, path, args, kwargs


@dataclass(frozen=True, slots=True)
class Binding:
    """Where a value is stored, as the associated data sees it."""

    table: str
    column: str
    row_id: str


def binding(
    model: type[models.Model], field_name: str, *, pk: object, owner: object = None
) -> Binding:
    """The (table, column, row id) a value of ``model.field_name`` is bound to.

    ``owner`` is the value of the field's ``bind_to`` attribute (e.g. the
    child id of a name row); it is required when the field declares one.
    """
    field = model._meta.get_field(field_name)
    if not isinstance(field, EncryptedField):
        raise TypeError(f"{model.__name__}.{field_name} is not encrypted.")
    if pk is None:
        raise ValueError("Encrypted fields need the row's primary key first.")
    row_id = str(pk)
    if field.bind_to:
        if owner is None:
            raise ValueError(
                f"{model.__name__}.{field_name} needs its {field.bind_to}."
            )
        row_id = f"{owner}/{pk}"
    return Binding(model._meta.db_table, field.column, row_id)


def instance_binding(instance: models.Model, field_name: str) -> Binding:
    field = instance._meta.get_field(field_name)
    bind_to = getattr(field, "bind_to", None)
    owner = getattr(instance, bind_to) if bind_to else None
    return binding(type(instance), field_name, pk=instance.pk, owner=owner)


def seal_value(binding_: Binding, value: str | None) -> bytes | None:
    """Encrypt ``value`` for ``binding_`` under the active key (None stays None)."""
    if value is None:
        return None
    return field_cipher().encrypt(
        table=binding_.table,
        column=binding_.column,
        row_id=binding_.row_id,
        plaintext=value,
    )


@lru_cache(maxsize=1)
def field_cipher() -> FieldCipher:
    """The cipher built from settings (FIELD_ENCRYPTION_KEYS), cached per process."""
    return FieldCipher(
        FieldKeyRing.parse(
            settings.FIELD_ENCRYPTION_KEYS, settings.FIELD_ENCRYPTION_ACTIVE_VERSION
        )
    )


@lru_cache(maxsize=1)
def blind_index_root() -> BlindIndexRoot:
    """The blind-index root key from settings, cached per process."""
    return BlindIndexRoot.parse(settings.BLIND_INDEX_KEY)


def _reset_keys(*, setting: str, **kwargs: Any) -> None:
    if setting in {
        "FIELD_ENCRYPTION_KEYS",
        "FIELD_ENCRYPTION_ACTIVE_VERSION",
        "BLIND_INDEX_KEY",
    }:
        field_cipher.cache_clear()
        blind_index_root.cache_clear()


setting_changed.connect(_reset_keys)


def seal(instance: models.Model, field_name: str, value: str | None) -> None:
    """Encrypt ``value`` into ``instance.field_name`` (None stays None)."""
    setattr(
        instance, field_name, seal_value(instance_binding(instance, field_name), value)
    )


def unseal(instance: models.Model, field_name: str) -> str | None:
    """Decrypt ``instance.field_name``; raises DecryptionError on any failure."""
    token = getattr(instance, field_name)
    if token is None:
        return None
    where = instance_binding(instance, field_name)
    return field_cipher().decrypt(
        table=where.table, column=where.column, row_id=where.row_id, token=bytes(token)
    )


def unseal_value(binding_: Binding, token: bytes | memoryview | None) -> str | None:
    """Decrypt a token read without its model instance (``values_list``), for
    the row and column ``binding_`` names; raises DecryptionError on any
    failure, like ``unseal``."""
    if token is None:
        return None
    return field_cipher().decrypt(
        table=binding_.table,
        column=binding_.column,
        row_id=binding_.row_id,
        token=bytes(token),
    )


def blind_index(index: BlindIndex, transformed: str) -> int:
    """The stored value of ``index`` for an already-transformed input."""
    return index_value(blind_index_root(), index, transformed)


def encrypted_fields(model: type[models.Model]) -> list[EncryptedField]:
    """The encrypted fields a model declares (used by key rotation)."""
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]


def rotates_keys(model: type[models.Model]) -> bool:
    """False for append-only tables (the audit log) whose rows are never rewritten:
    their old key versions are kept for as long as the rows are."""
    return bool(getattr(model, "ROTATES_KEYS", True))
