"""`regdna prepare`: FASTA, BED/narrowPeak + genome, tables or NPZ -> a clean, leak-free dataset dir.

Steps (each switchable, each counted in `dataset.json`):
  read (chunk-wise) -> canonical contigs / blacklist / --intersect / --exclude (BED input)
  -> fixed windows centred on the summit, N-padded past contig ends (kept: the padding is not
     counted by the max-N filter, and `start` may be negative / `end` past the contig end, so
     sequence[i] is always genome position start + i) -> upper-case -> max-N filter
  -> [negatives: dinucleotide shuffles or GC-matched genomic windows]
  -> de-duplication (within class, cross-class collisions from both, reverse complements)
  -> split (chromosome, stratified random or a column) -> leakage check -> Parquet per split
  -> QC (balance tests, GC and length distributions, figures).

Scale: records pass through in chunks (10,000 by default) and are staged to a Parquet file; only
8-byte sequence digests and a few numbers per record stay in memory (~35 bytes a record, up to
~0.12 KB at the de-dup sort), never the sequences, so 1 M intervals fit in ~0.5 GB
(`bench/prepare_scale.py`).

Output follows `regdna.utils.output`: `--out` is checked before any work (a directory holding
anything but an earlier `prepare` output, or holding an input, is refused unless `--overwrite`),
and everything is written into a temporary dir that becomes `--out` only on success.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from regdna.data.clean import base_composition, dedup_mask, gc_fraction, label_key, own_n_fraction, sequence_keys
from regdna.data.dataset import DatasetInfo, write_info
from regdna.data.intervals import canonical_mask
from regdna.data.labels import LabelColumn, file_labels, parse_classes
from regdna.data.sources import (NO_COORD, Chunk, IntervalFilters, bed_chunks, fasta_chunks, npz_chunks,
                                 parse_label_spec, table_chunks)
from regdna.data.splits import (SPLIT_NAMES, chrom_split, parse_chroms, parse_fractions, random_split,
                                split_code)
from regdna.data.windows import fit_length
from regdna.errors import RegdnaError
from regdna.utils.output import check_out_dir, output_dir

TASKS = ("binary", "multilabel", "multiclass", "regression")
NEGATIVES = ("none", "shuffle", "gc-matched")
_STAGE_SCHEMA_BASE = [("id", "string"), ("chrom", "string"), ("start", "int64"), ("end", "int64"),
                      ("sequence", "string"), ("padded", "int64"), ("split_value", "string")]
# what to change when a filter removed every record of a class
_FILTER_HINTS = {
    "too_many_n": "--max-n {max_n} (more N inside the sequence than allowed; padding is not counted): "
                  "raise --max-n, e.g. --max-n 0.1",
    "non_canonical": "the canonical-contig filter (they lie on other contigs): pass --no-canonical or "
                     "--contigs REGEX",
    "blacklist": "--blacklist (they overlap its regions): check that the BED is of the same genome build",
    "intersect": "--intersect (none overlaps it): check that the BED is of the same genome build",
    "exclude": "--exclude (they lie within --exclude-window of its intervals): lower --exclude-window "
               "or drop --exclude",
    "dedup": "de-duplication (the same sequences are in another class, or repeat): check the inputs "
             "or pass --no-dedup",
}
_INTERVAL_STEPS = ("non_canonical", "blacklist", "intersect", "exclude")


# ----------------------------------------------------------------------------------------- args
def _label_specs(specs: Iterable, kind: str) -> list[tuple[Path, str | None]]:
    out = []
    for spec in specs or ():
        path, label = (Path(spec[0]), None if spec[1] is None else str(spec[1])) \
            if isinstance(spec, (tuple, list)) else parse_label_spec(spec)
        if not path.is_file():
            raise RegdnaError(f"--{kind} {path}: file not found; check the path (labels go after the last "
                              f"colon: --{kind} {path.name}:1).")
        out.append((path, label))
    return out


def detect_task(y: np.ndarray) -> str:
    """binary ({0,1}, one column), multilabel ({0,1,NaN}, several), multiclass (integers >= 0,
    one column, 3+ values), else regression."""
    finite = y[np.isfinite(y)]
    if y.shape[1] > 1:
        return "multilabel" if np.isin(finite, [0.0, 1.0]).all() else "regression"
    if np.isin(finite, [0.0, 1.0]).all():
        return "binary"
    values = np.unique(finite)
    if (values >= 0).all() and (values == np.round(values)).all() and len(values) <= 1000:
        return "multiclass"
    return "regression"


def _check_task(task: str, y: np.ndarray, label_names: list[str]) -> None:
    finite = y[np.isfinite(y)]
    if task in ("binary", "multilabel") and not np.isin(finite, [0.0, 1.0]).all():
        bad = finite[~np.isin(finite, [0.0, 1.0])][0]
        raise RegdnaError(f"--task {task} needs labels 0/1, but {', '.join(label_names)} holds {bad:g}. "
                          "Use --task regression or multiclass.")
    if task == "binary" and y.shape[1] != 1:
        raise RegdnaError(f"--task binary needs one label column, got {len(label_names)}; use --task multilabel.")
    if task == "multiclass":
        if y.shape[1] != 1:
            raise RegdnaError("--task multiclass needs one label column holding the class.")
        if not ((finite >= 0) & (finite == np.round(finite))).all():
            raise RegdnaError("--task multiclass needs integer class labels >= 0; use --task regression.")
    if task != "regression" and np.isnan(y).any() and task != "multilabel":
        raise RegdnaError(f"--task {task}: some labels are missing (NaN); fill them or drop those rows.")


# -------------------------------------------------------------------------------------- progress
@contextlib.contextmanager
def _progress(enabled: bool):
    """A rich progress display (a no-op when disabled)."""
    if not enabled:
        class _Null:
            def add_task(self, *a, **k):
                return 0

            def update(self, *a, **k):
                pass

            def advance(self, *a, **k):
                pass
        yield _Null()
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                               TimeElapsedColumn)

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), transient=False) as bar:
        yield bar


# -------------------------------------------------------------------------------------- staging
class _Stage:
    """Records that survived per-record cleaning, staged to Parquet, plus the per-record numbers
    the later steps need (digests, label key, GC, length, split), kept as numpy arrays."""

    def __init__(self, path: Path, n_labels: int):
        import pyarrow as pa

        self.path = path
        self.schema = pa.schema([(n, getattr(pa, t)()) for n, t in _STAGE_SCHEMA_BASE] +
                                [(f"y{j}", pa.float64()) for j in range(n_labels)])
        self.n_labels = n_labels
        self.writer = None
        self.fwd: list[np.ndarray] = []
        self.canon: list[np.ndarray] = []
        self.gc: list[np.ndarray] = []
        self.length: list[np.ndarray] = []
        self.y: list[np.ndarray] = []
        self.split: list[np.ndarray] = []
        self.chrom_known = True
        self.n = 0

    def add(self, frame: pd.DataFrame, y: np.ndarray, split_codes: np.ndarray) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

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
        columns = {name: _none_for_missing(frame[name]) for name, _ in _STAGE_SCHEMA_BASE}
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
    def concatenate(stages: list["_Stage"]) -> dict[str, np.ndarray]:
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
        import pyarrow.parquet as pq

        if self.n == 0:
            return
        with pq.ParquetFile(self.path, pre_buffer=False) as handle:  # no read-ahead: flat memory
            yield from handle.iter_batches(batch_size=batch_size)

    def batches(self, batch_size: int = 100_000):
        import pyarrow.parquet as pq

        if self.n == 0:
            return
        with pq.ParquetFile(self.path, pre_buffer=False) as handle:  # no read-ahead: flat memory
            for batch in handle.iter_batches(batch_size=batch_size):
                yield batch.to_pandas()


# ---------------------------------------------------------------------------------- main entry
def prepare(out: str | Path, *, fasta: Sequence = (), table: str | Path | None = None,
            labels: Sequence[str] | str | None = None, bed: Sequence = (), genome: str | Path | None = None,
            npz: Sequence = (), length: int | None = None, max_n: float = 0.0, canonical: bool = True,
            contigs: str | None = None, blacklist: Sequence = (), intersect: Sequence = (),
            exclude: Sequence = (), exclude_window: int = 0, dedup: bool = True, rc_dedup: bool = True,
            negatives: str = "none", gc_tolerance: float = 0.02, split: str = "chrom",
            test_chroms: Sequence[str] | str = ("chr8", "chr9"), val_chroms: Sequence[str] | str = ("chr10",),
            fractions=(0.725, 0.1275, 0.15), split_column: str | None = None, task: str | None = None,
            seed: int = 0, export: Sequence[str] = (), chunk_size: int = 10_000, progress: bool = False,
            figures: bool = True, classes: Sequence[str] | str | None = None, overwrite: bool = False) -> Path:
    """Build a dataset dir (`dataset.json` + `{train,val,test}.parquet` + `figures/`) at `out`.

    Args:
        fasta: (path, label) pairs or 'path:label' strings, one FASTA per class; record names of
            the form `chr:start-end` give coordinates (needed for `split="chrom"`).
        table: CSV / TSV / Parquet with a `sequence` column and the `labels` columns.
        labels: label column names (table, or BED without per-file labels).
        bed: (path, label) pairs or 'path:label' strings (BED / narrowPeak); needs `genome`.
        genome: genome FASTA (plain or bgzip; the .fai index is built when missing).
        npz: NPZ files (X one-hot (N, L, 4), y); file stems train/val/test act as a split column.
        length: window length in bp (BED: centred on the summit or midpoint; FASTA/table/NPZ:
            centre-cropped or N-padded). None keeps input lengths. A BED window reaching past a
            chromosome end is kept and N-padded; its `start` is then negative (or its `end` past
            the chromosome end), so sequence[i] is genome position start + i.
        max_n: largest allowed fraction of N (and other ambiguity codes) among a sequence's own
            bases (from the genome or the input); N added as padding past a chromosome end or to
            reach `length` are not counted.
        canonical, contigs: keep canonical contigs only (1-22, X, Y, M) or those matching `contigs`.
        blacklist, intersect, exclude, exclude_window: BED interval filters (BED input).
        dedup, rc_dedup: de-duplicate within class and across classes; treat reverse complements
            as the same sequence.
        negatives: "none", "shuffle" (dinucleotide shuffles) or "gc-matched" (genomic windows; needs
            `genome` and coordinates) when only positives (label 1) are given.
        gc_tolerance: largest |GC difference| between a GC-matched negative and its positive.
        split: "chrom" (`test_chroms`, `val_chroms`), "random" (stratified `fractions`) or "column"
            (`split_column` values train / val / test).
        task: binary / multilabel / multiclass / regression; detected from the labels when None.
        seed: seed for shuffles, negatives and random splits.
        export: ("npz",) to also write `{split}.npz` (X one-hot (N, L, 4), y).
        progress: show progress bars.
        figures: write QC figures to `out/figures/`.
        classes: order of named labels (`yes`/`no`, `GATA1`...), first = class 0; default sorted.
            The names are stored as `classes` in `dataset.json`.
        overwrite: replace `out` even when it holds something other than an earlier `prepare`
            output (an `out` holding an input is always refused).

    Returns:
        the dataset dir path.
    """
    out = Path(out)
    inputs = _input_paths(fasta, bed, table, npz, genome, blacklist, intersect, exclude)
    check_out_dir(out, "prepare", inputs, overwrite)      # before any work: a refusal costs nothing
    args = _Args.build(**{k: v for k, v in locals().items() if k not in ("out", "inputs", "overwrite")})
    try:
        with output_dir(out, "prepare", inputs, overwrite) as tmp:
            _Builder(args, tmp).run()
    finally:
        if args.genome is not None:
            args.genome.close()
    return out


def _input_paths(fasta, bed, table, npz, genome, blacklist, intersect, exclude) -> list[Path]:
    """Every file `prepare` reads (FASTA / BED specs without their ':label')."""
    paths = [Path(spec[0]) if isinstance(spec, (tuple, list)) else parse_label_spec(spec)[0]
             for spec in [*(fasta or ()), *(bed or ())]]
    paths += [Path(p) for p in [table, genome, *(npz or ()), *_as_list(blacklist), *_as_list(intersect),
                                *_as_list(exclude)] if p]
    return paths


class _Args:
    """Checked arguments of `prepare` (every check that can fail before any work is done)."""

    @classmethod
    def build(cls, **kw) -> "_Args":
        self = cls()
        self.raw = kw
        self.fasta = _label_specs(kw["fasta"], "fasta")
        self.bed = _label_specs(kw["bed"], "bed")
        self.table = Path(kw["table"]) if kw["table"] else None
        self.npz = [Path(p) for p in kw["npz"] or ()]
        kinds = [k for k, v in (("fasta", self.fasta), ("bed", self.bed), ("table", self.table),
                                ("npz", self.npz)) if v]
        if not kinds:
            raise RegdnaError("no input: give --fasta FILE:LABEL (one per class), --bed FILE:LABEL with "
                              "--genome, --table FILE --labels COLS, or --npz FILE.")
        if len(kinds) > 1:
            raise RegdnaError(f"give one kind of input, not {' and '.join('--' + k for k in kinds)}.")
        self.kind = kinds[0]
        labels = kw["labels"]
        self.labels = [c.strip() for c in labels.split(",")] if isinstance(labels, str) else list(labels or [])
        self.length = kw["length"]
        if self.length is not None and self.length <= 0:
            raise RegdnaError(f"--length {self.length} must be a positive number of bp.")
        self.max_n = float(kw["max_n"])
        if not 0 <= self.max_n <= 1:
            raise RegdnaError(f"--max-n {self.max_n} is a fraction of the sequence between 0 and 1.")
        if kw["negatives"] not in NEGATIVES:
            raise RegdnaError(f"--negatives {kw['negatives']}: choose one of {', '.join(NEGATIVES)}.")
        self.negatives = kw["negatives"]
        if kw["split"] not in ("chrom", "random", "column"):
            raise RegdnaError(f"--split {kw['split']}: choose chrom, random or column.")
        self.split = kw["split"]
        to_list = lambda v: parse_chroms(v) if isinstance(v, str) else list(v or [])  # noqa: E731
        self.test_chroms, self.val_chroms = to_list(kw["test_chroms"]), to_list(kw["val_chroms"])
        self.fractions = parse_fractions(kw["fractions"])
        self.split_column = kw["split_column"]
        if self.split == "column" and not self.split_column and self.kind != "npz":
            raise RegdnaError("--split column needs --split-column NAME (a column with train / val / test).")
        if kw["task"] is not None and kw["task"] not in TASKS:
            raise RegdnaError(f"--task {kw['task']}: choose one of {', '.join(TASKS)}.")
        self.task = kw["task"]
        self.export = [e.lower() for e in kw["export"] or ()]
        for e in self.export:
            if e != "npz":
                raise RegdnaError(f"--export {e}: only 'npz' is supported.")
        self.seed = int(kw["seed"])
        self.chunk_size = int(kw["chunk_size"])
        self.progress, self.figures = kw["progress"], kw["figures"]
        self.dedup, self.rc_dedup = kw["dedup"], kw["rc_dedup"]
        self.gc_tolerance = float(kw["gc_tolerance"])

        # labels per file
        self.label_map: dict[str, float] = {}
        self.classes: list[str] | None = None
        self.spec_task: str | None = None
        self.class_order = parse_classes(kw["classes"])
        if self.class_order is not None and self.kind == "npz":
            raise RegdnaError("--classes orders named labels, but NPZ labels are numbers; drop --classes.")
        specs = self.fasta or self.bed
        if specs:
            missing = [p for p, lab in specs if lab is None]
            if self.kind == "fasta" and missing:
                raise RegdnaError(f"--fasta {missing[0]}: no label; write it after a colon, e.g. "
                                  f"--fasta {missing[0]}:1 (one FASTA per class).")
            if self.kind == "bed" and missing and (len(missing) != len(specs) or not self.labels):
                raise RegdnaError(f"--bed {missing[0]}: no label; write --bed {missing[0]}:1 (one BED per "
                                  "class) or name label columns of the BED with --labels.")
            if not missing:
                self.label_map, self.classes = file_labels([lab for _, lab in specs], self.class_order, self.kind)
                numbers = set(self.label_map.values())
                # per-file labels are classes: numbers other than 0/1 (e.g. 2, 5, 7) are multiclass
                if self.classes is None and not numbers <= {0.0, 1.0}:
                    self.spec_task = "multiclass"
                self.labels = ["label"]
        if self.kind == "table" and not self.labels:
            from regdna.io.tables import table_columns

            raise RegdnaError(f"--table {self.table}: name the label column(s) with --labels (the table has "
                              f"{', '.join(table_columns(self.table))}).")

        # genome and interval sets
        self.genome = None
        if self.kind == "bed" or self.negatives == "gc-matched":
            if not kw["genome"]:
                raise RegdnaError("--genome FASTA is needed for BED input and for --negatives gc-matched.")
            from regdna.io.genome import Genome

            self.genome = Genome(kw["genome"])
        elif kw["genome"]:
            from regdna.io.genome import Genome

            self.genome = Genome(kw["genome"])
        from regdna.data.intervals import IntervalSet

        window = int(kw["exclude_window"] or 0)
        if window < 0:
            raise RegdnaError(f"--exclude-window {window} must be >= 0 bp.")
        self.filters = IntervalFilters(
            canonical=kw["canonical"], contigs=kw["contigs"],
            blacklist=[IntervalSet.from_bed(p) for p in _as_list(kw["blacklist"])],
            intersect=[IntervalSet.from_bed(p) for p in _as_list(kw["intersect"])],
            exclude=[IntervalSet.from_bed(p, window=window) for p in _as_list(kw["exclude"])])
        if self.kind != "bed" and (self.filters.blacklist or self.filters.intersect or self.filters.exclude):
            raise RegdnaError("--blacklist / --intersect / --exclude filter BED intervals; use them with --bed.")
        if self.negatives != "none":
            if self.kind not in ("fasta", "bed") or self.classes is not None or set(self.label_map.values()) != {1.0}:
                raise RegdnaError(f"--negatives {self.negatives} makes negatives for positives only: give FASTA "
                                  "or BED input whose labels are all 1 (e.g. --fasta pos.fa:1).")
            if self.negatives == "gc-matched" and self.length is None and self.kind == "bed":
                raise RegdnaError("--negatives gc-matched needs --length (the negatives' window length).")
        self.provenance = {k: _jsonable(v) for k, v in kw.items() if k not in ("progress",)}
        self.provenance["classes"] = self.class_order
        return self


def _as_list(value) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, (str, Path)) else list(value)


def _none_for_missing(values: pd.Series) -> list:
    """Column values as a list with None for missing (pandas reads null strings back as NaN)."""
    return values.astype(object).where(values.notna(), None).tolist()


def _jsonable(value):
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


class _Builder:
    """One `prepare` run inside the temporary dataset dir `tmp`."""

    def __init__(self, args: _Args, tmp: Path):
        self.a = args
        self.tmp = tmp
        # every step's count is present (0 when the step removed nothing or did not apply)
        self.counts: dict = dict.fromkeys(
            ("input", "non_canonical", "blacklist", "intersect", "exclude", "padded_windows", "resized_to_length",
             "too_many_n", "negatives_added", "within_class_duplicates", "cross_class_collisions",
             "cross_class_sequences", "removed_by_reverse_complement"), 0)
        # label columns of a table or BED file, read by one reader each for every file
        columns = self.a.labels if self.a.kind == "table" or (self.a.kind == "bed" and not self.a.label_map) else []
        self.readers = [LabelColumn(str(self.a.table or "the BED files"), c, names_allowed=len(columns) == 1)
                        for c in columns]
        self.recode = None          # staged first label -> final class number (names, numeric multiclass)
        # records per class value (first label) that reached cleaning / that each filter removed,
        # to say which filter emptied a class
        self.seen: dict[float, int] = {}
        self.removed: dict[str, dict[float, int]] = {}
        n_labels = len(self.a.labels) if self.a.labels else 1
        if self.a.kind == "npz":
            n_labels = self._npz_width()
        self.stage = _Stage(tmp / ".stage.parquet", n_labels)

    def _npz_width(self) -> int:
        import numpy as np_

        with np_.load(self.a.npz[0], allow_pickle=False) as data:
            if "y" not in data.files:
                raise RegdnaError(f"{self.a.npz[0]}: no array 'y' (has {', '.join(data.files)}); the layout is "
                                  "X one-hot (N, L, 4) and y labels (N,) or (N, T).")
            shape = data["y"].shape
        return 1 if len(shape) == 1 else int(np.prod(shape[1:]))

    # --- reading and per-record cleaning
    def _chunks(self) -> Iterable[Chunk]:
        a = self.a
        if a.kind == "fasta":
            for path, label in a.fasta:
                yield from fasta_chunks(path, a.label_map[label], a.chunk_size, self.counts)
        elif a.kind == "bed":
            for path, label in a.bed:
                value = a.label_map.get(label) if label is not None else None
                before = {step: self.counts[step] for step in _INTERVAL_STEPS}
                yield from bed_chunks(path, value, a.genome, a.length, a.filters, a.chunk_size, self.counts,
                                      label_columns=None if label is not None else self.readers,
                                      split_column=a.split_column if a.split == "column" else None)
                if value is not None:   # the interval filters ran inside the source: tally per file
                    for step in _INTERVAL_STEPS:
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

    def _read(self, bar) -> None:
        task = bar.add_task("reading and cleaning", total=None)
        for chunk in self._chunks():
            if chunk.y.shape[1] != self.stage.n_labels:
                raise RegdnaError(f"{chunk.frame['where'].iloc[0]}: {chunk.y.shape[1]} label column(s), but the first "
                                  f"input has {self.stage.n_labels}; all inputs must carry the same labels.")
            chunk = self._clean(chunk)
            self.stage.add(chunk.frame, chunk.y, self._split_codes(chunk.frame))
            bar.update(task, completed=self.counts["input"])

    # --- negatives
    def _add_negatives(self, bar) -> None:
        from regdna.data.negatives import gc_matched_negatives, shuffled_negatives

        a = self.a
        rng = np.random.default_rng(a.seed)
        positives = self.stage
        self.stage.close()
        neg_stage = _Stage(self.tmp / ".stage-neg.parquet", positives.n_labels)
        occupied = None
        if a.negatives == "gc-matched":
            occupied = pd.concat([b[["chrom", "start", "end"]] for b in positives.batches()], ignore_index=True)
            if (occupied["start"] == NO_COORD).any() or occupied["chrom"].isna().any():
                raise RegdnaError("--negatives gc-matched needs the positives' coordinates: FASTA names "
                                  "'chr:start-end' (or BED input), so negatives can avoid them.")
        task = bar.add_task(f"negatives ({a.negatives})", total=positives.n)
        stats_all: list[dict] = []
        for batch in positives.batches(batch_size=min(a.chunk_size, 20_000)):
            if a.negatives == "shuffle":
                neg = shuffled_negatives(batch, rng)
            else:
                lengths = batch["sequence"].str.len().to_numpy()
                batch_gc = np.array([gc_fraction(q) for q in batch["sequence"]])  # float64: exact bins
                neg_parts = []
                for length in np.unique(lengths):
                    sel = lengths == length
                    part, stats = gc_matched_negatives(a.genome, batch[sel], batch_gc[sel],
                                                       int(length), rng, tolerance=a.gc_tolerance, max_n=a.max_n,
                                                       occupied=occupied)
                    neg_parts.append(part)
                    stats_all.append(stats)
                neg = pd.concat(neg_parts, ignore_index=True)
            neg["split_value"] = None
            neg["where"] = [f"negative for {i}" for i in neg.get("matched_to", neg["id"])]
            y = np.zeros((len(neg), positives.n_labels))
            chunk = self._clean(Chunk(neg, y))
            neg_stage.add(chunk.frame, chunk.y, self._split_codes(chunk.frame))
            bar.advance(task, len(batch))
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

    # --- the whole run
    def run(self) -> None:
        a = self.a
        self.neg_stage = None
        with _progress(a.progress) as bar:
            self._read(bar)
            self.stage.close()
            if self.stage.n == 0:
                raise RegdnaError(f"no sequences left after filtering ({self._count_text()}); check the "
                                  "inputs, --max-n and the contig filters.")
            if a.negatives != "none":
                self._add_negatives(bar)
            stages = [s for s in (self.stage, self.neg_stage) if s is not None]
            cat = _Stage.concatenate(stages)
            task, classes, y_index = self._resolve_task(cat)
            keep = self._dedup(cat, task, y_index)
            splits = self._assign_splits(cat, keep, y_index)
            from regdna.data.qc import check_leakage

            leakage = check_leakage(cat["canon"][keep], splits[keep], raise_error=False)
            if leakage["shared_sequences"]:
                check_leakage(cat["canon"][keep], splits[keep], ids=self._leak_ids(stages, cat, keep, splits))
            self._write_splits(stages, keep, splits, task, bar)
        info = self._info(task, classes, cat, keep, splits, y_index, leakage)
        write_info(self.tmp, info)
        if a.export:
            if info.length is None:
                raise RegdnaError("--export npz needs sequences of one length (X is (N, L, 4)): add --length.")
            self._export_npz(task)
        if a.figures:
            from regdna.plot.qc import plot_dataset_qc

            plot_dataset_qc(self.tmp, info, gc=cat["gc"][keep], length=cat["length"][keep],
                            classes=y_index[keep], splits=splits[keep], class_names=self._class_names(task, classes))
        for stage in stages:
            stage.path.unlink(missing_ok=True)

    def _leak_ids(self, stages, cat, keep, splits) -> dict[int, str]:
        """Ids of the records that leak (for the error message), looked up in the staged files."""
        kept_idx = np.flatnonzero(keep)
        keys, kept_splits = cat["canon"][kept_idx], splits[kept_idx]
        leaking = [k for k in np.unique(keys) if len(np.unique(kept_splits[keys == k])) > 1][:1]
        local = np.flatnonzero(np.isin(keys, leaking))[:4]
        wanted = {int(kept_idx[i]): int(i) for i in local}
        ids, offset = {}, 0
        for stage in stages:
            for batch in stage.batches(self.a.chunk_size):
                for g in wanted:
                    if offset <= g < offset + len(batch):
                        ids[wanted[g]] = batch["id"].iloc[g - offset]
                offset += len(batch)
        return ids

    def _count_text(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in self.counts.items() if isinstance(v, int))

    def _resolve_task(self, cat: dict) -> tuple[str, list[str] | None, np.ndarray]:
        """Task, class names, and a per-record class index (N,) for stratification and QC
        (binary / multiclass: the class; multilabel / regression: 0). Named classes and numeric
        multiclass labels are renumbered here to their final class numbers (in `cat["y"]`; the
        staged files through `self.recode` when written)."""
        a = self.a
        y = cat["y"]
        names = a.labels or [f"y{j}" for j in range(y.shape[1])]
        classes, lookup = a.classes, None
        for reader in self.readers:
            order, reader_lookup = reader.final_order(a.class_order)
            if order is not None:
                classes, lookup = order, reader_lookup
        task = a.task or a.spec_task or detect_task(y)
        if classes is not None and task not in ("binary", "multiclass"):
            raise RegdnaError(f"--task {task} needs numeric labels, but the labels are names "
                              f"({', '.join(classes[:5])}); use --task binary or multiclass.")
        if task in ("binary", "multiclass"):
            for reader in self.readers:
                if reader.n_missing:
                    raise reader.missing_error(task)
        _check_task(task, y, names)
        if task in ("binary", "multiclass"):
            self._check_lost_classes(y[:, 0], classes if lookup is None else None)
        if lookup is not None:
            self.recode = lambda v: lookup[np.asarray(v).astype(np.int64)]
        elif task == "multiclass" and classes is None:
            # numeric classes (e.g. 2, 5, 7) become indices 0..K-1 in sorted order
            values = np.unique(y[np.isfinite(y)])
            classes = [f"{v:g}" for v in values]
            self.recode = lambda v: np.searchsorted(values, np.asarray(v)).astype(np.float64)
        if self.recode is not None:
            y[:, 0] = self.recode(y[:, 0])
        index = y[:, 0].astype(np.int64) if task in ("binary", "multiclass") else np.zeros(len(y), dtype=np.int64)
        if task in ("binary", "multiclass") and len(np.unique(index)) < 2:
            raise RegdnaError(f"only one class ({classes[int(index[0])] if classes else int(index[0])}) in the "
                              "data: give one input per class (e.g. --fasta pos.fa:1 --fasta neg.fa:0) or make "
                              "negatives with --negatives shuffle / gc-matched.")
        self.label_names = names if task != "multiclass" else (a.labels[:1] if a.labels else ["label"])
        self.classes = classes
        return task, classes, index

    def _class_label(self, value: float, classes: list[str] | None) -> str:
        """How a class value of the first label reads to the user: its name (and number)."""
        if self.readers and self.readers[0].kind == "names":
            name = {float(code): n for n, code in self.readers[0].names.items()}.get(value)
            return f"'{name}'" if name is not None else f"{value:g}"
        text = f"'{classes[int(value)]}'" if classes is not None else f"{value:g}"
        files = [str(p) for p, label in (self.a.fasta or self.a.bed) if self.a.label_map.get(label) == value]
        return text + (f" ({', '.join(files)})" if files else "")

    def _check_lost_classes(self, values: np.ndarray, classes: list[str] | None) -> None:
        """A clear error when the filters removed every record of a class that the input had."""
        present = set(np.unique(values[np.isfinite(values)]).tolist())
        given = set(self.seen) | {v for per in self.removed.values() for v in per}
        lost = sorted(given - present)
        if not lost:
            return
        value = lost[0]
        by_step = {name: per[value] for name, per in self.removed.items() if per.get(value)}
        if not by_step:
            return
        worst = max(by_step, key=by_step.get)
        hint = _FILTER_HINTS[worst].format(max_n=f"{self.a.max_n:g}")
        raise RegdnaError(f"class {self._class_label(value, classes)}: all {sum(by_step.values())} record(s) were "
                          f"removed, most by {hint}. Without them only {len(present)} class(es) would be left.")

    def _class_names(self, task: str, classes) -> list[str]:
        if task in ("binary", "multiclass") and classes:
            return list(classes)
        if task == "binary":
            return ["0", "1"]
        return ["all"]

    def _dedup(self, cat: dict, task: str, y_index: np.ndarray) -> np.ndarray:
        n = len(cat["fwd"])
        if not self.a.dedup:
            self.counts.update({"within_class_duplicates": 0, "cross_class_collisions": 0,
                                "removed_by_reverse_complement": 0})
            return np.ones(n, dtype=bool)
        labels = np.array([label_key(row) for row in cat["y"]], dtype=np.uint64) \
            if task in ("multilabel", "regression") else y_index.astype(np.uint64)
        keys = cat["canon"] if self.a.rc_dedup else cat["fwd"]
        keep, counts = dedup_mask(keys, labels)
        self.counts.update(counts)
        if task in ("binary", "multiclass") and len(np.unique(y_index[keep])) < len(np.unique(y_index)):
            lost = sorted(set(np.unique(y_index).tolist()) - set(np.unique(y_index[keep]).tolist()))[0]
            name = f"'{self.classes[lost]}'" if self.classes else str(lost)
            raise RegdnaError(f"class {name}: every record was removed by {_FILTER_HINTS['dedup']}.")
        if self.a.rc_dedup:
            # records removed only because a sequence equals another's reverse complement
            keep_fwd, _ = dedup_mask(cat["fwd"], labels)
            self.counts["removed_by_reverse_complement"] = int(keep_fwd.sum() - keep.sum())
        else:
            self.counts["removed_by_reverse_complement"] = 0
        return keep

    def _assign_splits(self, cat: dict, keep: np.ndarray, y_index: np.ndarray) -> np.ndarray:
        splits = cat["split"].copy()
        if self.a.split == "random":
            splits[keep] = random_split(y_index[keep], self.a.fractions, self.a.seed)
        empty = [SPLIT_NAMES[c] for c in range(3) if not (splits[keep] == c).any()]
        if empty:
            hint = ("--test-chroms / --val-chroms name chromosomes present in the data"
                    if self.a.split == "chrom" else "use more data or other fractions")
            raise RegdnaError(f"split(s) {', '.join(empty)} would be empty ({int(keep.sum())} sequences kept); {hint}.")
        return splits

    def _write_splits(self, stages, keep, splits, task, bar) -> None:
        """Stream the staged records into one Parquet file per split (pyarrow, no pandas)."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        label_cols = self.label_names
        schema = pa.schema([("id", pa.string()), ("chrom", pa.string()), ("start", pa.int64()),
                            ("end", pa.int64()), ("sequence", pa.string())] +
                           [(c, pa.float64()) for c in label_cols])
        writers = {name: pq.ParquetWriter(self.tmp / f"{name}.parquet", schema) for name in SPLIT_NAMES}
        recode = self.recode
        offset = 0
        task_id = bar.add_task("writing splits", total=len(keep))
        try:
            for stage in stages:
                for batch in stage.arrow_batches(self.a.chunk_size):
                    k, s = keep[offset:offset + batch.num_rows], splits[offset:offset + batch.num_rows]
                    offset += batch.num_rows
                    for code, name in enumerate(SPLIT_NAMES):
                        mask = k & (s == code)
                        if not mask.any():
                            continue
                        rows = batch.filter(pa.array(mask))
                        columns = [rows.column(c) for c in ("id", "chrom")]
                        for c in ("start", "end"):   # unknown coordinate -> null (negative = padded window)
                            col = rows.column(c)
                            columns.append(pc.if_else(pc.equal(col, NO_COORD), pa.scalar(None, pa.int64()), col))
                        columns.append(rows.column("sequence"))
                        for j in range(len(label_cols)):
                            values = rows.column(f"y{j}")
                            if j == 0 and recode is not None:
                                values = pa.array(recode(values.to_numpy(zero_copy_only=False)), pa.float64())
                            columns.append(values)
                        writers[name].write_table(pa.Table.from_arrays(columns, schema=schema))
                    bar.advance(task_id, batch.num_rows)
        finally:
            for writer in writers.values():
                writer.close()

    def _info(self, task, classes, cat, keep, splits, y_index, leakage) -> DatasetInfo:
        from regdna._version import __version__
        from regdna.data import qc

        a = self.a
        kept_split, kept_class = splits[keep], y_index[keep]
        y = cat["y"][keep]
        class_names = self._class_names(task, classes)
        split_info, balance = {}, {}
        for code, name in enumerate(SPLIT_NAMES):
            sel = kept_split == code
            entry: dict = {"n": int(sel.sum())}
            if task in ("binary", "multiclass"):
                entry["per_class"] = {c: int((kept_class[sel] == i).sum()) for i, c in enumerate(class_names)}
                balance[name] = qc.class_balance(entry["per_class"])
            elif task == "multilabel":
                entry["per_class"] = {c: int(np.nansum(y[sel, j])) for j, c in enumerate(self.label_names)}
            else:
                entry["per_class"] = {c: float(np.nanmean(y[sel, j])) if sel.any() else None
                                      for j, c in enumerate(self.label_names)}
            split_info[name] = entry
        if task in ("binary", "multiclass"):
            balance["all"] = qc.class_balance({c: int((kept_class == i).sum()) for i, c in enumerate(class_names)})
        lengths = cat["length"][keep]
        fixed = int(lengths[0]) if len(lengths) and (lengths == lengths[0]).all() else None
        qc_info = {
            "class_balance": balance,
            "gc": qc.distributions(cat["gc"][keep], kept_class, kept_split, class_names),
            "length": qc.distributions(lengths, kept_class, kept_split, class_names),
            "leakage": leakage,
        }
        if task == "binary":
            qc_info["gc_difference"] = qc.gc_difference(cat["gc"][keep].astype(np.float64), kept_class, kept_split)
        counts = dict(self.counts)
        counts["final"] = int(keep.sum())
        counts["leakage_shared_sequences"] = leakage["shared_sequences"]
        provenance = dict(a.provenance)
        provenance.update({"regdna_version": __version__, "input_kind": a.kind,
                           "genome_chrom_count": len(a.genome.chrom_sizes) if a.genome else None})
        return DatasetInfo(task=task, labels=self.label_names,
                           classes=classes if task in ("binary", "multiclass") else None,
                           length=fixed, splits=split_info, provenance=provenance, counts=counts, qc=qc_info)

    def _export_npz(self, task: str) -> None:
        from regdna.data.dataset import read_split
        from regdna.io.npz import write_npz

        for name in SPLIT_NAMES:
            frame = read_split(self.tmp, name)
            y = frame[self.label_names].to_numpy(dtype=np.float32)
            write_npz(self.tmp / f"{name}.npz", frame["sequence"].tolist(), y[:, 0] if y.shape[1] == 1 else y,
                      ids=frame["id"].tolist())
