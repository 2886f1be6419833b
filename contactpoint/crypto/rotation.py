"""Re-encrypt every stored value under the active field-key version.

Resumable by construction: each batch selects only rows that still hold a
value sealed under another version, re-encrypts them and commits. A run that
is stopped part-way loses at most its open batch, and the next run carries on
with the rows that remain. Plaintext exists only in memory, one batch at a time.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models.functions import Substr

from contactpoint.crypto.aead import FORMAT_V1, HEADER, token_key_version
from contactpoint.crypto.fields import (
    EncryptedField,
    binding,
    encrypted_fields,
    field_cipher,
    rotates_keys,
)


@dataclass(slots=True)
class RotationProgress:
    model: str
    rows_rotated: int = 0
    batches: int = 0
    remaining: int = 0


def models_with_encrypted_fields() -> list[type[models.Model]]:
    """Every installed model with encrypted fields whose rows may be rewritten."""
    return [m for m in apps.get_models() if encrypted_fields(m) and rotates_keys(m)]


def _stale_filter(fields: Iterable[EncryptedField], active: int) -> models.Q:
    header = HEADER.pack(FORMAT_V1, active)[1:]
    query = models.Q()
    for field in fields:
        query |= models.Q(**{f"{field.name}__isnull": False}) & ~models.Q(
            **{f"_v_{field.name}": header}
        )
    return query


def _stale_rows(model: type[models.Model], active: int) -> models.QuerySet[Any]:
    fields = encrypted_fields(model)
    annotations = {
        f"_v_{f.name}": Substr(f.name, 2, 2, output_field=models.BinaryField())
        for f in fields
    }
    rows: models.QuerySet[Any] = model._base_manager.annotate(**annotations)
    return rows.filter(_stale_filter(fields, active))


def count_stale(model: type[models.Model]) -> int:
    """Rows of ``model`` holding any value not sealed under the active version."""
    return _stale_rows(model, field_cipher().keyring.active_version).count()


def rotate_model(
    model: type[models.Model],
    *,
    batch_size: int = 500,
    max_batches: int | None = None,
    on_batch: Callable[[RotationProgress], None] | None = None,
) -> RotationProgress:
    """Re-encrypt ``model``'s stale values in committed batches."""
    cipher = field_cipher()
    active = cipher.keyring.active_version
    fields = encrypted_fields(model)
    owners = sorted({f.bind_to for f in fields if f.bind_to})
    progress = RotationProgress(model=model._meta.label)
    last_pk = None
    while max_batches is None or progress.batches < max_batches:
        with transaction.atomic():
            rows = _stale_rows(model, active).order_by("pk")
            if last_pk is not None:
                rows = rows.filter(pk__gt=last_pk)
            batch = list(
                rows.select_for_update(of=("self",), skip_locked=True).only(
                    "pk", *owners, *(f.name for f in fields)
                )[:batch_size]
            )
            if not batch:
                break
            for row in batch:
                for field in fields:
                    token = getattr(row, field.attname)
                    if token is None:
                        continue
                    token = bytes(token)
                    if token_key_version(token) == active:
                        continue
                    where = binding(
                        model,
                        field.name,
                        pk=row.pk,
                        owner=getattr(row, field.bind_to) if field.bind_to else None,
                    )
                    plaintext = cipher.decrypt(
                        table=where.table,
                        column=where.column,
                        row_id=where.row_id,
                        token=token,
                    )
                    setattr(
                        row,
                        field.attname,
                        cipher.encrypt(
                            table=where.table,
                            column=where.column,
                            row_id=where.row_id,
                            plaintext=plaintext,
                        ),
                    )
            model._base_manager.bulk_update(batch, [f.name for f in fields])
        last_pk = batch[-1].pk
        progress.rows_rotated += len(batch)
        progress.batches += 1
        if on_batch is not None:
            on_batch(progress)
    progress.remaining = count_stale(model)
    return progress
