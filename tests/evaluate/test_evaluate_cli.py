"""evaluate / predict / compare through the CLI, and basset against the kmer-lr floor."""
import csv
import json

import numpy as np
import pandas as pd
import pytest
import torch

from regdna.cli import main


def run_cli(args, capsys=None):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    return exit_info.value.code


def cli_ok(args):
    """Run a verb that succeeds (typer returns without SystemExit in standalone_mode=False)."""
    try:
        main(args)
    except SystemExit as done:
        assert done.code in (0, None), done.code


BINARY_KEYS = {"n", "auroc", "pr_auc", "auroc_ci95", "pr_auc_ci95", "threshold", "f1",
               "precision", "recall", "specificity", "accuracy", "f1_at_0_5",
               "precision_at_0_5", "recall_at_0_5", "specificity_at_0_5", "accuracy_at_0_5", "ece"}


def test_metrics_json_has_every_key(basset_run):
    metrics = json.loads((basset_run / "metrics_test.json").read_text())
    assert BINARY_KEYS <= set(metrics)
    assert metrics["n"] > 300                   # chr8 + chr9 windows of the example
    assert 0 <= metrics["ece"] <= 1
    c = metrics["confusion"]
    assert c["tp"] + c["fp"] + c["tn"] + c["fn"] == metrics["n"]


def test_predict_streams_fasta_and_table(basset_run, dataset_dir, tmp_path):
    """Predictions on `dataset_dir` sequences (same task and length as the run's data)."""
    from regdna.runs import load_predictor

    frame = pd.read_parquet(dataset_dir / "test.parquet").head(25)
    fasta = tmp_path / "x.fa"
    fasta.write_text("".join(f">{r.id} extra words\n{r.sequence[:100]}\n{r.sequence[100:]}\n"
                             for r in frame.itertuples()))
    out = tmp_path / "preds.tsv"
    cli_ok(["predict", "--run", str(basset_run), "--fasta", str(fasta), "--out", str(out),
            "--chunk-size", "7"])
    preds = pd.read_csv(out, sep="\t")
    assert list(preds.columns) == ["id", "label", "label_call", "ood_embedding", "ood_stats",
                                   "ood_score", "ood_flag"] and len(preds) == 25
    assert preds["id"].tolist() == frame["id"].tolist()
    expected = load_predictor(basset_run, device="cpu").predict(frame["sequence"].tolist())[:, 0]
    assert np.allclose(preds["label"], expected, atol=1e-5)
    threshold = json.loads((basset_run / "threshold.json").read_text())["threshold"]
    assert (preds["label_call"] == (preds["label"] >= threshold).astype(int)).all()

    table = tmp_path / "t.tsv"
    frame[["id", "sequence"]].to_csv(table, sep="\t", index=False)
    out2 = tmp_path / "preds2.tsv"
    cli_ok(["predict", "--run", str(basset_run), "--table", str(table), "--out", str(out2)])
    assert np.allclose(pd.read_csv(out2, sep="\t")["label"], preds["label"], atol=1e-6)


def test_cli_errors_exit_2(basset_run, dataset_dir, tmp_path, capsys):
    assert run_cli(["train", "--data", str(dataset_dir), "--model", "bassett",
                    "--out", str(tmp_path / "r")]) == 2
    assert "valid models" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
    assert run_cli(["evaluate", "--run", str(tmp_path)]) == 2
    assert "not a regdna run dir" in capsys.readouterr().err
    empty = tmp_path / "empty.fa"
    empty.write_text("")
    assert run_cli(["predict", "--run", str(basset_run), "--fasta", str(empty),
                    "--out", str(tmp_path / "p.tsv")]) == 2
    assert not (tmp_path / "p.tsv").exists()


@pytest.fixture(scope="module")
def kmer_run(basset_train_dir, tmp_path_factory):
    """kmer-lr on the same dataset as `basset_run`."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = tmp_path_factory.mktemp("kmer") / "kmer-lr"
        cli_ok(["train", "--data", str(basset_train_dir), "--model", "kmer-lr", "--out", str(out),
                "--set", "train.max_epochs=10", "--set", "model.options.k=4"])
        cli_ok(["evaluate", "--run", str(out), "--n-boot", "200"])
    finally:
        torch.set_num_threads(threads)
    return out


def test_basset_beats_kmer_lr_and_compare(basset_run, kmer_run, tmp_path):
    cnn = json.loads((basset_run / "metrics_test.json").read_text())
    floor = json.loads((kmer_run / "metrics_test.json").read_text())
    assert cnn["auroc"] > floor["auroc"]
    assert cnn["pr_auc"] > floor["pr_auc"]

    out = tmp_path / "compare"
    cli_ok(["compare", str(basset_run), str(kmer_run), "--out", str(out)])
    with open(out / "comparison.csv") as handle:
        rows = {r["run"]: r for r in csv.DictReader(handle)}
    assert set(rows) == {"basset", "kmer-lr"}
    assert float(rows["basset"]["auroc"]) == pytest.approx(cnn["auroc"])
    assert float(rows["kmer-lr"]["auroc_lo"]) == pytest.approx(floor["auroc_ci95"][0])
    assert int(rows["kmer-lr"]["n_params"]) == 4 ** 4 + 1
    assert float(rows["basset"]["seconds_per_epoch"]) > 0
    table = (out / "comparison.md").read_text()
    assert "| basset | basset | test |" in table and "kmer-lr" in table
    assert (out / "compare_metrics.png").stat().st_size > 10_000
    assert (out / "compare_cost.png").is_file()
