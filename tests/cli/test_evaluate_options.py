"""evaluate / predict / compare options on a real run: --device, --shifts/--no-shifts,
--shift-sizes, the printed shortcut warnings, and compare's repeatable --run."""
from __future__ import annotations

import csv
import json
import shutil

import pandas as pd
import pytest

from regdna.cli import main


def cli(args) -> int:
    try:
        main(args)
    except SystemExit as done:
        return done.code or 0
    return 0


@pytest.fixture
def run_copy(basset_run, tmp_path):
    """A copy of the session run (the evaluations below must not add files to the shared one)."""
    return shutil.copytree(basset_run, tmp_path / "basset")


def test_evaluate_takes_device_and_shift_options(run_copy, capsys):
    assert cli(["evaluate", "--run", str(run_copy), "--device", "cpu", "--n-boot", "20",
                "--no-figures", "--shift-sizes", "3"]) == 0
    metrics = json.loads((run_copy / "metrics_test.json").read_text())
    assert [row["shift"] for row in metrics["shortcuts"]["shifts"]] == [-3, 0, 3]
    with open(run_copy / "shifts_test.tsv") as handle:
        assert [int(r["shift"]) for r in csv.DictReader(handle, delimiter="\t")] == [-3, 0, 3]
    assert "auroc=" in capsys.readouterr().out

    (run_copy / "shifts_test.tsv").unlink()
    assert cli(["evaluate", "--run", str(run_copy), "--device", "cpu", "--n-boot", "20",
                "--no-figures", "--no-shifts"]) == 0
    assert "shortcuts" not in json.loads((run_copy / "metrics_test.json").read_text())
    assert not (run_copy / "shifts_test.tsv").exists()

    assert cli(["evaluate", "--run", str(run_copy), "--shift-sizes", "1,two"]) == 2
    assert "--shift-sizes '1,two'" in capsys.readouterr().err


def test_evaluate_prints_the_shortcut_warnings(monkeypatch, capsys):
    import regdna.evaluate.evaluate as evaluate

    report = {"n": 3, "auroc": 0.99, "shortcuts": {"warnings": ["importance is position-locked"]}}
    monkeypatch.setattr(evaluate, "run_evaluate", lambda *args, **kwargs: report)
    assert cli(["evaluate", "--run", "somewhere"]) == 0
    captured = capsys.readouterr()
    assert "auroc=0.99" in captured.out
    assert captured.err.strip() == "warning: importance is position-locked"


def test_predict_takes_device(basset_run, dataset_dir, tmp_path):
    frame = pd.read_parquet(dataset_dir / "test.parquet").head(5)
    table = tmp_path / "t.tsv"
    frame[["id", "sequence"]].to_csv(table, sep="\t", index=False)
    out = tmp_path / "p.tsv"
    assert cli(["predict", "--run", str(basset_run), "--table", str(table), "--out", str(out),
                "--device", "cpu"]) == 0
    assert len(pd.read_csv(out, sep="\t")) == 5


def test_compare_takes_runs_with_repeated_run(basset_run, tmp_path):
    other = shutil.copytree(basset_run, tmp_path / "copy" / "basset")
    out = tmp_path / "compare"
    assert cli(["compare", "--run", str(basset_run), "--run", str(other), "-o", str(out)]) == 0
    with open(out / "comparison.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and rows[0]["auroc"] == rows[1]["auroc"]
    assert rows[1]["run"] == "copy/basset"
