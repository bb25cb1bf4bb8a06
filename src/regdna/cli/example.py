"""`regdna example`: write the bundled synthetic example (real JASPAR motifs, planted grammar);
a thin layer over `regdna.data.example.run_example`."""
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
    overwrite: bool = OVERWRITE,
):
    """Write a small synthetic regulatory dataset made from real JASPAR motifs.

    Positives carry 2-3 distinct factors, negatives 1-2 copies of a single factor (decoys); all
    windows are embedded in a synthetic genome (chr1..chr12) with a motif and variant truth set.
    """
    jaspar_release = renamed(ctx, "jaspar_release", "release")
    from regdna.data.example import run_example

    names = tuple(name.strip() for name in factors.split(",") if name.strip())
    path = run_example(out, seed=seed, n_per_class=n_per_class, length=length, factors=names,
                       release=jaspar_release, decoy_fraction=decoy_fraction, overwrite=overwrite)
    n_variants = sum(1 for _ in open(path / "variants.tsv")) - 1
    typer.echo(f"wrote {path}: {n_per_class} positives (pos.fa, positives.narrowPeak), "
               f"{n_per_class} negatives (neg.fa, negatives.bed) of {length} bp, genome.fa, "
               f"motifs.tsv, {n_variants} variants (variants.vcf, variants.tsv), README.txt")
