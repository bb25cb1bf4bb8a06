"""`regdna prepare`: inputs -> a clean, leak-free dataset dir (thin layer over
`regdna.data.prepare.run_prepare`), and the summary it prints."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from regdna.cli import app
from regdna.cli.options import OVERWRITE, out_option, seed_option


@app.command("prepare")
def prepare_cmd(
    out: Path = out_option("Dataset dir to write: new, empty or an earlier `regdna prepare` output "
                           "(replaced atomically; nothing is left behind on error); anything else "
                           "needs --overwrite."),
    fasta: List[str] = typer.Option([], "--fasta", help="FASTA file and its label after the LAST colon, one per "
                                                        "class: --fasta pos.fa:1 --fasta neg.fa:0 (repeatable). "
                                                        "Record names 'chr:start-end' give coordinates."),
    table: Optional[Path] = typer.Option(None, "--table", help="CSV / TSV / Parquet table with a 'sequence' "
                                                               "column and label columns (see --labels)."),
    labels: Optional[str] = typer.Option(None, "--labels", help="Comma-separated label columns of --table (or of a "
                                                                "BED given without ':label'), e.g. col1,col2."),
    classes: Optional[str] = typer.Option(None, "--classes", help="Order of named labels, first = class 0, e.g. "
                                                                  "--classes no,yes (default: sorted). The mapping "
                                                                  "is printed and stored in dataset.json."),
    bed: List[str] = typer.Option([], "--bed", help="BED / narrowPeak file and its label, one per class: --bed "
                                                    "peaks.narrowPeak:1 (repeatable); needs --genome."),
    genome: Optional[Path] = typer.Option(None, "--genome", "-g", help="Genome FASTA (plain or bgzip; index built when "
                                                                 "missing) for BED input and GC-matched negatives."),
    npz: List[Path] = typer.Option([], "--npz", help="NPZ with X one-hot (N, L, 4) and y; repeatable; files "
                                                     "named train/val/test.npz work with --split column."),
    length: Optional[int] = typer.Option(None, "--length", help="Window length in bp: BED windows centred on the "
                                                                "summit (col 10) or midpoint, N-padded and kept "
                                                                "past a chromosome end (start may be negative); "
                                                                "other inputs centre-cropped / N-padded. Default: "
                                                                "keep lengths."),
    max_n: float = typer.Option(0.0, "--max-n", help="Largest fraction of N (and other ambiguity codes) among a "
                                                     "sequence's own bases; more is dropped (0 = none allowed). "
                                                     "Padding N (past a chromosome end, or to reach --length) "
                                                     "are not counted."),
    canonical: bool = typer.Option(True, "--canonical/--no-canonical", help="Keep only canonical contigs 1-22, X, "
                                                                           "Y, M (with or without 'chr'); BED input."),
    contigs: Optional[str] = typer.Option(None, "--contigs", help="Regular expression of contigs to keep instead "
                                                                  "of the canonical set, e.g. '^chr[0-9XY]+$'."),
    blacklist: List[Path] = typer.Option([], "--blacklist", help="BED of regions to avoid: intervals overlapping "
                                                                 "them are dropped (repeatable)."),
    intersect: List[Path] = typer.Option([], "--intersect", help="Keep only intervals overlapping this BED "
                                                                 "(bedtools -u; repeatable = all must overlap)."),
    exclude: List[Path] = typer.Option([], "--exclude", help="Drop intervals within --exclude-window bp of this "
                                                             "BED (exons, TSSs; repeatable)."),
    exclude_window: int = typer.Option(0, "--exclude-window", help="Distance in bp around --exclude intervals "
                                                                   "that also excludes (e.g. 2000 around TSSs)."),
    dedup: bool = typer.Option(True, "--dedup/--no-dedup", help="Remove duplicates within a class and sequences "
                                                                "found in two classes (from both)."),
    rc_dedup: bool = typer.Option(True, "--rc-dedup/--no-rc-dedup", help="Treat a sequence and its reverse "
                                                                         "complement as the same sequence."),
    negatives: str = typer.Option("none", "--negatives", help="Make negatives for positive-only input: shuffle "
                                                              "(dinucleotide shuffles), gc-matched (genomic "
                                                              "windows, needs --genome) or none."),
    gc_tolerance: float = typer.Option(0.02, "--gc-tolerance", help="Largest GC-fraction difference between a "
                                                                    "GC-matched negative and its positive."),
    split: str = typer.Option("chrom", "--split", help="How the splits are made: chrom (hold out "
                                                       "--test-chroms/--val-chroms), random (stratified "
                                                       "--fractions) or column (--split-column)."),
    test_chroms: str = typer.Option("chr8,chr9", "--test-chroms", help="Comma-separated test chromosomes "
                                                                       "(--split chrom)."),
    val_chroms: str = typer.Option("chr10", "--val-chroms", help="Comma-separated validation chromosomes "
                                                                 "(--split chrom)."),
    fractions: str = typer.Option("0.725,0.1275,0.15", "--fractions", help="train,val,test fractions for --split "
                                                                           "random."),
    split_column: Optional[str] = typer.Option(None, "--split-column", help="Column holding train / val / test "
                                                                            "(--split column)."),
    task: Optional[str] = typer.Option(None, "--task", help="binary, multilabel, multiclass or regression; "
                                                            "detected from the labels by default."),
    seed: int = seed_option("Seed for negatives and random splits."),
    export: List[str] = typer.Option([], "--export", help="Also write {train,val,test}.npz with X one-hot (N, L, 4) "
                                                          "and y (--export npz)."),
    bigwig: List[str] = typer.Option([], "--bigwig", help="bigWig coverage track and its name after the LAST "
                                                          "colon: --bigwig K562.bw:K562 (repeatable; name "
                                                          "default: the file stem). Makes a coverage (profile) "
                                                          "dataset from --genome: needs --length, splits by "
                                                          "chromosome; --bed adds peaks (FILE:TRACK for one "
                                                          "track, no label for all)."),
    selection: Optional[str] = typer.Option(None, "--selection", help="Windows of a coverage dataset: peaks "
                                                                      "(centred on each --bed peak's summit or "
                                                                      "midpoint; default with --bed) or coverage "
                                                                      "(chromosomes tiled from 0, tiles whose "
                                                                      "max coverage of any track exceeds "
                                                                      "--coverage-threshold; default without "
                                                                      "--bed)."),
    coverage_threshold: float = typer.Option(2.0, "--coverage-threshold", help="--selection coverage: keep a "
                                                                               "tile when a track's max "
                                                                               "coverage in it is above this "
                                                                               "(Toneyan et al. 2022: 2)."),
    margin: Optional[int] = typer.Option(None, "--margin", help="Coverage dataset: bp stored on each side of "
                                                                "the --length window, room for shift "
                                                                "augmentation (default --length / 4: 3072 bp "
                                                                "stored for 2048)."),
    bin_size: int = typer.Option(1, "--bin-size", help="Coverage dataset: default target resolution of "
                                                       "training in bp per bin (mean within each); must "
                                                       "divide --length."),
    chroms: Optional[str] = typer.Option(None, "--chroms", help="Coverage dataset: comma-separated chromosomes "
                                                                "windows are drawn from (default: the canonical "
                                                                "chromosomes of the genome but chrY and chrM, "
                                                                "present in every bigWig)."),
    figures: bool = typer.Option(True, "--figures/--no-figures", help="Write QC figures to OUT/figures/."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or summary."),
    overwrite: bool = OVERWRITE,
):
    """Turn FASTA, BED/narrowPeak + genome, a table or NPZ into a clean, leak-free dataset dir:
    windows, contig/blacklist filters, N filter, de-duplication (incl. reverse complements),
    negatives, splits, QC tests and figures. With --bigwig: a coverage (profile) dataset of
    peak-centred or coverage-threshold windows (Toneyan et al. 2022)."""
    from regdna.data.dataset import load_info
    from regdna.data.prepare import run_prepare

    path = run_prepare(out, fasta=fasta, table=table, labels=labels, bed=bed, genome=genome, npz=npz,
                       length=length, max_n=max_n, canonical=canonical, contigs=contigs, blacklist=blacklist,
                       intersect=intersect, exclude=exclude, exclude_window=exclude_window, dedup=dedup,
                       rc_dedup=rc_dedup, negatives=negatives, gc_tolerance=gc_tolerance, split=split,
                       test_chroms=test_chroms, val_chroms=val_chroms, fractions=fractions,
                       split_column=split_column, task=task, seed=seed, export=export, progress=not quiet,
                       figures=figures, classes=classes, bigwig=bigwig, selection=selection,
                       coverage_threshold=coverage_threshold, margin=margin, bin_size=bin_size, chroms=chroms,
                       overwrite=overwrite)
    if not quiet:
        print_summary(path)
    for line in load_info(path).qc.get("warnings", []):
        typer.echo(f"warning: {line}", err=True)


def _number(value) -> str:
    """A count as it is, any other number with at most 4 significant digits."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return str(value) if isinstance(value, int) else f"{value:.4g}"


