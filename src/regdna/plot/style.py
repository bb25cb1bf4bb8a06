"""Conventions every regdna figure shares: the headless Agg backend, one type scale, no top or
right spines, PNG at 150 dpi written atomically (a killed job never leaves half a figure)."""
from __future__ import annotations

from pathlib import Path

DPI = 150
RC = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10,
      "axes.spines.top": False, "axes.spines.right": False}


def pyplot():
    """matplotlib.pyplot on the Agg backend with regdna's style applied."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(RC)
    return plt


def save(fig, path, tight_layout: bool = True) -> Path:
    """Write `fig` as PNG to `path` (parents created, atomic) and close it."""
    from regdna.utils.atomic import atomic_file

    path = Path(path)
    if tight_layout:
        fig.tight_layout()
    with atomic_file(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=DPI, bbox_inches="tight")
    pyplot().close(fig)
    return path
