"""JSON for regdna's files: numpy scalars, paths and NaN made JSON-safe, written atomically
(`write_json`), and read back with a damaged file named in one error (`read_json`)."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from regdna.errors import RegdnaError


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


def read_json(path: str | os.PathLike) -> dict | None:
    """A JSON object from `path`, or None when the file is absent.

    Parameters
    ----------
    path : the JSON file.

    Returns
    -------
    dict or None
        the object; a JSON value that is not an object comes back as {"value": value}.

    Raises
    ------
    RegdnaError
        naming the file (and line) when it is not valid UTF-8 JSON.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise RegdnaError(f"{path}, line {err.lineno}: not valid JSON ({err.msg}); "
                          "re-run the step that wrote it.") from None
    except UnicodeDecodeError:
        raise RegdnaError(f"{path} is not UTF-8 text, so not a JSON file regdna wrote; "
                          "re-run the step that wrote it.") from None
    return value if isinstance(value, dict) else {"value": value}
