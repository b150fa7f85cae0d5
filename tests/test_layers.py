"""The layer map of ARCHITECTURE.md, checked on every module's imports.

Each module may import only from its own layer or lower ones; the few façade methods that
call upward are listed in ``UPWARD`` with the reason. Lazy imports inside functions count
(they are still dependencies); imports under ``if TYPE_CHECKING:`` do not (they never run).
No module may import itself back through others, and no import may be built from a string.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "confaug"

#: Lowest first. A module belongs to the first layer whose prefix it matches.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundation",
        (
            "confaug._albu",
            "confaug._version",
            "confaug.errors",
            "confaug.opencv_threads",
            "confaug.registry",
            "confaug.resources",
            "confaug.samples",
            "confaug.seeding",
        ),
    ),
    ("reading", ("confaug.reading",)),
    ("spec", ("confaug.spec",)),
    ("idg", ("confaug.idg",)),
    ("compile", ("confaug.compiler",)),
    ("api", ("confaug.api",)),
    ("sources", ("confaug.sources",)),
    ("batching", ("confaug.batching",)),
    ("adapters", ("confaug.integrations", "confaug.keras")),
    ("package", ("confaug",)),  # confaug/__init__: the public names users import
    ("cli", ("confaug.cli", "confaug.__main__")),  # commands over those same public names
)

#: (importer, imported package): the named exceptions, each a façade method's lazy import.
UPWARD: dict[tuple[str, str], str] = {
    ("confaug.compiler.pipeline", "confaug.batching"): (
        "Pipeline.flow*/wrap: the pipeline is what users hold, so it offers the generators"
    ),
    ("confaug.batching.generator", "confaug.integrations"): (
        "BatchGenerator.as_keras/as_torch/as_tf: adapters reached from the generator; "
        "BatchGenerator.__new__: a keras.utils.PyDataset too when Keras is loaded"
    ),
}

#: Modules allowed to call importlib.import_module, and why.
STRING_IMPORTS: dict[str, str] = {
    "confaug.cli.common": "--import MODULE imports the user's own module by the name given",
}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    lazy: bool


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """The confaug modules ``name`` imports, with ``from pkg import submodule`` resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[Import] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub, lazy)
                continue
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "confaug":
                        found.append(Import(name, alias.name, child.lineno, lazy))
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(name, path.name == "__init__.py", child)
                if target.split(".")[0] != "confaug":
                    continue
                for alias in child.names:
                    sub = f"{target}.{alias.name}"
                    found.append(
                        Import(name, sub if sub in modules else target, child.lineno, lazy)
                    )
            visit(child, inner)

    visit(tree, False)
    return found


def layer_of(module: str) -> int:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and ARCHITECTURE.md")


def _allowed_upward(edge: Import) -> bool:
    return any(
        edge.importer == importer
        and (edge.imported == package or edge.imported.startswith(package + "."))
        for importer, package in UPWARD
    )


@pytest.fixture(scope="module")
def graph() -> dict[str, list[Import]]:
    modules = all_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def test_every_module_has_a_layer(graph: dict[str, list[Import]]) -> None:
    for module in graph:
        layer_of(module)


def test_no_import_goes_up_a_layer(graph: dict[str, list[Import]]) -> None:
    wrong: set[str] = set()
    for edges in graph.values():
        for edge in edges:
            low, high = layer_of(edge.importer), layer_of(edge.imported)
            if high > low and not _allowed_upward(edge):
                wrong.add(
                    f"{edge.importer}:{edge.line} ({LAYERS[low][0]}) imports "
                    f"{edge.imported} ({LAYERS[high][0]})"
                )
    assert not wrong, "imports against the layer order:\n" + "\n".join(sorted(wrong))


def test_upward_exceptions_are_lazy_and_still_needed(graph: dict[str, list[Import]]) -> None:
    for (importer, package), why in UPWARD.items():
        edges = [
            e
            for e in graph[importer]
            if e.imported == package or e.imported.startswith(package + ".")
        ]
        assert edges, f"{importer} no longer imports {package}: drop it from UPWARD ({why})"
        eager = [e.line for e in edges if not e.lazy]
        assert not eager, f"{importer}:{eager} imports {package} at module level ({why})"


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, or None (iterative DFS, colours white/grey/black)."""
    state: dict[str, int] = {}
    for root in graph:
        if state.get(root):
            continue
        stack: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        path = [root]
        state[root] = 1
        while stack:
            node, todo = stack[-1]
            if not todo:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            nxt = todo.pop()
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if not state.get(nxt) and nxt in graph:
                state[nxt] = 1
                stack.append((nxt, sorted(graph[nxt])))
                path.append(nxt)
    return None


def test_no_import_cycles(graph: dict[str, list[Import]]) -> None:
    edges = {
        name: {e.imported for e in found if e.imported != name and not _allowed_upward(e)}
        for name, found in graph.items()
    }
    # A package's __init__ re-exporting its own modules is not a cycle of the design.
    for name in edges:
        edges[name] = {
            t for t in edges[name] if not (t.startswith(name + ".") or name == "confaug")
        }
    cycle = _cycle(edges)
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_built_from_a_string() -> None:
    found = []
    for name, path in all_modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lazy_getattr = {
            id(n)
            for f in tree.body
            if isinstance(f, ast.FunctionDef) and f.name == "__getattr__"
            for n in ast.walk(f)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or id(node) in lazy_getattr:
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and name not in STRING_IMPORTS:
                found.append(f"{name}:{node.lineno}")
    assert not found, "imports built from strings (use a plain import):\n" + "\n".join(found)


def test_the_checker_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "if TYPE_CHECKING:\n"
        "    from confaug.cli import common\n"
        "def f():\n"
        "    from confaug.batching import generator\n"
    )
    path = PACKAGE / "compiler" / "example.py"
    (tmp_path / "example.py").write_text(source)
    modules = {"confaug.compiler.sibling": path, "confaug.batching.generator": path}
    found = imports_of("confaug.compiler.example", tmp_path / "example.py", modules)
    assert [(i.imported, i.lazy) for i in found] == [
        ("confaug.compiler.sibling", False),
        ("confaug.batching.generator", True),
    ]
