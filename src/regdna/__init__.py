"""regdna: deep learning on regulatory DNA.

Stages read and write plain files (see docs/ARCHITECTURE.md):
prepare -> train -> evaluate / predict / vep / ism / attribute / motifs -> report.
"""
__version__ = "0.1.0"

from regdna.errors import RegdnaError  # noqa: E402

__all__ = ["RegdnaError", "__version__"]
