"""Trust in the variant verbs: `vep` resumes only the job it was (the resume fingerprint), never
leaves debris after a failed start, honours the run's strand averaging like `predict`; `ism`
mutates every FASTA record unless told otherwise; `ism`, `benchmark-variants` and `vep` never
replace an --out they did not write."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import random_seq, random_seqs, run_cli
from var_helpers import gc_predictor

from regdna.errors import RegdnaError
from regdna.variants.vep import score_variants

HEADER = "##fileformat=VCFv4.2\n##contig=<ID=chr1>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
L = 200  # the tiny basset run's input length


# -- helpers ---------------------------------------------------------------------------------------
def write_genome(path: Path, length: int = 600, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    seq = random_seq(length, rng)
    path.write_text(">chr1\n" + "\n".join(seq[i:i + 60] for i in range(0, length, 60)) + "\n")
    return seq


def write_vcf(path: Path, chrom_seq: str, n: int, seed: int = 0) -> list[str]:
    """n SNVs at distinct random positions; returns their ids (which encode the position)."""
    rng = np.random.default_rng(seed)
    positions = sorted(rng.choice(np.arange(1, len(chrom_seq) + 1), n, replace=False))
    lines, ids = [], []
    for p in positions:
        ref = chrom_seq[p - 1]
        alt = "G" if ref != "G" else "T"
        ids.append(f"s{seed}_{p}")
        lines.append(f"chr1\t{p}\t{ids[-1]}\t{ref}\t{alt}\t.\t.\t.\n")
    path.write_text(HEADER + "".join(lines))
    return ids


class _Kill(Exception):
    """Stands for a kill: raised by the scoring after some parts were written."""


def crash_after(monkeypatch, n_parts: int) -> None:
    import regdna.variants.vep as score_mod

    real, calls = score_mod.score_chunk, []

    def crashing(*args, **kwargs):
        calls.append(1)
        if len(calls) > n_parts:
            raise _Kill()
        return real(*args, **kwargs)

    monkeypatch.setattr(score_mod, "score_chunk", crashing)


def killed_run(monkeypatch, n_parts: int, vcf, out, genome, chunk_size: int = 8) -> None:
    """A vep job killed after `n_parts` parts were written (its parts dir stays behind)."""
    with monkeypatch.context() as patch:
        crash_after(patch, n_parts)
        with pytest.raises(_Kill):
            score_variants(vcf, out, gc_predictor(), genome, chunk_size=chunk_size, progress=False)


def significant_digits(text: str) -> int:
    """Digits of a printed number's significand: '-0.01235' -> 4, '1.5e-05' -> 2."""
    mantissa = text.lstrip("-").lower().split("e")[0]
    return len(mantissa.replace(".", "").lstrip("0"))


