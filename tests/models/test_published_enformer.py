"""Enformer and Borzoi loaded from files in the published layout (config.json and
pytorch_model.bin / model.safetensors, a Basenji track table), with tiny networks built here:
the (N, T) logits against the network's own output at the centre bin (and Borzoi's unsquashed
coverage computed by hand), --target selection, a mismatching state dict, N padding at a
chromosome end, and predict / vep / ism end to end, with sockets disabled."""
from __future__ import annotations

import json
import socket

import numpy as np
import pandas as pd
import pytest
import torch

from regdna.encode.onehot import one_hot
from regdna.errors import RegdnaError
from regdna.io.genome import Genome
from regdna.models.published import enformer as ef
from regdna.runs import load_predictor
from regdna.variants.windows import make_windows

E_LENGTH, E_BINS = 2048, 8           # 128 bp bins: 16 positions, the central 8 kept
B_LENGTH, B_BINS = 4096, 64          # 32 bp bins: 128 positions, the central 64 kept
TRACKS = ["CAGE:K562 ENCODE, biol_", "DNASE:K562", "CHIP:H3K27ac:HepG2", "CAGE:HepG2 ENCODE",
          "CAGE:K562 ENCODE, tech_", "DNASE:HepG2"]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def _randomize(network: torch.nn.Module, seed: int = 0, gain: float = 1.0) -> torch.nn.Module:
    """Non-trivial batch-norm statistics and attention outputs (the ports zero-initialise
    to_out, which would hide the attention); weights times `gain` (3: one base at the centre
    moves the centre bin's log coverage by about 2, a base 900 bp away by 0.03)."""
    gen = torch.Generator().manual_seed(seed)
    heads = set(network._heads.modules()) if hasattr(network, "_heads") else set()
    for mod in network.modules():
        if isinstance(mod, (torch.nn.Conv1d, torch.nn.Linear)) and mod not in heads:
            mod.weight.data.mul_(gain)
        elif isinstance(mod, torch.nn.Linear):      # every track's coverage well above 0
            mod.weight.data.mul_(0.1)
            mod.bias.data.fill_(1.0)
        if isinstance(mod, torch.nn.BatchNorm1d):
            mod.running_mean.copy_(torch.randn(mod.num_features, generator=gen) * 0.2)
            mod.running_var.copy_(torch.rand(mod.num_features, generator=gen) + 0.5)
        if isinstance(mod, ef.Attention):
            mod.to_out.weight.data.copy_(torch.randn(mod.to_out.weight.shape, generator=gen) * 0.1
                                         * gain)
    return network.eval()


def _track_table(path, n, borzoi=False):
    frame = pd.DataFrame({"index": range(n), "identifier": [f"ID{i}" for i in range(n)],
                          "file": [f"/data/{i}.w5" for i in range(n)], "clip": 384,
                          "scale": 1.0, "sum_stat": "sum", "description": TRACKS[:n]})
    if borzoi:   # track 1: scale 0.5, sum_sqrt, unsquashed above 0.3 (the tiny net predicts ~0.7)
        frame["clip_soft"] = [384.0, 0.3, 384.0]
        frame.loc[1, ["scale", "sum_stat"]] = [0.5, "sum_sqrt"]
    frame.to_csv(path / "targets_human.txt", sep="\t", index=False)


def _tiny_enformer(tmp_path):
    torch.manual_seed(0)
    net = _randomize(ef.Enformer(filters=[16, 24, 24, 32, 32, 40, 48], depth=1, heads=2,
                                 dim_key=8, n_tracks=6, target_length=E_BINS), gain=3.0)
    folder = tmp_path / "enformer"
    folder.mkdir()
    torch.save(net.state_dict(), folder / "pytorch_model.bin")
    (folder / "config.json").write_text(json.dumps({
        "dim": 48, "depth": 1, "heads": 2, "output_heads": {"human": 6}, "target_length": E_BINS,
        "num_downsamples": 7, "sequence_length": E_LENGTH, "use_tf_gamma": True}))
    _track_table(folder, 6)
    return folder, net


