"""Which names of a function may hold a dict, and which hold only dicts: ``for k in d``
iterates over a list of a dict's keys, and a dict's keys are never views of arrays. A dict is
made by a display or comprehension, ``dict(...)``, a copy of a dict, or a call of a function of
the user's every ``return`` of which makes one."""
from __future__ import annotations

import copy

import gast

from ..errors import AdError
from ..ir import walk
from ..parse import is_user_function, parse_function
from ..resolve import Resolver

_RETURNS_DICTS: dict = {}  # code object -> whether every return of the function makes a dict


def dict_names(body, resolver, dict_params=frozenset(), params=frozenset(), active=()):
    """``(maybe, sure)``: the names of ``body`` (statements) bound to a dict somewhere, and
    those bound to dicts only; ``dict_params``, ``params``: parameters known to be dicts;
    ``active``: code objects being read further up (a recursive call makes nothing known)."""
    bindings: dict = {}
    for st in (n for s in body for n in walk(s)):
        if isinstance(st, gast.Assign) and len(st.targets) == 1 \
                and isinstance(st.targets[0], gast.Name):
            bindings.setdefault(st.targets[0].id, []).append(st.value)
    for p in set(params) & set(dict_params):
        bindings.setdefault(p, []).append(gast.Dict(keys=[], values=[]))
    maybe, sure = set(), set()
    grown = True
    while grown:
        grown = False
        for target, values in bindings.items():
            if target not in maybe and any(makes_dict(v, resolver, maybe, active)
                                           for v in values):
                maybe.add(target)
                grown = True
            if target not in sure and all(makes_dict(v, resolver, sure, active)
                                          for v in values):
                sure.add(target)
                grown = True
    return maybe, sure


def makes_dict(value, resolver, dicts, active=()) -> bool:
    """Whether ``value`` makes a dict: a display or comprehension, ``dict(...)``, a name in
    ``dicts`` or a copy of one (``copy.deepcopy(d)``, ``copy.copy(d)``, ``d.copy()``), a call of a
    function of the user's that returns dicts only."""
    if isinstance(value, (gast.Dict, gast.DictComp)):
        return True
    if isinstance(value, gast.Name):  # (the same object)
        return value.id in dicts
    if not isinstance(value, gast.Call):
        return False
    fn = resolver.resolve(value.func)
    if fn is dict:
        return True
    if is_user_function(fn):
        return returns_dicts(fn, active)
    if value.keywords or len(value.args) > 1:
        return False
    if not value.args:
        return isinstance(value.func, gast.Attribute) and value.func.attr == "copy" \
            and isinstance(value.func.value, gast.Name) and value.func.value.id in dicts
    return any(fn is f for f in (copy.copy, copy.deepcopy)) \
        and isinstance(value.args[0], gast.Name) and value.args[0].id in dicts


def returns_dicts(fn, active=()) -> bool:
    """Whether every ``return`` of the user's function ``fn`` makes a dict (cached by code)."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    if code is None or code in active:
        return False
    if code not in _RETURNS_DICTS:
        try:
            parsed = parse_function(fn)
        except AdError:
            _RETURNS_DICTS[code] = False
            return False
        resolver = Resolver(parsed)
        body = parsed.tree.body
        _, sure = dict_names(body, resolver, active=tuple(active) + (code,))
        returned = [r.value for r in _own_returns(body)]
        _RETURNS_DICTS[code] = bool(returned) and all(
            r is not None and makes_dict(r, resolver, sure, tuple(active) + (code,))
            for r in returned)
    return _RETURNS_DICTS[code]


def _own_returns(body):
    """The ``return`` statements of a function body, not of the functions defined in it."""
    todo = list(body)
    while todo:
        st = todo.pop()
        if isinstance(st, gast.Return):
            yield st
        elif not isinstance(st, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef)):
            todo.extend(n for n in gast.iter_child_nodes(st)
                        if isinstance(n, (gast.stmt, gast.ExceptHandler, gast.match_case)))