@pytest.fixture()
def variant_files(tmp_path):
    seq = write_genome(tmp_path / "g.fa")
    ids = write_vcf(tmp_path / "v.vcf", seq, 40)
    return tmp_path / "g.fa", tmp_path / "v.vcf", seq, ids


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A run dir as `regdna train` writes it (config.yaml + checkpoints/best.ckpt), untrained:
    a small basset (strand-asymmetric random weights) whose config says predict.rc_average true."""
    from regdna.data.dataset import DatasetInfo
    from regdna.models.registry import build_model
    from regdna.runs.config import DatasetRef, ModelConfig, PredictConfig, RunConfig, save_config

    run = tmp_path_factory.mktemp("tiny_run") / "run"
    (run / "checkpoints").mkdir(parents=True)
    options = {"filters": 0.05, "hidden": 8, "bins": 1}
    config = RunConfig(model=ModelConfig(spec="basset", options=options),
                       predict=PredictConfig(rc_average=True),
                       dataset=DatasetRef(task="binary", labels=["y"], length=L))
    save_config(config, run / "config.yaml")
    torch.manual_seed(0)
    model = build_model("basset", DatasetInfo(task="binary", labels=["y"], length=L), **options).eval()
    _spread_strands(model)
    torch.save({"state_dict": {f"model.{k}": v for k, v in model.state_dict().items()}},
               run / "checkpoints" / "best.ckpt")
    return run


def _spread_strands(model: torch.nn.Module) -> None:
    """Rescale the last layer so that logit(x) - logit(revcomp x) is about 1 on random sequences
    (a random CNN's logits differ between strands by ~1e-4 only)."""
    from regdna.encode.onehot import one_hot

    seqs = random_seqs(16, L, 5)
    x = torch.as_tensor(one_hot(seqs, dtype=np.float32, channels_first=True))
    last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        z, z_rc = model(x)[:, 0], model(x.flip(1).flip(2))[:, 0]
        scale = 1.0 / float((z - z_rc).abs().mean())
        last.weight.mul_(scale)
        last.bias.sub_(float(z.mean())).mul_(scale)


# -- vep: resume fingerprint -----------------------------------------------------------------------
def test_resume_with_another_chunk_size_starts_over_and_matches_an_uninterrupted_run(
        tmp_path, variant_files, monkeypatch, capsys):
    genome, vcf, _, ids = variant_files
    expected = score_variants(vcf, tmp_path / "full.tsv", gc_predictor(), genome, chunk_size=7,
                              progress=False)
    assert expected["n_variants"] == 40
    killed_run(monkeypatch, 3, vcf, tmp_path / "out.tsv", genome, chunk_size=10)
    assert len(list((tmp_path / ".out.tsv.parts").glob("part-*"))) == 3
    summary = score_variants(vcf, tmp_path / "out.tsv", gc_predictor(), genome, chunk_size=7,
                             progress=False)
    assert "--chunk-size changed since the interrupted run: starting over" in capsys.readouterr().err
    # the old code kept the 30 rows of the 10-variant parts: 52 rows for 40 variants
    out = pd.read_csv(tmp_path / "out.tsv", sep="\t")
    assert summary["n_variants"] == 40 and len(out) == 40 and out["id"].tolist() == ids
    pd.testing.assert_frame_equal(out, pd.read_csv(tmp_path / "full.tsv", sep="\t"))
    assert not (tmp_path / ".out.tsv.parts").exists()


def test_resume_after_the_vcf_was_edited_scores_the_new_file_only(tmp_path, variant_files,
                                                                    monkeypatch, capsys):
    genome, vcf, seq, old_ids = variant_files
    killed_run(monkeypatch, 2, vcf, tmp_path / "out.parquet", genome)
    new_ids = write_vcf(vcf, seq, 40, seed=1)  # same name, same number of variants, new content
    summary = score_variants(vcf, tmp_path / "out.parquet", gc_predictor(), genome, chunk_size=8,
                             progress=False)
    assert "variants file changed since the interrupted run: starting over" in capsys.readouterr().err
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert summary["n_variants"] == 40 and out["id"].tolist() == new_ids
    assert not set(out["id"]) & (set(old_ids) - set(new_ids))  # no stale rows


def test_resume_of_the_same_job_reuses_its_parts(tmp_path, variant_files, monkeypatch):
    genome, vcf, _, _ = variant_files
    killed_run(monkeypatch, 2, vcf, tmp_path / "out.tsv", genome)
    crash_after(monkeypatch, 3)  # 5 chunks, 2 done: exactly 3 are scored again
    assert score_variants(vcf, tmp_path / "out.tsv", gc_predictor(), genome, chunk_size=8,
                          progress=False)["n_variants"] == 40


def test_a_changed_genome_or_model_is_seen(tmp_path, variant_files, monkeypatch, capsys):
    genome, vcf, _, _ = variant_files
    killed_run(monkeypatch, 1, vcf, tmp_path / "out.tsv", genome)
    write_genome(genome, seed=1)
    Path(f"{genome}.fai").unlink()
    other_model = gc_predictor()
    other_model.model.scale.data.fill_(3.0)
    score_variants(vcf, tmp_path / "out.tsv", other_model, genome, chunk_size=8, progress=False)
    assert "genome and model weights changed since the interrupted run" in capsys.readouterr().err


def test_sharded_job_with_other_settings_is_refused_until_overwrite(tmp_path, variant_files):
    genome, vcf, _, _ = variant_files
    out = tmp_path / "out.tsv"
    first = score_variants(vcf, out, gc_predictor(), genome, chunk_size=8, shard=(0, 2), progress=False)
    assert first["out"] is None
    parts = sorted(p.name for p in (tmp_path / ".out.tsv.parts").iterdir())
    with pytest.raises(RegdnaError, match=r"holds parts of another job \(--chunk-size changed.*"
                                          r"remove .*\.out\.tsv\.parts or pass --overwrite"):
        score_variants(vcf, out, gc_predictor(), genome, chunk_size=5, shard=(1, 2), progress=False)
    assert sorted(p.name for p in (tmp_path / ".out.tsv.parts").iterdir()) == parts
    score_variants(vcf, out, gc_predictor(), genome, chunk_size=5, shard=(0, 2), progress=False,
                   overwrite=True)
    done = score_variants(vcf, out, gc_predictor(), genome, chunk_size=5, shard=(1, 2), progress=False)
    assert done["n_variants"] == 40 and len(pd.read_csv(out, sep="\t")) == 40


def test_failed_starts_leave_nothing_behind(tmp_path, variant_files):
    genome, vcf, _, _ = variant_files
    bad = tmp_path / "bad.vcf"
    bad.write_text("chr1\t5\tx\tA\tG\t.\t.\t.\n")  # no header
    with pytest.raises(RegdnaError, match="no VCF header"):
        score_variants(bad, tmp_path / "a.tsv", gc_predictor(), genome, progress=False)
    with pytest.raises(RegdnaError, match="does not exist"):
        score_variants(vcf, tmp_path / "b.tsv", gc_predictor(), tmp_path / "missing.fa", progress=False)
    with pytest.raises(RegdnaError, match="reference mismatch"):  # --strict fails in chunk 1
        text = vcf.read_text().splitlines(keepends=True)
        fields = text[3].split("\t")
        fields[3] = next(b for b in "ACT" if b not in (fields[3], fields[4]))  # neither genome nor ALT
        vcf.write_text("".join(text[:3] + ["\t".join(fields)] + text[4:]))
        score_variants(vcf, tmp_path / "c.tsv", gc_predictor(), genome, strict=True, progress=False)
    assert run_cli("vep", "--run", tmp_path, "--variants", vcf, "--genome", genome, "--out",
                   tmp_path / "d.tsv", "--shard", "3/2", "--no-progress") == 2
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert leftovers == [], leftovers


# -- vep: output policy and strands ---------------------------------------------------------------
def test_vep_out_policy(tmp_path, variant_files):
    genome, vcf, _, _ = variant_files
    out = tmp_path / "scores.tsv"
    score_variants(vcf, out, gc_predictor(), genome, progress=False)
    score_variants(vcf, out, gc_predictor(), genome, progress=False)  # our own output: replaced
    out.write_text("edited by hand\n")
    with pytest.raises(RegdnaError, match="not an unchanged earlier output of `regdna vep`.*--overwrite"):
        score_variants(vcf, out, gc_predictor(), genome, progress=False)
    assert out.read_text() == "edited by hand\n"
    score_variants(vcf, out, gc_predictor(), genome, progress=False, overwrite=True)
    assert len(pd.read_csv(out, sep="\t")) == 40
    (tmp_path / "adir.tsv").mkdir()
    with pytest.raises(RegdnaError, match="is a directory"):
        score_variants(vcf, tmp_path / "adir.tsv", gc_predictor(), genome, progress=False)
    table = tmp_path / "in.tsv"
    pd.DataFrame({"chrom": ["chr1"], "pos": [3], "ref": ["A"], "alt": ["G"]}).to_csv(table, sep="\t")
    with pytest.raises(RegdnaError, match="is the input"):
        score_variants(table, table, gc_predictor(), genome, progress=False, overwrite=True)


def test_vep_cli_refuses_a_foreign_out_before_loading_the_model(tmp_path, variant_files, capsys):
    genome, vcf, _, _ = variant_files
    out = tmp_path / "notes.tsv"
    out.write_text("mine\n")
    # --run points at no run dir: the out check comes first, so the message is about --out
    assert run_cli("vep", "--run", tmp_path / "norun", "--variants", vcf, "--genome", genome,
                   "--out", out, "--no-progress") == 2
    assert "--overwrite" in capsys.readouterr().err and out.read_text() == "mine\n"


def test_vep_averages_strands_like_predict_by_default(tmp_path, tiny_run, capsys):
    seq = write_genome(tmp_path / "g.fa", length=800)
    positions = [300, 401, 522]
    rows = [f"chr1\t{p}\tv{p}\t{seq[p - 1]}\t{'G' if seq[p - 1] != 'G' else 'T'}\t.\t.\t.\n" for p in positions]
    (tmp_path / "v.vcf").write_text(HEADER + "".join(rows))
    # the ref window of an SNV at 0-based q: genome[q - L/2 : q + L/2]
    windows = "".join(f">v{p}\n{seq[p - 1 - L // 2:p - 1 + L // 2]}\n" for p in positions)
    (tmp_path / "ref.fa").write_text(windows)
    common = ["--run", tiny_run, "--variants", tmp_path / "v.vcf", "--genome", tmp_path / "g.fa",
              "--no-progress"]
    assert run_cli("vep", *common, "--out", tmp_path / "default.tsv") == 0
    assert run_cli("vep", *common, "--out", tmp_path / "norc.tsv", "--no-rc") == 0
    assert run_cli("predict", "--run", tiny_run, "--fasta", tmp_path / "ref.fa", "--out",
                   tmp_path / "pred.tsv") == 0
    assert run_cli("predict", "--run", tiny_run, "--fasta", tmp_path / "ref.fa", "--out",
                   tmp_path / "pred_norc.tsv", "--no-rc-average") == 0
    vep = pd.read_csv(tmp_path / "default.tsv", sep="\t")
    norc = pd.read_csv(tmp_path / "norc.tsv", sep="\t")
    pred = pd.read_csv(tmp_path / "pred.tsv", sep="\t")
    pred_norc = pd.read_csv(tmp_path / "pred_norc.tsv", sep="\t")
    assert vep["p_ref"].to_numpy() == pytest.approx(pred["y"].to_numpy(), rel=1e-4)
    assert norc["p_ref"].to_numpy() == pytest.approx(pred_norc["y"].to_numpy(), rel=1e-4)
    assert np.abs(pred["y"] - pred_norc["y"]).max() > 1e-3  # the strands do differ for this model


# -- ism ---------------------------------------------------------------------------------------------
def _fasta(path: Path, n: int, length: int = L, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    path.write_text("".join(f">r{i}\n{random_seq(length, rng)}\n" for i in range(n)))
    return path


def test_ism_mutates_every_fasta_record_unless_n_is_given(tmp_path, tiny_run, capsys):
    fasta = _fasta(tmp_path / "x.fa", 10)
    common = ["ism", "--run", tiny_run, "--fasta", fasta, "--region", "95:105", "--top-k", "3"]
    assert run_cli(*common, "--out", tmp_path / "all") == 0
    said = capsys.readouterr().out
    assert "mutating 10 of 10 sequences" in said
    with np.load(tmp_path / "all" / "ism.npz") as saved:
        assert saved["delta"].shape == (10, L, 4)
    assert len(list((tmp_path / "all" / "heatmaps").glob("*.png"))) == 10
    assert run_cli(*common, "--n", "3", "--out", tmp_path / "three") == 0
    assert "mutating 3 of 10 sequences" in capsys.readouterr().out
    # summary numbers: at most 4 significant digits
    top = said.split("path) ->")[1].splitlines()[2:]
    assert top and all(significant_digits(row.split()[-1]) <= 4 for row in top), said


def test_ism_with_data_says_how_many_it_mutates(tmp_path, tiny_run, dataset_dir, capsys):
    assert run_cli("ism", "--run", tiny_run, "--data", dataset_dir, "--region", "99:101",
                   "--out", tmp_path / "d") == 0
    said = capsys.readouterr().out
    n_test = len(pd.read_parquet(Path(dataset_dir) / "test.parquet"))
    assert f"mutating 8 of {n_test} sequences" in said and "--n sets how many" in said


def test_ism_out_policy(tmp_path, tiny_run, capsys):
    (tmp_path / "in").mkdir()
    fasta = _fasta(tmp_path / "in" / "x.fa", 2)
    out = tmp_path / "results"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    args = ["ism", "--run", tiny_run, "--fasta", fasta, "--region", "99:101", "--out"]
    assert run_cli(*args, out) == 2
    assert "was not written by regdna" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "keep me"
    assert run_cli(*args, tmp_path / "ism") == 0
    assert run_cli(*args, tmp_path / "ism") == 0  # an earlier ism output is replaced
    assert run_cli(*args, tmp_path / "in") == 2  # contains the input
    assert fasta.exists() and "contains the input" in capsys.readouterr().err
    assert run_cli(*args, out, "--overwrite") == 0
    assert not (out / "notes.txt").exists() and (out / "ism.npz").exists()


# -- benchmark-variants --------------------------------------------------------------------------------
def test_benchmark_out_policy_and_four_significant_digits(tmp_path, capsys):
    rng = np.random.default_rng(0)
    ids = [f"v{i}" for i in range(30)]
    measured = rng.normal(size=30)
    pd.DataFrame({"id": ids, "log2_ratio": measured + rng.normal(scale=0.5, size=30),
                  "reason": ""}).to_csv(tmp_path / "s.tsv", sep="\t", index=False)
    pd.DataFrame({"id": ids, "measured": measured}).to_csv(tmp_path / "m.tsv", sep="\t", index=False)
    out = tmp_path / "bench"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    args = ["benchmark-variants", "--scores", tmp_path / "s.tsv", "--measured", tmp_path / "m.tsv", "--out"]
    assert run_cli(*args, out) == 2 and (out / "mine.txt").exists()
    capsys.readouterr()
    assert run_cli(*args, tmp_path / "b2") == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "Pearson" in x)
    assert significant_digits(line.split()[1]) <= 4 and significant_digits(line.split()[3]) <= 4, line
    assert run_cli(*args, tmp_path / "b2") == 0  # our own output: replaced
    assert json.loads((tmp_path / "b2" / "metrics.json").read_text())["n_joined"] == 30
    assert run_cli(*args, out, "--overwrite") == 0 and not (out / "mine.txt").exists()


def test_a_merge_killed_midway_does_not_block_the_job(tmp_path, variant_files, monkeypatch):
    import os
    import socket
    import subprocess
    import sys

    import regdna.variants.parts as parts_mod

    genome, vcf, _, ids = variant_files
    out = tmp_path / "out.tsv"
    with monkeypatch.context() as patch:  # every part written, then the merge dies
        patch.setattr(parts_mod, "_concatenate", lambda *a: (_ for _ in ()).throw(_Kill()))
        with pytest.raises(_Kill):
            score_variants(vcf, out, gc_predictor(), genome, chunk_size=8, progress=False)
    lock = parts_mod.parts_dir(out) / "merge.lock"
    assert len(list(lock.parent.glob("part-*"))) == 5 and not lock.exists()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # SIGKILL leaves the lock behind, naming a process that no longer runs
    lock.mkdir()
    (lock / "owner").write_text(f"{socket.gethostname()} {dead.pid}")
    summary = score_variants(vcf, out, gc_predictor(), genome, chunk_size=8, progress=False)
    assert summary["out"] == str(out) and pd.read_csv(out, sep="\t")["id"].tolist() == ids
    # a lock held by a live process (this one) still means "another process is merging"
    lock.mkdir(parents=True)
    (lock / "owner").write_text(f"{socket.gethostname()} {os.getpid()}")
    assert parts_mod.merge_parts(out)["out"] is None
