"""Attribution maps averaged over an ensemble's members, with their agreement (Koo & Ploenzke
2021; Majdandzic et al. 2023): identical members agree exactly, the saliency of the mean model
is the mean of the members' saliency, the averaged map finds planted motifs at least as well
as its members on average, and `regdna attribute` on an ensemble run writes it."""
import copy
import json

import numpy as np
import pandas as pd
import pytest
import torch

from regdna.encode.onehot import one_hot
from regdna.interpret.attribute import ensemble_attributions, mean_pairwise_correlation
from regdna.interpret.attributions import attribute
from regdna.interpret.sites import site_auroc
from regdna.models.ensemble import Ensemble
from regdna.runs.predictor import Predictor

from interp_helpers import TOY_LENGTH, TOY_MOTIF, fit_binary, make_planted


def _predictor(members):
    return Predictor(Ensemble(members), task="binary", labels=["active"], length=TOY_LENGTH,
                     device="cpu")


@pytest.fixture(scope="module")
def toy_ensemble(toy_predictor):
    """Three ToyCNNs (the class of `toy_predictor`'s model) trained 3 epochs on planted-motif
    sequences from seeds 0, 1, 2: they find the motif, each a little differently."""
    seqs, labels, _ = make_planted(150, seed=1)
    x = torch.from_numpy(one_hot(seqs, channels_first=True))
    y = torch.from_numpy(labels)[:, None]
    members = []
    for seed in range(3):
        torch.manual_seed(seed)
        members.append(fit_binary(type(toy_predictor.model)(), x, y, epochs=3, batch=50))
    return _predictor(members)


@pytest.fixture(scope="module")
def planted():
    """20 positives with TOY_MOTIF and their (20, L) site mask."""
    seqs, labels, starts = make_planted(20, seed=7)
    pos = labels == 1
    seqs = [s for s, p in zip(seqs, pos) if p]
    mask = np.zeros((len(seqs), TOY_LENGTH), dtype=bool)
    for i, s in enumerate(starts[pos]):
        mask[i, s:s + len(TOY_MOTIF)] = True
    return seqs, mask


@pytest.mark.parametrize("method", ["saliency", "integrated_gradients"])
def test_identical_members_agree_exactly_and_average_to_the_member_map(toy_predictor, planted,
                                                                        method):
    seqs, _ = planted
    member = toy_predictor.model
    ensemble = _predictor([copy.deepcopy(member) for _ in range(3)])
    # batches of 3 over 8 sequences: every member draws the references `attribute` draws
    maps = ensemble_attributions(ensemble, seqs[:8], method, batch_size=3, n_references=2,
                                 n_steps=4)
    single = attribute(toy_predictor, seqs[:8], method, hypothetical=True, batch_size=3,
                       n_references=2, n_steps=4)
    np.testing.assert_allclose(maps["hypothetical"], single, atol=1e-6)
    expected = single if method == "saliency" else single * one_hot(seqs[:8])
    np.testing.assert_allclose(maps["attributions"], expected, atol=1e-6)
    np.testing.assert_allclose(maps["agreement"], 1.0, atol=1e-6)
    assert maps["agreement_map"] == ("full map (L x 4)" if method == "saliency"
                                     else "observed-base scores (L)")


@pytest.mark.parametrize("method", ["saliency", "integrated_gradients", "deeplift_shap", "ism"])
def test_the_mean_model_map_is_the_mean_of_member_maps(toy_ensemble, planted, method):
    """Linearity: the ensemble's logit is the members' mean, so the gradient of the mean is the
    mean of the gradients (and likewise for path integrals, DeepLIFT's per-neuron rescale rule
    and mutation deltas with the same references)."""
    seqs, _ = planted
    options = dict(n_references=2, n_steps=4, batch_size=7)
    averaged = ensemble_attributions(toy_ensemble, seqs, method, **options)
    mean_model = attribute(toy_ensemble, seqs, method, hypothetical=True, **options)
    assert np.abs(mean_model).max() > 1e-2          # not a trivially zero map
    np.testing.assert_allclose(averaged["hypothetical"], mean_model, atol=1e-5)


def test_ensemble_map_finds_planted_sites_at_least_as_well_as_its_members(toy_ensemble,
                                                                           planted):
    """The acceptance criterion. Measured (grad x input, 20 positives): members 0.951, 0.998,
    1.000 (mean 0.983), ensemble map 1.000; agreement 0.72."""
    seqs, mask = planted
    maps = ensemble_attributions(toy_ensemble, seqs, "grad_x_input", site_rows=mask,
                                 batch_size=8)
    members = [site_auroc(scores, mask) for scores in maps["member_site_scores"]]
    ensemble = site_auroc(maps["attributions"], mask)
    print(f"site AUROC members {np.round(members, 4)} (mean {np.mean(members):.4f}), "
          f"ensemble {ensemble:.4f}, agreement {maps['agreement'].mean():.3f}")
    assert len(members) == 3
    assert ensemble >= np.mean(members)
    assert ensemble >= 0.99 and np.mean(members) < 0.995
    # the members differ (agreement clearly below 1) but share the motif (clearly above 0)
    assert 0.4 < maps["agreement"].mean() < 0.95


