"""Token scores -> base scores, against hand-computed expectations (Consens et al. n.d.)."""
import numpy as np

from regdna.interpret.token_map import token_to_base, tokens_to_bases


def test_overlapping_kmers_average_the_tokens_covering_each_base():
    # "ACGTAC" as overlapping 3-mers with [CLS] and [SEP]: ACG CGT GTA TAC
    spans = [(0, 0), (0, 3), (1, 4), (2, 5), (3, 6), (0, 0)]
    scores = [100.0, 3.0, 6.0, 9.0, 12.0, -100.0]
    # base 0: ACG -> 3; base 1: (3+6)/2; base 2: (3+6+9)/3; base 3: (6+9+12)/3;
    # base 4: (9+12)/2; base 5: 12. Special tokens contribute nothing.
    expected = [3.0, 4.5, 6.0, 9.0, 10.5, 12.0]
    np.testing.assert_allclose(token_to_base(scores, spans, 6), expected)


def test_bpe_tokens_give_their_score_to_each_of_their_bases():
    # "ACGTTGCA" as BPE tokens [CLS] ACG T TGCA [SEP] + padding
    spans = [(0, 0), (0, 3), (3, 4), (4, 8), (0, 0)]
    scores = [9.0, 1.0, -2.0, 0.5, 9.0, 7.0]  # last score = padding, no span
    expected = [1.0, 1.0, 1.0, -2.0, 0.5, 0.5, 0.5, 0.5]
    np.testing.assert_allclose(token_to_base(scores, spans, 8), expected)


def test_uncovered_bases_score_zero_and_batches_stack():
    spans = [[(0, 2)], [(1, 3), (2, 4)]]
    out = tokens_to_bases(np.array([[4.0, 0.0], [2.0, 4.0]]), spans, 5)
    np.testing.assert_allclose(out, [[4, 4, 0, 0, 0], [0, 2, 3, 4, 0]])
