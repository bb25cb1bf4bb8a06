"""Kipoi Basset / DeepSEA / Beluga files as regdna models: each family's loaded model equals the
published nn.Sequential (built here in the Kipoi layout, channels shrunk) on the same state
dict; names, targets, the first mismatching key and pickled modules; predict, vep and ism on a
`<family>:<path>` spec with sockets disabled."""
from __future__ import annotations

import socket

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import random_seqs
from torch import nn

from regdna.encode.onehot import one_hot
from regdna.errors import RegdnaError
from regdna.models.published import load_published


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)


# -- the published layouts (kipoi/models), with small channel counts ------------------------------
class Flat(nn.Module):       # Kipoi's Lambda(x.view(x.size(0), -1)): no parameters
    def forward(self, x):
        return x.reshape(x.size(0), -1)


def dense(n_in, n_out):      # Kipoi's nn.Sequential(Lambda(...), nn.Linear): keys '<i>.1.*'
    return nn.Sequential(nn.Identity(), nn.Linear(n_in, n_out))


def basset_sequential(t=5):
    """Basset/pretrained_model_reloaded_th.py, (N, 4, 600, 1) input."""
    return nn.Sequential(
        nn.Conv2d(4, 6, (19, 1)), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d((3, 1), (3, 1)),
        nn.Conv2d(6, 5, (11, 1)), nn.BatchNorm2d(5), nn.ReLU(), nn.MaxPool2d((4, 1), (4, 1)),
        nn.Conv2d(5, 4, (7, 1)), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d((4, 1), (4, 1)),
        Flat(), dense(40, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3),
        dense(8, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3), dense(8, t), nn.Sigmoid())


class Recode(nn.Module):     # ReCodeAlphabet: ACGT -> AGCT
    def forward(self, x):
        return x[:, [0, 2, 1, 3]]


class ConcatRC(nn.Module):
    def forward(self, x):
        return torch.cat([x, x.flip(1).flip(3)], dim=0)


class AverageRC(nn.Module):
    def forward(self, x):
        n = x.shape[0] // 2
        return x[:n] / 2 + x[n:] / 2


def deepsea_sequential(t=4):
    """DeepSEA/model_architecture.py predict_model, (N, 4, 1, 1000) A, C, G, T input."""
    cpu = nn.Sequential(
        nn.Conv2d(4, 5, (1, 8)), nn.Threshold(0, 1e-6), nn.MaxPool2d((1, 4), (1, 4)), nn.Dropout(0.2),
        nn.Conv2d(5, 6, (1, 8)), nn.Threshold(0, 1e-6), nn.MaxPool2d((1, 4), (1, 4)), nn.Dropout(0.2),
        nn.Conv2d(6, 7, (1, 8)), nn.Threshold(0, 1e-6), nn.Dropout(0.5), Flat(),
        dense(7 * 53, 9), nn.Threshold(0, 1e-6), dense(9, t), nn.Sigmoid())
    return nn.Sequential(Recode(), ConcatRC(), cpu, AverageRC())


class Beluga(nn.Module):
    """DeepSEA/beluga/model.py, (N, 4, 1, 2000) input in A, G, C, T order."""

    def __init__(self, t=3):
        super().__init__()
        self.model = nn.Sequential(
            nn.Sequential(
                nn.Conv2d(4, 5, (1, 8)), nn.ReLU(), nn.Conv2d(5, 5, (1, 8)), nn.ReLU(),
                nn.Dropout(0.2), nn.MaxPool2d((1, 4), (1, 4)),
                nn.Conv2d(5, 6, (1, 8)), nn.ReLU(), nn.Conv2d(6, 6, (1, 8)), nn.ReLU(),
                nn.Dropout(0.2), nn.MaxPool2d((1, 4), (1, 4)),
                nn.Conv2d(6, 4, (1, 8)), nn.ReLU(), nn.Conv2d(4, 4, (1, 8)), nn.ReLU()),
            nn.Sequential(nn.Dropout(0.5), Flat(), dense(4 * 106, 7), nn.ReLU(), dense(7, t)),
            nn.Sigmoid())

    def forward(self, x):
        return self.model(x)


