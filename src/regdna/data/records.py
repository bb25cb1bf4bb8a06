"""Sequences to analyse, from a FASTA file or a dataset split: the input every per-sequence
verb (`attribute`, `ism`, `faithfulness`) shares."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from regdna.data.dataset import load_info, read_split
from regdna.errors import RegdnaError
from regdna.io.fasta import parse_region, read_fasta


def load_records(fasta: str | Path | None = None, data: str | Path | None = None,
                 split: str = "test", n: int | None = None, label: str | None = None
                 ) -> pd.DataFrame:
    """Records as a DataFrame (id, chrom, start, end, sequence[, label columns]).

    Exactly one of `fasta` (coordinates from `chr:start-end` record names, else NaN) or `data`
    (a dataset dir, split `split`, optionally only class `label`) is given; `n` keeps the first
    n records (None: every record). `table.attrs["n_available"]` is the number of records there
    were before `n` cut them, so a verb can say when it analyses fewer (`subset_note`). Records
    of a coverage dataset are its input windows: the central `length` bp of each stored window
    (coordinates moved with it), as its models see them.
    """
    if (fasta is None) == (data is None):
        raise RegdnaError("give exactly one of --fasta FILE or --data DATASET_DIR.")
    if fasta is not None:
        table = _fasta_records(fasta)
    else:
        info = load_info(data)
        table = read_split(data, split)
        if info.task == "profile":
            if label is not None:
                raise RegdnaError(f"--class selects a class of a label dataset; {data} is a coverage "
                                  "dataset (no classes): drop --class.")
            table = _input_windows(table, info.length, info.profile.margin)
        elif label is not None:
            table = table[table[info.labels[0]] == class_value(info, label)]
    available = len(table)
    if n is not None:
        table = table.head(n)
    if table.empty:
        raise RegdnaError("no sequences to analyse (empty input or --class filter).")
    table = table.reset_index(drop=True)
    table.attrs["n_available"] = available
    return table


def _input_windows(table: pd.DataFrame, length: int, margin: int) -> pd.DataFrame:
    """Stored windows of a coverage dataset -> their central `length` bp (and coordinates)."""
    table = table.copy()
    table["sequence"] = table["sequence"].str.slice(margin, margin + length)
    table["start"] = table["start"] + margin
    table["end"] = table["start"] + length
    return table


def subset_note(table: pd.DataFrame) -> str | None:
    """One line for the user when `load_records` kept fewer records than there were, else None."""
    available = table.attrs.get("n_available", len(table))
    if len(table) >= available:
        return None
    return f"using the first {len(table)} of {available} sequences (--n {len(table)})"


def _fasta_records(path) -> pd.DataFrame:
    rows = []
    for rec in read_fasta(path):
        region = parse_region(rec.name)
        chrom, start, end = region if region else (None, float("nan"), float("nan"))
        rows.append({"id": rec.name, "chrom": chrom, "start": start, "end": end,
                     "sequence": rec.sequence.upper()})
    return pd.DataFrame(rows)


def class_value(info, label: str):
    """--class NAME or index -> the value of that class in the label column."""
    if info.task in ("binary", "multiclass") and info.classes and label in info.classes:
        return info.classes.index(label)
    try:
        return float(label) if info.task == "binary" else int(label)
    except ValueError:
        names = info.classes or ["0", "1"]
        raise RegdnaError(f"class '{label}' is unknown; use one of {', '.join(map(str, names))}") from None
