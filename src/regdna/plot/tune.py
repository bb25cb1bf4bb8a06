"""Figures of a hyper-parameter study (`regdna tune`): the optimisation history and the parameter
importance. They draw the numbers they are given; `regdna.train.tune_outputs` extracts them from
the Optuna study."""
from __future__ import annotations

from pathlib import Path

from regdna.plot.style import pyplot, save


def optimisation_history(completed: list[tuple[int, float]], pruned: list[tuple[int, float]],
                         title: str, path: Path) -> Path:
    """Objective per trial: completed trials as dots, pruned trials as crosses at their last
    reported value, and the best completed value so far as a step line.

    Parameters
    ----------
    completed : (trial number, objective) of the completed trials, in trial order.
    pruned : (trial number, last intermediate objective) of the pruned trials.
    title : the study's name.
    path : PNG to write.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    if completed:
        ax.scatter(*zip(*completed), color="#4C72B0", zorder=3, label="completed")
    if pruned:
        ax.scatter(*zip(*pruned), marker="x", color="#C44E52", zorder=3, label="pruned")
    best_x, best_y = [], []
    for number, value in completed:
        best_x.append(number)
        best_y.append(max(value, best_y[-1]) if best_y else value)
    ax.step(best_x, best_y, where="post", color="0.2", label="best so far")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False, fontsize=9)
    ax.set_xlabel("trial", fontsize=11)
    ax.set_ylabel("validation objective", fontsize=11)
    ax.set_title(f"Optimisation history: {title}", fontsize=12)
    ax.spines[["top", "right"]].set_visible(False)
    return save(fig, path)


def parameter_importance(importance: dict[str, float], title: str, path: Path) -> Path:
    """Horizontal bars of parameter importance (fraction of the objective's variance), the most
    important on top.

    Parameters
    ----------
    importance : parameter name -> importance, most important first.
    title : the study's name.
    path : PNG to write.
    """
    plt = pyplot()
    names = list(importance)[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1.5))
    ax.barh(names, [importance[n] for n in names], color="#55A868")
    ax.set_xlabel("importance (fANOVA: fraction of objective variance)", fontsize=11)
    ax.set_title(f"Hyper-parameter importance: {title}", fontsize=12)
    ax.spines[["top", "right"]].set_visible(False)
    return save(fig, path)