LENGTHS = {"basset": 600, "deepsea": 1000, "beluga": 2000}
CITED = {"basset": "Kelley, Snoek & Rinn 2016", "deepsea": "Zhou & Troyanskaya 2015",
         "beluga": "Zhou et al. 2018"}


def published_module(family, seed=0):
    torch.manual_seed(seed)
    module = {"basset": basset_sequential, "deepsea": deepsea_sequential, "beluga": Beluga}[family]()
    gen = torch.Generator().manual_seed(seed)
    for mod in module.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):   # non-trivial running statistics
            mod.running_mean.copy_(torch.randn(mod.num_features, generator=gen) * 0.3)
            mod.running_var.copy_(torch.rand(mod.num_features, generator=gen) + 0.5)
            mod.weight.data.copy_(torch.rand(mod.num_features, generator=gen) + 0.5)
        if isinstance(mod, (nn.Linear, nn.Conv2d)):   # larger weights: outputs that differ
            mod.weight.data.mul_(4 if isinstance(mod, nn.Linear) else 2)   # by sequence
    return module.eval()


def published_input(family, x):
    """regdna one-hot (N, 4, L) A, C, G, T -> the input the published module takes."""
    if family == "basset":
        return x[:, :, :, None]
    if family == "beluga":
        x = x[:, [0, 2, 1, 3]]
    return x[:, :, None, :]


def save(module, path):
    torch.save(module.state_dict(), path)
    return path


@pytest.mark.parametrize("family", ["basset", "deepsea", "beluga"])
def test_each_family_equals_its_published_sequential(family, tmp_path):
    module = published_module(family)
    path = save(module, tmp_path / "model.pth")
    published = load_published(f"{family}:{path}")
    seqs = random_seqs(3, LENGTHS[family], seed=2)
    x = torch.from_numpy(one_hot(seqs, dtype=np.float32, channels_first=True))
    with torch.no_grad():
        expected = module(published_input(family, x)).numpy()
        probs = torch.sigmoid(published.model(x)).numpy()
    assert published.task == "multilabel" and published.length == LENGTHS[family]
    assert published.labels == [f"{family}_{i}" for i in range(expected.shape[1])]
    assert published.source == path and published.citation.startswith(CITED[family])
    np.testing.assert_allclose(probs, expected, atol=2e-6, rtol=1e-5)
    assert np.ptp(expected, axis=0).max() > 0.01     # the outputs move with the sequence
    with pytest.raises(RegdnaError, match=f"takes windows of exactly {LENGTHS[family]} bp"):
        published.model(x[:, :, :-40])


def test_names_beside_the_weights_and_targets(tmp_path):
    module = published_module("deepsea")
    save(module, tmp_path / "deepsea_predict.pth")
    names = ["K562|DNase|None", "HepG2|CTCF|None", "K562|CTCF|None", "GM12878|H3K4me3|None"]
    (tmp_path / "predictor_names.txt").write_text("\n".join(names) + "\n")
    spec = f"deepsea:{tmp_path}"          # a directory holding one .pth
    full = load_published(spec)
    assert full.labels == names
    x = torch.from_numpy(one_hot(random_seqs(2, 1000, seed=3), dtype=np.float32,
                                 channels_first=True))
    z = full.model(x).detach().numpy()
    k562 = load_published(spec, targets="K562")
    assert k562.labels == ["K562|DNase|None", "K562|CTCF|None"]
    np.testing.assert_allclose(k562.model(x).detach().numpy(), z[:, [0, 2]], atol=1e-6)
    assert load_published(spec, targets=["3", "hepg2"]).labels == [names[3], names[1]]
    with pytest.raises(RegdnaError, match=r"--target 'Liver' names no output; outputs are e\.g\. "
                                          r"K562\|DNase\|None, HepG2"):
        load_published(spec, targets="Liver")
    (tmp_path / "predictor_names.txt").write_text("a\nb\n")
    with pytest.raises(RegdnaError, match="does not list 4 output names"):
        load_published(spec)


