"""docs/API.md is runnable: its ```python blocks run in order, in one namespace, in an empty
directory (the examples assert on their own results); and `import regdna` stays light."""
import re
import subprocess
import sys
from pathlib import Path

import regdna

API_MD = Path(__file__).resolve().parents[2] / "docs" / "API.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(text: str) -> list[str]:
    """The ```python blocks of a Markdown text, in order."""
    return BLOCK.findall(text)


def test_import_regdna_does_not_import_torch():
    code = "import regdna, sys; assert 'torch' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_names_resolve_and_are_documented():
    assert set(dir(regdna)) >= set(regdna.__all__)
    text = API_MD.read_text()
    for name in regdna.__all__:
        value = getattr(regdna, name)
        if callable(value):
            assert value.__doc__, f"regdna.{name} has no docstring"
            assert name in text, f"regdna.{name} is not in docs/API.md"
    try:
        regdna.no_such_name
    except AttributeError:
        pass
    else:
        raise AssertionError("regdna.no_such_name resolved")


def test_api_examples_run(tmp_path, monkeypatch):
    blocks = python_blocks(API_MD.read_text())
    assert len(blocks) >= 11
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__api_md__"}
    for i, code in enumerate(blocks):
        heading = code.strip().splitlines()[0]
        exec(compile(code, f"{API_MD}:block{i + 1} ({heading})", "exec"), namespace)  # noqa: S102
