"""Which values give their items by position. The normal form iterates by position: ``for v in
xs`` is a loop over ``range(len(xs))`` reading ``xs[k]``, and ``a, b = v`` reads ``v[0]`` and
``v[1]``. That gives the items Python's iteration gives only for a sequence (a list, tuple, array,
range or string); a set or a dict cannot be indexed so (a dict with int keys can, and gives its
values, not its keys), an iterator (``zip``, ``map``, a generator) not at all. A value that may
be something else is gone over as the list of its items, ``list(v)``, made as Python iterates; a
loop over a value of no kind known here checks when it runs that it is a sequence (a copy would
miss what the loop writes into a list or array it goes over, which Python's iteration sees).

``SEQUENCE``: known to be one; ``OTHER``: may be something else (a set, a dict, an iterator);
``None``: not known here (an attribute, an element, what a call returns).
"""
from __future__ import annotations

import builtins
import inspect
import types
from collections.abc import Sequence

import gast
import numpy as np

from ..errors import AdError
from ..ir import walk
from ..parse import is_user_function, parse_function
from ..resolve import MISSING

SEQUENCE, OTHER = "sequence", "other"
NUMBER = "number"  # (a number or None: never iterated over, so no kind a loop sees)

_SEQUENCE_TYPES = (Sequence, np.ndarray, np.flatiter)  # (list, tuple, range, str, x.flat ...)
# calls whose result is a sequence, and calls whose result is a set, dict or iterator
_SEQUENCE_MAKERS = (list, tuple, sorted, range)
_OTHER_MAKERS = (set, frozenset, dict, iter, map, filter, zip, enumerate, reversed, np.ndindex,
                 np.ndenumerate, np.nditer)
# methods giving a dict's views or a set (of any object: the list of what they give is right)
_OTHER_METHODS = ("keys", "values", "items", "union", "intersection", "difference",
                  "symmetric_difference")
# operators of sets (``a | b``): the result is a set when an operand is
_SET_OPERATORS = (gast.BitOr, gast.BitAnd, gast.BitXor, gast.Sub)


def kind_of_object(obj):
    """SEQUENCE or OTHER for a value known now (a module-level name's, an argument's class)."""
    cls = obj if isinstance(obj, type) else type(obj)
    return SEQUENCE if issubclass(cls, _SEQUENCE_TYPES) else OTHER


def gone_over_in_python(cls, iterating: bool) -> bool:
    """Whether going over an object of ``cls`` item by item runs Python code of its own (of a
    class of the user's: its ``__iter__``, or iterating, its ``__getitem__``, which unpacking
    inlines), which the list of its items would run undifferentiated, or cannot be done at all."""
    own_iter, own_getitem = (inspect.getattr_static(cls, m, None)
                             for m in ("__iter__", "__getitem__"))
    if own_iter is None and own_getitem is None:
        return True
    python = [own_iter, own_getitem] if iterating else [own_iter]
    return any(isinstance(f, types.FunctionType) for f in python)


def iterated_attribute(cls):
    """What a loop over an object of ``cls`` goes over, when its ``__iter__`` is one of the plain
    forms (``return iter(self.xs)``, ``yield from self.xs``, ``for v in self.xs: yield v``):
    the name of that attribute, whose items Python's loop reads one at a time as a loop over
    ``obj.xs`` does (seeing what the loop writes into it); None for any other ``__iter__``."""
    method = inspect.getattr_static(cls, "__iter__", None)
    try:
        body = parse_function(method).tree.body if isinstance(method, types.FunctionType) \
            else None
    except AdError:
        return None
    if not body or len(body) > 1 or not method.__code__.co_varnames:
        return None
    this, st = method.__code__.co_varnames[0], body[-1]

    def own(node):  # (self.xs)
        return node.attr if isinstance(node, gast.Attribute) \
            and isinstance(node.value, gast.Name) and node.value.id == this else None
    if isinstance(st, gast.Return) and isinstance(st.value, gast.Call) \
            and isinstance(st.value.func, gast.Name) and st.value.func.id == "iter" \
            and len(st.value.args) == 1 and not st.value.keywords \
            and _resolve(method, "iter") is iter:
        return own(st.value.args[0])
    if isinstance(st, gast.Expr) and isinstance(st.value, gast.YieldFrom):
        return own(st.value.value)
    if isinstance(st, gast.For) and isinstance(st.target, gast.Name) and not st.orelse \
            and len(st.body) == 1 and isinstance(st.body[0], gast.Expr) \
            and isinstance(st.body[0].value, gast.Yield) \
            and isinstance(st.body[0].value.value, gast.Name) \
            and st.body[0].value.value.id == st.target.id:
        return own(st.iter)
    return None


