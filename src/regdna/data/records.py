"""Sequences to analyse, from a FASTA file or a dataset split: the input every per-sequence
verb (`attribute`, `ism`, `faithfulness`) shares."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from regdna.errors import RegdnaError


def load_records(fasta: str | Path | None = None, data: str | Path | None = None,
                 split: str = "test", n: int | None = None, label: str | None = None
                 ) -> pd.DataFrame:
    """Records as a DataFrame (id, chrom, start, end, sequence[, label columns]).

    Exactly one of `fasta` (coordinates from `chr:start-end` record names, else NaN) or `data`
    (a dataset dir, split `split`, optionally only class `label`) is given; `n` keeps the first
    n records.
    """
    if (fasta is None) == (data is None):
        raise RegdnaError("give exactly one of --fasta FILE or --data DATASET_DIR.")
    if fasta is not None:
        table = _fasta_records(fasta, n)
    else:
        from regdna.data.dataset import load_info, read_split

        info = load_info(data)
        table = read_split(data, split)
        if label is not None:
            table = table[table[info.labels[0]] == class_value(info, label)]
        if n is not None:
            table = table.head(n)
    if table.empty:
        raise RegdnaError("no sequences to analyse (empty input or --class filter).")
    return table.reset_index(drop=True)


def _fasta_records(path, n: int | None) -> pd.DataFrame:
    from regdna.io.fasta import parse_region, read_fasta

    rows = []
    for rec in read_fasta(path):
        region = parse_region(rec.name)
        chrom, start, end = region if region else (None, float("nan"), float("nan"))
        rows.append({"id": rec.name, "chrom": chrom, "start": start, "end": end,
                     "sequence": rec.sequence.upper()})
        if n is not None and len(rows) >= n:
            break
    return pd.DataFrame(rows)


def class_value(info, label: str):
    """--class NAME or index -> the value of that class in the label column."""
    if info.task == "multiclass" and info.classes and label in info.classes:
        return info.classes.index(label)
    try:
        return float(label) if info.task == "binary" else int(label)
    except ValueError:
        names = info.classes or ["0", "1"]
        raise RegdnaError(f"class '{label}' is unknown; use one of {', '.join(map(str, names))}") from None
