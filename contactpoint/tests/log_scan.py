"""pytest plugin (``-p contactpoint.tests.log_scan``, in pyproject's addopts):
no log record of the whole test run holds a test child's personal details.

What counts as a test child's details: every value the field encryption seals
during the run for a child's names, date of birth (or death), NHS number, UPN
or postcode, a carer's name, the names, dates, identifiers and postcodes in a
stored feed row, and the names, date of birth and postcode a search was
asked for. They are caught where they are encrypted
(``FieldCipher.encrypt_with_version``, which every write path reaches), so
values from factories, the demo seeder, feed files and generated inputs all
count, however the test made them.

What counts as logged: every record that reaches the root logger at the
configured levels (what production would write), as its message, the type
and text of its exception (chained ones too; not the traceback's source
lines, which are code) and its ``extra`` values. A handler added to the root
logger keeps them for the run.

How a value is found: text and values are split into words, accents
folded; a value is found when its words appear consecutively in a record, so
``N17 6QA`` is found in ``n17-6qa``, ``2015-11-02`` in ``2015/11/02`` and
``Climbié`` in ``Climbie``. Names keep their case (as written, or in
capitals), so the child called Hope is not found in "we hope"; other details
ignore it. What cannot be a real detail is skipped: single words under three
characters, names that are not capitalised words (generated API input such
as ``status``), dates outside 1900-2100, postcodes of the wrong shape.

At the end the controller scans every record against every value, wherever
they came from (pytest-xdist workers send theirs: a value sealed by one
worker's test and logged by another's is found too), and any finding fails
the run, naming the test, logger and kind of value.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import astuple, dataclass
from typing import Any

import pytest

#: (table, column) sealed values that are a child's or carer's details.
SEALED_DETAILS = {
    ("directory_child", "date_of_birth"): "date of birth",
    ("directory_child", "date_of_death"): "date of birth",
    ("directory_child", "nhs_number"): "NHS number",
    ("directory_child", "upn"): "UPN",
    ("directory_childname", "given_names"): "name",
    ("directory_childname", "family_name"): "name",
    ("directory_address", "postcode"): "postcode",
    ("directory_carer", "name"): "name",
}
#: JSON documents sealed whole, and the keys in them that hold details.
SEALED_DOCUMENTS = {
    ("ingestion_feedrow", "payload"),
    ("audit_accessevent", "query_terms"),
}
DOCUMENT_KEYS = {
    "given_names": "name",
    "given_name": "name",
    "family_name": "name",
    "date_of_birth": "date of birth",
    "nhs_number": "NHS number",
    "upn": "UPN",
    "postcode": "postcode",
}
_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")
#: Capitalised words of letters, joined by spaces, hyphens or apostrophes.
_NAME = re.compile(r"^[^\W\d_][^\W\d_]+(?:[ '’-]+[^\W\d_]+)*$")
_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$", re.IGNORECASE)
#: The LogRecord attributes every record has; anything else is an extra.
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_OUTPUT_KEY = "contactpoint_log_scan"


def words(text: str, *, keep_case: bool = False) -> tuple[str, ...]:
    """``text`` with accents (and unless ``keep_case``, case) folded, in words."""
    decomposed = unicodedata.normalize("NFKD", text if keep_case else text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return tuple(_WORD.findall(plain))


@dataclass(frozen=True, slots=True)
class Finding:
    test: str
    logger: str
    level: str
    kind: str
    value: str

    def __str__(self) -> str:
        return (
            f"{self.test}: {self.level} record of logger {self.logger!r} "
            f"holds a {self.kind} ({self.value!r})"
        )


_Index = dict[str, dict[tuple[str, ...], tuple[str, str]]]


class Needles:
    """The details to look for, indexed by their first word."""

    def __init__(self) -> None:
        self._folded: _Index = {}  # case ignored
        self._cased: _Index = {}  # names: case kept
        #: Every (kind, value) added, to send to the xdist controller.
        self.added: set[tuple[str, str]] = set()

    def __len__(self) -> int:
        return sum(
            len(found)
            for index in (self._folded, self._cased)
            for found in index.values()
        )

    def add(self, kind: str, value: str) -> None:
        value = value.strip()
        if (kind, value) in self.added or not _plausible(kind, value):
            return
        self.added.add((kind, value))
        keep_case = kind == "name"
        index = self._cased if keep_case else self._folded
        for variant in _variants(kind, value):
            split = words(variant, keep_case=keep_case)
            if not split or (len(split) == 1 and len(split[0]) < 3):
                continue
            index.setdefault(split[0], {})[split] = (kind, value)

    def add_sealed(self, table: str, column: str, plaintext: str) -> None:
        kind = SEALED_DETAILS.get((table, column))
        if kind is not None:
            self.add(kind, plaintext)
        elif (table, column) in SEALED_DOCUMENTS:
            try:
                document = json.loads(plaintext)
            except ValueError:
                return
            for key, value in _items(document):
                if key in DOCUMENT_KEYS and isinstance(value, str):
                    self.add(DOCUMENT_KEYS[key], value)

    def found_in(self, text: str) -> Iterator[tuple[str, str]]:
        """(kind, value) of every detail whose words appear in ``text``."""
        for index, split in (
            (self._folded, words(text)),
            (self._cased, words(text, keep_case=True)),
        ):
            for start, word in enumerate(split):
                for needle, found in index.get(word, {}).items():
                    if split[start : start + len(needle)] == needle:
                        yield found


def _plausible(kind: str, value: str) -> bool:
    """Drop what cannot be a real detail (generated junk in refused input)."""
    if kind == "name":
        return bool(_NAME.match(value)) and value[0].isupper()
    if kind == "date of birth":
        try:
            return 1900 <= dt.date.fromisoformat(value).year <= 2100
        except ValueError:
            return False
    if kind == "NHS number":
        return len("".join(_DIGITS.findall(value))) == 10
    if kind == "postcode":
        return bool(_POSTCODE.match(value))
    return len(value) >= 5


def _variants(kind: str, value: str) -> Iterable[str]:
    """The ways the same detail is commonly written."""
    yield value
    if kind == "name":
        yield value.upper()
    elif kind == "date of birth":
        day = dt.date.fromisoformat(value)
        yield f"{day:%d/%m/%Y}"
        yield f"{day.day} {day:%B %Y}"
    elif kind == "NHS number":
        digits = "".join(_DIGITS.findall(value))
        yield digits
        yield f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    elif kind == "postcode":
        yield value.replace(" ", "")


def _items(document: object) -> Iterator[tuple[str, object]]:
    if isinstance(document, dict):
        for key, value in document.items():
            yield str(key), value
            yield from _items(value)
    elif isinstance(document, list):
        for value in document:
            yield from _items(value)


def record_text(record: logging.LogRecord) -> str:
    """Everything a record would put in a log line, except traceback source."""
    try:
        parts = [record.getMessage()]
    except (TypeError, ValueError):
        parts = [str(record.msg), repr(record.args)]
    seen: set[int] = set()
    exc = record.exc_info[1] if record.exc_info else None
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        parts.append(f"{type(exc).__name__}: {exc}")
        exc = exc.__cause__ or exc.__context__
    parts.extend(
        f"{key}={value}"
        for key, value in vars(record).items()
        if key not in _STANDARD_ATTRIBUTES
    )
    return "\n".join(parts)


@dataclass(frozen=True, slots=True)
class Kept:
    test: str
    logger: str
    level: str
    text: str


class KeepingHandler(logging.Handler):
    """Keeps the text of every record, with the test that was running."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        #: A set: the same record from the same test is kept once.
        self.kept: set[Kept] = set()
        self.test = "(outside any test)"

    def emit(self, record: logging.LogRecord) -> None:
        self.kept.add(
            Kept(self.test, record.name, record.levelname, record_text(record))
        )


