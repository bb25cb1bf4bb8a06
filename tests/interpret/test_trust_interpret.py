"""The interpretation verbs keep the output policy (an unrelated --out is refused before any work,
their own earlier output is replaced, --overwrite replaces anything) and never cut the input
silently: `attribute --fasta` explains every record unless --n says otherwise."""
import json

import numpy as np
import pandas as pd
import pytest

from regdna.cli import main


def _refused(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(args)
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2
    assert err.startswith("error: ") and "\n" not in err, err
    return err


def _foreign(path):
    path.mkdir(parents=True)
    (path / "notes.txt").write_text("keep me")
    return path


def _n_records(fasta):
    return sum(line.startswith(">") for line in fasta.read_text().splitlines())


def test_attribute_explains_every_fasta_record_and_says_when_not(basset_run, example_dir,
                                                                  tmp_path, capsys):
    fasta = example_dir / "pos.fa"
    total = _n_records(fasta)
    base = ["attribute", "--run", str(basset_run), "--fasta", str(fasta), "--method",
            "grad_x_input", "--logos", "1"]
    main(base + ["--out", str(tmp_path / "all")])
    summary = json.loads((tmp_path / "all" / "summary.json").read_text())
    assert summary["n_sequences"] == total > 8          # every record, not the first few
    assert "using the first" not in capsys.readouterr().out
    main(base + ["--n", "3", "--out", str(tmp_path / "three")])
    assert f"using the first 3 of {total} sequences" in capsys.readouterr().out
    assert np.load(tmp_path / "three" / "attributions.npz")["attributions"].shape[0] == 3


def test_attribute_out_policy(basset_run, example_dir, tmp_path, capsys):
    out = _foreign(tmp_path / "attr")
    args = ["attribute", "--run", str(basset_run), "--fasta", str(example_dir / "pos.fa"),
            "--n", "2", "--method", "grad_x_input", "--logos", "1", "--out", str(out)]
    err = _refused(args, capsys)
    assert "--overwrite" in err
    assert (out / "notes.txt").read_text() == "keep me" and not (out / "summary.json").exists()
    main(args + ["--overwrite"])
    assert (out / "summary.json").is_file() and not (out / "notes.txt").exists()
    main(args)                                     # its own earlier output is replaced
    assert (out / "attributions.npz").is_file()
    # an --out that holds an input is refused, --overwrite or not
    err = _refused(args[:-1] + [str(example_dir.parent), "--overwrite"], capsys)
    assert "contains the input" in err and (example_dir / "pos.fa").is_file()


def test_motifs_and_gia_refuse_an_unrelated_out_before_any_work(basset_run, tmp_path, capsys):
    attr = tmp_path / "attr"
    attr.mkdir()                              # no attributions.npz: refusing must come first
    out = _foreign(tmp_path / "motifs")
    assert "--overwrite" in _refused(["motifs", "--attributions", str(attr), "--out", str(out)],
                                     capsys)
    out = _foreign(tmp_path / "gia")
    assert "--overwrite" in _refused(["gia", "--run", str(basset_run), "--motif", "TGACTCA",
                                      "--out", str(out)], capsys)
    assert (out / "notes.txt").read_text() == "keep me"
    # a bad --distances is one line too
    assert "--distances" in _refused(["gia", "--run", str(basset_run), "--motif", "TGACTCA",
                                      "--motif2", "GATA", "--distances", "5,x",
                                      "--out", str(tmp_path / "g2")], capsys)


def test_gia_rerun_and_overwrite(basset_run, dataset_dir, tmp_path, capsys):
    out = tmp_path / "gia"
    args = ["gia", "--run", str(basset_run), "--data", str(dataset_dir), "--motif", "TGACTCA",
            "--n-backgrounds", "20", "--out", str(out)]
    main(args)
    main(args)                                     # its own earlier output is replaced
    line = capsys.readouterr().out.splitlines()[-2]
    mean = line.split("mean effect ")[1].split(" ")[0]
    assert len(mean.strip("+-").replace(".", "").lstrip("0")) <= 4      # 4 significant digits
    assert json.loads((out / "gia.json").read_text())["backgrounds"] == 20


def test_faithfulness_policy_and_sampling_note(basset_run, dataset_dir, tmp_path, capsys):
    out = _foreign(tmp_path / "faith")
    args = ["faithfulness", "--run", str(basset_run), "--data", str(dataset_dir),
            "--methods", "grad_x_input", "--positions", "5", "--n-per-class", "6", "--repeats", "3",
            "--table-n", "5", "--out", str(out)]
    assert "--overwrite" in _refused(args, capsys)
    assert (out / "notes.txt").read_text() == "keep me"
    main(args + ["--overwrite"])
    printed = capsys.readouterr().out
    assert "sampled 12 of" in printed and "per class, --n-per-class" in printed
    summary = pd.read_csv(out / "summary.tsv", sep="\t")
    assert list(summary.n_seqs) == [6, 6]
    assert not (out / "notes.txt").exists()


def test_load_records_counts_what_it_left_out(tmp_path):
    from regdna.data.records import load_records, subset_note

    fasta = tmp_path / "x.fa"
    fasta.write_text("".join(f">s{i}\nACGTACGT\n" for i in range(12)))
    assert len(load_records(fasta=fasta)) == 12 and subset_note(load_records(fasta=fasta)) is None
    table = load_records(fasta=fasta, n=5)
    assert subset_note(table) == "using the first 5 of 12 sequences (--n 5)"
