"""CSV that people open in a spreadsheet: a text cell is shown, never run as a formula.

A resident's report or a municipality's answer starting with ``=`` would otherwise be a
formula in Excel or LibreOffice (OWASP "CSV injection"): it can read other cells and
send them away. Following OWASP, such a cell gets a leading single quote. Numbers the
bot wrote itself (coordinates, counts) stay numbers; JSON exports stay exact.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# OWASP's list, and the full-width signs that some spreadsheets read the same way.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def cell(value: Any) -> Any:
    """`value` as it may go in a CSV cell: text that starts a formula gets a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A CSV document with a header row; every text cell made safe by :func:`cell`.

    Lines end in CRLF (RFC 4180), so a line break of either kind inside a text is quoted
    and cannot start a new row.
    """
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=[cell(f) for f in fields], lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({cell(k): cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()
