"""NPZ files in the layout of Morenu n.d.: `X` one-hot (N, L, 4) with columns A, C, G, T (an
all-zero column is N) and `y` labels (N,) or (N, T). Optional `ids` (N,) strings.

Read as `prepare` input (`--npz`) and written by `prepare --export npz` (one file per split).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from regdna.encode.onehot import one_hot, one_hot_to_strings
from regdna.errors import RegdnaError
from regdna.io.textfile import reading
from regdna.utils.atomic import atomic_file


def _load(path: Path):
    if not path.is_file():
        raise RegdnaError(f"NPZ file {path} does not exist; check the path.")
    try:
        return np.load(path, allow_pickle=False)
    except Exception as err:
        raise RegdnaError(f"cannot read NPZ {path}: {err}") from err


def read_npz(path: str | Path, chunk_size: int = 50_000) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """Yield (frame with `id`, `sequence`, `row`; labels (n,) or (n, T)) chunks from an NPZ in that
    layout.

    Raises:
        RegdnaError: missing `X` or `y`, `X` not (N, L, 4), or `y` of another length.
    """
    path = Path(path)
    data = _load(path)
    for key in ("X", "y"):
        if key not in data.files:
            raise RegdnaError(f"{path}: no array '{key}' (has {', '.join(data.files)}); the layout is "
                              "X one-hot (N, L, 4) and y labels (N,) or (N, T).")
    with reading(path):  # arrays are decompressed here, not at np.load
        x, y = data["X"], data["y"]
        ids = data["ids"].astype(str) if "ids" in data.files else None
    if x.ndim != 3 or x.shape[2] != 4:
        if x.ndim == 3 and x.shape[1] == 4:
            raise RegdnaError(f"{path}: X has shape {x.shape}, which looks channels-first (N, 4, L); "
                              "save it as (N, L, 4) (X.transpose(0, 2, 1)).")
        raise RegdnaError(f"{path}: X has shape {x.shape}; expected one-hot (N, L, 4).")
    if len(y) != len(x):
        raise RegdnaError(f"{path}: y has {len(y)} rows but X has {len(x)}.")
    for lo in range(0, len(x), chunk_size):
        hi = min(lo + chunk_size, len(x))
        frame = pd.DataFrame({
            "id": ids[lo:hi] if ids is not None else [f"{path.stem}_{i}" for i in range(lo, hi)],
            "sequence": one_hot_to_strings(x[lo:hi]),
            "row": np.arange(lo, hi),
        })
        yield frame, np.asarray(y[lo:hi])


def write_npz(path: str | Path, seqs: list[str], y: np.ndarray, ids: list[str] | None = None) -> None:
    """Write X one-hot (N, L, 4) float32 and y (N,) or (N, T) float32, compressed, atomically."""
    arrays = {"X": one_hot(seqs), "y": np.asarray(y, dtype=np.float32)}
    if ids is not None:
        arrays["ids"] = np.asarray(ids, dtype=str)
    with atomic_file(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)
