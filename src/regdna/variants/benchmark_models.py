"""`regdna benchmark-models`: many variant scorers on one variant set against measured effects, in
the layout of the large variant-effect benchmarks (Manzo et al. n.d. compare 22 models against
MPRA, raQTL and eQTL data): one row per model and dataset, paired tests between models, cost.

Each scorer is `NAME=SPEC` (a run dir, a published model `<family>:<path>`, or `hf:<dir or hub
id>` for zero-shot scores of a pretrained language model) scored by `regdna vep` into
`OUT/scores/NAME.tsv`, or `NAME=FILE`, a precomputed score table. Statistics
(`regdna.variants.benchmark`):

- `models.tsv`: per model x dataset (the measured table's dataset / cell-line column, plus `all`):
  n, Pearson and Spearman (average ranks of ties) with percentile bootstrap 95% intervals,
  up/down rates (Manzo et al. n.d., Fig. 2), causal top-1/2/3 in LD blocks (Fig. 3, with
  `block` + `is_causal` columns), with `expected` (+ `kind`, the bundled example's truth) the
  fraction of variants moved in the expected direction, seconds per 1,000 variants and peak
  memory;
  `pvalue_strata.tsv`: the summary per measured p-value threshold (Fig. 4).
- `pairs.tsv`: every pair of models on the variants both scored: Steiger's (1980) Z for two
  dependent Pearson correlations sharing the measured effect, and the paired bootstrap of the
  Spearman difference (the same resampled variants for both models).
- figures: correlations with intervals, pairwise p-values, cost vs accuracy; `metrics.json`.

Cost (what is measured): each scorer runs `run_vep` in a child process of its own
(`python -m regdna.variants.benchmark_models`), so its numbers are not mixed with the parent's or
another scorer's. `seconds_per_1000` is the wall time of `run_vep` in the child (loading the
weights included; interpreter start-up and library imports excluded) per 1,000 variants of the
file; `peak_memory_mb` is the child's own peak resident set size (VmHWM of /proc/self/status:
interpreter, libraries, model and batches; `ru_maxrss` of `os.wait4` where there is no /proc,
which also counts pages shared with this process before the child's exec); `gpu_peak_mb` is `torch.cuda.max_memory_allocated`
in the child (NaN when CUDA is not used). A precomputed table has no cost (NaN).

Resume: `OUT/scores/` is kept between runs; a scorer whose score table is unchanged and whose
fingerprint (variants, genome, model files, window length) matches is reused with the cost
measured when it was scored; an interrupted `vep` resumes from its parts.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from regdna.errors import RegdnaError
from regdna.models.published import run_source
from regdna.plot import variants as plots
from regdna.utils.fingerprint import differences, file_identity, fingerprint
from regdna.utils.jsonio import write_json
from regdna.utils.output import check_out_dir, empty_dir, read_marker, write_marker
from regdna.variants.benchmark import (correlations_with_ci, direction_check, ld_block_topk,
                                       paired_bootstrap, steiger_test, stratify_by_pvalue)
from regdna.variants.benchmark_variants import (GROUP_COLUMNS, MEASURED_COLUMNS, PVALUE_COLUMNS,
                                                join_measured, pick_column, score_column_of,
                                                scored_rows, whole_table)

VERB = "benchmark-models"
SCORES = "scores"
STAGING = f".{VERB}.new"
ZERO_SHOT = "hf:"
COST_NOTE = ("seconds_per_1000: wall time of run_vep in a child process (weights loading "
             "included, library imports excluded) per 1,000 variants; peak_memory_mb: the "
             "child's own peak resident set size (VmHWM; ru_maxrss of os.wait4 where /proc "
             "is missing); gpu_peak_mb: "
             "torch.cuda.max_memory_allocated in the child; NaN: precomputed scores or not "
             "measured")
NO_COST = {"seconds_per_1000": np.nan, "peak_memory_mb": np.nan, "gpu_peak_mb": np.nan,
           "wall_s": np.nan, "n_variants": None}


@dataclass
class Scorer:
    """One model of the benchmark: a spec scored by vep, or a precomputed table."""

    name: str
    spec: str | None = None
    table: Path | None = None
    column: str | None = None
    targets: str | None = None          # published models: the outputs scored (vep --target)

    @property
    def zero_shot(self) -> bool:
        return bool(self.spec) and self.spec.startswith(ZERO_SHOT)

    def local_path(self) -> Path | None:
        """The file or directory the scorer reads (an input --out must not contain)."""
        if self.table is not None:
            return self.table
        if self.zero_shot:
            path = Path(self.spec[len(ZERO_SHOT):]).expanduser()
            return path if path.exists() else None      # a hub id names no local file
        path = run_source(self.spec)                     # a run dir or <family>:<path>
        return path if path.exists() else None


def parse_named(items, what: str) -> list[tuple[str, str]]:
    """`NAME=VALUE` strings -> [(name, value)]; a name names a file, so it is checked to be safe."""
    pairs = []
    for item in items or ():
        name, sep, value = str(item).partition("=")
        if not sep or not name or not value:
            raise RegdnaError(f"{what} '{item}': write NAME=VALUE, e.g. {what} basset=runs/basset.")
        if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
            raise RegdnaError(f"{what} '{item}': a name of letters, digits, '.', '_' or '-' only "
                              "(it names the score file).")
        pairs.append((name, value))
    return pairs


def scorers_from(scorer_specs=(), score_tables=(), score_columns=(), targets=()) -> list[Scorer]:
    """The scorers of `--scorer NAME=SPEC`, `--scores NAME=FILE`, `--score NAME=COLUMN` and
    `--target NAME=OUTPUTS`."""
    scorers = [Scorer(n, spec=v) for n, v in parse_named(scorer_specs, "--scorer")]
    for name, value in parse_named(score_tables, "--scores"):
        if not Path(value).is_file():
            raise RegdnaError(f"--scores {name}={value}: no such file.")
        scorers.append(Scorer(name, table=Path(value)))
    names = [s.name for s in scorers]
    if not names:
        raise RegdnaError("nothing to benchmark: give --scorer NAME=RUN (or <family>:<path>, "
                          "hf:<dir>) or --scores NAME=FILE, once per model.")
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise RegdnaError(f"model name '{duplicated[0]}' given twice; give every model its own name.")
    by_name = {s.name: s for s in scorers}
    for name, column in parse_named(score_columns, "--score"):
        if name not in by_name:
            raise RegdnaError(f"--score {name}={column}: no model named '{name}' "
                              f"(models: {', '.join(names)}).")
        by_name[name].column = column
    for name, outputs in parse_named(targets, "--target"):
        if name not in by_name or by_name[name].spec is None or by_name[name].zero_shot:
            raise RegdnaError(f"--target {name}={outputs}: no published model (--scorer "
                              f"{name}=<family>:<path>) named '{name}'.")
        by_name[name].targets = outputs
    for scorer in scorers:
        spec = scorer.spec
        if spec and not scorer.zero_shot and ":" not in spec and not Path(spec).is_dir():
            raise RegdnaError(f"--scorer {scorer.name}={spec}: not a run dir, a published model "
                              "<family>:<path> or hf:<dir>.")
    return scorers


# -- scoring -----------------------------------------------------------------------------------
def _identity(scorer: Scorer) -> dict:
    """What decides a scorer's numbers besides the variants: vep's identity of its model (run
    dir, published weights, language model) and the outputs it scores."""
    from regdna.variants.vep import model_identity

    if scorer.zero_shot:
        return model_identity(None, scorer.spec)
    return {**model_identity(scorer.spec, None), "targets": scorer.targets}


def _vep_kwargs(scorer: Scorer, variants, genome, out: Path, length, device, batch_size,
                chunk_size, overwrite, trust_remote_code: bool = False) -> dict:
    kwargs = {"variants": str(variants), "out": str(out), "genome": str(genome) if genome else None,
              "device": device, "batch_size": batch_size, "chunk_size": chunk_size,
              "overwrite": overwrite}
    if scorer.zero_shot:
        kwargs.update(zero_shot=True, model=scorer.spec, length=length,
                      trust_remote_code=trust_remote_code)
    else:
        kwargs["run"] = scorer.spec
        if scorer.targets is not None:
            kwargs["targets"] = scorer.targets
    return kwargs


def score_scorer(scorer: Scorer, scores_dir: Path, variants, genome=None, *, length=None,
                 device=None, batch_size: int | None = None, chunk_size: int = 4096,
                 overwrite: bool = False, trust_remote_code: bool = False,
                 notice=print) -> tuple[Path, dict]:
    """Score `variants` with one scorer into `scores_dir/<name>.tsv` (reused when unchanged);
    return (score table, cost)."""
    if scorer.table is not None:
        return scorer.table, dict(NO_COST)
    out = scores_dir / f"{scorer.name}.tsv"
    record = scores_dir / f"{scorer.name}.json"
    current = fingerprint(variants=file_identity(variants), genome=file_identity(genome),
                          model=_identity(scorer), length=length if scorer.zero_shot else None)
    try:
        stored = json.loads(record.read_text())
    except (OSError, ValueError):
        stored = None
    if out.is_file() and stored and not differences(stored.get("fingerprint"), current) \
            and stored.get("scores") == file_identity(out):
        notice(f"{scorer.name}: scores of an earlier run reused ({out})")
        return out, stored["cost"]
    kwargs = _vep_kwargs(scorer, variants, genome, out, length, device, batch_size, chunk_size,
                         overwrite, trust_remote_code)
    cost = measured_child(kwargs, f"--scorer {scorer.name}={scorer.spec}")
    write_json(record, {"fingerprint": current, "scores": file_identity(out), "cost": cost})
    return out, cost


def measured_child(vep_kwargs: dict, what: str) -> dict:
    """Run `run_vep(**vep_kwargs)` in a child process; return its cost (see the module doc)."""
    env = dict(os.environ)
    source = str(Path(__file__).resolve().parents[2])   # the directory that holds regdna/
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory(prefix="regdna-benchmark-") as tmp:
        cost_path, err_path = Path(tmp) / "cost.json", Path(tmp) / "stderr.txt"
        command = [sys.executable, "-m", __name__, json.dumps(vep_kwargs), str(cost_path)]
        with open(err_path, "w") as err:
            proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env)
            try:
                if hasattr(os, "wait4"):
                    _, status, usage = os.wait4(proc.pid, 0)
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    unit = 2 ** 20 if sys.platform == "darwin" else 1024   # bytes / KiB
                    peak_mb = usage.ru_maxrss / unit
                else:
                    proc.wait()
                    peak_mb = np.nan
            except BaseException:
                proc.kill()
                proc.wait()
                raise
        if proc.returncode != 0:
            lines = [ln for ln in err_path.read_text().splitlines() if ln.strip()]
            raise RegdnaError(f"{what}: vep failed: {lines[-1] if lines else f'exit {proc.returncode}'}")
        cost = json.loads(cost_path.read_text())
    n = cost["n_variants"] or 0
    cost["seconds_per_1000"] = cost["wall_s"] / n * 1000 if n else np.nan
    own = cost.pop("peak_rss_mb", None)
    cost["peak_memory_mb"] = own if own is not None else peak_mb
    return cost


def _child(argv: list[str]) -> int:
    """The child process of `measured_child`: run_vep, then its wall time and GPU peak. The
    libraries are imported before the clock starts: it times loading the weights and scoring."""
    import importlib

    from regdna.variants.vep import run_vep

    kwargs, cost_path = json.loads(argv[0]), argv[1]
    importlib.import_module("regdna.runs.predictor")       # torch, and lightning for checkpoints
    if kwargs.get("zero_shot"):
        importlib.import_module("regdna.models.hf")        # the language-model code
    start = time.perf_counter()
    try:
        summary = run_vep(**kwargs, progress=False)
    except RegdnaError as err:
        print(err, file=sys.stderr)
        return 2
    wall = time.perf_counter() - start
    gpu = np.nan
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        gpu = torch.cuda.max_memory_allocated() / 2 ** 20
    Path(cost_path).write_text(json.dumps({"wall_s": wall, "n_variants": summary["n_variants"],
                                           "n_scored": summary["n_scored"], "gpu_peak_mb": gpu,
                                           "peak_rss_mb": _own_peak_rss_mb()}))
    return 0


def _own_peak_rss_mb() -> float | None:
    """This process's own peak resident set (VmHWM of /proc/self/status, Linux), or None.
    `ru_maxrss` of a child also counts the pages it shared with its parent between fork and
    exec (a parent holding 800 MB gives a child running `pass` 814 MB), so it is the fallback."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024    # kB
    except OSError:
        pass
    return None


