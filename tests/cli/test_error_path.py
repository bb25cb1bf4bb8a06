"""The one error path (regdna.cli.main): usage errors exit 2 with the usage message, Ctrl-C
prints `interrupted` (exit 130), any other exception is one line naming `--debug` (exit 1)."""
import subprocess
import sys

import pytest


def _regdna(*args, **kw):
    return subprocess.run([sys.executable, "-m", "regdna", *map(str, args)], capture_output=True,
                          text=True, timeout=120, **kw)


def test_usage_errors_print_usage_and_exit_2():
    for args in (["train", "--rnu", "x"], ["train"]):
        result = _regdna(*args)
        assert result.returncode == 2, result.stderr
        assert "Usage: regdna train" in result.stderr and "Traceback" not in result.stderr


def test_interrupt_and_unexpected_errors(tmp_path, monkeypatch, capsys):
    import regdna.data.example as example
    from regdna.cli import main

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(example, "run_example", interrupted)
    with pytest.raises(SystemExit) as exit_:
        main(["example", "--out", str(tmp_path / "ex")])
    assert exit_.value.code == 130 and capsys.readouterr().err.strip() == "interrupted"

    def bug(*a, **k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(example, "run_example", bug)
    with pytest.raises(SystemExit) as exit_:
        main(["example", "--out", str(tmp_path / "ex")])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 1 and len(err.splitlines()) == 1 and "--debug" in err
    with pytest.raises(ZeroDivisionError):
        main(["example", "--out", str(tmp_path / "ex"), "--debug"])


def test_a_regdna_warning_is_one_line_on_stderr(capsys, monkeypatch):
    import warnings

    from regdna.cli import _one_line_warnings
    from regdna.errors import RegdnaWarning

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)   # restored afterwards
    _one_line_warnings()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("input of 160 bp for a model trained on 200 bp windows", RegdnaWarning)
    assert capsys.readouterr().err == "warning: input of 160 bp for a model trained on 200 bp windows\n"
