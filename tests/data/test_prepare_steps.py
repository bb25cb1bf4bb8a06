"""Windows, cleaning, de-duplication and negatives, checked with exact numbers."""
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from helpers import random_seqs

from regdna.data.clean import dedup_mask, gc_fraction, n_fraction, sequence_key, sequence_keys
from regdna.data.negatives import gc_matched_negatives, shuffled_negatives
from regdna.data.windows import fit_length, make_windows, window_centres
from regdna.encode.onehot import reverse_complement
from regdna.io.genome import Genome


def _dinucs(seq):
    return Counter(seq[i:i + 2] for i in range(len(seq) - 1))


def test_window_centred_on_summit_and_midpoint(toy_genome):
    path, seqs = toy_genome
    intervals = pd.DataFrame({"chrom": ["chr2", "chr2"], "start": [1000, 1000], "end": [1400, 1401],
                              "summit": [50, -1]})
    with Genome(path) as genome:
        win = make_windows(genome, intervals, 100)
    # summit: centre 1050 -> [1000, 1100); midpoint of [1000, 1401) = 1200 -> [1150, 1250)
    assert win["start"].tolist() == [1000, 1150]
    assert win["end"].tolist() == [1100, 1250]
    assert win["sequence"].iloc[0] == seqs["chr2"][1000:1100]
    assert win["sequence"].iloc[1] == seqs["chr2"][1150:1250]
    assert win["padded"].tolist() == [0, 0]
    # the centre base of the window is the summit base
    assert win["sequence"].iloc[0][50] == seqs["chr2"][1050]


def test_window_past_chromosome_ends_is_padded_with_n(toy_genome):
    path, seqs = toy_genome
    # chr3 is 3000 bp: a 100-bp window centred at 20 needs 30 N on the left, at 2990 40 N on the right
    intervals = pd.DataFrame({"chrom": ["chr3", "chr3"], "start": [10, 2980], "end": [30, 3000],
                              "summit": [10, 10]})
    with Genome(path) as genome:
        win = make_windows(genome, intervals, 100)
    left, right = win["sequence"].tolist()
    assert len(left) == len(right) == 100
    assert left == "N" * 30 + seqs["chr3"][:70]
    assert right == seqs["chr3"][2940:] + "N" * 40
    assert win["padded"].tolist() == [30, 40]
    assert win["start"].tolist() == [-30, 2940]
    # the summit stays the window centre even when padded
    assert left[50] == seqs["chr3"][20] and right[50] == seqs["chr3"][2990]


def test_soft_mask_is_upper_cased_by_genome(toy_genome):
    path, seqs = toy_genome
    with Genome(path) as genome:
        assert genome.fetch("chr1", 90, 210) == seqs["chr1"][90:210]


def test_window_centres_vectorised():
    centres = window_centres(np.array([0, 100]), np.array([10, 200]), np.array([3, -1]))
    assert centres.tolist() == [3, 150]


def test_fit_length_crops_and_pads_symmetrically():
    assert fit_length("AACCGGTT", 4) == "CCGG"
    assert fit_length("ACG", 7) == "NNACGNN"
    assert fit_length("ACGT", 7) == "NACGTNN"
    assert fit_length("ACGT", 4) == "ACGT"


def test_n_and_gc_fractions():
    assert n_fraction("ACGTNNNN") == 0.5
    assert n_fraction("ACGR") == 0.25
    assert gc_fraction("GGCCAT") == pytest.approx(4 / 6)
    assert gc_fraction("GCNN") == 1.0


def test_reverse_complement_keys_collide():
    seq = "AACGTTTGCA"
    assert sequence_key(seq) == sequence_key(reverse_complement(seq))
    assert sequence_key(seq, reverse_complement_equal=False) != sequence_key(reverse_complement(seq), False)
    fwd, canon = sequence_keys([seq, reverse_complement(seq)])
    assert fwd[0] != fwd[1] and canon[0] == canon[1]