# -- the output dir ----------------------------------------------------------------------------
def _prepare_out(out, inputs, overwrite: bool) -> Path:
    """Check --out; keep an earlier run's scores/, mark the directory ours before scoring."""
    path = check_out_dir(out, VERB, inputs=inputs, overwrite=overwrite)
    if overwrite and path.is_dir():   # replaced: all of it, but the scores of an earlier run
        ours = (read_marker(path) or {}).get("verb") == VERB
        empty_dir(path, keep=path / SCORES if ours else None)
    (path / SCORES).mkdir(parents=True, exist_ok=True)
    old = (read_marker(path) or {}).get("entries", [])
    write_marker(path, VERB, sorted({*old, SCORES, STAGING}))
    return path


def _publish(path: Path, staged: Path) -> None:
    """Move the staged outputs into `path`; drop an earlier run's outputs not written again."""
    old = set((read_marker(path) or {}).get("entries", [])) - {SCORES, STAGING}
    names = [e.name for e in staged.iterdir()]
    for name in names:
        os.replace(staged / name, path / name)
    staged.rmdir()
    for name in old - set(names):
        target = path / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    write_marker(path, VERB, [SCORES, *names])


# -- statistics --------------------------------------------------------------------------------
def aligned_scores(scorer: Scorer, table: Path, measured: pd.DataFrame) -> tuple[np.ndarray, str]:
    """The scorer's score per row of `measured` (which has `_row`), NaN where not scored."""
    frame = scored_rows(whole_table(table))
    where = f"{table} ({scorer.name})"
    column = score_column_of(frame, scorer.column, where, option=f"--score {scorer.name}=COLUMN")
    keys = [c for c in ("id", "chrom", "pos", "ref", "alt") if c in frame]
    joined = join_measured(frame[keys + [column]].rename(columns={column: "_score"}),
                           measured.drop(columns=[c for c in ("_score",) if c in measured]))
    values = pd.to_numeric(joined["_score"], errors="coerce").groupby(joined["_row"]).first()
    return values.reindex(measured["_row"]).to_numpy(np.float64), column


