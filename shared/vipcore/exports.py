"""Spreadsheet and CSV exports every service writes through: a cell that a spreadsheet would read as a formula
(text starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is written as text (a leading `'`), so a name
or note typed by anyone can never run as a formula in the HQ's spreadsheet (CSV/formula injection). Numbers stay
numbers: only text is ever changed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value to write in a cell: text that could start a formula gets a leading `'`; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in row]


def _csv_field(value: Any) -> str:
    text = "" if value is None else str(value)
    # quoted when it holds a separator, a quote or any line break (the csv module leaves a lone CR unquoted, and a
    # CR starts a new row in a spreadsheet: "x\r=1+1" would bring a formula back at the start of a line)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_text(header: Sequence[Any], rows: Iterable[Iterable[Any]], *, lineterminator: str = "\n") -> str:
    """A CSV document (header, then rows) with every cell made safe."""
    return "".join(",".join(_csv_field(v) for v in safe_row(r)) + lineterminator for r in [header, *rows])


def xlsx_append(ws: Any, row: Iterable[Any]) -> None:
    """Append a row to an openpyxl worksheet with every cell made safe (numbers stay numeric cells)."""
    ws.append(safe_row(row))
