"""YAML mappings read from files (configs, search spaces): an absent file, invalid YAML or a
document that is not a mapping is one `RegdnaError` naming the file."""
from __future__ import annotations

import os
from pathlib import Path

import yaml

from regdna.errors import RegdnaError


def read_yaml_mapping(path: str | os.PathLike, missing: str, not_mapping: str,
                      fix: str = "correct the file") -> dict:
    """The mapping a YAML file holds (an empty file is {}).

    Parameters
    ----------
    path : the YAML file.
    missing : the error message when the file does not exist.
    not_mapping : the error message when the document is not a mapping (a list, a scalar).
    fix : what to do when the file is not valid YAML (ends that message).

    Returns
    -------
    dict
        the document's top-level mapping.

    Raises
    ------
    RegdnaError
        with `missing`, `not_mapping`, or "<path>: not valid YAML (<first line>); <fix>."
    """
    path = Path(path)
    if not path.is_file():
        raise RegdnaError(missing)
    try:
        loaded = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise RegdnaError(f"{path}: not valid YAML ({str(err).splitlines()[0]}); {fix}.") from None
    if not isinstance(loaded, dict):
        raise RegdnaError(not_mapping)
    return loaded
