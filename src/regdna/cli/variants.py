"""`regdna vep`, `regdna ism`, `regdna benchmark-variants`: thin layers over `regdna.variants`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from regdna.cli import app
from regdna.cli.options import OVERWRITE
from regdna.errors import RegdnaError


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
    out: Path = typer.Option(..., "--out", "-o", help="Output scores, .parquet or .tsv (written at the end "
                             "by an atomic merge of per-chunk parts; a killed run re-run with the same "
                             "inputs and settings resumes, otherwise it starts over)."),
    run: Optional[Path] = typer.Option(None, "--run", help="Run dir of a trained model (regdna train)."),
    genome: Optional[Path] = typer.Option(None, "--genome", "-g", help="Genome FASTA (plain or bgzip) the "
                                          "variants are called on; chr1/1 names are harmonised."),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first unusable record (ref mismatch, "
                                "unknown contig, symbolic allele) instead of skipping it with a reason."),
    rc: Optional[bool] = typer.Option(None, "--rc/--no-rc", help="Average logits over both strands "
                                      "(default: as the run's predict.rc_average, like `regdna predict`)."),
    shifts: int = typer.Option(0, "--shifts", help="K > 1 adds the shift-robust score "
                               "(Toneyan et al. 2022): probabilities averaged over K windows "
                               "shifted within +-max-shift bp."),
    max_shift: Optional[int] = typer.Option(None, "--max-shift", help="Largest shift in bp for --shifts "
                                            "(default: window length / 10)."),
    shard: Optional[str] = typer.Option(None, "--shard", help="i/n: score only chunks k with k % n == i; "
                                        "run n of these (any machines, same --out on a shared disk): the "
                                        "last to finish merges. Under torchrun the rank is used."),
    zero_shot: bool = typer.Option(False, "--zero-shot", help="Zero-shot scores with a pretrained language "
                                   "model (--model): embedding cosine distance and masked-LM LLR."),
    model: Optional[str] = typer.Option(None, "--model", help="hf:<hub id or local dir> for --zero-shot."),
    length: Optional[int] = typer.Option(None, "--length", help="Window length in bp (default: the run's "
                                         "input length; needed with --zero-shot)."),
    chunk_size: int = typer.Option(4096, "--chunk-size", help="Variants per chunk / part file."),
    batch_size: int = typer.Option(256, "--batch-size", help="Windows per forward pass."),
    device: Optional[str] = typer.Option(None, "--device", help="torch device (default: CUDA if present)."),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help="Allow hub model code "
                                           "(--zero-shot with custom architectures)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    overwrite: bool = OVERWRITE,
):
    """Score variants: p_ref, p_alt, delta, log2_ratio, logit_diff per output (+ robust / zero-shot)."""
    import os

    from regdna.utils.output import check_out_file
    from regdna.variants.vep import parse_shard, score_variants

    if run is None and not zero_shot:
        raise RegdnaError("give --run RUN (a trained model) or --zero-shot --model hf:<id>.")
    if zero_shot and not model:
        raise RegdnaError("--zero-shot needs --model hf:<hub id or local dir>.")
    shard_range = parse_shard(shard)
    inputs = [variants, genome, run, _local_model_dir(model)]
    # the output policy is checked before any model is loaded
    check_out_file(out, "vep", inputs=inputs, overwrite=overwrite)
    if device is None and "LOCAL_RANK" in os.environ:
        import torch

        if torch.cuda.is_available():  # torchrun: one GPU per process
            device = f"cuda:{os.environ['LOCAL_RANK']}"
    predictor = language_model = None
    if run is not None:
        from regdna.runs import load_predictor

        predictor = load_predictor(run, device=device, batch_size=batch_size)
    if zero_shot:
        from regdna.models.hf import load_language_model

        language_model = load_language_model(model, trust_remote_code=trust_remote_code, device=device)
        if predictor is not None:
            length = length or predictor.length
        length = length or 512
    summary = score_variants(variants, out, predictor, genome, length=length, rc=rc, shifts=shifts,
                             max_shift=max_shift, strict=strict, language_model=language_model,
                             chunk_size=chunk_size, shard=shard_range, progress=progress,
                             model_id=_model_identity(run, model if zero_shot else None),
                             inputs=inputs, overwrite=overwrite)
    _echo_summary(summary)


def _local_model_dir(model: Optional[str]) -> Optional[Path]:
    """The directory of an hf:<dir> model (an input --out must not replace), else None."""
    if not model:
        return None
    from regdna.models.hf import model_source

    local = Path(model_source(model)).expanduser()
    return local if local.is_dir() else None


def _model_identity(run: Optional[Path], model: Optional[str]) -> dict:
    """The checkpoint and config of --run and the --model spec, for the resume fingerprint."""
    from regdna.variants.vep import language_model_identity, run_identity

    identity = {}
    if run is not None:
        from regdna.runs.checkpoint import checkpoint_path

        identity["run"] = run_identity(run, checkpoint_path(run, "best"))
    if model:
        identity["language_model"] = language_model_identity(model)
    return identity


def _parse_region_text(text: Optional[str]):
    if not text:
        return None
    try:
        start, end = text.split(":")
        return (int(start) if start else None, int(end) if end else None)
    except ValueError:
        raise RegdnaError(f"--region '{text}' must look like START:END (0-based, half-open).") from None


# --data splits can hold thousands of sequences: without --n, ISM takes this many (and says so)
DATA_DEFAULT_N = 8


def _ism_inputs(predictor, fasta, data, split, n, select):
    """(ids, sequences, note) for ISM: every record of --fasta, or n of them (the first n, or
    the n with the highest predicted probability); `note` says how many of how many."""
    from regdna.data.records import load_records

    if n is None and data is not None:
        n = DATA_DEFAULT_N
    table = load_records(fasta, data, split, n if select == "first" else None)
    available = table.attrs.get("n_available", len(table))
    ids, seqs = table["id"].astype(str).tolist(), table["sequence"].tolist()
    if select == "top" and n is not None and len(seqs) > n:
        import numpy as np

        scores = predictor.predict(seqs)[:, 0]
        keep = np.argsort(-scores, kind="stable")[:n]
        ids, seqs = [ids[i] for i in keep], [seqs[i] for i in keep]
    source = f"{data} ({split} split)" if data is not None else str(fasta)
    note = f"mutating {len(seqs)} of {available} sequences of {source}"
    if len(seqs) < available:
        which = "first" if select == "first" else "highest-scoring"
        default = " (the default for --data)" if data is not None and n == DATA_DEFAULT_N else ""
        note += f": the {which} {len(seqs)}{default}; --n sets how many"
    return ids, seqs, note


@app.command("ism")
def ism_cmd(
    run: Path = typer.Option(..., "--run", help="Run dir of a trained model (CNN or transformer)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output dir: ism.npz (N, L, 4), ism.tsv (seq_id, pos, "
                             "ref, alt, delta), heatmaps/, topk.tsv and topk.png (replaced atomically)."),
    fasta: Optional[Path] = typer.Option(None, "--fasta", help="FASTA of equal-length sequences to mutate."),
    data: Optional[Path] = typer.Option(None, "--data", help="Dataset dir (regdna prepare) to take sequences from."),
    split: str = typer.Option("test", "--split", help="Split of --data."),
    n: Optional[int] = typer.Option(None, "--n", min=1, help="Number of sequences to mutate (default: every "
                                    f"record of --fasta; {DATA_DEFAULT_N} of --data)."),
    select: str = typer.Option("first", "--select", help="Which sequences: first (file order) or top "
                               "(highest predicted probability of --output)."),
    region: Optional[str] = typer.Option(None, "--region", help="START:END (0-based, half-open) positions "
                                         "to mutate; others stay 0."),
    output: str = typer.Option("0", "--output", help="Model output to explain: index or label name."),
    top_k: int = typer.Option(25, "--top-k", help="Rows of the top-K table and bars of the chart."),
    fast: bool = typer.Option(True, "--fast/--plain", help="Receptive-field fast path for CNNs (equal to "
                              "plain within 1e-5); --plain runs every mutant in full."),
    batch_size: int = typer.Option(512, "--batch-size", help="Mutants per forward pass."),
    device: Optional[str] = typer.Option(None, "--device", help="torch device (default: CUDA if present)."),
    overwrite: bool = OVERWRITE,
):
    """Saturation mutagenesis: Δ = f(x') − f(x) for all 3 substitutions at every position."""
    from regdna.runs import load_predictor
    from regdna.utils.output import check_out_dir
    from regdna.variants.ism import run_ism

    if select not in ("first", "top"):
        raise RegdnaError(f"--select '{select}': use first or top.")
    inputs = [run, fasta, data]
    check_out_dir(out, "ism", inputs=inputs, overwrite=overwrite)  # before the model is loaded
    predictor = load_predictor(run, device=device)
    index = predictor.output_index(output)
    ids, seqs, note = _ism_inputs(predictor, fasta, data, split, n, select)
    typer.echo(note)
    result = run_ism(predictor, seqs, ids, out, output=index, region=_parse_region_text(region),
                     fast=fast, batch_size=batch_size, top_k=top_k, inputs=inputs, overwrite=overwrite)
    typer.echo(f"ISM of {len(seqs)} sequences x {len(seqs[0])} bp ({result['path']} path) -> {out}")
    typer.echo(result["top"].head(10).to_string(index=False, float_format=_g4))


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
    out: Path = typer.Option(..., "--out", "-o", help="Output dir: metrics.json, tables and figures."),
    score_column: Optional[str] = typer.Option(None, "--score-column", help="Score to test (default: "
                                               "log2_ratio_robust, else log2_ratio, ...)."),
    measured_column: Optional[str] = typer.Option(None, "--measured-column", help="Measured effect column "
                                                  "(default: measured, effect, log2fc, ...)."),
    pvalue_column: Optional[str] = typer.Option(None, "--pvalue-column", help="Measured p-value column for "
                                                "the 0.5 / 0.1 / 5e-5 / 1e-5 strata (default: pvalue, p, ...)."),
    group_column: Optional[str] = typer.Option(None, "--group-column", help="Per-group statistics column "
                                               "(default: dataset, cell_line, ...)."),
    other: Optional[Path] = typer.Option(None, "--other", help="Another scorer's table (e.g. DeepSEA) for "
                                         "Spearman and top-K overlap / enrichment (K = 10, 25, 50)."),
    other_column: Optional[str] = typer.Option(None, "--other-column", help="Score column of --other."),
    overwrite: bool = OVERWRITE,
):
    """Benchmark variant scores against measured effects and against other scorers."""
    from regdna.variants.benchmark import benchmark_variants

    metrics = benchmark_variants(scores, measured, out, score_column=score_column,
                                 measured_column=measured_column, pvalue_column=pvalue_column,
                                 group_column=group_column, other=other, other_column=other_column,
                                 overwrite=overwrite)
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
    if "agreement" in metrics:
        a = metrics["agreement"]
        lines.append(f"agreement: Spearman {g(a['spearman']['r'])} {a['spearman']['note']}".rstrip())
        for row in a["topk"]:
            lines.append(f"  K={row['K']}: overlap {g(row['overlap'])} (expected {g(row['expected'])}, "
                         f"fold {g(row['fold'])}, p={g(row['p'])}) {row['note']}".rstrip())
    return lines
