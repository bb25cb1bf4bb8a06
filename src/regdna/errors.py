"""One exception type for every problem the user can fix, and one warning type.

A `RegdnaError` message says what is wrong, where (file, line, record, argument) and what to
do. The CLI prints it without a traceback and exits with status 2. A `RegdnaWarning` (Python's
`warnings.warn(..., RegdnaWarning)`) is something the user should know but that does not stop
the job; the CLI prints it as one `warning: <message>` line on stderr.
"""


class RegdnaError(Exception):
    """A user-facing error: bad input, a missing file, an argument that does not fit."""


class RegdnaWarning(UserWarning):
    """A user-facing warning (printed by the CLI as one `warning:` line)."""


def where(path, line=None, record=None) -> str:
    """Format a location for an error message: 'file.fa, line 12' or 'peaks.bed, record chr1:5-9'."""
    text = str(path)
    if line is not None:
        text += f", line {line}"
    if record is not None:
        text += f", record {record}"
    return text
