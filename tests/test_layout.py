"""The package's layout: every module imports on its own, and no two modules import each other,
directly or through others (imports inside functions count too)."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "search"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The package's modules that `path` imports, wherever in the file."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            target = f"{base}.{node.module}" if node.module else base
            found |= {f"{target}.{alias.name}" for alias in node.names} | {target}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("search")}
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {
        name: {target for target in _imports(path) if target in modules and target != name}
        for name, path in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done, stack = set(), []

    def visit(node: str) -> list[str] | None:
        if node in stack:
            return stack[stack.index(node) :] + [node]
        if node in done:
            return None
        stack.append(node)
        for target in sorted(graph[node]):
            # A package's __init__ re-exporting its modules is not a cycle of theirs.
            if node.startswith(target + "."):
                continue
            found = visit(target)
            if found:
                return found
        stack.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        found = visit(node)
        if found:
            return found
    return None


def test_no_module_imports_itself_through_others():
    assert _cycle(_graph()) is None


def test_the_build_side_does_not_import_the_query_side():
    graph = _graph()
    build = ("search.index", "search.ingest", "search.text")
    query_side = (
        "search.query",
        "search.engine",
        "search.ranking",
        "search.results",
        "search.service",
    )
    assert {
        (module, target)
        for module in graph
        if module.startswith(build)
        for target in graph[module]
        if target.startswith(query_side)
    } == set()


def test_every_module_imports_alone():
    modules = sorted(name for name in _graph() if name != "search.__main__")
    script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)"
    for name in modules:
        result = subprocess.run(
            [sys.executable, "-c", script, name], capture_output=True, text=True
        )
        assert result.returncode == 0, f"{name}: {result.stderr.strip().splitlines()[-1:]}"
