"""`regdna benchmark-variants`: predicted variant scores against measured effects and against
another scorer (Morenu n.d.; Manzo et al. n.d.), written as metrics.json, tables and figures.

The statistics are `regdna.variants.benchmark` (and `regdna.evaluate.correlation`); the figures
`regdna.plot.variants`. Columns are found by name when not given: the score (`log2_ratio_robust`,
`log2_ratio`, ...), the measured effect (`measured`, `effect`, `log2fc`, ...), a measured p-value,
a dataset / cell-line column; `block` + `is_causal` add the LD-block recovery, `expected` (+
`kind`) the direction check of the bundled example. `stratify_by` reports the correlations per
quantile bin of any per-variant column, e.g. the spread of an ensemble's scores
(`log2_ratio_std`): low spread = a confident prediction (Lakshminarayanan et al. 2017).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from regdna.errors import RegdnaError
from regdna.io.tables import read_table as read_table_chunks
from regdna.plot import variants as plots
from regdna.utils.jsonio import write_json
from regdna.utils.output import check_out_dir, output_dir
from regdna.variants.benchmark import (agreement, direction_check, ld_block_topk, stratify_by_column,
                                       stratify_by_pvalue, summary_row)

MEASURED_COLUMNS = ("measured", "effect", "log2fc", "log2_fc", "log2_fold_change", "logfc", "beta",
                    "effect_size", "activity_log2fc")
PVALUE_COLUMNS = ("pvalue", "p_value", "pval", "p", "measured_p")
GROUP_COLUMNS = ("dataset", "cell_line", "cell", "experiment")
SCORE_COLUMNS = ("log2_ratio_robust", "log2_ratio", "delta", "logit_diff", "mlm_llr", "clm_llr",
                 "cosine_distance")


def whole_table(path) -> pd.DataFrame:
    """A whole .parquet, .csv or .tsv table (read in chunks by `regdna.io.tables`)."""
    return pd.concat(list(read_table_chunks(path)), ignore_index=True).drop(columns="row")


def pick_column(frame: pd.DataFrame, wanted: str | None, candidates, what: str, path) -> str | None:
    if wanted:
        if wanted not in frame:
            raise RegdnaError(f"{path}: no column '{wanted}' ({what}); columns: {', '.join(frame.columns)}.")
        return wanted
    lower = {c.lower(): c for c in frame.columns}
    return next((lower[c] for c in candidates if c in lower), None)


def score_column_of(frame: pd.DataFrame, wanted: str | None, path, option: str = "--score-column"
                    ) -> str:
    """The score column of a `vep` table: `wanted`, else the first of SCORE_COLUMNS present,
    else (a profile run's per-track scores) the first `<score>.mean`."""
    column = pick_column(frame, wanted, SCORE_COLUMNS, "score", path)
    if column is None:
        column = pick_column(frame, None, tuple(f"{c}.mean" for c in SCORE_COLUMNS), "score", path)
    if column is None:
        raise RegdnaError(f"{path}: no score column found ({', '.join(SCORE_COLUMNS)}); pass "
                          f"{option}.")
    return column


def scored_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of a `vep` table that were scored (an empty `reason`)."""
    return frame[frame["reason"].fillna("") == ""] if "reason" in frame else frame


def join_measured(scores: pd.DataFrame, measured: pd.DataFrame) -> pd.DataFrame:
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


def run_benchmark_variants(scores, measured, out, *, score_column: str | None = None,
                           measured_column: str | None = None, pvalue_column: str | None = None,
                           group_column: str | None = None, other=None,
                           other_column: str | None = None, ks=(10, 25, 50),
                           stratify_by: str | None = None, n_strata: int = 3,
                           overwrite: bool = False) -> dict:
    """Compare predicted variant scores with measured effects; write metrics, tables and figures.

    Parameters
    ----------
    scores : path or DataFrame
        `regdna vep` output (.tsv / .parquet), one row per variant; rows with a non-empty
        `reason` are left out. The score is `score_column`, else the first of SCORE_COLUMNS
        present, else (a profile run's per-track scores) its `<score>.mean` over the tracks.
    measured : path or DataFrame
        Table with an id (or chrom/pos/ref/alt) and a measured effect column (any unit, e.g.
        log2 fold change); optional p-value, dataset / cell-line, `block` + `is_causal` (LD
        blocks), or `expected` (up/down/none) + `kind` columns (bundled example).
    out : path
        Output directory, written atomically under the output policy (`regdna.utils.output`):
        checked before any table is read; an existing directory that is not an earlier
        `benchmark-variants` output is refused unless `overwrite`; an `out` that is or contains
        an input table is always refused.
    other : path or DataFrame, optional
        Another scorer's table (e.g. DeepSEA) for Spearman and top-K agreement.
    ks : tuple of int
        K of the top-K agreement.
    stratify_by : column of the scores (or measured) table, optional
        Correlations per quantile bin of this column (`n_strata` bins, stratum 1 = the lowest
        values), e.g. `log2_ratio_std` of an ensemble run: `strata` in metrics.json,
        strata.tsv and strata.png.

    Returns
    -------
    dict
        The metrics also written to `out/metrics.json`: score_column, n_joined, and as the
        inputs allow overall, per_group, pvalue_strata, strata, ld_blocks, direction, agreement.
    """
    inputs = [t for t in (scores, measured, other) if not isinstance(t, pd.DataFrame)]
    check_out_dir(out, "benchmark-variants", inputs=inputs, overwrite=overwrite)
    score_frame = scores if isinstance(scores, pd.DataFrame) else whole_table(scores)
    meas_frame = measured if isinstance(measured, pd.DataFrame) else whole_table(measured)
    score_col = score_column_of(score_frame, score_column, scores)
    score_frame = scored_rows(score_frame)
    joined = join_measured(score_frame, meas_frame.drop(columns=[c for c in (score_col,) if c in meas_frame]))
    meas_col = pick_column(joined, measured_column, MEASURED_COLUMNS, "measured effect", measured)
    p_col = pick_column(joined, pvalue_column, PVALUE_COLUMNS, "p-value", measured)
    group_col = pick_column(joined, group_column, GROUP_COLUMNS, "dataset", measured)
    if stratify_by is not None and stratify_by not in joined:
        raise RegdnaError(f"--stratify-by {stratify_by}: no such column in {scores} or {measured}; "
                          f"columns: {', '.join(map(str, joined.columns))}.")
    if n_strata < 1:
        raise RegdnaError(f"--strata {n_strata}: give a number of bins >= 1.")
    metrics: dict = {"score_column": score_col, "n_joined": len(joined)}
    with output_dir(out, "benchmark-variants", inputs=inputs, overwrite=overwrite) as tmp:
        tmp = Path(tmp)
        if meas_col is not None:
            _measured_effects(joined, score_col, meas_col, p_col, group_col, metrics, tmp)
            if stratify_by is not None:
                _strata(joined, score_col, meas_col, stratify_by, n_strata, metrics, tmp)
        if "block" in joined and "is_causal" in joined:
            causal = joined["is_causal"].astype(str).str.lower().isin(["1", "true", "yes"])
            metrics["ld_blocks"] = ld_block_topk(joined[score_col], joined["block"], causal)
            plots.ld_topk_bar(metrics["ld_blocks"], tmp / "ld_block_topk.png")
        if "expected" in joined:
            metrics["direction"] = direction_check(joined, score_col)
            if "kind" in joined:
                plots.direction_bars(joined, score_col, tmp / "direction.png")
        if other is not None:
            other_frame = other if isinstance(other, pd.DataFrame) else whole_table(other)
            other_col = pick_column(other_frame, other_column, SCORE_COLUMNS + ("score",), "other score", other)
            if other_col is None:
                raise RegdnaError(f"{other}: no score column found; pass --other-column.")
            result = agreement(joined, other_frame, score_col, other_col, ks=ks)
            result["topk"].to_csv(tmp / "agreement_topk.tsv", sep="\t", index=False)
            metrics["agreement"] = {"n_joined": result["n_joined"], "spearman": result["spearman"],
                                    "topk": result["topk"].to_dict(orient="records")}
        if len(metrics) == 2:
            raise RegdnaError(f"{measured}: nothing to benchmark: give a measured effect column "
                              f"({', '.join(MEASURED_COLUMNS[:4])}...), `block` + `is_causal`, "
                              "`expected`, or --other.")
        write_json(tmp / "metrics.json", metrics)
    return metrics


def _measured_effects(joined: pd.DataFrame, score_col: str, meas_col: str, p_col: str | None,
                      group_col: str | None, metrics: dict, tmp: Path) -> None:
    """Correlations and up/down rates (overall, per group, per p-value stratum): tables, figures
    and `metrics` entries."""
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
    plots.scatter_density(pred, meas, tmp / "scatter_density.png", pearson=metrics["overall"]["pearson"],
                          spearman=metrics["overall"]["spearman"], xlabel=score_col, ylabel=meas_col)
    plots.updown_heatmap(table, tmp / "updown_heatmap.png")
    if p_col is not None:
        strata = stratify_by_pvalue(pred, meas, joined[p_col].astype(float))
        strata.to_csv(tmp / "pvalue_strata.tsv", sep="\t", index=False)
        metrics["pvalue_strata"] = strata.to_dict(orient="records")
        plots.pvalue_strata(strata, tmp / "pvalue_strata.png")



def _strata(joined: pd.DataFrame, score_col: str, meas_col: str, column: str, n_strata: int,
            metrics: dict, tmp: Path) -> None:
    """Correlations per quantile bin of `column`: strata.tsv, strata.png, `metrics['strata']`."""
    table = stratify_by_column(joined[score_col], joined[meas_col], joined[column].astype(float),
                               n_strata)
    table.to_csv(tmp / "strata.tsv", sep="\t", index=False)
    metrics["strata"] = {"column": column, "n_strata": n_strata,
                         "rows": table.to_dict(orient="records")}
    if len(table):
        plots.strata_correlation(table, column, tmp / "strata.png")
