"""Pass 2: resolve names. Every non-local name or attribute chain (``np.linalg.norm``) gets the
object it denotes, looked up in the closure, the module globals and the builtins."""
from __future__ import annotations

import importlib

import gast

from .parse import BUILTINS, Parsed

_MISSING = object()


def local_names(fdef: gast.FunctionDef) -> set[str]:
    """Names bound anywhere in the function body (Python makes them local everywhere)."""
    names = set()
    args = fdef.args
    for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
        if a is not None:
            names.add(a.id)
    for node in _walk_scope(fdef.body):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            names.add(node.id)
        elif isinstance(node, (gast.FunctionDef, gast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, gast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


def _walk_scope(body):
    """Walk statements without entering nested function, lambda or comprehension scopes."""
    todo = list(body)
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, (gast.FunctionDef, gast.Lambda, gast.ListComp, gast.SetComp,
                             gast.DictComp, gast.GeneratorExp)):
            if isinstance(node, gast.FunctionDef):
                todo.extend(node.decorator_list)
            continue
        todo.extend(gast.iter_child_nodes(node))


def _imports(fdef) -> dict:
    """The objects ``import m`` / ``from m import f`` statements in the body bind (absolute
    imports of modules that import; anything else stays an unsupported statement)."""
    found = {}
    for node in _walk_scope(fdef.body):
        try:
            if isinstance(node, gast.Import):
                for alias in node.names:
                    module = importlib.import_module(alias.name)
                    if alias.asname:
                        found[alias.asname] = module
                    else:
                        found[alias.name.split(".")[0]] = importlib.import_module(
                            alias.name.split(".")[0]
                        )
            elif isinstance(node, gast.ImportFrom) and node.level == 0 and node.module:
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if alias.name != "*":
                        found[alias.asname or alias.name] = getattr(module, alias.name)
        except (ImportError, AttributeError):
            continue
    return found


class Resolver:
    """Looks up the objects behind non-local names of one parsed function."""

    def __init__(self, parsed: Parsed):
        self.parsed = parsed
        self.locals = local_names(parsed.tree)
        self.imported = _imports(parsed.tree)  # ``import``s in the body, done now: name -> object
        self.locals -= set(self.imported)

    def lookup(self, name: str):
        """The object a free name denotes now, or _MISSING."""
        if name in self.imported:
            return self.imported[name]
        cell = self.parsed.cells.get(name)
        if cell is not None:
            try:
                return cell.cell_contents
            except ValueError:
                return _MISSING
        if name in self.parsed.globals:
            return self.parsed.globals[name]
        return BUILTINS.get(name, _MISSING)

    def resolve(self, node, extra_locals=()):
        """The object a Name or attribute chain rooted at a free name denotes, or _MISSING."""
        if isinstance(node, gast.Name):
            if node.id in self.locals or node.id in extra_locals:
                return _MISSING
            return self.lookup(node.id)
        if isinstance(node, gast.Attribute):
            base = self.resolve(node.value, extra_locals)
            if base is _MISSING:
                return _MISSING
            return getattr(base, node.attr, _MISSING)
        return _MISSING


MISSING = _MISSING
