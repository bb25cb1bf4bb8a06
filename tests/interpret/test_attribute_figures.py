"""`regdna attribute` draws a token model's (N, L) base scores as a track (a line over a filled
area, the y axis spanning the scores, a strip of bases), one-hot contributions as letter logos."""
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch

from regdna.plot.logos import attribution_figure

from helpers import random_seq


def _glyphs(ax) -> int:
    """logomaker draws each letter as a PathPatch."""
    return sum(isinstance(p, PathPatch) for p in ax.patches)


@pytest.fixture(scope="module")
def token_attributions(tinyformer_run, example_dir, tmp_path_factory):
    from regdna.interpret.attribute import run_attribute

    out = tmp_path_factory.mktemp("attribute") / "rollout"
    summary = run_attribute(tinyformer_run, out, method="rollout", fasta=example_dir / "pos.fa",
                            n=3, motifs=example_dir / "motifs.tsv", logos=2, device="cpu",
                            say=lambda note: None)
    return summary, out


def test_token_model_figure_is_a_track_with_the_scores_range(token_attributions):
    import matplotlib.pyplot as plt

    summary, out = token_attributions
    assert summary["n_logos"] == 2 and len(list((out / "logos").glob("*.png"))) == 2
    saved = np.load(out / "attributions.npz")
    scores = saved["attributions"][0]
    assert scores.shape == (200,) and np.ptp(scores) > 0
    seq = "".join("ACGT"[i] if row.any() else "N" for i, row in
                  zip(saved["onehot"][0].argmax(1), saved["onehot"][0]))
    fig = attribution_figure(scores, seq, [(40, 50, "GATA1")], "rollout", zoom=(30, 60),
                             ylabel="rollout score")
    track, strip, zoomed, _ = fig.axes
    assert all(_glyphs(ax) == 0 for ax in fig.axes)             # no letter glyphs anywhere
    line = next(a for a in track.get_children() if isinstance(a, Line2D) and len(a.get_ydata()) > 2)
    np.testing.assert_allclose(line.get_ydata(), scores)
    assert any(isinstance(a, PolyCollection) for a in track.collections)   # the filled area
    assert track.get_ylim() == pytest.approx((scores.min(), scores.max()))
    assert track.get_ylabel() == "rollout score" and len(strip.images) == 1
    zoom_line = next(a for a in zoomed.get_lines() if len(a.get_ydata()) > 2)
    np.testing.assert_allclose(zoom_line.get_xdata(), np.arange(30, 60))   # real positions
    assert zoomed.get_ylim() == pytest.approx((scores[30:60].min(), scores[30:60].max()))
    plt.close(fig)


def test_onehot_contributions_stay_letter_logos():
    import matplotlib.pyplot as plt

    seq = random_seq(60, 3)
    contrib = np.eye(4)[["ACGT".index(b) for b in seq]] * np.linspace(-1, 1, 60)[:, None]
    fig = attribution_figure(contrib, seq)
    assert len(fig.axes) == 1 and _glyphs(fig.axes[0]) == 60     # one glyph per base
    plt.close(fig)


def test_a_long_window_is_a_track_with_its_zoom_in_letters():
    """A 1 kb window's letters would need an 85-inch figure: the full width is the per-base
    sum as a track, the zoom stays a letter logo, and the figure stays at most 24 inches."""
    import matplotlib.pyplot as plt

    seq = random_seq(1024, 4)
    contrib = np.eye(4)[["ACGT".index(b) for b in seq]] * np.linspace(-1, 1, 1024)[:, None]
    fig = attribution_figure(contrib, seq, zoom=(500, 560))
    track, strip, zoomed = fig.axes
    assert fig.get_size_inches()[0] <= 24
    assert _glyphs(track) == 0 and _glyphs(zoomed) == 60
    line = next(a for a in track.get_lines() if len(a.get_ydata()) > 2)
    np.testing.assert_allclose(line.get_ydata(), contrib.sum(axis=1))
    plt.close(fig)
