"""Uncertainty on the bundled example: a deep ensemble of 5 Bassets (Lakshminarayanan et al. 2017)
at the demo's size, against its members, and what it costs.

Prints one table:
- test AUROC / PR-AUC of each member, of the best member and of the ensemble (mean logits);
- test ECE, Brier and NLL before and after temperature scaling (Guo et al. 2017, fitted on val);
- split conformal coverage on test at 90% (Angelopoulos & Bates 2021, calibrated on val);
- planted-site attribution AUROC of the ensemble-mean map vs the members' mean
  (bench/ensemble_attributions.py);
- OOD AUROC of `ood_score` for test vs dinucleotide-shuffled and GC-shifted test windows
  (bench/ood_separation.py);
- cost: training seconds of the ensemble / of one member, prediction seconds of the ensemble / of
  one member on the test split (paired, median of 3 repeats in the same process: the ratio is
  what to read, the machine is noisy).

Usage: python bench/uncertainty.py [--out DIR] [--members 5] [--reuse]
       (--reuse: keep an ensemble already trained in DIR)
The same train command a user types: `regdna train --data D --model basset --set
model.options.filters=0.25 --ensemble 5 --out RUN` (GPU: the same; members train one after another).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BASSET = ["model.options={filters: 0.25}"]           # the demo's basset


def _bench(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _example(root: Path) -> Path:
    from regdna.data.example import run_example
    from regdna.data.prepare import run_prepare

    data = root / "dataset"
    if (data / "dataset.json").is_file():
        return data
    example = run_example(root / "example")      # the demo's size: 2,000 windows per class
    return run_prepare(data, fasta=[(example / "pos.fa", "1"), (example / "neg.fa", "0")],
                       split="chrom", test_chroms="chr8,chr9", val_chroms="chr10", seed=0,
                       figures=False)


def _train(data: Path, out: Path, members: int, reuse: bool) -> tuple[Path, float]:
    from regdna.train.train import run_train

    if reuse and (out / "threshold.json").is_file():
        return out, float("nan")
    start = time.perf_counter()
    run_train(data, "basset", out, overrides=BASSET + [f"model.ensemble={list(range(members))}"],
              overwrite=True, progress=False)
    return out, time.perf_counter() - start


def _predict_seconds(predictor, seqs, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predictor.logits(seqs)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench_uncertainty"))
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--n", type=int, default=300, help="test windows for OOD / attributions")
    args = parser.parse_args()

    import pandas as pd

    from regdna.evaluate.evaluate import run_evaluate
    from regdna.runs import layout, load_predictor

    data = _example(args.out)
    run, train_wall = _train(data, args.out / "ensemble", args.members, args.reuse)
    report = run_evaluate(run, split="test", n_boot=200, figures=False, coverage=0.9)
    members = report["members"]
    resources = layout.read_resources(run)

    seqs = pd.read_parquet(data / "test.parquet", columns=["sequence"])["sequence"].tolist()
    ensemble = load_predictor(run)
    member = ensemble.member_predictors()[0]
    ensemble.logits(seqs[:64]), member.logits(seqs[:64])       # warm-up
    pairs = [(_predict_seconds(ensemble, seqs), _predict_seconds(member, seqs)) for _ in range(2)]
    predict_ratio = statistics.median(a / b for a, b in pairs)

    ood = _bench("ood_separation").separation(run, data, args.n)
    attributions = None
    if (HERE / "ensemble_attributions.py").is_file():
        attributions = _bench("ensemble_attributions").measure(
            run, data, args.out / "example" / "motifs.tsv", n=args.n)

    per_member = [m["auroc"] for m in members["metrics"]]
    table = {
        "members_test_auroc": per_member,
        "best_member_test_auroc": max(per_member),
        "ensemble_test_auroc": members["ensemble"]["auroc"],
        "ensemble_minus_best_member": members["ensemble"]["auroc"] - max(per_member),
        "test_ece_before": report["calibration"]["before"]["ece"],
        "test_ece_after": report["calibration"]["after"]["ece"],
        "test_nll_before": report["calibration"]["before"]["nll"],
        "test_nll_after": report["calibration"]["after"]["nll"],
        "temperature": report["calibration"]["temperature"],
        "conformal_90_coverage": report["conformal"]["empirical_coverage"],
        "conformal_90_mean_set_size": report["conformal"]["mean_set_size"],
        "std_spearman_with_error": members["std"].get("spearman_with_error"),
        "confident_half_auroc": members["confident_half"]["auroc"],
        "uncertain_half_auroc": members["uncertain_half"]["auroc"],
        "ood": ood, "attributions": attributions,
        "train_seconds_members": resources.get("train_seconds_per_member"),
        "train_seconds_ensemble_wall": train_wall,
        # wall of the whole `train --ensemble` (members, gathering, OOD / calibration /
        # threshold of the ensemble) over one member's epoch seconds
        "train_ratio_ensemble_wall_to_member": train_wall /
                                               np.mean(resources["train_seconds_per_member"]),
        "predict_ratio_ensemble_to_member": predict_ratio,
    }
    (args.out / "uncertainty.json").write_text(json.dumps(table, indent=2, default=float))
    for key, value in table.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for inner, number in value.items():
                print(f"  {inner}: {number}")
        elif isinstance(value, list):
            print(f"{key}: {', '.join(f'{v:.4g}' for v in value)}")
        else:
            print(f"{key}: {value:.4g}" if isinstance(value, float) else f"{key}: {value}")


if __name__ == "__main__":
    main()
