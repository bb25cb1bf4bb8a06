"""Mutagenesis faithfulness test of attribution methods.

For each class, take its sequences, rank positions by each attribution method (|score| of the
position), mutate the top-n positions (each base replaced by one of the other three, at random),
re-predict and report the fraction still classified as that class. A method is faithful when
its top positions hurt accuracy more than n random positions do; the random baseline is repeated
`n_repeats` times and reported with its 95% interval (2.5th-97.5th percentile of the repeats).
`n = "all"` mutates every position (the bottom line of the summary table).

Cost: the attributions (integrated gradients: n_references x n_steps gradients per sequence)
dominate; the mutants of all random repeats at one n are predicted in one call, so that the
predictor's batches stay full.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from regdna.errors import RegdnaError

_OTHER = {b: [c for c in "ACGT" if c != b] for b in "ACGTN"}


def position_scores(attr: np.ndarray) -> np.ndarray:
    """(N, L, 4) or (N, L) attributions -> (N, L) position importance |sum over bases|."""
    attr = np.asarray(attr)
    return np.abs(attr.sum(-1) if attr.ndim == 3 else attr)


def mutate(seqs: Sequence[str], positions: Sequence[np.ndarray],
           rng: np.random.Generator) -> list[str]:
    """Replace each listed position of each sequence by a different, random base."""
    out = []
    for seq, pos in zip(seqs, positions):
        chars = list(seq)
        for p in pos:
            chars[p] = _OTHER.get(chars[p].upper(), list("ACGT"))[rng.integers(3)]
        out.append("".join(chars))
    return out


def class_accuracy(predictor, seqs: Sequence[str], cls: int) -> float:
    """Fraction of `seqs` predicted as class `cls` (binary: probability >= threshold)."""
    if not len(seqs):
        return float("nan")
    return float(np.mean(_predicted(predictor, seqs) == cls))


def class_accuracies(predictor, groups: Sequence[Sequence[str]], cls: int) -> list[float]:
    """`class_accuracy` of each group of sequences, all predicted in one call."""
    sizes = [len(g) for g in groups]
    if not sum(sizes):
        return [float("nan")] * len(groups)
    hits = _predicted(predictor, [s for g in groups for s in g]) == cls
    bounds = np.cumsum([0] + sizes)
    return [float(np.mean(hits[a:b])) if b > a else float("nan")
            for a, b in zip(bounds[:-1], bounds[1:])]


def _predicted(predictor, seqs: Sequence[str]) -> np.ndarray:
    """Predicted class of each sequence (binary: probability >= the run's threshold)."""
    prob = predictor.predict(list(seqs))
    if predictor.task == "binary":
        threshold = predictor.threshold if predictor.threshold is not None else 0.5
        threshold = threshold[0] if isinstance(threshold, (list, tuple)) else threshold
        predicted = (prob[:, 0] >= threshold).astype(int)
    elif predictor.task == "multiclass":
        predicted = prob.argmax(axis=1)
    else:
        raise RegdnaError(f"faithfulness needs a classifier (binary or multiclass), "
                          f"not a {predictor.task} model")
    return predicted


def faithfulness(predictor, seqs: Sequence[str], labels: np.ndarray, methods: Sequence[str],
                 ns: Sequence[int] = (1, 5, 10, 15, 20), n_repeats: int = 20, seed: int = 0,
                 attributions: dict[str, np.ndarray] | None = None,
                 **attribute_kwargs) -> pd.DataFrame:
    """Accuracy per class after mutating the top-n positions of each method, and at random.

    Args:
        predictor: a classifier `Predictor`.
        seqs: N sequences; labels: (N,) integer classes (binary: 0/1).
        methods: attribution method names (`regdna.interpret.attribute`).
        ns: numbers of positions to mutate (0 and "all" are always added).
        n_repeats: repeats of the random-position baseline.
        attributions: precomputed maps per method, (N, L, 4) or (N, L), in `seqs` order.

    Returns:
        long table: class, method ("random" for the baseline, "all" for every position), n,
        accuracy, lo, hi (95% interval of the random repeats; equal to accuracy otherwise).
    """
    from regdna.interpret.attribute import attribute

    labels = np.asarray(labels).astype(int)
    rng = np.random.default_rng(seed)
    length = len(seqs[0])
    ns = sorted({int(n) for n in ns if 0 < int(n) <= length})
    rows = []
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        cls_seqs = [seqs[i] for i in idx]
        base = class_accuracy(predictor, cls_seqs, cls)
        rows.append(dict(cls=cls, method="none", n=0, accuracy=base, lo=base, hi=base))
        everything = mutate(cls_seqs, [np.arange(length)] * len(cls_seqs), rng)
        acc = class_accuracy(predictor, everything, cls)
        rows.append(dict(cls=cls, method="all", n=length, accuracy=acc, lo=acc, hi=acc))
        output = int(cls) if predictor.task == "multiclass" else 0
        for method in methods:
            attr = attributions[method][idx] if attributions and method in attributions else \
                attribute(predictor, cls_seqs, method, output=output, **attribute_kwargs)
            order = np.argsort(-position_scores(attr), axis=1, kind="stable")
            for n in ns:
                acc = class_accuracy(predictor, mutate(cls_seqs, order[:, :n], rng), cls)
                rows.append(dict(cls=cls, method=method, n=n, accuracy=acc, lo=acc, hi=acc))
        for n in ns:
            accs = class_accuracies(predictor, [mutate(
                cls_seqs, [rng.choice(length, n, replace=False) for _ in cls_seqs], rng)
                for _ in range(n_repeats)], cls)
            lo, hi = np.percentile(accs, [2.5, 97.5])
            rows.append(dict(cls=cls, method="random", n=n, accuracy=float(np.mean(accs)),
                             lo=float(lo), hi=float(hi)))
    table = pd.DataFrame(rows)
    table.insert(1, "n_seqs", table["cls"].map(pd.Series(labels).value_counts()))
    return table


def summary_table(table: pd.DataFrame, n: int = 20, class_names: Sequence[str] | None = None
                  ) -> pd.DataFrame:
    """The summary table: per class, accuracy at n = 0, at n for each method (and random, with
    its interval), and with all positions mutated."""
    rows = []
    for cls, part in table.groupby("cls"):
        row = {"class": class_names[cls] if class_names else cls,
               "n_seqs": int(part["n_seqs"].iloc[0]),
               "n=0": part.loc[part.method == "none", "accuracy"].iloc[0]}
        at_n = part[part.n == n]
        for _, r in at_n.iterrows():
            if r.method == "random":
                row[f"n={n} (random)"] = f"{r.accuracy:.3f} [{r.lo:.3f}, {r.hi:.3f}]"
            elif r.method != "all":
                row[f"n={n} ({r.method})"] = r.accuracy
        all_row = part[part.method == "all"].iloc[0]
        row[f"n=all ({int(all_row.n)})"] = all_row.accuracy
        rows.append(row)
    return pd.DataFrame(rows)
