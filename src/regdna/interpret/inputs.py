"""The sequences an interpretation verb explains must be what the model reads: one check."""
from __future__ import annotations

import pandas as pd

from regdna.errors import RegdnaError


def check_length(predictor, table: pd.DataFrame) -> None:
    """Raise a RegdnaError naming the first record whose length is not the model's input length.

    Parameters
    ----------
    predictor : a `Predictor`; models without a fixed `length` (None) take any length.
    table : records with columns `id` and `sequence` (`regdna.data.records.load_records`).
    """
    if predictor.length is None:
        return
    bad = table[table.sequence.str.len() != predictor.length]
    if len(bad):
        row = bad.iloc[0]
        raise RegdnaError(f"record {row['id']} has {len(row['sequence'])} bp but the model takes "
                          f"{predictor.length} bp; cut windows with `regdna prepare --length`")
