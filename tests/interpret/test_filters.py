"""First-layer filter interpretation (`regdna.interpret.filters`): information content,
activation-based alignment, the exclusion of profiles that motif-less filters match, the
information cut, and the report's distribution of matches and warnings."""
import numpy as np
import pytest
import torch

from helpers import random_seq
from regdna.interpret.filters import (FILTER_EXCLUDE, MIN_INFORMATION, filter_ppms,
                                      filter_report, first_conv, information_content)
from regdna.interpret.motif_match import base_id, exclude_profiles, load_targets, match_jaspar
from regdna.io.jaspar import Motif, load_motif, sample_from_ppm
from regdna.models.base import RegdnaModel
from regdna.runs.predictor import Predictor

PLANTED = ("GATA1", "TAL1::TCF3", "SPI1")     # the bundled example's grammar


@pytest.fixture(scope="module")
def targets():
    """Every vertebrate CORE profile of the default release, the excluded ones included."""
    return load_targets()


class Scanner(RegdnaModel):
    """conv(4 -> n, width, 'same') -> ReLU -> max over positions, summed: filters set by hand."""

    input_kind = "onehot"
    n_outputs = 1

    def __init__(self, weights: np.ndarray):
        super().__init__()
        n, _, width = weights.shape
        self.conv = torch.nn.Conv1d(4, n, width, padding=width // 2)
        self.relu = torch.nn.ReLU()
        with torch.no_grad():
            self.conv.weight.copy_(torch.from_numpy(weights).float())
            self.conv.bias.zero_()

    def forward(self, x):
        return self.relu(self.conv(x)).amax(-1).sum(1, keepdim=True)


def predictor(model, length=200):
    return Predictor(model.eval(), task="binary", labels=["y"], length=length, device="cpu")


def random_seqs(n, length=200, seed=0):
    rng = np.random.default_rng(seed)
    return [random_seq(length, rng) for _ in range(n)]


def untrained_basset(scale: float, exp_activation: bool, seed: int = 0):
    """An untrained Basset (300 first-layer filters of width 19), first-layer weights x scale."""
    from regdna.data.dataset import DatasetInfo
    from regdna.models.registry import build_model

    torch.manual_seed(seed)
    model = build_model("basset", DatasetInfo(task="binary", labels=["y"], length=200),
                        exp_activation=exp_activation, hidden=16)
    with torch.no_grad():
        first_conv(model).weight.mul_(scale)
    return predictor(model)


def test_information_content_in_bits():
    one_hot = np.eye(4)[np.arange(19) % 4]
    assert information_content(one_hot) == pytest.approx(38.0)          # 2 bits x 19
    assert information_content(np.full((19, 4), 0.25)) == pytest.approx(0.0)
    # one position split evenly between two bases: 2 - 1 = 1 bit; unnormalised counts are fine
    assert information_content(np.array([[5, 5, 0, 0]])) == pytest.approx(1.0)


def test_alignment_counts_every_site_once():
    """The PPM is the base counts (+ 0.1) of every window above 0.5 x the filter's maximum,
    compared with a loop over the windows."""
    rng = np.random.default_rng(3)
    weights = rng.normal(size=(3, 4, 5))
    model = Scanner(weights)
    seqs = random_seqs(20, length=30, seed=4)
    aligned = filter_ppms(predictor(model, 30), seqs, min_sites=1)
    x = np.stack([np.eye(4)["ACGT".index(b)] for s in seqs for b in s]).reshape(20, 30, 4)
    scores = np.array([[[np.sum(x[n, j - 2:j + 3] * weights[f].T) if 2 <= j < 28 else -np.inf
                         for j in range(30)] for f in range(3)] for n in range(20)])
    act = np.maximum(scores, 0)
    assert [f for f, _, _ in aligned] == [0, 1, 2]
    for f, ppm, n_sites in aligned:
        n_idx, j_idx = np.nonzero(act[:, f] > 0.5 * act[:, f].max())
        counts = sum(x[n, j - 2:j + 3] for n, j in zip(n_idx, j_idx)) + 0.1
        assert n_sites == len(n_idx) > 0
        np.testing.assert_allclose(ppm, counts / counts.sum(1, keepdims=True), rtol=1e-6)


def test_exclusion_is_by_base_id_and_idempotent(targets):
    kept = load_targets(exclude=FILTER_EXCLUDE)
    assert {"MA1929", "MA0615", "MA1930", "MA1978"} <= set(FILTER_EXCLUDE)
    assert len(targets) - len(kept) == len(FILTER_EXCLUDE)     # one latest version per base id
    assert base_id("MA1930.2") == "MA1930"
    later = [Motif("CTCF", "MA1930.9", np.ones((5, 4))), Motif("X", "MA19300.1", np.ones((5, 4)))]
    assert [m.matrix_id for m in exclude_profiles(later, ("MA1930.2",))] == ["MA19300.1"]
    seqs = random_seqs(100, seed=5)
    model = untrained_basset(8.0, exp_activation=True)
    full = filter_report(model, seqs, targets)
    pre = filter_report(model, seqs, kept)
    assert full[0].equals(pre[0]) and full[1] == pre[1]


def test_untrained_filters_rarely_match_once_excluded_and_cut(targets):
    """Motif-less filters: untrained Bassets on random sequence. Matched as before (every
    profile, no information cut) nearly all 'match' a long CTCF profile; filter_report drops the
    low-information ones and the rest hit at about the nominal rate."""
    seqs = random_seqs(300, seed=6)
    flat = untrained_basset(1.0, exp_activation=False)       # init scale: loose alignments
    aligned = filter_ppms(flat, seqs)
    bits = np.array([information_content(ppm) for _, ppm, _ in aligned])
    old = match_jaspar([ppm for _, ppm, _ in aligned], targets, top=1)
    old_hits = [t.iloc[0] for t in old if t.q_value.iloc[0] < 0.05]
    ctcf = sum(base_id(h.matrix_id) in ("MA1929", "MA1930") for h in old_hits)
    print(f"init scale: {len(aligned)} aligned, median {np.median(bits):.1f} bits, "
          f"old hits {len(old_hits)}, to CTCF MA1929/MA1930 {ctcf}")
    assert len(aligned) >= 250 and len(old_hits) / len(aligned) > 0.9
    assert ctcf / len(old_hits) > 0.9
    table, summary = filter_report(flat, seqs, targets)
    print({k: summary[k] for k in ("n_aligned", "n_informative", "n_hits", "hit_ratio")})
    assert summary["n_informative"] <= 0.02 * summary["n_aligned"]   # measured: 95% < 6.2 bits
    assert summary["hit_ratio_all"] <= 0.01

    # weights x 8 (a trained first layer's scale): tight, informative alignments of nothing
    sharp = untrained_basset(8.0, exp_activation=True)
    table, summary = filter_report(sharp, seqs, targets)
    print({k: summary[k] for k in ("n_aligned", "n_informative", "n_hits", "hit_ratio")})
    assert summary["n_informative"] >= 40 and (table.information >= MIN_INFORMATION).all()
    assert summary["hit_ratio"] <= 0.15                 # measured 4-8% (bench/filter_null.py)
    assert not any(base_id(m) in FILTER_EXCLUDE for m in table.matrix_id if m)


def _motif_filters(names, width=19):
    """(len(names), 4, width) weights: each motif's log-odds, centred, zero elsewhere."""
    motifs = [load_motif(name) for name in names]
    weights = np.zeros((len(names), 4, width))
    for i, motif in enumerate(motifs):
        w = min(motif.width, width)
        start = (width - w) // 2
        weights[i, :, start:start + w] = motif.log_odds()[:w].T
    return motifs, weights


def test_filters_set_to_jaspar_motifs_match_them_without_warnings(targets):
    names = ("GATA1", "SPI1", "TAL1::TCF3", "REST", "FOXA1", "HNF4A")
    motifs, weights = _motif_filters(names)
    rng = np.random.default_rng(7)
    seqs = []
    for i in range(300):                      # every sequence carries one site of one motif
        seq, site = random_seq(200, rng), sample_from_ppm(motifs[i % len(motifs)].ppm, rng)
        at = int(rng.integers(0, 200 - len(site)))
        seqs.append(seq[:at] + site + seq[at + len(site):])
    table, summary = filter_report(predictor(Scanner(weights)), seqs, targets)
    print(table[["filter", "information", "matrix_id", "name", "q_value"]])
    gata = table.set_index("filter").loc[0]
    assert gata["name"] == "GATA1" and gata.q_value < 0.05 and gata.informative
    assert [m.upper() for m in table["name"]] == [m.name.upper() for m in motifs]
    assert (table.q_value < 1e-4).all()
    assert summary["hit_ratio"] == summary["hit_ratio_all"] == 1.0
    assert summary["top_share"] == pytest.approx(1 / 6) and summary["warnings"] == []
    assert sorted(summary["matched_names"]) == sorted(m.name for m in motifs)


def test_degenerate_filters_are_dropped_or_warned_about(targets):
    """20 copies of one weak random filter: their PPMs carry < 8 bits, so none is matched and the
    report says so; matched anyway (no information cut) they all take the same profile, which
    the > 25% warning reports."""
    pattern = np.random.default_rng(8).normal(scale=0.1, size=(4, 19))
    model = predictor(Scanner(np.repeat(pattern[None], 20, axis=0)))
    seqs = random_seqs(200, seed=9)
    table, summary = filter_report(model, seqs, targets)
    assert summary["n_aligned"] == 20 and summary["n_informative"] == 0
    assert (table.information < MIN_INFORMATION).all() and not table.hit.any()
    assert summary["hit_ratio"] == summary["hit_ratio_all"] == 0.0
    assert any(w.startswith("no first-layer filter is informative") for w in summary["warnings"])
    assert not any("takes" in w for w in summary["warnings"])

    table, summary = filter_report(model, seqs, targets, min_information=0.0)
    assert summary["n_hits"] == 20 and summary["top_share"] == 1.0
    (name, count), = summary["matched_names"].items()
    warning = [w for w in summary["warnings"] if "takes 100% of filter matches" in w]
    assert count == 20 and len(warning) == 1 and name in warning[0], summary["warnings"]
    assert "exp_activation" in warning[0]


@pytest.fixture(scope="module")
def example_filters(basset_run, dataset_dir):
    """filter_report of the `basset_run` fixture on the test split of the bundled example."""
    from regdna.data.dataset import read_split
    from regdna.runs import load_predictor

    seqs = list(read_split(dataset_dir, "test").sequence)
    table, summary = filter_report(load_predictor(basset_run, device="cpu"), seqs, load_targets())
    print({k: v for k, v in summary.items() if k != "excluded"})
    return table, summary


def test_example_filters_name_the_planted_factors(example_filters):
    table, summary = example_filters
    matched = {name.upper() for name in summary["matched_names"]}
    assert len(matched & set(PLANTED)) >= 2, summary["matched_names"]
    assert not any(base_id(m) in FILTER_EXCLUDE for m in table.matrix_id if m)
    # no profile outside the grammar takes more than a quarter of the matches (the CTCF sink)
    others = [c for name, c in summary["matched_names"].items() if name.upper() not in PLANTED]
    assert max(others, default=0) <= 0.25 * summary["n_hits"], summary["matched_names"]


@pytest.mark.xfail(strict=True, reason="the basset_run fixture learns SPI1 in many first-layer "
                   "filters: Spi1 MA0080.7 takes 8-9 of 19 matches (42-47%) on the example's "
                   "test split; remove this mark when the default model passes")
def test_example_filters_no_profile_takes_a_quarter(example_filters):
    _, summary = example_filters
    assert summary["top_share"] <= 0.25, summary["matched_names"]
