"""regdna: deep learning on regulatory DNA.

Stages read and write plain files (see docs/ARCHITECTURE.md):
prepare -> train -> evaluate / predict / vep / ism / attribute / motifs -> report.
"""
from regdna._version import __version__
from regdna.errors import RegdnaError

__all__ = ["RegdnaError", "__version__"]
