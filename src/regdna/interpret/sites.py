"""Known motif sites in the sequences being explained, and how well attributions find them.

A site table (TSV) places each site in one of two ways:

- genomic: `chrom`, `start`, `end` (0-based half-open), placed in a sequence that has genomic
  coordinates (dataset dirs keep `chrom`, `start`, `end`; FASTA names `chr:start-end`); the
  bundled example's `motifs.tsv` has these and also `seq_id`, `rel_start`, `rel_end`, used for
  sequences without coordinates;
- in-sequence: `seq_id`, `start`, `end` (0-based half-open within the sequence whose id is
  `seq_id`) when there is no `chrom` column, or `seq_id`, `rel_start`, `rel_end`.

`motif` names the site (optional: "site" when absent); `role` "decoy" marks decoys.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from regdna.errors import RegdnaError


def load_sites(path: str | Path) -> pd.DataFrame:
    """Read a site table (TSV; see the module doc).

    A table with `chrom` is genomic (`chrom`, `start`, `end`); one without `chrom` but with
    `seq_id`, `start`, `end` is in-sequence, read as `rel_start`, `rel_end`. A missing `motif`
    column becomes "site".

    Returns
    -------
    DataFrame with `motif` and the columns of either placement (in-sequence sites as
    `seq_id`, `rel_start`, `rel_end`).
    """
    path = Path(path)
    if not path.is_file():
        raise RegdnaError(f"motif table {path} does not exist")
    try:
        table = pd.read_csv(path, sep="\t")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise RegdnaError(f"{path}: not a tab-separated site table with a header "
                          f"({str(err).splitlines()[0]})") from None
    columns = set(table.columns)
    if "chrom" not in columns and {"seq_id", "start", "end"} <= columns \
            and not {"rel_start", "rel_end"} & columns:
        table = table.rename(columns={"start": "rel_start", "end": "rel_end"})
    by_id = {"seq_id", "rel_start", "rel_end"} <= set(table.columns)
    by_pos = {"chrom", "start", "end"} <= set(table.columns)
    if not (by_id or by_pos):
        raise RegdnaError(f"{path}: a site table needs columns seq_id, start, end (within the "
                          "sequence), or chrom, start, end (genomic), or seq_id, rel_start, "
                          f"rel_end; found {', '.join(map(str, table.columns))}")
    if not by_pos:
        _check_spans(path, table, "rel_start", "rel_end")
    if "motif" not in table.columns:
        table["motif"] = "site"
    if "seq_id" in table.columns:   # ids such as 1, 2 match the records' string ids
        table["seq_id"] = table["seq_id"].astype(str)
    return table


def _check_spans(path: Path, table: pd.DataFrame, start: str, end: str) -> None:
    """Refuse a row whose in-sequence span is not whole numbers with 0 <= start < end."""
    lo = pd.to_numeric(table[start], errors="coerce")
    hi = pd.to_numeric(table[end], errors="coerce")
    bad = ~((lo >= 0) & (hi > lo) & (lo % 1 == 0) & (hi % 1 == 0))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        row = table.iloc[i]
        raise RegdnaError(f"{path}, line {i + 2}: site {row[start]}-{row[end]} of "
                          f"{row.get('seq_id', '?')} is not a span 0 <= start < end of whole "
                          "bases (0-based, end exclusive, within the sequence)")


def site_boxes(records: pd.DataFrame, sites: pd.DataFrame) -> list[list[tuple[int, int, str]]]:
    """For each record (rows with `id`, optional `chrom`, `start`, `end`), the sites inside it
    as (start, end, label) within the sequence; label = motif name (+ ' (decoy)')."""
    def label(row):
        role = str(row.get("role", "")) if "role" in row else ""
        return f"{row['motif']} (decoy)" if role == "decoy" else str(row["motif"])

    by_id = sites.groupby("seq_id") if "seq_id" in sites.columns else None
    by_chrom = sites.groupby("chrom") if {"chrom", "start", "end"} <= set(sites.columns) else None
    out = []
    for rec in records.itertuples(index=False):
        boxes = []
        if by_chrom is not None and hasattr(rec, "chrom") and isinstance(rec.chrom, str) \
                and rec.chrom in by_chrom.groups and not pd.isna(rec.start):
            part = by_chrom.get_group(rec.chrom)
            part = part[(part.start >= rec.start) & (part.end <= rec.end)]
            boxes = [(int(r.start - rec.start), int(r.end - rec.start), label(r))
                     for _, r in part.iterrows()]
        elif by_id is not None and rec.id in by_id.groups:
            boxes = [(int(r.rel_start), int(r.rel_end), label(r))
                     for _, r in by_id.get_group(rec.id).iterrows()]
        out.append(boxes)
    return out


def site_mask(boxes: Sequence[Sequence[tuple]], length: int, include_decoys: bool = True
              ) -> np.ndarray:
    """(N, length) bool: True at bases inside a site."""
    mask = np.zeros((len(boxes), length), dtype=bool)
    for i, row in enumerate(boxes):
        for start, end, lab in row:
            if include_decoys or not lab.endswith("(decoy)"):
                mask[i, max(start, 0):min(end, length)] = True
    return mask


def site_auroc(attr: np.ndarray, mask: np.ndarray) -> float:
    """AUROC of per-position attribution magnitude (|sum over bases|, i.e. |attr . x| for
    contribution maps) for site positions against all other positions, over the sequences
    that contain a site."""
    from sklearn.metrics import roc_auc_score

    attr = np.asarray(attr)
    scores = np.abs(attr.sum(-1) if attr.ndim == 3 else attr)
    rows = mask.any(1)
    if not rows.any() or mask[rows].all():
        return float("nan")
    return float(roc_auc_score(mask[rows].ravel(), scores[rows].ravel()))
