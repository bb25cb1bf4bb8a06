"""One-hot encoding and reverse complement (regdna.encode.onehot)."""
import numpy as np
import pytest

from regdna.encode.onehot import base_indices, one_hot, one_hot_to_strings, reverse_complement


def test_one_hot_layout_and_roundtrip():
    x = one_hot(["ACGTN", "acg"], length=5)
    assert x.shape == (2, 5, 4)
    assert x[0, :4].argmax(axis=1).tolist() == [0, 1, 2, 3]
    assert x[0, 4].sum() == 0 and x[1, 3:].sum() == 0          # N and padding are all zeros
    assert one_hot_to_strings(x) == ["ACGTN", "ACGNN"]
    xc = one_hot(["ACGT"], channels_first=True)
    assert xc.shape == (1, 4, 4) and np.array_equal(xc[0], np.eye(4))
    with pytest.raises(ValueError):
        base_indices(["ACGTA"], length=3)


def test_reverse_complement_flips_onehot_both_axes():
    seq = "AACGTTTGCAN"
    assert reverse_complement(seq) == "NTGCAAACGTT"
    assert reverse_complement("acgR") == "Ycgt"
    flipped = one_hot([seq], channels_first=True)[:, ::-1, ::-1]
    assert np.array_equal(flipped, one_hot([reverse_complement(seq)], channels_first=True))
