"""JASPAR motifs through pyjaspar (offline: the SQLite releases ship inside the package).

Names are matched case-insensitively; a name gives the latest version of its matrix, searched
first in the requested collection and taxonomic group (vertebrate CORE by default) and then in
the rest of the release. An unknown name raises a RegdnaError that lists the closest names.

Matrices are read in bulk from pyjaspar's SQLite connection (`jaspardb(release=...).conn`):
the whole vertebrate CORE collection loads in a fraction of a second instead of the seconds
that pyjaspar's one-motif-at-a-time `fetch_motifs` takes, and results are cached per release.

>>> gata1 = load_motif("gata1")
>>> gata1.matrix_id, gata1.counts.shape, gata1.consensus
('MA0035.5', (7, 4), ...)
"""
from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field

import numpy as np

from regdna.errors import RegdnaError

ALPHABET = "ACGT"
DEFAULT_COLLECTION = "CORE"
DEFAULT_TAX_GROUP = "vertebrates"
_MATRIX_ID = re.compile(r"^(?P<base>[A-Z]{2}\d{4,})(?:\.(?P<version>\d+))?$", re.IGNORECASE)


def position_information(ppm: np.ndarray) -> np.ndarray:
    """(W,) information content in bits of each row of a (W, 4) probability (or count) matrix:
    2 - entropy (uniform background); 2 for a one-hot row, 0 for a uniform one."""
    ppm = np.asarray(ppm, dtype=np.float64)
    ppm = ppm / ppm.sum(1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(ppm > 0, ppm * np.log2(ppm), 0.0).sum(1)
    return 2.0 - entropy


@dataclass(frozen=True, eq=False)
class Motif:
    """One JASPAR position frequency matrix.

    Attributes:
        name: the factor name as JASPAR spells it (e.g. "TAL1::TCF3").
        matrix_id: versioned matrix ID (e.g. "MA0091.2").
        counts: (W, 4) float array of site counts, columns A, C, G, T.
        collection, tax_group: where the matrix lives in JASPAR ("" when unknown).
    """

    name: str
    matrix_id: str
    counts: np.ndarray
    collection: str = ""
    tax_group: str = ""
    release: str = field(default="", repr=False)

    @property
    def width(self) -> int:
        return int(self.counts.shape[0])

    @property
    def ppm(self) -> np.ndarray:
        """(W, 4) position probability matrix: each row of counts divided by its sum."""
        counts = np.asarray(self.counts, dtype=np.float64)
        return counts / counts.sum(axis=1, keepdims=True)

    @property
    def consensus(self) -> str:
        """The most probable base at every position (ties go to the first of A, C, G, T)."""
        return "".join(ALPHABET[i] for i in self.ppm.argmax(axis=1))

    @property
    def information(self) -> np.ndarray:
        """(W,) information content in bits per position (`position_information`)."""
        return position_information(self.ppm)

    def log_odds(self, pseudocount: float = 0.1, background=(0.25, 0.25, 0.25, 0.25)) -> np.ndarray:
        """(W, 4) log2-odds weights: log2((p + pseudo) / background), p from counts + pseudocount."""
        counts = np.asarray(self.counts, dtype=np.float64) + pseudocount
        probs = counts / counts.sum(axis=1, keepdims=True)
        return np.log2(probs / np.asarray(background, dtype=np.float64))

    def reverse_complement(self) -> "Motif":
        """The same matrix read on the other strand (rows reversed, A<->T and C<->G swapped)."""
        return Motif(self.name, self.matrix_id, np.ascontiguousarray(self.counts[::-1, ::-1]),
                     self.collection, self.tax_group, self.release)


def sample_from_ppm(ppm: np.ndarray, rng: np.random.Generator) -> str:
    """Draw one site from a (W, 4) probability matrix (columns A, C, G, T), base by base."""
    ppm = np.asarray(ppm, dtype=np.float64)
    if ppm.ndim != 2 or ppm.shape[1] != 4:
        raise RegdnaError(f"sample_from_ppm needs a (W, 4) matrix, got shape {ppm.shape}.")
    cumulative = np.cumsum(ppm / ppm.sum(axis=1, keepdims=True), axis=1)
    draws = rng.random(ppm.shape[0])[:, None]
    idx = np.minimum((draws > cumulative).sum(axis=1), 3)
    return "".join(ALPHABET[i] for i in idx)


# --- database access ------------------------------------------------------------------------

def available_releases() -> list[str]:
    """JASPAR releases bundled with pyjaspar, newest first."""
    import pyjaspar

    return sorted(pyjaspar.jaspar_releases, reverse=True)


def default_release() -> str:
    import pyjaspar

    return pyjaspar.JASPAR_LATEST_RELEASE


def _check_release(release: str | None) -> str:
    release = release or default_release()
    releases = available_releases()
    if release not in releases:
        close = difflib.get_close_matches(str(release).upper(), releases, n=3, cutoff=0.3)
        raise RegdnaError(f"JASPAR release '{release}' is not bundled with pyjaspar"
                          f"{' (did you mean ' + ', '.join(close) + '?)' if close else ''}; "
                          f"available: {', '.join(releases)}.")
    return release


@functools.lru_cache(maxsize=4)
def _table(release: str):
    """All matrices of one release as plain tuples, read once with a few SQL queries.

    Returns (rows, counts): rows = list of (internal id, collection, base id, version, name,
    tax_group); counts = {internal id: (W, 4) array}.
    """
    from pyjaspar import jaspardb

    conn = jaspardb(release=release).conn
    cur = conn.cursor()
    cur.execute("SELECT m.ID, m.COLLECTION, m.BASE_ID, m.VERSION, m.NAME, "
                "COALESCE(a.VAL, '') FROM MATRIX m LEFT JOIN MATRIX_ANNOTATION a "
                "ON a.ID = m.ID AND a.TAG = 'tax_group'")
    rows = [(int(i), c or "", b, int(v), n, t) for i, c, b, v, n, t in cur.fetchall()]
    cur.execute("SELECT ID, row, col, val FROM MATRIX_DATA")
    cells: dict[int, dict] = {}
    for int_id, base, col, val in cur.fetchall():
        cells.setdefault(int(int_id), {})[(base.upper(), int(col))] = float(val)
    counts = {}
    for int_id, cell in cells.items():
        width = max(col for _, col in cell)
        first = min(col for _, col in cell)
        mat = np.zeros((width - first + 1, 4))
        for (base, col), val in cell.items():
            if base in ALPHABET:
                mat[col - first, ALPHABET.index(base)] = val
        mat.setflags(write=False)
        counts[int_id] = mat
    conn.close()
    return rows, counts


def _motif(release: str, row, counts) -> Motif:
    int_id, collection, base_id, version, name, tax_group = row
    return Motif(name=name, matrix_id=f"{base_id}.{version}", counts=counts[int_id],
                 collection=collection, tax_group=tax_group, release=release)


def _latest_per_base(rows):
    """Keep the highest version of every base ID."""
    best: dict[str, tuple] = {}
    for row in rows:
        if row[2] not in best or row[3] > best[row[2]][3]:
            best[row[2]] = row
    return sorted(best.values(), key=lambda r: r[2])


def _select(rows, collection: str | None, tax_group: str | None):
    return [r for r in rows
            if (collection is None or r[1].upper() == collection.upper())
            and (tax_group is None or r[5].lower() == tax_group.lower())]


def load_collection(release: str | None = None, collection: str | None = DEFAULT_COLLECTION,
                    tax_group: str | None = DEFAULT_TAX_GROUP) -> list[Motif]:
    """The latest version of every matrix in a collection and taxonomic group, by matrix ID.

    Args:
        release: JASPAR release name ("JASPAR2026", ...); None = the newest bundled one.
        collection: "CORE" (default), "UNVALIDATED", or None for all.
        tax_group: "vertebrates" (default), "insects", "plants", ... or None for all.
    """
    release = _check_release(release)
    rows, counts = _table(release)
    chosen = _latest_per_base(_select(rows, collection, tax_group))
    if not chosen:
        groups = sorted({r[5] for r in rows if r[5]})
        raise RegdnaError(f"JASPAR {release} has no matrices in collection '{collection}' and "
                          f"tax group '{tax_group}'; tax groups: {', '.join(groups)}.")
    return [_motif(release, r, counts) for r in chosen]


def load_motif(name_or_id: str, release: str | None = None, *,
               collection: str | None = DEFAULT_COLLECTION,
               tax_group: str | None = DEFAULT_TAX_GROUP) -> Motif:
    """One JASPAR matrix by ID ("MA0035", "MA0035.5") or factor name ("GATA1", "tal1::tcf3").

    A base ID without version gives its latest version. A name gives the latest version of the
    matching matrix, preferring `collection` and `tax_group` (vertebrate CORE) and falling
    back to the rest of the release; when several base IDs share the name (CTCF: MA0139,
    MA1929, MA1930), the oldest base ID, the factor's canonical profile, wins.

    Raises:
        RegdnaError: unknown ID or name, listing the closest names in the release.
    """
    release = _check_release(release)
    rows, counts = _table(release)
    query = str(name_or_id).strip()
    match = _MATRIX_ID.match(query)
    if match:
        base = match["base"].upper()
        hits = [r for r in rows if r[2].upper() == base]
        if match["version"] is not None:
            hits = [r for r in hits if r[3] == int(match["version"])]
        if hits:
            return _motif(release, max(hits, key=lambda r: r[3]), counts)
        versions = sorted(f"{r[2]}.{r[3]}" for r in rows if r[2].upper() == base)
        hint = (f"versions in {release}: {', '.join(versions)}" if versions
                else "check the ID at https://jaspar.elixir.no")
        raise RegdnaError(f"JASPAR matrix '{query}' is not in {release}; {hint}.")

    named = [r for r in rows if r[4].lower() == query.lower()]
    for scope in (_select(named, collection, tax_group), _select(named, collection, None), named):
        if scope:
            return _motif(release, _latest_per_base(scope)[0], counts)
    names = sorted({r[4] for r in _select(rows, collection, tax_group)} or {r[4] for r in rows})
    by_lower: dict[str, str] = {}
    for n in names:  # one spelling per name, the human (upper-case) one when both exist
        if n.lower() not in by_lower or n.isupper():
            by_lower[n.lower()] = n
    close = [by_lower[n] for n in difflib.get_close_matches(query.lower(), list(by_lower), n=5,
                                                            cutoff=0.5)]
    hint = f"closest names: {', '.join(close)}" if close else "no similar names"
    raise RegdnaError(f"no JASPAR motif named '{query}' in {release} ({hint}). "
                      "Pass a factor name as JASPAR spells it or a matrix ID such as MA0035.")
