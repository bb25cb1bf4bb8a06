"""regdna report with a profile run beside a binary run: run dirs written by hand in the run-dir
contract (metrics_<split>.json of a profile run, robustness_<split>.json and the figures, as
`regdna evaluate` and `regdna robustness` write them), and the numbers found on the page."""
import base64
import json
import re

import pytest
import yaml

from regdna.report.report import run_report
from regdna.runs import layout

TRACKS = {"K562": {"pearson": 0.7771, "spearman": 0.5432, "mse": 1.234, "pearson_whole": 0.6543,
                   "mse_whole": 2.5, "mse_whole_scaled": 2.25, "scale": 1.1, "auroc": 0.9123,
                   "pr_auc": 0.8012},
          "HepG2": {"pearson": 0.6661, "spearman": 0.4321, "mse": 0.987, "pearson_whole": None,
                    "mse_whole": None, "mse_whole_scaled": None, "scale": None, "auroc": None,
                    "pr_auc": None}}


def _png(path, color):
    from regdna.plot.style import pyplot, save

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [1, 0], color=color)
    return save(fig, path)


def _config(run, task):
    run.mkdir(parents=True)
    (run / "config.yaml").write_text(yaml.safe_dump({
        "model": {"spec": "residualbind-32" if task == "profile" else "cnn", "options": {}},
        "dataset": {"path": None, "task": task}}))


@pytest.fixture()
def runs(tmp_path):
    profile = tmp_path / "profile_run"
    _config(profile, "profile")
    means = {k: sum(v[k] for v in TRACKS.values()) / 2 for k in ("pearson", "spearman", "mse")}
    layout.write_split_metrics(profile, "metrics_test.json", {
        "task": "profile", "split": "test", "data": "data", "model": "residualbind-32", "n": 321,
        "bin_size": 32, "tracks": list(TRACKS), "per_track": TRACKS, **means,
        "pearson_whole": 0.6543, "auroc": 0.9123, "pr_auc": 0.8012,
        "whole": {"chroms": ["chr8", "chr9"], "n_windows": 4321, "n_bins": 9, "skipped_windows": 3},
        "bigwigs": {t: f"predictions_test/{t}.bw" for t in TRACKS}})
    layout.write_robustness(profile, "test", {
        "split": "test", "kind": "profile", "n": 210, "n_shifts": 20, "region_bp": 1792,
        "mean_variation": 0.1357, "median_variation": 0.1248,
        "per_track": {"K562": 0.1411, "HepG2": 0.1303, "ATAC": None}})
    layout.robustness_path(profile, "test", "tsv").write_text("id\ttrack\tvariation\nw1\tK562\t0.1\n")
    _png(layout.tracks_figure(profile, "test"), "red")
    _png(layout.robustness_figure(profile, "test"), "blue")
    binary = tmp_path / "binary_run"
    _config(binary, "binary")
    layout.write_split_metrics(binary, "metrics_test.json", {"n": 200, "n_pos": 100,
                                                             "auroc": 0.8777, "pr_auc": 0.8555})
    layout.write_robustness(binary, "test", {
        "split": "test", "kind": "probability", "n": 99, "n_shifts": 10, "region_bp": 180,
        "mean_variation": 0.0468, "median_variation": 0.0357, "per_track": {"label": 0.0468}})
    return profile, binary


def _section(page: str, heading: str) -> str:
    return page.split(f"<h2>{heading}</h2>")[1].split("</section>")[0]


def _row(html: str, first_cell: str) -> list[str]:
    row = re.search(rf"<tr><td>{first_cell}</td>(.*?)</tr>", html).group(1)
    return re.findall(r"<td[^>]*>(.*?)</td>", row)


def test_profile_run_beside_binary_run(tmp_path, runs):
    profile, binary = runs
    out = run_report([profile, binary], tmp_path / "report.html")["out"]
    page = out.read_text()
    metrics = _section(page, "Metrics")
    assert "<b>profile_run</b>" in metrics and "<b>binary_run</b>" in metrics
    # the shared table: AUROC of both runs (the profile's best), and the profile's mean Pearson
    assert "<td class='num best'>0.912</td>" in metrics and "<td class='num'>0.878</td>" in metrics
    assert f"<td class='num'>{(0.7771 + 0.6661) / 2:.3f}</td>" in metrics
    profiles = _section(page, "Profiles")
    header = re.search(r"<thead><tr><th>track</th>(.*?)</tr>", profiles).group(1)
    assert re.findall(r"<th>(.*?)</th>", header)[:5] == ["pearson", "pearson whole", "spearman",
                                                         "MSE", "AUROC"]
    assert _row(profiles, "K562")[:5] == ["0.777", "0.654", "0.543", "1.234", "0.912"]
    assert _row(profiles, "HepG2")[:5] == ["0.666", "–", "0.432", "0.987", "–"]
    assert "<dd>chr8, chr9</dd>" in profiles and "<dd>4,321</dd>" in profiles
    # robustness of both runs, with the per-track means
    rob = profiles.split("Robustness to shifts")[1]
    assert re.search(r"<b>profile_run</b></td><td class='num'>profile</td><td class='num'>210</td>"
                     r"<td class='num'>20</td><td class='num'>1,792</td><td class='num'>0.136</td>"
                     r"<td class='num'>0.125</td><td>K562 0.141, HepG2 0.130, ATAC –</td>", rob)
    assert "<td class='num'>probability</td>" in rob and "<td class='num'>0.047</td>" in rob
    # the track and robustness figures sit beside their numbers, once on the page
    for path in (layout.tracks_figure(profile, "test"), layout.robustness_figure(profile, "test")):
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        assert page.count(encoded) == 1 and encoded in profiles


def test_robustness_without_metrics_is_shown(tmp_path, runs):
    profile, _ = runs
    (profile / "metrics_test.json").unlink()
    page = run_report([profile], tmp_path / "report.html")["out"].read_text()
    assert "No <code>metrics_&lt;split&gt;.json</code>" in page
    assert "<td class='num'>0.136</td>" in _section(page, "Profiles")
    assert json.loads(layout.robustness_path(profile, "test").read_text())["n"] == 210
