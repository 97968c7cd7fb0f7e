"""CSV files people write by hand (employee lists, reassignment plans): rows by their line in
the file, and every bad row reported with its line and reason rather than the first one only."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ConfigDict

from seattui.domain.base import DomainModel
from seattui.domain.errors import ValidationFailed

MAX_CELL = 1000
# A cell a spreadsheet would run as a formula (CSV injection) starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """Stored text as a cell that a spreadsheet shows and never runs: data, never a command."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class RowProblem(DomainModel):
    """One bad row: its line in the file (the header is line 1) and what is wrong with it."""

    model_config = ConfigDict(frozen=True)

    line: int
    reason: str


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]


def read_rows(text: str, columns: Sequence[str]) -> tuple[list[CsvRow], list[RowProblem]]:
    """The rows under a header that names `columns` (any order, any case); blank lines skipped.

    A file whose header does not name the columns raises ValidationFailed: nothing in it can
    be read. A row with too many or too few values is a problem of that row.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    wanted = ", ".join(columns)
    header: list[str] | None = None
    rows: list[CsvRow] = []
    problems: list[RowProblem] = []
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in record]
                missing = [column for column in columns if column not in header]
                if missing:
                    raise ValidationFailed(
                        f"Line {reader.line_num} must name the columns {wanted}; "
                        f"it lacks {', '.join(missing)}.",
                        {"header": f"expected the columns {wanted}"},
                    )
                continue
            if len(record) != len(header):
                problems.append(RowProblem(line=reader.line_num, reason=(
                    f"{len(record)} values where the header has {len(header)} ({', '.join(header)})")))
                continue
            if any(len(cell) > MAX_CELL for cell in record):
                problems.append(RowProblem(line=reader.line_num, reason=f"a value is longer than {MAX_CELL} characters"))
                continue
            values = {name: cell.strip() for name, cell in zip(header, record, strict=True) if name in columns}
            rows.append(CsvRow(reader.line_num, values))
    except csv.Error as error:
        problems.append(RowProblem(line=reader.line_num, reason=f"not readable as CSV ({error})"))
    if header is None:
        raise ValidationFailed(f"The file is empty: its first line must name the columns {wanted}.",
                               {"header": f"expected the columns {wanted}"})
    return rows, problems


def problems_text(problems: Sequence[RowProblem], *, most: int = 20) -> str:
    """The bad rows, one per line, for a person to fix them."""
    lines = [f"line {problem.line}: {problem.reason}" for problem in problems[:most]]
    if len(problems) > most:
        lines.append(f"... and {len(problems) - most} more")
    return "\n".join(lines)
