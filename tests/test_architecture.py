"""The shape the rules depend on: the edges reach the core only through ``Regard``'s governed methods.

If the CLI, the API or the dashboard held the store, the guard or an operations
part, it could act without a role check, a policy decision or a ledger entry;
if the core imported an edge, the library would drag the web layer along.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import regard

PACKAGE = Path(regard.__file__).parent
EDGES = ("api", "cli", "dashboard")
WEB = ("fastapi", "starlette", "uvicorn", "typer", "jinja2")
# What governs or stores: an edge holding one of these could bypass the guard.
INTERNALS = {"Store", "Governance", "Guard", "Parts", "IndexCatalog", "ModelRegistry", "FaceEngine", "open_engine"}
INTERNAL_MODULES = ("regard.store", "regard.guard", "regard.index", "regard.operations.parts", "regard.engine")


def _modules(edge: bool) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if (path.relative_to(PACKAGE).parts[0] in EDGES) == edge:
            yield path, ast.parse(path.read_text(), str(path))


def _imports(tree: ast.Module) -> Iterator[tuple[str, list[str]]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def test_the_core_never_imports_an_edge_or_the_web_layer() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}: {module}"
        for path, tree in _modules(edge=False)
        for module, _ in _imports(tree)
        if module.split(".")[0] in WEB or any(module.startswith(f"regard.{e}") for e in EDGES)
    ]
    assert not found


def test_the_edges_hold_no_store_guard_index_or_operations_part() -> None:
    found = []
    for path, tree in _modules(edge=True):
        for module, names in _imports(tree):
            if module.startswith(INTERNAL_MODULES):
                found.append(f"{path.relative_to(PACKAGE)}: imports {module}")
            bad = [n for n in names if n in INTERNALS or n.endswith("Operations")]
            if module.startswith("regard") and bad:
                found.append(f"{path.relative_to(PACKAGE)}: imports {bad} from {module}")
    assert not found


def test_the_edges_never_reach_into_the_service() -> None:
    """No ``regard._parts``, ``svc._faces`` and the like: only public, governed methods."""
    private = {"_parts", "_faces", "_collections", "_admin", "_erasure", "_oversight", "_audits", "_models", "_records"}
    found = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}: .{node.attr}"
        for path, tree in _modules(edge=True)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in private
    ]
    assert not found
