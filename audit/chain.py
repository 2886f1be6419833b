"""The audit log's hash chain and checkpoints: pure rules, no Django.

docs/audit-format.md is the specification of everything here, written so an
auditor can re-implement the check without this code. In short:

- An event's *body* is the UTF-8 JSON of its fields other than seq,
  occurred_at and the hashes (names and encodings in ``EVENT_FIELDS``), keys
  sorted, no whitespace, non-ASCII kept.
- ``entry_hash = SHA-256(prev_hash "\n" seq "\n" occurred_at "\n" body)``
  in lower-case hex, where ``prev_hash`` is the previous event's entry_hash
  (``GENESIS_HASH`` for sequence number 1): changing, removing or reordering
  any event changes every hash after it. The database computes it when it
  numbers the event (``audit_event_append``, migration 0003); this module
  recomputes it.
- A checkpoint is the canonical JSON of ``{"created_at", "entry_hash",
  "key_id", "seq"}`` signed with Ed25519.

``ChainVerifier`` walks events in sequence order and reports the first broken
sequence number; it holds one event at a time, so any size of log fits.
"""

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

GENESIS_HASH = "0" * 64

#: Every field of an event that the hash covers, and how it is encoded:
#: "uuid" lower-case hyphenated or null; "time" ISO 8601 UTC with
#: microseconds and "Z"; "bytes" base64 (RFC 4648, padded) or null; "int",
#: "str" and "bool" as JSON. Only entry_hash itself is left out.
EVENT_FIELDS: Mapping[str, str] = {
    "id": "uuid",
    "seq": "int",
    "occurred_at": "time",
    "actor_id": "uuid",
    "actor_role": "str",
    "organisation_id": "int",
    "action": "str",
    "outcome": "str",
    "reason": "str",
    "child_id": "uuid",
    "subject_user_id": "uuid",
    "detail": "str",
    "purpose": "str",
    "purpose_detail": "bytes",
    "break_glass": "bool",
    "shielded_record": "bool",
    "request_id": "str",
    "query_terms": "bytes",
    "result_ids": "bytes",
    "prev_hash": "str",
}


def canonical_json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def encode_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("Audit times must be timezone-aware.")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_ENCODERS: Mapping[str, Any] = {
    "uuid": lambda value: str(UUID(str(value))),
    "time": encode_time,
    "bytes": lambda value: base64.b64encode(bytes(value)).decode("ascii"),
    "int": int,
    "bool": bool,
    "str": str,
}


def _encode(kind: str, value: Any) -> Any:
    return None if value is None else _ENCODERS[kind](value)


#: Fields the database sets when it appends the event, outside the body.
CHAIN_FIELDS = ("seq", "occurred_at", "prev_hash")


