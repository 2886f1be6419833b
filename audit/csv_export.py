"""CSV for the auditor's export, safe to open in a spreadsheet.

The rule (``cell_neutralise``): a cell whose text starts with ``=``, ``+``,
``-``, ``@``, a tab, a carriage return or a NUL character gets a single
quote ``'`` put in front of it. Spreadsheets (Excel, LibreOffice, Google
Sheets) read such a cell as a formula, or strip the first character and
then read a formula; after the quote they show it as text. Nothing else is
changed: no character is removed, so the value an auditor sees is the value
in the log with one visible ``'`` in front. Every cell goes through the
rule, whatever its column: names, reasons and details are typed by people.

CSV quoting itself (commas, double quotes, line breaks inside a cell) is the
standard library's ``csv.writer``'s job.
"""

import csv
from collections.abc import Iterable, Iterator, Sequence

#: The leading characters that make a spreadsheet evaluate a cell.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")

#: Tells Excel the file is UTF-8 (names with accents would garble otherwise).
UTF8_BOM = "\ufeff"


def cell_neutralise(value: str) -> str:
    """``value`` made safe for a spreadsheet cell: see the module's rule."""
    if value.startswith(FORMULA_TRIGGERS):
        return f"'{value}"
    return value


class _Line:
    """A file-like object whose ``write`` hands the line back (for streaming)."""

    def write(self, line: str) -> str:
        return line


def csv_lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """Each row as one CSV line, every cell neutralised; a BOM first.

    ``None`` becomes an empty cell; anything else is ``str()``-ed first.
    Lazy: made for ``StreamingHttpResponse``.
    """
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield UTF8_BOM
    for row in rows:
        line: str = writer.writerow(
            [cell_neutralise("" if cell is None else str(cell)) for cell in row]
        )
        yield line
