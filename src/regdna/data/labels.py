"""Label values -> numbers, in one place for every input of `prepare`.

- numbers stay numbers (the task is detected from them later: 0/1 binary, integers multiclass...);
- names (values that are not numbers: `yes`/`no`, `GATA1`) are classes numbered in sorted order
  (first = 0) unless `--classes a,b,...` gives the order; the names are stored as `classes` in
  `dataset.json`, so every later verb can show them;
- a label column that mixes numbers and names (a 0/1 column with one stray `oops`) is an error
  naming the file, the column and the first offending rows; nothing is guessed.

Per-file labels (`--fasta pos.fa:yes`) are mapped at once (`file_labels`). Label columns of a
table or BED file are read chunk by chunk (`LabelColumn`): names get a provisional number in order
of first appearance while streaming, and `final_order` gives the final number of each once every
value has been seen. Missing values (empty, NA, NaN, '.') are NaN; their first rows are kept for
the error a classification task raises (multi-label and regression tasks mask them in the loss).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from regdna.errors import RegdnaError

MISSING = frozenset({"", "na", "nan", "."})    # compared lower-case
FIRST_ROWS = 3                                  # rows named in an error message


def parse_classes(value) -> list[str] | None:
    """`--classes no,yes` (or a list) -> ["no", "yes"]; None when not given."""
    if value is None or value == "" or value == []:
        return None
    names = [v.strip() for v in value.split(",")] if isinstance(value, str) else [str(v).strip() for v in value]
    if any(not name for name in names):
        raise RegdnaError(f"--classes {','.join(names)}: empty class name; write the names separated by commas, "
                          "e.g. --classes no,yes (the first is class 0).")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise RegdnaError(f"--classes names '{repeated[0]}' twice; list every class once.")
    return names


def is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return np.isnan(value)
    return isinstance(value, str) and value.strip().lower() in MISSING


def class_order(names: Iterable[str], classes: list[str] | None, source: str) -> list[str]:
    """Class names in index order: `classes` when given (each name listed, each listed name
    present), else sorted."""
    distinct = set(names)
    if classes is None:
        return sorted(distinct)
    unknown = sorted(distinct - set(classes))
    if unknown:
        raise RegdnaError(f"{source}: label '{unknown[0]}' is not in --classes {','.join(classes)}; add it there "
                          "(the order gives the numbers, first = 0) or fix the label.")
    absent = [c for c in classes if c not in distinct]
    if absent:
        raise RegdnaError(f"--classes names '{absent[0]}', but no record of {source} has that label; "
                          f"the labels are {', '.join(sorted(distinct))}.")
    return list(classes)


def mapping_text(classes: list[str]) -> str:
    """'no=0, yes=1' for the summary."""
    return ", ".join(f"{name}={i}" for i, name in enumerate(classes))


def file_labels(labels: list[str], classes: list[str] | None, option: str) -> tuple[dict[str, float], list[str] | None]:
    """Per-file labels (`--fasta a.fa:LABEL`, one per file) -> the number of each label, and the
    class names in index order (None when the labels are numbers)."""
    numeric = [is_number(label) for label in labels]
    if all(numeric):
        if classes is not None:
            raise RegdnaError(f"--classes orders named labels, but the {option} labels "
                              f"({', '.join(dict.fromkeys(labels))}) are numbers; drop --classes or name the "
                              f"labels (--{option} pos.fa:enhancer).")
        return {label: float(label) for label in labels}, None
    if any(numeric):
        raise RegdnaError(f"the {option} labels mix numbers and names ({', '.join(dict.fromkeys(labels))}); "
                          "use names for every file or numbers for every file.")
    order = class_order(labels, classes, f"--{option}")
    return {label: float(order.index(label)) for label in labels}, order


class LabelColumn:
    """One label column read chunk by chunk (numbers or names, decided by its first chunk)."""

    def __init__(self, source: str, column: str, names_allowed: bool):
        self.source, self.column, self.names_allowed = source, column, names_allowed
        self.kind: str | None = None                 # "numbers" or "names"
        self.names: dict[str, int] = {}              # name -> provisional number (first appearance)
        self.missing_rows: list[str] = []            # first rows holding no label
        self.n_missing = 0

    def values(self, raw: pd.Series, wheres: list[str]) -> np.ndarray:
        """The chunk's labels as float64 (names: provisional numbers; missing: NaN)."""
        raw = pd.Series(raw).reset_index(drop=True)
        if pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
            missing = raw.isna().to_numpy()
            numeric = ~missing
        else:
            missing = np.array([_is_missing(v) for v in raw], dtype=bool)
            numeric = np.array([not m and is_number(v) for v, m in zip(raw, missing)], dtype=bool)
        named = ~missing & ~numeric
        if self.kind is None and (numeric.any() or named.any()):
            self.kind = "names" if self.names_allowed and named.sum() > numeric.sum() else "numbers"
        self._check_mixed(raw, wheres, numeric if self.kind == "names" else named)
        self._note_missing(missing, wheres)
        if self.kind == "names":
            codes = [np.nan if m else self.names.setdefault(str(v).strip(), len(self.names))
                     for v, m in zip(raw, missing)]
            return np.asarray(codes, dtype=np.float64)
        out = np.full(len(raw), np.nan)
        out[numeric] = pd.to_numeric(raw[numeric]).to_numpy(dtype=np.float64)
        return out

    def _check_mixed(self, raw: pd.Series, wheres: list[str], stray: np.ndarray) -> None:
        if not stray.any():
            return
        rows = np.flatnonzero(stray)[:FIRST_ROWS]
        shown = "; ".join(f"{wheres[i]}: '{raw.iloc[i]}'" for i in rows)
        if self.kind == "numbers":
            hint = ("fix or remove those rows (labels of a numeric column must all be numbers; NaN or "
                    "empty = missing)")
            if self.names_allowed:
                hint += ", or write every label as a name (e.g. no / yes)"
            raise RegdnaError(f"{self.source}: label column '{self.column}' holds numbers but also text, "
                              f"first at {shown}; {hint}.")
        raise RegdnaError(f"{self.source}: label column '{self.column}' holds class names but also numbers, "
                          f"first at {shown}; write every label as a name (or every label as a number).")

    def _note_missing(self, missing: np.ndarray, wheres: list[str]) -> None:
        self.n_missing += int(missing.sum())
        room = FIRST_ROWS - len(self.missing_rows)
        if room > 0 and missing.any():
            self.missing_rows += [wheres[i] for i in np.flatnonzero(missing)[:room]]

    def missing_error(self, task: str) -> RegdnaError:
        """The error for missing labels in a classification task (binary / multiclass)."""
        return RegdnaError(f"{self.source}: label column '{self.column}' has {self.n_missing} missing value(s) "
                           f"(empty / NA / NaN), first at {'; '.join(self.missing_rows)}; a {task} task needs a "
                           "label on every row: fill them in or remove those rows.")

    def final_order(self, classes: list[str] | None) -> tuple[list[str] | None, np.ndarray | None]:
        """Class names in index order and a lookup provisional number -> final number (None, None
        for a numeric column)."""
        if self.kind != "names":
            if classes is not None:
                raise RegdnaError(f"--classes orders named labels, but label column '{self.column}' of "
                                  f"{self.source} holds numbers; drop --classes.")
            return None, None
        order = class_order(self.names, classes, f"{self.source} column '{self.column}'")
        lookup = np.empty(len(self.names), dtype=np.float64)
        for name, code in self.names.items():
            lookup[code] = order.index(name)
        return order, lookup
