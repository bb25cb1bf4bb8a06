"""Dinucleotide shuffles (regdna.data.shuffle) and sequence records from a FASTA or a dataset split
(regdna.data.records)."""
import collections

import numpy as np
import pytest
from helpers import random_seq

from regdna.data.shuffle import dinucleotide_shuffles
from regdna.errors import RegdnaError


def test_dinucleotide_shuffle_keeps_counts_exactly():
    rng = np.random.default_rng(0)
    seq = random_seq(300, rng)
    shuffles = dinucleotide_shuffles(seq, 20, seed=1)
    pairs = lambda s: collections.Counter(zip(s[:-1], s[1:]))  # noqa: E731
    assert all(pairs(s) == pairs(seq) for s in shuffles)
    assert len(set(shuffles)) == 20                              # they really are shuffled
    assert shuffles == dinucleotide_shuffles(seq, 20, seed=1)    # and reproducible


def test_load_records_from_fasta_or_a_dataset_split(tmp_path):
    import pandas as pd

    from regdna.data.dataset import DatasetInfo, write_info
    from regdna.data.records import load_records

    fa = tmp_path / "x.fa"
    fa.write_text(">chr2:10-14\nacgt\n>free\nTTTT\n>chr3:0-4\nGGGG\n")
    table = load_records(fasta=fa, n=2)
    assert table.id.tolist() == ["chr2:10-14", "free"] and table.sequence.tolist() == ["ACGT", "TTTT"]
    assert (table.chrom[0], table.start[0], table.end[0]) == ("chr2", 10, 14)
    data = tmp_path / "d"
    data.mkdir()
    write_info(data, DatasetInfo(task="binary", labels=["y"]))
    pd.DataFrame({"id": list("abc"), "chrom": "chr1", "start": 0, "end": 4,
                  "sequence": ["AAAA", "CCCC", "GGGG"], "y": [1.0, 0.0, 1.0]}
                 ).to_parquet(data / "test.parquet")
    assert load_records(data=data, label="1").id.tolist() == ["a", "c"]
    with pytest.raises(RegdnaError, match="exactly one"):
        load_records(fasta=fa, data=data)
    with pytest.raises(RegdnaError, match="no sequences"):
        load_records(data=data, label="1", n=0)
