"""`regdna tune` keeps its promises: an extended study never re-proposes a finished trial, a study
is only extended with the settings it was run with, and --out follows the output policy (that of
`regdna tokens`: tests/models/test_tokens.py)."""
import optuna
import pytest

from regdna.errors import RegdnaError
from regdna.train.tune import CPU_BUDGET, step_budget, tune

SPACE = {"optim.lr": {"type": "float", "low": 1e-4, "high": 3e-2, "log": True},
         "model.options.dropout": {"type": "float", "low": 0.0, "high": 0.3}}
TINY = ["model.options.d_model=16", "model.options.n_layers=1", "model.options.k=3",
        "data.batch_size=16", "predict.rc_average=false"]
FAST = dict(space=SPACE, overrides=TINY, max_steps=4, eval_every=2, train_subsample=48,
            objective="auroc")


def _cli(args, capsys):
    from regdna.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(args)
    err = capsys.readouterr().err.strip()
    return exit_.value.code, err


def test_extending_a_study_proposes_new_parameters(lm_dataset_dir, tmp_path):
    out = tmp_path / "tune"
    tune(lm_dataset_dir, "tinyformer", out, trials=2, **FAST)
    study = tune(lm_dataset_dir, "tinyformer", out, trials=3, **FAST)
    params = [t.params for t in study.trials]
    assert len(params) == 3
    # before: the sampler was seeded alike in every process, so trial 2 repeated trial 0
    assert params[2] != params[0] and params[2] != params[1]
    assert params[2]["optim.lr"] != pytest.approx(params[0]["optim.lr"])


def test_a_study_is_not_extended_with_other_settings(lm_dataset_dir, tmp_path):
    out = tmp_path / "tune"
    tune(lm_dataset_dir, "tinyformer", out, trials=1, **FAST)
    with pytest.raises(RegdnaError, match=r"max_steps changed.*--study-name"):
        tune(lm_dataset_dir, "tinyformer", out, trials=2, **{**FAST, "max_steps": 6})
    other_space = {**SPACE, "optim.lr": {"type": "float", "low": 1e-3, "high": 1e-2}}
    with pytest.raises(RegdnaError, match=r"\(space changed"):
        tune(lm_dataset_dir, "tinyformer", out, trials=2, **{**FAST, "space": other_space})
    storage = f"sqlite:///{out / 'study.db'}"
    assert len(optuna.load_study(study_name="regdna-tinyformer", storage=storage).trials) == 1
    # --overwrite starts over with the new settings
    study = tune(lm_dataset_dir, "tinyformer", out, trials=1, overwrite=True,
                 **{**FAST, "max_steps": 6, "eval_every": 3})
    assert len(study.trials) == 1


def test_tune_out_policy(lm_dataset_dir, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    args = ["tune", "--data", str(lm_dataset_dir), "--model", "tinyformer", "--trials", "1",
            "--max-steps", "4", "--eval-every", "2", "--train-subsample", "48",
            "--objective", "auroc"] + [a for o in TINY for a in ("--set", o)]
    code, err = _cli(args + ["--out", str(out)], capsys)
    assert code == 2 and "not empty" in err and "--overwrite" in err and "\n" not in err
    assert (out / "notes.txt").read_text() == "keep me" and not (out / "study.db").exists()
    code, err = _cli(args + ["--out", str(lm_dataset_dir.parent)], capsys)
    assert code == 2 and "contains the input" in err


def test_cpu_trials_get_a_small_step_budget(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert step_budget(None, None) == CPU_BUDGET == (300, 100)
    assert step_budget(50, None) == (50, 10)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert step_budget(None, None) == (1000, 200)
