"""Read variants from a VCF or a table, in chunks, as one row per (site, alternative allele);
write a VCF (`write_vcf`).

Two inputs are accepted:

- **VCF** (`.vcf`, `.vcf.gz`, plain or bgzip): a careful streaming parser (no whole-file load).
  The header is required (`##fileformat=VCF...` and the `#CHROM` line); multi-allelic records are
  split into one row per ALT; symbolic or breakend alleles (`<DEL>`, `*`, `N[chr2:5[`) and records
  without an ALT are kept as rows with a `reason` so the caller can list them as skipped.
  A streaming parser is used rather than cyvcf2 so that every problem can name its line.
- **Tables** (`.tsv`, `.txt`, `.csv`, `.parquet`): either `chrom`, `pos` (1-based), `ref`, `alt`
  columns (common spellings such as `#CHROM`, `POS`, `position` are recognised), or explicit
  `ref_seq` / `alt_seq` sequences (MPRA libraries, scored with no genome). Other columns are
  carried through to the output (e.g. `kind`, `expected`, a measured effect).

Every chunk is a pandas DataFrame with at least `id`, `chrom`, `pos`, `ref`, `alt`, `line`
(1-based line or row number in the input) and `reason` ("" when the row is usable).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import pandas as pd

from regdna.errors import RegdnaError
from regdna.io.textfile import open_text, reading
from regdna.utils.atomic import atomic_file

VCF_SUFFIXES = (".vcf", ".vcf.gz", ".vcf.bgz")
_ALIASES = {
    "chrom": ("chrom", "#chrom", "chr", "chromosome", "contig", "seqnames"),
    "pos": ("pos", "position", "pos1", "bp", "start1"),
    "ref": ("ref", "reference", "ref_allele", "allele_ref"),
    "alt": ("alt", "alternative", "alt_allele", "allele_alt"),
    "id": ("id", "variant_id", "rsid", "name", "snp"),
    "ref_seq": ("ref_seq", "ref_sequence", "sequence_ref", "seq_ref"),
    "alt_seq": ("alt_seq", "alt_sequence", "sequence_alt", "seq_alt"),
}
_BASES = re.compile(r"^[ACGTNacgtn]+$")


def is_vcf(path: str | Path) -> bool:
    name = str(path).lower()
    return name.endswith(VCF_SUFFIXES)


def allele_problem(ref: str, alt: str) -> str:
    """Why a (ref, alt) pair cannot be scored from a genome, or "" when it can."""
    if alt in (".", ""):
        return "no alternative allele (ALT is '.')"
    if alt == "*":
        return "ALT '*' (overlapping deletion) is not a sequence"
    if alt.startswith("<") or "[" in alt or "]" in alt:
        return f"symbolic allele {alt} has no sequence; give the explicit bases"
    if not _BASES.match(ref):
        return f"REF '{ref}' is not a DNA sequence (A, C, G, T, N)"
    if not _BASES.match(alt):
        return f"ALT '{alt}' is not a DNA sequence (A, C, G, T, N)"
    if ref.upper() == alt.upper():
        return "ALT equals REF (no change)"
    return ""


def iter_vcf(path: str | Path, chunk_size: int = 4096) -> Iterator[pd.DataFrame]:
    """Stream a VCF as DataFrames of at most `chunk_size` rows (one row per ALT allele).

    Columns: id, chrom, pos (1-based), ref, alt, line, reason.
    """
    path = Path(path)
    if not path.is_file():
        raise RegdnaError(f"variant file {path} does not exist.")
    rows: list[tuple] = []
    seen_fileformat = seen_header = False
    with open_text(path) as handle:
        for lineno, line in enumerate(handle, start=1):
            if line.startswith("##"):
                if lineno == 1 and line.startswith("##fileformat=VCF"):
                    seen_fileformat = True
                continue
            if line.startswith("#CHROM") or line.startswith("#chrom"):
                if not seen_fileformat:
                    raise RegdnaError(f"{path}, line {lineno}: VCF header lacks the first line "
                                      "'##fileformat=VCFv4.2'. Add it (bcftools/htslib need it too).")
                seen_header = True
                continue
            if not line.strip():
                continue
            if not seen_header:
                raise RegdnaError(
                    f"{path}, line {lineno}: no VCF header before the first record (a VCF starts with "
                    "'##fileformat=VCFv4.2' and has a '#CHROM POS ID REF ALT ...' line). Add the header, "
                    "or give a .tsv table with chrom, pos, ref, alt columns instead.")
            fields = line.rstrip("\n\r").split("\t")
            if len(fields) < 5:
                raise RegdnaError(f"{path}, line {lineno}: {len(fields)} tab-separated fields, a VCF "
                                  "record needs at least 5 (CHROM POS ID REF ALT). Is it space-separated?")
            chrom, pos_text, vid, ref, alts = fields[:5]
            try:
                pos = int(pos_text)
            except ValueError:
                raise RegdnaError(f"{path}, line {lineno}: POS '{pos_text}' is not an integer.") from None
            for index, alt in enumerate(alts.split(",")):
                name = vid if vid not in (".", "") else f"{chrom}:{pos}:{ref}>{alt}"
                if vid not in (".", "") and "," in alts:
                    name = f"{vid}_{index + 1}"  # split multi-allelic record: unique ids
                rows.append((name, chrom, pos, ref, alt, lineno, allele_problem(ref, alt)))
                if len(rows) >= chunk_size:
                    yield _vcf_frame(rows)
                    rows = []
    if not seen_header:
        raise RegdnaError(f"{path}: no VCF header ('#CHROM POS ID REF ALT ...' line) found. "
                          "Give a valid VCF or a .tsv table with chrom, pos, ref, alt columns.")
    if rows:
        yield _vcf_frame(rows)


def _vcf_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["id", "chrom", "pos", "ref", "alt", "line", "reason"])


def _standard_columns(columns: list[str], path: Path) -> dict[str, str]:
    """Map each standard name (chrom, pos, ...) to the table's own column name."""
    lower = {c.lower().strip(): c for c in columns}
    found = {}
    for std, names in _ALIASES.items():
        for name in names:
            if name in lower:
                found[std] = lower[name]
                break
    has_genome = all(k in found for k in ("chrom", "pos", "ref", "alt"))
    has_seqs = "ref_seq" in found and "alt_seq" in found
    if not has_genome and not has_seqs:
        missing = [k for k in ("chrom", "pos", "ref", "alt") if k not in found]
        raise RegdnaError(
            f"{path}: table has no allele columns (missing {', '.join(missing)}; it has "
            f"{', '.join(columns[:12])}). Give chrom, pos (1-based), ref and alt columns, or "
            "ref_seq and alt_seq columns with explicit sequences.")
    return found