def _tiny_borzoi(tmp_path):
    from safetensors.torch import save_file

    torch.manual_seed(1)
    net = _randomize(ef.Borzoi(widths=[16, 16, 24, 24, 32, 32], dim=32, depth=1, heads=2,
                               dim_key=8, dim_value=16, head_dim=24, n_tracks=3, crop=B_BINS,
                               length=B_LENGTH))
    folder = tmp_path / "borzoi"
    folder.mkdir()
    save_file({k: v.contiguous() for k, v in net.state_dict().items()},
              str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({
        "dim": 32, "depth": 1, "heads": 2, "attn_dim_key": 8, "attn_dim_value": 16,
        "bins_to_return": B_BINS, "return_center_bins_only": True, "sequence_length": B_LENGTH}))
    _track_table(folder, 3, borzoi=True)
    return folder, net


def _seqs(n, length, seed=0):
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]


def _direct(net, seqs):
    x = torch.from_numpy(one_hot(seqs, dtype=np.float32, channels_first=True))
    with torch.no_grad():
        return net(x).numpy()            # (N, bins, T)


def test_enformer_center_logit_is_log1p_of_the_centre_bin(tmp_path):
    folder, net = _tiny_enformer(tmp_path)
    predictor = load_predictor(f"enformer:{folder}", device="cpu", batch_size=2)
    seqs = _seqs(3, E_LENGTH)
    coverage = _direct(net, seqs)
    conv = predictor.published.conventions
    # 8 bins of 128 bp cover the central 1024 bp: crop 512, base 1024 is in bin (1024-512)//128
    assert (conv["bin_size"], conv["output_bins"], conv["crop_bp"], conv["center_bin"]) == \
        (128, 8, 512, 4)
    assert predictor.length == E_LENGTH and predictor.task == "profile"
    assert predictor.labels == TRACKS
    logits = predictor.logits(seqs)
    np.testing.assert_allclose(logits, np.log1p(coverage[:, 4, :]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(predictor.predict(seqs), coverage[:, 4, :], rtol=1e-4, atol=1e-6)
    summed = load_predictor(f"enformer:{folder}", device="cpu", aggregation="sum").logits(seqs)
    np.testing.assert_allclose(summed, np.log1p(coverage.sum(axis=1)), rtol=1e-5, atol=1e-6)
    assert np.abs(summed - logits).min() > 0.5      # the two aggregations differ


def test_target_selection_picks_the_named_tracks(tmp_path):
    folder, _ = _tiny_enformer(tmp_path)
    seqs = _seqs(2, E_LENGTH, seed=3)
    everything = load_predictor(f"enformer:{folder}", device="cpu").logits(seqs)
    cases = {("CAGE:K562",): [0, 4], ("dnase:",): [1, 5], ("DNASE:K562", 2): [1, 2],
             ("ID3",): [3], ("CAGE:K562 ENCODE, tech_",): [4], ("HepG2",): [2, 3, 5],
             "CAGE:HepG2,DNASE:K562": [3, 1]}
    for targets, indices in cases.items():
        predictor = load_predictor(f"enformer:{folder}", device="cpu", targets=targets)
        assert predictor.published.conventions["tracks"] == indices, targets
        assert predictor.labels == [TRACKS[i] for i in indices]
        np.testing.assert_allclose(predictor.logits(seqs), everything[:, indices], rtol=1e-5)
    with pytest.raises(RegdnaError, match="matches no track"):
        load_predictor(f"enformer:{folder}", device="cpu", targets=["ATAC:K562"])
    with pytest.raises(RegdnaError, match="out of range"):
        load_predictor(f"enformer:{folder}", device="cpu", targets=[6])


def test_tracks_without_a_table_are_numbered(tmp_path):
    folder, _ = _tiny_enformer(tmp_path)
    (folder / "targets_human.txt").unlink()
    weights = folder / "pytorch_model.bin"              # a weights file, config.json beside it
    predictor = load_predictor(f"enformer:{weights}", device="cpu", targets=["track_2", 5])
    assert predictor.labels == ["track_2", "track_5"]


def test_borzoi_safetensors_unsquashed_centre(tmp_path):
    folder, net = _tiny_borzoi(tmp_path)
    predictor = load_predictor(f"borzoi:{folder}", device="cpu", batch_size=2)
    conv = predictor.published.conventions
    # 64 bins of 32 bp cover the central 2048 bp: crop 1024, centre bin (2048-1024)//32
    assert (conv["bin_size"], conv["crop_bp"], conv["center_bin"], conv["squash_undone"]) == \
        (32, 1024, 32, True)
    seqs = _seqs(2, B_LENGTH, seed=5)
    squashed = _direct(net, seqs)[:, 32, :]
    assert squashed[:, 1].min() / 0.5 > 0.3                 # track 1 is unsquashed above 0.3
    expected = squashed.copy()
    x = squashed[:, 1] / 0.5
    expected[:, 1] = ((x - 0.3) ** 2 + 0.3) ** (1 / 0.75)
    np.testing.assert_allclose(predictor.logits(seqs), np.log1p(expected), rtol=1e-5, atol=1e-6)
    assert not np.allclose(expected[:, 1], squashed[:, 1], rtol=0.05)


def test_a_mismatching_state_dict_names_its_key(tmp_path):
    folder, net = _tiny_enformer(tmp_path)
    state = net.state_dict()
    state["transformer.0.1.fn.1.weight"] = torch.zeros(3, 48)
    torch.save(state, folder / "pytorch_model.bin")
    with pytest.raises(RegdnaError, match=r"key 'transformer.0.1.fn.1.weight' has shape \(3, 48\)"
                       ) as err:
        load_predictor(f"enformer:{folder}", device="cpu")
    assert "\n" not in str(err.value)
    state = net.state_dict()
    state["transformer.0.0.fn.1.to_k.weight2"] = state.pop("transformer.0.0.fn.1.to_k.weight")
    torch.save(state, folder / "pytorch_model.bin")
    with pytest.raises(RegdnaError, match="key 'transformer.0.0.fn.1.to_k.weight' is missing"):
        load_predictor(f"enformer:{folder}", device="cpu")
    (folder / "pytorch_model.bin").write_bytes(b"not a checkpoint")
    with pytest.raises(RegdnaError, match="cannot read weights"):
        load_predictor(f"enformer:{folder}", device="cpu")


def test_trunk_aliases_and_mouse_head_load(tmp_path):
    """enformer-pytorch's state dict also holds `_trunk.*` copies and a mouse head."""
    folder, net = _tiny_enformer(tmp_path)
    state = net.state_dict()
    aliased = {("_trunk.2." + k[len("conv_tower."):] if k.startswith("conv_tower.") else k): v
               for k, v in state.items()}
    aliased["_heads.mouse.0.weight"] = torch.zeros(2, 96)
    aliased["_trunk.1.0.weight"] = state["stem.0.weight"]
    torch.save(aliased, folder / "pytorch_model.bin")
    seqs = _seqs(1, E_LENGTH)
    logits = load_predictor(f"enformer:{folder}", device="cpu").logits(seqs)
    np.testing.assert_allclose(logits, np.log1p(_direct(net, seqs)[:, 4, :]), rtol=1e-5)


def test_windows_past_a_chromosome_end_are_n_padded(tmp_path):
    rng = np.random.default_rng(2)
    chrom = "".join(rng.choice(list("ACGT"), 3000))
    fasta = tmp_path / "g.fa"
    fasta.write_text(">chr1\n" + chrom + "\n")
    genome = Genome(fasta)
    alts = ["A" if chrom[10] != "A" else "C", "G" if chrom[2994] != "G" else "T"]
    chunk = pd.DataFrame({"chrom": ["chr1", "chr1"], "pos": [11, 2995],
                          "ref": [chrom[10], chrom[2994]], "alt": alts,
                          "id": ["start", "end"], "reason": ["", ""], "line": [1, 2]})
    windows = make_windows(chunk, genome, E_LENGTH)
    assert windows.reason == ["", ""]
    start, end = windows.ref
    # the allele sits at base 1024: 1024 - 10 N before chr1:1; the second window starts at
    # 2994 - 1024 = 1970 and holds 3000 - 1970 = 1030 bases of chr1, then 1018 N
    assert start[:1014] == "N" * 1014 and start[1014:] == chrom[:E_LENGTH - 1014]
    assert end[:1030] == chrom[1970:] and end[1030:] == "N" * 1018
    assert len(start) == len(end) == E_LENGTH and windows.alt[0][1024] == chunk.alt[0]
    x = one_hot([start], dtype=np.float32, channels_first=True)
    assert x[0, :, :1014].sum() == 0 and x[0, :, 1014:].sum() == E_LENGTH - 1014


def test_predict_vep_and_ism_run_on_a_published_model(tmp_path):
    from regdna.evaluate.predict import run_predict
    from regdna.variants.ism import run_ism
    from regdna.variants.vep import run_vep

    folder, net = _tiny_enformer(tmp_path)
    spec = f"enformer:{folder}"
    rng = np.random.default_rng(4)
    chrom = "".join(rng.choice(list("ACGT"), 4000))
    fasta = tmp_path / "g.fa"
    fasta.write_text(">chr1\n" + chrom + "\n")
    seqs = tmp_path / "seqs.fa"
    seqs.write_text(">a\n" + chrom[:E_LENGTH] + "\n>b\n" + chrom[1000:1000 + E_LENGTH] + "\n")

    run_predict(spec, tmp_path / "pred.tsv", fasta=seqs, batch_size=2, device="cpu")
    pred = pd.read_csv(tmp_path / "pred.tsv", sep="\t")
    direct = _direct(net, [chrom[:E_LENGTH], chrom[1000:1000 + E_LENGTH]])[:, 4, :]
    np.testing.assert_allclose(pred[TRACKS[1]].to_numpy(), direct[:, 1], rtol=1e-4)

    pos = 2000                                      # 1-based; window chr1[975:3023]
    alt = "A" if chrom[pos - 1] != "A" else "C"
    variants = tmp_path / "v.tsv"
    pd.DataFrame({"chrom": ["chr1", "chr1"], "pos": [pos, 3990],
                  "ref": [chrom[pos - 1], chrom[3989]],
                  "alt": [alt, "A" if chrom[3989] != "A" else "C"],
                  "id": ["mid", "near_end"]}).to_csv(variants, sep="\t", index=False)
    run_vep(variants, tmp_path / "vep.tsv", run=spec, genome=fasta, targets=["CAGE:K562"],
            batch_size=2, device="cpu", progress=False)
    vep = pd.read_csv(tmp_path / "vep.tsv", sep="\t")
    ref = chrom[pos - 1 - 1024:pos - 1 + 1024]
    alt_seq = ref[:1024] + alt + ref[1025:]
    cov = _direct(net, [ref, alt_seq])[:, 4, :]
    expected = np.log2((1 + cov[1, 0]) / (1 + cov[0, 0]))
    score_cols = [c for c in vep.columns if c.startswith("log2_ratio") and "biol_" in c]
    assert score_cols, list(vep.columns)
    assert vep.loc[vep.id == "mid", score_cols[0]].iloc[0] == pytest.approx(expected, rel=1e-3)
    assert vep.loc[vep.id == "near_end", score_cols[0]].notna().all()     # N-padded, scored

    run_ism(spec, tmp_path / "ism", fasta=seqs, n=1, output="DNASE:K562", region="1020:1028",
            fast=False, batch_size=8, device="cpu")
    d = np.load(tmp_path / "ism" / "ism.npz")["delta"][0]
    mutant = chrom[:1024] + ("A" if chrom[1024] != "A" else "C") + chrom[1025:E_LENGTH]
    base = "ACGT".index(mutant[1024])
    cov = _direct(net, [chrom[:E_LENGTH], mutant])[:, 4, 1]
    assert d[1024, base] == pytest.approx(np.log1p(cov[1]) - np.log1p(cov[0]), rel=1e-3, abs=1e-6)
    assert np.all(d[:1020] == 0) and np.all(d[1028:] == 0)


def test_default_batch_size(monkeypatch):
    assert ef.default_batch_size(196_608, "cpu") == 2
    assert ef.default_batch_size(524_288, "cpu") == 1
    assert ef.default_batch_size(E_LENGTH, "cpu") == 8
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (80 * 2 ** 30, 0))
    # half of 80 GiB at 8 KiB per bp: 40 GiB / 1.5 GiB = 26 Enformer windows, 10 Borzoi ones
    assert ef.default_batch_size(196_608, "cuda") == 26
    assert ef.default_batch_size(524_288, "cuda") == 10
    assert ef.default_batch_size(E_LENGTH, "cuda") == 64


def test_gamma_features_of_the_tensorflow_release():
    """TF features: each gamma basis function is normalised to a maximum of 1 over positions
    (enformer-pytorch's own: over the basis functions at each position)."""
    tf = ef.enformer_features(64, "cpu", torch.float32, 48, tf_gamma=True)[:, 16:24]
    own = ef.enformer_features(64, "cpu", torch.float32, 48, tf_gamma=False)[:, 16:24]
    np.testing.assert_allclose(tf.amax(dim=0).numpy(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(own.amax(dim=1).numpy(), 1.0, rtol=1e-6)
    assert tf[63].max() < 1e-3                       # distance 0: the gamma densities are 0
    assert ef._tf_gamma({}) and not ef._tf_gamma({"use_tf_gamma": False})
    assert ef._tf_gamma({"use_tf_gamma": False,
                         "_name_or_path": "EleutherAI/enformer-official-rough"})