def event_document(values: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON object of an event's body (``values`` maps field names)."""
    return {
        name: _encode(kind, values[name])
        for name, kind in EVENT_FIELDS.items()
        if name not in CHAIN_FIELDS
    }


def event_body(values: Mapping[str, Any]) -> str:
    return canonical_json(event_document(values)).decode("utf-8")


def entry_hash(values: Mapping[str, Any]) -> str:
    text = "\n".join(
        (
            str(values["prev_hash"]),
            str(int(values["seq"])),
            encode_time(values["occurred_at"]),
            event_body(values),
        )
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Checkpoints -------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of SHA-256 of the raw 32-byte public key."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signing_key_load(seed_b64: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from its base64 32-byte seed."""
    try:
        seed = base64.b64decode(seed_b64, validate=True)
    except ValueError:
        raise ValueError("The audit signing key is not valid base64.") from None
    if len(seed) != 32:  # Ed25519 seeds are 32 bytes
        raise ValueError(
            f"The audit signing key must be 32 bytes of base64; it is {len(seed)}."
        )
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_load(raw_b64: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(raw_b64, validate=True))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    entry_hash: str
    created_at: datetime
    key_id: str
    signature: str  # base64

    def signed_document(self) -> bytes:
        return checkpoint_payload(
            seq=self.seq,
            entry_hash=self.entry_hash,
            created_at=self.created_at,
            key_id=self.key_id,
        )

    def as_line(self) -> str:
        """One line of a checkpoint file (JSON, with the signature)."""
        document = json.loads(self.signed_document())
        document["signature"] = self.signature
        return canonical_json(document).decode("utf-8")

    @classmethod
    def from_line(cls, line: str) -> "Checkpoint":
        document = json.loads(line)
        return cls(
            seq=int(document["seq"]),
            entry_hash=str(document["entry_hash"]),
            created_at=datetime.strptime(
                document["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ"
            ).replace(tzinfo=UTC),
            key_id=str(document["key_id"]),
            signature=str(document["signature"]),
        )


def checkpoint_payload(
    *, seq: int, entry_hash: str, created_at: datetime, key_id: str
) -> bytes:
    return canonical_json(
        {
            "created_at": encode_time(created_at),
            "entry_hash": entry_hash,
            "key_id": key_id,
            "seq": seq,
        }
    )


def checkpoint_sign(
    private_key: Ed25519PrivateKey, *, seq: int, entry_hash: str, created_at: datetime
) -> Checkpoint:
    kid = key_id(private_key.public_key())
    payload = checkpoint_payload(
        seq=seq, entry_hash=entry_hash, created_at=created_at, key_id=kid
    )
    signature = base64.b64encode(private_key.sign(payload)).decode("ascii")
    return Checkpoint(seq, entry_hash, created_at, kid, signature)


def checkpoint_signature_valid(
    checkpoint: Checkpoint, public_keys: Mapping[str, Ed25519PublicKey]
) -> bool:
    public_key = public_keys.get(checkpoint.key_id)
    if public_key is None:
        return False
    try:
        public_key.verify(
            base64.b64decode(checkpoint.signature), checkpoint.signed_document()
        )
    except (InvalidSignature, ValueError):
        return False
    return True


# Verification ------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One thing wrong, at the sequence number where it shows."""

    seq: int
    message: str


@dataclass(slots=True)
class ChainVerifier:
    """Feed events in ``seq`` order to ``add``; then ``finish`` with checkpoints.

    Checks: sequence numbers run 1, 2, 3… with no gap or repeat; each
    ``prev_hash`` is the previous event's ``entry_hash``; each ``entry_hash``
    is the hash of the event as stored; each checkpoint's signature is valid
    and its hash is the one the chain has at its sequence number; no
    checkpoint names a sequence number beyond the last event (events removed
    from the end).
    """

    public_keys: Mapping[str, Ed25519PublicKey]
    checkpoints: Iterable[Checkpoint] = ()
    events_checked: int = 0
    last_seq: int = 0
    problems: list[Problem] = field(default_factory=list)
    _prev_hash: str = GENESIS_HASH
    _wanted: dict[int, list[Checkpoint]] = field(default_factory=dict)
    _checkpoint_count: int = 0

    def __post_init__(self) -> None:
        for checkpoint in self.checkpoints:
            self._checkpoint_count += 1
            if not checkpoint_signature_valid(checkpoint, self.public_keys):
                self.problems.append(
                    Problem(
                        checkpoint.seq,
                        f"The checkpoint at sequence number {checkpoint.seq} "
                        f"(made {encode_time(checkpoint.created_at)}) has a "
                        "signature that does not verify with any configured "
                        "audit key: it was forged or altered.",
                    )
                )
                continue
            self._wanted.setdefault(checkpoint.seq, []).append(checkpoint)

    @property
    def checkpoints_checked(self) -> int:
        return self._checkpoint_count

    def add(self, values: Mapping[str, Any]) -> None:
        seq = int(values["seq"])
        expected = self.last_seq + 1
        self.events_checked += 1
        if seq < expected:
            self.problems.append(
                Problem(seq, f"Sequence number {seq} appears more than once.")
            )
            return
        if seq > expected:
            missing = (
                f"{expected}" if seq == expected + 1 else f"{expected} to {seq - 1}"
            )
            self.problems.append(
                Problem(
                    expected,
                    f"Sequence number {missing} is missing: events were removed.",
                )
            )
        if values["prev_hash"] != self._prev_hash:
            self.problems.append(
                Problem(
                    seq,
                    f"Event {seq} does not follow the event before it (its "
                    "previous hash differs): events were removed, inserted or "
                    "reordered.",
                )
            )
        computed = entry_hash(values)
        if computed != values["entry_hash"]:
            self.problems.append(
                Problem(
                    seq,
                    f"Event {seq} was changed after it was written (its "
                    "contents no longer match its hash).",
                )
            )
        for checkpoint in self._wanted.pop(seq, []):
            if checkpoint.entry_hash != computed:
                self.problems.append(
                    Problem(
                        seq,
                        f"Event {seq} differs from the signed checkpoint made "
                        f"{encode_time(checkpoint.created_at)}: the history up "
                        "to it was rewritten.",
                    )
                )
        self._prev_hash = str(values["entry_hash"])
        self.last_seq = seq

    def finish(self) -> list[Problem]:
        """Every problem, first broken sequence number first."""
        for seq, checkpoints in sorted(self._wanted.items()):
            made = encode_time(checkpoints[0].created_at)
            self.problems.append(
                Problem(
                    min(seq, self.last_seq + 1),
                    f"A signed checkpoint made {made} vouches for event {seq}, "
                    f"but the log ends at {self.last_seq}: events were removed "
                    "from the end.",
                )
            )
        self._wanted.clear()
        return sorted(self.problems)
