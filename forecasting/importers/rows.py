"""Reading the importers' input: finding and sorting the files, reading CSV rows with their line
numbers, and collecting the rows that are not imported (:class:`Rows`, :class:`ImportSummary`).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ImportFormatError

__all__ = [
    "ImportSummary",
    "Rows",
    "SkippedRow",
    "classify_csv",
    "csv_header",
    "csv_lists",
    "expand",
    "read_csv",
    "read_rows",
]


@dataclass(frozen=True)
class SkippedRow:
    file: str
    line: int | str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class ImportSummary:
    """What an import did.  ``skipped`` lists every row that was not imported and why."""

    format: str
    rows_read: int = 0
    questions_imported: int = 0
    forecasts_imported: int = 0
    resolutions_imported: int = 0
    #: records whose deterministic id was already in the journal (an earlier import)
    already_present: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        """Records written: question snapshots, forecasts and resolutions."""
        return self.questions_imported + self.forecasts_imported + self.resolutions_imported

    @property
    def n_skipped(self) -> int:
        return len(self.skipped)

    def reasons(self) -> Counter[str]:
        """How many rows were skipped for each reason (the part before the first ':')."""
        return Counter(s.reason.split(":", 1)[0] for s in self.skipped)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "rows_read": self.rows_read,
            "imported": self.imported,
            "questions_imported": self.questions_imported,
            "forecasts_imported": self.forecasts_imported,
            "resolutions_imported": self.resolutions_imported,
            "already_present": self.already_present,
            "skipped": [{"file": s.file, "line": s.line, "reason": s.reason} for s in self.skipped],
            "notes": list(self.notes),
        }

    def lines(self, *, max_skipped: int = 50) -> list[str]:
        """The summary as text lines (what the CLI prints)."""
        out = [
            f"{self.format}: {self.rows_read} rows read; imported {self.questions_imported} "
            f"question versions, {self.forecasts_imported} forecasts, "
            f"{self.resolutions_imported} resolutions; {self.already_present} already in the "
            f"journal; {self.n_skipped} rows skipped",
        ]
        out += [f"note: {n}" for n in self.notes]
        if self.skipped:
            for reason, n in self.reasons().most_common():
                out.append(f"  skipped {n}: {reason}")
            for s in self.skipped[:max_skipped]:
                out.append(f"  {s}")
            if self.n_skipped > max_skipped:
                out.append(f"  … and {self.n_skipped - max_skipped} more")
        return out


class Rows:
    """Collects bad rows: raises at the first one, or (``skip_bad``) lists them all."""

    def __init__(self, summary: ImportSummary, *, skip_bad: bool) -> None:
        self.summary = summary
        self.skip_bad = skip_bad

    def bad(self, file: str, line: int | str, fld: str, message: str) -> None:
        if not self.skip_bad:
            raise ImportFormatError(f"{file}:{line}: {fld}: {message}")
        self.summary.skipped.append(SkippedRow(file, line, f"{fld}: {message}"))

    def skip(self, file: str, line: int | str, reason: str) -> None:
        """A row that is fine but deliberately not imported (a duplicate, say)."""
        self.summary.skipped.append(SkippedRow(file, line, reason))


def csv_lists(
    path: Path, required: Iterable[str]
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header of a CSV file and its rows as ``(line, values)``; ``line`` is the 1-based
    line the record starts on (records may span lines when a quoted field holds a newline).
    Empty lines are passed over, as :class:`csv.DictReader` does (and counted: the line of a
    later row is still right); ``values`` may be shorter or longer than the header.  A missing
    ``required`` column, bad CSV or text that is not UTF-8 raise :class:`ImportFormatError`
    naming the file and line.  The file is closed when the rows are exhausted or dropped."""
    records = _records(path, tuple(required))
    _, cols = next(records)  # the header, read inside the generator (which closes the file)
    return cols, records


def _records(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, list[str]]]:
    """``(0, header)``, then ``(line, values)`` of each record (see :func:`csv_lists`)."""
    name = path.name
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ImportFormatError(f"{path}:1: file: cannot be read: {exc.strerror}") from None
    with fh:
        reader = csv.reader(fh)
        try:
            cols = next(reader, [])
        except UnicodeDecodeError as exc:
            raise ImportFormatError(
                f"{name}:1: encoding: the file is not UTF-8 text (byte {exc.start}); save it as UTF-8"
            ) from None
        missing = [c for c in required if c not in cols]
        if missing:
            raise ImportFormatError(
                f"{name}:1: columns: missing {', '.join(missing)}; the file has {', '.join(cols) or 'no header'}"
            )
        yield 0, cols
        start = reader.line_num + 1
        try:
            for row in reader:
                if row:
                    yield start, row
                start = reader.line_num + 1
        except csv.Error as exc:
            raise ImportFormatError(f"{name}:{reader.line_num}: csv: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ImportFormatError(
                f"{name}:{reader.line_num + 1}: encoding: not UTF-8 text (byte {exc.start} of a "
                "block); save the file as UTF-8"
            ) from None


def read_csv(path: Path, required: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV file as ``(line, row)``, ``row`` a dict by column as
    :class:`csv.DictReader` makes it (missing values ``None``, extra values under ``None``)."""
    cols, records = csv_lists(path, required)
    n = len(cols)
    for line, values in records:
        row: dict[Any, Any] = dict(zip(cols, values, strict=False))
        if len(values) < n:
            for c in cols[len(values) :]:
                row[c] = None
        elif len(values) > n:
            row[None] = values[n:]
        yield line, row


def read_rows(
    path: Path, required: Iterable[str], summary: ImportSummary
) -> Iterator[tuple[str, int, dict[str, str]]]:
    """:func:`read_csv` as ``(file name, line, row)``, counted in ``summary.rows_read``."""
    name = path.name
    for line, row in read_csv(path, required):
        summary.rows_read += 1
        yield name, line, row


def csv_header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError):
        return []


def expand(paths: Iterable[Path], pattern: str) -> list[Path]:
    """The files named by ``paths``: a folder stands for its files matching ``pattern``, sorted."""
    files: list[Path] = []
    for p in paths:
        files += sorted(p.glob(pattern)) if p.is_dir() else [p]
    return files


def classify_csv(
    paths: Iterable[Path], kinds: Sequence[Collection[str]], unknown: str
) -> list[list[Path]]:
    """The CSV files of ``paths`` (files or folders) sorted by their header, one list per entry
    of ``kinds``: a file goes to the first kind whose columns it all has.  A file of no kind
    raises ``ImportFormatError("<file>:1: columns: <unknown>")``."""
    groups: list[list[Path]] = [[] for _ in kinds]
    for f in expand(paths, "*.csv"):
        cols = set(csv_header(f))
        for group, need in zip(groups, kinds, strict=True):
            if set(need) <= cols:
                group.append(f)
                break
        else:
            raise ImportFormatError(f"{f}:1: columns: {unknown}")
    return groups
