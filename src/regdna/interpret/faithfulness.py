"""Mutagenesis faithfulness test of attribution methods, and the verb `regdna faithfulness`
(`run_faithfulness`) that runs it on a dataset split.

For each class, take its sequences, rank positions by each attribution method (|score| of the
position), mutate the top-n positions (each base replaced by one of the other three, at random),
re-predict and report the fraction still classified as that class. A method is faithful when
its top positions hurt accuracy more than n random positions do; the random baseline is repeated
`n_repeats` times and reported with its 95% interval (2.5th-97.5th percentile of the repeats).
`n = "all"` mutates every position (the bottom line of the summary table).

Cost: the attributions (integrated gradients: n_references x n_steps gradients per sequence)
dominate; the mutants of all random repeats at one n are predicted in one call, so that the
predictor's batches stay full.

Output dir of the verb (`regdna.utils.output`, checked before the model is loaded):
`faithfulness.tsv` (the long table of `faithfulness`), `summary.tsv` (`summary_table` at one n),
`faithfulness.png`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from regdna.data.dataset import load_info, read_split
from regdna.errors import RegdnaError
from regdna.interpret.attributions import attribute, check_method
from regdna.interpret.inputs import check_length
from regdna.plot.faithfulness import plot_faithfulness
from regdna.runs import load_predictor
from regdna.utils.output import check_out_dir, output_dir

VERB = "faithfulness"

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

    Parameters
    ----------
    predictor : a classifier `Predictor`.
    seqs : N sequences of one length L.
    labels : (N,) integer classes (binary: 0/1).
    methods : attribution method names (`regdna.interpret.attributions`).
    ns : numbers of positions to mutate (0 and "all" are always added).
    n_repeats : repeats of the random-position baseline.
    attributions : precomputed maps per method, (N, L, 4) or (N, L), in `seqs` order.
    attribute_kwargs : passed to `regdna.interpret.attributions.attribute`.

    Returns
    -------
    long table: cls, n_seqs, method ("none" for no mutation, "random" for the baseline, "all"
    for every position), n, accuracy (fraction of the class's sequences still predicted as
    it), lo, hi (95% interval of the random repeats; equal to accuracy otherwise).
    """
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


def run_faithfulness(run: str | Path, data: str | Path, out: str | Path, split: str = "test",
                     methods: Sequence[str] = ("integrated_gradients", "grad_x_input"),
                     ns: Sequence[int] = (1, 5, 10, 15, 20), n_seqs: int = 100,
                     repeats: int = 20, table_n: int = 20, n_references: int = 4,
                     n_steps: int = 20, seed: int = 0, device: str | None = None,
                     overwrite: bool = False, say: Callable[[str], None] = print) -> dict:
    """The faithfulness test of the run's model on split `split` of the dataset dir `data`,
    at most `n_seqs` sequences sampled per class, written to the output dir `out`.

    Parameters
    ----------
    run : run dir of a classifier (`regdna train`).
    data : dataset dir (`regdna prepare`); its first label gives the classes.
    out : output dir (see the module doc); refused before any work unless new, empty, an
        earlier `faithfulness` output, or `overwrite`.
    methods, ns, repeats : see `faithfulness` (`repeats` = n_repeats).
    n_seqs : sequences sampled per class (seed `seed`).
    table_n : n shown in `summary.tsv`.
    n_references, n_steps : see `regdna.interpret.attributions.attribute`.
    say : called with each note for the user (that sampling left sequences out), as it arises.

    Returns
    -------
    dict
        table (DataFrame, the long table, with a `class` name column), summary (DataFrame,
        `summary_table`), out.
    """
    inputs = [run, data]
    check_out_dir(out, VERB, inputs, overwrite)
    methods = list(methods)
    predictor = load_predictor(run, device=device)
    for method in methods:
        check_method(predictor, method)
    info = load_info(data)
    if info.task == "profile":
        raise RegdnaError(f"faithfulness compares attributions per class; {data} is a coverage "
                          "dataset (no classes): run it on a label dataset, or use `regdna ism` / "
                          "`regdna attribute --sites` on coverage runs.")
    table = read_split(data, split)
    column = info.labels[0]
    table = table[table[column].notna()]
    check_length(predictor, table)
    groups = [part for _, part in table.groupby(column)]
    picked = pd.concat([part.sample(min(len(part), n_seqs), random_state=seed) for part in groups])
    if any(len(part) > n_seqs for part in groups):
        say(f"sampled {len(picked)} of {len(table)} {split} sequences (at most {n_seqs} "
            "per class, --n-per-class)")
    labels = picked[column].to_numpy().astype(int)
    result = faithfulness(predictor, list(picked.sequence), labels, methods, ns=list(ns),
                          n_repeats=repeats, seed=seed, n_references=n_references,
                          n_steps=n_steps)
    names = info.classes or (["negative", "positive"] if info.task == "binary" else None)
    result["class"] = [names[c] if names else c for c in result.cls]
    summary = summary_table(result, n=table_n, class_names=names)
    with output_dir(out, VERB, inputs, overwrite) as tmp:
        result.to_csv(tmp / "faithfulness.tsv", sep="\t", index=False, float_format="%.4f")
        summary.to_csv(tmp / "summary.tsv", sep="\t", index=False, float_format="%.3f")
        plot_faithfulness(tmp / "faithfulness.png", result, class_names=names,
                          title=f"Mutagenesis faithfulness: {Path(run).name} on {split}")
    return {"table": result, "summary": summary, "out": str(out)}
