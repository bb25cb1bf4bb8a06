"""Reference and alternative windows of the model's input length around each variant.

Each allele is centred in its own window: the window holds `left` bases of genome before the
allele, the allele, then genome after it, with `left = length // 2 - len(allele) // 2` (as
`Genome.window`, the centre of an even window is base `length // 2`). For an SNV
both windows cover the same interval and differ at base `length // 2`; for an indel each allele
sits in the middle of its window and the flanks are trimmed so both windows are `length` long
("re-centred and trimmed"). `shift` moves the window by that many bp (positive = the variant sits
further left in the window) for the shift-robust score.

Checks, per variant, in this order, each giving a `reason` when the variant cannot be scored:
the allele strings (see `regdna.io.vcf.allele_problem`), the contig (chr-name harmonised by
`Genome`), the position, the indel length, and the reference allele against the genome
(case-insensitive: soft-masked lower-case genomes are fine). Windows past a chromosome end are
N-padded by `Genome.fetch`.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from regdna.errors import RegdnaError
from regdna.io.genome import Genome


@dataclass
class AlleleWindows:
    """Windows for the usable rows of a chunk.

    Attributes:
        ref: reference windows, one string of `length` bases per usable variant.
        alt: alternative windows, same order.
        center: index in each window of the allele's first base (for masked-LM scores).
        reason: one entry per input row, "" when the row is usable.
    """

    ref: list[str]
    alt: list[str]
    center: list[int]
    reason: list[str]


def allele_window(genome: Genome, chrom: str, start0: int, ref_len: int, allele: str,
                  length: int, shift: int = 0) -> tuple[str, int]:
    """Window of `length` bp with `allele` replacing genome[start0:start0+ref_len], centred.

    Returns (window, index of the allele's first base in the window).
    """
    left = length // 2 - len(allele) // 2 - shift
    right = length - left - len(allele)
    before = genome.fetch(chrom, start0 - left, start0) if left > 0 else ""
    after = genome.fetch(chrom, start0 + ref_len, start0 + ref_len + right) if right > 0 else ""
    seq = before + allele.upper() + after
    if left < 0:   # the shift pushed the window start into the allele
        seq = seq[-left:]
    return seq[:length], max(left, 0)


def make_windows(chunk: pd.DataFrame, genome: Genome, length: int, shift: int = 0,
                 strict: bool = False, max_indel: int | None = None,
                 where: str = "") -> AlleleWindows:
    """Build ref/alt windows for the rows of a variant chunk (columns chrom, pos, ref, alt, reason).

    Args:
        chunk: rows from `regdna.io.vcf.iter_variants` (pos is 1-based).
        genome: the reference genome.
        length: model input length L.
        shift: window offset in bp (0 = centred).
        strict: raise a RegdnaError on the first unusable row instead of skipping it.
        max_indel: longest allele accepted (default L // 2).
        where: file name for error messages.
    """
    max_indel = max_indel if max_indel is not None else length // 2
    refs, alts, centers, reasons = [], [], [], []
    for row in chunk.itertuples(index=False):
        reason = row.reason or _row_problem(row, genome, max_indel)
        if reason:
            if strict:
                raise RegdnaError(f"{where}, line {row.line}, record {row.id}: {reason}. "
                                  "Fix or drop the record, or run without --strict to skip it.")
            reasons.append(reason)
            continue
        start0 = int(row.pos) - 1
        ref_win, center = allele_window(genome, row.chrom, start0, len(row.ref), row.ref, length, shift)
        alt_win, _ = allele_window(genome, row.chrom, start0, len(row.ref), row.alt, length, shift)
        refs.append(ref_win)
        alts.append(alt_win)
        centers.append(center)
        reasons.append("")
    return AlleleWindows(refs, alts, centers, reasons)


def _row_problem(row, genome: Genome, max_indel: int) -> str:
    name = genome.resolve(str(row.chrom))
    if name is None:
        return f"contig '{row.chrom}' is not in genome {genome.path.name}"
    size = genome.chrom_sizes[name]
    start0 = int(row.pos) - 1
    if start0 < 0 or start0 + len(row.ref) > size:
        return f"position {row.pos} is outside {name} (length {size})"
    if max(len(row.ref), len(row.alt)) > max_indel:
        return f"allele longer than {max_indel} bp (half the window); score it with a longer model"
    found = genome.fetch(name, start0, start0 + len(row.ref))
    if found.upper() != row.ref.upper():
        return f"reference mismatch: REF '{row.ref}' but the genome has '{found}' at {name}:{row.pos}"
    return ""


def sequence_windows(chunk: pd.DataFrame, length: int | None) -> AlleleWindows:
    """Windows from explicit `ref_seq` / `alt_seq` columns (no genome): each sequence is centred
    and N-padded or centre-cropped to `length` (None: keep as given)."""
    refs, alts, centers, reasons = [], [], [], []
    for row in chunk.itertuples(index=False):
        if row.reason:
            reasons.append(row.reason)
            continue
        ref, alt = _fit(row.ref_seq.upper(), length), _fit(row.alt_seq.upper(), length)
        refs.append(ref)
        alts.append(alt)
        centers.append(_first_difference(ref, alt))
        reasons.append("")
    return AlleleWindows(refs, alts, centers, reasons)


def _fit(seq: str, length: int | None) -> str:
    if length is None or len(seq) == length:
        return seq
    if len(seq) > length:
        cut = (len(seq) - length) // 2
        return seq[cut:cut + length]
    pad = length - len(seq)
    return "N" * (pad // 2) + seq + "N" * (pad - pad // 2)


def _first_difference(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b)) // 2


def shared_bins(offsets: list[int], length: int, bin_size: int, first: int, last: int
                ) -> list[tuple[int, int]]:
    """For each shifted window, the bins [a, b) of its predicted profile that cover the region
    every window shares, within the bins [first, last) of the centred window (the scalar's).

    A window shifted by s (a multiple of `bin_size`, `regdna.data.windows.shift_offsets`) starts s bp to the right
    of the centred one on the genome, so its bin j covers the centred window's bin j + s /
    bin_size; the region all windows cover is [max(offsets), length + min(offsets)) bp of the
    centred window.

    Returns
    -------
    list of (a, b), one per offset, in the shifted windows' own bins; all of length b - a >= 1.
    """
    if any(s % bin_size for s in offsets):
        raise RegdnaError(f"window shifts {offsets} must be multiples of the bin size {bin_size}.")
    lo = max(first, max(offsets) // bin_size)
    hi = min(last, (length + min(offsets)) // bin_size)
    if hi <= lo:
        raise RegdnaError(f"shifted windows of {length} bp (shifts {min(offsets)}..{max(offsets)} "
                          f"bp) share no bin of the scored region; use a smaller --max-shift.")
    return [(lo - s // bin_size, hi - s // bin_size) for s in offsets]