def model_rows(scores: dict, measured: np.ndarray, groups: dict, blocks=None, causal=None,
               costs=None, expected: pd.DataFrame | None = None, n_boot: int = 1000,
               seed: int = 0) -> pd.DataFrame:
    """models.tsv: one row per model x group (`groups`: name -> row mask). `expected`: the
    `expected` (+ `kind`) columns of the measured table for the direction check of the bundled
    example (`regdna.variants.benchmark.direction_check`)."""
    rows = []
    for name, values in scores.items():
        for group, mask in groups.items():
            row = {"model": name, "dataset": group,
                   **correlations_with_ci(values[mask], measured[mask], n_boot=n_boot, seed=seed)}
            if expected is not None:
                row.update(direction_check(expected[mask].assign(_score=values[mask]), "_score"))
            if blocks is not None:
                ld = ld_block_topk(values[mask], blocks[mask], causal[mask])
                row.update({k: ld[k] for k in ("n_blocks", "top1", "top2", "top3", "random_top1")})
            cost = (costs or {}).get(name, NO_COST)
            for key in ("seconds_per_1000", "peak_memory_mb", "gpu_peak_mb"):
                row[key] = np.nan if cost.get(key) is None else float(cost[key])   # JSON null
            rows.append(row)
    return pd.DataFrame(rows)


