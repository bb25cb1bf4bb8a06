"""The command line speaks one vocabulary (docs/CLI.md): the same name and short flag for the
same idea in every verb, `-o` wherever there is `--out`, `--target` for a model output, and
the old spellings kept as hidden aliases that warn."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from regdna.cli import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "CLI.md"


def _commands() -> dict:
    return typer.main.get_command(app).commands


def _visible_options(command) -> list:
    """The options of a command shown by --help (no arguments, no hidden old spellings)."""
    return [p for p in command.params
            if p.param_type_name == "option" and not getattr(p, "hidden", False)]


def _names(param) -> list[str]:
    return [*param.opts, *param.secondary_opts]


def _long(param) -> str:
    return next(name for name in param.opts if name.startswith("--"))


def _short(param) -> list[str]:
    return [name for name in param.opts if re.fullmatch(r"-[A-Za-z]", name)]


def _table() -> list[dict]:
    """Rows of the common-options table of docs/CLI.md."""
    text = DOC.read_text()
    block = text.split("<!-- common-options -->")[1].split("<!-- /common-options -->")[0]
    rows = []
    for line in block.strip().splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows.append({"option": cells[0].strip("`"), "short": cells[1].strip("`"),
                     "verbs": {verb.strip() for verb in cells[3].split(",")}})
    return rows


def test_every_verb_has_commands_to_check():
    assert {"prepare", "train", "evaluate", "predict", "compare", "report", "vep", "ism",
            "attribute", "gia", "tokens", "tune"} <= set(_commands())


def test_every_out_has_the_short_flag_o():
    for verb, command in _commands().items():
        for param in _visible_options(command):
            if "--out" in param.opts:
                assert "-o" in param.opts, f"{verb}: --out without -o"


def test_a_short_flag_means_one_long_option_across_verbs():
    meaning: dict[str, set[str]] = {}
    for command in _commands().values():
        for param in command.params:
            for flag in _short(param):
                meaning.setdefault(flag, set()).add(_long(param))
    assert meaning, "no short flags found"
    assert {flag: longs for flag, longs in meaning.items() if len(longs) > 1} == {}


def test_a_model_output_is_chosen_with_target():
    chooses_output = []
    for verb, command in _commands().items():
        for param in _visible_options(command):
            assert "--output" not in _names(param), f"{verb}: --output (reads like --out)"
            if re.search(r"model output|output .*index or label|index or label", param.help or "",
                         re.IGNORECASE):
                assert _long(param) == "--target", f"{verb}: {_long(param)} chooses a model output"
                chooses_output.append(verb)
    assert {"ism", "attribute", "gia"} <= set(chooses_output)


def test_the_table_of_docs_cli_matches_the_app():
    rows = _table()
    assert {row["option"] for row in rows} >= {"--run", "--data", "--split", "--out", "--n",
                                               "--device", "--rc", "--seed", "--overwrite",
                                               "--target", "--set", "--model"}
    commands = _commands()
    for row in rows:
        assert row["verbs"] <= set(commands), f"{row['option']}: unknown verbs " \
                                              f"{row['verbs'] - set(commands)}"
        having = set()
        for verb, command in commands.items():
            for param in _visible_options(command):
                if row["option"] in param.opts:
                    having.add(verb)
                    if row["short"]:
                        assert row["short"] in param.opts, f"{verb} {row['option']}: no {row['short']}"
                    else:
                        assert not _short(param), f"{verb} {row['option']}: short flag not in the table"
        assert having == row["verbs"], f"{row['option']}: the table says {sorted(row['verbs'])}, " \
                                       f"the app has it on {sorted(having)}"


def test_every_old_spelling_in_docs_cli_is_a_hidden_alias():
    text = DOC.read_text().split("## Renamed options")[1]
    block = text.split("Short flags changed")[0]
    commands = _commands()
    seen = 0
    for line in block.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[1].startswith("`"):
            continue
        old = cells[1].split("`")[1].split("/")[0]
        new = cells[2].split("`")[1].split("/")[0]
        for verb in (v.strip() for v in cells[0].split(",")):
            params = commands[verb].params
            assert any(old in p.opts and p.hidden for p in params), f"{verb}: {old} is not a hidden alias"
            assert any(new in p.opts and not getattr(p, "hidden", False) for p in params), f"{verb}: no {new}"
            seen += 1
    assert seen >= 10


# -- the aliases at work (the verb's run function replaced by a recorder) ---------------------------
@pytest.fixture
def calls(monkeypatch):
    import regdna.evaluate.compare
    import regdna.models.tokens

    recorded = {}

    def fake_tokens(data_dir, model_spec, out, **kwargs):
        recorded["tokens"] = kwargs
        return {"n": 1, "p50": 1, "p90": 1, "p95": 1, "p99": 1, "max": 1,
                "recommended_max_length": 8, "truncation_rate": 0.0, "model_limit": None}

    def fake_compare(runs, out, splits=("test",), overwrite=False):
        recorded["compare"] = {"runs": [str(r) for r in runs], "splits": splits}
        return {"markdown": "table"}

    monkeypatch.setattr(regdna.models.tokens, "run_tokens", fake_tokens)
    monkeypatch.setattr(regdna.evaluate.compare, "run_compare", fake_compare)
    return recorded


def _invoke(args):
    return CliRunner().invoke(app, args)


def test_old_spellings_still_work_and_warn(calls, tmp_path):
    out = str(tmp_path / "t")
    new = _invoke(["tokens", "-m", "tinyformer", "-d", "data", "-o", out, "--n", "7",
                   "--set", "k=3", "--set", "model.options.tokenizer=kmer"])
    assert new.exit_code == 0, new.output
    assert "warning" not in new.output
    assert calls["tokens"]["sample"] == 7 and calls["tokens"]["options"] == {"k": 3, "tokenizer": "kmer"}
    old = _invoke(["tokens", "--model", "tinyformer", "--data", "data", "--out", out,
                   "--sample", "5", "--option", "k=6"])
    assert old.exit_code == 0, old.output
    assert "--sample is now --n" in old.output and "--option is now --set" in old.output
    assert calls["tokens"]["sample"] == 5 and calls["tokens"]["options"] == {"k": 6}


def test_an_old_and_a_new_spelling_together_are_refused(calls, tmp_path, capsys):
    from regdna.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["tokens", "-m", "tinyformer", "-d", "data", "-o", str(tmp_path / "t"),
              "--n", "3", "--sample", "5", "--option", "k=6"])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and "tokens" not in calls
    # a failure stays one line: no deprecation line for the --option that was used as well
    assert err == "error: --sample is the old spelling of --n: give only --n."


def test_compare_takes_runs_as_arguments_and_with_run(calls, tmp_path):
    result = _invoke(["compare", "a", "--run", "b", "--run", "c", "-o", str(tmp_path / "c"),
                      "--split", "val,test"])
    assert result.exit_code == 0, result.output
    assert calls["compare"] == {"runs": ["a", "b", "c"], "splits": ["val", "test"]}
    old = _invoke(["compare", "a", "-o", str(tmp_path / "c"), "--splits", "val"])
    assert old.exit_code == 0 and calls["compare"]["splits"] == ["val"]
    none = _invoke(["compare", "-o", str(tmp_path / "c")])
    assert none.exit_code != 0 and calls["compare"]["runs"] == ["a"]
