"""`regdna benchmark-models`: many scorers on one variant set. Score tables built here (numbers
known), and one end-to-end run that scores with two run dirs in child processes (cost measured)
and reuses their scores on a re-run."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import random_seq, run_cli
from scipy import stats

from regdna.errors import RegdnaError
from regdna.variants.benchmark_models import run_benchmark_models

L = 100   # input length of the tiny runs


def _tables(tmp_path: Path, n: int = 120, seed: int = 0):
    """measured.tsv (two datasets, p-values, LD blocks of 4 with one causal) and three score
    tables: `good` (small noise), `bad` (large noise), `ties` (the good scores rounded)."""
    rng = np.random.default_rng(seed)
    ids = [f"v{i}" for i in range(n)]
    measured = 0.5 * rng.normal(size=n)
    measured[::4] = 4 * np.sign(rng.normal(size=n // 4))    # the causal variant of each block
    truth = pd.DataFrame({"id": ids, "measured": measured, "pvalue": rng.uniform(0, 0.2, n),
                          "dataset": np.where(np.arange(n) % 2, "K562", "HepG2"),
                          "block": np.arange(n) // 4, "is_causal": np.arange(n) % 4 == 0})
    truth.to_csv(tmp_path / "measured.tsv", sep="\t", index=False)
    good = measured + 0.3 * rng.normal(size=n)
    scores = {"good": good, "bad": measured + 3 * rng.normal(size=n), "ties": np.round(good)}
    paths = {}
    for name, values in scores.items():
        frame = pd.DataFrame({"id": ids, "log2_ratio": values, "delta": -values, "reason": ""})
        frame.loc[0, "reason"] = "ref mismatch" if name == "bad" else ""   # bad skipped one
        paths[name] = tmp_path / f"{name}.tsv"
        frame.to_csv(paths[name], sep="\t", index=False)
    return tmp_path / "measured.tsv", paths, truth, scores


def test_models_and_pairs_from_score_tables(tmp_path):
    measured, paths, truth, scores = _tables(tmp_path)
    notes = []
    metrics = run_benchmark_models(tmp_path / "variants.tsv", measured, tmp_path / "out",
                                   scores=[f"{k}={v}" for k, v in paths.items()],
                                   n_boot=200, notice=notes.append)
    out = tmp_path / "out"
    assert metrics["n_measured"] == 120 and metrics["group_column"] == "dataset" and not notes
    table = pd.read_csv(out / "models.tsv", sep="\t")
    assert table[["model", "dataset"]].values.tolist() == [
        [m, d] for m in ("good", "bad", "ties") for d in ("all", "HepG2", "K562")]
    rows = table.set_index(["model", "dataset"])
    y = truth["measured"].to_numpy()
    k562 = (truth["dataset"] == "K562").to_numpy()
    good = scores["good"]
    assert rows.loc[("good", "K562"), "n"] == 60
    assert rows.loc[("good", "K562"), "pearson"] == pytest.approx(stats.pearsonr(good[k562], y[k562])[0])
    assert rows.loc[("ties", "all"), "spearman"] == pytest.approx(stats.spearmanr(scores["ties"], y)[0])
    assert rows.loc[("bad", "all"), "n"] == 119                    # the skipped row is left out
    assert (rows["pearson_low"] <= rows["pearson"]).all() and (rows["pearson"] <= rows["pearson_high"]).all()
    assert rows.loc[("good", "all"), "top1"] == 1.0                 # the causal |effect| is 4
    assert rows.loc[("good", "all"), "random_top1"] == pytest.approx(0.25)
    assert rows["seconds_per_1000"].isna().all()                    # precomputed: cost unknown
    pairs = pd.read_csv(out / "pairs.tsv", sep="\t").set_index(["dataset", "model_a", "model_b"])
    assert len(pairs) == 3 * 3
    gb = pairs.loc[("all", "good", "bad")]
    assert gb["n"] == 119 and gb["steiger_z"] > 0 and gb["steiger_p"] < 1e-3
    assert gb["bootstrap_p"] < 0.05 and gb["diff_low"] > 0
    assert gb["spearman_diff"] == pytest.approx(stats.spearmanr(good[1:], y[1:])[0]
                                                - stats.spearmanr(scores["bad"][1:], y[1:])[0])
    strata = pd.read_csv(out / "pvalue_strata.tsv", sep="\t")
    assert set(strata["model"]) == {"good", "bad", "ties"}
    assert strata.set_index(["model", "subset"]).loc[("good", "p < 0.1"), "n"] == \
        int((truth["pvalue"] < 0.1).sum())
    for figure in ("correlations.png", "pairs_pvalues.png"):
        assert (out / figure).stat().st_size > 0
    assert not (out / "cost_accuracy.png").exists()                 # no cost measured
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["models"] == ["good", "bad", "ties"] and saved["score_columns"]["good"] == "log2_ratio"
    # --score picks another column: delta = -log2_ratio flips the sign of every correlation
    again = run_benchmark_models(tmp_path / "variants.tsv", measured, out,
                                 scores=[f"good={paths['good']}"], score_columns=["good=delta"],
                                 n_boot=0)
    assert again["models_table"][0]["pearson"] == pytest.approx(-rows.loc[("good", "all"), "pearson"])
    assert not (out / "pairs_pvalues.png").exists()                 # one model: no pairs figure


def test_bad_scorer_arguments_are_one_line_errors(tmp_path):
    measured, paths, _, _ = _tables(tmp_path, n=12)
    call = dict(variants=tmp_path / "v.tsv", measured=measured)
    with pytest.raises(RegdnaError, match="given twice"):
        run_benchmark_models(**call, out=tmp_path / "o", scores=[f"a={paths['good']}", f"a={paths['bad']}"])
    with pytest.raises(RegdnaError, match="no model named 'b'"):
        run_benchmark_models(**call, out=tmp_path / "o", scores=[f"a={paths['good']}"],
                             score_columns=["b=delta"])
    with pytest.raises(RegdnaError, match="NAME=VALUE"):
        run_benchmark_models(**call, out=tmp_path / "o", scorers=["runs/basset"])
    with pytest.raises(RegdnaError, match="not a run dir"):
        run_benchmark_models(**call, out=tmp_path / "o", scorers=[f"x={tmp_path / 'nothing'}"])
    with pytest.raises(RegdnaError, match="no column 'nope'"):
        run_benchmark_models(**call, out=tmp_path / "o", scores=[f"a={paths['good']}"],
                             score_columns=["a=nope"])
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "mine.txt").write_text("x")
    with pytest.raises(RegdnaError, match="--overwrite"):
        run_benchmark_models(**call, out=tmp_path / "foreign", scores=[f"a={paths['good']}"])


# -- end to end: two run dirs scored by vep in child processes ----------------------------------------
def _run_dir(path: Path, seed: int) -> Path:
    """A run dir as `regdna train` writes it (config.yaml + checkpoints/best.ckpt) of a small
    basset with random weights (seeded: two runs give two different scorers)."""
    from regdna.data.dataset import DatasetInfo
    from regdna.models.registry import build_model
    from regdna.runs.config import DatasetRef, ModelConfig, RunConfig, save_config

    (path / "checkpoints").mkdir(parents=True)
    options = {"filters": 0.05, "hidden": 8, "bins": 1}
    save_config(RunConfig(model=ModelConfig(spec="basset", options=options),
                          dataset=DatasetRef(task="binary", labels=["y"], length=L)),
                path / "config.yaml")
    torch.manual_seed(seed)
    model = build_model("basset", DatasetInfo(task="binary", labels=["y"], length=L), **options)
    torch.save({"state_dict": {f"model.{k}": v for k, v in model.eval().state_dict().items()}},
               path / "checkpoints" / "best.ckpt")
    return path


def test_two_runs_a_table_and_reuse(tmp_path, monkeypatch):
    """Two run dirs scored (in this process: the child processes and their cost are the
    bundled-example test's), a precomputed table, reuse of unchanged scores, rescoring of a
    changed variant file."""
    import regdna.variants.benchmark_models as bm
    from regdna.variants.vep import run_vep

    scored = []

    def in_process(kwargs, what):
        scored.append(what)
        summary = run_vep(**kwargs, progress=False)
        return dict(bm.NO_COST, n_variants=summary["n_variants"])

    monkeypatch.setattr(bm, "measured_child", in_process)
    seq = random_seq(1200, 3)
    (tmp_path / "g.fa").write_text(">chr1\n" + seq + "\n")
    positions = list(range(120, 1080, 16))                       # 60 SNVs
    rows = [f"chr1\t{p}\tv{p}\t{seq[p - 1]}\t{'G' if seq[p - 1] != 'G' else 'T'}\t.\t.\t.\n"
            for p in positions]
    (tmp_path / "v.vcf").write_text("##fileformat=VCFv4.2\n##contig=<ID=chr1>\n#CHROM\tPOS\tID\t"
                                    "REF\tALT\tQUAL\tFILTER\tINFO\n" + "".join(rows))
    run_a, run_b = _run_dir(tmp_path / "a", 0), _run_dir(tmp_path / "b", 1)
    # measured = run A's own score (computed directly) + noise: A must win
    run_vep(tmp_path / "v.vcf", tmp_path / "direct_a.tsv", run=run_a, genome=tmp_path / "g.fa",
            progress=False)
    direct = pd.read_csv(tmp_path / "direct_a.tsv", sep="\t")
    rng = np.random.default_rng(0)
    spread = direct["log2_ratio"].std()
    pd.DataFrame({"id": direct["id"], "measured": direct["log2_ratio"] + 0.2 * spread * rng.normal(size=60)}
                 ).to_csv(tmp_path / "m.tsv", sep="\t", index=False)
    pd.DataFrame({"id": direct["id"], "log2_ratio": rng.normal(size=60)}).to_csv(
        tmp_path / "random.tsv", sep="\t", index=False)
    args = dict(genome=tmp_path / "g.fa", scorers=[f"A={run_a}", f"B={run_b}"],
                scores=[f"random={tmp_path / 'random.tsv'}"], n_boot=100)
    notes = []
    run_benchmark_models(tmp_path / "v.vcf", tmp_path / "m.tsv", tmp_path / "out",
                         notice=notes.append, **args)
    out = tmp_path / "out"
    scored_a = pd.read_csv(out / "scores" / "A.tsv", sep="\t")
    assert np.allclose(scored_a["log2_ratio"], direct["log2_ratio"], rtol=1e-5, atol=1e-7)
    assert (out / "scores" / "B.tsv").is_file() and not notes and len(scored) == 2
    rows = pd.read_csv(out / "models.tsv", sep="\t").set_index("model")
    assert rows.loc["A", "pearson"] > 0.9 and np.isnan(rows.loc["random", "seconds_per_1000"])
    pairs = pd.read_csv(out / "pairs.tsv", sep="\t").set_index(["model_a", "model_b"])
    assert pairs.loc[("A", "random"), "bootstrap_p"] < 0.05
    # a re-run reuses both score files (untouched)
    stamp = (out / "scores" / "A.tsv").stat().st_mtime_ns
    run_benchmark_models(tmp_path / "v.vcf", tmp_path / "m.tsv", out, notice=notes.append, **args)
    assert len(notes) == 2 and all("reused" in n for n in notes) and len(scored) == 2
    assert (out / "scores" / "A.tsv").stat().st_mtime_ns == stamp
    # another variant file: both scored again
    (tmp_path / "v.vcf").write_text((tmp_path / "v.vcf").read_text().rsplit("\n", 2)[0] + "\n")
    third = run_benchmark_models(tmp_path / "v.vcf", tmp_path / "m.tsv", out,
                                 notice=notes.append, **args)
    assert len(scored) == 4 and len(notes) == 2 and third["cost"]["A"]["n_variants"] == 59
    assert len(pd.read_csv(out / "scores" / "A.tsv", sep="\t")) == 59


def test_a_zero_shot_scorer_runs_vep_zero_shot_and_is_scored_by_its_llr(tmp_path):
    from regdna.variants.benchmark_models import Scorer, _vep_kwargs, scorers_from
    from regdna.variants.benchmark_variants import score_column_of

    lm = scorers_from([f"lm=hf:{tmp_path}"])[0]
    kwargs = _vep_kwargs(lm, "v.vcf", "g.fa", tmp_path / "lm.tsv", 300, None, 8, 16, False)
    assert kwargs["zero_shot"] and kwargs["model"] == f"hf:{tmp_path}" and kwargs["length"] == 300
    assert "run" not in kwargs and lm.local_path() == tmp_path
    assert _vep_kwargs(Scorer("deepsea", spec="deepsea:/models/deepsea.pth"), "v.vcf", None,
                       tmp_path / "d.tsv", 300, None, 8, 16, False)["run"] == "deepsea:/models/deepsea.pth"
    # the zero-shot columns: the LLR of a masked LM, else of a causal LM, before the distance
    both = pd.DataFrame({"cosine_distance": [0.1], "mlm_llr": [1.0]})
    assert score_column_of(both, None, "t") == "mlm_llr"
    assert score_column_of(both.rename(columns={"mlm_llr": "clm_llr"}), None, "t") == "clm_llr"


def test_command_line_with_repeated_options(tmp_path, capsys):
    measured, paths, _, _ = _tables(tmp_path, n=40)
    args = ["benchmark-models", "--variants", tmp_path / "v.tsv", "--measured", measured,
            "--out", tmp_path / "o", "--n-boot", "20", "--score", "bad=delta"]
    for name in ("good", "bad"):
        args += ["--scores", f"{name}={paths[name]}"]
    assert run_cli(*args) == 0
    printed = capsys.readouterr().out
    assert "benchmark of 2 models on 40 measured variants" in printed
    assert "good vs bad: Steiger p=" in printed
    saved = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert saved["score_columns"] == {"good": "log2_ratio", "bad": "delta"}
    # a foreign file in the output is refused, --overwrite replaces all but scores/
    (tmp_path / "o" / "notes.txt").write_text("mine")
    assert run_cli(*args) == 2 and "--overwrite" in capsys.readouterr().err
    assert run_cli(*args, "--overwrite") == 0
    assert not (tmp_path / "o" / "notes.txt").exists() and (tmp_path / "o" / "scores").is_dir()


def test_the_examples_truth_gives_the_direction_check_per_model(tmp_path):
    # the bundled example's variants.tsv: expected down (motif-breaking) or none (neutral)
    ids = [f"v{i}" for i in range(6)]
    pd.DataFrame({"id": ids, "kind": ["motif_breaking"] * 4 + ["neutral"] * 2,
                  "expected": ["down"] * 4 + ["none"] * 2}).to_csv(tmp_path / "truth.tsv", sep="\t",
                                                                   index=False)
    tables = {"right": [-2, -1, -3, -0.5, 0.1, -0.2], "wrong": [1, -1, 2, 3, 0.5, 0.5]}
    for name, values in tables.items():
        pd.DataFrame({"id": ids, "log2_ratio": values}).to_csv(tmp_path / f"{name}.tsv", sep="\t",
                                                               index=False)
    metrics = run_benchmark_models(tmp_path / "v.vcf", tmp_path / "truth.tsv", tmp_path / "o",
                                   scores=[f"{n}={tmp_path / n}.tsv" for n in tables], n_boot=10)
    rows = {r["model"]: r for r in metrics["models_table"]}
    assert rows["right"]["fraction_expected_direction"] == 1.0           # 4 of 4 below 0
    assert rows["wrong"]["fraction_expected_direction"] == 0.25          # only -1
    assert rows["right"]["median_abs_breaking"] == pytest.approx(1.5)    # |-2,-1,-3,-0.5|
    assert rows["right"]["median_abs_neutral"] == pytest.approx(0.15)
    assert np.isnan(rows["right"]["pearson"]) and "only 0 finite pairs" in rows["right"]["note"]


@pytest.mark.slow
def test_four_scorers_on_the_bundled_example(tmp_path, example_dir, basset_run, dataset_dir):
    """The acceptance run: two trained runs, a published-layout model with random weights
    (Kipoi Basset layout, `regdna.models.toy`) and a zero-shot causal LM (a random tiny GPT-2)
    on the example's variants and simulated measurements; every correlation equals scipy's on
    the score files, every pair's Steiger test equals `steiger_test` on the same numbers."""
    from scipy import stats

    from regdna.models.toy import write_causal_lm_toy, write_kipoi_toy
    from regdna.train.train import fit
    from regdna.variants.benchmark import steiger_test

    kmer = fit(dataset_dir, "kmer-lr", tmp_path / "kmer", progress=False,
               overrides=["model.options={k: 4}", "train.max_epochs=3"])
    basset_pub = write_kipoi_toy("basset", tmp_path / "toy" / "basset" / "basset.pth")
    lm = write_causal_lm_toy(tmp_path / "toy" / "gpt2")
    example = Path(example_dir)
    metrics = run_benchmark_models(
        example / "variants.vcf", example / "variants.tsv", tmp_path / "out",
        genome=example / "genome.fa", n_boot=200, length=200,
        scorers=[f"basset={basset_run}", f"kmer={kmer}", f"published={'basset:' + str(basset_pub)}",
                 f"lm=hf:{lm}"], targets=["published=toy_0"])
    out = tmp_path / "out"
    measured = pd.read_csv(example / "variants.tsv", sep="\t").set_index("id")["measured"]
    rows = pd.read_csv(out / "models.tsv", sep="\t")
    rows = rows[rows["dataset"] == "all"].set_index("model")
    assert set(rows.index) == {"basset", "kmer", "published", "lm"}
    values = {}
    for name, column in metrics["score_columns"].items():
        table = pd.read_csv(out / "scores" / f"{name}.tsv", sep="\t").set_index("id")
        values[name] = table[column].reindex(measured.index).to_numpy()
        r, _ = stats.pearsonr(values[name], measured.to_numpy())
        rho, _ = stats.spearmanr(values[name], measured.to_numpy())
        assert rows.loc[name, "pearson"] == pytest.approx(r, abs=1e-6)
        assert rows.loc[name, "spearman"] == pytest.approx(rho, abs=1e-6)
        cost = metrics["cost"][name]        # each scorer ran in its own child process
        assert rows.loc[name, "seconds_per_1000"] == pytest.approx(
            cost["wall_s"] / cost["n_variants"] * 1000)
        assert 50 < rows.loc[name, "peak_memory_mb"] < 4096           # interpreter + torch + model
    assert metrics["score_columns"]["lm"] == "clm_llr"
    assert metrics["score_columns"]["published"] == "log2_ratio"
    # the trained basset reads the planted motifs the measurements follow; the random Basset
    # does not; the random LM does in part (measured -0.40 vs basset 0.69): motif-breaking SNVs
    # go to the least probable base of a motif column, so their alt bases are skewed, and any
    # base-preferring language model scores that skew
    print(rows[["n", "pearson", "spearman", "seconds_per_1000", "peak_memory_mb"]])
    assert rows.loc["basset", "pearson"] > 0.6
    assert rows.loc["basset", "pearson"] > abs(rows.loc["published", "pearson"]) + 0.3
    assert rows.loc["basset", "pearson"] > abs(rows.loc["lm", "pearson"]) + 0.1
    pairs = pd.read_csv(out / "pairs.tsv", sep="\t")
    pairs = pairs[pairs["dataset"] == "all"].set_index(["model_a", "model_b"])
    assert len(pairs) == 6
    for (a, b), row in pairs.iterrows():
        expected = steiger_test(values[a], values[b], measured.to_numpy())
        assert row["steiger_p"] == pytest.approx(expected["steiger_p"], rel=1e-6)
    for figure in ("correlations.png", "pairs_pvalues.png", "cost_accuracy.png"):
        assert (out / figure).stat().st_size > 0
    # a re-run reuses every score file and the cost measured when it was scored
    notes = []
    again = run_benchmark_models(
        example / "variants.vcf", example / "variants.tsv", out,
        genome=example / "genome.fa", n_boot=200, length=200, notice=notes.append,
        scorers=[f"basset={basset_run}", f"kmer={kmer}", f"published={'basset:' + str(basset_pub)}",
                 f"lm=hf:{lm}"], targets=["published=toy_0"])
    assert len(notes) == 4 and all("reused" in n for n in notes)
    assert again["cost"]["lm"]["wall_s"] == metrics["cost"]["lm"]["wall_s"]
