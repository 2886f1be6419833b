"""Key rotation: re-encrypt every value under the active version, in resumable
batches, without losing or changing any value."""

import io
import itertools
from collections import Counter
from dataclasses import dataclass, field

import pytest
from django.core.management import call_command
from django.db import connection, models
from django.test import override_settings

from contactpoint.crypto.aead import token_key_version
from contactpoint.crypto.errors import DecryptionError
from contactpoint.crypto.fields import encrypted_fields, seal, unseal
from contactpoint.crypto.rotation import (
    RotationProgress,
    count_stale,
    models_with_encrypted_fields,
    rotate_model,
)
from contactpoint.settings.published_test_keys import TEST_FIELD_ENCRYPTION_KEYS
from directory.models import Address, Child, ChildName, NameKind

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1017)
CHILDREN = 5


@dataclass
class Loaded:
    """What was stored, so every value can be checked after rotation."""

    values: dict[tuple[type[models.Model], object, str], str | None] = field(
        default_factory=dict
    )

    def seal(self, instance: models.Model, name: str, value: str | None) -> None:
        seal(instance, name, value)
        self.values[(type(instance), instance.pk, name)] = value


@pytest.fixture
def loaded() -> Loaded:
    """Five children sealed under key version 1, each with a name and address."""
    store = Loaded()
    for i in range(CHILDREN):
        born = f"201{i}-0{i + 1}-1{i}"
        child = Child(directory_number=f"{next(_numbers):013d}")
        store.seal(child, "date_of_birth", born)
        store.seal(child, "match_profile", f'{{"family": ["Smith-{i}"]}}')
        store.seal(child, "nhs_number", f"94347659{i:02d}" if i % 2 else None)
        child.save()
        name = ChildName(child=child, kind=NameKind.LEGAL)
        store.seal(name, "family_name", f"Kowalski-{i}")
        store.seal(name, "given_names", "Zoë Katie")
        name.save()
        address = Address(child=child)
        store.seal(address, "lines", f"{i} High Street\nTottenham")
        store.seal(address, "postcode", "N15 4AA")
        address.save()
    return store


def versions(model: type[models.Model]) -> dict[object, set[int]]:
    """The key versions of every non-null token of each row of ``model``."""
    names = [f.name for f in encrypted_fields(model)]
    found: dict[object, set[int]] = {}
    for pk, *tokens in model._base_manager.values_list("pk", *names):
        found[pk] = {token_key_version(bytes(t)) for t in tokens if t is not None}
    return found


def all_versions() -> Counter[int]:
    counts: Counter[int] = Counter()
    for model in models_with_encrypted_fields():
        for row_versions in versions(model).values():
            counts.update(row_versions)
    return counts


def raw_tokens() -> dict[tuple[str, object], tuple[bytes | None, ...]]:
    snapshot: dict[tuple[str, object], tuple[bytes | None, ...]] = {}
    for model in models_with_encrypted_fields():
        names = [f.name for f in encrypted_fields(model)]
        for pk, *tokens in model._base_manager.values_list("pk", *names):
            snapshot[(model._meta.label, pk)] = tuple(
                None if t is None else bytes(t) for t in tokens
            )
    return snapshot


def assert_every_value_unchanged(store: Loaded) -> None:
    for (model, pk, name), value in store.values.items():
        row = model._base_manager.get(pk=pk)
        assert unseal(row, name) == value, (model.__name__, name)


def test_models_with_encrypted_fields_include_the_directory() -> None:
    found = set(models_with_encrypted_fields())
    assert {Child, ChildName, Address} <= found


def test_nothing_is_stale_under_the_version_that_sealed_it(loaded: Loaded) -> None:
    assert all_versions() == Counter({1: CHILDREN * 3})
    for model in models_with_encrypted_fields():
        assert count_stale(model) == 0


@override_settings(FIELD_ENCRYPTION_ACTIVE_VERSION=2)
def test_rotation_stopped_mid_way_resumes_and_finishes(loaded: Loaded) -> None:
    assert count_stale(Child) == CHILDREN
    assert count_stale(ChildName) == CHILDREN

    batches: list[RotationProgress] = []
    progress = rotate_model(Child, batch_size=2, max_batches=1, on_batch=batches.append)

    # Mid-way: one batch of two children done, three left.
    assert progress.batches == 1
    assert progress.rows_rotated == 2
    assert progress.remaining == 3
    assert len(batches) == 1
    assert count_stale(Child) == 3
    child_versions = versions(Child)
    # frozensets only partially order (by subset), so count them, never sort.
    assert Counter(frozenset(v) for v in child_versions.values()) == Counter(
        {frozenset({1}): 3, frozenset({2}): 2}
    )
    # Other models were not touched yet, and every value still opens.
    assert count_stale(ChildName) == CHILDREN
    assert_every_value_unchanged(loaded)

    out = io.StringIO()
    call_command("rotate_keys", batch_size=2, stdout=out)

    assert all_versions() == Counter({2: CHILDREN * 3})
    for model in models_with_encrypted_fields():
        assert count_stale(model) == 0, model
    assert_every_value_unchanged(loaded)
    text = out.getvalue()
    assert "Active field key version: 2" in text
    assert "directory.Child: done, 3 re-encrypted, 0 remaining" in text
    assert "directory.ChildName: done, 5 re-encrypted, 0 remaining" in text
    assert "Every value uses the active key." in text


