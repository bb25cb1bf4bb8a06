"""Out-of-distribution separation on the bundled example: AUROC of each OOD column of a run
(`regdna.evaluate.ood_fit`: `ood_embedding`, `ood_stats`, the combined `ood_score`) for test
windows against
- their dinucleotide shuffles (Altschul & Erickson 1985),
- GC-shifted copies (A/T turned into G/C at random until the window's GC is 20 points higher),
- the val windows (in distribution: about 0.5 expected),
and the share of each set that `ood_flag` flags. Target: >= 0.9 for shuffles and GC shifts.

Without --run it writes the example (`regdna example`, seed 0, 2,000 windows per class),
prepares it as the demo does (test chr8, chr9; val chr10) and trains the small basset of the
test fixtures (filters 0.25, 6 epochs), whose training writes RUN/ood.npz.

Usage: python bench/ood_separation.py [--run RUN --data DATASET] [--n 500] [--out DIR]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

BASSET = ["model.options={filters: 0.25, hidden: 64, bins: 1, exp_activation: true}",
          "data.batch_size=32", "optim.lr=3e-3", "train.max_epochs=6", "train.patience=0"]
GC_SHIFT = 0.20


def gc_shifted(seq: str, rng: np.random.Generator, shift: float = GC_SHIFT) -> str:
    """`seq` with A/T turned into G/C at random, each with probability shift / AT fraction (the
    expected GC rises by `shift`; all A/T when that is more than the window has)."""
    codes = np.frombuffer(seq.encode(), dtype=np.uint8).copy()
    at = np.isin(codes, np.frombuffer(b"AT", dtype=np.uint8))
    rate = min(1.0, shift * len(codes) / max(int(at.sum()), 1))
    turn = at & (rng.random(len(codes)) < rate)
    codes[turn] = np.frombuffer(b"GC", dtype=np.uint8)[rng.integers(2, size=int(turn.sum()))]
    return codes.tobytes().decode()


def train_example(root: Path) -> tuple[Path, Path]:
    """(run dir, dataset dir) of the small basset trained on the default example."""
    from regdna.data.example import run_example
    from regdna.data.prepare import run_prepare
    from regdna.train.train import fit

    example = run_example(root / "example", seed=0)
    data = run_prepare(root / "dataset", fasta=[(example / "pos.fa", "1"), (example / "neg.fa", "0")],
                       split="chrom", test_chroms="chr8,chr9", val_chroms="chr10", seed=0,
                       figures=False)
    return fit(data, "basset", root / "run", overrides=BASSET, progress=False), data


def separation(run: Path, data: Path, n: int, seed: int = 0) -> dict[str, dict[str, float]]:
    """{set: {column: AUROC against the test windows, "flagged": share flagged}}."""
    from regdna.data.dataset import read_split
    from regdna.data.shuffle import dinucleotide_shuffle
    from regdna.evaluate.metrics import auroc
    from regdna.evaluate.ood_fit import COLUMNS, load_ood
    from regdna.runs import load_predictor

    scorer = load_ood(run)
    if scorer is None:
        raise SystemExit(f"{run} has no ood.npz; train it with this regdna first.")
    predictor = load_predictor(run, device="cpu")
    rng = np.random.default_rng(seed)
    test = read_split(data, "test").sequence.str.upper().tolist()[:n]
    others = {"dinucleotide shuffle": [dinucleotide_shuffle(s, rng) for s in test],
              f"GC +{GC_SHIFT * 100:.0f} points": [gc_shifted(s, rng) for s in test],
              "val (in distribution)": read_split(data, "val").sequence.str.upper().tolist()[:n]}
    ref = scorer.columns(predictor, test)
    table = {"test": {"flagged": float(ref["ood_flag"].mean())}}
    for name, seqs in others.items():
        cols = scorer.columns(predictor, seqs)
        y = np.r_[np.zeros(len(test)), np.ones(len(seqs))]
        table[name] = {c: auroc(y, np.r_[ref[c], cols[c]]) for c in COLUMNS if c != "ood_flag"}
        table[name]["flagged"] = float(cols["ood_flag"].mean())
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="a trained run dir with ood.npz (default: train one)")
    parser.add_argument("--data", type=Path, help="its dataset dir (with --run)")
    parser.add_argument("--n", type=int, default=500, help="test windows (default 500)")
    parser.add_argument("--out", type=Path, help="keep the example, dataset and run here")
    args = parser.parse_args()
    if (args.run is None) != (args.data is None):
        parser.error("--run and --data go together")
    with tempfile.TemporaryDirectory() as tmp:
        run, data = (args.run, args.data) if args.run else train_example(args.out or Path(tmp))
        table = separation(run, data, args.n)
    columns = ["ood_embedding", "ood_stats", "ood_score", "flagged"]
    print(f"{'test vs':<24}" + "".join(f"{c:>15}" for c in columns))
    for name, row in table.items():
        print(f"{name:<24}" + "".join(f"{row[c]:>15.3f}" if c in row else f"{'':>15}"
                                      for c in columns))


if __name__ == "__main__":
    main()
