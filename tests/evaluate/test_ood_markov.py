"""The Markov likelihood-ratio OOD statistic (Ren et al. 2019 with k-th order Markov chains)
against a direct computation, on sequences of a known order-4 chain (the bundled example's
background, `regdna.data.simulate.genomic_chain`): it separates their dinucleotide shuffles
(Altschul & Erickson 1985) but not fresh draws of the same chain; and the combined `ood_score`
of `regdna.evaluate.ood_fit` by hand."""
import json

import numpy as np
import pytest

from regdna.data.shuffle import dinucleotide_shuffle
from regdna.data.simulate import codes_to_str, genomic_background
from regdna.errors import RegdnaError
from regdna.evaluate.metrics import auroc
from regdna.evaluate.ood import Mahalanobis, MarkovLR, StatsOOD
from regdna.evaluate.ood_fit import COLUMNS, OODScorer, load_ood, write_ood
from regdna.utils.jsonio import to_jsonable


def _chain_windows(rng, n, length=200):
    """Windows of the example's background chain, per-window GC around 0.42 (sd 0.04)."""
    gc = np.clip(rng.normal(0.42, 0.04, n), 0.25, 0.6)
    return [codes_to_str(codes) for codes in genomic_background(rng, n, length, gc)]


def test_markov_lr_equals_the_direct_computation():
    train = ["ACGTTGCAAC", "GGATCCATNNACG", "aacgtt"]
    model = MarkovLR.fit(train, order=2)
    seqs = [s.upper() for s in train]

    def count(word):
        return sum(sum(s[i:i + len(word)] == word for i in range(len(s) - len(word) + 1))
                   for s in seqs)

    def direct(seq):   # add-one estimates: P2(c | ab) over P1(c | b), mean over the ACGT 3-mers
        terms = []
        for i in range(len(seq) - 2):
            a, b, c = seq[i:i + 3]
            if "N" in seq[i:i + 3]:
                continue
            high = (count(a + b + c) + 1) / (sum(count(a + b + x) for x in "ACGT") + 4)
            low = (count(b + c) + 1) / (sum(count(b + x) for x in "ACGT") + 4)
            terms.append(np.log(high) - np.log(low))
        return np.mean(terms)

    query = ["ACGTTGCA", "TTNNGGATCC", "GATTACA"]
    assert np.allclose(model.score(query), [direct(q) for q in query], rtol=1e-12)
    assert np.isnan(model.score(["ACNNGT"])[0])                       # no full 3-mer
    assert np.array_equal(MarkovLR.fit(train, order=1).weights, np.zeros(16))   # P1 / P1
    with pytest.raises(RegdnaError, match="order 0"):
        MarkovLR.fit(train, order=0)


def test_markov_lr_separates_dinucleotide_shuffles_not_fresh_draws_of_the_chain():
    rng = np.random.default_rng(7)
    train, test, fresh = (_chain_windows(rng, n) for n in (300, 200, 200))
    shuffled = [dinucleotide_shuffle(s, rng) for s in test]
    y = np.r_[np.zeros(len(test)), np.ones(len(test))]

    def separation(model, other):
        return auroc(y, np.r_[model.score(test), model.score(other)])

    stats = StatsOOD.fit(train)                                      # order 4
    assert separation(stats, shuffled) >= 0.9                        # measured 0.951
    assert abs(separation(stats, fresh) - 0.5) <= 0.1                # measured 0.516
    llr = stats.markov
    assert llr.score(test).mean() > 0 > llr.score(shuffled).mean()   # measured 0.022, -0.028
    # the separation is in the 4- and 5-mers: a shuffle keeps every dinucleotide, and an
    # order-2 chain (3-mers) sees only part of it (measured 0.56; order 3: 0.72)
    assert separation(StatsOOD.fit(train, order=2), shuffled) < 0.75
    parts = stats.parts(shuffled)
    assert np.median(parts["markov"]) > 4 > np.median(stats.parts(test)["markov"])   # 8.0, 0.56

    back = StatsOOD.from_dict(json.loads(json.dumps(to_jsonable(stats.to_dict()))))
    assert np.allclose(back.score(test), stats.score(test), rtol=1e-12)
    # a model saved before the Markov term (3 centres, no markov_*) scores as it did then: the
    # mean of the other four terms, which its stored thresholds were chosen for
    old = {k: v for k, v in stats.to_dict().items() if not k.startswith("markov_")}
    old.update(center=old["center"][:3], scale=old["scale"][:3])
    previous = StatsOOD.from_dict(old)
    terms = {k: v for k, v in stats.parts(shuffled).items() if k != "markov"}
    assert previous.markov is None and set(previous.parts(shuffled)) == set(terms)
    assert np.allclose(previous.score(shuffled), np.mean(list(terms.values()), axis=0))
    assert "markov_weights" not in previous.to_dict()


class _Embedder:
    """A stand-in predictor: `embed` returns the first two bases' codes as a 2-d embedding."""

    def embed(self, seqs):
        return np.array([["ACGT".index(s[0]), "ACGT".index(s[1])] for s in seqs], dtype=float)


def test_ood_score_is_the_larger_score_over_its_threshold(tmp_path):
    rng = np.random.default_rng(8)
    train = _chain_windows(rng, 40, 60)
    embedding = Mahalanobis(np.zeros((1, 2)), np.eye(2))             # squared norm of the codes
    scorer = OODScorer(embedding, StatsOOD.fit(train), {"ood_embedding": 2.0, "ood_stats": 4.0},
                       {"n_train": 40})
    seqs = ["AA" + train[0][2:], "TT" + train[1][2:], "CA" + train[2][2:]]   # embedding 0, 18, 1
    out = scorer.columns(_Embedder(), seqs)
    assert list(out) == list(COLUMNS)
    assert out["ood_embedding"].tolist() == [0.0, 18.0, 1.0]
    expected = np.maximum(out["ood_embedding"] / 2.0, out["ood_stats"] / 4.0)
    assert np.allclose(out["ood_score"], expected, rtol=1e-12)
    assert out["ood_score"][1] == pytest.approx(9.0)                  # 18 / 2 beats the stats
    assert out["ood_flag"].tolist() == (expected > 1).astype(int).tolist()
    assert out["ood_flag"][1] == 1
    empty = scorer.columns(_Embedder(), [])
    assert all(len(empty[name]) == 0 for name in COLUMNS)

    # ood.npz written before the likelihood ratio existed still loads (its scores unchanged);
    # a damaged one is one line naming the file
    write_ood(tmp_path, scorer)
    arrays = dict(np.load(tmp_path / "ood.npz"))
    old = {k: v for k, v in arrays.items() if "markov" not in k}
    old = {k: (v[:3] if k.endswith(("center", "scale")) and v.shape == (4,) else v)
           for k, v in old.items()}
    np.savez(tmp_path / "ood.npz", **old)
    assert load_ood(tmp_path).stats.markov is None
    (tmp_path / "ood.npz").write_bytes(b"not an npz")
    with pytest.raises(RegdnaError, match=r"ood\.npz is damaged"):
        load_ood(tmp_path)