def _resolve(fn, label):
    """The global or builtin ``label`` in the module of the function ``fn``."""
    return fn.__globals__.get(label, getattr(builtins, label, None))


def join(kinds):
    """The kind of a value that may be any of ``kinds``: OTHER if one may be other, SEQUENCE if
    all are sequences, else not known."""
    kinds = [k for k in kinds if k != NUMBER]
    if OTHER in kinds:
        return OTHER
    return SEQUENCE if kinds and all(k == SEQUENCE for k in kinds) else None


def iteration_kind(node, resolver, names: dict):
    """SEQUENCE, OTHER or None for the expression ``node``; ``names``: what is known of local
    names (name -> kind; a name missing is not known, unless it is a module-level one)."""
    if isinstance(node, (gast.List, gast.Tuple, gast.ListComp, gast.GeneratorExp)):
        return SEQUENCE  # (a generator expression is made a list)
    if isinstance(node, (gast.Set, gast.SetComp, gast.Dict, gast.DictComp)):
        return OTHER
    if isinstance(node, gast.Constant):
        return OTHER if isinstance(node.value, (str, bytes)) else NUMBER
    value = resolver.resolve(node) if isinstance(node, (gast.Name, gast.Attribute)) else MISSING
    if value is not MISSING:
        return kind_of_object(value)
    if isinstance(node, gast.Name):
        return names.get(node.id)
    if isinstance(node, gast.Subscript) and isinstance(node.slice, gast.Slice):
        return iteration_kind(node.value, resolver, names)  # (a slice of a sequence)
    if isinstance(node, gast.BinOp):
        sides = [iteration_kind(side, resolver, names) for side in (node.left, node.right)]
        if OTHER in sides and isinstance(node.op, _SET_OPERATORS):
            return OTHER
        return SEQUENCE if SEQUENCE in sides and OTHER not in sides else None
    if isinstance(node, gast.IfExp):
        return join(iteration_kind(arm, resolver, names) for arm in (node.body, node.orelse))
    if isinstance(node, gast.Call):
        return _call_kind(node, resolver)
    return None


def _call_kind(call, resolver):
    """The kind of what ``call`` returns: NumPy's functions and list/tuple/sorted/range make
    sequences; set, dict, zip, map, ``itertools`` and generators something else."""
    if getattr(call.func, "attr", None) in _OTHER_METHODS:
        return OTHER
    fn = resolver.resolve(call.func)
    if fn is MISSING:
        return None
    if any(fn is f for f in _OTHER_MAKERS) or inspect.isgeneratorfunction(fn) \
            or getattr(fn, "__module__", None) == "itertools":
        return OTHER
    if any(fn is f for f in _SEQUENCE_MAKERS):
        return SEQUENCE
    if is_user_function(fn):
        return None
    module = getattr(fn, "__module__", None) or ""
    return SEQUENCE if module == "numpy" or module.startswith("numpy.") else None


def local_kinds(body, resolver, params: dict) -> dict:
    """Name -> kind for the names of ``body`` (statements) and the parameters (``params``: name
    -> kind or None): a name bound only by ``name = value`` has the join of its values' kinds
    (found together: ``xs = xs + [v]``), one bound otherwise (a loop's target, ``a, b = ...``)
    is not known, unless one of its values may be other."""
    values: dict = {p: [] for p in params}
    seen, stored = set(), set()
    for node in (n for s in body for n in walk(s)):
        if isinstance(node, gast.Assign) and len(node.targets) == 1:
            for target, value in _pairs(node.targets[0], node.value):
                values.setdefault(target.id, []).append(value)
                seen.add(id(target))
        elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
            values.setdefault(node.target.id, []).append(
                gast.BinOp(left=node.target, op=node.op, right=node.value))
            seen.add(id(node.target))
        elif isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            stored.add(node)
    unknown = {n.id for n in stored if id(n) not in seen}
    # from every name a sequence down: the kinds only fall, so this ends
    kinds = {n: SEQUENCE for n in values}
    changed = True
    while changed:
        changed = False
        for n, bound in values.items():
            found = [iteration_kind(v, resolver, kinds) for v in bound]
            if n in params:
                found.append(params[n])
            if n in unknown:
                found.append(None)
            kind = join(found)
            if kind != kinds[n]:
                kinds[n], changed = kind, True
    return kinds


def _pairs(target, value) -> list:
    """(name, value) bound by ``target = value`` where each is clear: one name, or a tuple of
    names given a display of as many values (``i, j = {0}, {2}``)."""
    if isinstance(target, gast.Name):
        return [(target, value)]
    if isinstance(target, (gast.Tuple, gast.List)) and isinstance(value, (gast.Tuple, gast.List)) \
            and len(target.elts) == len(value.elts) \
            and all(isinstance(t, gast.Name) for t in target.elts):
        return list(zip(target.elts, value.elts))
    return []
