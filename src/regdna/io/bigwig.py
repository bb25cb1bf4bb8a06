"""bigWig coverage tracks: read values, write tracks (pybigtools).

pybigtools (the Python bindings of the Rust Bigtools library) is the one bigWig library regdna
uses: it ships prebuilt wheels for Linux, macOS and Windows (pyBigWig needs a C toolchain and
libcurl where no wheel exists), returns numpy arrays directly, and writes a bigWig from a
streamed iterator of intervals, so predictions for a whole chromosome never sit in memory as
Python objects. Uncovered bases read as 0.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from regdna.errors import RegdnaError


class BigWig:
    """A bigWig file opened for reading; `values(chrom, start, end)` -> float32 (end - start,)
    with 0 for uncovered bases and for positions outside the chromosome."""

    def __init__(self, path: str | Path):
        import pybigtools

        self.path = Path(path)
        if not self.path.is_file():
            raise RegdnaError(f"--bigwig {self.path}: file not found; check the path.")
        try:
            self._handle = pybigtools.open(str(self.path))
            self.chrom_sizes = {str(k): int(v) for k, v in self._handle.chroms().items()}
        except Exception as err:   # pybigtools raises its own types for damaged files
            raise RegdnaError(f"{self.path} is not a readable bigWig file ({err}); check that it "
                              "is a bigWig (not bedGraph or BAM) and not truncated.") from None

    def values(self, chrom: str, start: int, end: int) -> np.ndarray:
        out = np.zeros(max(0, end - start), dtype=np.float32)
        size = self.chrom_sizes.get(chrom)
        lo, hi = max(0, start), min(end, size or 0)
        if size is None or hi <= lo:
            return out
        values = np.asarray(self._handle.values(chrom, lo, hi, fillna=0.0), dtype=np.float32)
        out[lo - start:hi - start] = np.nan_to_num(values, nan=0.0)
        return out

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> "BigWig":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_bigwig(path: str | Path, chrom_sizes: dict[str, int],
                 intervals: Iterable[tuple[str, int, int, float]]) -> None:
    """Write a bigWig from (chrom, start, end, value) intervals, sorted by chromosome in the
    order of `chrom_sizes` and by start; streamed (the caller may pass a generator)."""
    import pybigtools

    writer = pybigtools.open(str(path), "w")
    writer.write({str(k): int(v) for k, v in chrom_sizes.items()},
                 ((str(c), int(s), int(e), float(v)) for c, s, e, v in intervals))
