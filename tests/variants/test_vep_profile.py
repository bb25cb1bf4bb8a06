"""Variant scores of a profile model (coverage runs), checked against hand computations from
`Predictor.profile`: the log2 ratio of summed coverage (pseudocount 1) per track and averaged over
tracks, the shift-robust score aligned on the genome, `--scalar center:W`, and `--scalar` passed
through (or refused) by every verb that scores one number per output."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from regdna.encode.onehot import one_hot
from regdna.errors import RegdnaError
from regdna.models.base import RegdnaModel
from regdna.runs.predictor import Predictor
from regdna.variants.vep import score_variants
from regdna.data.windows import shift_offsets
from regdna.variants.windows import shared_bins

LENGTH, BIN = 40, 4
MOTIF_AT, OTHER_AT = 100, 90          # 0-based starts of GATA (track "bump") and TTTT ("other")


class MotifProfile(RegdnaModel):
    """Two tracks: coverage 0.1 + 5 over each base of a GATA (track 0) / TTTT (track 1) site,
    plus a ramp along the window (so windows shifted on the genome predict different bins)."""

    output_kind = "profile"
    n_outputs = 2

    def __init__(self):
        super().__init__()
        self.bin_size = BIN
        filters = one_hot(["GATA", "TTTT"], dtype=np.float32, channels_first=True)
        self.register_buffer("motifs", torch.from_numpy(filters))              # (2, 4, 4)

    def forward(self, x):
        n, _, length = x.shape
        starts = torch.relu(torch.nn.functional.conv1d(x, self.motifs) - 3.0)  # 1 at a site start
        covered = torch.nn.functional.conv1d(starts, torch.ones(2, 1, 4), groups=2,
                                             padding=3)[..., :length]           # 1 over the site
        y = 0.1 + 5.0 * covered + 0.5 * torch.linspace(0, 1, length)[None, None, :]
        return y.transpose(1, 2).reshape(n, length // BIN, BIN, 2).mean(2)


def _predictor(scalar="sum"):
    return Predictor(MotifProfile(), "profile", ["bump", "other"], length=LENGTH, device="cpu",
                     batch_size=5, scalar=scalar)


@pytest.fixture()
def genome(tmp_path):
    rng = np.random.default_rng(0)
    chrom = list(rng.choice(list("CG"), 200))     # no A or T: no site but the planted ones
    chrom[MOTIF_AT:MOTIF_AT + 4] = "GATA"
    chrom[OTHER_AT:OTHER_AT + 4] = "TTTT"
    chrom = "".join(chrom)
    path = tmp_path / "g.fa"
    path.write_text(">chr1\n" + chrom + "\n")
    return path, chrom


# the SNV A>C at 0-based MOTIF_AT + 1 removes the GATA site; its window starts 20 bp before it
VARIANT = pd.DataFrame({"chrom": ["chr1"], "pos": [MOTIF_AT + 2], "ref": ["A"], "alt": ["C"],
                        "id": ["breaks_gata"]})


def _windows(chrom: str, shift: int = 0) -> tuple[str, str]:
    start = MOTIF_AT + 1 - LENGTH // 2 + shift
    ref = chrom[start:start + LENGTH]
    alt = ref[:LENGTH // 2 - shift] + "C" + ref[LENGTH // 2 - shift + 1:]
    assert ref[LENGTH // 2 - shift] == "A"
    return ref, alt


def _score(tmp_path, genome_path, predictor, **options) -> pd.Series:
    score_variants(VARIANT, tmp_path / "s.tsv", predictor, genome_path, progress=False, **options)
    return pd.read_csv(tmp_path / "s.tsv", sep="\t").iloc[0]


def test_removing_the_motif_lowers_its_track_only(tmp_path, genome):
    path, chrom = genome
    row = _score(tmp_path, path, _predictor())
    ref, alt = _windows(chrom)
    totals = _predictor().profile([ref, alt]).sum(axis=1) * BIN          # (2, T): summed coverage
    hand = np.log2((1 + totals[1]) / (1 + totals[0]))
    assert row["p_ref.bump"] == pytest.approx(totals[0, 0], rel=1e-5)
    assert row["p_alt.other"] == pytest.approx(totals[1, 1], rel=1e-5)
    assert row["log2_ratio.bump"] == pytest.approx(hand[0], rel=1e-5)
    # the site's 4 bp of +5 coverage: 1 + 0.1*40 + ramp (10) + 20 against 1 + 4 + 10
    assert row["log2_ratio.bump"] == pytest.approx(math.log2(15 / 35), rel=1e-5)
    assert row["log2_ratio.bump"] < -1.2
    assert abs(row["log2_ratio.other"]) < 1e-6 and abs(hand[1]) < 1e-6
    assert row["logit_diff.bump"] == pytest.approx(hand[0] * math.log(2), rel=1e-5)
    assert row["delta.bump"] == pytest.approx(totals[1, 0] - totals[0, 0], rel=1e-5)
    # the output `mean`: every score averaged over the two tracks
    assert row["log2_ratio.mean"] == pytest.approx(hand.mean(), rel=1e-5)
    assert row["p_ref.mean"] == pytest.approx(totals[0].mean(), rel=1e-5)


def test_robust_score_aligns_two_windows_on_the_genome(tmp_path, genome):
    path, chrom = genome
    assert shift_offsets(2, 5, BIN) == [-4, 4]     # rounded to whole bins
    assert shift_offsets(3, 25, 16) == [-16, 0, 16]   # within +-max_shift
    assert shift_offsets(5, 20, 1) == [-20, -10, 0, 10, 20]
    row = _score(tmp_path, path, _predictor(), shifts=2, max_shift=5)
    # by hand: windows start at 77 and 85 (centred one: 81); both cover genome [85, 117), which
    # is bins [2, 10) of the first window and [0, 8) of the second
    totals = {}
    for shift in (-4, 4):
        start = MOTIF_AT + 1 - LENGTH // 2 + shift
        lo, hi = (85 - start) // BIN, (117 - start) // BIN
        profile = _predictor().profile(list(_windows(chrom, shift)))
        totals[shift] = profile[:, lo:hi].sum(axis=1) * BIN               # (2 alleles, T)
    assert shared_bins([-4, 4], LENGTH, BIN, 0, LENGTH // BIN) == [(2, 10), (0, 8)]
    p_ref = (totals[-4][0] + totals[4][0]) / 2
    p_alt = (totals[-4][1] + totals[4][1]) / 2
    assert row["p_ref_robust.bump"] == pytest.approx(p_ref[0], rel=1e-5)
    assert row["p_alt_robust.other"] == pytest.approx(p_alt[1], rel=1e-5)
    hand = np.log2((1 + p_alt) / (1 + p_ref))
    assert row["log2_ratio_robust.bump"] == pytest.approx(hand[0], rel=1e-5)
    assert row["log2_ratio_robust.mean"] == pytest.approx(hand.mean(), rel=1e-5)
    # the ramp makes the windows' bins differ: summing each window's own first bins would not
    # give these numbers
    wrong = (_predictor().profile(list(_windows(chrom, -4)))[0, 0:8].sum(0) * BIN
             + totals[4][0]) / 2
    assert abs(wrong[0] - p_ref[0]) > 0.1


def test_scalar_center_counts_the_central_bins_only(tmp_path, genome):
    path, chrom = genome
    ref, alt = _windows(chrom)
    profile = _predictor().profile([ref, alt])
    # center:8 of 10 bins of 4 bp: bins 4 and 5 (window bases 16..23): the GATA site (19..22)
    # is inside, the TTTT site (window bases 9..12) is not
    row = _score(tmp_path, path, _predictor("center:8"))
    centre = profile[:, 4:6].sum(axis=1) * BIN
    assert row["p_ref.bump"] == pytest.approx(centre[0, 0], rel=1e-5)
    assert row["p_ref.other"] == pytest.approx(centre[0, 1], rel=1e-5)
    assert row["p_ref.other"] < profile[0, :, 1].sum() * BIN - 19   # the TTTT bump left out
    assert row["log2_ratio.bump"] == pytest.approx(np.log2((1 + centre[1, 0]) / (1 + centre[0, 0])),
                                                   rel=1e-5)
    # robust: the central bins of the centred window, aligned on each shifted window
    robust = _score(tmp_path, path, _predictor("center:8"), shifts=2, max_shift=4)
    hand = np.mean([_predictor().profile([_windows(chrom, s)[0]])[0, 4 - s // BIN:6 - s // BIN, 0].sum()
                    * BIN for s in (-4, 4)])
    assert robust["p_ref_robust.bump"] == pytest.approx(hand, rel=1e-5)


def test_windows_sharing_no_bin_are_refused():
    with pytest.raises(RegdnaError, match="share no bin"):
        shared_bins([-24, 24], LENGTH, BIN, 0, LENGTH // BIN)


# -- --scalar through the verbs --------------------------------------------------------------------
def _fake_runs(monkeypatch, make):
    """`load_predictor(run, scalar=...)` answers `make(scalar)` (no run dir needed)."""
    import regdna.runs

    monkeypatch.setattr(regdna.runs, "load_predictor",
                        lambda run, scalar="sum", **kwargs: make(scalar))


def test_scalar_refused_for_a_run_without_profile(monkeypatch, tmp_path):
    from var_helpers import gc_predictor

    from regdna.variants.effects import load_scored_predictor
    from regdna.variants.ism import run_ism

    _fake_runs(monkeypatch, lambda scalar: gc_predictor())
    assert load_scored_predictor(tmp_path / "run").task == "binary"     # no --scalar: fine
    fasta = tmp_path / "s.fa"
    fasta.write_text(">a\n" + "ACGT" * 5 + "\n")
    with pytest.raises(RegdnaError, match=r"^--scalar center:8: run .* predicts one value per "
                                          r"output \(task binary\), not a coverage profile; "
                                          r"drop --scalar\.$"):
        run_ism(tmp_path / "run", tmp_path / "ism", fasta=fasta, scalar="center:8")


def test_scalar_without_a_run_is_refused(tmp_path):
    from regdna.variants.vep import run_vep

    with pytest.raises(RegdnaError, match=r"^--scalar sum chooses .* give --run RUN"):
        run_vep(tmp_path / "v.vcf", tmp_path / "s.tsv", zero_shot=True, model="hf:none",
                scalar="sum")


def test_ism_explains_the_chosen_scalar(monkeypatch, tmp_path, genome):
    from regdna.variants.ism import run_ism

    _, chrom = genome
    ref, _ = _windows(chrom)
    fasta = tmp_path / "s.fa"
    fasta.write_text(">w\n" + ref + "\n")
    _fake_runs(monkeypatch, _predictor)
    result = run_ism(tmp_path / "run", tmp_path / "ism", fasta=fasta, scalar="center:8",
                     output="other", fast=False)
    # the TTTT site (bases 9..12) lies outside the central bins: mutating it changes nothing
    # there, while the whole-window sum loses the site's 20 (coverage x bp)
    assert np.abs(result["delta"][0, 9:13]).max() < 1e-6
    summed = run_ism(tmp_path / "run", tmp_path / "ism", fasta=fasta, output="other",
                     fast=False, overwrite=True)
    assert summed["delta"][0, 10, 1] == pytest.approx(math.log(15 / 35), rel=1e-4)
    # breaking GATA (base 20 A>C) in the centre: log(1 + S) difference, by hand
    centre = _predictor("center:8")
    mutant = ref[:20] + "C" + ref[21:]
    hand = centre.logits([mutant])[0, 0] - centre.logits([ref])[0, 0]
    whole = run_ism(tmp_path / "run", tmp_path / "ism", fasta=fasta, scalar="center:8",
                    output="bump", fast=False, overwrite=True)
    assert whole["delta"][0, 20, 1] == pytest.approx(hand, rel=1e-5) and hand < -0.5
