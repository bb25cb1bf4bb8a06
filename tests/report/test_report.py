"""regdna report on a real trained and evaluated run (`basset_run`), and on hand-made run dirs whose
numbers are chosen to check highlighting, missing pieces, self-containment and escaping."""
import base64
import csv
import json
import re

import pytest

from regdna.errors import RegdnaError


def _png(path, color):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [0, 1], color=color)
    fig.savefig(path, dpi=30)
    plt.close(fig)
    return path


def _run(root, name, spec, test_auroc=None, val_auroc=0.8, with_curve=True, data=None):
    run = root / name
    (run / "figures").mkdir(parents=True)
    config = {"model": {"spec": spec, "options": {"filters": 0.5}}, "data": {"batch_size": 64}}
    if data is not None:
        config["dataset"] = {"path": str(data), "task": "binary"}
    import yaml

    (run / "config.yaml").write_text(yaml.safe_dump(config))
    (run / "threshold.json").write_text(json.dumps({"threshold": 0.4321, "metric": "f1", "split": "val"}))
    (run / "metrics_val.json").write_text(json.dumps({"n": 120, "auroc": val_auroc, "pr_auc": 0.7,
                                                      "ece": 0.05}))
    if test_auroc is not None:
        (run / "metrics_test.json").write_text(json.dumps({
            "n": 200, "n_pos": 100, "auroc": test_auroc, "pr_auc": test_auroc - 0.05,
            "auroc_ci95": [test_auroc - 0.03, test_auroc + 0.02], "pr_auc_ci95": [0.1, 0.9],
            "f1": 0.8, "precision": 0.75, "recall": 0.85, "threshold": 0.4321,
            "ece": 0.02 if spec == "basset" else 0.07, "confusion": [[1, 2], [3, 4]]}))
    if with_curve:
        (run / "metrics.csv").write_text(
            "epoch,train_loss,val_loss,val_auroc,val_pr_auc,lr,seconds\n"
            "0,0.69,0.68,0.61,0.6,0.001,2.5\n1,0.5,0.52,0.77,0.75,0.0005,2.5\n2,0.4,0.45,0.8123,0.8,0.0001,2.0\n")
    _png(run / "figures" / "roc_curve_test.png", "red")
    _png(run / "figures" / "pr_curve_test.png", "blue")
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("report")
    data = tmp_path / "dataset"
    data.mkdir()
    (data / "dataset.json").write_text(json.dumps({
        "format_version": 1, "task": "binary", "labels": ["label"], "length": 200,
        "splits": {"train": {"n": 1000, "per_class": {"0": 500, "1": 500}},
                   "val": {"n": 150, "per_class": {"0": 75, "1": 75}},
                   "test": {"n": 246, "per_class": {"0": 123, "1": 123}}},
        "counts": {"dedup_removed": 7, "n_dropped": 3}, "qc": {"leakage": {"shared": 0}}}))
    _png(data / "qc" / "gc_by_class.png", "green")
    basset = _run(tmp_path / "runs", "basset", "basset", test_auroc=0.9512, data=data)
    kmer = _run(tmp_path / "runs", "kmer<lr>&x", "kmer-lr", test_auroc=0.7345, with_curve=False, data=data)
    nometrics = _run(tmp_path / "runs", "tinyformer", "tinyformer", test_auroc=None, val_auroc=0.9)
    extra = tmp_path / "ism"
    _png(extra / "heatmaps" / "ism_heatmap_seq_2.png", "black")
    _png(extra / "heatmaps" / "ism_heatmap_seq_10.png", "black")
    _png(extra / "top_k_bar.png", "black")
    (extra / "top_k.tsv").write_text("seq_id\tpos\tdelta\nchr8:10-210\t57\t-0.4321987\n")
    (extra / "bench").mkdir()
    (extra / "bench" / "metrics.json").write_text(json.dumps({"direction": {"fraction_expected_direction": 0.9734}}))
    (extra / "ism.tsv").write_text("seq_id\tpos\n" + "".join(f"s\t{i}\n" for i in range(500)))
    return tmp_path, [basset, kmer, nometrics], extra


def _report(tmp_path, run_dirs, extra, **kw):
    from regdna.report.report import write_report

    out = write_report(run_dirs, tmp_path / "out" / "report.html", extras=[extra], **kw)
    return out.read_text()


def test_report_holds_the_numbers_and_highlights_the_best(runs):
    tmp_path, run_dirs, extra = runs
    page = _report(tmp_path, run_dirs, extra)
    assert "0.951" in page and "0.735" in page                     # test AUROCs
    assert "[0.921, 0.971]" in page                                 # basset AUROC interval
    assert "0.812" in page                                          # best val AUROC from metrics.csv
    assert "0.432" in page                                          # threshold
    # best test AUROC (basset) and lowest ECE (basset, 0.02) are highlighted, the others not
    test_table = page.split("id='metrics-test'")[1].split("</table>")[0]
    rows = test_table.split("<tr>")[2:]
    assert "basset" in rows[0] and "kmer&lt;lr&gt;&amp;x" in rows[1]
    assert "<td class='num best'>0.951" in rows[0] and "<td class='num best'>0.735" not in rows[1]
    assert "<td class='num best'>0.020" in rows[0] and "<td class='num'>0.070" in rows[1]
    # the run without metrics_test.json still appears (val table, overview) and says what is missing
    assert "tinyformer" in page.split("id='metrics-val'")[1]
    assert "metrics_test.json (run `regdna evaluate`)" in page
    # dataset summary from config.yaml's dataset.path, with its QC figure
    assert "Dataset: dataset" in page and "246" in page and "dedup_removed" in page
    assert "GC by class" in page


