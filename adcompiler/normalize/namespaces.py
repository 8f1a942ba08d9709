"""Namespace aliases: ``xp = np`` (or ``xp = array_namespace(x)``, a user function returning a
module) bound once makes every ``xp.f`` a read of the module's own ``f``, so the rule of
``np.f`` applies; done on the jump-lowered body before it is flattened.
"""
from __future__ import annotations

import types

import gast
import numpy

from ..errors import AdError
from ..ir import walk
from ..parse import is_library_function, parse_function
from ..resolve import MISSING, Resolver


def _namespace_of(value, resolver):
    """The module ``value`` (the right side of ``xp = ...``) denotes whenever it runs: a module
    reached by name (``np``, ``np.linalg``), or the result of a user function every return of which
    is the same module (``def array_namespace(x): return np``); else None."""
    obj = resolver.resolve(value) if isinstance(value, (gast.Name, gast.Attribute)) else MISSING
    if isinstance(obj, types.ModuleType):
        return obj
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
            and value.func.attr == "__array_namespace__" and not value.args:
        # (x.__array_namespace__(): NumPy's, for the arrays a gradient is computed on)
        return numpy if hasattr(numpy.ndarray, "__array_namespace__") else None
    if isinstance(value, gast.Call) and isinstance(value.func, (gast.Name, gast.Attribute)):
        fn = resolver.resolve(value.func)
        return _returned_module(fn) or _library_namespace(fn)
    return None


def _library_namespace(fn):
    """The namespace a library's ``array_namespace`` (SciPy's, array_api_compat's) gives for
    NumPy arrays, the only arrays a gradient is computed on: NumPy or its array-API wrapper."""
    if getattr(fn, "__name__", None) != "array_namespace" or not callable(fn) \
            or not is_library_function(fn):
        return None
    try:
        module = fn(numpy.zeros(1))
    except Exception:  # (a signature or a check it applies that we cannot satisfy: not known)
        return None
    return module if isinstance(module, types.ModuleType) else None


def _returned_module(fn):
    """The module every ``return`` of user function ``fn`` gives, or None."""
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


# Functions of the array-API wrapper of NumPy (array_api_compat's, vendored by SciPy) that are,
# on NumPy arrays, NumPy's function of the same name called with the same arguments (positional
# parameters in NumPy's order, the others by keyword): read as NumPy's, with its rule and what is
# known of its result (a view, a copy). Not here: sort/argsort (``descending``, where NumPy has
# ``kind``), floor/ceil/trunc (which keep an integer dtype where NumPy's give floats).
_NUMPY_EQUIVALENTS = frozenset((
    "asarray", "astype", "reshape", "matmul", "matrix_transpose", "permute_dims", "clip",
    "tensordot", "take_along_axis", "std", "var", "sign", "zeros", "ones", "empty", "full",
    "zeros_like", "ones_like", "empty_like", "full_like", "eye", "arange", "linspace",
    "count_nonzero", "nonzero", "finfo", "iinfo", "cumulative_sum", "cumulative_prod"))


def _preferred(module, resolver) -> str:
    """The name generated code gives ``module``: the user's (np), else its last part."""
    return next((k for k, v in resolver.parsed.globals.items() if v is module),
                module.__name__.split(".")[-1])


def resolve_namespace_aliases(body, resolver, bind, module_params=None) -> None:
    """``xp = np`` (or ``xp = array_namespace(x)`` returning a module) bound once, or a parameter
    given a module (``module_params``: parameter -> module) and never bound: every read of ``xp``
    becomes a read of the module itself, so ``xp.sum(x)`` is ``np.sum(x)`` with its rule (never
    the array method ``.sum`` of an object that is not an array); ``xp.f`` of NumPy's array-API
    wrapper is NumPy's ``f`` where they agree (``_NUMPY_EQUIVALENTS``)."""
    stores = {}
    for n in (n for st in body for n in walk(st)):
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del)):
            stores[n.id] = stores.get(n.id, 0) + 1
    aliases, wrappers = {}, set()
    for param, module in (module_params or {}).items():
        if param not in stores:
            aliases[param] = bind(_preferred(module, resolver), module)
            if module is not numpy and module.__name__.endswith("array_api_compat.numpy"):
                wrappers.add(param)
    for st in (n for top in body for n in walk(top)):
        if isinstance(st, gast.Assign) and len(st.targets) == 1 \
                and isinstance(st.targets[0], gast.Name) and stores.get(st.targets[0].id) == 1:
            module = _namespace_of(st.value, resolver)
            if module is not None:
                aliases[st.targets[0].id] = bind(_preferred(module, resolver), module)
                if module is not numpy and module.__name__.endswith("array_api_compat.numpy"):
                    wrappers.add(st.targets[0].id)
    if not aliases:
        return
    nodes = [n for st in body for n in walk(st)]
    for n in nodes:
        if isinstance(n, gast.Attribute) and isinstance(n.value, gast.Name) \
                and n.value.id in wrappers and n.attr in _NUMPY_EQUIVALENTS \
                and hasattr(numpy, n.attr):
            n.value.id = bind("np", numpy)
    for n in nodes:
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in aliases:
            n.id = aliases[n.id]


def resolve_aliases(body, resolver, bind, module_params) -> None:
    """Namespace aliases (``resolve_namespace_aliases``), then function aliases
    (``resolve_function_aliases``)."""
    resolve_namespace_aliases(body, resolver, bind, module_params)
    resolve_function_aliases(body, resolver)


def resolve_function_aliases(body, resolver) -> None:
    """``f = rhs`` bound once, ``rhs`` a module-level Python function this function never binds:
    every call ``f(...)`` is a call of ``rhs`` itself, whose result is then known as a direct
    call's is (a new array, what it writes into)."""
    stores: dict = {}
    for n in (n for st in body for n in walk(st)):
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del)):
            stores[n.id] = stores.get(n.id, 0) + 1
    aliases = {}
    for st in (n for top in body for n in walk(top)):
        if isinstance(st, gast.Assign) and len(st.targets) == 1 \
                and isinstance(st.targets[0], gast.Name) and stores.get(st.targets[0].id) == 1 \
                and isinstance(st.value, gast.Name) and st.value.id not in stores \
                and isinstance(resolver.resolve(st.value), types.FunctionType):
            aliases[st.targets[0].id] = st.value.id
    for n in (n for st in body for n in walk(st)):
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id in aliases:
            n.func = gast.copy_location(gast.Name(id=aliases[n.func.id], ctx=gast.Load(),
                                                  annotation=None, type_comment=None), n.func)
