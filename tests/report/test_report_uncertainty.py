"""regdna report's "Calibration and uncertainty" section: run dirs written by hand in the run-dir
contract (metrics_test.json with its `calibration`, `conformal` and `members` sections,
calibration.json, a real ood.npz written by `regdna.evaluate.ood_fit.write_ood`, the reliability
figure), a run evaluated before those sections existed, a regression run, and a real trained and
evaluated run; the numbers are looked up in the page's table cells."""
import base64
import json
import re

import numpy as np
import pytest
import yaml

from regdna.report import uncertainty as U
from regdna.report.collect import RunSummary
from regdna.report.report import run_report
from regdna.runs import layout

CALIBRATION = {"temperature": 1.4321, "source": "calibration.json",
               "before": {"ece": 0.08123, "brier": 0.18344, "nll": 0.55214},
               "after": {"ece": 0.023456, "brier": 0.17021, "nll": 0.50119}}
CONFORMAL = {"coverage": 0.9, "empirical_coverage": 0.91274, "mean_set_size": 1.2345,
             "qhat": 0.77, "n_calibration": 150}
MEMBERS = {"seeds": [0, 1, 2],
           "metrics": [{"seed": 0, "auroc": 0.85123, "pr_auc": 0.8}, {"seed": 1, "auroc": 0.86012,
                                                                       "pr_auc": 0.81},
                       {"seed": 2, "auroc": 0.84333, "pr_auc": 0.79}],
           "std": {"mean": 0.045678}}


def _png(path, color):
    from regdna.plot.style import pyplot, save

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [1, 0], color=color)
    return save(fig, path)


def _run(root, name, task, metrics, ensemble=None):
    run = root / name
    run.mkdir(parents=True)
    model = {"spec": "cnn", "options": {}}
    if ensemble is not None:
        model["ensemble"] = ensemble
    (run / "config.yaml").write_text(yaml.safe_dump({"model": model,
                                                     "dataset": {"path": None, "task": task}}))
    layout.write_split_metrics(run, "metrics_test.json", {"task": task, "split": "test", **metrics})
    return run


def _ood(run):
    from regdna.evaluate.ood import Mahalanobis, StatsOOD
    from regdna.evaluate.ood_fit import OODScorer, write_ood

    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), 60)) for _ in range(30)]
    write_ood(run, OODScorer(Mahalanobis.fit(rng.normal(size=(30, 4))), StatsOOD.fit(seqs),
                             {"ood_embedding": 12.3456, "ood_stats": 7.8912},
                             {"n_train": 30, "n_val": 20, "seed": 0, "quantile": 0.99,
                              "layer": "fc", "pooling": "mean", "class_means": False}))


@pytest.fixture()
def runs(tmp_path):
    calibrated = _run(tmp_path, "calibrated", "binary", {
        "n": 200, "auroc": 0.87654, "pr_auc": 0.8, "ece": 0.08123, "calibration": CALIBRATION,
        "conformal": CONFORMAL, "members": MEMBERS})
    layout.write_calibration(calibrated, {
        "task": "binary", "split": "val", "n": 150, "temperature": 1.4321,
        "before": {"ece": 0.091234, "brier": 0.2, "nll": 0.61}, "after": {"ece": 0.015678,
                                                                         "brier": 0.19, "nll": 0.57}})
    _ood(calibrated)
    _png(layout.figures_dir(calibrated) / "reliability_test.png", "green")
    _png(layout.figures_dir(calibrated) / "roc_pr_test.png", "red")
    old = _run(tmp_path, "old", "binary", {"n": 200, "auroc": 0.8})
    regression = _run(tmp_path, "regression", "regression", {
        "n": 90, "pearson": 0.61, "conformal": {"coverage": 0.8, "empirical_coverage": 0.79345,
                                                "mean_width": 2.4681, "qhat": [1.234]}})
    return calibrated, old, regression


def _section(page: str, heading: str) -> str:
    return page.split(f"<h2>{heading}</h2>")[1].split("</section>")[0]


def _table_after(html: str, heading: str) -> str:
    return html.split(heading, 1)[1].split("</table>")[0]


def _cells(table: str, run: str) -> list[str]:
    row = re.search(rf"<tr><td><b>{run}</b></td>(.*?)</tr>", table).group(1)
    return re.findall(r"<td[^>]*>(.*?)</td>", row)


def _images(html: str) -> set[bytes]:
    return {base64.b64decode(s.split(",", 1)[1]) for s in re.findall(r'<img src="([^"]+)"', html)}