def test_kipoi_model_yaml_column_labels(tmp_path):
    save(published_module("basset"), tmp_path / "pretrained_model_reloaded_th.pth")
    (tmp_path / "model.yaml").write_text("schema:\n  targets:\n    column_labels:\n"
                                         "      - cells.txt\n    shape: (5, )\n")
    (tmp_path / "cells.txt").write_text("".join(f"cell{i}\n" for i in range(5)))
    assert load_published(f"basset:{tmp_path / 'pretrained_model_reloaded_th.pth'}").labels == \
        [f"cell{i}" for i in range(5)]


def test_the_first_mismatching_key_is_one_line(tmp_path):
    state = published_module("deepsea").state_dict()
    renamed = dict(state)
    renamed["2.4.weightx"] = renamed.pop("2.4.weight")
    torch.save(renamed, tmp_path / "renamed.pth")
    with pytest.raises(RegdnaError, match=r"renamed\.pth: missing key '2\.4\.weight' .*docs/MODELS\.md"):
        load_published(f"deepsea:{tmp_path / 'renamed.pth'}")
    reshaped = dict(state)
    reshaped["2.12.1.weight"] = torch.zeros(9, 300)
    torch.save(reshaped, tmp_path / "reshaped.pth")
    with pytest.raises(RegdnaError, match=r"key '2\.12\.1\.weight' has shape \(9, 300\) where deepsea "
                                          r"expects \(\?, 371\) \(published: \(925, 371\)\)"):
        load_published(f"deepsea:{tmp_path / 'reshaped.pth'}")
    extra = dict(state, **{"2.99.weight": torch.zeros(3)})
    torch.save(extra, tmp_path / "extra.pth")
    with pytest.raises(RegdnaError, match=r"unexpected key '2\.99\.weight'"):
        load_published(f"deepsea:{tmp_path / 'extra.pth'}")
    basset = save(published_module("basset"), tmp_path / "basset.pth")
    with pytest.raises(RegdnaError, match=r"key '0\.weight' has shape \(6, 4, 19, 1\) where deepsea "
                                          r"expects \(\?, 4, 1, \?\) .*the keys look like basset: "
                                          r"use basset:<path>"):
        load_published(f"deepsea:{basset}")


def test_a_pickled_module_is_refused_and_a_dir_needs_one_file(tmp_path):
    torch.save(published_module("basset"), tmp_path / "whole.pth")
    with pytest.raises(RegdnaError, match=r"whole pickled model.*state_dict\(\)"):
        load_published(f"basset:{tmp_path / 'whole.pth'}")
    save(published_module("basset"), tmp_path / "second.pt")
    with pytest.raises(RegdnaError, match=r"exactly one weights file .*found 2"):
        load_published(f"basset:{tmp_path}")


