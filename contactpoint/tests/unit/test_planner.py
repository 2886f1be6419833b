"""The blind-index leakage budget (CipherSweet planner rule).

``test_declared_indexes_keep_every_field_within_budget`` is the acceptance
test: it recomputes the budget over the indexes the directory actually
declares and fails, naming the field, when a new or widened index breaks it.
"""

import dataclasses
import math

import pytest

from contactpoint.crypto.blind_index import BlindIndex
from contactpoint.crypto.planner import (
    MIN_COINCIDENCES,
    PLANNED_ROWS,
    budget_problems,
    field_budgets,
)
from directory.search_index import DECLARED_INDEXES, FAMILY_YEAR, TABLE

ROWS = 12_000_000


def _index(name: str, fields: tuple[str, ...], bits: int, k: float) -> BlindIndex:
    return BlindIndex(
        code=90, name=name, table="t", fields=fields, bits=bits, input_bits=k
    )


# --- the declared indexes -----------------------------------------------------------


def test_planned_rows_are_twelve_million() -> None:
    assert PLANNED_ROWS == ROWS
    assert MIN_COINCIDENCES == 2


def test_declared_indexes_keep_every_field_within_budget() -> None:
    assert budget_problems(DECLARED_INDEXES) == []
    budgets = field_budgets(DECLARED_INDEXES)
    assert budgets, "no declared index"
    for budget in budgets:
        assert 2 <= budget.coincidences <= math.sqrt(ROWS), budget
        assert budget.problem is None


def test_every_field_of_every_declared_index_is_budgeted() -> None:
    budgeted = {b.field for b in field_budgets(DECLARED_INDEXES)}
    for index in DECLARED_INDEXES:
        for field in index.fields:
            assert f"{index.table}.{field}" in budgeted


def test_declared_indexes_have_unique_codes_and_names() -> None:
    assert len({i.code for i in DECLARED_INDEXES}) == len(DECLARED_INDEXES)
    assert len({i.name for i in DECLARED_INDEXES}) == len(DECLARED_INDEXES)


def test_declared_indexes_are_few() -> None:
    # ARCHITECTURE §5: few compound indexes. More needs a design review.
    assert len(DECLARED_INDEXES) <= 6


# --- a hypothetical extra index breaks the budget and is named -----------------------


def test_a_postcode_only_index_breaks_the_postcode_budget() -> None:
    postcode_only = BlindIndex(
        code=6,
        name="postcode_full",
        table=TABLE,
        fields=("postcode",),
        bits=20,
        input_bits=20.7,  # ~1.7 million live UK postcodes
    )
    problems = budget_problems((*DECLARED_INDEXES, postcode_only))
    assert len(problems) == 1
    assert problems[0].startswith(f"{TABLE}.postcode:")
    assert "postcode_full" in problems[0]
    assert "could single out a child" in problems[0]


def test_widening_family_year_breaks_family_name_and_date_of_birth() -> None:
    wider = dataclasses.replace(FAMILY_YEAR, bits=16)
    declared = tuple(wider if i is FAMILY_YEAR else i for i in DECLARED_INDEXES)
    problems = budget_problems(declared)
    broken = sorted(p.split(":", 1)[0] for p in problems)
    assert broken == [f"{TABLE}.date_of_birth", f"{TABLE}.family_name"]
    assert all("family_phonetic_birth_year" in p for p in problems)


def test_a_too_narrow_index_is_named_as_too_coarse() -> None:
    narrow = _index("nhs_4_bits", ("nhs_number",), bits=4, k=29.9)
    (problem,) = budget_problems([narrow])
    assert problem.startswith("t.nhs_number:")
    assert "too coarse" in problem
    assert "750000 coincidences" in problem


# --- the formula on hand-computed numbers ------------------------------------------


def test_single_index_uses_its_bits_when_input_has_more_entropy() -> None:
    (budget,) = field_budgets([_index("a", ("f",), bits=12, k=21.2)])
    assert budget.field == "t.f"
    assert budget.effective_bits == 12
    assert budget.coincidences == pytest.approx(12_000_000 / 4096)  # 2929.6875
    assert budget.problem is None


def test_single_index_uses_input_entropy_when_it_is_lower() -> None:
    (budget,) = field_budgets([_index("a", ("f",), bits=20, k=8.0)])
    assert budget.effective_bits == 8
    assert budget.coincidences == pytest.approx(46_875.0)
    assert budget.problem is not None
    assert "too coarse" in budget.problem


def test_indexes_on_the_same_field_add_up() -> None:
    budgets = field_budgets(
        [
            _index("a", ("f", "g"), bits=10, k=16.1),
            _index("b", ("f", "h"), bits=12, k=21.2),
        ]
    )
    by_field = {b.field: b for b in budgets}
    assert sorted(by_field) == ["t.f", "t.g", "t.h"]
    assert by_field["t.f"].effective_bits == 22
    assert by_field["t.f"].indexes == ("a", "b")
    assert by_field["t.f"].coincidences == pytest.approx(12_000_000 / 2**22)  # 2.861
    assert by_field["t.g"].coincidences == pytest.approx(12_000_000 / 2**10)  # 11719
    assert by_field["t.h"].coincidences == pytest.approx(12_000_000 / 2**12)  # 2930
    problems = budget_problems(
        [
            _index("a", ("f", "g"), bits=10, k=16.1),
            _index("b", ("f", "h"), bits=12, k=21.2),
        ]
    )
    # g: 11719 > sqrt(12e6) = 3464 -> too coarse; f and h are fine.
    assert [p.split(":")[0] for p in problems] == ["t.g"]


def test_fractional_entropy_is_kept() -> None:
    (budget,) = field_budgets([_index("a", ("f",), bits=32, k=21.5)])
    assert budget.effective_bits == 21.5
    assert budget.coincidences == pytest.approx(12_000_000 / 2**21.5)  # 4.046


def test_boundaries_are_inclusive() -> None:
    index = _index("a", ("f",), bits=10, k=32.0)
    # C = 2**11 / 2**10 = 2 exactly: allowed.
    assert budget_problems([index], rows=2**11) == []
    # C = (2**11 - 1) / 2**10 < 2: refused.
    (low,) = budget_problems([index], rows=2**11 - 1)
    assert "must be >= 2" in low
    # C = 2**20 / 2**10 = 1024 = sqrt(2**20) exactly: allowed.
    assert budget_problems([index], rows=2**20) == []
    # C = (2**20 + 4096) / 1024 = 1028 > sqrt(2**20 + 4096) ~ 1026: refused.
    (high,) = budget_problems([index], rows=2**20 + 4096)
    assert "too coarse" in high


def test_declared_budget_table() -> None:
    """The numbers docs/crypto.md quotes, recomputed from the declarations."""
    table = {
        b.field.removeprefix(f"{TABLE}."): (b.effective_bits, round(b.coincidences, 2))
        for b in field_budgets(DECLARED_INDEXES)
    }
    assert table == {
        "date_of_birth": (22.0, 2.86),
        "family_name": (22.0, 2.86),
        "given_names": (12.0, 2929.69),
        "nhs_number": (22.0, 2.86),
        "postcode": (12.0, 2929.69),
        "upn": (22.0, 2.86),
    }


# --- what the database shows in clear counts too ------------------------------------


def test_no_clear_column_derives_from_the_date_of_birth() -> None:
    """A clear birth year (e.g. a stored retention year) would be a 4.6-bit,
    untruncated index on date_of_birth and break its budget; none is stored."""
    from directory.models import Child

    clear = {f.name for f in Child._meta.concrete_fields}
    assert not clear & {"retain_until", "retain_until_year", "birth_year", "age"}
