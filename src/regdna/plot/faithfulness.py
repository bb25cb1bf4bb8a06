"""The mutagenesis faithfulness figure (Consens et al. n.d.): accuracy per class as the top
positions of each attribution method are mutated, against random positions. Draws the table
it is given (`regdna.interpret.faithfulness.faithfulness`)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from regdna.plot.style import pyplot, save


def plot_faithfulness(path, table: pd.DataFrame, class_names: Sequence[str] | None = None,
                      title: str = "Mutagenesis faithfulness") -> Path:
    """Accuracy per class vs number of mutated positions (Consens et al. n.d., Fig. 1): one line per
    method, the random baseline with its 95% band, n = 0 as a dotted line.

    Parameters
    ----------
    path : PNG to write.
    table : the long table of `regdna.interpret.faithfulness.faithfulness` (cls, n_seqs, method,
        n, accuracy, lo, hi; accuracy a fraction in [0, 1]).
    class_names : name of each class index; None: the indices.
    title : the figure's title.

    Returns
    -------
    `path`.
    """
    plt = pyplot()
    classes = sorted(table["cls"].unique())
    fig, axes = plt.subplots(1, len(classes), figsize=(4.6 * len(classes), 3.8), squeeze=False,
                             sharey=True)
    methods = [m for m in table["method"].unique() if m not in ("none", "all", "random")]
    colours = plt.get_cmap("tab10")
    for ax, cls in zip(axes[0], classes):
        part = table[table.cls == cls]
        base = part.loc[part.method == "none", "accuracy"].iloc[0]
        start = pd.DataFrame({"n": [0], "accuracy": [base], "lo": [base], "hi": [base]})
        rnd = pd.concat([start, part[part.method == "random"].sort_values("n")])
        ax.fill_between(rnd.n, rnd.lo, rnd.hi, color="0.8", label="random (95% interval)")
        ax.plot(rnd.n, rnd.accuracy, color="0.35", linestyle="--", marker="o", markersize=3,
                label="random (mean)")
        for i, method in enumerate(methods):
            rows = pd.concat([start, part[part.method == method].sort_values("n")])
            ax.plot(rows.n, rows.accuracy, marker="o", markersize=4, color=colours(i),
                    label=method)
        ax.axhline(base, color="0.5", linestyle=":", linewidth=1, label="no mutation")
        name = class_names[cls] if class_names is not None else str(cls)
        ax.set_title(f"class {name} (n = {int(part.n_seqs.iloc[0])})")
        ax.set_xlabel("positions mutated (top-n)")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlim(left=0)
    axes[0, 0].set_ylabel("accuracy")
    axes[0, -1].legend(fontsize=8, frameon=False, loc="lower left")
    fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path, tight_layout=False)
