"""The package's layout: no module imports one above it (module-level and function-level imports
alike), so the import graph has no cycle; the layers below reach the compiler and the API at run
time only through ``adcompiler.hooks``."""
import ast
import pathlib

import adcompiler

PACKAGE = pathlib.Path(adcompiler.__file__).parent


def _modules() -> dict:
    """Dotted module name -> path, for every module of the package."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_graph() -> dict:
    """Module -> the package's modules it imports anywhere in its text (inside functions too)."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                # (``from . import hooks`` imports the module hooks; ``from .api import grad``, api)
                targets = [module + "." + a.name for a in node.names if module + "." + a.name in modules] or [module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            found |= {t for t in targets if t in modules and t != name}
        graph[name] = found
    return graph


def cycles(graph: dict) -> list:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    assert len(graph) > 30 and graph["adcompiler.api"]  # (the walk found the package)
    assert cycles(graph) == []


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def reach(graph, start) -> set:
    """The modules ``start`` imports, directly or not."""
    seen, todo = set(), [start]
    while todo:
        for w in graph[todo.pop()] - seen:
            seen.add(w)
            todo.append(w)
    return seen


def _planning(module) -> bool:
    return module == "adcompiler.planning" or module.startswith("adcompiler.planning.")


def test_runtime_and_rules_sit_below_the_compiler():
    """Generated code's helpers import neither the compiler nor the API, directly or not."""
    graph = import_graph()
    for low in ("adcompiler.runtime", "adcompiler.rules", "adcompiler.hooks", "adcompiler.parse"):
        above = {m for m in reach(graph, low) if m in ("adcompiler.compiler", "adcompiler.api") or _planning(m)}
        assert not above, low


def test_planning_sits_below_the_transforms():
    """The planning package's modules import neither the transforms that build on it nor the
    compiler and the API."""
    graph = import_graph()
    modules = [m for m in graph if _planning(m)]
    assert len(modules) > 1  # (the package and its modules)
    for module in modules:
        above = reach(graph, module) & {"adcompiler.reverse", "adcompiler.forward", "adcompiler.batched",
                                        "adcompiler.compiler", "adcompiler.api"}
        assert not above, module


def test_the_ir_sits_at_the_bottom():
    """``adcompiler.ir``, the vocabulary every pass shares, imports no other module of the
    package but ``errors``."""
    assert import_graph()["adcompiler.ir"] <= {"adcompiler.errors"}
