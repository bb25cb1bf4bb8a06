"""Dataset QC (as in King et al. n.d.): class balance tests with an effect size, length and GC
distributions per class and split, a leakage check that fails loudly, the `splits` and `qc`
entries of `dataset.json` (`dataset_qc`) and the QC figures (`write_figures`, drawn by
`regdna.plot.qc`).

Balance: with millions of sequences a chi-squared test rejects perfect balance for any tiny
deviation, so the effect size is what decides (King et al. n.d.: ratio 1.04 was "balanced in
practice"). We report Cohen's h for two classes (h = 2 asin sqrt(p) - 2 asin sqrt(0.5)) and Cohen's
w (sqrt(chi2 / n)) for any number, with Cohen's thresholds 0.2 / 0.5 / 0.8 (small / medium /
large).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from regdna.data.dataset import SPLITS
from regdna.errors import RegdnaError
from regdna.plot.qc import plot_class_balance, plot_distribution, plot_length_counts


class LeakageError(RegdnaError):
    """The same sequence (or its reverse complement) is in two splits."""


def _magnitude(effect: float) -> str:
    effect = abs(effect)
    return "negligible" if effect < 0.2 else "small" if effect < 0.5 else "medium" if effect < 0.8 else "large"


def class_balance(counts: dict[str, int]) -> dict:
    """Balance tests for class counts {class name: n}.

    Returns n, proportions, chi-squared goodness of fit against equal shares (statistic, p),
    Cohen's w, the majority/minority ratio, and for two classes the exact binomial test of the
    second class's share against 0.5 and Cohen's h; `effect` names the magnitude.
    """
    from scipy import stats

    names = list(counts)
    values = np.array([counts[k] for k in names], dtype=np.float64)
    n = float(values.sum())
    out: dict = {"n": int(n), "counts": {k: int(counts[k]) for k in names}}
    if n == 0 or len(names) < 2:
        out["note"] = "fewer than two classes: no balance test"
        return out
    chi2, p_chi2 = stats.chisquare(values)
    out.update({
        "proportions": {k: float(v / n) for k, v in zip(names, values)},
        "chi2": float(chi2), "chi2_p": float(p_chi2),
        "cohens_w": float(math.sqrt(chi2 / n)),
        "ratio_major_minor": float(values.max() / values.min()) if values.min() > 0 else float("inf"),
    })
    effect = out["cohens_w"]
    if len(names) == 2:
        k = int(values[1])
        p = k / n
        out["binomial_p"] = float(stats.binomtest(k, int(n), 0.5).pvalue)
        out["cohens_h"] = float(2 * math.asin(math.sqrt(p)) - 2 * math.asin(math.sqrt(0.5)))
        effect = out["cohens_h"]
    out["effect"] = _magnitude(effect)
    return out


def summarize(values: np.ndarray) -> dict:
    """n, mean, sd, min, 5 %, median, 95 %, max of the finite values."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return {"n": 0}
    q = np.quantile(values, [0.05, 0.5, 0.95])
    return {"n": int(len(values)), "mean": float(values.mean()), "sd": float(values.std()),
            "min": float(values.min()), "q05": float(q[0]), "median": float(q[1]),
            "q95": float(q[2]), "max": float(values.max())}


def distributions(values: np.ndarray, classes: np.ndarray, splits: np.ndarray,
                  class_names: list[str]) -> dict:
    """`summarize` per split and class: {split: {class: summary, "all": summary}}."""
    out: dict = {}
    for code, split in enumerate(SPLITS):
        in_split = splits == code
        if not in_split.any():
            continue
        out[split] = {"all": summarize(values[in_split])}
        for c, name in enumerate(class_names):
            sel = in_split & (classes == c)
            if sel.any():
                out[split][name] = summarize(values[sel])
    return out


def gc_difference(gc: np.ndarray, classes: np.ndarray, splits: np.ndarray) -> dict:
    """For two classes: per split the difference of mean GC (class 1 - class 0) and the
    Kolmogorov-Smirnov statistic, a warning sign that a model could learn GC instead of motifs."""
    from scipy import stats

    out: dict = {}
    for code, split in enumerate(SPLITS):
        a = gc[(splits == code) & (classes == 0)]
        b = gc[(splits == code) & (classes == 1)]
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if len(a) and len(b):
            ks = stats.ks_2samp(a, b)
            out[split] = {"mean_difference": float(b.mean() - a.mean()), "ks": float(ks.statistic),
                          "ks_p": float(ks.pvalue)}
    return out


def check_leakage(keys: np.ndarray, splits: np.ndarray, ids=None, raise_error: bool = True) -> dict:
    """Check that no sequence key is in two splits.

    Args:
        keys: (N,) uint64 strand-canonical sequence keys (`clean.sequence_keys`), so a sequence
            and its reverse complement collide.
        splits: (N,) split codes (0 train, 1 val, 2 test).
        ids: optional (N,) record ids (or a dict index -> id), to name offenders in the error.

    Returns:
        {"shared_sequences": int, "pairs": {"train-val": n, "train-test": n, "val-test": n}}.

    Raises:
        LeakageError: when any sequence is shared and `raise_error` is set.
    """
    keys = np.asarray(keys, dtype=np.uint64)
    splits = np.asarray(splits)
    sets = [np.unique(keys[splits == code]) for code in range(3)]
    pairs = {}
    shared = np.array([], dtype=np.uint64)
    for a in range(3):
        for b in range(a + 1, 3):
            common = np.intersect1d(sets[a], sets[b], assume_unique=True)
            pairs[f"{SPLITS[a]}-{SPLITS[b]}"] = int(len(common))
            shared = np.union1d(shared, common)
    result = {"shared_sequences": int(len(shared)), "pairs": pairs}
    if len(shared) and raise_error:
        example = ""
        if ids is not None:
            hit = [i for i in np.flatnonzero(np.isin(keys, shared[:1]))[:4] if i in ids or not isinstance(ids, dict)]
            example = " e.g. " + ", ".join(f"{ids[i]} ({SPLITS[splits[i]]})" for i in hit)
        detail = ", ".join(f"{k}: {v}" for k, v in pairs.items() if v)
        raise LeakageError(
            f"leakage: {len(shared)} sequence(s) (or their reverse complements) are in more than one "
            f"split ({detail}){';' + example if example else ''}. Keep de-duplication on (--dedup --rc-dedup) or split by "
            "chromosome so no sequence is shared between train, val and test.")
    return result


