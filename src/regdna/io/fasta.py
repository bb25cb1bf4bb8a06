"""Streaming FASTA reader with errors that name the file, the line and the record.

Reads plain or gzip FASTA one record at a time (memory flat in file size). Every record is
checked: a sequence line before the first header, a header with no sequence, or a character
outside the DNA alphabet (A, C, G, T, N and the IUPAC ambiguity codes, either case) raises
`RegdnaError` naming the file, line and record and what to do.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from regdna.errors import RegdnaError, where
from regdna.io.textfile import open_text
from regdna.utils.atomic import atomic_file

IUPAC = "ACGTNRYKMSWBDHV"
DNA_LETTERS = frozenset(IUPAC + IUPAC.lower())
# `chr1:100-200`, optionally followed by a strand `(+)` or `:+`
_REGION = re.compile(r"^(?P<chrom>[^:\s]+):(?P<start>\d[\d,]*)-(?P<end>\d[\d,]*)(?:\([+-.]\)|:[+-.])?$")


@dataclass
class FastaRecord:
    """One FASTA record: `name` is the first word of the header, `line` the header's line number."""

    name: str
    description: str
    sequence: str
    line: int


def _bad_character(path, line_no, name, seq_line: str) -> RegdnaError:
    bad = sorted({c for c in seq_line if c not in DNA_LETTERS})
    shown = ", ".join(repr(c) for c in bad[:5])
    return RegdnaError(
        f"{where(path, line_no, name)}: character(s) {shown} are not DNA (allowed: A, C, G, T, N and "
        f"IUPAC codes {IUPAC[5:]}, any case). Fix or remove this record.")


def read_fasta(path: str | Path) -> Iterator[FastaRecord]:
    """Yield the records of a FASTA file one at a time.

    Sequence lines are joined; whitespace inside lines is ignored. Case is kept (soft-masked
    bases stay lower case; `prepare` upper-cases them).

    Raises:
        RegdnaError: no header before the first sequence line, a record with an empty
            sequence, or a non-DNA character; the message names file, line and record.
    """
    path = Path(path)
    name = description = None
    header_line = 0
    chunks: list[str] = []
    n_records = 0
    with open_text(path) as handle:
        for line_no, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line:
                continue
            if line.startswith(">"):
                if name is not None:
                    yield _finish(path, name, description, chunks, header_line)
                    n_records += 1
                description = line[1:].strip()
                name = description.split()[0] if description else ""
                if not name:
                    raise RegdnaError(f"{where(path, line_no)}: header '>' has no name; give every "
                                      "record a name (e.g. '>chr1:100-1100').")
                header_line = line_no
                chunks = []
                continue
            if line.startswith(";"):  # old-style FASTA comment
                continue
            if name is None:
                raise RegdnaError(f"{where(path, line_no)}: sequence before the first header line; "
                                  "a FASTA file must start with a '>name' line. Is this really FASTA?")
            seq_line = "".join(line.split())
            if not DNA_LETTERS.issuperset(seq_line):
                raise _bad_character(path, line_no, name, seq_line)
            chunks.append(seq_line)
    if name is not None:
        yield _finish(path, name, description, chunks, header_line)
        n_records += 1
    if n_records == 0:
        raise RegdnaError(f"{path} holds no FASTA records (no '>' header line); check the file.")


def _finish(path, name, description, chunks, header_line) -> FastaRecord:
    seq = "".join(chunks)
    if not seq:
        raise RegdnaError(f"{where(path, header_line, name)}: empty record (a header with no "
                          "sequence). Remove the record or add its sequence.")
    return FastaRecord(name=name, description=description, sequence=seq, line=header_line)


def parse_region(name: str) -> tuple[str, int, int] | None:
    """Coordinates from a record name `chrom:start-end` (0-based half-open), or None.

    >>> parse_region("chr8:1000-1200")
    ('chr8', 1000, 1200)
    """
    match = _REGION.match(name)
    if match is None:
        return None
    start = int(match["start"].replace(",", ""))
    end = int(match["end"].replace(",", ""))
    return match["chrom"], start, end


def write_fasta(path: str | Path, records, width: int | None = 80, index: bool = False) -> Path:
    """Write FASTA records (atomically), optionally with a samtools-style `.fai` index beside it.

    Parameters
    ----------
    path : the FASTA file to write.
    records : iterable of (name, sequence) pairs; sequences are written as given (str).
    width : bases per line; None writes each sequence on one line.
    index : also write `path.fai` (name, length, offset, bases per line, bytes per line),
        which pyfaidx and samtools read as they are; needs a fixed `width`.

    Returns
    -------
    The FASTA path.
    """
    if index and not width:
        raise ValueError("a .fai index needs a fixed line width")
    path = Path(path)
    fai_lines, offset = [], 0
    with atomic_file(path) as handle:
        for name, seq in records:
            header = f">{name}\n"
            step = width or max(1, len(seq))
            body = "".join(seq[i:i + step] + "\n" for i in range(0, len(seq), step))
            handle.write(header + body)
            offset += len(header)
            fai_lines.append(f"{name}\t{len(seq)}\t{offset}\t{width}\t{(width or 0) + 1}\n")
            offset += len(body)
    if index:
        with atomic_file(path.with_name(path.name + ".fai")) as handle:
            handle.write("".join(fai_lines))
    return path
