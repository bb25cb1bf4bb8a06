"""Statistics of variant scores against measured effects and against other scorers
(Morenu n.d.; Manzo et al. n.d.); the verb that writes them is `regdna.variants.benchmark_variants`.

Every statistic returns plain numbers plus a `note` that says why a value is NaN or why it is not
evidence, instead of printing "Spearman: nan" (the mistake in Morenu n.d.):

- correlations: `regdna.evaluate.correlation` (Pearson / Spearman, NaN with a reason).
- `up_down_rates`: Manzo et al. n.d., Fig. 2: among variants measured up (> 0), the fraction
  predicted up (> 0); among measured down (< 0), the fraction predicted down (< 0); and the two
  error rates. A prediction of exactly 0 counts as neither up nor down.
- `stratify_by_pvalue`: the above within measured p < 0.5, 0.1, 5e-5, 1e-5
  (Manzo et al. n.d., Fig. 4).
- `ld_block_topk`: Manzo et al. n.d., Fig. 3: the fraction of LD blocks whose causal variant ranks
  within the top 1/2/3 of its block by |score|. Ties are ranked pessimistically (a causal variant
  tied with others takes the worst of the tied ranks) so a constant scorer cannot score 100%; the
  random-ranking expectation, mean over blocks of min(k, n_b) / n_b, is reported beside it.
- `correlations_with_ci`: Pearson and Spearman with percentile bootstrap 95% intervals
  (`regdna.evaluate.bootstrap`; Spearman on average ranks of ties).
- `steiger_test`: Steiger (1980), eq. 15: are two dependent correlations that share the measured
  variable (model A vs measured, model B vs measured, on the same variants) different? Fisher z
  of each, their covariance from the pooled mean r and the correlation of the two models'
  scores.
- `paired_bootstrap`: the Spearman difference of two models on the same resampled variants, its
  percentile interval and a two-sided bootstrap p-value.
- `stratify_by_column`: the summary within quantile bins of any per-variant column (e.g. the
  spread of an ensemble's scores: confident predictions should agree better).
- `topk_agreement`: overlap of the top-K variants of two scorers (by |score|), the overlap
  expected by chance K*K/N, fold enrichment and the hypergeometric P(X >= overlap). A top-K set is
  undefined when scores tie across the K-th place (Morenu n.d. compared two constant score vectors:
  both argsorts returned the same order and "10 of 10" looked like a 7-fold enrichment); then the
  overlap is NaN with a note. When K >= N the overlap is K by construction: fold 1, p = 1.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from regdna.evaluate.bootstrap import bootstrap_ci
from regdna.evaluate.correlation import coefficient, correlation, finite_pairs

PVALUE_THRESHOLDS = (0.5, 0.1, 5e-5, 1e-5)


def up_down_rates(pred, measured) -> dict:
    """Manzo et al. n.d., Fig. 2 rates: up_rate = P(pred > 0 | measured > 0),
    down_rate = P(pred < 0 | measured < 0), and the errors P(pred < 0 | measured > 0),
    P(pred > 0 | measured < 0)."""
    x, y = finite_pairs(pred, measured)
    up, down = y > 0, y < 0
    n_up, n_down = int(up.sum()), int(down.sum())

    def frac(mask, cond):
        return float(np.mean(cond[mask])) if mask.any() else np.nan

    return {"up_rate": frac(up, x > 0), "down_rate": frac(down, x < 0),
            "up_predicted_down": frac(up, x < 0), "down_predicted_up": frac(down, x > 0),
            "n_up": n_up, "n_down": n_down}


def summary_row(pred, measured) -> dict:
    """Pearson, Spearman and up/down rates in one flat dict."""
    pear, spear = correlation(pred, measured, "pearson"), correlation(pred, measured, "spearman")
    row = {"n": pear["n"], "pearson": pear["r"], "pearson_p": pear["p"], "spearman": spear["r"],
           "spearman_p": spear["p"], "note": pear["note"] or spear["note"]}
    row.update(up_down_rates(pred, measured))
    return row


def stratify_by_pvalue(pred, measured, pvalues, thresholds=PVALUE_THRESHOLDS) -> pd.DataFrame:
    """One summary row for all variants and one per measured p-value threshold (p < t)."""
    pred, measured, pvalues = (np.asarray(v, dtype=np.float64) for v in (pred, measured, pvalues))
    rows = [{"subset": "all", **summary_row(pred, measured)}]
    for t in thresholds:
        keep = pvalues < t
        rows.append({"subset": f"p < {t:g}", **summary_row(pred[keep], measured[keep])})
    return pd.DataFrame(rows)


def correlations_with_ci(pred, measured, n_boot: int = 1000, level: float = 0.95,
                         seed: int = 0) -> dict:
    """`summary_row` plus percentile bootstrap intervals of Pearson and Spearman
    (pearson_low, pearson_high, spearman_low, spearman_high; NaN when undefined)."""
    row = summary_row(pred, measured)
    for method in ("pearson", "spearman"):
        low, high = (np.nan, np.nan) if np.isnan(row[method]) or n_boot < 1 else bootstrap_ci(
            lambda y, p, m=method: coefficient(p, y, m), measured, pred, n_boot=n_boot,
            level=level, seed=seed)
        row[f"{method}_low"], row[f"{method}_high"] = low, high
    return row


def steiger_z(r_a: float, r_b: float, r_ab: float, n: int) -> tuple[float, float]:
    """Steiger (1980), eq. 15: Z and two-sided p of H0 r_a == r_b, where r_a = corr(A, Y) and
    r_b = corr(B, Y) are measured on the same n cases and r_ab = corr(A, B).

    Z = (z_a - z_b) * sqrt(n - 3) / sqrt(2 - 2 c), z = atanh(r) (Fisher), c = psi / (1 - rbar^2)^2,
    psi = r_ab (1 - 2 rbar^2) - rbar^2 (1 - 2 rbar^2 - r_ab^2) / 2, rbar = (r_a + r_b) / 2.
    NaN when n < 4 or a correlation is undefined or +-1.
    """
    values = np.array([r_a, r_b, r_ab], dtype=np.float64)
    if n < 4 or not np.all(np.isfinite(values)) or np.any(np.abs(values[:2]) >= 1):
        return np.nan, np.nan
    rbar2 = ((r_a + r_b) / 2) ** 2
    psi = r_ab * (1 - 2 * rbar2) - 0.5 * rbar2 * (1 - 2 * rbar2 - r_ab ** 2)
    c = psi / (1 - rbar2) ** 2
    if c >= 1:      # the two scores are the same variable: no difference to test
        return (0.0, 1.0) if r_a == r_b else (np.nan, np.nan)
    z = (np.arctanh(r_a) - np.arctanh(r_b)) * np.sqrt(n - 3) / np.sqrt(2 - 2 * c)
    return float(z), float(2 * stats.norm.sf(abs(z)))


def steiger_test(a, b, measured) -> dict:
    """`steiger_z` on the variants where both scores and the measured effect are finite:
    n, pearson_a, pearson_b, r_ab (Pearson of the two scores), steiger_z, steiger_p."""
    a, b, y = (np.asarray(v, dtype=np.float64) for v in (a, b, measured))
    keep = np.isfinite(a) & np.isfinite(b) & np.isfinite(y)
    a, b, y = a[keep], b[keep], y[keep]
    r_a, r_b, r_ab = coefficient(a, y), coefficient(b, y), coefficient(a, b)
    z, p = steiger_z(r_a, r_b, r_ab, len(y))
    return {"n": int(len(y)), "pearson_a": r_a, "pearson_b": r_b, "r_ab": r_ab, "steiger_z": z,
            "steiger_p": p}


def paired_bootstrap(a, b, measured, method: str = "spearman", n_boot: int = 1000,
                     level: float = 0.95, seed: int = 0) -> dict:
    """Difference r(A, Y) - r(B, Y) on the variants where all three are finite, with the same
    resampled variants for both models in each of `n_boot` resamples.

    p is two-sided: 2 * (1 + the smaller of #{d* <= 0} and #{d* >= 0}) / (n_boot + 1), at most
    1 (a resample where a correlation is undefined is dropped). Returns r_a, r_b, diff,
    diff_low, diff_high, bootstrap_p, n_boot (the defined resamples).
    """
    a, b, y = (np.asarray(v, dtype=np.float64) for v in (a, b, measured))
    keep = np.isfinite(a) & np.isfinite(b) & np.isfinite(y)
    a, b, y = a[keep], b[keep], y[keep]
    r_a, r_b = coefficient(a, y, method), coefficient(b, y, method)
    out = {"r_a": r_a, "r_b": r_b, "diff": r_a - r_b, "diff_low": np.nan,
           "diff_high": np.nan, "bootstrap_p": np.nan, "n_boot": 0}
    if not np.isfinite(out["diff"]) or n_boot < 1:
        return out
    rng = np.random.default_rng(seed)
    diffs = np.empty(n_boot)
    for i in range(n_boot):
        take = rng.integers(0, len(y), len(y))
        diffs[i] = coefficient(a[take], y[take], method) - coefficient(b[take], y[take], method)
    diffs = diffs[np.isfinite(diffs)]
    if len(diffs) == 0:
        return out
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    extreme = min(int(np.sum(diffs <= 0)), int(np.sum(diffs >= 0)))
    out.update(diff_low=float(low), diff_high=float(high), n_boot=int(len(diffs)),
               bootstrap_p=float(min(1.0, 2 * (1 + extreme) / (len(diffs) + 1))))
    return out


def stratify_by_column(pred, measured, values, n_strata: int = 3) -> pd.DataFrame:
    """One summary row per quantile bin of `values` (stratum 1 = the lowest values), over the
    variants where `values` is finite. Bins are `pandas.qcut` bins; tied values never straddle
    two bins, so heavy ties give fewer bins. Columns: stratum, low, high (the range of `values`
    in the bin), then `summary_row`'s."""
    pred, measured, values = (np.asarray(v, dtype=np.float64) for v in (pred, measured, values))
    keep = np.isfinite(values)
    if n_strata < 1:
        raise ValueError("n_strata must be >= 1")
    rows = []
    if keep.sum():
        bins = pd.qcut(values[keep], n_strata, labels=False, duplicates="drop")
        for k in range(int(np.nanmax(bins)) + 1):
            mask = np.zeros(len(values), dtype=bool)
            mask[np.flatnonzero(keep)[bins == k]] = True
            rows.append({"stratum": k + 1, "low": float(values[mask].min()),
                         "high": float(values[mask].max()), **summary_row(pred[mask], measured[mask])})
    return pd.DataFrame(rows)


def ld_block_topk(scores, blocks, is_causal, ks=(1, 2, 3)) -> dict:
    """Fraction of LD blocks whose causal variant ranks top-k by |score| (pessimistic ties).

    Returns {'n_blocks', 'top1', 'top2', 'top3', 'random_top1', ..., 'skipped_blocks', 'note'}.
    Blocks without a causal variant, or whose causal score is missing, are skipped (counted);
    with several causal variants the best-ranked one counts.
    """
    frame = pd.DataFrame({"score": np.abs(np.asarray(scores, dtype=np.float64)), "block": blocks,
                          "causal": np.asarray(is_causal).astype(bool)})
    hits = {k: 0 for k in ks}
    expected = {k: 0.0 for k in ks}
    used = skipped = 0
    for _, group in frame.groupby("block", sort=False):
        group = group[np.isfinite(group["score"])]
        causal = group[group["causal"]]
        if causal.empty:
            skipped += 1
            continue
        # pessimistic rank: how many variants of the block score >= the causal one
        rank = min(int((group["score"] >= s).sum()) for s in causal["score"])
        used += 1
        for k in ks:
            hits[k] += rank <= k
            expected[k] += min(k, len(group)) / len(group)
    out = {"n_blocks": used, "skipped_blocks": skipped,
           "note": "" if used else "no block with a scored causal variant"}
    for k in ks:
        out[f"top{k}"] = hits[k] / used if used else np.nan
        out[f"random_top{k}"] = expected[k] / used if used else np.nan
    return out


def hypergeom_overlap(overlap: int, n: int, k_a: int, k_b: int) -> dict:
    """Expected overlap, fold enrichment and P(X >= overlap), X ~ Hypergeom(N=n, K=k_a, draws=k_b)."""
    expected = k_a * k_b / n
    p = float(stats.hypergeom.sf(overlap - 1, n, k_a, k_b))
    return {"expected": expected, "fold": overlap / expected if expected else np.nan, "p": p}


def _top_k(values: np.ndarray, k: int) -> tuple[np.ndarray | None, str]:
    """Indices of the k largest values, or None with a note if ties cross the k-th place."""
    order = np.argsort(-values, kind="stable")
    if k < len(values) and values[order[k - 1]] == values[order[k]]:
        tied = int(np.sum(values == values[order[k - 1]]))
        return None, f"{tied} scores tie at the {k}-th place: the top-{k} set is undefined"
    return order[:k], ""


def topk_agreement(a, b, ks=(10, 25, 50), absolute: bool = True) -> pd.DataFrame:
    """Top-K agreement of two aligned score vectors (NaN pairs dropped).

    Columns: K, N, overlap, expected, fold, p (hypergeometric, one-sided), enriched, note.
    """
    x, y = finite_pairs(a, b)
    if absolute:
        x, y = np.abs(x), np.abs(y)
    n = len(x)
    rows = []
    for k in ks:
        row = {"K": k, "N": n, "overlap": np.nan, "expected": np.nan, "fold": np.nan, "p": np.nan,
               "enriched": False, "note": ""}
        if n == 0:
            row["note"] = "no variant scored by both"
        elif k >= n:
            row.update(overlap=n, expected=float(n), fold=1.0, p=1.0,
                       note=f"K >= N ({n}): every variant is in both top-K sets; no enrichment possible")
        else:
            top_a, note_a = _top_k(x, k)
            top_b, note_b = _top_k(y, k)
            if top_a is None or top_b is None:
                row["note"] = "; ".join(f"{who}: {note}" for who, note in
                                        (("scores", note_a), ("other", note_b)) if note)
            else:
                overlap = len(np.intersect1d(top_a, top_b))
                row.update(overlap=overlap, **hypergeom_overlap(overlap, n, k, k))
                row["enriched"] = bool(row["p"] < 0.05 and overlap > row["expected"])
        rows.append(row)
    return pd.DataFrame(rows)


def agreement(scores: pd.DataFrame, other: pd.DataFrame, column: str, other_column: str,
              key: str = "id", ks=(10, 25, 50)) -> dict:
    """Spearman and top-K agreement between two scorers' tables joined on `key`."""
    joined = scores[[key, column]].merge(other[[key, other_column]], on=key, how="inner",
                                         suffixes=("", "_other"))
    right = other_column if other_column != column else f"{column}_other"
    spear = correlation(joined[column], joined[right], "spearman")
    return {"n_joined": len(joined), "spearman": spear,
            "topk": topk_agreement(joined[column], joined[right], ks)}


def direction_check(frame: pd.DataFrame, score: str = "log2_ratio") -> dict:
    """Bundled-example check: fraction of `expected == 'down'` variants with score < 0 (and 'up'
    with > 0), median |score| of motif-breaking vs neutral variants."""
    scored = frame[np.isfinite(frame[score].astype(float))]
    directed = scored[scored["expected"].isin(["down", "up"])]
    sign = np.where(directed["expected"] == "down", -1.0, 1.0)
    ok = np.sign(directed[score].astype(float).to_numpy()) == sign
    kind = scored["kind"] if "kind" in scored else scored["expected"]
    breaking = scored.loc[kind != "neutral", score].abs()
    neutral = scored.loc[kind == "neutral", score].abs()
    return {"n_directed": int(len(directed)),
            "fraction_expected_direction": float(ok.mean()) if len(directed) else np.nan,
            "median_abs_breaking": float(breaking.median()) if len(breaking) else np.nan,
            "median_abs_neutral": float(neutral.median()) if len(neutral) else np.nan,
            "n_neutral": int(len(neutral))}