# -- the verbs on a spec --------------------------------------------------------------------------
def test_predict_vep_and_ism_on_a_basset_spec(tmp_path, example_dir):
    from regdna.evaluate.predict import run_predict
    from regdna.io.genome import Genome
    from regdna.io.vcf import iter_variants
    from regdna.runs import load_predictor
    from regdna.variants.ism import run_ism
    from regdna.variants.vep import model_identity, run_vep
    from regdna.variants.windows import make_windows

    module = published_module("basset")
    weights = save(module, tmp_path / "basset.pth")
    (tmp_path / "targets.txt").write_text("".join(f"cell{i}\n" for i in range(5)))
    spec = f"basset:{weights}"
    logits = nn.Sequential(*list(module.children())[:-1]).eval()   # the published Sigmoid off

    def ref_logits(seqs):
        x = torch.from_numpy(one_hot(seqs, dtype=np.float32, channels_first=True))
        with torch.no_grad():
            return logits(published_input("basset", x)).numpy()

    seqs = random_seqs(2, 600, seed=4)
    fasta = tmp_path / "s.fa"
    fasta.write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs)))
    table = pd.read_csv(run_predict(spec, tmp_path / "p.tsv", fasta=fasta, device="cpu")["out"],
                        sep="\t")
    np.testing.assert_allclose(table[["cell0", "cell3"]].to_numpy(),
                               1 / (1 + np.exp(-ref_logits(seqs)[:, [0, 3]])), atol=1e-5)

    vcf = example_dir / "variants.vcf"
    summary = run_vep(vcf, tmp_path / "v.tsv", run=spec, genome=example_dir / "genome.fa",
                      targets="cell1,cell4", device="cpu", progress=False)
    scores = pd.read_csv(summary["out"], sep="\t")
    assert "log2_ratio.cell1" in scores and "log2_ratio.cell4" in scores and \
        "log2_ratio.cell0" not in scores
    frame = next(iter_variants(vcf, 10_000))
    with Genome(example_dir / "genome.fa") as genome:
        win = make_windows(frame, genome, 600)
    usable = [i for i, r in enumerate(win.reason) if r == ""][:3]
    z_ref = ref_logits([win.ref[i] for i in usable])
    z_alt = ref_logits([win.alt[i] for i in usable])
    rows = scores.set_index("id").loc[frame["id"].iloc[usable]]
    np.testing.assert_allclose(rows["logit_diff.cell4"], z_alt[:, 4] - z_ref[:, 4], atol=1e-4)
    identity = model_identity(spec, None, ["cell1", "cell4"])["published"]
    assert identity["spec"] == spec and identity["weights"]["size"] == weights.stat().st_size
    assert identity["labels"] == ["cell1", "cell4"]

    result = run_ism(spec, tmp_path / "ism", fasta=fasta, output="cell2", device="cpu",
                     region="290:310")
    assert result["path"] == "fast" and result["length"] == 600
    delta = result["delta"]
    mutant = seqs[0][:300] + ("A" if seqs[0][300] != "A" else "C") + seqs[0][301:]
    base = "ACGT".index(mutant[300])
    expected = ref_logits([mutant])[0, 2] - ref_logits([seqs[0]])[0, 2]
    assert delta[0, 300, base] == pytest.approx(expected, abs=1e-4)
    assert abs(expected) > 1e-4
    with pytest.raises(RegdnaError, match="names 5 outputs"):
        run_ism(spec, tmp_path / "ism2", fasta=fasta, output="cell", device="cpu")
    assert load_predictor(spec, device="cpu").labels == [f"cell{i}" for i in range(5)]


def test_cli_vep_target_on_a_deepsea_spec(tmp_path, capsys):
    from regdna.cli import main

    module = published_module("deepsea")
    weights = save(module, tmp_path / "deepsea_predict.pth")
    names = ["K562|DNase|None", "HepG2|CTCF|None", "K562|CTCF|None", "GM12878|H3K4me3|None"]
    (tmp_path / "predictor_names.txt").write_text("\n".join(names) + "\n")
    ref = random_seqs(1, 1000, seed=5)[0]
    alt = ref[:500] + ("G" if ref[500] != "G" else "T") + ref[501:]
    pd.DataFrame({"id": ["m1"], "ref_seq": [ref], "alt_seq": [alt]}).to_csv(
        tmp_path / "v.tsv", sep="\t", index=False)
    try:
        main(["vep", "--run", f"deepsea:{weights}", "--variants", str(tmp_path / "v.tsv"),
              "--out", str(tmp_path / "s.tsv"), "--target", "HepG2", "--no-progress",
              "--device", "cpu"])
    except SystemExit as done:
        assert not done.code, capsys.readouterr().err
    scores = pd.read_csv(tmp_path / "s.tsv", sep="\t")
    x = torch.from_numpy(one_hot([ref, alt], dtype=np.float32, channels_first=True))
    with torch.no_grad():
        p = module(published_input("deepsea", x)).numpy()[:, 1]   # HepG2|CTCF|None
    assert scores["p_ref"].item() == pytest.approx(p[0], abs=1e-5)   # one output: no suffix
    assert scores["delta"].item() == pytest.approx(p[1] - p[0], abs=1e-5)