def iter_table(path: str | Path, chunk_size: int = 4096) -> Iterator[pd.DataFrame]:
    """Stream a TSV/CSV/Parquet variant table in chunks with standardised column names.

    Genome mode yields id, chrom, pos, ref, alt, line, reason (+ the other columns);
    sequence mode yields id, ref_seq, alt_seq, line, reason (+ others).
    """
    path = Path(path)
    with reading(path):
        if not path.is_file():
            raise RegdnaError(f"variant file {path} does not exist.")
        name = path.name.lower()
        if name.endswith(".parquet"):
            import pyarrow.parquet as pq

            handle = pq.ParquetFile(path)
            columns = handle.schema_arrow.names
            chunks = (b.to_pandas() for b in handle.iter_batches(batch_size=chunk_size))
        else:
            sep = "," if name.endswith((".csv", ".csv.gz")) else "\t"
            columns = list(pd.read_csv(path, sep=sep, nrows=0).columns)
            chunks = pd.read_csv(path, sep=sep, chunksize=chunk_size, dtype=str, keep_default_na=False)
        found = _standard_columns(columns, path)
        seq_mode = "ref_seq" in found and "alt_seq" in found and not all(
            k in found for k in ("chrom", "pos", "ref", "alt"))
        offset = 0
        for chunk in chunks:
            yield _standardise(chunk, found, seq_mode, offset, path)
            offset += len(chunk)


