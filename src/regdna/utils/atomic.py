"""Write files and directories so that a crash never leaves partial output behind.

Everything is first written next to its destination under a temporary name, then renamed into
place; a rename within one filesystem is atomic. Temporary files and directories are created
private (`tempfile`), so they are given the user's umask before they are moved into place: a
lab's shared directory can read what regdna writes.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def follow_umask(path: str | os.PathLike, directory: bool = False) -> None:
    """Give `path` the mode a plain `open()` / `mkdir()` would: 0o666 (files) or 0o777 less the umask."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


@contextlib.contextmanager
def atomic_dir(out: str | os.PathLike):
    """Yield a temporary directory that replaces `out` only if the block succeeds.

    Callers go through `regdna.utils.output.output_dir`, which decides whether `out` may be
    replaced at all.

    >>> with atomic_dir("dataset") as tmp:
    ...     (tmp / "dataset.json").write_text("{}")
    """
    out = Path(os.path.abspath(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    follow_umask(tmp, directory=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path` that a writer fills; it replaces `path` on success.

    For libraries that write to a path themselves (torch.save, pyarrow, matplotlib).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        follow_umask(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "w"):
    """Yield a file handle whose content replaces `path` only if the block succeeds."""
    with atomic_path(path) as tmp:
        with open(tmp, mode) as handle:
            yield handle
