"""`regdna example`: write the bundled synthetic example (real JASPAR motifs, planted grammar),
or with `--profile` the profile example (coverage tracks of two cell types with known
footprints); a thin layer over `regdna.data.example.run_example`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from regdna.cli import app
from regdna.cli.options import OVERWRITE, n_per_class_option, old_spelling, out_option, renamed, seed_option


@app.command("example")
def example(
    ctx: typer.Context,
    out: Path = out_option("Output directory: new, empty or an earlier `regdna example` output "
                           "(replaced atomically); anything else needs --overwrite."),
    seed: int = seed_option("Random seed; the same seed writes the same bytes."),
    n_per_class: int = n_per_class_option("Number of positive and of negative windows.", 2000),
    length: int = typer.Option(200, "--length", help="Window length in bp (>= 120)."),
    factors: str = typer.Option("GATA1,TAL1::TCF3,SPI1", "--factors",
                                help="Comma-separated JASPAR names or matrix IDs forming the grammar (>= 2)."),
    jaspar_release: str = typer.Option("JASPAR2026", "--jaspar-release",
                                       help="JASPAR release the motifs come from."),
    release: Optional[str] = old_spelling("--release"),
    decoy_fraction: float = typer.Option(1.0, "--decoy-fraction", help="Share of negatives carrying decoy "
                                         "motifs (rest: background only); lower = easier task."),
    profile: bool = typer.Option(False, "--profile", help="Write the profile example instead: "
                                 "chr1..chr10 with base-resolution coverage (bigWig) of two cell "
                                 "types whose footprints are known, peaks, sites and variants."),
    chrom_size: Optional[int] = typer.Option(None, "--chrom-size", help="With --profile: bp per "
                                             "chromosome (default 700000)."),
    overwrite: bool = OVERWRITE,
):
    """Write a small synthetic regulatory dataset made from real JASPAR motifs.

    Positives carry 2-3 distinct factors, negatives 1-2 copies of a single factor (decoys); all
    windows are embedded in a synthetic genome (chr1..chr12) with a motif and variant truth set.
    With --profile: coverage tracks of an erythroid and a myeloid cell type over a synthetic
    genome (chr1..chr10), each factor with a known footprint per cell type.
    """
    jaspar_release = renamed(ctx, "jaspar_release", "release")
    from regdna.data.example import run_example

    names = tuple(name.strip() for name in factors.split(",") if name.strip())
    path = run_example(out, seed=seed, n_per_class=n_per_class, length=length, factors=names,
                       release=jaspar_release, decoy_fraction=decoy_fraction, overwrite=overwrite,
                       profile=profile, chrom_size=chrom_size)
    if profile:
        _print_profile(path)
        return
    n_variants = sum(1 for _ in open(path / "variants.tsv")) - 1
    typer.echo(f"wrote {path}: {n_per_class} positives (pos.fa, positives.narrowPeak), "
               f"{n_per_class} negatives (neg.fa, negatives.bed) of {length} bp, genome.fa, "
               f"motifs.tsv, {n_variants} variants (variants.vcf, variants.tsv), README.txt")


def _print_profile(path: Path) -> None:
    from regdna.data.example_profile import next_commands

    def rows(name: str) -> int:
        return sum(1 for _ in open(path / name))

    variants = rows("truth/variants.tsv") - 1
    peaks = ", ".join(f"{p.stem} {rows(f'peaks/{p.name}')}" for p in sorted((path / "peaks").iterdir()))
    typer.echo(f"wrote {path}: genome.fa (chr1..chr10), tracks/erythroid.bw, tracks/myeloid.bw, "
               f"peaks/*.narrowPeak ({peaks}), truth/sites.tsv ({rows('truth/sites.tsv') - 1} "
               f"sites), truth/footprints.tsv, {variants} variants (variants.vcf, "
               "truth/variants.tsv), README.txt")
    typer.echo("next:\n  " + next_commands(path))
