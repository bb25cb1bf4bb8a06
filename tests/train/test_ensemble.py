"""Deep ensembles and MC dropout (regdna.train.ensemble, regdna.models.ensemble, the Predictor's
samples): what they train, what they load, and what their spread says."""
import copy

import numpy as np
import pandas as pd
import pytest

from helpers import random_seqs
from regdna.errors import RegdnaError

TINY = ["model.options={filters: 0.25, hidden: 32, bins: 1, exp_activation: true}",
        "data.batch_size=32", "train.max_epochs=2", "train.patience=0"]


def _cnn(seed: int, dropout: float = 0.0):
    """A small basset (2 outputs), dropout only where asked for."""
    import torch

    from regdna.models.cnn import basset

    torch.manual_seed(seed)
    return basset(2, filters=0.25, hidden=32, dropout=dropout, bins=1).eval()


def test_ensemble_seeds_parse_and_refuse():
    from regdna.train.ensemble import ensemble_seeds

    assert ensemble_seeds(3, base_seed=7) == [7, 8, 9]
    assert ensemble_seeds(seeds="4, 2,9") == [4, 2, 9]
    assert ensemble_seeds(None) is None and ensemble_seeds(1) is None
    for bad in ({"ensemble": 2, "seeds": "0,1"}, {"seeds": "0"}, {"seeds": "1,1"},
                {"seeds": "a,b"}, {"ensemble": 0}):
        with pytest.raises(RegdnaError):
            ensemble_seeds(**bad)


def test_identical_members_have_zero_std_and_the_members_logits():
    from regdna.models.ensemble import Ensemble
    from regdna.runs.predictor import Predictor

    one = _cnn(0)
    ensemble = Ensemble([one, copy.deepcopy(one), copy.deepcopy(one)])
    seqs = random_seqs(16, 120, seed=3)
    single = Predictor(one, "multilabel", ["a", "b"], length=120, device="cpu")
    many = Predictor(ensemble, "multilabel", ["a", "b"], length=120, device="cpu")
    assert many.is_ensemble and many.n_samples == 3 and not single.is_ensemble
    logits, samples = many.logits_with_samples(seqs)
    assert samples.shape == (3, 16, 2)
    np.testing.assert_allclose(logits, single.logits(seqs), atol=1e-5)
    assert np.abs(many.predict_std(samples)).max() == 0.0


def test_ensemble_logits_are_the_members_mean_and_members_differ():
    from regdna.models.ensemble import Ensemble
    from regdna.runs.predictor import Predictor

    members = [_cnn(0), _cnn(1)]
    predictor = Predictor(Ensemble(members), "multilabel", ["a", "b"], length=120, device="cpu",
                          rc_average=True)
    seqs = random_seqs(8, 120, seed=4)
    each = [p.logits(seqs) for p in predictor.member_predictors()]
    np.testing.assert_allclose(predictor.logits(seqs), np.mean(each, axis=0), atol=1e-5)
    np.testing.assert_allclose(predictor.sample_logits(seqs), np.stack(each), atol=1e-5)
    assert predictor.predict_std(predictor.sample_logits(seqs)).mean() > 1e-3
    # gradients of the mean model are the mean of the members' gradients (linearity)
    grads = [p.input_gradients(seqs[:3]) for p in predictor.member_predictors()]
    np.testing.assert_allclose(predictor.input_gradients(seqs[:3]), np.mean(grads, axis=0),
                               atol=1e-5)


def test_mc_dropout_is_seeded_stochastic_and_needs_dropout():
    from regdna.runs.predictor import Predictor

    seqs = random_seqs(12, 120, seed=5)
    model = _cnn(0, dropout=0.3)
    mc = Predictor(model, "multilabel", ["a", "b"], length=120, device="cpu", mc_dropout=6)
    plain = Predictor(model, "multilabel", ["a", "b"], length=120, device="cpu")
    samples = mc.sample_logits(seqs)
    assert samples.shape == (6, 12, 2) and mc.n_samples == 6
    np.testing.assert_array_equal(samples, mc.sample_logits(seqs))          # seeded
    np.testing.assert_array_equal(mc.logits(seqs), mc.logits(seqs))
    assert mc.predict_std(samples).mean() > 1e-3                             # dropout is on
    assert np.abs(mc.logits(seqs) - plain.logits(seqs)).max() > 1e-4
    assert not model.training and all(not m.training for m in model.modules())
    with pytest.raises(RegdnaError, match="no dropout layer"):
        Predictor(_cnn(0), "multilabel", ["a", "b"], device="cpu", mc_dropout=4)


