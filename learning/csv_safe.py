"""CSV that opens safely in a spreadsheet: every cell quoted, formula triggers neutralised.

What a learner typed (a comment, a short answer) or an author wrote (a prompt) can start with
``=``, ``+``, ``-`` or ``@``; Excel, LibreOffice Calc and Google Sheets then read the cell as a
formula (``=HYPERLINK(...)``, DDE). Following OWASP's "CSV Injection" guidance:

- a text cell whose first character is ``=``, ``+``, ``-``, ``@``, a tab, a carriage return, a
  line feed or NUL (OWASP names the first six; ASVS 5 adds NUL) — or their full-width forms
  ``＝ ＋ － ＠``, which some spreadsheets fold to ASCII — gets a single quote ``'`` in front,
  so the spreadsheet shows it as text;
- every cell is wrapped in double quotes and a double quote inside a cell is doubled (RFC 4180),
  so a comma or a line break inside a cell cannot start a new cell or row.

Only text gets the prefix: numbers, booleans and times are written by us, never by a person.
The quote stays visible in the cell; the xAPI export carries the raw values.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TextIO

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "＝", "＋", "－", "＠")

# Excel opens a double-clicked .csv in the system's ANSI code page unless the file starts with a
# UTF-8 byte-order mark; with it, "José", "Zoë" and emoji survive. Python reads it back with
# encoding="utf-8-sig", pandas with the same, LibreOffice and Google Sheets ignore it.
BOM = "\ufeff"


def neutralise(text: str) -> str:
    """Text that a spreadsheet shows as text, never evaluates."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def iso_utc(when: datetime) -> str:
    """2026-03-02T09:30:00Z: ISO 8601 in UTC, seconds precision (what a spreadsheet can sort)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cell(value: Any) -> str:
    """One value as CSV text: empty for None, true/false, ISO 8601 UTC times, neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(value, ".6g")
    return neutralise(str(value))


def write_csv(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = True) -> int:
    """Write a header and rows, one record per row; returns the number of rows.

    ``out`` is a text file opened with ``newline=""`` (the csv module writes CRLF row ends).
    """
    if bom:
        out.write(BOM)
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([cell(name) for name in header])
    count = 0
    for row in rows:
        writer.writerow([cell(value) for value in row])
        count += 1
    return count
