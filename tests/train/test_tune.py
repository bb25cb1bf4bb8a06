"""`regdna tune` (regdna.train.tune): a resumable Optuna study and its default search space."""
import optuna
import pytest

from regdna.train.tune import default_space, suggest, tune

SPACE = {"optim.lr": {"type": "float", "low": 1e-4, "high": 3e-2, "log": True},
         "model.options.dropout": {"type": "float", "low": 0.0, "high": 0.3},
         "optim.beta2": {"type": "float", "low": 0.98, "high": 0.9995}}
TINY = ["model.options.d_model=16", "model.options.n_layers=1", "model.options.k=3",
        "data.batch_size=16", "predict.rc_average=false"]


def test_tune_resumes_without_repeating_trials(lm_dataset_dir, tmp_path):
    from regdna.runs.config import load_config

    out = tmp_path / "tune"
    kwargs = dict(space=SPACE, overrides=TINY, max_steps=6, eval_every=3, train_subsample=64,
                  objective="auroc")
    study = tune(lm_dataset_dir, "tinyformer", out, trials=2, **kwargs)
    assert len(study.trials) == 2
    first = [(t.number, t.params) for t in study.trials]
    # a process killed mid-trial leaves a RUNNING trial with sampled parameters behind
    killed = optuna.load_study(study_name=study.study_name, storage=f"sqlite:///{out / 'study.db'}")
    stale = killed.ask()
    stale_params = suggest(stale, SPACE)
    study = tune(lm_dataset_dir, "tinyformer", out, trials=3, **kwargs)
    states = [t.state for t in study.trials]
    finished = [t for t in study.trials if t.state != optuna.trial.TrialState.FAIL]
    assert len(finished) == 3                                   # exactly one new trial ran
    assert [(t.number, t.params) for t in finished[:2]] == first  # old trials untouched
    assert states[2] == optuna.trial.TrialState.FAIL             # the stale trial
    assert finished[2].params == pytest.approx(stale_params)     # ... was tried again first
    best = load_config(out / "best.yaml")
    assert best.model.spec == "tinyformer"
    assert best.optim.lr == pytest.approx(study.best_params["optim.lr"])
    assert best.optim.betas[1] == pytest.approx(study.best_params["optim.beta2"])
    assert best.train.max_steps == -1                # the per-trial step cap is not carried over
    assert (out / "history.png").stat().st_size > 10_000
    assert (out / "importance.png").stat().st_size > 10_000
    assert len(list((out / "trials").iterdir())) == 1          # only the best trial's run kept
    # a third call asking for no more trials runs none
    assert len(tune(lm_dataset_dir, "tinyformer", out, trials=3, **kwargs).trials) == 4


def test_default_space_follows_seed_001():
    space = default_space("hf:x", "finetune")
    assert space["optim.lr"] == {"type": "float", "low": 5e-6, "high": 5e-4, "log": True}
    assert {"optim.eps", "optim.beta2", "train.label_smoothing", "optim.grad_clip",
            "model.options.attention_dropout", "optim.accumulate"} <= set(space)
