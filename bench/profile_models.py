"""Profile models on the profile example: which one, and does augmentation buy robustness?

Writes `regdna example --profile`, prepares its coverage-threshold dataset (length 1024, margin
256, bin 32; test chr8, chr9; validation chr10), trains each candidate, and measures on the
test chromosomes (Toneyan et al. 2022):
  - Pearson's r per window (bins of one window, averaged over windows) and whole-chromosome
    (the test chromosomes tiled, predictions concatenated),
  - the variation score of the robustness test (20 shifted sub-windows of each stored window
    with a peak; lower = more robust),
  - the share of motif-breaking variants whose predicted coverage drops in every track where
    the factor is active (vep log2 ratio of summed coverage < 0), and of neutral variants
    whose |log2 ratio| stays below 0.1: over all the example's variants, and over those on the
    test chromosomes (sequence the model never trained on).
Candidates: the default (residualbind-32, RC + shift augmentation), the same model without
augmentation, CNN-baseline, and the k-mer ridge-regression floor (k-mer counts per bin, MSE);
`--candidates all` adds Basenji and BPNet.

    python bench/profile_models.py                    # ~10-20 min on 2 CPU cores
    python bench/profile_models.py --candidates all --epochs 30
    python bench/profile_models.py --length 2048 --margin 512 --chrom-size 3000000 --epochs 100
                                                      # the published geometry: a GPU

Prints one markdown table; writes results.tsv under --work.
"""
from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

# name -> (spec, overrides beyond the epoch budget)
CANDIDATES = {
    "residualbind-32 (default)": (None, []),
    "residualbind-32 no augmentation": (None, ["data.rc_augment=false", "data.max_shift=0"]),
    "cnn-baseline": ("cnn-baseline", []),
    "kmer-ridge (floor)": ("kmer-ridge", ["train.loss=mse"]),
    "basenji": ("basenji", ["model.options={n_blocks: 4}"]),
    "bpnet": ("bpnet", []),
}
MAIN = ("residualbind-32 (default)", "residualbind-32 no augmentation", "cnn-baseline",
        "kmer-ridge (floor)")


def variant_rates(scores: pd.DataFrame, truth: pd.DataFrame, tracks: list[str]) -> tuple[float, float]:
    """(share of motif-breaking variants whose log2 ratio is < 0 in every affected track,
    share of neutral variants with |log2 ratio| < 0.1 in every track)."""
    merged = truth.merge(scores, on="id", how="left", suffixes=("", "_scored"))
    column = (lambda t: f"log2_ratio.{t}") if len(tracks) > 1 else (lambda t: "log2_ratio")
    breaking = merged[merged["kind"] == "motif_breaking"]
    down = [all(row[column(t)] < 0 for t in str(row["affected"]).split(",") if t in tracks)
            for _, row in breaking.iterrows()]
    neutral = merged[merged["kind"] == "neutral"]
    flat = (neutral[[column(t) for t in tracks]].abs() < 0.1).all(axis=1)
    return float(np.mean(down)) if down else float("nan"), float(flat.mean()) if len(flat) else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="/tmp/regdna_bench_profile")
    parser.add_argument("--candidates", default="main", help="main, all, or a comma list of names")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--margin", type=int, default=256)
    parser.add_argument("--bin-size", type=int, default=32)
    parser.add_argument("--chrom-size", type=int, default=None, help="bp per example chromosome")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from regdna.data.example_profile import run_example_profile
    from regdna.data.prepare import run_prepare
    from regdna.evaluate.evaluate import run_evaluate
    from regdna.evaluate.robustness import run_robustness
    from regdna.train.train import run_train
    from regdna.variants.vep import run_vep

    names = MAIN if args.candidates == "main" else tuple(CANDIDATES) if args.candidates == "all" \
        else tuple(n.strip() for n in args.candidates.split(","))
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    example = work / "example"
    extra = {"chrom_size": args.chrom_size} if args.chrom_size else {}
    run_example_profile(example, seed=args.seed, **extra)
    cells = ("erythroid", "myeloid")
    data = run_prepare(work / "data", genome=example / "genome.fa",
                       bigwig=[f"{example}/tracks/{c}.bw:{c}" for c in cells],
                       bed=[f"{example}/peaks/{c}.narrowPeak:{c}" for c in cells],
                       selection="coverage", length=args.length, margin=args.margin,
                       bin_size=args.bin_size, figures=False)
    info = json.loads((data / "dataset.json").read_text())
    print(f"dataset: {info['splits']['train']['n']} train / {info['splits']['val']['n']} val / "
          f"{info['splits']['test']['n']} test windows of {args.length} bp (+{args.margin} bp "
          f"margins), bin {args.bin_size}", flush=True)
    truth = pd.read_csv(example / "truth" / "variants.tsv", sep="\t", dtype={"id": str})
    rows = []
    for name in names:
        spec, overrides = CANDIDATES[name]
        run = work / "runs" / name.split()[0].replace("(", "") / str(len(rows))
        start = time.perf_counter()
        run_train(data, spec, run, overrides=[f"train.max_epochs={args.epochs}",
                                              f"train.seed={args.seed}", *overrides],
                  progress=False)
        seconds = time.perf_counter() - start
        report = run_evaluate(run, split="test", figures=False, n_boot=50)
        robust = run_robustness(run, split="test", figures=False)
        scores_path = work / "vep" / f"{len(rows)}.tsv"
        run_vep(example / "variants.vcf", scores_path, run=run, genome=example / "genome.fa")
        scores = pd.read_csv(scores_path, sep="\t", dtype={"id": str})
        down, flat = variant_rates(scores, truth, info["labels"])
        held_out = truth[truth["chrom"].isin(info["profile"]["chroms"]["test"])]
        down_test, flat_test = variant_rates(scores, held_out, info["labels"])
        rows.append({"model": name, "pearson_per_window": report["pearson"],
                     "pearson_whole": report["pearson_whole"],
                     "variation": robust["mean_variation"], "breaking_down": down,
                     "neutral_flat": flat, "breaking_down_test": down_test,
                     "neutral_flat_test": flat_test, "train_s": seconds})
        print(f"{name}: {rows[-1]}", flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(work / "results.tsv", sep="\t", index=False)
    print()
    print("| model | Pearson r per window | Pearson r whole chromosome | variation score | "
          "breaking variants down (test chroms) | neutral flat (test chroms) | train s |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['model']} | {row['pearson_per_window']:.3f} | {row['pearson_whole']:.3f} | "
              f"{row['variation']:.4f} | {row['breaking_down']:.1%} ({row['breaking_down_test']:.0%}) | "
              f"{row['neutral_flat']:.1%} ({row['neutral_flat_test']:.0%}) | {row['train_s']:.0f} |")


if __name__ == "__main__":
    main()