def test_report_is_self_contained_and_embeds_every_png(runs):
    tmp_path, run_dirs, extra = runs
    page = _report(tmp_path, run_dirs, extra)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "<script" not in page and "@import" not in page
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    # 6 run figures + 1 dataset QC + 3 extra + training curves + bars for test and val
    assert len(sources) == 6 + 1 + 3 + 1 + 2
    embedded = {base64.b64decode(s.split(",", 1)[1]) for s in sources}
    assert (extra / "heatmaps" / "ism_heatmap_seq_2.png").read_bytes() in embedded
    # grouped by folder, natural order, readable captions, small tables shown
    assert "ism / heatmaps" in page
    assert page.index("ism_heatmap_seq_2.png") < page.index("ism_heatmap_seq_10.png")
    assert "ISM heatmap seq 2" in page and "ROC curve test" in page
    assert "top_k.tsv" in page and "chr8:10-210" in page and "-0.432" in page
    assert "bench/metrics.json" in page and "direction.fraction_expected_direction" in page
    assert "0.973" in page and "ism.tsv" not in page   # per-record tables are left out


def test_names_are_escaped(runs):
    tmp_path, run_dirs, extra = runs
    page = _report(tmp_path, run_dirs, extra, title="<script>alert(1)</script>")
    assert "kmer<lr>" not in page and "kmer&lt;lr&gt;&amp;x" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_runs_with_the_same_name_are_told_apart(runs, tmp_path):
    from regdna.report.report import write_report

    root, run_dirs, _ = runs
    import shutil
    other = tmp_path / "other" / "runs" / "basset"
    shutil.copytree(run_dirs[0], other)
    page = write_report([run_dirs[0], other, other], tmp_path / "same.html").read_text()
    assert "other/runs/basset (2)" in page and "other/runs/basset (3)" in page
    assert f"{root.name}/runs/basset" in page


def test_missing_pieces_and_bad_input(runs):
    tmp_path, run_dirs, extra = runs
    from regdna.report.report import write_report

    bare = tmp_path / "bare_run"
    bare.mkdir()
    out = write_report([bare], tmp_path / "bare.html")
    assert "bare_run" in out.read_text() and "config.yaml" in out.read_text()
    with pytest.raises(RegdnaError, match="does not exist"):
        write_report([tmp_path / "nope"], tmp_path / "nope.html")
    with pytest.raises(RegdnaError, match="not a directory"):
        write_report(run_dirs, tmp_path / "nope.html", extras=[tmp_path / "nope"])
    broken = tmp_path / "broken_run"
    broken.mkdir()
    (broken / "metrics_test.json").write_text("{not json")
    with pytest.raises(RegdnaError, match=r"metrics_test.json, line 1"):
        write_report([broken], tmp_path / "nope.html")
    assert not (tmp_path / "nope.html").exists()


def test_cli_report(runs):
    from typer.testing import CliRunner

    from regdna.cli import app

    tmp_path, run_dirs, extra = runs
    out = tmp_path / "cli.html"
    result = CliRunner().invoke(app, ["report", *map(str, run_dirs), "--extra", str(extra),
                                      "--out", str(out), "--title", "demo"])
    assert result.exit_code == 0, result.output
    assert "0.951" in out.read_text() and "<title>demo</title>" in out.read_text()


def test_report_out_policy(runs, tmp_path, capsys):
    """An unrelated file is refused (and kept), an earlier report replaced, --overwrite replaces
    anything, a directory is refused."""
    from regdna.cli import main

    run_dirs = [str(r) for r in runs[1]]
    out = tmp_path / "report.html"
    out.write_text("my notes")
    with pytest.raises(SystemExit) as exit_:
        main(["report", *run_dirs, "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and "--overwrite" in err and "\n" not in err
    assert out.read_text() == "my notes"
    main(["report", *run_dirs, "--out", str(out), "--overwrite"])
    assert "<html" in out.read_text().lower()
    main(["report", *run_dirs, "--out", str(out)])           # its own earlier report
    with pytest.raises(SystemExit) as exit_:
        main(["report", *run_dirs, "--out", str(tmp_path)])
    assert exit_.value.code == 2 and "is a directory" in capsys.readouterr().err


def test_report_of_a_trained_run(basset_run, basset_train_dir, tmp_path):
    """The page of a run that `fit` wrote and `evaluate` evaluated holds that run's own numbers
    (test AUROC and its interval, threshold, best validation AUROC, test split size) and embeds
    every figure of its figures/ dir."""
    from regdna.report.report import run_report

    out = tmp_path / "report.html"
    summary = run_report([basset_run], out)
    assert summary["runs"] == 1 and summary["size_bytes"] == out.stat().st_size > 10_000
    page = out.read_text()
    metrics = json.loads((basset_run / "metrics_test.json").read_text())
    low, high = metrics["auroc_ci95"]
    assert f"{metrics['auroc']:.3f}" in page and f"[{low:.3f}, {high:.3f}]" in page
    assert f"{metrics['pr_auc']:.3f}" in page
    threshold = json.loads((basset_run / "threshold.json").read_text())["threshold"]
    assert f"{threshold:.3f}" in page
    with open(basset_run / "metrics.csv") as handle:
        best_val = max(float(row["val_auroc"]) for row in csv.DictReader(handle))
    assert f"{best_val:.3f}" in page
    # the dataset named by config.yaml is summarised: its test split size
    n_test = json.loads((basset_train_dir / "dataset.json").read_text())["splits"]["test"]["n"]
    assert f"Dataset: {basset_train_dir.name}" in page and f"{n_test:,}" in page
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    embedded = {base64.b64decode(s.split(",", 1)[1]) for s in sources}
    figures = sorted((basset_run / "figures").glob("*.png"))
    assert len(figures) >= 5
    for figure in figures:
        assert figure.read_bytes() in embedded, figure.name

