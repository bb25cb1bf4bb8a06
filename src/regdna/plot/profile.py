"""Figures of profile runs (PNG through `regdna.plot.style`), drawing the numbers they are given:
- `tracks`: measured against predicted coverage of a few windows, one panel per window and
  track (Toneyan et al. 2022, Fig. 2);
- `variation`: the distribution of the robustness variation score per track (Toneyan et al.
  2022, Fig. 5).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from regdna.plot.style import pyplot, save

MAX_TRACKS = 4        # panels per window: the first tracks only


def tracks(windows: Sequence[dict], track_names: Sequence[str], bin_size: int, path: Path,
           title: str = "") -> Path:
    """Measured (filled steps) and predicted (line) coverage of each window, per track.

    Parameters
    ----------
    windows : one dict per window: "name" (e.g. its id), "measured" and "predicted", arrays
        (B, T) of mean coverage per bin, and "start": the genome position of its first base
        (the x axis is in genome positions; None: bp from the window start).
    track_names : the T track names (the first `MAX_TRACKS` are drawn).
    bin_size : bp per bin.
    path : PNG to write.
    """
    plt = pyplot()
    shown = list(track_names)[:MAX_TRACKS]
    rows = max(1, len(windows))
    fig, axes = plt.subplots(rows, len(shown), figsize=(4.2 * len(shown), 2.2 * rows),
                             squeeze=False)
    for i, window in enumerate(windows):
        measured = np.asarray(window["measured"], dtype=float)
        predicted = np.asarray(window["predicted"], dtype=float)
        start = window.get("start")
        edges = np.arange(measured.shape[0] + 1) * bin_size + (start or 0)
        for t, name in enumerate(shown):
            ax = axes[i][t]
            ax.stairs(measured[:, t], edges, fill=True, color="#9ecae1", label="measured")
            ax.stairs(predicted[:, t], edges, color="#d62728", lw=1.4, label="predicted")
            ax.set_xlim(edges[0], edges[-1])
            ax.ticklabel_format(axis="x", style="plain", useOffset=False)
            ax.set_title(f"{name} | {window['name']}", fontsize=9)
            if t == 0:
                ax.set_ylabel("coverage")
            if i == len(windows) - 1:
                ax.set_xlabel("genome position (bp)" if start is not None else
                              "position in window (bp)")
    axes[0][0].legend(fontsize=8, loc="upper right", frameon=False)
    if title:
        fig.suptitle(title)
    return save(fig, path)


def variation(scores: dict[str, np.ndarray], path: Path, title: str = "",
              label: str = "variation score") -> Path:
    """Box plots of the variation score per track, with the scores as points and the median.

    Parameters
    ----------
    scores : track -> (n,) variation scores of its windows (tracks without scores are listed
        with no box).
    path : PNG to write.
    """
    plt = pyplot()
    names = list(scores)
    fig, ax = plt.subplots(figsize=(max(4.5, 1.1 * len(names) + 2), 4))
    data = [np.asarray(scores[n], dtype=float) for n in names]
    data = [v[np.isfinite(v)] for v in data]
    filled = [i for i, v in enumerate(data) if len(v)]
    if filled:
        ax.boxplot([data[i] for i in filled], positions=[i + 1 for i in filled], widths=0.5,
                   showfliers=False, medianprops={"color": "#d62728"})
    rng = np.random.default_rng(0)
    for i, values in enumerate(data):
        if len(values):
            ax.scatter(i + 1 + rng.uniform(-0.15, 0.15, len(values)), values, s=6, alpha=0.4,
                       color="#1f77b4")
    ticks = [f"{n}\nmedian {np.median(v):.3g}\nn = {len(v)}" if len(v) else f"{n}\nno window"
             for n, v in zip(names, data)]
    ax.set_xticks(range(1, len(names) + 1), ticks, fontsize=8,
                  rotation=30 if len(names) > 4 else 0)
    ax.set_xlim(0.4, len(names) + 0.6)
    ax.set_ylabel(label)
    ax.set_title(title or "Robustness to shifts", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    return save(fig, path)