def test_mean_pairwise_correlation_averages_the_defined_pairs():
    a = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    b = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 2.0]])
    c = np.array([[3.0, 2.0, 1.0], [2.0, 1.0, 0.0]])
    r = mean_pairwise_correlation([a, b, c])
    assert r[0] == pytest.approx((1.0 - 1.0 - 1.0) / 3)
    assert r[1] == pytest.approx(-1.0)               # pairs with the flat row are undefined
    assert np.isnan(mean_pairwise_correlation([a[1:], a[1:]]))[0]


# -- the verb on an ensemble run dir ----------------------------------------------------------------
@pytest.fixture(scope="module")
def ensemble_run(dataset_dir, tmp_path_factory):
    """An ensemble run of 2 tiny basset members (2 epochs each, ~5 s) on `dataset_dir`."""
    from regdna.train.train import fit

    overrides = ["model.options={filters: 0.125, hidden: 16, bins: 1, exp_activation: true}",
                 "data.batch_size=32", "optim.lr=3e-3", "train.max_epochs=2", "train.patience=0",
                 "model.ensemble=[0, 1]"]
    return fit(dataset_dir, "basset", tmp_path_factory.mktemp("ens_runs") / "ens",
               overrides=overrides, progress=False)


def test_attribute_cli_on_an_ensemble_run(ensemble_run, example_dir, tmp_path, capsys):
    from regdna.cli import main

    base = ["attribute", "--run", str(ensemble_run), "--fasta", str(example_dir / "pos.fa"),
            "--n", "6", "--logos", "0"]
    main([*base, "--method", "grad_x_input", "--motifs", str(example_dir / "motifs.tsv"),
          "--logos", "1", "--out", str(tmp_path / "gxi")])
    printed = capsys.readouterr().out
    summary = json.loads((tmp_path / "gxi" / "summary.json").read_text())
    table = pd.read_csv(tmp_path / "gxi" / "agreement.tsv", sep="\t")
    members = summary["ensemble"]
    assert members["n_members"] == 2 and members["averaged"]
    assert len(table) == 6 and table.agreement.between(-1, 1).all()
    assert members["agreement_mean"] == pytest.approx(table.agreement.mean(), abs=1e-5)
    assert len(members["site_auroc_members"]) == 2
    assert "mean of 2 members' maps; agreement" in printed and "each member's" in printed
    # the written map is the members' mean
    from regdna.runs import load_predictor

    seqs = list(np.load(tmp_path / "gxi" / "attributions.npz")["onehot"].argmax(-1))
    seqs = ["".join("ACGT"[i] for i in row) for row in seqs]
    parts = [attribute(m, seqs, "grad_x_input")
             for m in load_predictor(ensemble_run, device="cpu").member_predictors()]
    np.testing.assert_allclose(np.load(tmp_path / "gxi" / "attributions.npz")["attributions"],
                               np.mean(parts, axis=0), atol=1e-6)

    # saliency: averaging the members' maps = attributing the mean model once
    main([*base, "--method", "saliency", "--out", str(tmp_path / "mean_maps")])
    main([*base, "--method", "saliency", "--no-ensemble", "--out", str(tmp_path / "mean_model")])
    assert "the mean model of 2 members, attributed once" in capsys.readouterr().out
    once = np.load(tmp_path / "mean_model" / "attributions.npz")["attributions"]
    np.testing.assert_allclose(np.load(tmp_path / "mean_maps" / "attributions.npz")["attributions"],
                               once, atol=1e-5)
    assert not (tmp_path / "mean_model" / "agreement.tsv").exists()
    assert json.loads((tmp_path / "mean_model" / "summary.json").read_text())["ensemble"] == \
        {"n_members": 2, "averaged": False}


def test_ensemble_flag_on_a_single_model_run_is_one_line(ensemble_run, example_dir, tmp_path,
                                                         capsys):
    from regdna.cli import main

    member = ensemble_run / "members" / "seed0"          # a complete run dir of one model
    with pytest.raises(SystemExit) as exit_:
        main(["attribute", "--run", str(member), "--fasta", str(example_dir / "pos.fa"),
              "--n", "2", "--ensemble", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "holds one model, not an ensemble" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
