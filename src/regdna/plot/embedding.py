"""The figure of `regdna embed` (`regdna.interpret.embed` computes the points): a 2-D map of the
sequences' embeddings, coloured by a class or by a continuous value."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from regdna.plot.style import pyplot, save


def embedding_scatter(points: np.ndarray, values, path: Path, categorical: bool,
                      colour_label: str, title: str = "") -> Path:
    """Scatter of 2-D points, one per sequence.

    Parameters
    ----------
    points : (N, 2) float array (e.g. UMAP coordinates).
    values : N colour values: class names / labels (`categorical`) or numbers.
    path : PNG to write.
    categorical : one colour per distinct value with a legend, else a colour map with a bar.
    colour_label : what the colour shows (legend title or colour-bar label).
    title : figure title.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 5.2))
    points = np.asarray(points, dtype=float)
    size = max(3.0, min(25.0, 4000.0 / max(len(points), 1)))
    if categorical:
        names = np.asarray([str(v) for v in values])
        palette = plt.get_cmap("tab10")
        for k, name in enumerate(sorted(set(names), key=_natural)):
            keep = names == name
            ax.scatter(points[keep, 0], points[keep, 1], s=size, alpha=0.7, lw=0,
                       color=palette(k % 10), label=f"{name} ({int(keep.sum())})")
        ax.legend(title=colour_label, fontsize=8, title_fontsize=9, markerscale=2, loc="best")
    else:
        numbers = np.asarray(values, dtype=float)
        order = np.argsort(numbers, kind="stable")          # high values drawn on top
        drawn = ax.scatter(points[order, 0], points[order, 1], c=numbers[order], s=size,
                           alpha=0.8, lw=0, cmap="viridis")
        fig.colorbar(drawn, ax=ax, label=colour_label)
    ax.set(xlabel="UMAP 1", ylabel="UMAP 2", title=title or f"Embeddings by {colour_label}")
    ax.set_xticks([])
    ax.set_yticks([])
    return save(fig, path)


def _natural(name: str):
    """'2' before '10'; numbers before words."""
    try:
        return (0, float(name), "")
    except ValueError:
        return (1, 0.0, name)
