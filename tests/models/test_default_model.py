"""The default model explains with motifs, not positions, on the shortcut grammar of
`regdna.data.grammars` (class-1 windows carry GATA1 anywhere, class-0 windows SPI1 exactly at the
centre): its strongest position falls inside the GATA1 site, and TF-MoDISco names both factors."""
import numpy as np
import pytest

from regdna.data.dataset import read_split
from regdna.interpret.attributions import attribute
from regdna.interpret.sites import site_boxes, site_mask
from regdna.runs import load_predictor
from regdna.runs.config import read_run_config

pytestmark = pytest.mark.slow


def _positives(data):
    test = read_split(data, "test")
    return test[test["label"] == 1].reset_index(drop=True)


def _peak_in_site(run, data, sites, method):
    predictor = load_predictor(run, device="cpu")
    pos = _positives(data)
    attr = attribute(predictor, list(pos.sequence), method)
    mask = site_mask(site_boxes(pos, sites), attr.shape[1])
    peak = np.abs(attr.sum(-1)).argmax(1)
    return float(mask[np.arange(len(pos)), peak].mean())


def test_the_default_is_the_measured_cnn_with_its_learning_rate(shortcut_run):
    config = read_run_config(shortcut_run)
    assert config.model.spec == "cnn" and config.optim.lr == pytest.approx(3e-3)


@pytest.mark.parametrize("method", ["grad_x_input", "ism"])
def test_default_model_peaks_inside_factor_a_sites(shortcut_data, shortcut_run, method):
    data, sites = shortcut_data        # seq_id, start, end in the sequence
    share = _peak_in_site(shortcut_run, data, sites, method)
    assert share >= 0.5, f"{method}: strongest position inside the GATA1 site for {share:.2f}"


def test_motif_discovery_names_both_factors(shortcut_data, shortcut_run, tmp_path):
    from regdna.interpret.motifs import run_motifs

    report = run_motifs(tmp_path / "motifs", run=shortcut_run, data=shortcut_data[0],
                        split="train", method="grad_x_input", n_per_class=400,
                        jaspar_release="JASPAR2026")
    best = {c["class"]: [m["best_match"] for m in c["motifs"] if m["q_value"] is not None
                         and m["q_value"] < 0.05] for c in report["classes"]}
    assert "GATA1" in best["1"], best
    assert "SPI1" in [name.upper() for name in best["0"]], best
