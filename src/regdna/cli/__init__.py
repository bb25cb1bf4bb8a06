"""The `regdna` command line: one verb per stage, each a thin layer over one Python function.

Verbs live in one module per domain (`cli/data.py`, `cli/train.py`, ...); each registers its
commands on `app`. Heavy libraries (torch, transformers) are imported inside the commands so
that `regdna --help` is instant.
"""
from __future__ import annotations

import sys

import typer

from regdna import __version__
from regdna.errors import RegdnaError

app = typer.Typer(
    name="regdna",
    help="Deep learning on regulatory DNA: prepare datasets, train and evaluate models, "
         "score variants and explain predictions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool):
    if value:
        typer.echo(f"regdna {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")):
    """regdna: deep learning on regulatory DNA."""


def _register_commands() -> None:
    # Each import registers that domain's verbs on `app`.
    import importlib

    for name in ("data", "example", "train", "transformers", "variants", "interpret", "report"):
        try:
            importlib.import_module(f"regdna.cli.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"regdna.cli.{name}":
                raise


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the app and turns a RegdnaError into one clear line and exit status 2."""
    try:
        app(args=argv, standalone_mode=False)
    except RegdnaError as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as err:  # click usage errors carry their own formatting
        import click

        if isinstance(err, click.ClickException):
            err.show()
            sys.exit(err.exit_code)
        raise
