"""Namespace aliases: ``xp = np`` (or ``xp = array_namespace(x)``, a user function returning a
module) bound once makes every ``xp.f`` a read of the module's own ``f``, so the rule of
``np.f`` applies; done on the jump-lowered body before it is flattened.
"""
from __future__ import annotations

import gast

from ..errors import AdError
from ..ir import walk
from ..parse import parse_function
from ..resolve import MISSING, Resolver


def _namespace_of(value, resolver):
    """The module ``value`` (the right side of ``xp = ...``) denotes whenever it runs: a module
    reached by name (``np``, ``np.linalg``), or the result of a user function every return of which
    is the same module (``def array_namespace(x): return np``); else None."""
    import types
    obj = resolver.resolve(value) if isinstance(value, (gast.Name, gast.Attribute)) else MISSING
    if isinstance(obj, types.ModuleType):
        return obj
    if isinstance(value, gast.Call) and isinstance(value.func, (gast.Name, gast.Attribute)):
        return _returned_module(resolver.resolve(value.func))
    return None


def _returned_module(fn):
    """The module every ``return`` of user function ``fn`` gives, or None."""
    import types
    if not isinstance(fn, types.FunctionType):
        return None
    try:
        parsed = parse_function(fn)
    except AdError:
        return None
    returns = [n.value for n in walk(parsed.tree) if isinstance(n, gast.Return)]
    found = {id(m): m for m in (Resolver(parsed).resolve(r) if r is not None else None
                                for r in returns)}
    module = next(iter(found.values())) if len(found) == 1 else None
    return module if isinstance(module, types.ModuleType) else None


def resolve_namespace_aliases(body, resolver, bind) -> None:
    """``xp = np`` (or ``xp = array_namespace(x)`` returning a module) bound once: every read of
    ``xp`` becomes a read of the module itself, so ``xp.sum(x)`` is ``np.sum(x)`` with its rule
    (never the array method ``.sum`` of an object that is not an array)."""
    stores = {}
    for n in (n for st in body for n in walk(st)):
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del)):
            stores[n.id] = stores.get(n.id, 0) + 1
    aliases = {}
    for st in (n for top in body for n in walk(top)):
        if isinstance(st, gast.Assign) and len(st.targets) == 1 \
                and isinstance(st.targets[0], gast.Name) and stores.get(st.targets[0].id) == 1:
            module = _namespace_of(st.value, resolver)
            if module is not None:
                preferred = next((k for k, v in resolver.parsed.globals.items() if v is module),
                                 module.__name__.split(".")[-1])  # (np, as the user calls it)
                aliases[st.targets[0].id] = bind(preferred, module)
    if not aliases:
        return
    for n in (n for st in body for n in walk(st)):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in aliases:
            n.id = aliases[n.id]