def test_dedup_within_class_and_reverse_complement():
    a, b, c = "AAAACCCGTA", "GGGTTTACCA", "ATATATCGCG"
    seqs = [a, a, reverse_complement(a), b, c, c]
    labels = np.array([1, 1, 1, 1, 0, 0], dtype=np.uint64)
    fwd, canon = sequence_keys(seqs)
    keep, counts = dedup_mask(canon, labels)
    assert keep.tolist() == [True, False, False, True, True, False]
    assert counts["within_class_duplicates"] == 3
    # without reverse-complement equivalence the reverse complement survives
    keep_fwd, counts_fwd = dedup_mask(fwd, labels)
    assert keep_fwd.tolist() == [True, False, True, True, True, False]
    assert counts_fwd["within_class_duplicates"] == 2


def test_cross_class_collisions_removed_from_both_classes():
    a, b, c = "AAAACCCGTA", "GGGTTTACCA", "ATATATCGCG"
    # a: twice in class 1 and once (as its reverse complement) in class 0 -> all three removed
    seqs = [a, a, b, reverse_complement(a), c]
    labels = np.array([1, 1, 1, 0, 0], dtype=np.uint64)
    _, canon = sequence_keys(seqs)
    keep, counts = dedup_mask(canon, labels)
    assert keep.tolist() == [False, False, True, False, True]
    assert counts["cross_class_collisions"] == 3
    assert counts["cross_class_sequences"] == 1
    assert counts["within_class_duplicates"] == 0


def test_shuffled_negatives_keep_dinucleotide_counts_exactly():
    rng = np.random.default_rng(0)
    seqs = random_seqs(20, 150, rng)
    positives = pd.DataFrame({"id": [f"p{i}" for i in range(20)], "chrom": ["chr1"] * 20,
                              "start": np.arange(20) * 200, "end": np.arange(20) * 200 + 150, "sequence": seqs})
    neg = shuffled_negatives(positives, np.random.default_rng(1))
    assert len(neg) == 20
    changed = 0
    for pos, shuf in zip(seqs, neg["sequence"]):
        assert _dinucs(pos) == _dinucs(shuf)
        assert shuf[0] == pos[0] and shuf[-1] == pos[-1]
        changed += shuf != pos
    assert changed == 20
    assert neg["chrom"].tolist() == ["chr1"] * 20          # same contig -> same split
    again = shuffled_negatives(positives, np.random.default_rng(1))
    assert again["sequence"].tolist() == neg["sequence"].tolist()   # seeded


def test_gc_matched_negatives_within_tolerance(tmp_path):
    from helpers import write_toy_genome

    path = tmp_path / "g.fa"
    # one AT-rich and one GC-rich region so GC targets differ widely
    rng = np.random.default_rng(3)
    write_toy_genome(path, sizes={f"chr{i}": 20000 for i in range(1, 4)})
    with Genome(path) as genome:
        starts = np.arange(10) * 1500 + 100
        pos = pd.DataFrame({"id": [f"p{i}" for i in range(10)], "chrom": ["chr1"] * 5 + ["chr2"] * 5,
                            "start": starts, "end": starts + 200})
        seqs = [genome.fetch(c, s, s + 200) for c, s in zip(pos["chrom"], pos["start"])]
        gc = np.array([gc_fraction(s) for s in seqs])
        neg, stats = gc_matched_negatives(genome, pos, gc, 200, rng, tolerance=0.02, occupied=pos)
    assert stats["matched"] == 10 and stats["unmatched"] == 0
    by_id = dict(zip(pos["id"], gc))
    for _, row in neg.iterrows():
        assert abs(gc_fraction(row["sequence"]) - by_id[row["matched_to"]]) < 0.02
        assert len(row["sequence"]) == 200 and "N" not in row["sequence"]
        # no overlap with any positive, and drawn from the positive's contig
        same = pos[pos["chrom"] == row["chrom"]]
        assert not ((same["start"] < row["end"]) & (same["end"] > row["start"])).any()
    assert sorted(neg["chrom"]) == ["chr1"] * 5 + ["chr2"] * 5
    assert stats["max_gc_difference"] < 0.02


def test_base_composition_matches_scalar_functions():
    from regdna.data.clean import base_composition

    seqs = ["ACGTNNNN", "GGCCAT", "acgR", "NNNN", "G"]
    gc, n_frac = base_composition(seqs)
    assert gc[:3].tolist() == pytest.approx([gc_fraction(s.upper()) for s in seqs[:3]])
    assert np.isnan(gc[3]) and gc[4] == 1.0
    assert n_frac.tolist() == pytest.approx([n_fraction(s.upper()) for s in seqs])
