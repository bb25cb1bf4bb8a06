"""The `regdna` command line: one verb per stage, each a thin layer over one Python function.

Verbs live in one module per domain (`cli/data.py`, `cli/train.py`, ...); each registers its
commands on `app`. Heavy libraries (torch, transformers) are imported inside the commands so
that `regdna --help` is instant.
"""
from __future__ import annotations

import sys

import typer

from regdna._version import __version__
from regdna.cli.options import clear_deprecations, print_deprecations
from regdna.errors import RegdnaError

app = typer.Typer(
    name="regdna",
    help="Deep learning on regulatory DNA: prepare datasets, train and evaluate models, "
         "score variants and explain predictions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    result_callback=print_deprecations,  # old option spellings used: one line each, at the end
)


def _version(value: bool):
    if value:
        typer.echo(f"regdna {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")):
    """regdna: deep learning on regulatory DNA."""
    clear_deprecations()


def _register_commands() -> None:
    # Each import registers that domain's verbs on `app`.
    import importlib

    for name in ("data", "example", "models", "train", "evaluate", "variants", "interpret", "report"):
        try:
            importlib.import_module(f"regdna.cli.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"regdna.cli.{name}":
                raise


_register_commands()


def _click_exceptions():
    """(ClickException, Abort) classes of the click that typer runs on: typer >= 0.20 bundles its own."""
    try:
        from typer._click.exceptions import ClickException
    except ImportError:  # older typer: the click package
        from click.exceptions import ClickException
    try:
        from click.exceptions import Abort
    except ImportError:
        Abort = typer.Abort
    return ClickException, Abort


def _one_line_warnings() -> None:
    """A `RegdnaWarning` prints as one `warning: <message>` line on stderr (no file and line of
    the code that raised it); other warnings keep Python's format."""
    import warnings

    from regdna.errors import RegdnaWarning

    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, RegdnaWarning):
            print(f"warning: {message}", file=sys.stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def main(argv: list[str] | None = None) -> None:
    """Entry point: every failure a user can cause ends as one line and a non-zero exit status.

    - a `RegdnaError` (bad input, a refused --out, ...): `error: <message>`, exit 2;
    - a usage error (unknown option, missing value): the usage message, exit 2;
    - Ctrl-C / SIGINT: `interrupted`, exit 130;
    - a file error (missing, unreadable, disk full): `error: <what>: <file>`, exit 1;
    - anything else is a bug: one line saying so, exit 1; `--debug` (or REGDNA_DEBUG=1) shows
      the traceback instead.
    """
    import os

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("REGDNA_DEBUG", "") not in ("", "0")
    _one_line_warnings()
    if "--debug" in argv:
        argv.remove("--debug")
        debug = True
    click_exception, click_abort = _click_exceptions()
    try:
        status = app(args=argv, prog_name="regdna", standalone_mode=False)
    except RegdnaError as err:
        if debug:
            raise
        _fail(f"error: {err}", 2)
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except (typer.Abort, click_abort) as err:
        # click turns EOFError into Abort: a compressed input that ends early
        if isinstance(err.__cause__, EOFError):
            _fail(f"error: an input ended early ({err.__cause__}); is a compressed file truncated?", 2)
        _fail("interrupted", 130)
    except click_exception as err:
        err.show()
        sys.exit(err.exit_code)
    except OSError as err:
        if debug:
            raise
        where = f": {err.filename}" if err.filename else ""
        _fail(f"error: {err.strerror or err}{where}", 1)
    except Exception as err:  # a bug: say so in one line unless asked for the traceback
        if debug:
            raise
        _fail(f"error: unexpected {type(err).__name__}: {err}. This is a bug in regdna; "
              "re-run with --debug for the traceback and report it.", 1)
    if status == 130:  # typer returns 130 for a KeyboardInterrupt in a command
        _fail("interrupted", 130)
    if isinstance(status, int) and status:
        sys.exit(status)


def _fail(message: str, status: int) -> None:
    typer.secho(message, fg=typer.colors.RED if status != 130 else None, err=True)
    sys.exit(status)
