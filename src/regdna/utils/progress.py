"""The one progress bar of regdna (tqdm): shown on a terminal, silent in logs and pipes."""
from __future__ import annotations

from typing import Iterable


def progress(iterable: Iterable | None = None, total: int | None = None, desc: str = "",
             unit: str = "it", enabled: bool = True):
    """A tqdm bar over `iterable` (or a manual one: call `.update(n)`); `enabled=False` or a
    stderr that is not a terminal gives a bar that prints nothing."""
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, smoothing=0.1,
                disable=None if enabled else True)