def test_train_ensemble_run_dir_predict_evaluate_and_resume(dataset_dir, tmp_path, capsys):
    from regdna.evaluate.evaluate import run_evaluate
    from regdna.evaluate.predict import run_predict
    from regdna.runs import layout, load_predictor
    from regdna.runs.checkpoint import load_state_dict
    from regdna.train.train import run_train

    run = tmp_path / "ens"
    summary = run_train(dataset_dir, "basset", run, overrides=TINY + ["model.ensemble=[3, 5]"],
                        progress=False)
    assert summary["best"] is None and len(summary["members"]) == 2 and summary["epochs"] == 4
    for seed in (3, 5):
        member = layout.member_dir(run, seed)
        assert layout.read_threshold_record(member) is not None
        assert load_predictor(member).n_samples == 1
    state = load_state_dict(layout.checkpoint_file(run, "best"))
    assert {k.split(".")[1] for k in state} == {"0", "1"}
    for name in ("threshold.json", "calibration.json", "ood.npz", "resources.json"):
        assert (run / name).is_file(), name
    assert layout.read_resources(run)["n_members"] == 2

    predictor = load_predictor(run)
    seqs = pd.read_parquet(dataset_dir / "test.parquet")["sequence"].tolist()[:40]
    members = [load_predictor(layout.member_dir(run, s)) for s in (3, 5)]
    np.testing.assert_allclose(predictor.logits(seqs), np.mean([m.logits(seqs) for m in members],
                                                                axis=0), atol=1e-5)

    table = tmp_path / "seqs.tsv"
    pd.DataFrame({"id": [f"s{i}" for i in range(40)], "sequence": seqs}).to_csv(table, sep="\t",
                                                                                 index=False)
    out = pd.read_csv(run_predict(run, tmp_path / "p.tsv", table=table)["out"], sep="\t")
    probs = np.stack([m.predict(seqs)[:, 0] for m in members])
    np.testing.assert_allclose(out["label_std"], probs.std(axis=0), atol=1e-5)

    report = run_evaluate(run, n_boot=20, figures=False)
    section = report["members"]
    assert section["kind"] == "member" and [m["seed"] for m in section["metrics"]] == [3, 5]
    for record, member in zip(section["metrics"], members):
        assert record["auroc"] == pytest.approx(run_evaluate(
            layout.member_dir(run, record["seed"]), n_boot=20, figures=False)["auroc"], abs=1e-6)
    assert section["ensemble"]["auroc"] == pytest.approx(report["auroc"])

    # a finished ensemble resumes without training again; other seeds are another ensemble
    capsys.readouterr()
    run_train(dataset_dir, "basset", run, overrides=TINY + ["model.ensemble=[3, 5]"],
              resume=True, progress=False)
    assert "ensemble member" not in capsys.readouterr().out
    with pytest.raises(RegdnaError, match="changed since the run started"):
        run_train(dataset_dir, "basset", run, overrides=TINY + ["model.ensemble=[3, 6]"],
                  resume=True, progress=False)


def test_interrupted_ensemble_finishes_the_missing_member(dataset_dir, tmp_path):
    """A member dir already finished is kept as it is; the others are trained on --resume."""
    from regdna.runs import layout
    from regdna.train.train import run_train

    run = tmp_path / "ens"
    run_train(dataset_dir, "basset", run, overrides=TINY + ["model.ensemble=[0, 1]"],
              progress=False)
    kept = layout.checkpoint_file(layout.member_dir(run, 0), "best").stat().st_mtime_ns
    # simulate a stop during member 1: its threshold.json (written last) and the ensemble's gone
    (layout.member_dir(run, 1) / layout.THRESHOLD).unlink()
    (run / layout.THRESHOLD).unlink()
    run_train(dataset_dir, "basset", run, overrides=TINY + ["model.ensemble=[0, 1]"],
              resume=True, progress=False)
    assert layout.checkpoint_file(layout.member_dir(run, 0), "best").stat().st_mtime_ns == kept
    assert layout.read_threshold_record(run) is not None


def test_a_token_ensemble_has_no_single_token_embedding():
    """A gradient at member 0's embedding would explain member 0 alone: refused in one line."""
    import torch

    from regdna.models.base import RegdnaModel
    from regdna.models.ensemble import Ensemble

    class Tokens(RegdnaModel):
        input_kind = "tokens"
        pad_token_id = 3

        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(8, 4)

    ensemble = Ensemble([Tokens(), Tokens()])
    assert ensemble.input_kind == "tokens" and ensemble.pad_token_id == 3
    with pytest.raises(RegdnaError, match="member by member"):
        ensemble.token_embedding()
