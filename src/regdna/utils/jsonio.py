"""JSON for regdna's outputs: numpy scalars, paths and NaN made JSON-safe, written atomically."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np


def to_jsonable(value: Any) -> Any:
    """`value` with numpy scalars as Python numbers, NaN / inf as None, paths and keys as strings,
    tuples as lists (recursively), so that `json.dumps` writes valid, portable JSON."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, os.PathLike):
        return str(value)
    return value


def write_json(path: str | os.PathLike, value: Any, indent: int = 2) -> Path:
    """Write `to_jsonable(value)` to `path` atomically (temporary file, then rename)."""
    from regdna.utils.atomic import atomic_file

    with atomic_file(path) as handle:
        handle.write(json.dumps(to_jsonable(value), indent=indent) + "\n")
    return Path(path)
