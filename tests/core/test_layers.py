"""Imports only point down the layers written in docs/ARCHITECTURE.md, and no modules import
each other in a circle. Every import is read with `ast`, function-level ones included."""
import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "regdna"


def layers() -> list[list[str]]:
    """The layer table of docs/ARCHITECTURE.md: lines `N. name, name` between the markers."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    block = text.split("<!-- layers -->")[1]
    return [[name.strip(" `") for name in re.sub(r"^\s*\d+\.\s*", "", line).split("(")[0].split(",")]
            for line in block.strip().splitlines() if re.match(r"^\s*\d+\.", line)]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """module -> the regdna modules it imports (a `from pkg import name` counts as pkg.name when
    that is a module, else pkg)."""
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    edges = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        this = module_name(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                    and node.module.split(".")[0] == "regdna":
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    edges[this].add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                edges[this].update(a.name for a in node.names if a.name.split(".")[0] == "regdna")
    return edges


def layer_of(module: str, table) -> int:
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else "regdna"
    for rank, names in enumerate(table):
        if name in names:
            return rank
    raise AssertionError(f"{module}: package '{name}' is in no layer of docs/ARCHITECTURE.md")


def test_imports_only_point_down():
    table = layers()
    bad = sorted(f"{a} -> {b}" for a, targets in imports().items() for b in targets
                 if layer_of(b, table) > layer_of(a, table))
    assert not bad, "imports pointing up the layers:\n" + "\n".join(bad)


def test_no_import_circles():
    graph = imports()
    seen, stack, cycles = set(), [], []

    def visit(node):
        if node in stack:
            cycles.append(stack[stack.index(node):] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            visit(target)
        stack.pop()

    for node in sorted(graph):
        visit(node)
    # a package's __init__ that re-exports its own modules is not a circle
    cycles = [c for c in cycles if not all(m == c[0].rsplit(".", 1)[0] or m.startswith(c[0]) for m in c)]
    assert not cycles, "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles)
