"""Token-length figure of `regdna tokens` (`tokens.png`)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from regdna.plot.style import pyplot, save


def token_length_histogram(lengths: np.ndarray, max_length: int, truncation_rate: float,
                           path: Path, percentiles: Mapping[str, float] | None = None,
                           title: str = "") -> Path:
    """Histogram of tokens per sequence, with percentile lines and the chosen max_length.

    Parameters
    ----------
    lengths : (N,) int array
        tokens per sequence, special tokens included.
    max_length : int
        the max_length to mark (tokens), drawn as a red line.
    truncation_rate : float
        fraction of sequences longer than `max_length` (0..1), printed in the legend.
    path : path
        PNG to write.
    percentiles : mapping label -> tokens, optional
        e.g. {"P50": 101.0, "P99": 188.0}: dotted / dashed grey lines, in order.
    title : str

    Returns
    -------
    Path
        `path`.
    """
    plt = pyplot()
    lengths = np.asarray(lengths)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    low, high = int(lengths.min()), int(lengths.max())
    # one bar per token count when the range is narrow, else 60 bins
    bins = np.arange(low - 0.5, high + 1.5) if high - low < 60 else 60
    ax.hist(lengths, bins=bins, color="#4C72B0", edgecolor="white")
    ax.set_xlim(min(low, max_length) - 2, max(high, max_length) + 2)
    ax.xaxis.get_major_locator().set_params(integer=True)
    for (label, value), style in zip((percentiles or {}).items(), (":", "--", "-.", ":")):
        ax.axvline(value, color="0.3", linestyle=style, label=f"{label} = {value:.0f}")
    ax.axvline(max_length, color="#C44E52", linewidth=2,
               label=f"max_length = {max_length} ({100 * truncation_rate:.2f}% truncated)")
    ax.set_xlabel("tokens per sequence (incl. special tokens)", fontsize=11)
    ax.set_ylabel("sequences", fontsize=11)
    ax.set_title(title, fontsize=12)
    ax.legend(fontsize=9, frameon=False)
    return save(fig, path)
