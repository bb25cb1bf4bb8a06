"""File names made from user data (record ids, motif names, run names)."""
from __future__ import annotations


def safe_filename(text: str, max_length: int | None = None) -> str:
    """`text` with every character other than letters, digits, '-', '_' and '.' replaced by '_'
    (so a record id such as 'chr1:100-200(+)' names a file), cut to `max_length` if given."""
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(text))
    return name[:max_length] if max_length else name
