"""Benchmarks of variant scores against measured effects and against other scorers
(Morenu n.d.; Manzo et al. n.d.).

Every statistic returns plain numbers plus a `note` that says why a value is NaN or why it is not
evidence, instead of printing "Spearman: nan" (the mistake in Morenu n.d.):

- `correlation`: Pearson or Spearman (average ranks for ties, as scipy) with its p-value; NaN
  with a note when fewer than 3 pairs or when one side is constant (a correlation is undefined
  when a variance is zero).
- `up_down_rates`: Manzo et al. n.d., Fig. 2: among variants measured up (> 0), the fraction
  predicted up (> 0); among measured down (< 0), the fraction predicted down (< 0); and the two
  error rates. A prediction of exactly 0 counts as neither up nor down.
- `stratify_by_pvalue`: the above within measured p < 0.5, 0.1, 5e-5, 1e-5
  (Manzo et al. n.d., Fig. 4).
- `ld_block_topk`: Manzo et al. n.d., Fig. 3: the fraction of LD blocks whose causal variant ranks
  within the top 1/2/3 of its block by |score|. Ties are ranked pessimistically (a causal variant
  tied with others takes the worst of the tied ranks) so a constant scorer cannot score 100%; the
  random-ranking expectation, mean over blocks of min(k, n_b) / n_b, is reported beside it.
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

from regdna.errors import RegdnaError

PVALUE_THRESHOLDS = (0.5, 0.1, 5e-5, 1e-5)


def _clean(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def correlation(pred, measured, method: str = "pearson") -> dict:
    """{'r', 'p', 'n', 'note'} for finite pairs; NaN r with a note when undefined."""
    x, y = _clean(pred, measured)
    n = len(x)
    if n < 3:
        return {"r": np.nan, "p": np.nan, "n": n, "note": f"only {n} finite pairs (need >= 3)"}
    for name, v in (("predicted scores", x), ("measured effects", y)):
        if np.all(v == v[0]):
            return {"r": np.nan, "p": np.nan, "n": n,
                    "note": f"{name} are constant ({v[0]:g} for all {n}): correlation undefined"}
    if method == "pearson":
        r, p = stats.pearsonr(x, y)
    elif method == "spearman":
        r, p = stats.spearmanr(x, y)
    else:
        raise RegdnaError(f"correlation method '{method}': use pearson or spearman.")
    return {"r": float(r), "p": float(p), "n": n, "note": ""}


def up_down_rates(pred, measured) -> dict:
    """Manzo et al. n.d., Fig. 2 rates: up_rate = P(pred > 0 | measured > 0),
    down_rate = P(pred < 0 | measured < 0), and the errors P(pred < 0 | measured > 0),
    P(pred > 0 | measured < 0)."""
    x, y = _clean(pred, measured)
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
    x, y = _clean(a, b)
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


# -- the `benchmark-variants` driver ------------------------------------------------------------
_MEASURED = ("measured", "effect", "log2fc", "log2_fc", "log2_fold_change", "logfc", "beta",
             "effect_size", "activity_log2fc")
_PVALUE = ("pvalue", "p_value", "pval", "p", "measured_p")
_GROUP = ("dataset", "cell_line", "cell", "experiment")
_SCORE = ("log2_ratio_robust", "log2_ratio", "delta", "logit_diff", "mlm_llr", "cosine_distance")


def read_table(path) -> pd.DataFrame:
    """A whole .parquet, .csv or .tsv table (read with `regdna.io.tables`)."""
    from regdna.io.tables import read_table as read_chunks

    return pd.concat(list(read_chunks(path)), ignore_index=True).drop(columns="row")


def _pick(frame: pd.DataFrame, wanted: str | None, candidates, what: str, path) -> str | None:
    if wanted:
        if wanted not in frame:
            raise RegdnaError(f"{path}: no column '{wanted}' ({what}); columns: {', '.join(frame.columns)}.")
        return wanted
    lower = {c.lower(): c for c in frame.columns}
    return next((lower[c] for c in candidates if c in lower), None)


def _join(scores: pd.DataFrame, measured: pd.DataFrame) -> pd.DataFrame:
    """Join on `id` when both have it and it matches, else on chrom/pos/ref/alt."""
    if "id" in scores and "id" in measured:
        joined = scores.merge(measured, on="id", how="inner", suffixes=("", "_measured"))
        if len(joined):
            return joined
    keys = [k for k in ("chrom", "pos", "ref", "alt") if k in scores and k in measured]
    if len(keys) == 4:
        left, right = scores.copy(), measured.copy()
        for frame in (left, right):
            frame["chrom"] = frame["chrom"].astype(str).str.replace("^chr", "", regex=True)
            frame["pos"] = frame["pos"].astype(int)
        return left.merge(right, on=keys, how="inner", suffixes=("", "_measured"))
    raise RegdnaError("scores and measured tables share no `id` values and lack chrom/pos/ref/alt "
                      "columns to join on; give both an id column.")


def benchmark_variants(scores, measured, out, *, score_column: str | None = None,
                       measured_column: str | None = None, pvalue_column: str | None = None,
                       group_column: str | None = None, other=None,
                       other_column: str | None = None, ks=(10, 25, 50), overwrite: bool = False
                       ) -> dict:
    """Compare predicted variant scores with measured effects; write metrics, tables and figures.

    Args:
        scores: `regdna vep` output (.tsv / .parquet) or DataFrame.
        measured: table with an id (or chrom/pos/ref/alt) and a measured effect column; optional
            p-value, dataset / cell-line, `block` + `is_causal` (LD blocks), or `expected`
            (up/down/none) + `kind` columns (bundled example).
        out: output directory, written atomically under the output policy
            (`regdna.utils.output`): checked before any table is read; an existing directory that
            is not an earlier `benchmark-variants` output is refused unless `overwrite`; an `out`
            that is or contains an input table is always refused.
        other: another scorer's table (e.g. DeepSEA) for Spearman and top-K agreement.

    Returns:
        the metrics dict also written to `out/metrics.json`.
    """
    import json
    from pathlib import Path

    from regdna.plot import variants as plots
    from regdna.utils.output import check_out_dir, output_dir

    inputs = [t for t in (scores, measured, other) if not isinstance(t, pd.DataFrame)]
    check_out_dir(out, "benchmark-variants", inputs=inputs, overwrite=overwrite)
    score_frame = scores if isinstance(scores, pd.DataFrame) else read_table(scores)
    meas_frame = measured if isinstance(measured, pd.DataFrame) else read_table(measured)
    score_col = _pick(score_frame, score_column, _SCORE, "score", scores)
    if score_col is None:
        raise RegdnaError(f"{scores}: no score column found ({', '.join(_SCORE)}); pass --score-column.")
    if "reason" in score_frame:
        score_frame = score_frame[score_frame["reason"].fillna("") == ""]
    joined = _join(score_frame, meas_frame.drop(columns=[c for c in (score_col,) if c in meas_frame]))
    meas_col = _pick(joined, measured_column, _MEASURED, "measured effect", measured)
    p_col = _pick(joined, pvalue_column, _PVALUE, "p-value", measured)
    group_col = _pick(joined, group_column, _GROUP, "dataset", measured)
    metrics: dict = {"score_column": score_col, "n_joined": len(joined)}
    with output_dir(out, "benchmark-variants", inputs=inputs, overwrite=overwrite) as tmp:
        tmp = Path(tmp)
        if meas_col is not None:
            pred, meas = joined[score_col].astype(float), joined[meas_col].astype(float)
            metrics["overall"] = summary_row(pred, meas)
            rows = {"all": metrics["overall"]}
            if group_col is not None:
                for name, group in joined.groupby(group_col):
                    rows[str(name)] = summary_row(group[score_col], group[meas_col])
            table = pd.DataFrame(rows).T
            table.index.name = "subset"
            table.to_csv(tmp / "summary.tsv", sep="\t")
            metrics["per_group"] = {k: v for k, v in rows.items() if k != "all"}
            plots.scatter_density(pred, meas, tmp / "scatter_density.png", xlabel=score_col,
                                  ylabel=meas_col)
            plots.updown_heatmap(table, tmp / "updown_heatmap.png")
            if p_col is not None:
                strata = stratify_by_pvalue(pred, meas, joined[p_col].astype(float))
                strata.to_csv(tmp / "pvalue_strata.tsv", sep="\t", index=False)
                metrics["pvalue_strata"] = strata.to_dict(orient="records")
                plots.pvalue_strata(strata, tmp / "pvalue_strata.png")
        if "block" in joined and "is_causal" in joined:
            causal = joined["is_causal"].astype(str).str.lower().isin(["1", "true", "yes"])
            metrics["ld_blocks"] = ld_block_topk(joined[score_col], joined["block"], causal)
            plots.ld_topk_bar(metrics["ld_blocks"], tmp / "ld_block_topk.png")
        if "expected" in joined:
            metrics["direction"] = direction_check(joined, score_col)
            if "kind" in joined:
                plots.direction_bars(joined, score_col, tmp / "direction.png")
        if other is not None:
            other_frame = other if isinstance(other, pd.DataFrame) else read_table(other)
            other_col = _pick(other_frame, other_column, _SCORE + ("score",), "other score", other)
            if other_col is None:
                raise RegdnaError(f"{other}: no score column found; pass --other-column.")
            result = agreement(joined, other_frame, score_col, other_col, ks=ks)
            result["topk"].to_csv(tmp / "agreement_topk.tsv", sep="\t", index=False)
            metrics["agreement"] = {"n_joined": result["n_joined"], "spearman": result["spearman"],
                                    "topk": result["topk"].to_dict(orient="records")}
        if len(metrics) == 2:
            raise RegdnaError(f"{measured}: nothing to benchmark: give a measured effect column "
                              f"({', '.join(_MEASURED[:4])}...), `block` + `is_causal`, `expected`, "
                              "or --other.")
        (tmp / "metrics.json").write_text(json.dumps(_jsonable(metrics), indent=2) + "\n")
    return metrics


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
