"""Train / validation / test assignment.

- `chrom_split`: whole chromosomes held out (by default test chr8, chr9; val chr10; Toneyan et
  al. 2022 hold out chr8 for test and chr9 for validation), so no genomic neighbourhood is
  shared between splits. Names match with or without `chr`.
- `random_split`: stratified by class with fractions (King et al. n.d.: 0.725, 0.1275, 0.15),
  seeded.
- `column_split`: the values of a column (`train`, `val`/`valid`/`validation`, `test`).

Each returns an (N,) int8 array of split codes (0 train, 1 val, 2 test).
"""
from __future__ import annotations

import numpy as np

from regdna.data.intervals import bare_chrom
from regdna.errors import RegdnaError

_ALIASES = {"train": 0, "training": 0, "val": 1, "valid": 1, "validation": 1, "dev": 1, "test": 2, "testing": 2}


def parse_chroms(text: str | None) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()] if text else []


def chrom_split(chroms, test_chroms: list[str], val_chroms: list[str]) -> np.ndarray:
    """Split codes from chromosome names; every other chromosome is training data."""
    test = {bare_chrom(c) for c in test_chroms}
    val = {bare_chrom(c) for c in val_chroms}
    if test & val:
        raise RegdnaError(f"chromosome(s) {', '.join(sorted(test & val))} are in both --test-chroms and "
                          "--val-chroms; each chromosome belongs to one split.")
    cache: dict[str, int] = {}
    out = np.empty(len(chroms), dtype=np.int8)
    for i, chrom in enumerate(chroms):
        code = cache.get(chrom)
        if code is None:
            bare = bare_chrom(chrom)
            code = cache[chrom] = 2 if bare in test else 1 if bare in val else 0
        out[i] = code
    return out


def parse_fractions(text: str | tuple | list) -> tuple[float, float, float]:
    """'0.725,0.1275,0.15' -> (train, val, test); >= 0, summing to 1 within 0.01 (train takes the rest)."""
    try:
        values = [float(v) for v in (text.split(",") if isinstance(text, str) else text)]
    except ValueError:
        values = []
    if len(values) != 3 or min(values) < 0 or abs(sum(values) - 1.0) > 0.01:
        raise RegdnaError(f"--fractions {text}: give three non-negative numbers train,val,test that sum "
                          "to 1 (e.g. 0.725,0.1275,0.15).")
    # King et al. (n.d.) write 72.5 / 12.75 / 15 %, which sums to 100.25 %: their realised
    # split keeps val and test as stated and gives train the rest (72.25 %). Small rounding gaps
    # are read so.
    values[0] = 1.0 - values[1] - values[2]
    return tuple(values)  # type: ignore[return-value]


def random_split(strata: np.ndarray, fractions=(0.725, 0.1275, 0.15), seed: int = 0) -> np.ndarray:
    """Stratified random split: within each stratum (class) the records are permuted and cut
    at the fractions (rounded), so every class keeps its share in every split."""
    strata = np.asarray(strata)
    fractions = parse_fractions(fractions)
    rng = np.random.default_rng(seed)
    out = np.zeros(len(strata), dtype=np.int8)
    cut = np.cumsum(fractions)
    for value in np.unique(strata):
        idx = np.flatnonzero(strata == value)
        idx = idx[rng.permutation(len(idx))]
        n_train = int(round(cut[0] * len(idx)))
        n_val = int(round(cut[1] * len(idx))) - n_train
        out[idx[n_train:n_train + n_val]] = 1
        out[idx[n_train + n_val:]] = 2
    return out


def split_code(value, where: str = "") -> int:
    """Code of one split-column value; a clear error for anything else."""
    code = _ALIASES.get(str(value).strip().lower())
    if code is None:
        raise RegdnaError(f"{where + ': ' if where else ''}split value '{value}' is not one of train, "
                          "val (valid, validation) or test.")
    return code
