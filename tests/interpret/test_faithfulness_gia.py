"""Mutagenesis faithfulness (Consens et al. n.d.) and global importance analysis (Koo et al. 2021;
Toneyan et al. 2022)."""
import numpy as np
import pytest

from regdna.errors import RegdnaError
from regdna.interpret.faithfulness import faithfulness, mutate, summary_table
from regdna.interpret.gia import (MotifSource, distance_sweep, embed, flank_sweep,
                                  make_backgrounds, motif_effect)

from interp_helpers import TOY_MOTIF, make_planted


def test_mutate_changes_exactly_the_listed_positions():
    rng = np.random.default_rng(0)
    seq = "ACGT" * 10
    out = mutate([seq], [np.array([0, 5, 39])], rng)[0]
    diff = [i for i, (a, b) in enumerate(zip(seq, out)) if a != b]
    assert diff == [0, 5, 39]


def test_top_positions_hurt_more_than_random(toy_predictor):
    seqs, labels, _ = make_planted(30, seed=11)
    table = faithfulness(toy_predictor, seqs, labels, ["grad_x_input"], ns=(5, 20),
                         n_repeats=10, n_references=4)
    pos = table[table.cls == 1].set_index(["method", "n"])
    assert pos.loc[("none", 0), "accuracy"] > 0.9
    # mutating the 5 top positions breaks the motif; 5 random positions rarely do
    assert pos.loc[("grad_x_input", 5), "accuracy"] < pos.loc[("random", 5), "lo"]
    summary = summary_table(table, n=20, class_names=["inactive", "active"])
    assert list(summary["class"]) == ["inactive", "active"]
    assert "n=20 (random)" in summary.columns and "n=all (100)" in summary.columns


def test_gia_planted_motif_has_large_effect_and_decoy_none(toy_predictor):
    seqs, _, _ = make_planted(50, seed=5)
    bgs = make_backgrounds(seqs, n=200, seed=0)
    assert len(bgs) == 200 and all(len(b) == 100 for b in bgs)
    motif = motif_effect(toy_predictor, bgs, MotifSource("AP-1", TOY_MOTIF))
    decoy = motif_effect(toy_predictor, bgs, MotifSource("decoy", "CCAATGGC"))
    assert motif["lo"] > 2.0 and motif["lo"] > decoy["hi"]
    assert decoy["mean"] < 1.0


def test_gia_sweeps(toy_predictor):
    seqs, _, _ = make_planted(20, seed=5)
    bgs = make_backgrounds(seqs, n=40, seed=1)
    core = MotifSource("core", TOY_MOTIF[1:-1])
    flanks = flank_sweep(toy_predictor, bgs, core, n_flank=1)
    assert len(flanks) == 16
    # the planted motif's own flanks (T...G) rank near the top
    assert flanks.index[flanks.site == TOY_MOTIF][0] < 4
    dist = distance_sweep(toy_predictor, bgs, MotifSource("m", TOY_MOTIF),
                          MotifSource("m", TOY_MOTIF), distances=[-20, 12, 30])
    assert set(dist.orientation) == {"+", "-"} and len(dist) == 6
    with pytest.raises(RegdnaError):
        embed(["ACGT"], ["ACGTAC"], 0)
