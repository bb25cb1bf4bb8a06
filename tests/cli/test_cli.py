"""The command line: `--version` and every verb's `--help`."""
import subprocess
import sys


def test_cli_version_and_every_verb_has_help():
    version = subprocess.run([sys.executable, "-m", "regdna", "--version"], capture_output=True, text=True)
    assert version.stdout.strip().startswith("regdna ")
    import typer.main
    from typer.testing import CliRunner

    from regdna.cli import app

    runner = CliRunner()
    listing = runner.invoke(app, ["--help"]).output
    verbs = sorted(typer.main.get_command(app).commands)
    assert {"prepare", "train", "evaluate", "vep", "attribute"} <= set(verbs)
    for verb in verbs:
        assert verb in listing
        result = runner.invoke(app, [verb, "--help"])
        assert result.exit_code == 0 and "--" in result.output, verb
