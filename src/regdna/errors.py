"""One exception type for every problem the user can fix.

A `RegdnaError` message says what is wrong, where (file, line, record, argument) and what to
do. The CLI prints it without a traceback and exits with status 2.
"""


class RegdnaError(Exception):
    """A user-facing error: bad input, a missing file, an argument that does not fit."""


def where(path, line=None, record=None) -> str:
    """Format a location for an error message: 'file.fa, line 12' or 'peaks.bed, record chr1:5-9'."""
    text = str(path)
    if line is not None:
        text += f", line {line}"
    if record is not None:
        text += f", record {record}"
    return text
