"""`regdna attribute`, `regdna faithfulness`, `regdna motifs`, `regdna gia`, `regdna embed`:
options and printed lines only; each verb is one function of `regdna.interpret`
(`run_attribute`, `run_faithfulness`, `run_motifs`, `run_gia`, `run_embed`), which checks `--out` against the output policy
(`regdna.utils.output`) before it loads a model or computes anything, so a refused `--out` costs
nothing, and writes it atomically at the end."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from regdna.cli import app
from regdna.cli.options import (DEVICE, OVERWRITE, data_option, n_option, n_per_class_option, old_spelling,
                                out_option, renamed, run_option, scalar_option, seed_option, split_option,
                                target_option)
from regdna.errors import RegdnaError


# -- attribute ------------------------------------------------------------------------------------
@app.command("attribute")
def attribute_cmd(
    ctx: typer.Context,
    run: Path = run_option(),
    out: Path = out_option("Output dir: attributions.npz, logos/, summary.json."),
    method: str = typer.Option("integrated_gradients", "--method", help="saliency, "
                               "grad_x_input, integrated_gradients, deeplift_shap, ism; "
                               "transformers also attention, rollout, gradcam, lrp."),
    fasta: Optional[Path] = typer.Option(None, "--fasta", help="FASTA of sequences to explain "
                                         "(record names chrom:start-end place --motifs sites)."),
    data: Optional[Path] = data_option(),
    split: str = split_option(),
    label: Optional[str] = typer.Option(None, "--class", help="Only sequences of this class "
                                        "(--data; e.g. 1 for positives)."),
    n: Optional[int] = n_option("Explain only the first N sequences (default: every record of "
                                "--fasta or of the split)."),
    motifs: Optional[Path] = typer.Option(None, "--motifs", help="Known sites, a TSV with seq_id, "
                                          "start, end (0-based, within the sequence) or chrom, "
                                          "start, end (genomic), and optionally motif (as the "
                                          "example's motifs.tsv): boxed on the figures; AUROC "
                                          "of attribution at sites reported."),
    target: str = target_option(),
    output: Optional[str] = old_spelling("--output"),
    logos: int = typer.Option(6, "--logos", help="Number of per-sequence logos to draw (those "
                              "with known sites first)."),
    n_references: int = typer.Option(8, "--n-references", help="Dinucleotide-shuffled "
                                     "references per sequence (deeplift_shap, integrated_gradients)."),
    n_steps: int = typer.Option(20, "--n-steps", help="Integration steps per reference "
                                "(integrated_gradients)."),
    batch_size: int = typer.Option(32, "--batch-size", help="Sequences per backward pass."),
    seed: int = seed_option("Seed of the shuffled references."),
    scalar: Optional[str] = scalar_option(),
    ensemble: Optional[bool] = typer.Option(None, "--ensemble/--no-ensemble", help="Ensemble "
                                            "runs (train --ensemble K): average the members' "
                                            "maps and report their agreement (the default), or "
                                            "attribute the mean model once (--no-ensemble)."),
    device: Optional[str] = DEVICE,
    overwrite: bool = OVERWRITE,
):
    """Attribution maps (N, L, 4) or (N, L) for each sequence, with per-sequence figures
    (letter logos of one-hot contributions, tracks of a token model's base scores); on an
    ensemble run the mean of the members' maps, with their agreement in agreement.tsv."""
    target = renamed(ctx, "target", "output")
    from regdna.interpret.attribute import run_attribute

    summary = run_attribute(run, out, method=method, fasta=fasta, data=data, split=split,
                            label=label, n=n, motifs=motifs, output=target, logos=logos,
                            n_references=n_references, n_steps=n_steps, batch_size=batch_size,
                            seed=seed, scalar=scalar, ensemble=ensemble, device=device,
                            overwrite=overwrite, say=typer.echo)
    typer.echo(f"{method}: {summary['n_sequences']} sequences -> {out}/attributions.npz, "
               f"{summary['n_logos']} logos in {out}/logos")
    members = summary.get("ensemble")
    if members and members["averaged"]:
        typer.echo(f"mean of {members['n_members']} members' maps; agreement (mean pairwise "
                   f"Pearson r, {members['agreement_map']}): {members['agreement_mean']:.3f} "
                   f"(lowest {members['agreement_min']:.3f}) -> {out}/agreement.tsv")
    elif members:
        typer.echo(f"the mean model of {members['n_members']} members, attributed once")
    if "site_auroc" in summary:
        typer.echo(f"AUROC of |attribution| at known sites vs elsewhere: "
                   f"{summary['site_auroc']:.4g} ({summary['n_with_sites']} sequences with sites)")
    if members and "site_auroc_members" in members:
        typer.echo("  each member's: " + ", ".join(f"{v:.4g}" for v in members["site_auroc_members"]))


# -- faithfulness ---------------------------------------------------------------------------------
@app.command("faithfulness")
def faithfulness_cmd(
    ctx: typer.Context,
    run: Path = run_option(),
    data: Path = data_option(required=True),
    out: Path = out_option("Output dir: faithfulness.tsv, summary.tsv (accuracy per class at "
                           "--table-positions), faithfulness.png."),
    split: str = split_option(),
    methods: str = typer.Option("integrated_gradients,grad_x_input", "--methods",
                                help="Comma-separated attribution methods to rank positions."),
    positions: str = typer.Option("1,5,10,15,20", "--positions", help="Comma-separated numbers of "
                                  "top positions to mutate."),
    ns: Optional[str] = old_spelling("--n"),
    n_per_class: int = n_per_class_option("Sequences sampled per class. The default keeps a CPU "
                                          "run to a few minutes; the source study's size is "
                                          "--n-per-class 500 --n-references 8.", 100),
    n_seqs: Optional[int] = old_spelling("--n-seqs"),
    repeats: int = typer.Option(20, "--repeats", help="Repeats of the random-position baseline."),
    table_positions: int = typer.Option(20, "--table-positions", help="Number of top positions "
                                        "(one of --positions) shown in the summary table."),
    table_n: Optional[int] = old_spelling("--table-n"),
    n_references: int = typer.Option(4, "--n-references", help="Dinucleotide-shuffled references "
                                     "per sequence (integrated_gradients, deeplift_shap)."),
    n_steps: int = typer.Option(20, "--n-steps", help="Integration steps per reference "
                                "(integrated_gradients)."),
    seed: int = seed_option("Seed of sampling and mutations."),
    device: Optional[str] = DEVICE,
    overwrite: bool = OVERWRITE,
):
    """Mutate the top-n positions of each method, per class, against random positions.

    Cost: one attribution per sampled sequence and method (integrated gradients: --n-references
    x --n-steps gradients each) plus (1 + --repeats) predictions per sequence and number of
    positions."""
    positions = renamed(ctx, "positions", "ns")
    n_per_class = renamed(ctx, "n_per_class", "n_seqs")
    table_positions = renamed(ctx, "table_positions", "table_n")
    from regdna.interpret.faithfulness import run_faithfulness

    result = run_faithfulness(run, data, out, split=split, methods=_names(methods),
                              ns=_integers(positions, "--positions", "1,5,10,20"),
                              n_seqs=n_per_class, repeats=repeats, table_n=table_positions, n_references=n_references,
                              n_steps=n_steps, seed=seed, device=device, overwrite=overwrite,
                              say=typer.echo)
    typer.echo(result["summary"].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    typer.echo(f"-> {out}/faithfulness.tsv, summary.tsv, faithfulness.png")


# -- motifs ---------------------------------------------------------------------------------------
@app.command("motifs")
def motifs_cmd(
    ctx: typer.Context,
    out: Path = out_option("Output dir: motifs.tsv (JASPAR matches, per class), motifs.json, "
                           "logos/, filters.tsv (CNNs)."),
    attributions: Optional[Path] = typer.Option(None, "--attributions", help="Dir written by "
                                                "`regdna attribute` (one-hot model): one "
                                                "TF-MoDISco run, positive patterns for the "
                                                "output's class, negative ones for the other."),
    run: Optional[Path] = run_option("Run dir: match its first-layer filters too (CNNs); without "
                                     "--attributions, also compute the attributions of --data, "
                                     "per class.", required=False),
    data: Optional[Path] = data_option("Dataset dir (with --run)."),
    split: str = split_option(),
    label: Optional[str] = typer.Option(None, "--class", help="Only this class (binary, "
                                        "multiclass; with --run; default: every class, each "
                                        "from its own sequences)."),
    target: str = target_option("Only this model output (multi-label, regression, multiclass; "
                                "index or label name; default: every output)."),
    method: str = typer.Option("deeplift_shap", "--method", help="Attribution method (with "
                               "--run)."),
    n_per_class: int = n_per_class_option("Most sequences explained per class (with --run).",
                                          500),
    n: Optional[int] = old_spelling("--n"),
    jaspar_release: Optional[str] = typer.Option(None, "--jaspar-release", help="JASPAR release "
                                                 "(default: the newest bundled with pyjaspar)."),
    collection: str = typer.Option("CORE", "--collection", help="JASPAR collection."),
    tax_group: str = typer.Option("vertebrates", "--tax-group", help="JASPAR taxonomic group."),
    top: int = typer.Option(5, "--top", help="Matches listed per motif."),
    max_seqlets: int = typer.Option(2000, "--max-seqlets", help="Seqlets clustered per class "
                                    "and sign."),
    min_seqlets: int = typer.Option(50, "--min-seqlets", help="Fewest seqlets of a class and "
                                    "sign worth clustering."),
    q_threshold: float = typer.Option(0.05, "--q", help="q-value threshold of a filter hit."),
    scalar: Optional[str] = scalar_option(),
    device: Optional[str] = DEVICE,
    overwrite: bool = OVERWRITE,
):
    """TF-MoDISco motifs of every class, named by Tomtom against JASPAR (+ CNN filters)."""
    n_per_class = renamed(ctx, "n_per_class", "n")
    source = ctx.get_parameter_source("target")   # not given: every output
    chosen = None if source is None or source.name in ("DEFAULT", "DEFAULT_MAP") else target
    from regdna.interpret.motifs import run_motifs

    report = run_motifs(out, attributions=attributions, run=run, data=data, split=split,
                        label=label, target=chosen, method=method, n_per_class=n_per_class,
                        jaspar_release=jaspar_release, collection=collection,
                        tax_group=tax_group, top=top, max_seqlets=max_seqlets,
                        min_seqlets=min_seqlets, q_threshold=q_threshold, scalar=scalar,
                        device=device, overwrite=overwrite, say=typer.echo)
    for group in report["classes"]:
        typer.echo(f"class {group['class']} ({group['n_sequences']} sequences): "
                   f"{len(group['motifs'])} motifs")
        if not group["motifs"]:
            typer.echo("  none (too few high-attribution seqlets); explain more sequences or "
                       "lower --min-seqlets")
        for row in group["motifs"]:
            q = f"q = {row['q_value']:.2g}" if row["q_value"] is not None else "no match"
            typer.echo(f"  {row['motif']:>6}  {row['consensus']:<24} {row['n_seqlets']:5d} "
                       f"seqlets  best JASPAR match: {row['best_match']} ({row['matrix_id']}, "
                       f"{q})")
    if "filters" in report:
        f = report["filters"]
        mean_q = "" if f["n_hits"] == 0 else f", mean best q {f['mean_best_q']:.3g}"
        typer.echo(f"first-layer filters: {f['n_aligned']}/{f['n_filters']} aligned, "
                   f"{f['n_informative']} informative (>= {f['min_information']:g} bits), hit "
                   f"ratio {f['hit_ratio']:.3g} of informative (q < {q_threshold:.4g}){mean_q}; "
                   f"{f['hit_ratio_all']:.3g} of all filters")
        top = list(f["matched_names"].items())[:5]
        if top:
            typer.echo("  matched: " + ", ".join(f"{name} {count}" for name, count in top))
        for line in f["warnings"]:
            typer.echo(f"warning: {line}", err=True)
    typer.echo(f"-> {out}/motifs.tsv, motifs.json, logos/")


# -- gia ------------------------------------------------------------------------------------------
@app.command("gia")
def gia_cmd(
    ctx: typer.Context,
    run: Path = run_option(),
    motif: str = typer.Option(..., "--motif", help="JASPAR name / matrix id, or a consensus "
                              "(letters ACGTN)."),
    out: Path = out_option("Output dir: gia.json, *.tsv, *.png."),
    motif2: Optional[str] = typer.Option(None, "--motif2", help="Second motif: distance and "
                                         "orientation sweep against --motif."),
    data: Optional[Path] = data_option("Dataset dir whose --split sequences are shuffled into "
                                       "backgrounds (default: the run's dataset)."),
    split: str = split_option("Split giving the backgrounds."),
    n: int = n_option("Dinucleotide-shuffled background sequences.", default=1000),
    n_backgrounds: Optional[int] = old_spelling("--n-backgrounds"),
    sample: bool = typer.Option(False, "--sample/--consensus", help="Sample each site from the "
                                "JASPAR PWM instead of embedding the consensus."),
    flanks: int = typer.Option(0, "--flanks", help="Sweep every combination of this many bases "
                               "on each side of --motif (4^(2k) GIA experiments)."),
    distances: Optional[str] = typer.Option(None, "--distances", help="Comma-separated distances "
                                            "for --motif2 (default: the whole window)."),
    target: str = target_option("Model output to measure: index or label name."),
    output: Optional[str] = old_spelling("--output"),
    jaspar_release: Optional[str] = typer.Option(None, "--jaspar-release", help="JASPAR release."),
    seed: int = seed_option("Seed of backgrounds and sampled sites."),
    scalar: Optional[str] = scalar_option(),
    device: Optional[str] = DEVICE,
    overwrite: bool = OVERWRITE,
):
    """Global importance analysis: mean effect of embedding motifs into shuffled backgrounds."""
    n = renamed(ctx, "n", "n_backgrounds")
    target = renamed(ctx, "target", "output")
    from regdna.interpret.gia import run_gia

    report = run_gia(run, motif, out, motif2=motif2, data=data, split=split,
                     n_backgrounds=n, sample=sample, flanks=flanks,
                     distances=_integers(distances, "--distances", "-20,12,30") or None,
                     output=target, jaspar_release=jaspar_release, seed=seed, scalar=scalar,
                     device=device, overwrite=overwrite)
    for e in report["effects"]:
        typer.echo(f"{e['label']}: mean effect {e['mean']:+.4g} "
                   f"[95% CI {e['lo']:+.4g}, {e['hi']:+.4g}] over {e['n']} backgrounds")
    typer.echo(f"-> {out}/gia.json, effects.tsv, gia_effects.png")


# -- embed ----------------------------------------------------------------------------------------
@app.command("embed")
def embed_cmd(
    run: Path = run_option(),
    data: Path = data_option("Dataset dir whose --split sequences are embedded (its labels "
                             "or coverage give the colours).", required=True),
    out: Path = out_option("Output dir: embedding.tsv (id, x, y, colour), umap.png, "
                           "summary.json."),
    split: str = split_option(),
    color_by: str = typer.Option("class", "--color-by", help="Colour: class (binary / "
                                 "multiclass label; coverage datasets: the first track's peak "
                                 "column), coverage (log(1 + total coverage) of the first "
                                 "track), or a track, peak column or label name."),
    n: Optional[int] = n_option("Sequences embedded at most, drawn at random from the split "
                                "(--seed).", default=2000, min=4),
    seed: int = seed_option("Seed of the draw and of UMAP."),
    device: Optional[str] = DEVICE,
    overwrite: bool = OVERWRITE,
):
    """UMAP of the model's penultimate embeddings (the input of its output layer, averaged over
    positions for convolutional outputs), one point per sequence, coloured by class or
    coverage."""
    from regdna.interpret.embed import run_embed

    summary = run_embed(run, data, out, split=split, color_by=color_by, n=n, seed=seed,
                        device=device, overwrite=overwrite)
    typer.echo(f"UMAP of {summary['n']} sequences: input of {summary['layer']} "
               f"({summary['dim']} dims, pooling: {summary['pooling']}), coloured by "
               f"{summary['colour']} -> {out}/embedding.tsv, umap.png")


def _names(text: str) -> list[str]:
    """--methods "a, b" -> ["a", "b"]."""
    return [name.strip() for name in text.split(",") if name.strip()]


def _integers(text: Optional[str], option: str, example: str) -> list[int]:
    """A comma-separated list of integers ("-20,12,30" -> [-20, 12, 30]; None or "" -> [])."""
    try:
        return [int(v) for v in (text or "").split(",") if v.strip()]
    except ValueError:
        raise RegdnaError(f"{option} '{text}' must be comma-separated integers such as "
                          f"{example}") from None
