"""The one output policy of every verb: never delete or overwrite what the user did not ask for.

A verb writes its `--out` through `output_dir` (a directory) or `output_file` (one file):

- a path that does not exist, or an empty directory, is written;
- a path that holds an earlier output of the *same verb* is replaced: a directory whose marker
  file (`.regdna-output.json`) names that verb and lists every entry in it, or a file that the
  directory's registry (`.regdna-outputs.json`, beside the file) records with the same size and
  modification time, so a file edited since is no longer ours;
- anything else is refused with one line naming the path and `--overwrite`, which replaces it;
- an `--out` that equals or contains an input is always refused, `--overwrite` or not;
- a file where a directory is expected, or the reverse, is always refused.

Writing itself is atomic (`regdna.utils.atomic`): the new output is built under a temporary name
and renamed into place, so a failure leaves the old output (or nothing) behind, never a mix.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import Iterable

from regdna.errors import RegdnaError
from regdna.utils.atomic import atomic_dir, atomic_file

MARKER = ".regdna-output.json"
REGISTRY = ".regdna-outputs.json"


def _resolved(path: str | os.PathLike) -> Path:
    return Path(os.path.abspath(os.fspath(path)))


def _refuse_inputs(out: Path, inputs: Iterable) -> None:
    """An --out that is an input, or a directory holding one, would destroy that input."""
    for item in inputs:
        if item is None:
            continue
        source = _resolved(item)
        if source == out or out in source.parents:
            raise RegdnaError(f"--out {out} {'is' if source == out else 'contains'} the input {source}; "
                              "choose an output path outside the inputs")


def read_marker(path: str | os.PathLike) -> dict | None:
    """The marker of a directory written by a regdna verb, or None."""
    marker = Path(path) / MARKER
    try:
        return json.loads(marker.read_text())
    except (OSError, ValueError):
        return None


def _foreign_entry(out: Path, verb: str) -> str | None:
    """Why `out` (an existing, non-empty directory) is not ours to replace, or None when it is."""
    marker = read_marker(out)
    if marker is None:
        return "is not empty and was not written by regdna"
    if marker.get("verb") != verb:
        return f"holds the output of `regdna {marker.get('verb')}`, not of `regdna {verb}`"
    known = set(marker.get("entries", [])) | {MARKER}
    extra = sorted(entry.name for entry in out.iterdir() if entry.name not in known)
    if extra:
        return f"holds '{extra[0]}', which `regdna {verb}` did not write"
    return None


def check_out_dir(out: str | os.PathLike, verb: str, inputs: Iterable = (), overwrite: bool = False) -> Path:
    """Check `out` against the policy for a directory output; return it as an absolute path."""
    path = _resolved(out)
    _refuse_inputs(path, inputs)
    if path.exists() and not path.is_dir():
        raise RegdnaError(f"--out {out} is a file, but `regdna {verb}` writes a directory; "
                          "choose a directory path")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        reason = _foreign_entry(path, verb)
        if reason:
            raise RegdnaError(f"--out {out} {reason}; choose another path or pass --overwrite to replace it")
    return path


def _marker_text(verb: str, entries: list[str]) -> str:
    from regdna._version import __version__

    return json.dumps({"verb": verb, "regdna": __version__, "entries": sorted(entries)}, indent=2) + "\n"


def write_marker(path: str | os.PathLike, verb: str, entries: Iterable[str]) -> None:
    """Write the marker of a directory `verb` owns, listing the entries it wrote (a verb that
    builds its output in place, keeping parts of an earlier run, calls it itself)."""
    (Path(path) / MARKER).write_text(_marker_text(verb, list(entries)))


def mark_dir(path: str | os.PathLike, verb: str) -> None:
    """Mark `path` as a directory that `verb` owns and that later verbs update in place (a run
    dir: `evaluate` adds files to what `train` wrote). Its marker lists no entries: whoever
    checks such a directory goes by the marker's verb (`read_marker`), not by its file list."""
    write_marker(path, verb, [])


def _contains_cwd(path: Path) -> bool:
    cwd = Path.cwd()
    return path == cwd or path in cwd.parents


@contextlib.contextmanager
def output_dir(out: str | os.PathLike, verb: str, inputs: Iterable = (), overwrite: bool = False):
    """Yield a temporary directory that becomes `out` (policy checked first) if the block succeeds.

    >>> with output_dir("ism_out", "ism", inputs=[run_dir]) as tmp:
    ...     (tmp / "ism.tsv").write_text("...")
    """
    path = check_out_dir(out, verb, inputs, overwrite)
    if _contains_cwd(path):  # the working directory cannot be renamed away: swap its contents
        yield from _swap_contents(path, verb)
        return
    with atomic_dir(path) as tmp:
        yield tmp
        write_marker(tmp, verb, [e.name for e in tmp.iterdir()])


def empty_dir(path: Path, keep: Path | None = None) -> None:
    """Remove what `path` holds (not `path` itself, which may be the working directory); only for
    a directory the policy has allowed to be replaced."""
    for entry in list(Path(path).iterdir()):
        if entry != keep:
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()


def _swap_contents(path: Path, verb: str):
    staged = path / f".{verb}.new"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    try:
        yield staged
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    empty_dir(path, keep=staged)
    names = [e.name for e in staged.iterdir()]
    for name in names:
        os.replace(staged / name, path / name)
    staged.rmdir()
    write_marker(path, verb, names)


# -- single files ---------------------------------------------------------------------------------
def _registry(directory: Path) -> dict:
    try:
        return json.loads((directory / REGISTRY).read_text())
    except (OSError, ValueError):
        return {}


def _stamp(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def check_out_file(out: str | os.PathLike, verb: str, inputs: Iterable = (), overwrite: bool = False) -> Path:
    """Check `out` against the policy for a one-file output; return it as an absolute path."""
    path = _resolved(out)
    _refuse_inputs(path, inputs)
    if path.is_dir():
        raise RegdnaError(f"--out {out} is a directory, but `regdna {verb}` writes a file; "
                          f"give a file path such as {Path(out) / ('out' + (path.suffix or '.tsv'))}")
    if path.exists() and not overwrite:
        entry = _registry(path.parent).get(path.name)
        if not entry or entry.get("verb") != verb or entry.get("stamp") != _stamp(path):
            raise RegdnaError(f"--out {out} already exists and is not an unchanged earlier output of "
                              f"`regdna {verb}`; choose another path or pass --overwrite to replace it")
    return path


def record_file(path: str | os.PathLike, verb: str) -> None:
    """Register `path` as the output of `verb`, so that a re-run may replace it."""
    path = _resolved(path)
    registry = _registry(path.parent)
    registry = {name: entry for name, entry in registry.items() if (path.parent / name).is_file()}
    registry[path.name] = {"verb": verb, "stamp": _stamp(path)}
    with atomic_file(path.parent / REGISTRY) as handle:
        handle.write(json.dumps(registry, indent=1, sort_keys=True) + "\n")


@contextlib.contextmanager
def output_file(out: str | os.PathLike, verb: str, inputs: Iterable = (), overwrite: bool = False,
                mode: str = "w"):
    """Yield a handle whose content replaces `out` (policy checked first) if the block succeeds."""
    path = check_out_file(out, verb, inputs, overwrite)
    with atomic_file(path, mode) as handle:
        yield handle
    record_file(path, verb)