def pair_rows(scores: dict, measured: np.ndarray, groups: dict, n_boot: int = 1000,
              seed: int = 0) -> pd.DataFrame:
    """pairs.tsv: every pair of models per group, on the variants both scored."""
    rows = []
    for group, mask in groups.items():
        for a, b in combinations(scores, 2):
            steiger = steiger_test(scores[a][mask], scores[b][mask], measured[mask])
            boot = paired_bootstrap(scores[a][mask], scores[b][mask], measured[mask], "spearman",
                                    n_boot=n_boot, seed=seed)
            rows.append({"dataset": group, "model_a": a, "model_b": b, **steiger,
                         "spearman_a": boot["r_a"], "spearman_b": boot["r_b"],
                         "spearman_diff": boot["diff"], "diff_low": boot["diff_low"],
                         "diff_high": boot["diff_high"], "bootstrap_p": boot["bootstrap_p"]})
    return pd.DataFrame(rows)


def _pair_matrices(pairs: pd.DataFrame, models: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(bootstrap p, Steiger p) as symmetric models x models matrices of the `all` rows."""
    index = {m: i for i, m in enumerate(models)}
    boot = np.full((len(models), len(models)), np.nan)
    steiger = boot.copy()
    for _, row in pairs[pairs["dataset"] == "all"].iterrows():
        i, j = index[row["model_a"]], index[row["model_b"]]
        boot[i, j] = boot[j, i] = row["bootstrap_p"]
        steiger[i, j] = steiger[j, i] = row["steiger_p"]
    return boot, steiger


def run_benchmark_models(variants, measured, out, *, scorers=(), scores=(), score_columns=(),
                         genome=None, length: int | None = None, device: str | None = None,
                         batch_size: int | None = None, chunk_size: int = 4096,
                         measured_column: str | None = None, pvalue_column: str | None = None,
                         group_column: str | None = None, n_boot: int = 1000, seed: int = 0,
                         targets=(), trust_remote_code: bool = False, overwrite: bool = False,
                         notice=print) -> dict:
    """Score one variant set with many models and benchmark them against measured effects.

    Parameters
    ----------
    variants : VCF or table of variants (as `regdna vep` reads them).
    measured : table with an id (or chrom/pos/ref/alt) and a measured effect column; optional
        p-value, dataset / cell-line, `block` + `is_causal` columns (`regdna benchmark-variants`);
        or `expected` (up/down/none, + `kind`) alone, as the bundled example's variants.tsv.
    out : output directory (see the module doc); an earlier output of this verb is updated,
        its `scores/` kept for reuse; anything else is refused unless `overwrite`.
    scorers : "NAME=SPEC" strings: a run dir, `<family>:<path>` or `hf:<dir or hub id>`.
    scores : "NAME=FILE" strings: precomputed score tables (cost NaN).
    score_columns : "NAME=COLUMN" strings: the score column of a model (default: as
        `benchmark-variants` picks it: log2_ratio_robust, log2_ratio, ..., mlm_llr, clm_llr,
        cosine_distance).
    genome : genome FASTA (for variants given by position).
    length : window length of the zero-shot (`hf:`) scorers (default: 512, as vep).
    device, batch_size, chunk_size : passed to `run_vep`.
    measured_column, pvalue_column, group_column : columns of `measured` (default: found by name).
    n_boot : bootstrap resamples of the intervals and of the paired test.
    seed : seed of the resampling.
    targets : "NAME=OUTPUTS" strings: the outputs of published model NAME that are scored (as
        `vep --target`; default: all of them, each a column of the score table).
    trust_remote_code : let `hf:` scorers run their hub code (HyenaDNA).

    Returns
    -------
    dict
        The metrics also written to `out/metrics.json`: models, score_columns, cost, n_measured,
        measured_column, group_column, models_table (records of models.tsv), pairs, and
        pvalue_strata when a p-value column exists.
    """
    models = scorers_from(scorers, scores, score_columns, targets)
    inputs = [variants, measured, genome, *(s.local_path() for s in models)]
    path = _prepare_out(out, inputs, overwrite)
    meas_frame = whole_table(measured)
    meas_col = pick_column(meas_frame, measured_column, MEASURED_COLUMNS, "measured effect", measured)
    if meas_col is None and "expected" not in meas_frame:
        raise RegdnaError(f"{measured}: no measured effect column ({', '.join(MEASURED_COLUMNS[:4])}"
                          "...) and no `expected` column (up/down/none); pass --measured-column.")
    p_col = pick_column(meas_frame, pvalue_column, PVALUE_COLUMNS, "p-value", measured)
    group_col = pick_column(meas_frame, group_column, GROUP_COLUMNS, "dataset", measured)
    meas_frame = meas_frame.assign(_row=np.arange(len(meas_frame)))

    tables, costs = {}, {}
    for scorer in models:
        tables[scorer.name], costs[scorer.name] = score_scorer(
            scorer, path / SCORES, variants, genome, length=length, device=device,
            batch_size=batch_size, chunk_size=chunk_size, overwrite=overwrite,
            trust_remote_code=trust_remote_code, notice=notice)
    values, columns = {}, {}
    for scorer in models:
        values[scorer.name], columns[scorer.name] = aligned_scores(scorer, tables[scorer.name],
                                                                   meas_frame)
    y = pd.to_numeric(meas_frame[meas_col], errors="coerce").to_numpy(np.float64) \
        if meas_col is not None else np.full(len(meas_frame), np.nan)   # direction check only
    expected = meas_frame[[c for c in ("expected", "kind") if c in meas_frame]] \
        if "expected" in meas_frame else None
    groups = {"all": np.ones(len(y), dtype=bool)}
    if group_col is not None:
        labels = meas_frame[group_col].astype(str).to_numpy()
        groups.update({g: labels == g for g in sorted(set(labels))})
    blocks = causal = None
    if "block" in meas_frame and "is_causal" in meas_frame:
        blocks = meas_frame["block"].to_numpy()
        causal = meas_frame["is_causal"].astype(str).str.lower().isin(["1", "true", "yes"]).to_numpy()

    table = model_rows(values, y, groups, blocks, causal, costs, expected, n_boot=n_boot, seed=seed)
    pairs = pair_rows(values, y, groups, n_boot=n_boot, seed=seed)
    metrics = {"models": [s.name for s in models], "score_columns": columns, "cost": costs,
               "cost_note": COST_NOTE, "n_measured": len(meas_frame), "measured_column": meas_col,
               "group_column": group_col, "n_boot": n_boot,
               "models_table": table.to_dict(orient="records"),
               "pairs": pairs.to_dict(orient="records")}
    staged = path / STAGING
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir()
    table.to_csv(staged / "models.tsv", sep="\t", index=False)
    pairs.to_csv(staged / "pairs.tsv", sep="\t", index=False)
    if p_col is not None:
        p = pd.to_numeric(meas_frame[p_col], errors="coerce").to_numpy(np.float64)
        strata = pd.concat([stratify_by_pvalue(v, y, p).assign(model=name)
                            for name, v in values.items()], ignore_index=True)
        strata.to_csv(staged / "pvalue_strata.tsv", sep="\t", index=False)
        metrics["pvalue_strata"] = strata.to_dict(orient="records")
    plots.correlation_intervals(table, staged / "correlations.png")
    overall = table[table["dataset"] == "all"].reset_index(drop=True)
    if np.isfinite(overall["seconds_per_1000"].astype(float)).any():   # some cost measured
        plots.cost_accuracy(overall, staged / "cost_accuracy.png")
    if len(models) > 1:
        boot, steiger = _pair_matrices(pairs, metrics["models"])
        plots.pairwise_pvalues(metrics["models"], boot, steiger, staged / "pairs_pvalues.png")
    write_json(staged / "metrics.json", metrics)
    _publish(path, staged)
    return metrics


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
