"""The package's shape: which module imports which, read from the source (lazy imports inside functions included)."""

import ast

from conftest import PROJECT_ROOT

SOURCES = PROJECT_ROOT / "src"


def import_graph() -> dict[str, set[str]]:
    modules = {}
    for path in (SOURCES / "textclf").rglob("*.py"):
        parts = path.relative_to(SOURCES).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "textclf":
                found |= {f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                          for alias in node.names}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "textclf"}
        graph[name] = found & set(modules) - {name}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for imported in sorted(graph[module]):
            if state.get(imported) == 1:
                return path[path.index(imported):] + [imported] if imported in path else [module, imported]
            if not state.get(imported) and (found := visit(imported, [*path, imported])):
                return found
        state[module] = 2
        return None

    return next((found for module in sorted(graph) if not state.get(module) and (found := visit(module, [module]))),
                None)


def test_no_module_imports_itself_back_through_others():
    graph = import_graph()
    assert cycle(graph) is None, " -> ".join(cycle(graph))
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]  # the check finds one when there is


def test_core_and_tasks_stand_on_core_alone_and_the_layout_needs_no_tensorflow():
    graph = import_graph()
    for module, imported in graph.items():
        if module.startswith(("textclf.core", "textclf.tasks")):
            assert all(name == "textclf" or name.startswith(("textclf.core", "textclf.tasks")) for name in imported), (
                module, imported)
    reached, pending = set(), ["textclf.pipeline.layout"]
    while pending:
        for name in graph[pending.pop()] - reached:
            reached.add(name)
            pending.append(name)
    assert "textclf.core.tf_runtime" not in reached
