"""What `regdna tune` leaves in its output dir once the study ran: `trials.tsv`, `best.yaml`
(a config for `regdna train --config best.yaml`), `best.json`, `history.png` and `importance.png`
(fANOVA parameter importance, once completed trials differ in their objective); trial run dirs
other than the best one's are removed unless `keep_runs`."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

from regdna.plot.tune import optimisation_history, parameter_importance
from regdna.runs.config import load_config, save_config
from regdna.train.tune_space import as_overrides
from regdna.utils.atomic import atomic_file
from regdna.utils.jsonio import write_json

log = logging.getLogger(__name__)


def trial_dir(out: Path, number: int) -> Path:
    """OUT/trials/<number, 4 digits>/: the run dir of one trial."""
    return Path(out) / "trials" / f"{number:04d}"


def write_outputs(study, out: Path, base, keep_runs: bool) -> None:
    """trials.tsv, and once a trial completed best.yaml, best.json, history.png, importance.png."""
    import optuna

    frame = study.trials_dataframe(attrs=("number", "value", "state", "params"))
    with atomic_file(out / "trials.tsv") as handle:
        frame.to_csv(handle, sep="\t", index=False)
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        log.warning("no trial has completed yet: best.yaml not written")
        return
    best = study.best_trial
    best_config = load_config(None, as_overrides(best.params, base.optim.betas), base=base)
    best_config.dataset = type(best_config.dataset)()   # `fit` fills in the dataset it gets
    save_config(best_config, out / "best.yaml")
    write_json(out / "best.json", {"trial": best.number, "value": best.value, "params": best.params})
    completed, pruned = history_points(study)
    optimisation_history(completed, pruned, study.study_name, out / "history.png")
    importance = parameter_importances(study)
    if importance:
        parameter_importance(importance, study.study_name, out / "importance.png")
    if not keep_runs:
        for run in (out / "trials").glob("*"):
            if run.name != trial_dir(out, best.number).name:
                shutil.rmtree(run, ignore_errors=True)


def history_points(study) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """(trial number, objective) of completed trials, and (number, last reported value) of pruned
    trials that reported one."""
    import optuna

    completed, pruned = [], []
    for t in study.get_trials(deepcopy=False):
        if t.state == optuna.trial.TrialState.COMPLETE:
            completed.append((t.number, t.value))
        elif t.state == optuna.trial.TrialState.PRUNED and t.intermediate_values:
            pruned.append((t.number, t.intermediate_values[max(t.intermediate_values)]))
    return completed, pruned


def parameter_importances(study) -> dict[str, float]:
    """Optuna's fANOVA importance (evaluator seed 0), most important first; {} when completed
    trials share one objective value or the evaluator fails."""
    import optuna

    values = {t.value for t in study.get_trials(deepcopy=False,
                                                  states=(optuna.trial.TrialState.COMPLETE,))}
    if len(values) < 2:
        log.warning("parameter importance not computed: completed trials share one objective value")
        return {}
    try:
        return dict(optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)))
    except (RuntimeError, ValueError) as err:
        log.warning("parameter importance not computed (%s)", err)
        return {}
