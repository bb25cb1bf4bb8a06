"""The one resume fingerprint of every resumable job (`vep`, `tune`, `train --resume`).

A job that resumes must produce exactly what an uninterrupted run would. It stores, beside its
partial results, a fingerprint of everything that decides the numbers or the row set: the
content of each input file (size, modification time and a hash of its head and tail, so a file
edited in place or replaced by another of the same name is noticed without reading it all), the
genome, the model weights, chunk sizes and settings. On resume the stored and the current
fingerprints are compared key by key; `differences` names what changed.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

_EDGE = 1 << 20  # bytes hashed at each end of a file


def file_identity(path: str | os.PathLike | None) -> dict | None:
    """{"path", "size", "mtime_ns", "sha256_head_tail"} of a file; a directory's files are listed."""
    if path is None:
        return None
    path = Path(path)
    if path.is_dir():
        return {"path": str(path.resolve()),
                "files": {str(p.relative_to(path)): file_identity(p)
                          for p in sorted(path.rglob("*")) if p.is_file()}}
    stat = path.stat()
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        digest.update(handle.read(_EDGE))
        if stat.st_size > 2 * _EDGE:
            handle.seek(-_EDGE, os.SEEK_END)
        digest.update(handle.read(_EDGE))
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
            "sha256_head_tail": digest.hexdigest()}


def canonical(value: Any) -> Any:
    """A JSON-comparable form of `value` (paths as strings, tuples as lists)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def fingerprint(**parts: Any) -> dict:
    """The fingerprint of a job: its parts in JSON-comparable form plus a digest of them all."""
    parts = canonical(parts)
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return {"digest": digest, "parts": parts}


def differences(stored: dict | None, current: dict) -> list[str]:
    """Names of the parts that differ between a stored and a current fingerprint ([] = same job)."""
    if not stored or "parts" not in stored:
        return ["(no fingerprint stored)"]
    if stored.get("digest") == current["digest"]:
        return []
    old, new = stored["parts"], current["parts"]
    return sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))


def read_fingerprint(path: str | os.PathLike) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def write_fingerprint(path: str | os.PathLike, value: dict) -> None:
    from regdna.utils.atomic import atomic_file

    with atomic_file(path) as handle:
        handle.write(json.dumps(value, indent=1, sort_keys=True) + "\n")
