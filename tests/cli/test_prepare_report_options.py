"""`prepare -g` is `--genome`; `report --run` (repeatable) adds to the positional run dirs, a run
given twice is shown once. The verbs' functions are replaced by recorders: these tests check
the parsing only."""
from __future__ import annotations

from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from regdna.cli import app


@pytest.fixture
def calls(monkeypatch):
    import regdna.data.prepare
    import regdna.report.report

    recorded = {}

    def fake_prepare(out, **kwargs):
        from regdna.data.dataset import DatasetInfo, write_info

        recorded.setdefault("prepare", []).append(kwargs)
        Path(out).mkdir(parents=True, exist_ok=True)     # the CLI reads its QC warnings back
        write_info(out, DatasetInfo(task="binary", labels=["label"]))
        return out

    def fake_report(runs, out, **kwargs):
        recorded.setdefault("report", []).append([str(r) for r in runs])
        return {"out": out, "size_bytes": 1, "runs": len(runs), "extras": 0}

    monkeypatch.setattr(regdna.data.prepare, "run_prepare", fake_prepare)
    monkeypatch.setattr(regdna.report.report, "run_report", fake_report)
    return recorded


def _invoke(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def test_prepare_takes_g_for_genome(calls, tmp_path):
    common = ["prepare", "--bed", "peaks.bed:1", "-o", tmp_path / "d", "--quiet"]
    _invoke(*common, "-g", "hg38.fa")
    _invoke(*common, "--genome", "hg38.fa")
    first, second = calls["prepare"]
    assert first["genome"] == Path("hg38.fa") and first == second
    prepare = typer.main.get_command(app).commands["prepare"]
    assert [p.name for p in prepare.params if "-g" in p.opts] == ["genome"]  # -g means one option


def test_report_run_option_equals_the_positional_form(calls, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "r.html"
    _invoke("report", "--run", a, "--run", b, "-o", out)
    _invoke("report", a, b, "-o", out)
    _invoke("report", a, "--run", b, "-o", out)                            # both combined
    _invoke("report", a, "--run", b, "--run", f"{a}/", "--run", tmp_path / "." / "b", "-o", out)
    assert calls["report"] == [[str(a), str(b)]] * 4                        # duplicates collapse
