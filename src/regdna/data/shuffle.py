"""Dinucleotide-preserving shuffles (Altschul & Erickson 1985).

Used for negatives (`prepare`), reference backgrounds (DeepLIFT/SHAP) and global importance
analysis backgrounds. A shuffle keeps the exact count of every dinucleotide and the first and
last base: it draws a random Eulerian path through the multigraph whose edges are the sequence's
dinucleotides.
"""
from __future__ import annotations

import numpy as np


def dinucleotide_shuffle(seq: str, rng: np.random.Generator) -> str:
    """One shuffle of `seq` with exactly the same dinucleotide counts (any alphabet)."""
    if len(seq) <= 2:
        return seq
    # edges[a] = successors of a in the order they will be walked
    edges: dict[str, list[str]] = {}
    for a, b in zip(seq[:-1], seq[1:]):
        edges.setdefault(a, []).append(b)
    last = seq[-1]
    while True:
        # A random arborescence towards `last`: each vertex (but last) picks a random last edge;
        # the walk is Eulerian iff those last edges lead every vertex to `last` (Wilson-style check).
        last_edge = {v: succ[rng.integers(len(succ))] for v, succ in edges.items() if v != last}
        if _reaches(last_edge, last):
            break
    order: dict[str, list[str]] = {}
    for v, succ in edges.items():
        rest = list(succ)
        if v in last_edge:
            rest.remove(last_edge[v])
        rng.shuffle(rest)
        if v in last_edge:
            rest.append(last_edge[v])
        order[v] = rest
    pos = {v: 0 for v in order}
    out = [seq[0]]
    v = seq[0]
    for _ in range(len(seq) - 1):
        nxt = order[v][pos[v]]
        pos[v] += 1
        out.append(nxt)
        v = nxt
    return "".join(out)


def _reaches(last_edge: dict[str, str], root: str) -> bool:
    """True if following `last_edge` from every vertex ends at `root` without a cycle."""
    good = {root}
    for start in last_edge:
        path, v = [], start
        while v not in good:
            if v in path:
                return False
            path.append(v)
            v = last_edge.get(v, root)
        good.update(path)
    return True


def dinucleotide_shuffles(seq: str, n: int, seed: int = 0) -> list[str]:
    """`n` independent dinucleotide shuffles of `seq`, reproducible under `seed`."""
    rng = np.random.default_rng(seed)
    return [dinucleotide_shuffle(seq, rng) for _ in range(n)]