def test_uncertainty_section_numbers(tmp_path, runs):
    calibrated, old, regression = runs
    page = run_report([calibrated, old, regression], tmp_path / "report.html")["out"].read_text()
    section = _section(page, "Calibration and uncertainty")
    test = _table_after(section, "id='uncertainty-test'")
    # temperature, ECE / Brier / NLL before and after, level, coverage, set size, width
    assert _cells(test, "calibrated") == ["1.43", "0.0812", "0.0235", "0.183", "0.170", "0.552",
                                          "0.501", "0.900", "0.913", "1.23", "–"]
    assert _cells(test, "regression") == ["–"] * 7 + ["0.800", "0.793", "–", "2.47"]
    assert _cells(test, "old") == [U.NOT_EVALUATED]
    # ensembles: 3 members, their AUROC range 0.843-0.860 beside the ensemble's 0.877
    ensembles = _table_after(section, "<h4>Ensembles</h4>")
    assert _cells(ensembles, "calibrated") == ["3", "0, 1, 2", "AUROC", "0.843", "0.860", "0.877",
                                               "0.0457"]
    assert _cells(ensembles, "old") == ["single model"]
    # validation (calibration.json) and the OOD thresholds read back from ood.npz
    val = _table_after(section, "id='uncertainty-fit'")
    assert _cells(val, "calibrated")[:4] == ["150", "1.43", "0.0912", "0.0157"]
    assert _cells(val, "old") == [U.NO_CALIBRATION]
    assert _cells(val, "regression") == [U.REGRESSION]
    ood = _table_after(section, "id='uncertainty-ood'")
    assert _cells(ood, "calibrated") == ["12.3", "7.89", "0.990", "30", "20", "fc", "mean", "no"]
    assert _cells(ood, "old") == [U.NO_OOD]
    # the reliability figure sits in this section (not in the run's figure grid), with the bars
    reliability = (layout.figures_dir(calibrated) / "reliability_test.png").read_bytes()
    assert reliability in _images(section) and len(_images(section)) == 2
    assert reliability not in _images(_section(page, "Figures: calibrated"))
    assert (layout.figures_dir(calibrated) / "roc_pr_test.png").read_bytes() in \
        _images(_section(page, "Figures: calibrated"))
    assert "href='#uncertainty-ood'" in page


def test_runs_without_any_of_it_still_render(tmp_path, runs):
    _, old, _ = runs
    (old / "ood.npz").write_bytes(b"not a zip")      # a damaged ood.npz is a note, not a crash
    page = run_report([old], tmp_path / "report.html")["out"].read_text()
    section = _section(page, "Calibration and uncertainty")
    assert U.NOT_EVALUATED in section and U.NO_CALIBRATION in section
    assert "<h4>Ensembles</h4>" not in section and "<img" not in section
    assert _cells(_table_after(section, "id='uncertainty-ood'"), "old")[0].startswith("not read: ")
    # a profile run alone has no such section
    profile = _run(tmp_path, "profile", "profile", {"pearson": 0.5})
    assert U.uncertainty_runs([RunSummary("p", profile, task="profile")]) == []
    page = run_report([profile], tmp_path / "profile.html")["out"].read_text()
    assert "Calibration and uncertainty" not in page


def test_ensemble_of_config_without_member_metrics(tmp_path):
    from regdna.runs.config import ModelConfig

    if "ensemble" not in ModelConfig.model_fields:
        pytest.skip("config.yaml has no model.ensemble yet")
    run = _run(tmp_path, "ens", "binary", {"n": 10, "auroc": 0.7, "calibration": CALIBRATION},
               ensemble=[3, 4, 5, 6])
    page = run_report([run], tmp_path / "report.html")["out"].read_text()
    ensembles = _table_after(_section(page, "Calibration and uncertainty"), "<h4>Ensembles</h4>")
    assert _cells(ensembles, "ens")[0].startswith("ensemble of 4: members not computed")
    runs = _section(page, "Runs")    # the overview says so, and misses no metrics.csv of its own
    assert "ensemble of 4 (seeds 3, 4, 5, 6)" in runs and "metrics.csv" not in runs


def test_formatting_and_bars(tmp_path, runs):
    from regdna.plot.uncertainty import calibration_bars
    from regdna.report.collect import read_run

    assert [U.sig(v) for v in (0.08123, 0.9, 1.0, 123.4, 1234.5, 12, 5e-5, float("nan"), None)] \
        == ["0.0812", "0.900", "1.00", "123", "1,234", "12", "5.00e-05", None, None]
    assert U.temperature_text([1.0, 2.0]) == "1.00, 2.00"
    assert U.temperature_text([0.5, 1, 2, 3, 4.25]) == "0.500–4.25 (5 outputs)"
    frame = U.bars_frame([read_run(r) for r in runs], "test")
    assert frame["run"].tolist() == ["calibrated", "old", "regression"]
    assert frame["ece_before"].tolist()[0] == 0.08123 and np.isnan(frame["ece_after"][1])
    assert frame["coverage"].tolist()[2] == 0.79345 and frame["level"].tolist()[2] == 0.8
    assert calibration_bars(frame, tmp_path / "bars.png").stat().st_size > 5_000
    assert calibration_bars(frame.iloc[[1]], tmp_path / "none.png") is None


def test_report_of_a_trained_run_shows_its_calibration(basset_run, tmp_path):
    """A run that `fit` wrote and `evaluate` evaluated: its own ECE before / after, coverage,
    validation temperature and OOD thresholds (read back with load_ood) are on the page."""
    from regdna.evaluate.ood_fit import load_ood

    page = run_report([basset_run], tmp_path / "report.html")["out"].read_text()
    section = _section(page, "Calibration and uncertainty")
    metrics = json.loads((basset_run / "metrics_test.json").read_text())
    cells = _cells(_table_after(section, "id='uncertainty-test'"), basset_run.name)
    assert cells[1:3] == [U.sig(metrics["calibration"]["before"]["ece"]),
                          U.sig(metrics["calibration"]["after"]["ece"])]
    assert cells[8] == U.sig(metrics["conformal"]["empirical_coverage"])
    record = layout.read_calibration(basset_run)
    assert _cells(_table_after(section, "id='uncertainty-fit'"), basset_run.name)[:2] == \
        [U.sig(record["n"]), U.sig(record["temperature"])]
    scorer = load_ood(basset_run)
    assert _cells(_table_after(section, "id='uncertainty-ood'"), basset_run.name)[:2] == \
        [U.sig(scorer.thresholds["ood_embedding"]), U.sig(scorer.thresholds["ood_stats"])]
    assert (layout.figures_dir(basset_run) / "reliability_test.png").read_bytes() in _images(section)
