"""Write files and directories so that a crash never leaves partial output behind.

Everything is first written next to its destination under a temporary name, then renamed into
place; a rename within one filesystem is atomic.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_dir(out: str | os.PathLike, overwrite: bool = True):
    """Yield a temporary directory that replaces `out` only if the block succeeds.

    >>> with atomic_dir("dataset") as tmp:
    ...     (tmp / "dataset.json").write_text("{}")
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        if not overwrite:
            shutil.rmtree(tmp, ignore_errors=True)
            raise FileExistsError(out)
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "w"):
    """Yield a file handle whose content replaces `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    os.close(fd)
    try:
        with open(tmp, mode) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def atomic_replace(tmp_path: str | os.PathLike, path: str | os.PathLike) -> None:
    """Move a finished temporary file into place."""
    os.replace(tmp_path, path)
