"""Reading the inputs of `prepare` into staged records: chunk by chunk, cleaned and counted.

`Staging.read` runs every input through its source reader (`regdna.data.sources`), per-record
cleaning (canonical contigs for non-BED input, upper-case, fit to `--length`, the max-N filter)
and the split assignment by chromosome or column, and stages the survivors to a Parquet file
(`Stage`); `Staging.add_negatives` makes and stages negatives for positive-only input. Only
8-byte sequence digests and a few numbers per record stay in memory (~35 bytes a record).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from regdna.data.clean import base_composition, gc_fraction, own_n_fraction, sequence_keys
from regdna.data.intervals import canonical_mask
from regdna.data.labels import LabelColumn
from regdna.data.negatives import gc_matched_negatives, shuffled_negatives
from regdna.data.sources import NO_COORD, Chunk, bed_chunks, fasta_chunks, npz_chunks, table_chunks
from regdna.data.splits import chrom_split, split_code
from regdna.data.windows import fit_length
from regdna.errors import RegdnaError
from regdna.utils.progress import progress

STAGE_COLUMNS = [("id", "string"), ("chrom", "string"), ("start", "int64"), ("end", "int64"),
                 ("sequence", "string"), ("padded", "int64"), ("split_value", "string")]
INTERVAL_STEPS = ("non_canonical", "blacklist", "intersect", "exclude")
# every step's count is present in dataset.json (0 when it removed nothing or did not apply)
COUNTED_STEPS = ("input", "non_canonical", "blacklist", "intersect", "exclude", "padded_windows",
                 "resized_to_length", "too_many_n", "negatives_added", "within_class_duplicates",
                 "cross_class_collisions", "cross_class_sequences", "removed_by_reverse_complement")


def _none_for_missing(values: pd.Series) -> list:
    """Column values as a list with None for missing (pandas reads null strings back as NaN)."""
    return values.astype(object).where(values.notna(), None).tolist()


class Stage:
    """Records that survived per-record cleaning, staged to Parquet, plus the per-record numbers
    the later steps need (digests, label key, GC, length, split), kept as numpy arrays."""

    def __init__(self, path: Path, n_labels: int):
        self.path = path
        self.schema = pa.schema([(n, getattr(pa, t)()) for n, t in STAGE_COLUMNS] +
                                [(f"y{j}", pa.float64()) for j in range(n_labels)])
        self.n_labels = n_labels
        self.writer = None
        self.fwd: list[np.ndarray] = []
        self.canon: list[np.ndarray] = []
        self.gc: list[np.ndarray] = []
        self.length: list[np.ndarray] = []
        self.y: list[np.ndarray] = []
        self.split: list[np.ndarray] = []
        self.n = 0

    def add(self, frame: pd.DataFrame, y: np.ndarray, split_codes: np.ndarray) -> None:
        """Stage the records of `frame` with their (n, T) labels `y` and (n,) split codes."""
        if not len(frame):
            return
        seqs = frame["sequence"].tolist()
        fwd, canon = sequence_keys(seqs)
        self.fwd.append(fwd)
        self.canon.append(canon)
        self.gc.append(base_composition(seqs)[0].astype(np.float32))
        self.length.append(np.array([len(s) for s in seqs], dtype=np.int32))
        self.y.append(y.astype(np.float64))
        self.split.append(split_codes.astype(np.int8))
        columns = {name: _none_for_missing(frame[name]) for name, _ in STAGE_COLUMNS}
        for j in range(self.n_labels):
            columns[f"y{j}"] = y[:, j]
        table = pa.Table.from_pydict(columns, schema=self.schema)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, self.schema)
        self.writer.write_table(table)
        self.n += len(frame)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    @staticmethod
    def concatenate(stages: list["Stage"]) -> dict[str, np.ndarray]:
        """The per-record arrays of all stages, concatenated; the stages' own copies are freed
        (memory: one copy of ~35 bytes per record)."""
        out = {}
        for key in ("fwd", "canon", "gc", "length", "y", "split"):
            arrays = [stage.arrays_of(key) for stage in stages]
            out[key] = np.concatenate(arrays) if len(arrays) > 1 else arrays[0]
        return out

    def arrays_of(self, key: str) -> np.ndarray:
        """One per-record array (concatenated chunks); frees the chunk list."""
        parts = getattr(self, key)
        setattr(self, key, [])
        if parts:
            return np.concatenate(parts)
        dtype = {"fwd": np.uint64, "canon": np.uint64, "gc": np.float32, "length": np.int32,
                 "y": np.float64, "split": np.int8}[key]
        return np.zeros((0, self.n_labels) if key == "y" else (0,), dtype=dtype)

    def arrow_batches(self, batch_size: int = 100_000):
        """The staged records as pyarrow RecordBatches, in input order."""
        if self.n == 0:
            return
        with pq.ParquetFile(self.path, pre_buffer=False) as handle:  # no read-ahead: flat memory
            yield from handle.iter_batches(batch_size=batch_size)

    def batches(self, batch_size: int = 100_000):
        """The staged records as pandas DataFrames, in input order."""
        for batch in self.arrow_batches(batch_size):
            yield batch.to_pandas()


class Staging:
    """The reading step of one `prepare` run: the inputs of `args` into `Stage` files in `tmp`.

    `counts` gathers what each step removed or added; `seen` / `removed` count records per class
    value (first label) that reached cleaning / that each filter removed, to say which filter
    emptied a class.
    """

    def __init__(self, args, tmp: Path):
        self.a = args
        self.tmp = tmp
        self.counts: dict = dict.fromkeys(COUNTED_STEPS, 0)
        # label columns of a table or BED file, read by one reader each for every file
        columns = args.labels if args.kind == "table" or (args.kind == "bed" and not args.label_map) else []
        self.readers = [LabelColumn(str(args.table or "the BED files"), c, names_allowed=len(columns) == 1)
                        for c in columns]
        self.seen: dict[float, int] = {}
        self.removed: dict[str, dict[float, int]] = {}
        n_labels = self._npz_width() if args.kind == "npz" else (len(args.labels) if args.labels else 1)
        self.stage = Stage(tmp / ".stage.parquet", n_labels)
        self.neg_stage: Stage | None = None

    @property
    def stages(self) -> list[Stage]:
        return [s for s in (self.stage, self.neg_stage) if s is not None]

    def _npz_width(self) -> int:
        with np.load(self.a.npz[0], allow_pickle=False) as data:
            if "y" not in data.files:
                raise RegdnaError(f"{self.a.npz[0]}: no array 'y' (has {', '.join(data.files)}); the layout is "
                                  "X one-hot (N, L, 4) and y labels (N,) or (N, T).")
            shape = data["y"].shape
        return 1 if len(shape) == 1 else int(np.prod(shape[1:]))

    def _chunks(self) -> Iterable[Chunk]:
        a = self.a
        if a.kind == "fasta":
            for path, label in a.fasta:
                yield from fasta_chunks(path, a.label_map[label], a.chunk_size, self.counts)
        elif a.kind == "bed":
            for path, label in a.bed:
                value = a.label_map.get(label) if label is not None else None
                before = {step: self.counts[step] for step in INTERVAL_STEPS}
                yield from bed_chunks(path, value, a.genome, a.length, a.filters, a.chunk_size, self.counts,
                                      label_columns=None if label is not None else self.readers,
                                      split_column=a.split_column if a.split == "column" else None)
                if value is not None:   # the interval filters ran inside the source: tally per file
                    for step in INTERVAL_STEPS:
                        self._tally(step, np.full(self.counts[step] - before[step], value))
        elif a.kind == "table":
            yield from table_chunks(a.table, self.readers, a.chunk_size, self.counts,
                                    split_column=a.split_column if a.split == "column" else None)
        else:
            for path in a.npz:
                yield from npz_chunks(path, a.chunk_size, self.counts)

    def _tally(self, step: str, values: np.ndarray) -> None:
        """Count records per class value (first label) for `step` ("seen" or a filter)."""
        if self.stage.n_labels != 1 or not len(values):
            return
        target = self.seen if step == "seen" else self.removed.setdefault(step, {})
        for value, n in zip(*np.unique(values[np.isfinite(values)], return_counts=True)):
            target[float(value)] = target.get(float(value), 0) + int(n)

    def _clean(self, chunk: Chunk) -> Chunk:
        """Canonical contigs (records with coordinates, non-BED input; BED is filtered before
        windowing), upper-case, fit to --length (non-BED input), drop sequences with too many N
        of their own (padding N are not counted)."""
        frame, y = chunk.frame, chunk.y
        if "padded" not in frame:        # negatives: all their bases are real
            frame = frame.assign(padded=np.zeros(len(frame), dtype=np.int64))
        self._tally("seen", y[:, 0])
        if self.a.kind != "bed" and (self.a.filters.canonical or self.a.filters.contigs) and len(frame):
            known = frame["chrom"].notna().to_numpy()
            keep = ~known
            keep[known] = canonical_mask(frame["chrom"][known].tolist(), self.a.filters.contigs)
            self.counts["non_canonical"] = self.counts.get("non_canonical", 0) + int((~keep).sum())
            self._tally("non_canonical", y[~keep, 0])
            frame, y = frame[keep].reset_index(drop=True), y[keep]
        seqs = [s.upper() for s in frame["sequence"]]
        if self.a.length is not None and self.a.kind != "bed":
            frame, seqs = self._fit(frame, seqs, self.a.length)
        frame = frame.assign(sequence=pd.array(seqs, dtype=object))
        keep = own_n_fraction(seqs, frame["padded"].to_numpy()) <= self.a.max_n
        self.counts["too_many_n"] = self.counts.get("too_many_n", 0) + int((~keep).sum())
        self._tally("too_many_n", y[~keep, 0])
        if self.a.split == "chrom" and len(frame):
            unknown = frame["chrom"].isna().to_numpy()
            if unknown.any():
                loc = frame["where"].iloc[int(np.flatnonzero(unknown)[0])]
                raise RegdnaError(f"{loc}: no chromosome for --split chrom; FASTA record names must read "
                                  "'chr:start-end' (a table needs a 'chrom' column). Or use --split random.")
        return Chunk(frame[keep].reset_index(drop=True), y[keep])

    def _fit(self, frame: pd.DataFrame, seqs: list[str], length: int) -> tuple[pd.DataFrame, list[str]]:
        """Centre-crop or N-pad FASTA / table / NPZ sequences to `length`; coordinates follow."""
        fitted = [fit_length(s, length) for s in seqs]
        shift = np.array([(len(s) - length) // 2 if len(s) >= length else -((length - len(s)) // 2)
                          for s in seqs], dtype=np.int64)
        known = frame["start"].to_numpy() != NO_COORD
        frame = frame.copy()
        frame["start"] = np.where(known, frame["start"].to_numpy() + shift, NO_COORD)
        frame["end"] = np.where(known, frame["start"].to_numpy() + length, NO_COORD)
        frame["padded"] = frame["padded"].to_numpy() + np.array([max(0, length - len(s)) for s in seqs],
                                                                dtype=np.int64)
        resized = int(sum(len(s) != length for s in seqs))
        self.counts["resized_to_length"] = self.counts.get("resized_to_length", 0) + resized
        return frame, fitted

    def _split_codes(self, frame: pd.DataFrame) -> np.ndarray:
        a = self.a
        if a.split == "chrom":
            return chrom_split(frame["chrom"].tolist(), a.test_chroms, a.val_chroms)
        if a.split == "column":
            return np.array([split_code(v, w) for v, w in zip(frame["split_value"], frame["where"])], dtype=np.int8)
        return np.full(len(frame), -1, dtype=np.int8)

    def read(self) -> None:
        """Read, clean and stage every input record (`self.stage`, closed at the end)."""
        with progress(desc="reading and cleaning", unit="seq", enabled=self.a.progress) as bar:
            for chunk in self._chunks():
                if chunk.y.shape[1] != self.stage.n_labels:
                    raise RegdnaError(f"{chunk.frame['where'].iloc[0]}: {chunk.y.shape[1]} label column(s), but "
                                      f"the first input has {self.stage.n_labels}; all inputs must carry the same "
                                      "labels.")
                chunk = self._clean(chunk)
                self.stage.add(chunk.frame, chunk.y, self._split_codes(chunk.frame))
                bar.update(self.counts["input"] - bar.n)
        self.stage.close()

    def add_negatives(self) -> None:
        """Make negatives (label 0) for the staged positives and stage them (`self.neg_stage`):
        dinucleotide shuffles or GC-matched genomic windows away from every positive."""
        a = self.a
        rng = np.random.default_rng(a.seed)
        positives = self.stage
        positives.close()
        neg_stage = Stage(self.tmp / ".stage-neg.parquet", positives.n_labels)
        occupied = None
        if a.negatives == "gc-matched":
            occupied = pd.concat([b[["chrom", "start", "end"]] for b in positives.batches()], ignore_index=True)
            if (occupied["start"] == NO_COORD).any() or occupied["chrom"].isna().any():
                raise RegdnaError("--negatives gc-matched needs the positives' coordinates: FASTA names "
                                  "'chr:start-end' (or BED input), so negatives can avoid them.")
        stats_all: list[dict] = []
        with progress(total=positives.n, desc=f"negatives ({a.negatives})", unit="seq",
                      enabled=a.progress) as bar:
            for batch in positives.batches(batch_size=min(a.chunk_size, 20_000)):
                if a.negatives == "shuffle":
                    neg = shuffled_negatives(batch, rng)
                else:
                    neg, stats = self._gc_matched(batch, rng, occupied)
                    stats_all += stats
                neg["split_value"] = None
                neg["where"] = [f"negative for {i}" for i in neg.get("matched_to", neg["id"])]
                chunk = self._clean(Chunk(neg, np.zeros((len(neg), positives.n_labels))))
                neg_stage.add(chunk.frame, chunk.y, self._split_codes(chunk.frame))
                bar.update(len(batch))
        neg_stage.close()
        self.neg_stage = neg_stage
        self.counts["negatives_added"] = neg_stage.n
        if stats_all:
            self.counts["gc_matched"] = {
                "requested": sum(s["requested"] for s in stats_all),
                "matched": sum(s["matched"] for s in stats_all),
                "unmatched": sum(s["unmatched"] for s in stats_all),
                "tolerance": a.gc_tolerance,
                "max_gc_difference": max(s["max_gc_difference"] for s in stats_all)}

    def _gc_matched(self, batch: pd.DataFrame, rng, occupied) -> tuple[pd.DataFrame, list[dict]]:
        """GC-matched negatives for one batch of positives, one length at a time."""
        lengths = batch["sequence"].str.len().to_numpy()
        batch_gc = np.array([gc_fraction(q) for q in batch["sequence"]])  # float64: exact bins
        parts, stats = [], []
        for length in np.unique(lengths):
            sel = lengths == length
            part, part_stats = gc_matched_negatives(self.a.genome, batch[sel], batch_gc[sel], int(length), rng,
                                                    tolerance=self.a.gc_tolerance, max_n=self.a.max_n,
                                                    occupied=occupied)
            parts.append(part)
            stats.append(part_stats)
        return pd.concat(parts, ignore_index=True), stats
