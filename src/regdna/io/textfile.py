"""Open input files, plain or compressed, so that a corrupt or truncated file is one clear error.

Every reader in `regdna.io` opens text through `open_text` and wraps library readers (pandas,
pyarrow, numpy) in `reading(path)`. A gzip stream that ends early (a download cut short), a bad
CRC or a damaged zip/Parquet container then becomes a `RegdnaError` naming the file and what to
do, instead of a traceback or, worse, an `EOFError` that the command line would take for Ctrl-D.
"""
from __future__ import annotations

import contextlib
import gzip
import zipfile
import zlib
from pathlib import Path

from regdna.errors import RegdnaError

_CORRUPT = (EOFError, gzip.BadGzipFile, zlib.error, zipfile.BadZipFile)


def corrupt_error(path, err: BaseException, line: int | None = None) -> RegdnaError:
    """The one message for a corrupt or truncated input file."""
    near = f" near line {line}" if line else ""
    return RegdnaError(f"{path} is corrupt or truncated{near} ({type(err).__name__}: {err}); "
                       "download or copy it again (check it with `gzip -t` for .gz files)")


@contextlib.contextmanager
def reading(path):
    """Turn a corrupt-file error raised inside the block into `corrupt_error(path)`."""
    try:
        yield
    except _CORRUPT as err:
        raise corrupt_error(path, err) from None


class _CheckedText:
    """A text handle whose reads raise `corrupt_error` (with the line reached) on a damaged file."""

    def __init__(self, handle, path: Path):
        self._handle, self._path, self._line = handle, path, 0

    def __iter__(self):
        try:
            for line in self._handle:
                self._line += 1
                yield line
        except _CORRUPT as err:
            raise corrupt_error(self._path, err, self._line + 1) from None

    def readline(self) -> str:
        with reading(self._path):
            line = self._handle.readline()
        self._line += 1
        return line

    def read(self, *args) -> str:
        with reading(self._path):
            return self._handle.read(*args)

    def close(self) -> None:
        self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_text(path: str | Path) -> _CheckedText:
    """Open a plain or gzip text file for reading, with a clear error when it is unreadable."""
    path = Path(path)
    if not path.is_file():
        raise RegdnaError(f"{path} does not exist or is not a file; check the path.")
    try:
        with open(path, "rb") as probe:
            magic = probe.read(2)
        if magic == b"\x1f\x8b":
            handle = gzip.open(path, "rt", encoding="ascii", errors="replace")
        else:
            handle = open(path, "rt", encoding="ascii", errors="replace")
    except OSError as err:
        raise RegdnaError(f"cannot read {path}: {err}") from err
    return _CheckedText(handle, path)
