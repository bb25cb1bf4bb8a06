"""`regdna tokens` (regdna.models.tokens): token lengths, percentiles, recommended max_length,
and its --out policy."""
import json

import numpy as np
import pytest


def test_tokens_report_numbers(lm_dataset_dir, tmp_path):
    from regdna.cli import main

    main(["tokens", "--model", "tinyformer", "--data", str(lm_dataset_dir), "--out",
          str(tmp_path / "kmer"), "--set", "tokenizer=kmer", "--set", "k=6"])
    summary = json.loads((tmp_path / "kmer" / "tokens.json").read_text())
    # 100 bp in non-overlapping 6-mers: 17 tokens (the last partial) + [CLS] + [SEP] = 19
    assert summary["p50"] == summary["p99"] == 19
    assert summary["recommended_max_length"] == 24 and summary["truncation_rate"] == 0.0
    assert (tmp_path / "kmer" / "tokens.png").stat().st_size > 10_000


def test_tokens_percentiles_and_truncation_rate(tmp_path):
    from regdna.models.tokens import summarise

    lengths = np.arange(1, 201)                     # 1..200 tokens
    summary = summarise(lengths, limit=128)
    assert summary["p50"] == pytest.approx(100.5)
    assert summary["p99"] == pytest.approx(198.01)
    # P99 rounds up to 200 (a multiple of 8) but the model takes 128: recommend 128
    assert summary["recommended_max_length"] == 128
    assert summary["truncation_rate"] == pytest.approx(72 / 200)
    assert summarise(lengths, limit=None)["recommended_max_length"] == 200
    assert summarise(lengths, limit=None)["truncation_rate"] == 0.0


def _cli(args, capsys):
    from regdna.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(args)
    err = capsys.readouterr().err.strip()
    return exit_.value.code, err


def test_tokens_out_policy(lm_dataset_dir, tmp_path, capsys, monkeypatch):
    from regdna.cli import main

    args = ["tokens", "--model", "tinyformer", "--data", str(lm_dataset_dir), "--set", "k=3"]
    out = tmp_path / "tok"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    code, err = _cli(args + ["--out", str(out)], capsys)
    assert code == 2 and "not empty" in err and "--overwrite" in err and "\n" not in err
    assert (out / "mine.txt").read_text() == "keep me" and not (out / "tokens.json").exists()
    main(args + ["--out", str(out), "--overwrite"])
    assert (out / "tokens.json").is_file() and not (out / "mine.txt").exists()
    main(args + ["--out", str(out)])                     # its own earlier output: replaced
    # the default --out is in the working directory, never inside the dataset dir
    before = sorted(p.name for p in lm_dataset_dir.iterdir())
    monkeypatch.chdir(tmp_path)
    main(args)
    assert (tmp_path / "tokens-tinyformer" / "tokens.json").is_file()
    assert sorted(p.name for p in lm_dataset_dir.iterdir()) == before
