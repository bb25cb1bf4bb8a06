"""Ensemble attribution maps on the bundled example: does the mean of K members' maps find the
planted motifs better than the members' own maps (Koo & Ploenzke 2021; Majdandzic et al. 2023)?

Default job, the demo's sizes: `regdna example` (2,000 windows per class), prepared as the demo
does (test chr8,chr9; val chr10), a 5-member ensemble of the demo's basset
(`--set model.options.filters=0.25`, every other setting the default, `train --ensemble 5`),
then the first 300 test positives explained with each method. Prints, per method, the AUROC of
|attribution| at the planted sites against every other position (`regdna.interpret.sites`) of
each member's map, their mean, the ensemble map's (the members' mean map), and the members'
agreement (mean pairwise Pearson r per sequence, averaged over sequences).

    .venv/bin/python bench/ensemble_attributions.py [--work DIR] [--members 5] [--n 300]
    .venv/bin/python bench/ensemble_attributions.py --run RUN --data DATASET --motifs motifs.tsv

`--run` / `--data` reuse an existing ensemble run and its dataset dir (nothing is trained);
`--motifs` is the example's site table (default: `<work>/example/motifs.tsv`).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def build(work: Path, members: int) -> tuple[Path, Path]:
    """The example, its dataset dir and the ensemble run under `work` (reused when present)."""
    from regdna.data.example import run_example
    from regdna.data.prepare import run_prepare
    from regdna.runs.layout import read_threshold_record
    from regdna.train.train import fit

    example, data, run = work / "example", work / "dataset", work / "runs" / f"basset{members}"
    if not (example / "motifs.tsv").is_file():
        run_example(example, overwrite=True)
    if not (data / "dataset.json").is_file():
        run_prepare(data, fasta=[(example / "pos.fa", "1"), (example / "neg.fa", "0")],
                    split="chrom", test_chroms="chr8,chr9", val_chroms="chr10", seed=0,
                    figures=False, overwrite=True)
    if read_threshold_record(run) is None:
        fit(data, "basset", run, overrides=["model.options.filters=0.25",
                                            f"model.ensemble={list(range(members))}"],
            progress=False, overwrite=True)
    return run, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("bench_out/ensemble_attributions"))
    parser.add_argument("--run", type=Path, help="an existing ensemble run (no training)")
    parser.add_argument("--data", type=Path, help="its dataset dir (with --run)")
    parser.add_argument("--motifs", type=Path, help="site table (default: the example's)")
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--n", type=int, default=300, help="test positives explained")
    parser.add_argument("--methods", default="grad_x_input,deeplift_shap")
    parser.add_argument("--n-references", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if (args.run is None) != (args.data is None):
        parser.error("give --run and --data together (or neither, to train the ensemble)")
    run, data = (args.run, args.data) if args.run else build(args.work, args.members)
    motifs = args.motifs or args.work / "example" / "motifs.tsv"
    print(f"{'method':<22}{'members':<44}{'mean':>7}{'ensemble':>10}{'agreement':>11}{'s':>7}")
    for method, row in measure(run, data, motifs, args.n, args.methods.split(","),
                               args.n_references).items():
        print(f"{method:<22}{' '.join(f'{v:.4f}' for v in row['members']):<44}"
              f"{row['members_mean']:>7.4f}{row['ensemble']:>10.4f}{row['agreement']:>11.3f}"
              f"{row['seconds']:>7.1f}")


def measure(run: Path, data: Path, motifs: Path, n: int = 300,
            methods=("grad_x_input", "deeplift_shap"), n_references: int = 4) -> dict:
    """{method: {members (site AUROC of each member's map), members_mean, ensemble (of the mean
    map), agreement (mean pairwise Pearson r), seconds}} on the first `n` test positives."""
    from regdna.data.records import load_records
    from regdna.interpret.attribute import ensemble_attributions
    from regdna.interpret.sites import load_sites, site_auroc, site_boxes, site_mask
    from regdna.runs import load_predictor

    predictor = load_predictor(run, device="cpu")
    if not predictor.is_ensemble:
        raise SystemExit(f"{run} is not an ensemble run (regdna train --ensemble K)")
    table = load_records(data=data, split="test", n=n, label="1")
    mask = site_mask(site_boxes(table, load_sites(motifs)), len(table.sequence[0]))
    seqs = list(table.sequence)
    print(f"{run}: {len(predictor.ensemble)} members; {len(seqs)} test positives, "
          f"{int(mask.any(1).sum())} with planted sites")
    out = {}
    for method in methods:
        start = time.perf_counter()
        maps = ensemble_attributions(predictor, seqs, method, site_rows=mask,
                                     n_references=n_references)
        members = [site_auroc(s, mask) for s in maps["member_site_scores"]]
        out[method] = {"members": members, "members_mean": float(np.mean(members)),
                       "ensemble": site_auroc(maps["attributions"], mask),
                       "agreement": float(np.nanmean(maps["agreement"])),
                       "seconds": time.perf_counter() - start}
    return out

if __name__ == "__main__":
    main()
