"""The trust mechanisms every verb shares: output policy, resume fingerprint, umask (the error path
is in tests/cli/test_error_path.py, truncated inputs in tests/io/test_textfile.py)."""
import os
import subprocess
import sys
import time

import pytest

from regdna.errors import RegdnaError
from regdna.utils.atomic import atomic_file
from regdna.utils.fingerprint import differences, file_identity, fingerprint
from regdna.utils.output import MARKER, output_dir, output_file


# -- output policy --------------------------------------------------------------------------------
def _write(out, verb="ism", inputs=(), overwrite=False, name="a.tsv", text="x"):
    with output_dir(out, verb, inputs=inputs, overwrite=overwrite) as tmp:
        (tmp / name).write_text(text)


def test_unrelated_directory_is_refused_and_kept(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(RegdnaError, match="--overwrite"):
        _write(out)
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary dir left behind


def test_own_output_is_replaced_but_not_after_a_user_added_a_file(tmp_path):
    out = tmp_path / "out"
    _write(out, text="first")
    _write(out, name="b.tsv", text="second")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "b.tsv"]
    (out / "notes.txt").write_text("mine")
    with pytest.raises(RegdnaError, match="notes.txt"):
        _write(out)
    with pytest.raises(RegdnaError, match="regdna ism"):  # another verb's output is not ours
        _write(out, verb="motifs")
    _write(out, overwrite=True)
    assert not (out / "notes.txt").exists()


def test_out_holding_an_input_is_refused_even_with_overwrite(tmp_path):
    (tmp_path / "d").mkdir()
    fasta = tmp_path / "d" / "pos.fa"
    fasta.write_text(">a\nACGT\n")
    for out in (tmp_path / "d", fasta, tmp_path):
        with pytest.raises(RegdnaError, match="input"):
            _write(out, inputs=[fasta], overwrite=True)
    assert fasta.read_text() == ">a\nACGT\n"


def test_out_dot_and_relative_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(".", text="here")
    _write(".", text="again")
    assert sorted(p.name for p in tmp_path.iterdir()) == [MARKER, "a.tsv"]
    assert (tmp_path / "a.tsv").read_text() == "again"
    _write("rel/out")
    assert (tmp_path / "rel" / "out" / "a.tsv").is_file()


def test_file_versus_directory(tmp_path):
    existing = tmp_path / "existing_file.txt"
    existing.write_text("keep")
    with pytest.raises(RegdnaError, match="is a file"):
        _write(existing, overwrite=True)
    assert existing.read_text() == "keep"
    with pytest.raises(RegdnaError, match="is a directory"):
        with output_file(tmp_path, "predict", overwrite=True) as handle:
            handle.write("x")


def test_file_outputs_are_replaced_only_while_unchanged(tmp_path):
    out = tmp_path / "preds.tsv"
    out.write_text("a user's table")
    with pytest.raises(RegdnaError, match="--overwrite"):
        with output_file(out, "predict") as handle:
            handle.write("new")
    assert out.read_text() == "a user's table"
    with output_file(out, "predict", overwrite=True) as handle:
        handle.write("ours")
    with output_file(out, "predict") as handle:  # our own, unchanged: replaced
        handle.write("ours again")
    time.sleep(0.01)
    out.write_text("edited by hand")
    with pytest.raises(RegdnaError):
        with output_file(out, "predict") as handle:
            handle.write("x")
    assert out.read_text() == "edited by hand"


def test_failure_leaves_old_output_intact(tmp_path):
    out = tmp_path / "out"
    _write(out, text="good")
    with pytest.raises(ValueError):
        with output_dir(out, "ism") as tmp:
            (tmp / "a.tsv").write_text("half")
            raise ValueError("crash")
    assert (out / "a.tsv").read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "f.txt") as handle:
            handle.write("x")
        _write(tmp_path / "d")
    finally:
        os.umask(old)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "d" / "a.tsv").stat().st_mode & 0o777 == 0o644


# -- resume fingerprint ---------------------------------------------------------------------------
def test_fingerprint_sees_content_and_settings(tmp_path):
    path = tmp_path / "v.vcf"
    path.write_text("A" * 5000)
    first = fingerprint(variants=file_identity(path), chunk_size=500)
    assert differences(first, fingerprint(variants=file_identity(path), chunk_size=500)) == []
    assert differences(first, fingerprint(variants=file_identity(path), chunk_size=300)) == ["chunk_size"]
    stat = path.stat()
    path.write_text("A" * 4999 + "C")  # same size; mtime restored: only the content hash can tell
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert differences(first, fingerprint(variants=file_identity(path), chunk_size=500)) == ["variants"]
    assert differences(None, first) == ["(no fingerprint stored)"]


# -- one error path -------------------------------------------------------------------------------


def test_a_verb_writes_with_the_users_umask(tmp_path):
    """`example` and `prepare` write through temporary dirs (created 0700 by tempfile): the final
    output must be readable by the group and others under umask 022."""
    env = dict(os.environ)
    script = ("import os, sys; os.umask(0o022); from regdna.cli import main; main(sys.argv[1:])")
    run = lambda *args: subprocess.run([sys.executable, "-c", script, *map(str, args)],  # noqa: E731
                                       capture_output=True, text=True, timeout=120, env=env)
    assert run("example", "--out", tmp_path / "ex", "--n-per-class", 60).returncode == 0
    result = run("prepare", "--fasta", f"{tmp_path}/ex/pos.fa:1", "--fasta", f"{tmp_path}/ex/neg.fa:0",
                 "--out", tmp_path / "data", "--no-figures", "--quiet")
    assert result.returncode == 0, result.stderr
    for path in (tmp_path / "ex", tmp_path / "data"):
        assert path.stat().st_mode & 0o777 == 0o755
        for child in path.iterdir():
            assert child.stat().st_mode & 0o777 == (0o755 if child.is_dir() else 0o644), child
