"""Atomic writes (regdna.utils.atomic): a failed build leaves nothing behind."""
import pytest

from regdna.utils.atomic import atomic_dir, atomic_file


def test_atomic_dir_leaves_nothing_on_failure(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:
            (tmp / "partial.txt").write_text("x")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with atomic_dir(out) as tmp:
        (tmp / "done.txt").write_text("ok")
    with atomic_file(out / "f.txt") as handle:
        handle.write("hello")
    assert sorted(p.name for p in out.iterdir()) == ["done.txt", "f.txt"]
