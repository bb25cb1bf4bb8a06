"""`train` never looks finished when it is not, never mixes two runs, never deletes what it did
not write; `predict` and `compare` follow the output policy; logs are one line per epoch."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import random_seq

from regdna.cli import main
from regdna.data.dataset import DatasetInfo, write_info
from regdna.errors import RegdnaError

KMER = ["model.options.k=4", "data.batch_size=16", "train.patience=0"]


def tiny_dataset(path: Path, n: int = 300, length: int = 60, seed: int = 0, classes=None) -> Path:
    """Binary: label 1 when GGATAAGG is planted."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        seq = list(random_seq(length, rng))
        label = float(rng.random() < 0.5)
        if label:
            start = int(rng.integers(0, length - 8))
            seq[start:start + 8] = "GGATAAGG"
        rows.append({"id": f"s{i}", "chrom": "chr1", "start": 0, "end": length,
                     "sequence": "".join(seq), "label": label})
    frame = pd.DataFrame(rows)
    path.mkdir(parents=True)
    for name, part in {"train": frame.iloc[: n * 2 // 3], "val": frame.iloc[n * 2 // 3: n * 5 // 6],
                       "test": frame.iloc[n * 5 // 6:]}.items():
        part.to_parquet(path / f"{name}.parquet", index=False)
    write_info(path, DatasetInfo(task="binary", labels=["label"], length=length, classes=classes))
    return path


def fit_tiny(data, out, epochs=2, **kwargs):
    from regdna.train.train import fit

    return fit(data, "kmer-lr", out, overrides=KMER + [f"train.max_epochs={epochs}"],
               progress=False, **kwargs)


def cli(args) -> int:
    try:
        main([str(a) for a in args])
    except SystemExit as done:
        return done.code or 0
    return 0


def train_cmd(data, out, *extra):
    return [sys.executable, "-m", "regdna", "train", "--data", str(data), "--model", "kmer-lr",
            "--out", str(out), *[x for o in KMER for x in ("--set", o)], *extra]


def env():
    return {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_dataset(tmp_path_factory.mktemp("trust") / "data", classes=["closed", "open"])


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    return fit_tiny(data, tmp_path_factory.mktemp("trust_runs") / "run")


# -- interrupted training -------------------------------------------------------------------------
def test_sigterm_keeps_last_ckpt_exits_non_zero_and_resume_finishes(tmp_path):
    data = tiny_dataset(tmp_path / "data", n=400)
    out = tmp_path / "run"
    # batches of 2 and 25 epochs: several seconds of training after the first checkpoint
    proc = subprocess.Popen(train_cmd(data, out, "--max-epochs", "25", "--set", "data.batch_size=2"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
    deadline = time.time() + 120
    while not (out / "checkpoints" / "last.ckpt").is_file() and proc.poll() is None \
            and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, (stdout, stderr)
    assert "interrupted by SIGTERM" in stderr and "--resume" in stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1
    assert (out / "checkpoints" / "last.ckpt").is_file()
    assert not (out / "threshold.json").exists()
    done = pd.read_csv(out / "metrics.csv")
    assert 1 <= len(done) < 25

    resumed = subprocess.run(train_cmd(data, out, "--resume", "--set", "data.batch_size=2"),
                             capture_output=True, text=True, env=env(), timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert (out / "threshold.json").is_file()
    assert pd.read_csv(out / "metrics.csv")["epoch"].tolist() == list(range(25))


def test_resume_of_a_run_without_checkpoint_starts_from_scratch(data, tmp_path, capsys):
    straight = fit_tiny(data, tmp_path / "straight", epochs=3)
    out = fit_tiny(data, tmp_path / "run", epochs=3)
    # as if killed before the first epoch ended: config.yaml and fingerprint, no checkpoint
    for name in ("checkpoints", "metrics.csv", "threshold.json", "resources.json", "lr_schedule.csv"):
        path = out / name
        if path.is_dir():
            for child in path.iterdir():
                child.unlink()
            path.rmdir()
        else:
            path.unlink()
    fit_tiny(data, out, epochs=3, resume=True)
    assert "starting it from the beginning" in capsys.readouterr().out
    assert (out / "threshold.json").read_text() == (straight / "threshold.json").read_text()
    a, b = pd.read_csv(straight / "metrics.csv"), pd.read_csv(out / "metrics.csv")
    assert np.allclose(a["val_auroc"], b["val_auroc"]) and len(b) == 3


# -- the run dir follows the output policy ----------------------------------------------------------
def test_run_dir_policy(data, run, tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(RegdnaError, match="not empty and was not written by regdna.*--overwrite"):
        fit_tiny(data, foreign)
    assert (foreign / "notes.txt").read_text() == "keep me" and len(list(foreign.iterdir())) == 1
    with pytest.raises(RegdnaError, match="holds a run: continue it with --resume, or pass "
                                          "--overwrite to start over"):
        fit_tiny(data, run)
    with pytest.raises(RegdnaError, match="is the input"):
        fit_tiny(data, data)
    with pytest.raises(RegdnaError, match="contains the input"):
        fit_tiny(data, data.parent)
    assert (data / "dataset.json").is_file()
    with pytest.raises(RegdnaError, match="pass only one"):
        fit_tiny(data, run, resume=True, overwrite=True)
    with pytest.raises(RegdnaError, match="holds no run"):
        fit_tiny(data, tmp_path / "nothing", resume=True)
    assert not (tmp_path / "nothing").exists()


def test_overwrite_replaces_a_run_dir(data, tmp_path):
    out = fit_tiny(data, tmp_path / "run")
    (out / "metrics_test.json").write_text("{}")          # what evaluate adds is still a run dir
    (out / "stale.txt").write_text("old")
    fit_tiny(data, out, epochs=1, overwrite=True)
    assert not (out / "stale.txt").exists() and not (out / "metrics_test.json").exists()
    assert len(pd.read_csv(out / "metrics.csv")) == 1
    assert json.loads((out / ".regdna-output.json").read_text())["verb"] == "train"


def test_cli_train_refusal_is_one_line(data, run, capsys):
    assert cli(["train", "--data", data, "--model", "kmer-lr", "--out", run]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--resume" in err and "--overwrite" in err


# -- resume never mixes two runs ----------------------------------------------------------------------
def test_resume_refuses_a_changed_dataset_or_setting(data, tmp_path):
    import shutil

    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    out = fit_tiny(copy, tmp_path / "run")
    val = pd.read_parquet(copy / "val.parquet")
    val.iloc[::-1].to_parquet(copy / "val.parquet", index=False)     # same rows, other order
    with pytest.raises(RegdnaError, match="changed since the run started: dataset file val.parquet"):
        fit_tiny(copy, out, resume=True)
    shutil.copy(data / "val.parquet", copy / "val.parquet")
    os.utime(copy / "val.parquet", ns=(0, (data / "val.parquet").stat().st_mtime_ns))
    from regdna.train.train import fit

    with pytest.raises(RegdnaError, match="setting optim.lr"):
        fit(copy, "kmer-lr", out, overrides=["optim.lr=0.5"], resume=True, progress=False)


def test_resume_on_an_unreadable_checkpoint_is_one_line(data, tmp_path, capsys):
    out = fit_tiny(data, tmp_path / "run")
    last = out / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[:200])                      # a truncated write
    assert cli(["train", "--data", data, "--out", out, "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(last) in err and "--overwrite" in err


def test_checkpoints_are_read_weights_only(run, monkeypatch):
    import torch

    from regdna.runs.checkpoint import load_state_dict

    seen = []
    real = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: seen.append(k.get("weights_only")) or real(*a, **k))
    load_state_dict(run / "checkpoints" / "best.ckpt")
    assert seen == [True]


# -- logs ------------------------------------------------------------------------------------------------
def test_piped_output_is_one_line_per_epoch(data, tmp_path):
    done = subprocess.run(train_cmd(data, tmp_path / "run", "--max-epochs", "3"),
                          capture_output=True, text=True, env=env(), timeout=300)
    assert done.returncode == 0, done.stderr
    text = done.stdout + done.stderr
    for noise in ("GPU available", "TPU available", "\U0001f4a1", "LeafSpec", "eval mode",
                  "litlogger", "litmodels", "https://", "Loading `train_dataloader`"):
        assert noise not in text, noise
    epochs = [line for line in done.stdout.splitlines() if re.match(r"epoch \d+/3 ", line)]
    assert len(epochs) == 3
    for n, line in enumerate(epochs, 1):
        assert re.fullmatch(rf"epoch {n}/3  train loss [\d.e-]+  val AUROC [\d.]+  PR-AUC [\d.]+"
                            r"  [\d.]+ s", line), line
    assert re.search(r"^epoch 1 took [\d.]+ (s|min); 3 epochs \u2248 [\d.]+ (s|min) at most$",
                     done.stdout, re.M)
    summary = done.stdout.strip().splitlines()[-1]
    assert summary.startswith("run ") and "best val AUROC" in summary
    assert not re.search(r"\d\.\d{5,}", done.stdout)             # 4 significant digits
    assert done.stderr.strip() == ""


def test_projection_line():
    from regdna.train.callbacks import EpochLog

    log = EpochLog(None, lines=True, max_epochs=12, early_stopping=True)
    assert log.projection({"epoch": 0, "seconds": 14.2}) == \
        "epoch 1 took 14.2 s; 12 epochs \u2248 2.8 min at most (early stopping may end sooner)"
    assert log.projection({"epoch": 3, "seconds": 10.0}).startswith(
        "epoch 4 took 10 s; the 8 remaining epochs \u2248 80 s at most")


# -- predict and compare ---------------------------------------------------------------------------------
def test_predict_writes_class_names_and_follows_the_output_policy(run, data, tmp_path, capsys):
    frame = pd.read_parquet(data / "test.parquet").head(9)
    fasta = tmp_path / "x.fa"
    fasta.write_text("".join(f">{r.id}\n{r.sequence}\n" for r in frame.itertuples()))
    out = tmp_path / "preds.tsv"
    assert cli(["predict", "--run", run, "--fasta", fasta, "--out", out]) == 0
    preds = pd.read_csv(out, sep="\t")
    assert list(preds.columns) == ["id", "label", "label_call", "call", "ood_embedding", "ood_stats",
                                   "ood_score", "ood_flag"]
    assert (preds["call"] == preds["label_call"].map({0: "closed", 1: "open"})).all()
    # an unchanged earlier predict output is replaced; a directory or a foreign file is refused
    assert cli(["predict", "--run", run, "--fasta", fasta, "--out", out]) == 0
    capsys.readouterr()
    (tmp_path / "outdir").mkdir()
    assert cli(["predict", "--run", run, "--fasta", fasta, "--out", tmp_path / "outdir"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a directory" in err
    mine = tmp_path / "mine.tsv"
    mine.write_text("mine\n")
    assert cli(["predict", "--run", run, "--fasta", fasta, "--out", mine]) == 2
    assert mine.read_text() == "mine\n" and "--overwrite" in capsys.readouterr().err
    assert cli(["predict", "--run", run, "--fasta", fasta, "--out", mine, "--overwrite"]) == 0
    assert mine.read_text().startswith("id\t")


def test_compare_follows_the_output_policy(run, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert cli(["compare", run, "--out", out]) == 0
    assert (out / "comparison.csv").is_file()
    assert cli(["compare", run, "--out", out]) == 0               # its own earlier output
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    capsys.readouterr()
    assert cli(["compare", run, "--out", foreign]) == 2
    assert "--overwrite" in capsys.readouterr().err and (foreign / "notes.txt").is_file()
    assert cli(["compare", run, "--out", run]) == 2
    assert "is the input" in capsys.readouterr().err and (run / "config.yaml").is_file()