def _balance_text(b: dict) -> str:
    if "cohens_h" in b:
        return f"h={b['cohens_h']:+.3f} ({b['effect']}), binom p={b['binomial_p']:.2g}"
    if "cohens_w" in b:
        return f"w={b['cohens_w']:.3f} ({b['effect']})"
    return ""


def print_summary(data_dir: Path) -> None:
    """A short table of the dataset: sizes per split and class, the class mapping, what each step
    removed, QC, and where the figures are (when they were written)."""
    from rich.console import Console
    from rich.table import Table

    from regdna.data.dataset import load_info
    from regdna.data.labels import mapping_text

    info = load_info(data_dir)
    console = Console()
    if info.task == "profile":
        _print_profile_summary(data_dir, info, console)
        return
    table = Table(title=f"{data_dir}  ({info.task}, {info.length or 'variable'} bp)", show_lines=False)
    table.add_column("split")
    table.add_column("n", justify="right")
    classes = list(next(iter(info.splits.values())).get("per_class", {}))
    word = {"binary": "class", "multiclass": "class", "multilabel": "positives", "regression": "mean"}[info.task]
    for name in classes:
        table.add_column(f"{word} {name}", justify="right")
    balance = info.qc.get("class_balance", {})
    table.add_column("balance", justify="left")
    for split, entry in info.splits.items():
        values = [entry.get("per_class", {}).get(c) for c in classes]
        table.add_row(split, str(entry["n"]), *[_number(v) for v in values], _balance_text(balance.get(split, {})))
    console.print(table)
    if info.classes:
        console.print(f"classes: {mapping_text(info.classes)}")
    removed = {k: v for k, v in info.counts.items() if isinstance(v, int) and k not in ("input", "final") and v}
    console.print(f"input {info.counts.get('input')} -> kept {info.counts.get('final')}; removed/added: "
                  + (", ".join(f"{k} {_number(v)}" for k, v in removed.items()) or "nothing"))
    figures = Path(data_dir) / "figures"
    console.print(f"leakage across splits: {info.qc['leakage']['shared_sequences']} shared sequences"
                  + (f"; figures in {figures}" if info.provenance.get("figures", True) and figures.is_dir() else ""))


