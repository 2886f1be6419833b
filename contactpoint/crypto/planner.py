"""The CipherSweet planner rule for blind-index leakage.

For every encrypted field, over the declared indexes that read it::

    coincidences C = R / 2 ** sum(min(L_i, K_i))

where R is the number of rows planned for (12,000,000 children), L_i the bits
an index keeps and K_i the estimated entropy of its input. C must stay at or
above 2 (every combination of index values is shared by at least two
children, so the indexes never single one out) and at or below sqrt(R) (the
indexes still narrow a search usefully). A compound index counts towards every
field it reads.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

from contactpoint.crypto.blind_index import BlindIndex

PLANNED_ROWS = 12_000_000
MIN_COINCIDENCES = 2.0


@dataclass(frozen=True, slots=True)
class FieldBudget:
    field: str
    indexes: tuple[str, ...]
    effective_bits: float
    coincidences: float
    rows: int

    @property
    def problem(self) -> str | None:
        """Why this field's indexes break the rule, or None when they keep it."""
        if self.coincidences < MIN_COINCIDENCES:
            return (
                f"{self.field}: indexes {', '.join(self.indexes)} keep "
                f"{self.effective_bits:.1f} bits, leaving {self.coincidences:.2f} "
                f"coincidences per value (must be >= {MIN_COINCIDENCES:g}): "
                "they could single out a child."
            )
        if self.coincidences > math.sqrt(self.rows):
            return (
                f"{self.field}: indexes {', '.join(self.indexes)} keep only "
                f"{self.effective_bits:.1f} bits, leaving {self.coincidences:.0f} "
                f"coincidences per value (must be <= sqrt(R) = "
                f"{math.sqrt(self.rows):.0f}): too coarse to be useful."
            )
        return None


def field_budgets(
    indexes: Iterable[BlindIndex], rows: int = PLANNED_ROWS
) -> list[FieldBudget]:
    """The leakage budget of every (table, field) read by the declared indexes."""
    by_field: dict[str, list[BlindIndex]] = {}
    for index in indexes:
        for name in index.fields:
            by_field.setdefault(f"{index.table}.{name}", []).append(index)
    budgets = []
    for name, group in sorted(by_field.items()):
        bits = sum(min(float(i.bits), i.input_bits) for i in group)
        budgets.append(
            FieldBudget(
                field=name,
                indexes=tuple(i.name for i in group),
                effective_bits=bits,
                coincidences=rows / 2**bits,
                rows=rows,
            )
        )
    return budgets


def budget_problems(
    indexes: Iterable[BlindIndex], rows: int = PLANNED_ROWS
) -> list[str]:
    """Every broken budget, as a message; empty when the declared set is safe."""
    return [b.problem for b in field_budgets(indexes, rows) if b.problem]
