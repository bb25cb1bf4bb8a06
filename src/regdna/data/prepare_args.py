"""The arguments of `prepare`, checked before any work is done: a refusal costs nothing.

`PrepareArgs.build` parses 'a.fa:label' specs, label lists, chromosome lists and split fractions,
checks every combination of options, opens the genome and reads the interval-filter BEDs.
`ProfileArgs.build` does the same for a coverage dataset (`--bigwig`): track names, window
geometry (length, margin, bin size), the selection, the chromosomes and the peak BEDs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from regdna.data.intervals import IntervalSet, canonical_mask
from regdna.data.labels import file_labels, parse_classes
from regdna.data.sources import IntervalFilters, parse_label_spec
from regdna.data.dataset import SPLITS
from regdna.data.splits import chrom_split, parse_chroms, parse_fractions
from regdna.data.task import TASKS
from regdna.errors import RegdnaError
from regdna.io.genome import Genome
from regdna.io.tables import table_columns
from regdna.utils.jsonio import to_jsonable

NEGATIVES = ("none", "shuffle", "gc-matched")
SPLIT_METHODS = ("chrom", "random", "column")
SELECTIONS = ("peaks", "coverage")
# columns of every split file: no track may be named so
RESERVED_COLUMNS = ("id", "chrom", "start", "end", "sequence")
# options of coverage datasets only: (keyword, its value when not given, option)
PROFILE_OPTIONS = (("selection", None, "--selection"), ("margin", None, "--margin"),
                   ("bin_size", 1, "--bin-size"), ("chroms", None, "--chroms"))


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


def input_paths(fasta, bed, table, npz, genome, blacklist, intersect, exclude, bigwig=()) -> list[Path]:
    """Every file `prepare` reads (FASTA / BED / bigWig specs without their ':label')."""
    paths = [Path(spec[0]) if isinstance(spec, (tuple, list)) else parse_label_spec(spec)[0]
             for spec in [*(fasta or ()), *(bed or ()), *(bigwig or ())]]
    paths += [Path(p) for p in [table, genome, *(npz or ()), *as_list(blacklist), *as_list(intersect),
                                *as_list(exclude)] if p]
    return paths


class PrepareArgs:
    """Checked arguments of `prepare` (the keyword arguments of `run_prepare`, parsed)."""

    @classmethod
    def build(cls, **kw) -> "PrepareArgs":
        self = cls()
        self.raw = kw
        for key, unset, option in PROFILE_OPTIONS:
            if kw.get(key, unset) != unset:
                raise RegdnaError(f"{option} shapes a coverage dataset; add --bigwig TRACK.bw:NAME (one per "
                                  "track) or drop it.")
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
        if kw["task"] == "profile":
            raise RegdnaError("--task profile: coverage datasets are made from bigWig tracks; add --bigwig "
                              "TRACK.bw:NAME (one per track).")
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


def bigwig_specs(specs: Iterable) -> list[tuple[Path, str]]:
    """`--bigwig FILE[:NAME]` specs ((path, name) pairs or strings) -> checked (Path, name);
    the name defaults to the file stem, names are unique and are not a split-file column."""
    out = []
    for spec in specs:
        path, name = (Path(spec[0]), spec[1]) if isinstance(spec, (tuple, list)) else parse_label_spec(spec)
        if not path.is_file():
            raise RegdnaError(f"--bigwig {path}: file not found; check the path (the track name goes after "
                              f"the last colon: --bigwig {path.name}:NAME).")
        name = str(name) if name else path.stem
        if name in RESERVED_COLUMNS or name.startswith("peak_"):
            raise RegdnaError(f"--bigwig {path}: the track name '{name}' is taken by a column of the split "
                              f"files; name the track after a colon: --bigwig {path.name}:NAME.")
        clash = [p for p, n in out if n == name]
        if clash:
            raise RegdnaError(f"--bigwig {clash[0]} and --bigwig {path} are both named '{name}'; give each "
                              f"track its own name after a colon: --bigwig {path.name}:NAME.")
        out.append((path, name))
    return out


class ProfileArgs:
    """Checked arguments of `prepare --bigwig` (a coverage dataset, `regdna.data.prepare_profile`).

    Opens the genome and the bigWigs (`genome`, `bigwigs`, closed by `close`); `chroms` are the
    genome's names of the chromosomes windows are drawn from, in genome order, and `split_chroms`
    their split; `bed` the peak BEDs with the track each applies to (None: every track).
    """

    @classmethod
    def build(cls, **kw) -> "ProfileArgs":
        from regdna.data.profiles import check_bin_size
        from regdna.io.bigwig import BigWig

        self = cls()
        self.genome, self.bigwigs = None, []
        self.kind = "bigwig"
        _refuse_label_options(kw)
        self.tracks_spec = bigwig_specs(kw["bigwig"])
        self.tracks = [name for _, name in self.tracks_spec]
        self.bed = label_specs(kw["bed"], "bed")
        for path, label in self.bed:
            if label is not None and label not in self.tracks:
                raise RegdnaError(f"--bed {path}:{label}: '{label}' is not a track ({', '.join(self.tracks)}); "
                                  "label a peak BED with the track its peaks belong to, or give no label to "
                                  "apply it to every track.")
        self.peak_tracks = [t for t in self.tracks if any(lab in (None, t) for _, lab in self.bed)]
        if kw["length"] is None or kw["length"] <= 0:
            raise RegdnaError(f"--length {kw['length']}: a coverage dataset needs the model's input length "
                              "in bp, e.g. --length 2048.")
        self.length = int(kw["length"])
        self.margin = self.length // 4 if kw["margin"] is None else int(kw["margin"])
        if self.margin < 0:
            raise RegdnaError(f"--margin {self.margin} must be >= 0 bp (stored on each side of the window).")
        self.stored_length = self.length + 2 * self.margin
        self.bin_size = int(kw["bin_size"])
        check_bin_size(self.length, self.bin_size)
        self.selection = kw["selection"] or ("peaks" if self.bed else "coverage")
        if self.selection not in SELECTIONS:
            raise RegdnaError(f"--selection {self.selection}: choose peaks (windows centred on --bed peaks) or "
                              "coverage (genome tiles above --coverage-threshold).")
        if self.selection == "peaks" and not self.bed:
            raise RegdnaError("--selection peaks centres windows on peaks: give --bed PEAKS.narrowPeak (or use "
                              "--selection coverage).")
        self.coverage_threshold = float(kw["coverage_threshold"])
        if self.coverage_threshold != self.coverage_threshold:   # NaN
            raise RegdnaError("--coverage-threshold must be a number (e.g. 2).")
        self.max_n = float(kw["max_n"])
        if not 0 <= self.max_n <= 1:
            raise RegdnaError(f"--max-n {self.max_n} is a fraction of the window between 0 and 1.")
        to_list = lambda v: parse_chroms(v) if isinstance(v, str) else list(v or [])  # noqa: E731
        self.test_chroms, self.val_chroms = to_list(kw["test_chroms"]), to_list(kw["val_chroms"])
        chrom_split([], self.test_chroms, self.val_chroms)      # a chromosome in both: refused here
        self.chunk_size = int(kw["chunk_size"])
        if self.chunk_size < 1:
            raise RegdnaError(f"chunk_size {self.chunk_size} must be >= 1 window.")
        self.progress, self.figures = kw["progress"], kw["figures"]
        try:
            if not kw["genome"]:
                raise RegdnaError("--bigwig needs --genome FASTA (the sequences of the windows).")
            self.genome = Genome(kw["genome"])
            self.bigwigs = [BigWig(path) for path, _ in self.tracks_spec]
            self._chromosomes(kw, to_list(kw["chroms"]))
            self.blacklist = [IntervalSet.from_bed(p) for p in as_list(kw["blacklist"])]
        except BaseException:
            self.close()
            raise
        self.blacklist_paths = [Path(p) for p in as_list(kw["blacklist"])]
        self.provenance = {k: to_jsonable(v) for k, v in kw.items() if k not in ("progress",)}
        return self

    def _chromosomes(self, kw: dict, requested: list[str]) -> None:
        """`chroms` (--chroms, or the canonical chromosomes of the genome but chrY and chrM, or
        the --contigs ones, present in every bigWig) and `split_chroms`; a bigWig naming no chromosome of the genome is refused."""
        genome = self.genome
        for (path, _), bigwig in zip(self.tracks_spec, self.bigwigs):
            if not set(bigwig.chrom_sizes) & set(genome.chrom_sizes):
                raise RegdnaError(f"--bigwig {path} names no chromosome of genome {genome.path} (e.g. "
                                  f"'{next(iter(bigwig.chrom_sizes), '?')}' vs '{next(iter(genome.chrom_sizes))}');"
                                  " use a bigWig and a genome that name chromosomes alike.")
        if requested:
            names = {genome.require(c, "--chroms") for c in requested}
            chroms = [c for c in genome.chrom_sizes if c in names]
        else:
            candidates = list(genome.chrom_sizes)
            if kw["canonical"] or kw["contigs"]:
                candidates = [c for c, ok in zip(candidates, canonical_mask(candidates, kw["contigs"])) if ok]
            if not kw["contigs"]:
                # Toneyan et al. 2022 leave out chrY; chrM's coverage is organelle copy number
                candidates = [c for c in candidates if c.upper().removeprefix("CHR") not in ("Y", "M", "MT")]
            chroms = [c for c in candidates if all(c in b.chrom_sizes for b in self.bigwigs)]
            if not chroms:
                raise RegdnaError(f"no chromosome of genome {genome.path} is canonical (or matches --contigs) "
                                  "and in every bigWig; name the chromosomes with --chroms chr1,chr2,...")
        self.chroms = chroms
        codes = chrom_split(chroms, self.test_chroms, self.val_chroms)
        self.split_chroms = {split: [c for c, code in zip(chroms, codes) if code == i]
                             for i, split in enumerate(SPLITS)}
        empty = [split for split, names in self.split_chroms.items() if not names]
        if empty:
            raise RegdnaError(f"split(s) {', '.join(empty)} would be empty: no chromosome of "
                              f"{', '.join(chroms[:6])}{', ...' if len(chroms) > 6 else ''} is held out for "
                              "them; name chromosomes present in the genome and the bigWigs with "
                              "--test-chroms / --val-chroms (or widen --chroms).")

    def close(self) -> None:
        for handle in [self.genome, *self.bigwigs]:
            if handle is not None:
                handle.close()


def _refuse_label_options(kw: dict) -> None:
    """Options of label datasets that a coverage dataset cannot honour: one clear error each."""
    others = [f"--{k}" for k in ("fasta", "table", "npz") if kw[k]]
    if others:
        raise RegdnaError(f"--bigwig makes a coverage dataset from --genome; it takes no {' or '.join(others)}.")
    if kw["split"] != "chrom":
        raise RegdnaError(f"--split {kw['split']} with --bigwig: coverage windows overlap (peaks, tiles with "
                          "margins), so a random or column split would leak; use --split chrom with "
                          "--test-chroms / --val-chroms.")
    refused = {"--labels": kw["labels"], "--classes": kw["classes"], "--split-column": kw["split_column"],
               "--intersect": as_list(kw["intersect"]), "--exclude": as_list(kw["exclude"]),
               "--export": list(kw["export"] or ())}
    for option, value in refused.items():
        if value:
            raise RegdnaError(f"{option} does not apply to a coverage dataset (--bigwig): the labels are the "
                              "tracks; drop it.")
    if kw["negatives"] != "none":
        raise RegdnaError(f"--negatives {kw['negatives']} does not apply to a coverage dataset (--bigwig): "
                          "low-coverage windows are its negatives (--selection coverage); drop it.")
    if kw["task"] not in (None, "profile"):
        raise RegdnaError(f"--task {kw['task']} with --bigwig: a coverage dataset's task is profile; drop --task.")