def _print_profile_summary(data_dir: Path, info, console) -> None:
    """The summary of a coverage dataset: windows and mean total coverage per track and split,
    the window geometry and selection, what each step removed."""
    from rich.table import Table

    p = info.profile
    table = Table(title=f"{data_dir}  (profile, {info.length} bp + 2 x {p.margin} bp margin, bin {p.bin_size} bp)")
    table.add_column("split")
    table.add_column("n", justify="right")
    table.add_column("chromosomes")
    for track in info.labels:
        table.add_column(f"mean total {track}", justify="right")
    for split, entry in info.splits.items():
        names = p.chroms.get(split, [])
        shown = ", ".join(names[:4]) + (f", ... ({len(names)})" if len(names) > 4 else "")
        table.add_row(split, str(entry["n"]), shown, *[_number(entry["per_class"].get(t)) for t in info.labels])
    console.print(table)
    how = (f"coverage tiles, max > {_number(p.coverage_threshold)}" if p.selection == "coverage"
           else "peak-centred windows")
    console.print(f"selection: {how}; peak columns: {', '.join(p.peak_columns) or 'none'}")
    removed = {k: v for k, v in info.counts.items() if k not in ("input", "final") and v}
    console.print(f"input {info.counts.get('input')} windows -> kept {info.counts.get('final')}; removed: "
                  + (", ".join(f"{k} {_number(v)}" for k, v in removed.items()) or "nothing"))
    figures = Path(data_dir) / "figures"
    if figures.is_dir():
        console.print(f"figures in {figures}")