def _standardise(chunk: pd.DataFrame, found: dict, seq_mode: bool, offset: int,
                 path: Path) -> pd.DataFrame:
    chunk = chunk.rename(columns={v: k for k, v in found.items()}).reset_index(drop=True)
    # header is line 1 for text tables, so data row i sits on line i + 2
    chunk["line"] = range(offset + 2, offset + 2 + len(chunk))
    if seq_mode:
        chunk["ref_seq"] = chunk["ref_seq"].astype(str)
        chunk["alt_seq"] = chunk["alt_seq"].astype(str)
        if "id" not in chunk:
            chunk["id"] = [f"row{i - 1}" for i in chunk["line"]]
        bad = ~chunk["ref_seq"].str.match(_BASES) | ~chunk["alt_seq"].str.match(_BASES)
        chunk["reason"] = ["ref_seq/alt_seq is not a DNA sequence" if b else "" for b in bad]
        return chunk
    chunk["chrom"] = chunk["chrom"].astype(str)
    chunk["ref"] = chunk["ref"].astype(str).str.strip()
    chunk["alt"] = chunk["alt"].astype(str).str.strip()
    pos = pd.to_numeric(chunk["pos"], errors="coerce")
    bad_pos = pos.isna()
    if bad_pos.any():
        first = int(chunk.loc[bad_pos, "line"].iloc[0])
        raise RegdnaError(f"{path}, line {first}: pos '{chunk.loc[bad_pos, 'pos'].iloc[0]}' is not "
                          "an integer (1-based position).")
    chunk["pos"] = pos.astype("int64")
    if "id" not in chunk:
        chunk["id"] = [f"{c}:{p}:{r}>{a}" for c, p, r, a in
                       zip(chunk["chrom"], chunk["pos"], chunk["ref"], chunk["alt"])]
    chunk["id"] = chunk["id"].astype(str)
    chunk["reason"] = [allele_problem(r, a) for r, a in zip(chunk["ref"], chunk["alt"])]
    return chunk


def iter_variants(path: str | Path, chunk_size: int = 4096) -> Iterator[pd.DataFrame]:
    """Chunks of variants from a VCF or a table, chosen by file name."""
    if is_vcf(path):
        return iter_vcf(path, chunk_size)
    return iter_table(path, chunk_size)


def write_vcf(path: str | Path, records: Iterable[dict], contigs: dict[str, int],
              info: Sequence[tuple[str, str, str, str]] = (), meta: dict[str, str] | None = None) -> Path:
    """Write a VCF 4.2 without samples (atomically).

    Parameters
    ----------
    path : the file to write.
    records : dicts with `chrom`, `pos` (1-based), `id`, `ref`, `alt` and optionally `info`
        ({key: value}, in column order; a None or empty value is left out).
    contigs : {name: length in bp} for the `##contig` lines.
    info : (ID, Number, Type, Description) of each INFO field, for the `##INFO` lines.
    meta : further `##key=value` lines after `##fileformat` (e.g. source, reference).

    Returns
    -------
    The path.
    """
    header = ["##fileformat=VCFv4.2", *(f"##{k}={v}" for k, v in (meta or {}).items()),
              *(f"##contig=<ID={name},length={n}>" for name, n in contigs.items()),
              *(f'##INFO=<ID={key},Number={number},Type={kind},Description="{text}">'
                for key, number, kind, text in info),
              "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    with atomic_file(path) as handle:
        handle.write("\n".join(header) + "\n")
        for rec in records:
            fields = ";".join(f"{k}={v}" for k, v in (rec.get("info") or {}).items() if v not in (None, ""))
            handle.write(f"{rec['chrom']}\t{rec['pos']}\t{rec['id']}\t{rec['ref']}\t{rec['alt']}"
                         f"\t.\tPASS\t{fields or '.'}\n")
    return Path(path)