def dataset_qc(task: str, class_names: list[str], label_names: list[str], y: np.ndarray, classes: np.ndarray,
               splits: np.ndarray, gc: np.ndarray, lengths: np.ndarray, leakage: dict) -> tuple[dict, dict]:
    """The `splits` and `qc` entries of `dataset.json` for the kept records.

    Parameters
    ----------
    task : binary, multiclass, multilabel or regression.
    class_names : names of the class indices in `classes` ("all" for multilabel / regression).
    label_names : the label columns (columns of `y`).
    y : (N, T) float labels.
    classes, splits : (N,) class index and split code (0 train, 1 val, 2 test).
    gc, lengths : (N,) GC fraction and length in bp.
    leakage : the result of `check_leakage`.

    Returns
    -------
    ({split: {"n", "per_class"}}, {"class_balance", "gc", "length", "leakage"[, "gc_difference"]}):
    per_class holds counts per class (classification), positives per label (multilabel) or the
    mean of each label (regression).
    """
    classification = task in ("binary", "multiclass")
    split_info, balance = {}, {}
    for code, name in enumerate(SPLITS):
        sel = splits == code
        entry: dict = {"n": int(sel.sum())}
        if classification:
            entry["per_class"] = {c: int((classes[sel] == i).sum()) for i, c in enumerate(class_names)}
            balance[name] = class_balance(entry["per_class"])
        elif task == "multilabel":
            entry["per_class"] = {c: int(np.nansum(y[sel, j])) for j, c in enumerate(label_names)}
        else:
            entry["per_class"] = {c: float(np.nanmean(y[sel, j])) if sel.any() else None
                                  for j, c in enumerate(label_names)}
        split_info[name] = entry
    if classification:
        balance["all"] = class_balance({c: int((classes == i).sum()) for i, c in enumerate(class_names)})
    qc_info = {
        "class_balance": balance,
        "gc": distributions(gc, classes, splits, class_names),
        "length": distributions(lengths, classes, splits, class_names),
        "leakage": leakage,
    }
    if task == "binary":
        qc_info["gc_difference"] = gc_difference(np.asarray(gc, dtype=np.float64), classes, splits)
    return split_info, qc_info


def write_figures(figures_dir: str | Path, info, gc: np.ndarray, lengths: np.ndarray, classes: np.ndarray,
                  splits: np.ndarray, class_names: list[str]) -> list[Path]:
    """The QC figures of a dataset: `qc_class_balance.png` (classification, multilabel),
    `qc_gc.png`, `qc_length.png` in `figures_dir`.

    Parameters
    ----------
    figures_dir : where the PNGs go (created).
    info : the `DatasetInfo` (split sizes per class, balance tests).
    gc, lengths, classes, splits : (N,) per kept sequence: GC fraction, length in bp, class index
        (0 for multilabel / regression), split code (0 train, 1 val, 2 test).
    class_names : names of the class indices.

    Returns
    -------
    The paths written.
    """
    out = Path(figures_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    per_split = {s: info.splits[s].get("per_class", {}) for s in SPLITS if s in info.splits}
    if info.task in ("binary", "multiclass", "multilabel") and all(per_split.values()):
        multilabel = info.task == "multilabel"
        balance = info.qc.get("class_balance", {})
        effects = {s: (f"h={b['cohens_h']:+.2f}" if "cohens_h" in b else f"w={b['cohens_w']:.2f}"
                       if "cohens_w" in b else "") for s, b in ((s, balance.get(s, {})) for s in per_split)}
        sizes = {s: info.splits[s]["n"] if multilabel else sum(per_split[s].values()) for s in per_split}
        title = ("Positives per label and split (% = positive rate)" if multilabel
                 else "Class balance per split (effect size: Cohen's h / w)")
        paths.append(plot_class_balance(per_split, sizes, out / "qc_class_balance.png", effects=effects,
                                        title=title, prefix="label" if multilabel else "class"))
    gc = np.asarray(gc, dtype=np.float64)
    finite = gc[np.isfinite(gc)]
    lo, hi = (np.quantile(finite, [0.001, 0.999]) if len(finite) else (0.0, 1.0))
    lo, hi = max(0.0, lo - 0.03), min(1.0, hi + 0.03)
    paths.append(plot_distribution(gc, classes, splits, class_names, out / "qc_gc.png", "GC fraction",
                                   "GC content per class and split", bins=np.linspace(lo, hi, 41)))
    lengths = np.asarray(lengths)
    if len(lengths) and lengths.min() == lengths.max():
        counts = {SPLITS[c]: {name: int(((splits == c) & (classes == j)).sum()) for j, name in enumerate(class_names)}
                  for c in range(3) if (splits == c).any()}
        paths.append(plot_length_counts(counts, int(lengths[0]), out / "qc_length.png"))
    else:
        paths.append(plot_distribution(lengths, classes, splits, class_names, out / "qc_length.png",
                                       "length (bp)", "Sequence length per class and split"))
    return paths
