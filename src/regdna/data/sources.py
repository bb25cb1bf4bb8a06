"""Input sources for `prepare`, each turned into a stream of uniform record chunks.

A chunk is a DataFrame with `id`, `chrom` (None when unknown), `start`, `end` (`NO_COORD` when
unknown; a window reaching past a chromosome start has a negative `start`), `sequence`,
`padded` (N bases added past a chromosome end or to reach `--length`, not part of the input),
`split_value` (a split-column value or None), `where` (file and line or record, for error
messages) and a label matrix `y` (n, T) float64 kept beside it.

Sources: FASTA files with one label each, BED / narrowPeak intervals plus a genome, a table
(CSV / TSV / Parquet) and NPZ arrays (X one-hot, y). Label values go through
`regdna.data.labels` (one rule for numbers, names and missing values). Interval filters (canonical contigs, blacklist,
intersect, exclude) and windowing run here, chunk by chunk, and are counted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from regdna.data.intervals import IntervalSet, canonical_mask
from regdna.data.labels import LabelColumn
from regdna.data.windows import make_windows
from regdna.errors import RegdnaError, where
from regdna.io.bed import read_bed
from regdna.io.fasta import DNA_LETTERS, IUPAC, parse_region, read_fasta
from regdna.io.npz import read_npz
from regdna.io.tables import read_table, table_columns, table_format


# Unknown coordinate: not -1, since a window reaching past a chromosome start has a negative start.
NO_COORD = np.iinfo(np.int64).min


@dataclass
class Chunk:
    frame: pd.DataFrame          # id, chrom, start, end, sequence, split_value, where
    y: np.ndarray                # (n, T) float64 labels


@dataclass
class IntervalFilters:
    """Interval filters applied to BED input before windowing (on the input intervals)."""

    canonical: bool = True
    contigs: str | None = None                  # custom regex for contigs to keep
    blacklist: list[IntervalSet] = field(default_factory=list)
    intersect: list[IntervalSet] = field(default_factory=list)
    exclude: list[IntervalSet] = field(default_factory=list)

    def apply(self, frame: pd.DataFrame, counts: dict) -> pd.DataFrame:
        if self.canonical or self.contigs:
            keep = canonical_mask(frame["chrom"].tolist(), self.contigs)
            counts["non_canonical"] = counts.get("non_canonical", 0) + int((~keep).sum())
            frame = frame[keep]
        for name, sets, drop_if in (("blacklist", self.blacklist, True),
                                    ("intersect", self.intersect, False),
                                    ("exclude", self.exclude, True)):
            for ref in sets:
                hit = ref.overlaps(frame["chrom"].tolist(), frame["start"].to_numpy(), frame["end"].to_numpy())
                keep = ~hit if drop_if else hit
                counts[name] = counts.get(name, 0) + int((~keep).sum())
                frame = frame[keep]
        return frame


def parse_label_spec(spec: str) -> tuple[Path, str | None]:
    """'pos.fa:1' -> (Path('pos.fa'), '1'); the label is after the LAST colon."""
    spec = str(spec)
    if ":" in spec and not Path(spec).is_file():
        path, label = spec.rsplit(":", 1)
        return Path(path), (label.strip() or None)
    return Path(spec), None


def _frame(ids, chroms, starts, ends, seqs, wheres, split_values=None, padded=None) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({
        "id": pd.array(list(ids), dtype=object),
        "chrom": pd.array(list(chroms), dtype=object),
        "start": np.asarray(starts, dtype=np.int64),
        "end": np.asarray(ends, dtype=np.int64),
        "sequence": pd.array(list(seqs), dtype=object),
        "padded": np.zeros(n, dtype=np.int64) if padded is None else np.asarray(padded, dtype=np.int64),
        "split_value": pd.array(list(split_values) if split_values is not None else [None] * n, dtype=object),
        "where": pd.array(list(wheres), dtype=object),
    })


def fasta_chunks(path: Path, label: float, chunk_size: int, counts: dict) -> Iterator[Chunk]:
    """Records of one FASTA file, all with label `label`; coordinates from `chr:start-end` names."""
    buf: dict[str, list] = {k: [] for k in ("id", "chrom", "start", "end", "seq", "where")}

    def flush() -> Chunk:
        frame = _frame(buf["id"], buf["chrom"], buf["start"], buf["end"], buf["seq"], buf["where"])
        for values in buf.values():
            values.clear()
        return Chunk(frame, np.full((len(frame), 1), label, dtype=np.float64))

    for rec in read_fasta(path):
        region = parse_region(rec.name)
        chrom, start, end = region if region else (None, NO_COORD, NO_COORD)
        buf["id"].append(rec.name)
        buf["chrom"].append(chrom)
        buf["start"].append(start)
        buf["end"].append(end)
        buf["seq"].append(rec.sequence)
        buf["where"].append(where(path, rec.line, rec.name))
        counts["input"] = counts.get("input", 0) + 1
        if len(buf["id"]) >= chunk_size:
            yield flush()
    if buf["id"]:
        yield flush()


def bed_chunks(path: Path, label: float | None, genome, length: int | None, filters: IntervalFilters,
               chunk_size: int, counts: dict, label_columns: list[LabelColumn] | None = None,
               split_column: str | None = None) -> Iterator[Chunk]:
    """Windows of the intervals of one BED / narrowPeak file, fetched from `genome` chunk-wise.

    Labels come from `label` (one per file) or from `label_columns` of the file (readers shared
    by every file, so names get the same number everywhere). Window ids are `chrom:start-end` of
    the window; a window past a chromosome end keeps its length (N-padded, counted in `padded`).
    """
    readers = list(label_columns or [])
    for reader in readers:
        reader.source = str(path)
    extra = [r.column for r in readers] + ([split_column] if split_column else [])
    for frame in read_bed(path, chunk_size=chunk_size, extra_columns=extra):
        counts["input"] = counts.get("input", 0) + len(frame)
        frame = filters.apply(frame, counts)
        for chrom in frame["chrom"].unique():
            if genome.resolve(chrom) is None:
                line = int(frame.loc[frame["chrom"] == chrom, "line"].iloc[0])
                genome.require(chrom, where(path, line))
        if not len(frame):
            continue
        windows = make_windows(genome, frame, length)
        counts["padded_windows"] = counts.get("padded_windows", 0) + int((windows["padded"] > 0).sum())
        ids = [f"{c}:{s}-{e}" for c, s, e in zip(windows["chrom"].tolist(), windows["start"].tolist(),
                                                 windows["end"].tolist())]
        # per-line locations only where a later check can name a line (label / split values)
        wheres = ([where(path, line) for line in windows["line"]] if extra else [str(path)] * len(windows))
        out = _frame(ids, windows["chrom"], windows["start"], windows["end"], windows["sequence"], wheres,
                     windows[split_column] if split_column else None, padded=windows["padded"])
        if readers:
            y = np.column_stack([r.values(windows[r.column], wheres) for r in readers])
        else:
            y = np.full((len(out), 1), label, dtype=np.float64)
        yield Chunk(out, y)


def table_chunks(path: Path, label_columns: list[LabelColumn], chunk_size: int, counts: dict,
                 split_column: str | None = None) -> Iterator[Chunk]:
    """Rows of a CSV / TSV / Parquet table with a `sequence` column; labels read by `label_columns`."""
    have = table_columns(path)
    names = [r.column for r in label_columns]
    needed = ["sequence"] + names + ([split_column] if split_column else [])
    missing = [c for c in needed if c not in have]
    if missing:
        raise RegdnaError(f"{path}: column(s) {', '.join(repr(c) for c in missing)} not found; the table has "
                          f"{', '.join(have)}. Name the label columns with --labels (and the split with "
                          "--split-column); a 'sequence' column is required.")
    optional = [c for c in ("id", "chrom", "start", "end") if c in have]
    row_word = "row" if table_format(path) == "parquet" else "line"
    for frame in read_table(path, columns=list(dict.fromkeys(needed + optional)), chunk_size=chunk_size):
        counts["input"] = counts.get("input", 0) + len(frame)
        wheres = [f"{path}, {row_word} {r}" for r in frame["row"]]
        seqs = frame["sequence"]
        if seqs.isna().any():
            i = int(np.flatnonzero(seqs.isna().to_numpy())[0])
            raise RegdnaError(f"{wheres[i]}: empty sequence. Remove the row or fill it in.")
        _check_letters(seqs.tolist(), wheres)
        n = len(frame)
        ids = frame["id"].astype(str) if "id" in frame else [f"{path.stem}_{r}" for r in frame["row"]]
        chroms = frame["chrom"].astype(object).where(frame["chrom"].notna(), None) if "chrom" in frame else [None] * n
        starts = _coordinates(frame, "start", wheres)
        ends = _coordinates(frame, "end", wheres)
        out = _frame(ids, chroms, starts, ends, seqs, wheres,
                     frame[split_column].astype(str) if split_column else None)
        y = np.column_stack([r.values(frame[r.column], wheres) for r in label_columns])
        yield Chunk(out, y)


def _coordinates(frame: pd.DataFrame, column: str, wheres: list[str]) -> np.ndarray:
    """A table's `start` / `end` column as int64 (`NO_COORD` where empty or absent)."""
    if column not in frame:
        return np.full(len(frame), NO_COORD, dtype=np.int64)
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = (values.isna() & frame[column].notna()) | (values.notna() & (values != values.round()))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise RegdnaError(f"{wheres[i]}: column '{column}' holds '{frame[column].iloc[i]}', not a whole number "
                          "of bp; fix the coordinate or leave it empty.")
    return values.fillna(NO_COORD).astype(np.int64).to_numpy()


def _check_letters(seqs: list[str], wheres: list[str]) -> None:
    for seq, loc in zip(seqs, wheres):
        if not DNA_LETTERS.issuperset(seq):
            bad = sorted({c for c in seq if c not in DNA_LETTERS})
            raise RegdnaError(f"{loc}: character(s) {', '.join(map(repr, bad[:5]))} are not DNA (allowed: "
                              f"A, C, G, T, N and IUPAC codes {IUPAC[5:]}). Fix or remove this row.")


def npz_chunks(path: Path, chunk_size: int, counts: dict) -> Iterator[Chunk]:
    """Records of an NPZ (X one-hot (N, L, 4), y); `split_value` is the file's stem (train / val / test)."""
    for frame, y in read_npz(path, chunk_size=chunk_size):
        counts["input"] = counts.get("input", 0) + len(frame)
        n = len(frame)
        wheres = [f"{path}, record {r}" for r in frame["row"]]
        out = _frame(frame["id"], [None] * n, np.full(n, NO_COORD), np.full(n, NO_COORD), frame["sequence"], wheres,
                     [path.stem] * n)
        y = np.asarray(y, dtype=np.float64)
        yield Chunk(out, y[:, None] if y.ndim == 1 else y.reshape(len(y), -1))
