"""`regdna embed`: the penultimate embeddings (input of the output layer, pooled by the stated
rule), a UMAP map that separates two planted classes, and the files it writes."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from regdna.data.dataset import DatasetInfo, ProfileInfo, write_info
from regdna.encode.onehot import one_hot
from regdna.errors import RegdnaError
from regdna.models.base import RegdnaModel
from regdna.runs.predictor import Predictor

LENGTH, MARGIN, BIN = 64, 4, 8


class SiteProfile(RegdnaModel):
    """Conv (GATA detector + 3 other channels) -> ReLU -> Conv1d head -> Softplus, binned."""

    output_kind = "profile"
    n_outputs = 1

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.bin_size = BIN
        self.trunk = torch.nn.Conv1d(4, 4, 4)
        self.act = torch.nn.ReLU()
        self.head = torch.nn.Conv1d(4, 1, 1)
        self.out = torch.nn.Softplus()
        with torch.no_grad():
            self.trunk.weight.mul_(0.3)
            self.trunk.weight[0] = 3.0 * torch.from_numpy(
                one_hot(["GATA"], dtype=np.float32, channels_first=True)[0])
            self.trunk.bias[0] = -9.0              # 3 on a GATA site, 0 or below elsewhere

    def forward(self, x):
        h = self.act(self.trunk(torch.nn.functional.pad(x, (0, 3))))
        y = self.out(self.head(h)).transpose(1, 2)                       # (N, L, 1)
        n = x.shape[0]
        return y.reshape(n, LENGTH // BIN, BIN, 1).mean(2)


def _coverage_dataset(root, n_per_class=60):
    rng = np.random.default_rng(0)
    rows = []
    for k in range(2 * n_per_class):
        peak = k % 2
        seq = list(rng.choice(list("CG"), LENGTH + 2 * MARGIN))       # no site by chance
        if peak:
            for start in rng.choice(np.arange(MARGIN, LENGTH + MARGIN - 4, 6), 3, replace=False):
                seq[start:start + 4] = "GATA"
        rows.append({"id": f"w{k}", "chrom": "chr1", "start": 100 * k,
                     "end": 100 * k + LENGTH + 2 * MARGIN, "sequence": "".join(seq),
                     "cov": float(10 + 90 * peak + k), "peak_cov": peak})
    table = pd.DataFrame(rows)
    root.mkdir()
    table.to_parquet(root / "test.parquet")
    write_info(root, DatasetInfo(task="profile", labels=["cov"], length=LENGTH,
                                 profile=ProfileInfo(tracks=["cov"], margin=MARGIN,
                                                     stored_length=LENGTH + 2 * MARGIN,
                                                     bin_size=BIN, peak_columns=["peak_cov"])))
    return root, table


def test_penultimate_is_the_head_input_averaged_over_positions():
    from regdna.interpret.embed import penultimate

    model = SiteProfile()
    predictor = Predictor(model, "profile", ["cov"], length=LENGTH, device="cpu", batch_size=3)
    seqs = ["GATA" + "C" * (LENGTH - 4), "G" * LENGTH, "C" * 30 + "GATA" + "C" * 30]
    features, layer, pooling = penultimate(predictor, seqs)
    x = torch.from_numpy(one_hot(seqs, dtype=np.float32, channels_first=True))
    with torch.no_grad():
        hand = model.act(model.trunk(torch.nn.functional.pad(x, (0, 3)))).mean(-1).numpy()
    assert layer == "head" and pooling.startswith("mean over positions")
    assert features.shape == (3, 4) and np.allclose(features, hand, atol=1e-6)
    assert features[0, 0] == pytest.approx(3.0 / LENGTH) and features[1, 0] == 0.0


def test_umap_separates_planted_classes_and_writes_files(tmp_path, monkeypatch):
    import regdna.interpret.embed as embed

    data, table = _coverage_dataset(tmp_path / "data")
    monkeypatch.setattr(embed, "load_predictor", lambda run, **kw: Predictor(
        SiteProfile(), "profile", ["cov"], length=LENGTH, device="cpu"))
    summary = embed.run_embed(tmp_path / "run", data, tmp_path / "out", n=100, seed=0)
    assert summary["n"] == 100 and summary["layer"] == "head" and summary["colour"] == "peak_cov"
    out = pd.read_csv(tmp_path / "out" / "embedding.tsv", sep="\t")
    assert list(out.columns) == ["id", "x", "y", "peak_cov"] and len(out) == 100
    assert set(out["id"]) <= set(table["id"]) and out["id"].is_unique
    truth = table.set_index("id").loc[out["id"], "peak_cov"].to_numpy()
    assert (out["peak_cov"].to_numpy() == truth).all()
    # leave-one-out 5-nearest-neighbour accuracy of the class on the 2-D points
    points = out[["x", "y"]].to_numpy()
    dist = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(dist, np.inf)
    votes = truth[np.argsort(dist, axis=1)[:, :5]].mean(1)
    accuracy = ((votes > 0.5) == truth).mean()
    assert accuracy > 0.9, accuracy
    assert (tmp_path / "out" / "umap.png").stat().st_size > 5000
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["dim"] == 4
    # colour by coverage: log(1 + the track's total) of the same records, on the same map
    again = embed.run_embed(tmp_path / "run", data, tmp_path / "out", n=100, seed=0,
                            color_by="coverage", overwrite=True)
    cov = pd.read_csv(tmp_path / "out" / "embedding.tsv", sep="\t")
    assert again["colour"] == "log1p_cov" and np.allclose(cov[["x", "y"]], points)
    assert np.allclose(cov["log1p_cov"], np.log1p(table.set_index("id").loc[cov["id"], "cov"]),
                       rtol=1e-5)


def test_colour_choices_are_checked(tmp_path):
    from regdna.interpret.embed import colour_values

    data, table = _coverage_dataset(tmp_path / "data", n_per_class=2)
    info = DatasetInfo.model_validate_json((data / "dataset.json").read_text())
    with pytest.raises(RegdnaError, match=r"--color-by nope: choose one of class, coverage, cov, "
                                          r"peak_cov\."):
        colour_values(info, table, "nope")
    binary = DatasetInfo(task="binary", labels=["label"], classes=["neg", "pos"], length=4)
    values, column, categorical = colour_values(binary, pd.DataFrame({"label": [1.0, 0.0]}), "class")
    assert list(values) == ["pos", "neg"] and column == "label" and categorical
