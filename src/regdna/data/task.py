"""The task of a dataset (binary, multilabel, multiclass, regression): detected from the labels or
checked against them, and the final class numbering `prepare` writes.

`regdna.data.labels` turns label values into numbers (names get provisional numbers while
streaming); this module decides what those numbers mean once every record has been read: the
task, the class names in index order, the recoding of provisional numbers to final class
numbers, and a clear error when a filter removed every record of a class.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from regdna.errors import RegdnaError

TASKS = ("binary", "multilabel", "multiclass", "regression")
CLASSIFICATION = ("binary", "multiclass")

# what to change when a filter removed every record of a class
FILTER_HINTS = {
    "too_many_n": "--max-n {max_n} (more N inside the sequence than allowed; padding is not counted): "
                  "raise --max-n, e.g. --max-n 0.1",
    "non_canonical": "the canonical-contig filter (they lie on other contigs): pass --no-canonical or "
                     "--contigs REGEX",
    "blacklist": "--blacklist (they overlap its regions): check that the BED is of the same genome build",
    "intersect": "--intersect (none overlaps it): check that the BED is of the same genome build",
    "exclude": "--exclude (they lie within --exclude-window of its intervals): lower --exclude-window "
               "or drop --exclude",
    "dedup": "de-duplication (the same sequences are in another class, or repeat): check the inputs "
             "or pass --no-dedup",
}


def detect_task(y: np.ndarray) -> str:
    """The task the labels suggest.

    Parameters
    ----------
    y : (N, T) float labels (NaN = missing).

    Returns
    -------
    "binary" ({0, 1}, one column), "multilabel" ({0, 1, NaN}, several columns), "multiclass"
    (integers >= 0, one column, 3+ values), else "regression".
    """
    finite = y[np.isfinite(y)]
    if y.shape[1] > 1:
        return "multilabel" if np.isin(finite, [0.0, 1.0]).all() else "regression"
    if np.isin(finite, [0.0, 1.0]).all():
        return "binary"
    values = np.unique(finite)
    if (values >= 0).all() and (values == np.round(values)).all() and len(values) <= 1000:
        return "multiclass"
    return "regression"


def check_task(task: str, y: np.ndarray, label_names: list[str]) -> None:
    """Raise a `RegdnaError` when the (N, T) labels `y` do not fit `task`."""
    finite = y[np.isfinite(y)]
    if task in ("binary", "multilabel") and not np.isin(finite, [0.0, 1.0]).all():
        bad = finite[~np.isin(finite, [0.0, 1.0])][0]
        raise RegdnaError(f"--task {task} needs labels 0/1, but {', '.join(label_names)} holds {bad:g}. "
                          "Use --task regression or multiclass.")
    if task == "binary" and y.shape[1] != 1:
        raise RegdnaError(f"--task binary needs one label column, got {len(label_names)}; use --task multilabel.")
    if task == "multiclass":
        if y.shape[1] != 1:
            raise RegdnaError("--task multiclass needs one label column holding the class.")
        if not ((finite >= 0) & (finite == np.round(finite))).all():
            raise RegdnaError("--task multiclass needs integer class labels >= 0; use --task regression.")
    if task != "regression" and np.isnan(y).any() and task != "multilabel":
        raise RegdnaError(f"--task {task}: some labels are missing (NaN); fill them or drop those rows.")


def class_names(task: str, classes: list[str] | None) -> list[str]:
    """Names of the groups QC counts per split: the classes (binary 0/1 without names), else "all"."""
    if task in CLASSIFICATION and classes:
        return list(classes)
    if task == "binary":
        return ["0", "1"]
    return ["all"]


@dataclass
class Resolved:
    """What `resolve_task` decided."""

    task: str
    classes: list[str] | None                     # class names in index order (classification)
    index: np.ndarray                             # (N,) int64 class per record (0 unless classification)
    label_names: list[str]                        # label columns of the split files
    recode: Callable[[np.ndarray], np.ndarray] | None   # staged first label -> final class number


def resolve_task(args, readers, y: np.ndarray, seen: dict[float, int],
                 removed: dict[str, dict[float, int]]) -> Resolved:
    """Task, class names and per-record class index of the staged records.

    Parameters
    ----------
    args : the checked `prepare` arguments (`regdna.data.prepare_args.PrepareArgs`).
    readers : the `LabelColumn` readers of a table or BED label columns (may be empty).
    y : (N, T) float64 staged labels; named classes and numeric multiclass labels are renumbered
        in place (column 0) to their final class numbers.
    seen, removed : records per class value that reached cleaning / that each filter removed,
        to name the filter that emptied a class.
    """
    names = args.labels or [f"y{j}" for j in range(y.shape[1])]
    classes, lookup = args.classes, None
    for reader in readers:
        order, reader_lookup = reader.final_order(args.class_order)
        if order is not None:
            classes, lookup = order, reader_lookup
    task = args.task or args.spec_task or detect_task(y)
    if classes is not None and task not in CLASSIFICATION:
        raise RegdnaError(f"--task {task} needs numeric labels, but the labels are names "
                          f"({', '.join(classes[:5])}); use --task binary or multiclass.")
    if task in CLASSIFICATION:
        for reader in readers:
            if reader.n_missing:
                raise reader.missing_error(task)
    check_task(task, y, names)
    if task in CLASSIFICATION:
        _check_lost_classes(args, readers, y[:, 0], classes if lookup is None else None, seen, removed)
    recode = None
    if lookup is not None:
        recode = lambda v: lookup[np.asarray(v).astype(np.int64)]  # noqa: E731
    elif task == "multiclass" and classes is None:
        # numeric classes (e.g. 2, 5, 7) become indices 0..K-1 in sorted order
        values = np.unique(y[np.isfinite(y)])
        classes = [f"{v:g}" for v in values]
        recode = lambda v: np.searchsorted(values, np.asarray(v)).astype(np.float64)  # noqa: E731
    if recode is not None:
        y[:, 0] = recode(y[:, 0])
    index = y[:, 0].astype(np.int64) if task in CLASSIFICATION else np.zeros(len(y), dtype=np.int64)
    if task in CLASSIFICATION and len(np.unique(index)) < 2:
        raise RegdnaError(f"only one class ({classes[int(index[0])] if classes else int(index[0])}) in the "
                          "data: give one input per class (e.g. --fasta pos.fa:1 --fasta neg.fa:0) or make "
                          "negatives with --negatives shuffle / gc-matched.")
    label_names = names if task != "multiclass" else (args.labels[:1] if args.labels else ["label"])
    return Resolved(task, classes, index, label_names, recode)


def _class_label(args, readers, value: float, classes: list[str] | None) -> str:
    """How a class value of the first label reads to the user: its name (and its files)."""
    if readers and readers[0].kind == "names":
        name = {float(code): n for n, code in readers[0].names.items()}.get(value)
        return f"'{name}'" if name is not None else f"{value:g}"
    text = f"'{classes[int(value)]}'" if classes is not None else f"{value:g}"
    files = [str(p) for p, label in (args.fasta or args.bed) if args.label_map.get(label) == value]
    return text + (f" ({', '.join(files)})" if files else "")


def _check_lost_classes(args, readers, values: np.ndarray, classes: list[str] | None,
                        seen: dict[float, int], removed: dict[str, dict[float, int]]) -> None:
    """A clear error when the filters removed every record of a class that the input had."""
    present = set(np.unique(values[np.isfinite(values)]).tolist())
    given = set(seen) | {v for per in removed.values() for v in per}
    lost = sorted(given - present)
    if not lost:
        return
    value = lost[0]
    by_step = {name: per[value] for name, per in removed.items() if per.get(value)}
    if not by_step:
        return
    worst = max(by_step, key=by_step.get)
    hint = FILTER_HINTS[worst].format(max_n=f"{args.max_n:g}")
    raise RegdnaError(f"class {_class_label(args, readers, value, classes)}: all {sum(by_step.values())} record(s) "
                      f"were removed, most by {hint}. Without them only {len(present)} class(es) would be left.")
