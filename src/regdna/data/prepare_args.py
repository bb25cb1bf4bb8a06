"""The arguments of `prepare`, checked before any work is done: a refusal costs nothing.

`PrepareArgs.build` parses 'a.fa:label' specs, label lists, chromosome lists and split fractions,
checks every combination of options, opens the genome and reads the interval-filter BEDs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from regdna.data.intervals import IntervalSet
from regdna.data.labels import file_labels, parse_classes
from regdna.data.sources import IntervalFilters, parse_label_spec
from regdna.data.splits import parse_chroms, parse_fractions
from regdna.data.task import TASKS
from regdna.errors import RegdnaError
from regdna.io.genome import Genome
from regdna.io.tables import table_columns
from regdna.utils.jsonio import to_jsonable

NEGATIVES = ("none", "shuffle", "gc-matched")
SPLIT_METHODS = ("chrom", "random", "column")


def as_list(value) -> list:
    """None -> [], one path -> [path], a sequence -> a list."""
    if value is None:
        return []
    return [value] if isinstance(value, (str, Path)) else list(value)


def label_specs(specs: Iterable, kind: str) -> list[tuple[Path, str | None]]:
    """(path, label) pairs or 'path:label' strings of `--fasta` / `--bed` -> checked (Path, label)."""
    out = []
    for spec in specs or ():
        path, label = (Path(spec[0]), None if spec[1] is None else str(spec[1])) \
            if isinstance(spec, (tuple, list)) else parse_label_spec(spec)
        if not path.is_file():
            raise RegdnaError(f"--{kind} {path}: file not found; check the path (labels go after the last "
                              f"colon: --{kind} {path.name}:1).")
        out.append((path, label))
    return out


def input_paths(fasta, bed, table, npz, genome, blacklist, intersect, exclude) -> list[Path]:
    """Every file `prepare` reads (FASTA / BED specs without their ':label')."""
    paths = [Path(spec[0]) if isinstance(spec, (tuple, list)) else parse_label_spec(spec)[0]
             for spec in [*(fasta or ()), *(bed or ())]]
    paths += [Path(p) for p in [table, genome, *(npz or ()), *as_list(blacklist), *as_list(intersect),
                                *as_list(exclude)] if p]
    return paths


class PrepareArgs:
    """Checked arguments of `prepare` (the keyword arguments of `run_prepare`, parsed)."""

    @classmethod
    def build(cls, **kw) -> "PrepareArgs":
        self = cls()
        self.raw = kw
        self.fasta = label_specs(kw["fasta"], "fasta")
        self.bed = label_specs(kw["bed"], "bed")
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
        if kw["split"] not in SPLIT_METHODS:
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
        self._labels_per_file(kw)
        self._genome_and_filters(kw)
        self.provenance = {k: to_jsonable(v) for k, v in kw.items() if k not in ("progress",)}
        self.provenance["classes"] = self.class_order
        return self

    def _labels_per_file(self, kw: dict) -> None:
        """`label_map` (label of a FASTA / BED spec -> number), `classes`, `spec_task`."""
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
            raise RegdnaError(f"--table {self.table}: name the label column(s) with --labels (the table has "
                              f"{', '.join(table_columns(self.table))}).")

    def _genome_and_filters(self, kw: dict) -> None:
        """`genome` (opened) and the interval `filters`; the negatives' needs."""
        self.genome = None
        if (self.kind == "bed" or self.negatives == "gc-matched") and not kw["genome"]:
            raise RegdnaError("--genome FASTA is needed for BED input and for --negatives gc-matched.")
        if kw["genome"]:
            self.genome = Genome(kw["genome"])
        window = int(kw["exclude_window"] or 0)
        if window < 0:
            raise RegdnaError(f"--exclude-window {window} must be >= 0 bp.")
        self.filters = IntervalFilters(
            canonical=kw["canonical"], contigs=kw["contigs"],
            blacklist=[IntervalSet.from_bed(p) for p in as_list(kw["blacklist"])],
            intersect=[IntervalSet.from_bed(p) for p in as_list(kw["intersect"])],
            exclude=[IntervalSet.from_bed(p, window=window) for p in as_list(kw["exclude"])])
        if self.kind != "bed" and (self.filters.blacklist or self.filters.intersect or self.filters.exclude):
            raise RegdnaError("--blacklist / --intersect / --exclude filter BED intervals; use them with --bed.")
        if self.negatives != "none":
            if self.kind not in ("fasta", "bed") or self.classes is not None or set(self.label_map.values()) != {1.0}:
                raise RegdnaError(f"--negatives {self.negatives} makes negatives for positives only: give FASTA "
                                  "or BED input whose labels are all 1 (e.g. --fasta pos.fa:1).")
            if self.negatives == "gc-matched" and self.length is None and self.kind == "bed":
                raise RegdnaError("--negatives gc-matched needs --length (the negatives' window length).")
