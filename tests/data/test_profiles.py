"""The profile loader: binning, the input window cut from a stored window, shift and
reverse-complement augmentation that move the targets with the input."""
import numpy as np
import pytest
import torch

from regdna.data.profiles import ProfileCollate, ProfileDataset, bin_mean, central, check_bin_size
from regdna.encode.onehot import one_hot_to_strings, reverse_complement
from regdna.errors import RegdnaError

BASES = np.array(list("ACGT"))


def _dataset(n=6, length=16, margin=4, tracks=2, seed=0):
    rng = np.random.default_rng(seed)
    stored = length + 2 * margin
    seqs = ["".join(BASES[rng.integers(0, 4, stored)]) for _ in range(n)]
    coverage = rng.random((n, stored, tracks)).astype(np.float16)
    return ProfileDataset(seqs, coverage, length, margin), seqs, coverage


def test_bin_mean_equals_hand_computation():
    y = np.arange(12, dtype=np.float32).reshape(1, 6, 2)        # positions 0..5, 2 tracks
    # bins of 3: track 0 values 0,2,4 | 6,8,10; track 1 values 1,3,5 | 7,9,11
    assert bin_mean(y, 3).tolist() == [[[2.0, 3.0], [8.0, 9.0]]]
    assert bin_mean(torch.from_numpy(y), 6).tolist() == [[[5.0, 6.0]]]
    assert np.array_equal(bin_mean(y, 1), y)
    with pytest.raises(RegdnaError, match="does not divide"):
        check_bin_size(10, 3)


def test_central_cuts_the_middle():
    assert central(["AACCGGTT"], 4) == ["CCGG"]
    with pytest.raises(RegdnaError, match="shorter"):
        central(["ACG"], 4)


def test_evaluation_batch_is_the_central_window_binned():
    data, seqs, coverage = _dataset()
    batch = ProfileCollate(data, bin_size=4)([3, 0, 5])
    assert batch["x"].shape == (3, 4, 16) and batch["y"].shape == (3, 4, 2)
    assert one_hot_to_strings(batch["x"].numpy(), channels_first=True) == \
        [seqs[i][4:20] for i in (3, 0, 5)]
    expected = bin_mean(coverage[[3, 0, 5], 4:20].astype(np.float32), 4)
    assert np.allclose(batch["y"].numpy(), expected)


def test_shift_moves_input_and_targets_together_and_rc_reverses_targets():
    data, seqs, coverage = _dataset(n=40)
    torch.manual_seed(1)
    batch = ProfileCollate(data, bin_size=1, max_shift=4, rc=True)(list(range(40)))
    strings = one_hot_to_strings(batch["x"].numpy(), channels_first=True)
    seen_shift, seen_rc = set(), 0
    for i, s in enumerate(strings):
        hits = [(o, False) for o in range(9) if seqs[i][o:o + 16] == s] + \
               [(o, True) for o in range(9) if reverse_complement(seqs[i][o:o + 16]) == s]
        assert hits, "every input is a sub-window of its stored window (or its reverse complement)"
        offset, flipped = hits[0]
        target = coverage[i, offset:offset + 16].astype(np.float32)
        assert np.allclose(batch["y"][i].numpy(), target[::-1] if flipped else target)
        seen_shift.add(offset)
        seen_rc += flipped
    assert len(seen_shift) >= 4 and 5 <= seen_rc <= 35      # augmentation really happened


def test_subset_keeps_the_coverage_rows():
    data, seqs, coverage = _dataset()
    sub = data.subset(np.array([1, 4]))
    batch = ProfileCollate(sub, bin_size=16)([1, 0])
    assert np.allclose(batch["y"].numpy()[:, 0], coverage[[4, 1], 4:20].astype(np.float32).mean(axis=1))


def test_inconsistent_dataset_is_one_clear_error():
    with pytest.raises(RegdnaError, match="coverage rows"):
        ProfileDataset(["ACGT"] * 2, np.zeros((3, 4, 1)), 4, 0)
    with pytest.raises(RegdnaError, match="stored windows"):
        ProfileDataset(["ACGTAC"], np.zeros((1, 6, 1)), 4, 0)


def test_records_of_a_coverage_dataset_are_its_input_windows(tmp_path):
    """ism / attribute / motifs / gia / embed read `load_records`: the central `length` bp."""
    from profile_helpers import LENGTH, MARGIN, write_coverage_dataset
    from regdna.data.dataset import read_split
    from regdna.data.records import load_records

    data = write_coverage_dataset(tmp_path)[0]
    stored = read_split(data, "test")
    records = load_records(data=data, split="test")
    assert records.sequence.str.len().eq(LENGTH).all()
    assert records.sequence.tolist() == [s[MARGIN:MARGIN + LENGTH] for s in stored.sequence]
    assert (records.start == stored.start + MARGIN).all() and (records.end - records.start == LENGTH).all()
    with pytest.raises(RegdnaError, match="no classes"):
        load_records(data=data, split="test", label="1")
