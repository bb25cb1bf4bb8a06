"""Random access to a genome FASTA (plain or bgzip) through pyfaidx.

`Genome.fetch` returns upper-case windows and pads with N past chromosome ends, so callers can
ask for a fixed-length window centred anywhere on a contig. Chromosome names are harmonised:
`chr1` finds `1` and the other way round, `chrM` finds `MT`.
"""
from __future__ import annotations

import os
from pathlib import Path

from regdna.errors import RegdnaError


def _aliases(chrom: str) -> list[str]:
    bare = chrom[3:] if chrom.lower().startswith("chr") else chrom
    names = [chrom, bare, f"chr{bare}"]
    if bare in ("M", "MT"):
        names += ["chrM", "MT", "M", "chrMT"]
    return list(dict.fromkeys(names))


class Genome:
    """A genome FASTA opened with pyfaidx (the .fai index is built when missing).

    Args:
        path: FASTA file, plain or bgzip-compressed (`.fa.gz` made with `bgzip`).
    """

    def __init__(self, path: str | Path):
        import pyfaidx

        self.path = Path(path)
        if not self.path.is_file():
            raise RegdnaError(f"genome {self.path} does not exist; pass a FASTA file (plain or bgzip).")
        try:
            self._fasta = pyfaidx.Fasta(str(self.path), as_raw=True, sequence_always_upper=True,
                                        rebuild=True, build_index=True)  # a stale .fai is rebuilt
        except Exception as err:  # pyfaidx raises many types for unreadable files
            hint = (" A gzip file must be compressed with `bgzip` (not gzip) for random access."
                    if self.path.suffix in (".gz", ".bgz") else "")
            raise RegdnaError(f"cannot read genome {self.path}: {err}.{hint}") from err
        self.chrom_sizes: dict[str, int] = {name: len(rec) for name, rec in self._fasta.records.items()}

    def resolve(self, chrom: str) -> str | None:
        """The genome's own name for `chrom` (chr prefix harmonised), or None if absent."""
        for name in _aliases(chrom):
            if name in self.chrom_sizes:
                return name
        return None

    def require(self, chrom: str, where: str = "") -> str:
        """Like `resolve`, but a clear error when the contig is absent."""
        name = self.resolve(chrom)
        if name is None:
            shown = ", ".join(list(self.chrom_sizes)[:8])
            raise RegdnaError(f"{where + ': ' if where else ''}chromosome '{chrom}' is not in genome "
                              f"{self.path} (it has {shown}{', ...' if len(self.chrom_sizes) > 8 else ''}). "
                              "Use the genome build the intervals were called on.")
        return name

    def fetch(self, chrom: str, start: int, end: int) -> str:
        """Upper-case sequence of [start, end) (0-based, half-open), N-padded past either end."""
        name = self.require(chrom)
        size = self.chrom_sizes[name]
        left = max(0, -start)
        right = max(0, end - size)
        lo, hi = max(0, start), min(size, end)
        body = self._fasta[name][lo:hi] if hi > lo else ""
        return "N" * left + body + "N" * right

    def fetch_many(self, chroms, starts, ends) -> list[str]:
        """`fetch` for many windows (same results), about 10x faster on a plain FASTA: the bytes of
        each window are read directly at the offsets of the .fai index (bgzip files go through
        pyfaidx). Used by `prepare` to window millions of intervals."""
        faidx = self._fasta.faidx
        if getattr(faidx, "_bgzf", True):
            return [self.fetch(c, int(s), int(e)) for c, s, e in zip(chroms, starts, ends)]
        fd = faidx.file.fileno()
        names: dict[str, str] = {}
        out = []
        for chrom, start, end in zip(chroms, starts, ends):
            name = names.get(chrom)
            if name is None:
                name = names[chrom] = self.require(chrom)
            rec = faidx.index[name]
            start, end = int(start), int(end)
            lo, hi = max(0, start), min(rec.rlen, end)
            body = ""
            if hi > lo:
                first = rec.offset + (lo // rec.lenc) * rec.lenb + lo % rec.lenc
                last = rec.offset + ((hi - 1) // rec.lenc) * rec.lenb + (hi - 1) % rec.lenc + 1
                raw = os.pread(fd, last - first, first)
                body = raw.replace(b"\n", b"").replace(b"\r", b"").decode("ascii").upper()
            out.append("N" * max(0, -start) + body + "N" * max(0, end - rec.rlen))
        return out

    def window(self, chrom: str, center: int, length: int) -> tuple[int, int, str]:
        """A `length`-bp window centred on `center`: (start, end, sequence), N-padded at ends."""
        start = center - length // 2
        end = start + length
        return start, end, self.fetch(chrom, start, end)

    def close(self) -> None:
        self._fasta.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
