"""Truncated blind indexes: HMAC-SHA256 over a normalised value, cut to L bits.

Truncation is the leakage control: many different inputs share each output,
so an index value alone never pins a child; false positives are removed after
decryption. Indexes are declared once (see ``directory/search_index.py``) with
the bits they keep and an estimate of the entropy of their input, and the
planner (``contactpoint/crypto/planner.py``) checks the declared set.
"""

import hmac
from dataclasses import dataclass

from contactpoint.crypto.keys import BlindIndexRoot

MAX_BITS = 32


@dataclass(frozen=True, slots=True)
class BlindIndex:
    """One declared blind index.

    ``code`` is the small integer stored beside each value (the index's name
    never reaches the database). ``fields`` are the encrypted fields whose
    plaintext feeds it; ``input_bits`` is the estimated entropy K of the
    transformed input, used by the planner.
    """

    code: int
    name: str
    table: str
    fields: tuple[str, ...]
    bits: int
    input_bits: float

    def __post_init__(self) -> None:
        if not 1 <= self.bits <= MAX_BITS:
            raise ValueError(f"Blind index {self.name}: bits must be 1..{MAX_BITS}.")


def index_value(root: BlindIndexRoot, index: BlindIndex, transformed: str) -> int:
    """The truncated HMAC of an already-transformed input, as a non-negative int."""
    key = root.index_key(index.table, index.fields, index.name)
    digest = hmac.digest(key, transformed.encode("utf-8"), "sha256")
    return int.from_bytes(digest[:4], "big") >> (MAX_BITS - index.bits)
