"""Motif discovery (TF-MoDISco) and JASPAR matching (Tomtom) on a CNN trained on a planted
AP-1-like site; first-layer filter alignment."""
import numpy as np
import pytest

from regdna.encode.onehot import one_hot
from regdna.interpret.attributions import attribute
from regdna.interpret.filters import filter_ppms, filter_report
from regdna.interpret.modisco import discover_motifs
from regdna.interpret.motif_match import benjamini_hochberg, load_targets, match_motifs

from interp_helpers import TOY_MOTIF, make_planted

BZIP = ("FOS", "JUN", "ATF", "BATF", "MAF", "BACH", "NFE2", "NRF", "JDP")


@pytest.fixture(scope="module")
def targets():
    return load_targets()


def test_bh_matches_hand_computed_qvalues():
    # p = [0.01, 0.04, 0.03, 0.2]; sorted 0.01, 0.03, 0.04, 0.2 -> x4/1, x4/2, x4/3, x4/4
    # = 0.04, 0.06, 0.0533, 0.2 -> monotone from the right: 0.04, 0.0533, 0.0533, 0.2
    np.testing.assert_allclose(benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.2])),
                               [0.04, 0.16 / 3, 0.16 / 3, 0.2])


def test_modisco_finds_the_planted_site_and_tomtom_names_a_bzip(toy_predictor, targets):
    seqs, labels, _ = make_planted(100, seed=21)
    seqs = [s for s, lab in zip(seqs, labels) if lab == 1]
    hyp = attribute(toy_predictor, seqs, "grad_x_input", hypothetical=True)
    motifs = discover_motifs(one_hot(seqs), hyp, min_metacluster_size=20,
                             final_min_cluster_size=10)
    assert motifs and motifs[0].sign == 1
    top = motifs[0]
    assert TOY_MOTIF[1:-1] in top.consensus or TOY_MOTIF[1:-1] in \
        top.consensus.translate(str.maketrans("ACGT", "TGCA"))[::-1]
    table = match_motifs(motifs, targets, top=3)
    best = table[(table.motif == top.name) & (table["rank"] == 1)].iloc[0]
    assert best.q_value < 0.05 and any(k in best["name"].upper() for k in BZIP), best


def test_filter_alignment_recovers_the_motif(toy_predictor, targets):
    seqs, labels, _ = make_planted(100, seed=22)
    aligned = filter_ppms(toy_predictor, seqs)
    consensus = ["".join("ACGT"[i] for i in ppm.argmax(1)) for _, ppm, _ in aligned]
    # some 9-bp filter aligns to (part of) the planted TGACTCAG
    assert any(TOY_MOTIF[1:6] in c or "TGAGTCA"[1:6] in c for c in consensus), consensus
    table, summary = filter_report(toy_predictor, seqs, targets)
    assert summary["n_filters"] == 16 and 0 < summary["hit_ratio"] <= 1
    assert summary["mean_best_q"] == pytest.approx(table.q_value.mean())
