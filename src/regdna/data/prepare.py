"""`regdna prepare`: FASTA, BED/narrowPeak + genome, tables or NPZ -> a clean, leak-free dataset dir.

Steps (each switchable, each counted in `dataset.json`), one module each:
  arguments checked before any work (`prepare_args`)
  -> read (chunk-wise) -> canonical contigs / blacklist / --intersect / --exclude (BED input)
  -> fixed windows centred on the summit, N-padded past contig ends (kept: the padding is not
     counted by the max-N filter, and `start` may be negative / `end` past the contig end, so
     sequence[i] is always genome position start + i) -> upper-case -> max-N filter
  -> [negatives: dinucleotide shuffles or GC-matched genomic windows]   (`staging`)
  -> task and class numbering (`task`)
  -> de-duplication (within class, cross-class collisions from both, reverse complements)
  -> split (chromosome, stratified random or a column) -> leakage check (here)
  -> Parquet per split (`writer`) -> QC (balance tests, GC and length distributions, figures; `qc`).
With `--bigwig` it makes a coverage (profile) dataset instead: windows from peaks or coverage
tiles, base-resolution coverage per track beside the Parquet files (`prepare_profile`).

Scale: records pass through in chunks (10,000 by default) and are staged to a Parquet file; only
8-byte sequence digests and a few numbers per record stay in memory (~35 bytes a record, up to
~0.12 KB at the de-dup sort), never the sequences, so 1 M intervals fit in ~0.5 GB
(`bench/prepare_scale.py`).

Output follows `regdna.utils.output`: `--out` is checked before any work (a directory holding
anything but an earlier `prepare` output, or holding an input, is refused unless `--overwrite`),
and everything is written into a temporary dir that becomes `--out` only on success.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from regdna._version import __version__
from regdna.data.clean import dedup_mask, label_key
from regdna.data.dataset import SPLITS, DatasetInfo, write_info
from regdna.data.prepare_args import PrepareArgs, ProfileArgs, input_paths
from regdna.data.qc import check_leakage, dataset_qc, write_figures
from regdna.data.splits import random_split
from regdna.data.staging import Stage, Staging
from regdna.data.task import CLASSIFICATION, FILTER_HINTS, Resolved, class_names, resolve_task
from regdna.data.writer import export_npz, write_splits
from regdna.errors import RegdnaError
from regdna.utils.output import check_out_dir, output_dir


def run_prepare(out: str | Path, *, fasta: Sequence = (), table: str | Path | None = None,
                labels: Sequence[str] | str | None = None, bed: Sequence = (), genome: str | Path | None = None,
                npz: Sequence = (), length: int | None = None, max_n: float = 0.0, canonical: bool = True,
                contigs: str | None = None, blacklist: Sequence = (), intersect: Sequence = (),
                exclude: Sequence = (), exclude_window: int = 0, dedup: bool = True, rc_dedup: bool = True,
                negatives: str = "none", gc_tolerance: float = 0.02, split: str = "chrom",
                test_chroms: Sequence[str] | str = ("chr8", "chr9"), val_chroms: Sequence[str] | str = ("chr10",),
                fractions=(0.725, 0.1275, 0.15), split_column: str | None = None, task: str | None = None,
                seed: int = 0, export: Sequence[str] = (), chunk_size: int = 10_000, progress: bool = False,
                figures: bool = True, classes: Sequence[str] | str | None = None, bigwig: Sequence = (),
                selection: str | None = None, coverage_threshold: float = 2.0, margin: int | None = None,
                bin_size: int = 1, chroms: Sequence[str] | str | None = None, overwrite: bool = False) -> Path:
    """`regdna prepare`: build a dataset dir (`dataset.json` + `{train,val,test}.parquet` +
    `figures/`) at `out`; with `bigwig`, a coverage dataset (+ `{split}.coverage.npy`).

    Parameters
    ----------
    out : the dataset dir to write (`regdna.utils.output` policy).
    fasta : (path, label) pairs or 'path:label' strings, one FASTA per class; record names of
        the form `chr:start-end` give coordinates (needed for `split="chrom"`).
    table : CSV / TSV / Parquet with a `sequence` column and the `labels` columns.
    labels : label column names (table, or BED without per-file labels).
    bed : (path, label) pairs or 'path:label' strings (BED / narrowPeak); needs `genome`.
    genome : genome FASTA (plain or bgzip; the .fai index is built when missing).
    npz : NPZ files (X one-hot (N, L, 4), y); file stems train/val/test act as a split column.
    length : window length in bp (BED: centred on the summit or midpoint; FASTA/table/NPZ:
        centre-cropped or N-padded). None keeps input lengths. A BED window reaching past a
        chromosome end is kept and N-padded; its `start` is then negative (or its `end` past
        the chromosome end), so sequence[i] is genome position start + i.
    max_n : largest allowed fraction of N (and other ambiguity codes) among a sequence's own
        bases (from the genome or the input); N added as padding past a chromosome end or to
        reach `length` are not counted.
    canonical, contigs : keep canonical contigs only (1-22, X, Y, M) or those matching `contigs`.
    blacklist, intersect, exclude, exclude_window : BED interval filters (BED input).
    dedup, rc_dedup : de-duplicate within class and across classes; treat reverse complements
        as the same sequence.
    negatives : "none", "shuffle" (dinucleotide shuffles) or "gc-matched" (genomic windows; needs
        `genome` and coordinates) when only positives (label 1) are given.
    gc_tolerance : largest |GC difference| between a GC-matched negative and its positive.
    split : "chrom" (`test_chroms`, `val_chroms`), "random" (stratified `fractions`) or "column"
        (`split_column` values train / val / test).
    split_column : the column (table, BED) holding train / val / test for `split="column"`.
    task : binary / multilabel / multiclass / regression; detected from the labels when None.
    seed : seed for shuffles, negatives and random splits.
    export : ("npz",) to also write `{split}.npz` (X one-hot (N, L, 4), y).
    chunk_size : records read, cleaned and written at a time (memory).
    progress : show progress bars.
    figures : write QC figures to `out/figures/`.
    classes : order of named labels (`yes`/`no`, `GATA1`...), first = class 0; default sorted.
        The names are stored as `classes` in `dataset.json`.
    bigwig : (path, name) pairs or 'path[:name]' strings, one bigWig coverage track each (name
        default: the file stem): makes a coverage dataset (task "profile", Toneyan et al. 2022)
        from `genome`, with `length`, split by chromosome; `bed` then gives peaks ('path:track'
        applies to one track, no label to every track), `blacklist` and `max_n` filter windows
        (`max_n` as a fraction of the stored window) (`regdna.data.prepare_profile`).
    selection : "peaks" (a window centred on each `bed` peak's summit or midpoint; the default
        with `bed`) or "coverage" (chromosomes tiled from 0, tiles whose max coverage of any track
        exceeds `coverage_threshold` kept; the default without `bed`).
    coverage_threshold : coverage selection: a tile is kept when a track's max coverage in it
        is above this.
    margin : bp stored on each side of the `length` window (room for shift augmentation);
        default `length // 4` (Toneyan et al. 2022 store 3072 bp for 2048).
    bin_size : default target resolution of training, bp per bin; must divide `length`.
    chroms : chromosomes windows are drawn from (list or comma list); default: the canonical
        (or `contigs`) chromosomes of the genome present in every bigWig.
    overwrite : replace `out` even when it holds something other than an earlier `prepare`
        output (an `out` holding an input is always refused).

    Returns
    -------
    Path
        The dataset dir (its `dataset.json` holds the counts and the QC:
        `regdna.data.dataset.load_info`).
    """

    out = Path(out)
    inputs = input_paths(fasta, bed, table, npz, genome, blacklist, intersect, exclude, bigwig)
    check_out_dir(out, "prepare", inputs, overwrite)      # before any work: a refusal costs nothing
    kw = {k: v for k, v in locals().items() if k not in ("out", "inputs", "overwrite")}
    if bigwig:
        from regdna.data.prepare_profile import build_profile

        profile_args = ProfileArgs.build(**kw)
        try:
            with output_dir(out, "prepare", inputs, overwrite) as tmp:
                build_profile(profile_args, tmp)
        finally:
            profile_args.close()
        return out
    args = PrepareArgs.build(**kw)
    try:
        with output_dir(out, "prepare", inputs, overwrite) as tmp:
            _build(args, tmp)
    finally:
        if args.genome is not None:
            args.genome.close()
    return out



def _build(a: PrepareArgs, tmp: Path) -> None:
    """One `prepare` run inside the temporary dataset dir `tmp`."""
    staging = Staging(a, tmp)
    staging.read()
    if staging.stage.n == 0:
        raise RegdnaError(f"no sequences left after filtering ({_count_text(staging.counts)}); check the "
                          "inputs, --max-n and the contig filters.")
    if a.negatives != "none":
        staging.add_negatives()
    stages = staging.stages
    cat = Stage.concatenate(stages)
    resolved = resolve_task(a, staging.readers, cat["y"], staging.seen, staging.removed)
    keep = _dedup(a, cat, resolved, staging.counts)
    splits = _assign_splits(a, cat, keep, resolved.index)
    leakage = check_leakage(cat["canon"][keep], splits[keep], raise_error=False)
    if leakage["shared_sequences"]:
        check_leakage(cat["canon"][keep], splits[keep], ids=_leak_ids(stages, cat, keep, splits, a.chunk_size))
    write_splits(tmp, stages, keep, splits, resolved.label_names, resolved.recode, a.chunk_size, a.progress)
    info = _info(a, resolved, cat, keep, splits, leakage, staging.counts)
    write_info(tmp, info)
    if a.export:
        if info.length is None:
            raise RegdnaError("--export npz needs sequences of one length (X is (N, L, 4)): add --length.")
        export_npz(tmp, resolved.label_names)
    if a.figures:
        write_figures(tmp / "figures", info, gc=cat["gc"][keep], lengths=cat["length"][keep],
                      classes=resolved.index[keep], splits=splits[keep],
                      class_names=class_names(resolved.task, resolved.classes))
    for stage in stages:
        stage.path.unlink(missing_ok=True)


def _count_text(counts: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counts.items() if isinstance(v, int))


def _dedup(a: PrepareArgs, cat: dict, resolved: Resolved, counts: dict) -> np.ndarray:
    """(N,) bool: the records kept by de-duplication (within class, cross-class collisions from
    both, reverse complements as one sequence); what it removed is added to `counts`."""
    n, y_index = len(cat["fwd"]), resolved.index
    if not a.dedup:
        counts.update({"within_class_duplicates": 0, "cross_class_collisions": 0,
                       "removed_by_reverse_complement": 0})
        return np.ones(n, dtype=bool)
    labels = np.array([label_key(row) for row in cat["y"]], dtype=np.uint64) \
        if resolved.task in ("multilabel", "regression") else y_index.astype(np.uint64)
    keys = cat["canon"] if a.rc_dedup else cat["fwd"]
    keep, step_counts = dedup_mask(keys, labels)
    counts.update(step_counts)
    if resolved.task in CLASSIFICATION and len(np.unique(y_index[keep])) < len(np.unique(y_index)):
        lost = sorted(set(np.unique(y_index).tolist()) - set(np.unique(y_index[keep]).tolist()))[0]
        name = f"'{resolved.classes[lost]}'" if resolved.classes else str(lost)
        raise RegdnaError(f"class {name}: every record was removed by {FILTER_HINTS['dedup']}.")
    if a.rc_dedup:
        # records removed only because a sequence equals another's reverse complement
        keep_fwd, _ = dedup_mask(cat["fwd"], labels)
        counts["removed_by_reverse_complement"] = int(keep_fwd.sum() - keep.sum())
    else:
        counts["removed_by_reverse_complement"] = 0
    return keep


def _assign_splits(a: PrepareArgs, cat: dict, keep: np.ndarray, y_index: np.ndarray) -> np.ndarray:
    """(N,) int8 split codes: staged (chromosome, column) or stratified random over the kept records."""
    splits = cat["split"].copy()
    if a.split == "random":
        splits[keep] = random_split(y_index[keep], a.fractions, a.seed)
    empty = [SPLITS[c] for c in range(3) if not (splits[keep] == c).any()]
    if empty:
        hint = ("--test-chroms / --val-chroms name chromosomes present in the data"
                if a.split == "chrom" else "use more data or other fractions")
        raise RegdnaError(f"split(s) {', '.join(empty)} would be empty ({int(keep.sum())} sequences kept); {hint}.")
    return splits


def _leak_ids(stages, cat, keep, splits, batch_size: int) -> dict[int, str]:
    """Ids of the records that leak (for the error message), looked up in the staged files."""
    kept_idx = np.flatnonzero(keep)
    keys, kept_splits = cat["canon"][kept_idx], splits[kept_idx]
    leaking = [k for k in np.unique(keys) if len(np.unique(kept_splits[keys == k])) > 1][:1]
    local = np.flatnonzero(np.isin(keys, leaking))[:4]
    wanted = {int(kept_idx[i]): int(i) for i in local}
    ids, offset = {}, 0
    for stage in stages:
        for batch in stage.batches(batch_size):
            for g in wanted:
                if offset <= g < offset + len(batch):
                    ids[wanted[g]] = batch["id"].iloc[g - offset]
            offset += len(batch)
    return ids


def _info(a: PrepareArgs, resolved: Resolved, cat, keep, splits, leakage, counts: dict) -> DatasetInfo:
    """The `dataset.json` of the run."""
    lengths = cat["length"][keep]
    split_info, qc_info = dataset_qc(resolved.task, class_names(resolved.task, resolved.classes),
                                     resolved.label_names, cat["y"][keep], resolved.index[keep], splits[keep],
                                     cat["gc"][keep], lengths, leakage)
    fixed = int(lengths[0]) if len(lengths) and (lengths == lengths[0]).all() else None
    counts = dict(counts)
    counts["final"] = int(keep.sum())
    counts["leakage_shared_sequences"] = leakage["shared_sequences"]
    provenance = dict(a.provenance)
    provenance.update({"regdna_version": __version__, "input_kind": a.kind,
                       "genome_chrom_count": len(a.genome.chrom_sizes) if a.genome else None})
    return DatasetInfo(task=resolved.task, labels=resolved.label_names,
                       classes=resolved.classes if resolved.task in CLASSIFICATION else None,
                       length=fixed, splits=split_info, provenance=provenance, counts=counts, qc=qc_info)
