"""Option declarations shared by every verb: one name, one flag and one help text per idea."""
from __future__ import annotations

import typer

OVERWRITE = typer.Option(False, "--overwrite", help="Replace --out even when it holds something that is not "
                         "an earlier output of this verb (an --out holding an input is always refused).")
