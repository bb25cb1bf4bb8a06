"""The model-defaults grammars plant what they say, where they say."""
import numpy as np

from regdna.data.grammars import GRAMMARS, simulate
from regdna.io.jaspar import load_motif


def _log_odds(motif):
    return np.log(motif.ppm + 1e-3) - np.log(0.25)


def _score(seq, weights):
    idx = np.array(["ACGT".index(c) for c in seq])
    return float(weights[np.arange(len(idx)), idx].sum())


def test_shortcut_puts_factor_b_exactly_at_the_centre_and_a_anywhere():
    seqs, sites = simulate("shortcut", seed=1)
    g = GRAMMARS["shortcut"]
    assert len(seqs) == 2 * g.n_per_class and set(seqs.label) == {0, 1}
    b = sites[sites.role == "negative"]
    a = sites[sites.role == "positive"]
    width_b = b.end.iloc[0] - b.start.iloc[0]
    assert (b.start == (g.length - width_b) // 2).all()        # every B at the centre
    assert (b.motif.str.upper() == "SPI1").all() and (a.motif == "GATA1").all()
    assert a.start.nunique() > 100                              # A is spread out
    assert len(a) == g.n_per_class                              # one A per positive
    assert abs(len(b) / g.n_per_class - 2 / 3) < 0.05           # a third of negatives empty


def test_planted_sites_score_far_above_background_and_splits_are_stratified():
    seqs, sites = simulate("decoy-4", seed=0)
    by_id = dict(zip(seqs.id, seqs.sequence))
    gata = _log_odds(load_motif("GATA1", release="JASPAR2026"))
    rows = sites[(sites.motif == "GATA1") & (sites.strand == "+")].head(50)
    planted = [_score(by_id[r.seq_id][r.start:r.end], gata) for r in rows.itertuples()]
    rng = np.random.default_rng(0)
    random = [_score("".join(rng.choice(list("ACGT"), gata.shape[0])), gata) for _ in range(50)]
    assert np.median(planted) > np.median(random) + 5
    # positives carry two distinct factors, negatives one
    per_seq = sites.groupby("seq_id").motif.agg(["count", "nunique"])
    labels = seqs.set_index("id").label
    assert (per_seq.loc[labels[labels == 1].index, "nunique"] == 2).all()
    assert (per_seq.loc[labels[labels == 0].index, "count"] == 1).all()
    frac = seqs.groupby("split").label.mean()
    assert np.allclose(frac, 0.5, atol=0.02)
    assert abs((seqs.split == "train").mean() - 0.70) < 0.01


def test_the_same_seed_gives_the_same_sequences():
    a, _ = simulate("two-factor", seed=3)
    b, _ = simulate("two-factor", seed=3)
    c, _ = simulate("two-factor", seed=4)
    assert a.equals(b) and not a.sequence.equals(c.sequence)
