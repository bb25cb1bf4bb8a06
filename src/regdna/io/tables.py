"""Streaming reader for sequence tables: CSV, TSV (plain or gzip) and Parquet; a TSV writer.

A table holds a `sequence` column and label columns (one for binary / multiclass / a single
regression target, several for DeepSEA-style multi-label or multi-output regression), and
optionally `id`, `chrom`, `start`, `end` and a split column.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator, Sequence

import pandas as pd

from regdna.errors import RegdnaError
from regdna.io.textfile import reading
from regdna.utils.atomic import atomic_file


def table_format(path: str | Path) -> str:
    """'parquet', 'csv' or 'tsv' from the file name (a trailing .gz is ignored)."""
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".tsv", ".txt", ".tab")):
        return "tsv"
    raise RegdnaError(f"{path}: unknown table format; use .csv, .tsv (optionally .gz) or .parquet.")


def table_columns(path: str | Path) -> list[str]:
    """Column names of a table without reading its rows."""
    path = Path(path)
    if not path.is_file():
        raise RegdnaError(f"table {path} does not exist; check the path.")
    kind = table_format(path)
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            with reading(path):
                return list(pq.ParquetFile(path).schema_arrow.names)
        sep = "," if kind == "csv" else "\t"
        with reading(path):
            return list(pd.read_csv(path, sep=sep, nrows=0).columns)
    except RegdnaError:
        raise
    except Exception as err:
        raise RegdnaError(f"cannot read table {path}: {err}") from err


def require_columns(path: str | Path, columns: Sequence[str], what: str = "column") -> None:
    """A clear error when `columns` are not all in the table."""
    have = table_columns(path)
    missing = [c for c in columns if c not in have]
    if missing:
        raise RegdnaError(f"{path}: {what} {', '.join(repr(c) for c in missing)} not found; the table "
                          f"has columns {', '.join(have)}. Pass existing names with --labels / "
                          "--split-column (a 'sequence' column is required).")


def read_table(path: str | Path, columns: Sequence[str] | None = None,
               chunk_size: int = 100_000) -> Iterator[pd.DataFrame]:
    """Yield the table in chunks; column `row` holds the 1-based line number (CSV/TSV, header =
    line 1) or the 0-based row index (Parquet), for error messages."""
    path = Path(path)
    kind = table_format(path)
    if columns is not None:
        require_columns(path, columns)
    offset = 0
    try:
        with reading(path):
            if kind == "parquet":
                import pyarrow.parquet as pq

                with pq.ParquetFile(path) as handle:
                    for batch in handle.iter_batches(batch_size=chunk_size, columns=columns):
                        frame = batch.to_pandas()
                        frame["row"] = range(offset, offset + len(frame))
                        offset += len(frame)
                        yield frame
                return
            sep = "," if kind == "csv" else "\t"
            reader = pd.read_csv(path, sep=sep, usecols=columns, chunksize=chunk_size,
                                 dtype={"sequence": str, "id": str, "chrom": str})
            for frame in reader:
                frame["row"] = range(offset + 2, offset + 2 + len(frame))
                offset += len(frame)
                yield frame
    except RegdnaError:
        raise
    except Exception as err:
        raise RegdnaError(f"cannot read table {path} (near row {offset}): {err}") from err


def write_tsv(path: str | Path, columns: Sequence[str], rows: Iterable[Sequence]) -> Path:
    """Write a tab-separated table with a header line (atomically); fields written with `str`.

    Parameters
    ----------
    path : the file to write.
    columns : the header, one name per column.
    rows : one sequence of values per row, in `columns` order.

    Returns
    -------
    The path.
    """
    with atomic_file(path) as handle:
        handle.write("\t".join(columns) + "\n")
        handle.writelines("\t".join(map(str, row)) + "\n" for row in rows)
    return Path(path)
