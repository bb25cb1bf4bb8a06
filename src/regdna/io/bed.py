"""BED / narrowPeak: a streaming reader with errors that name the file and the line, and a writer.

Intervals are 0-based, half-open (`start < end`). A narrowPeak file (10 columns, suffix
`.narrowPeak`) carries the summit as an offset from `start` in column 10 (-1 = unknown).
`track`, `browser` and `#` comment lines are skipped; a `#` line whose second field is `start`
or `chromStart` names the columns, so extra columns (labels, a split) can be used by name.
Chunks keep memory flat for millions of intervals.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from regdna.errors import RegdnaError, where
from regdna.io.textfile import open_text
from regdna.utils.atomic import atomic_file

BED_COLUMNS = ["chrom", "start", "end", "name", "score", "strand"]
NARROWPEAK_COLUMNS = BED_COLUMNS + ["signal", "p", "q", "summit"]


def is_narrowpeak(path: str | Path) -> bool:
    name = Path(path).name.lower()
    return ".narrowpeak" in name


def read_header(path: str | Path) -> list[str] | None:
    """Column names from a `#chrom start end ...` header line, or None."""
    with open_text(path) as handle:
        for raw in handle:
            if raw.startswith(("track", "browser")) or not raw.strip():
                continue
            if raw.startswith("#"):
                fields = raw[1:].strip().split("\t") if "\t" in raw else raw[1:].split()
                if len(fields) >= 3 and fields[1].strip() in ("start", "chromStart"):
                    return [f.strip() for f in fields]
                continue
            return None
    return None


def _column_index(path, names: list[str] | None, column: str) -> int:
    """0-based index of a column given by header name or 1-based number."""
    if column.isdigit():
        if int(column) < 1:  # 0 would read the last column (index -1)
            raise RegdnaError(f"{path}: column {column}: column numbers start at 1 (chrom is column 1).")
        return int(column) - 1
    if names and column in names:
        return names.index(column)
    known = ", ".join(names) if names else "no header line"
    raise RegdnaError(f"{path}: no column '{column}' ({known}). Name columns with a "
                      "'#chrom<TAB>start<TAB>end<TAB>...' header line or give a 1-based column number.")


def read_bed(path: str | Path, chunk_size: int = 200_000,
             extra_columns: Sequence[str] = ()) -> Iterator[pd.DataFrame]:
    """Yield intervals in chunks of DataFrames.

    Columns: `chrom` (str), `start`, `end` (int64), `summit` (int64, offset from start; -1 when
    the file has none), `line` (int64, 1-based line in the file), and one string column per
    name in `extra_columns` (header names or 1-based column numbers).

    Raises:
        RegdnaError: fewer than 3 columns, non-integer or negative coordinates, start >= end,
            a missing extra column; the message names the file and line.
    """
    path = Path(path)
    narrow = is_narrowpeak(path)
    names = read_header(path) if extra_columns else None
    extra_idx = [_column_index(path, names, c) for c in extra_columns]
    need = max([2] + extra_idx) + 1
    chroms, starts, ends, summits, lines = [], [], [], [], []
    extras: list[list[str]] = [[] for _ in extra_idx]

    def flush() -> pd.DataFrame:
        frame = pd.DataFrame({
            "chrom": pd.array(chroms, dtype=object),
            "start": np.asarray(starts, dtype=np.int64),
            "end": np.asarray(ends, dtype=np.int64),
            "summit": np.asarray(summits, dtype=np.int64),
            "line": np.asarray(lines, dtype=np.int64),
        })
        for col, values in zip(extra_columns, extras):
            frame[col] = values
        return frame

    with open_text(path) as handle:
        for line_no, raw in enumerate(handle, start=1):
            if not raw.strip() or raw.startswith(("#", "track", "browser")):
                continue
            fields = raw.rstrip("\r\n").split("\t")
            if len(fields) < 3:
                fields = raw.split()  # tolerate space-separated files
            if len(fields) < need:
                raise RegdnaError(f"{where(path, line_no)}: {len(fields)} column(s), need at least "
                                  f"{need} (chrom, start, end{', ...' if need > 3 else ''}); BED "
                                  "columns are tab-separated.")
            try:
                start, end = int(fields[1]), int(fields[2])
            except ValueError:
                raise RegdnaError(f"{where(path, line_no)}: start/end '{fields[1]}', '{fields[2]}' are "
                                  "not integers; is this a BED file (chrom, start, end)?") from None
            if start < 0 or start >= end:
                raise RegdnaError(f"{where(path, line_no)}: start {start} >= end {end} or negative; "
                                  "BED intervals are 0-based half-open with start < end. Fix or drop "
                                  "this line.")
            summit = -1
            if narrow and len(fields) >= 10:
                try:
                    summit = int(fields[9])
                except ValueError:
                    raise RegdnaError(f"{where(path, line_no)}: narrowPeak summit (column 10) "
                                      f"'{fields[9]}' is not an integer.") from None
                if summit >= end - start:
                    raise RegdnaError(f"{where(path, line_no)}: summit offset {summit} lies outside "
                                      f"the peak (length {end - start}).")
            chroms.append(fields[0])
            starts.append(start)
            ends.append(end)
            summits.append(summit)
            lines.append(line_no)
            for values, idx in zip(extras, extra_idx):
                values.append(fields[idx])
            if len(chroms) >= chunk_size:
                yield flush()
                chroms, starts, ends, summits, lines = [], [], [], [], []
                extras = [[] for _ in extra_idx]
    if chroms:
        yield flush()


def read_bed_all(path: str | Path) -> pd.DataFrame:
    """All intervals of a (small) BED file as one DataFrame (chrom, start, end): for blacklists
    and `--intersect` / `--exclude` sets."""
    frames = [frame[["chrom", "start", "end"]] for frame in read_bed(path)]
    if not frames:
        return pd.DataFrame({"chrom": pd.Series([], dtype=object),
                             "start": np.array([], np.int64), "end": np.array([], np.int64)})
    return pd.concat(frames, ignore_index=True)


def write_bed(path: str | Path, rows: Iterable[Sequence]) -> Path:
    """Write intervals as a tab-separated BED / narrowPeak file (atomically).

    Parameters
    ----------
    path : the file to write.
    rows : one sequence of fields per interval: chrom, start, end (0-based, half-open, bp), then
        any further BED columns (name, score, strand; narrowPeak adds signal, p, q and the summit
        offset from start), each written with `str`.

    Returns
    -------
    The path.
    """
    with atomic_file(path) as handle:
        handle.writelines("\t".join(map(str, row)) + "\n" for row in rows)
    return Path(path)