@override_settings(FIELD_ENCRYPTION_ACTIVE_VERSION=2)
def test_old_key_can_be_retired_after_rotation(loaded: Loaded) -> None:
    call_command("rotate_keys", batch_size=2, stdout=io.StringIO())
    only_version_2 = TEST_FIELD_ENCRYPTION_KEYS.split(",")[1]
    with override_settings(
        FIELD_ENCRYPTION_KEYS=only_version_2, FIELD_ENCRYPTION_ACTIVE_VERSION=0
    ):
        assert_every_value_unchanged(loaded)
        for model in models_with_encrypted_fields():
            assert count_stale(model) == 0


@override_settings(FIELD_ENCRYPTION_ACTIVE_VERSION=2)
def test_rotation_writes_fresh_tokens(loaded: Loaded) -> None:
    before = raw_tokens()
    call_command("rotate_keys", stdout=io.StringIO())
    after = raw_tokens()
    assert before.keys() == after.keys()
    for key, tokens in before.items():
        for old, new in zip(tokens, after[key], strict=True):
            assert (old is None) == (new is None)
            if old is not None:
                assert old != new


@override_settings(FIELD_ENCRYPTION_ACTIVE_VERSION=2)
def test_dry_run_changes_nothing(loaded: Loaded) -> None:
    before = raw_tokens()
    out = io.StringIO()
    call_command("rotate_keys", dry_run=True, stdout=out)
    assert raw_tokens() == before
    assert all_versions() == Counter({1: CHILDREN * 3})
    text = out.getvalue()
    assert f"directory.Child: {CHILDREN} rows to re-encrypt" in text
    assert f"directory.Address: {CHILDREN} rows to re-encrypt" in text
    assert "run rotate_keys again before retiring old keys" in text


@override_settings(FIELD_ENCRYPTION_ACTIVE_VERSION=2)
def test_dry_run_after_rotation_reports_nothing_left(loaded: Loaded) -> None:
    call_command("rotate_keys", stdout=io.StringIO())
    out = io.StringIO()
    call_command("rotate_keys", dry_run=True, stdout=out)
    assert "Every value uses the active key." in out.getvalue()
    assert "directory.Child: 0 rows to re-encrypt" in out.getvalue()


@override_settings(FIELD_ENCRYPTION_ACTIVE_VERSION=2)
def test_command_max_batches_leaves_a_warning(loaded: Loaded) -> None:
    out = io.StringIO()
    call_command("rotate_keys", batch_size=2, max_batches=1, stdout=out)
    text = out.getvalue()
    assert "directory.Child: done, 2 re-encrypted, 3 remaining" in text
    assert "still hold values under older key versions" in text
    assert count_stale(Child) == 3
    assert_every_value_unchanged(loaded)


@override_settings(FIELD_ENCRYPTION_ACTIVE_VERSION=2)
def test_second_run_has_nothing_to_do(loaded: Loaded) -> None:
    first = rotate_model(Child, batch_size=2)
    assert (first.rows_rotated, first.batches, first.remaining) == (CHILDREN, 3, 0)
    second = rotate_model(Child, batch_size=2)
    assert (second.rows_rotated, second.batches, second.remaining) == (0, 0, 0)


def test_rows_with_mixed_versions_are_stale_and_rotated(loaded: Loaded) -> None:
    child = Child._base_manager.order_by("pk").first()
    assert child is not None
    with override_settings(FIELD_ENCRYPTION_ACTIVE_VERSION=2):
        # One column re-sealed under version 2, the others still version 1.
        loaded.seal(child, "match_profile", "re-sealed under v2")
        child.save(update_fields=["match_profile"])
        assert versions(Child)[child.pk] == {1, 2}
        assert count_stale(Child) == CHILDREN
        rotate_model(Child, batch_size=10)
        assert versions(Child)[child.pk] == {2}
    # Back on version 1 everything is stale again: rotation works both ways.
    assert count_stale(Child) == CHILDREN
    assert_every_value_unchanged(loaded)


def test_rotating_to_the_same_version_changes_nothing(loaded: Loaded) -> None:
    before = raw_tokens()
    progress = rotate_model(Child, batch_size=2)
    assert progress.rows_rotated == 0
    assert raw_tokens() == before


class RunKilledError(Exception):
    """Stands in for a worker killed between batches."""


@override_settings(FIELD_ENCRYPTION_ACTIVE_VERSION=2)
def test_a_run_killed_after_a_batch_keeps_that_batch(loaded: Loaded) -> None:
    def stop(progress: RotationProgress) -> None:
        raise RunKilledError

    with pytest.raises(RunKilledError):
        rotate_model(Child, batch_size=2, on_batch=stop)
    assert count_stale(Child) == 3
    assert_every_value_unchanged(loaded)
    finished = rotate_model(Child, batch_size=2)
    assert (finished.rows_rotated, finished.remaining) == (3, 0)
    assert_every_value_unchanged(loaded)


@override_settings(FIELD_ENCRYPTION_ACTIVE_VERSION=2)
def test_a_moved_token_stops_rotation_and_rolls_back_its_batch(
    loaded: Loaded,
) -> None:
    first, second = Child._base_manager.order_by("pk")[:2]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE directory_child SET match_profile = "
            "(SELECT match_profile FROM directory_child WHERE id = %s) WHERE id = %s",
            [second.pk, first.pk],
        )
    before = raw_tokens()
    with pytest.raises(DecryptionError):
        rotate_model(Child, batch_size=10)
    # Nothing was re-encrypted from the moved value, nor from its batch.
    assert raw_tokens() == before
    assert count_stale(Child) == CHILDREN
