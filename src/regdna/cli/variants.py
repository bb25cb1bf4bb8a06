"""`regdna vep`, `regdna ism`, `regdna benchmark-variants`, `regdna benchmark-models`: options
parsed here, the work done by `regdna.variants.vep.run_vep`, `regdna.variants.ism.run_ism`,
`regdna.variants.benchmark_variants.run_benchmark_variants` and
`regdna.variants.benchmark_models.run_benchmark_models`, their summaries printed."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from regdna.cli import app
from regdna.cli.options import (DEVICE, OVERWRITE, data_option, mc_dropout_option, model_option,
                                n_option, old_spelling, out_option, rc_option, renamed, run_option,
                                scalar_option, split_option, target_option)


# the columns of a measured-effects table, shared by benchmark-variants and benchmark-models
MEASURED_COLUMN = typer.Option(None, "--measured-column", help="Measured effect column (default: "
                               "measured, effect, log2fc, ...).")
PVALUE_COLUMN = typer.Option(None, "--pvalue-column", help="Measured p-value column for the 0.5 / "
                             "0.1 / 5e-5 / 1e-5 strata (default: pvalue, p, ...).")
GROUP_COLUMN = typer.Option(None, "--group-column", help="Dataset / cell-line column: statistics "
                            "per group (default: dataset, cell_line, ...).")


def _echo_summary(summary: dict) -> None:
    if summary.get("out") is None:
        typer.echo(f"parts written to {summary.get('parts')}: {summary.get('message')}")
        return
    typer.echo(f"scored {summary['n_scored']} of {summary['n_variants']} variants -> {summary['out']}")
    if summary["n_skipped"]:
        typer.echo(f"skipped {summary['n_skipped']} (rows kept with NaN scores and a `reason`):")
        for reason, count in sorted(summary["skipped_by_reason"].items(), key=lambda kv: -kv[1]):
            typer.echo(f"  {count:6d}  {reason}")
        for ex in summary["skipped_examples"][:10]:
            typer.echo(f"  line {ex['line']}, record {ex['id']}: {ex['reason']}")


@app.command("vep")
def vep_cmd(
    variants: Path = typer.Option(..., "--variants", "-v", help="VCF (.vcf/.vcf.gz, header required), or a "
                                  ".tsv/.csv/.parquet table with chrom, pos (1-based), ref, alt columns, or "
                                  "with ref_seq / alt_seq sequences (MPRA libraries; no --genome needed)."),
    out: Path = out_option("Output scores, .parquet or .tsv (written at the end by an atomic merge "
                           "of per-chunk parts; a killed run re-run with the same inputs and "
                           "settings resumes, otherwise it starts over)."),
    run: Optional[Path] = run_option(required=False),
    genome: Optional[Path] = typer.Option(None, "--genome", "-g", help="Genome FASTA (plain or bgzip) the "
                                          "variants are called on; chr1/1 names are harmonised."),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first unusable record (ref mismatch, "
                                "unknown contig, symbolic allele) instead of skipping it with a reason."),
    rc: Optional[bool] = rc_option("Average logits over both strands (default: as the run's "
                                   "predict.rc_average, like `regdna predict`)."),
    shifts: int = typer.Option(0, "--shifts", help="K > 1 adds the shift-robust score "
                               "(Toneyan et al. 2022): probabilities averaged over K windows "
                               "shifted within +-max-shift bp (profile runs: shifts rounded to "
                               "whole bins, coverage summed over the bins all windows share)."),
    max_shift: Optional[int] = typer.Option(None, "--max-shift", help="Largest shift in bp for --shifts "
                                            "(default: window length / 10)."),
    shard: Optional[str] = typer.Option(None, "--shard", help="i/n: score only chunks k with k % n == i; "
                                        "run n of these (any machines, same --out on a shared disk): the "
                                        "last to finish merges. Under torchrun the rank is used."),
    zero_shot: bool = typer.Option(False, "--zero-shot", help="Zero-shot scores with a pretrained language "
                                   "model (--model): embedding cosine distance and the masked-LM (mlm_llr) or causal-LM "
                                   "(clm_llr) log-likelihood ratio."),
    model: Optional[str] = model_option("hf:<hub id or local dir> for --zero-shot."),
    length: Optional[int] = typer.Option(None, "--length", help="Window length in bp (default: the run's "
                                         "input length; needed with --zero-shot)."),
    chunk_size: int = typer.Option(4096, "--chunk-size", help="Variants per chunk / part file."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Windows per forward pass "
                                             "(default 256; published models: chosen from their "
                                             "input length and the free memory)."),
    device: Optional[str] = DEVICE,
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help="Allow hub model code "
                                           "(--zero-shot with custom architectures)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    scalar: Optional[str] = scalar_option("Profile runs: the predicted coverage scored, sum (the "
                                          "whole window, default) or center:W (the central W "
                                          "bp); log2_ratio = log2((1 + alt) / (1 + ref)) per "
                                          "track, plus the output mean over tracks."),
    mc_dropout: int = mc_dropout_option(),
    target: Optional[str] = typer.Option(None, "--target", help="Published models (--run "
                                         "<family>:<path>): the outputs scored, comma-separated "
                                         "names, parts of names (K562: every output whose name "
                                         "contains K562) or indices (default: all)."),
    overwrite: bool = OVERWRITE,
):
    """Score variants: p_ref, p_alt, delta, log2_ratio, logit_diff per output (+ robust / zero-shot;
    ensembles and --mc-dropout: *_std and log2_ratio_z)."""
    from regdna.variants.vep import run_vep

    summary = run_vep(variants, out, run=run, genome=genome, zero_shot=zero_shot, model=model,
                      length=length, rc=rc, shifts=shifts, max_shift=max_shift, strict=strict,
                      chunk_size=chunk_size, batch_size=batch_size, shard=shard, device=device,
                      trust_remote_code=trust_remote_code, progress=progress, scalar=scalar,
                      overwrite=overwrite, mc_dropout=mc_dropout, targets=target)
    _echo_summary(summary)


@app.command("ism")
def ism_cmd(
    ctx: typer.Context,
    run: Path = run_option("Run dir of a trained model (CNN or transformer)."),
    out: Path = out_option("Output dir: ism.npz (N, L, 4), ism.tsv (seq_id, pos, ref, alt, delta, "
                           "scale), heatmaps/, topk.tsv, topk.png and summary.json (replaced "
                           "atomically)."),
    fasta: Optional[Path] = typer.Option(None, "--fasta", help="FASTA of equal-length sequences to mutate."),
    data: Optional[Path] = data_option("Dataset dir (regdna prepare) to take sequences from."),
    split: str = split_option(),
    n: Optional[int] = n_option("Number of sequences to mutate (default: every record of --fasta; "
                                "a few of --data, as the run says).", min=1),
    select: str = typer.Option("first", "--select", help="Which sequences: first (file order) or top "
                               "(highest predicted probability of --target)."),
    region: Optional[str] = typer.Option(None, "--region", help="START:END (0-based, half-open) positions "
                                         "to mutate; others stay 0."),
    target: str = target_option(),
    output: Optional[str] = old_spelling("--output"),
    top_k: int = typer.Option(25, "--top-k", help="Rows of the top-K table and bars of the chart."),
    scale: str = typer.Option("logit", "--scale", help="Δ of the logit (the raw output; multiclass: "
                              "log-softmax of the class; regression: the value), which keeps "
                              "moving where a confident prediction's probability saturates, or of "
                              "the probability (Δp = p(mutant) − p(reference), as Morenu n.d.): "
                              "logit or probability."),
    fast: bool = typer.Option(True, "--fast/--plain", help="Receptive-field fast path for CNNs (equal to "
                              "plain up to float rounding, checked on a few edits first); --plain "
                              "runs every mutant in full."),
    batch_size: int = typer.Option(512, "--batch-size", help="Mutants per forward pass."),
    scalar: Optional[str] = scalar_option(),
    device: Optional[str] = DEVICE,
    overwrite: bool = OVERWRITE,
):
    """Saturation mutagenesis: Δ = f(x') − f(x) for all 3 substitutions at every position, f the
    logit (default) or the probability of --target (--scale)."""
    target = renamed(ctx, "target", "output")
    from regdna.variants.ism import run_ism

    result = run_ism(run, out, fasta=fasta, data=data, split=split, n=n, select=select,
                     region=region, output=target, top_k=top_k, fast=fast, batch_size=batch_size,
                     scale=scale, scalar=scalar, device=device, overwrite=overwrite,
                     notice=typer.echo)
    typer.echo(f"ISM of {result['n_sequences']} sequences x {result['length']} bp "
               f"({result['label']}, {result['path']} path) -> {out}")
    top = result["top"].drop(columns="scale").head(10)
    typer.echo(top.to_string(index=False, float_format=_g4))


def _g4(value) -> str:
    """Summaries print numbers to at most 4 significant digits."""
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)


@app.command("benchmark-variants")
def benchmark_cmd(
    scores: Path = typer.Option(..., "--scores", help="Scores from `regdna vep` (.tsv / .parquet)."),
    measured: Path = typer.Option(..., "--measured", help="Measured effects: id (or chrom/pos/ref/alt) and an "
                                  "effect column; optional pvalue, dataset/cell_line, block + is_causal, "
                                  "expected + kind columns."),
    out: Path = out_option("Output dir: metrics.json, tables and figures."),
    score_column: Optional[str] = typer.Option(None, "--score-column", help="Score to test (default: "
                                               "log2_ratio_robust, else log2_ratio, ...)."),
    measured_column: Optional[str] = MEASURED_COLUMN,
    pvalue_column: Optional[str] = PVALUE_COLUMN,
    group_column: Optional[str] = GROUP_COLUMN,
    other: Optional[Path] = typer.Option(None, "--other", help="Another scorer's table (e.g. DeepSEA) for "
                                         "Spearman and top-K overlap / enrichment (K = 10, 25, 50)."),
    other_column: Optional[str] = typer.Option(None, "--other-column", help="Score column of --other."),
    stratify_by: Optional[str] = typer.Option(None, "--stratify-by", help="Correlations per quantile "
                                              "bin of this column (e.g. log2_ratio_std of an "
                                              "ensemble run: low = confident): strata.tsv, "
                                              "strata.png, metrics.json `strata`."),
    strata: int = typer.Option(3, "--strata", min=1, help="Quantile bins of --stratify-by."),
    overwrite: bool = OVERWRITE,
):
    """Benchmark variant scores against measured effects and against other scorers."""
    from regdna.variants.benchmark_variants import run_benchmark_variants

    metrics = run_benchmark_variants(scores, measured, out, score_column=score_column,
                                     measured_column=measured_column, pvalue_column=pvalue_column,
                                     group_column=group_column, other=other,
                                     other_column=other_column, stratify_by=stratify_by,
                                     n_strata=strata, overwrite=overwrite)
    typer.echo(f"benchmark of '{metrics['score_column']}' on {metrics['n_joined']} variants -> {out}")
    for line in _benchmark_lines(metrics):
        typer.echo("  " + line)


def _benchmark_lines(metrics: dict) -> list[str]:
    """The summary of `benchmark-variants`, numbers to at most 4 significant digits."""
    g = _g4
    lines = []
    if "overall" in metrics:
        o = metrics["overall"]
        lines.append(f"Pearson {g(o['pearson'])}  Spearman {g(o['spearman'])}  up-rate "
                     f"{g(o['up_rate'])}  down-rate {g(o['down_rate'])}  n={o['n']} {o['note']}".rstrip())
    if "direction" in metrics:
        d = metrics["direction"]
        lines.append(f"expected direction: {g(100 * d['fraction_expected_direction'])}% of "
                     f"{d['n_directed']}; median |score| breaking {g(d['median_abs_breaking'])} vs "
                     f"neutral {g(d['median_abs_neutral'])}")
    if "ld_blocks" in metrics:
        b = metrics["ld_blocks"]
        lines.append(f"LD blocks ({b['n_blocks']}): top-1 {g(b['top1'])} (random {g(b['random_top1'])}), "
                     f"top-2 {g(b['top2'])}, top-3 {g(b['top3'])}")
    if "strata" in metrics:
        for row in metrics["strata"]["rows"]:
            lines.append(f"{metrics['strata']['column']} {g(row['low'])}..{g(row['high'])}: Pearson "
                         f"{g(row['pearson'])}  Spearman {g(row['spearman'])}  n={row['n']}")
    if "agreement" in metrics:
        a = metrics["agreement"]
        lines.append(f"agreement: Spearman {g(a['spearman']['r'])} {a['spearman']['note']}".rstrip())
        for row in a["topk"]:
            lines.append(f"  K={row['K']}: overlap {g(row['overlap'])} (expected {g(row['expected'])}, "
                         f"fold {g(row['fold'])}, p={g(row['p'])}) {row['note']}".rstrip())
    return lines


@app.command("benchmark-models")
def benchmark_models_cmd(
    variants: Path = typer.Option(..., "--variants", "-v", help="Variants every model scores (VCF or "
                                  "table, as `regdna vep` reads them)."),
    measured: Path = typer.Option(..., "--measured", help="Measured effects: id (or chrom/pos/ref/alt) "
                                  "and an effect column; optional pvalue, dataset/cell_line, block "
                                  "+ is_causal, expected + kind columns (the example's "
                                  "variants.tsv: direction check only)."),
    out: Path = out_option("Output dir: models.tsv, pairs.tsv, pvalue_strata.tsv, metrics.json, "
                           "figures and scores/ (kept: an unchanged scorer is reused on a re-run)."),
    scorer: List[str] = typer.Option([], "--scorer", help="NAME=SPEC, once per model: a run dir, a "
                                     "published model <family>:<path>, or hf:<dir> (zero-shot "
                                     "scores); scored by vep in a child process whose time and "
                                     "peak memory are measured."),
    scores: List[str] = typer.Option([], "--scores", help="NAME=FILE: a precomputed score table "
                                     "(cost unknown)."),
    score: List[str] = typer.Option([], "--score", help="NAME=COLUMN: the score column of model "
                                    "NAME (default: log2_ratio_robust, log2_ratio, ..., mlm_llr, "
                                    "clm_llr, cosine_distance)."),
    genome: Optional[Path] = typer.Option(None, "--genome", "-g", help="Genome FASTA of the variants."),
    length: Optional[int] = typer.Option(None, "--length", help="Window length in bp of the hf: "
                                         "scorers (default 512)."),
    measured_column: Optional[str] = MEASURED_COLUMN,
    pvalue_column: Optional[str] = PVALUE_COLUMN,
    group_column: Optional[str] = GROUP_COLUMN,
    n_boot: int = typer.Option(1000, "--n-boot", min=0, help="Bootstrap resamples of the 95% "
                               "intervals and of the paired Spearman test."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Windows per forward pass "
                                             "(default: as vep, per scorer)."),
    chunk_size: int = typer.Option(4096, "--chunk-size", help="Variants per chunk / part file."),
    target: List[str] = typer.Option([], "--target", help="NAME=OUTPUTS: the model outputs of "
                                     "published model NAME that are scored (names, parts of "
                                     "names or indices, as vep --target; default all)."),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help="Let hf: scorers "
                                           "run their hub code (e.g. HyenaDNA)."),
    device: Optional[str] = DEVICE,
    overwrite: bool = OVERWRITE,
):
    """Benchmark many variant scorers on one variant set: correlations with intervals per model
    and dataset, paired tests (Steiger 1980; paired bootstrap), cost per 1,000 variants."""
    from regdna.variants.benchmark_models import run_benchmark_models

    metrics = run_benchmark_models(variants, measured, out, scorers=scorer, scores=scores,
                                   score_columns=score, genome=genome, length=length,
                                   device=device, batch_size=batch_size, chunk_size=chunk_size,
                                   measured_column=measured_column, pvalue_column=pvalue_column,
                                   group_column=group_column, n_boot=n_boot, seed=seed,
                                   targets=target, trust_remote_code=trust_remote_code,
                                   overwrite=overwrite, notice=typer.echo)
    typer.echo(f"benchmark of {len(metrics['models'])} models on {metrics['n_measured']} measured "
               f"variants -> {out}")
    for row in metrics["models_table"]:
        typer.echo(f"  {row['model']:<16} {row['dataset']:<12} n={row['n']:<6} Pearson "
                   f"{_g4(row['pearson'])} [{_g4(row['pearson_low'])}, {_g4(row['pearson_high'])}]  "
                   f"Spearman {_g4(row['spearman'])} [{_g4(row['spearman_low'])}, "
                   f"{_g4(row['spearman_high'])}]  s/1000 {_g4(row['seconds_per_1000'])}  "
                   f"MB {_g4(row['peak_memory_mb'])}")
    for row in metrics["pairs"]:
        if row["dataset"] == "all":
            typer.echo(f"  {row['model_a']} vs {row['model_b']}: Steiger p={_g4(row['steiger_p'])}, "
                       f"Spearman diff {_g4(row['spearman_diff'])} (bootstrap p="
                       f"{_g4(row['bootstrap_p'])})")
