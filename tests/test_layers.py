"""The layers point one way (docs/architecture.md, "Layers"), read from the code's own imports.

Every `import` in chatapp/ counts, at module level or inside a function: an import moved into a
function to dodge a cycle is still the cycle.
"""
from __future__ import annotations

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "chatapp")


def _module_name(path: str) -> str:
    relative = os.path.relpath(path, ROOT)[: -len(".py")].replace(os.sep, ".")
    return relative[: -len(".__init__")] if relative.endswith(".__init__") else relative


def _modules() -> dict[str, str]:
    found = {}
    for folder, _dirs, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                found[_module_name(path)] = path
    return found


MODULES = _modules()


def _resolve(importer: str, node: ast.ImportFrom | ast.Import) -> set[str]:
    """The chatapp modules an import statement names (a package counts as its __init__)."""
    names: set[str] = set()
    if isinstance(node, ast.Import):
        candidates = [alias.name for alias in node.names]
    else:
        if node.level:
            base = importer.split(".")
            is_package = MODULES[importer].endswith("__init__.py")
            base = base[: len(base) - node.level + (1 if is_package else 0)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        candidates = [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]
    for candidate in candidates:
        if candidate in MODULES:
            names.add(candidate)
    return names


def _imports() -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), path)
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets |= _resolve(module, node)
        graph[module] = targets - {module}
    return graph


GRAPH = _imports()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _importers_of(prefix: str) -> set[str]:
    return {
        module for module, targets in GRAPH.items() if any(t == prefix or t.startswith(prefix + ".") for t in targets)
    }


def _in(module: str, *prefixes: str) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


# A package's __init__ imports its own modules to register them; that is not a cycle of the code's
# meaning but it would make one SCC of every package whose modules import a sibling through it.
def test_no_import_cycle_anywhere_in_chatapp():
    assert _cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_nothing_but_create_app_imports_a_socket_handler():
    outside = {module for module in _importers_of("chatapp.sockets") if not _in(module, "chatapp.sockets")}
    assert outside == {"chatapp"}


@pytest.mark.parametrize("lower", ["chatapp.models", "chatapp.extensions", "chatapp.config"])
def test_models_and_extensions_import_no_service_view_or_handler(lower):
    upward = {
        target for target in GRAPH[lower] if _in(target, "chatapp.services", "chatapp.sockets", "chatapp.realtime")
    }
    assert upward == set()


def test_the_realtime_layer_imports_only_what_lies_below_it():
    for module in (m for m in GRAPH if _in(m, "chatapp.realtime")):
        allowed = {"chatapp.extensions"} | {m for m in GRAPH if _in(m, "chatapp.realtime")}
        assert GRAPH[module] <= allowed, module


def test_services_import_no_view_handler_or_blueprint():
    doors = ("chatapp.sockets", "chatapp.auth", "chatapp.admin", "chatapp.rooms", "chatapp.support",
             "chatapp.messaging", "chatapp.api", "chatapp.main", "chatapp.cli")
    for module in (m for m in GRAPH if _in(m, "chatapp.services")):
        assert not {target for target in GRAPH[module] if _in(target, *doors)}, module


def _top_level_imports(folder: str) -> dict[str, set[str]]:
    """For each .py file under folder, the first component of every absolute import it makes."""
    found: dict[str, set[str]] = {}
    for name in sorted(os.listdir(os.path.join(ROOT, folder))):
        if not name.endswith(".py"):
            continue
        path = os.path.join(ROOT, folder, name)
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), path)
        roots: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                roots.add(node.module.split(".")[0])
        found[f"{folder}/{name}"] = roots
    return found


def test_scripts_and_the_harness_never_import_the_tests():
    for folder, forbidden in (("harness", {"tests", "scripts"}), ("scripts", {"tests"})):
        for path, roots in _top_level_imports(folder).items():
            assert not roots & forbidden, path