def scan(kept: Iterable[Kept], needles: Needles) -> list[Finding]:
    findings = []
    for item in kept:
        for kind, value in set(needles.found_in(item.text)):
            findings.append(Finding(item.test, item.logger, item.level, kind, value))
    return findings


# --- The plugin ----------------------------------------------------------------

_needles = Needles()
_handler = KeepingHandler()
#: What finished xdist workers sent: their records and details.
_from_workers: list[Kept] = []
_findings: list[Finding] = []


def _remember_sealed_values() -> None:
    from contactpoint.crypto.aead import FieldCipher

    encrypt = FieldCipher.encrypt_with_version

    def remembering(
        self: FieldCipher, *, table: str, column: str, plaintext: str, **kwargs: Any
    ) -> bytes:
        _needles.add_sealed(table, column, plaintext)
        return encrypt(self, table=table, column=column, plaintext=plaintext, **kwargs)

    FieldCipher.encrypt_with_version = remembering  # type: ignore[method-assign]


def _attach() -> None:
    root = logging.getLogger()
    if _handler not in root.handlers:
        root.addHandler(_handler)


def pytest_configure(config: pytest.Config) -> None:
    _remember_sealed_values()


def pytest_sessionstart(session: pytest.Session) -> None:
    # After Django configured logging (dictConfig replaces the root's handlers).
    _attach()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    _attach()  # again, should a test have configured logging afresh
    _handler.test = item.nodeid
    try:
        return (yield)
    finally:
        _handler.test = "(outside any test)"


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """Controller: take a finished xdist worker's records and details."""
    output = (getattr(node, "workeroutput", None) or {}).get(_OUTPUT_KEY)
    if output:
        _from_workers.extend(Kept(*kept) for kept in output["kept"])
        for kind, value in output["details"]:
            _needles.add(kind, value)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller scans
        workeroutput[_OUTPUT_KEY] = {
            "kept": sorted(astuple(kept) for kept in _handler.kept),
            "details": sorted(_needles.added),
        }
        return
    _findings.extend(scan([*_handler.kept, *_from_workers], _needles))
    if _findings and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _findings:
        return
    terminalreporter.write_sep("=", "personal data in logs", red=True)
    for found in sorted(set(_findings), key=str):
        terminalreporter.write_line(str(found))
    terminalreporter.write_line(
        f"FAILED: {len(_findings)} log records hold a test child's details "
        "(contactpoint/tests/log_scan.py). Log ids and codes, never the data."
    )
