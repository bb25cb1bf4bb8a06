"""Known motif sites in the sequences being explained, and how well attributions find them.

Sites come from a table such as the bundled example's `motifs.tsv` (`seq_id`, `chrom`, `start`,
`end` genomic 0-based half-open, `rel_start`, `rel_end`, `motif`, `role`). A site is placed in a
sequence by genomic coordinates when the sequence has them (dataset dirs keep `chrom`,
`start`, `end`), else by `seq_id` + `rel_start` / `rel_end`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from regdna.errors import RegdnaError

REQUIRED = ("motif",)


def load_sites(path: str | Path) -> pd.DataFrame:
    """Read a motif-site table (TSV); needs `motif` and either seq_id + rel_start/rel_end or
    chrom + start + end."""
    path = Path(path)
    if not path.is_file():
        raise RegdnaError(f"motif table {path} does not exist")
    table = pd.read_csv(path, sep="\t")
    by_id = {"seq_id", "rel_start", "rel_end"} <= set(table.columns)
    by_pos = {"chrom", "start", "end"} <= set(table.columns)
    if "motif" not in table.columns or not (by_id or by_pos):
        raise RegdnaError(f"{path}: a motif table needs columns motif and seq_id, rel_start, "
                          f"rel_end (or chrom, start, end); found {', '.join(table.columns)}")
    return table


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
