"""The command line's one vocabulary: the options that several verbs share, declared once.

Every verb declares a shared idea through the factory here, so that the idea has one name and
one short flag everywhere (`--out/-o`, `--data/-d`, `--model/-m`, `--run`, `--split`, `--n`,
`--target`, `--device`, `--rc/--no-rc`, `--scalar`, `--seed`, `--set`, `--overwrite`); only the help text
differs per verb. The table of these options is docs/CLI.md, checked against the app by
tests/cli/test_vocabulary.py.

Old spellings stay for one release as hidden options (`old_spelling`) merged into the new one
by `renamed`; a verb that used one prints one deprecation line per old spelling on stderr when
it has finished (`print_deprecations`, the app's result callback), so that a failure stays the
one line `regdna.cli.main` promises.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

import typer

from regdna.errors import RegdnaError

_REQUIRED = ...


def out_option(help: str, default: Any = _REQUIRED):
    """`--out/-o`: where a verb writes (a file or a directory, as its help says)."""
    return typer.Option(default, "--out", "-o", help=help)


def run_option(help: str = "Run dir of a trained model (regdna train).", required: bool = True):
    """`--run`: a run dir written by `regdna train` (`compare` and `report` repeat it)."""
    return typer.Option(_REQUIRED if required else None, "--run", help=help)


def data_option(help: str = "Dataset dir (regdna prepare).", required: bool = False):
    """`--data/-d`: a dataset dir written by `regdna prepare`."""
    return typer.Option(_REQUIRED if required else None, "--data", "-d", help=help)


def split_option(help: str = "Split of --data: train, val or test.", default: str = "test"):
    """`--split`: which split of a dataset dir a verb reads (`prepare`: how it is made)."""
    return typer.Option(default, "--split", help=help)


def model_option(help: str, required: bool = False):
    """`--model/-m`: a model spec (basset, tinyformer, hf:<hub id or dir>, ...)."""
    return typer.Option(_REQUIRED if required else None, "--model", "-m", help=help)


def n_option(help: str, default: Optional[int] = None, **kwargs):
    """`--n`: the number of sequences a verb uses (per class: `--n-per-class`)."""
    return typer.Option(default, "--n", help=help, **kwargs)


def n_per_class_option(help: str, default: int):
    """`--n-per-class`: the number of sequences of each class a verb makes or samples."""
    return typer.Option(default, "--n-per-class", help=help)


def target_option(help: str = "Model output to explain: index or label name."):
    """`--target`: one output of a model (index or label name); never confused with --out."""
    return typer.Option("0", "--target", help=help)


def rc_option(help: str):
    """`--rc/--no-rc`: average over both strands; unset = as the run's config says."""
    return typer.Option(None, "--rc/--no-rc", help=help)


def scalar_option(help: str = "Profile runs: the number of the predicted coverage to "
                                "explain, sum (the whole window, default) or center:W (the "
                                "central W bp); refused for other runs."):
    """`--scalar sum|center:W`: which scalar of a profile run's coverage a verb scores
    (`regdna.models.scalar`); unset = sum, and an error for a run that predicts no profile."""
    return typer.Option(None, "--scalar", help=help)


def seed_option(help: str, default: Optional[int] = 0):
    """`--seed`: the random seed of a verb."""
    return typer.Option(default, "--seed", help=help)


def set_option(help: str):
    """`--set key=value`: one setting overridden (repeatable)."""
    return typer.Option([], "--set", help=help)


def mc_dropout_option():
    """`--mc-dropout T`: Monte Carlo dropout at prediction time (0: off)."""
    return typer.Option(0, "--mc-dropout", help="Monte Carlo dropout (Gal & Ghahramani 2016): "
                        "T passes with dropout on, their mean, and *_std columns (0: off; "
                        "ensemble runs give *_std without it).", min=0)


DEVICE = typer.Option(None, "--device", help="torch device for the model: cpu, cuda, cuda:1, mps "
                      "(default: CUDA if present, else CPU).")


def overwrite_option(help: str = "Replace --out even when it holds something that is not an "
                                 "earlier output of this verb (an --out holding an input is "
                                 "always refused)."):
    """`--overwrite`: replace an --out the output policy would refuse."""
    return typer.Option(False, "--overwrite", help=help)


OVERWRITE = overwrite_option()


# -- old spellings ---------------------------------------------------------------------------------
def old_spelling(*declarations: str):
    """A hidden option for an old spelling (e.g. "--output", or "--rc-average/--no-rc-average");
    merge it into the new one with `renamed`."""
    return typer.Option(None, *declarations, hidden=True)


_deprecations: list[str] = []  # lines of the command running now (see print_deprecations)


def clear_deprecations() -> None:
    """Forget the deprecation lines of an earlier command (called as a command starts)."""
    _deprecations.clear()


def print_deprecations(*_results, **_options) -> None:
    """Print on stderr, once, a line for each old spelling the finished command used."""
    for line in dict.fromkeys(_deprecations):
        typer.echo(line, err=True)
    _deprecations.clear()


def _given(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def _spelling(ctx: typer.Context, name: str) -> str:
    param = next(p for p in ctx.command.params if p.name == name)
    return "/".join([*param.opts, *param.secondary_opts])


def renamed(ctx: typer.Context, new: str, old: str):
    """The value of the option of parameter `new`, or of its old spelling (parameter `old`).

    Using the old spelling prints one deprecation line on stderr when the command has
    finished; giving both is an error.

    Parameters
    ----------
    ctx : typer.Context
        the context of the running command (its parameters and where each value came from).
    new, old : str
        parameter names (Python names, e.g. "target" and "output") of the new option and of the
        hidden option holding the old spelling.

    Returns
    -------
    the value given with the old spelling when it was used, else the new option's value
    (its default when not given).
    """
    new_spelling, old_spelling_ = _spelling(ctx, new), _spelling(ctx, old)
    if _given(ctx, old):
        if _given(ctx, new):
            raise RegdnaError(f"{old_spelling_} is the old spelling of {new_spelling}: give only "
                              f"{new_spelling}.")
        _deprecations.append(f"warning: {old_spelling_} is now {new_spelling}; the old spelling "
                             "goes away in the next release.")
        return ctx.params[old]
    return ctx.params[new]


def run_dirs(positional: Optional[Sequence[Path]], options: Optional[Sequence[Path]],
             required: bool = True) -> list[Path]:
    """Run dirs given as arguments and with `--run` (repeatable), in that order.

    Parameters
    ----------
    positional, options : sequences of paths or None
        the run dirs typed as arguments, and those typed after --run.
    required : bool
        refuse an empty list.

    Returns
    -------
    list of Path
    """
    runs = [*(positional or []), *(options or [])]
    if required and not runs:
        raise RegdnaError("give at least one run dir (--run RUN, repeatable, or as arguments).")
    return runs
