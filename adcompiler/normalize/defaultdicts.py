"""``collections.defaultdict`` made and used inside the function (``groups = defaultdict(list)``
then ``groups[k].append(v)``, ``totals = defaultdict(float)`` then ``totals[k] += v``): spelled as
a dict whose missing entries are stored where Python's ``__missing__`` would store them, just
before the statement reading them (``if k not in groups: groups[k] = []``). The derivative then
follows the entries as it follows any dict's. The plain call's dict is a defaultdict, this one a
dict: so the rewrite is made only when the name never leaves the function (its uses are entry
reads and writes, ``in``, ``len``, ``sorted``, ``list``, a loop over it and its ``keys``,
``values``, ``items`` and ``get``), and only when each entry read runs once where it is written
(not in a comprehension, a lambda, an ``and``/``or``, a conditional expression or a ``while``
test) with a key that has no call in it (it is evaluated twice). An ``OrderedDict()`` that never
leaves the function is spelled as a dict likewise (a dict keeps the order of its keys too), with
no stores before its reads (a missing key is Python's KeyError)."""
from __future__ import annotations

import collections
import copy

import gast

from ..ir import const, walk

_METHODS = ("keys", "values", "items", "get")
_DEFAULTS = {list: lambda: gast.List(elts=[], ctx=gast.Load()),
             dict: lambda: gast.Dict(keys=[], values=[]),
             float: lambda: const(0.0), int: lambda: const(0)}
# (where an entry read may run another number of times than once, or not at all)
_NOT_ONCE = (gast.BoolOp, gast.IfExp, gast.Lambda, gast.ListComp, gast.SetComp, gast.DictComp,
             gast.GeneratorExp, gast.FunctionDef, gast.While)


def rewrite_defaultdicts(body: list, resolve) -> None:
    """Rewrite, in place, the defaultdicts and OrderedDicts of ``body`` (statements) that never
    leave it."""
    for target, default in _candidates(body, resolve).items():
        if _uses_allowed(body, target, resolve):
            _rewrite(body, target, default)


def _candidates(body, resolve) -> dict:
    """Names bound once, to ``defaultdict(F)`` of a factory whose value is known: name -> a
    function making the default value's expression; or to ``OrderedDict()``: name -> None."""
    made, counts = {}, collections.Counter()
    for node in (n for st in body for n in walk(st)):
        if isinstance(node, gast.Name) and not isinstance(node.ctx, gast.Load):
            counts[node.id] += 1
        if isinstance(node, gast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], gast.Name) and isinstance(node.value, gast.Call) \
                and resolve(node.value.func) is collections.defaultdict \
                and len(node.value.args) == 1 and not node.value.keywords:
            default = _default_of(node.value.args[0], resolve)
            if default is not None:
                made[node.targets[0].id] = default
        elif isinstance(node, gast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], gast.Name) and isinstance(node.value, gast.Call) \
                and resolve(node.value.func) is collections.OrderedDict \
                and not node.value.args and not node.value.keywords:
            made[node.targets[0].id] = None
    return {n: d for n, d in made.items() if counts[n] == 1}


def _default_of(factory, resolve):
    if isinstance(factory, gast.Lambda) and not factory.args.args \
            and isinstance(factory.body, gast.Constant) \
            and isinstance(factory.body.value, (int, float)):
        return lambda: const(factory.body.value)
    made = resolve(factory)
    return _DEFAULTS.get(made) if isinstance(made, type) else None


def _is(node, target) -> bool:
    return isinstance(node, gast.Name) and node.id == target


def _entry_read(node, target) -> bool:
    return isinstance(node, gast.Subscript) and _is(node.value, target) \
        and isinstance(node.ctx, gast.Load) and not isinstance(node.slice, gast.Slice)


def _uses_allowed(body, target, resolve) -> bool:
    allowed, once = set(), True
    # (a view kept in a name shows entries stored later: only views used where they are made)
    used_at_once = {id(n.func) for st in body for n in walk(st) if isinstance(n, gast.Call)
                    for n in [a for a in n.args if isinstance(a, gast.Call)]} | {
        id(n.iter.func) for st in body for n in walk(st)
        if isinstance(n, (gast.For, gast.comprehension)) and isinstance(n.iter, gast.Call)}
    for st in body:
        for node in walk(st):
            if isinstance(node, gast.Subscript) and _is(node.value, target):
                allowed.add(id(node.value))
                if isinstance(node.slice, gast.Slice) or any(
                        isinstance(k, (gast.Call, gast.NamedExpr, gast.Await, gast.Yield))
                        or (isinstance(k, gast.Name) and k.id == target)
                        for k in walk(node.slice)):
                    return False  # (a key made by a call, or reading the dict: d[d[5]])
            elif isinstance(node, gast.Attribute) and _is(node.value, target) \
                    and node.attr in _METHODS:
                if node.attr != "get" and id(node) not in used_at_once:
                    return False
                allowed.add(id(node.value))
            elif isinstance(node, gast.Compare) and any(
                    isinstance(op, (gast.In, gast.NotIn)) for op in node.ops):
                allowed.update(id(c) for c in node.comparators if _is(c, target))
            elif isinstance(node, gast.Call) and len(node.args) == 1 and _is(node.args[0], target) \
                    and resolve(node.func) in (len, sorted, list):
                allowed.add(id(node.args[0]))
            elif isinstance(node, gast.For) and _is(node.iter, target):
                allowed.add(id(node.iter))
            elif isinstance(node, gast.Assign) and _is(node.targets[0], target):
                allowed.add(id(node.targets[0]))
            elif isinstance(node, _NOT_ONCE):
                test = [node.test] if isinstance(node, gast.While) else [node]
                once = once and not any(_entry_read(n, target) for t in test for n in walk(t))
    uses = [n for st in body for n in walk(st) if _is(n, target)]
    return once and all(id(n) in allowed for n in uses) and not any(
        _observed_beside_a_read(part, target) for st in body for node in walk(st)
        if isinstance(node, gast.stmt) for part in _header(node))


def _observed_beside_a_read(part, target) -> bool:
    """Whether ``part`` both reads an entry (stored first by the rewrite) and looks at the keys
    (``sum(d.values()) + d[k]``: the plain call sums before ``d[k]`` is stored)."""
    nodes = list(walk(part))
    entries = {id(n.value) for n in nodes if isinstance(n, gast.Subscript) and _is(n.value, target)}
    return any(_entry_read(n, target) for n in nodes) and any(
        _is(n, target) and id(n) not in entries for n in nodes)


def _rewrite(body, target, default) -> None:
    """``target = {}`` for its binding, and each statement reading an entry preceded by the
    stores of the entries it reads that are missing."""
    out = []
    for st in body:
        for field in ("body", "orelse", "finalbody"):
            if isinstance(getattr(st, field, None), list):
                _rewrite(getattr(st, field), target, default)
        for handler in getattr(st, "handlers", ()):
            _rewrite(handler.body, target, default)
        if isinstance(st, gast.Assign) and _is(st.targets[0], target):
            st.value = gast.copy_location(gast.Dict(keys=[], values=[]), st.value)
        out.extend(_missing_stores(st, target, default))
        out.append(st)
    body[:] = out


def _header(st) -> list:
    """The parts of ``st`` evaluated before its own body (all of a simple statement)."""
    if isinstance(st, gast.If):
        return [st.test]
    if isinstance(st, gast.For):
        return [st.iter]
    if isinstance(st, gast.With):
        return [item.context_expr for item in st.items]
    if isinstance(st, (gast.While, gast.Try, gast.FunctionDef, gast.ClassDef)):
        return []
    return [st]


def _missing_stores(st, target, default) -> list:
    if default is None:  # (an OrderedDict's)
        return []
    keys = []
    if isinstance(st, gast.AugAssign) and isinstance(st.target, gast.Subscript) \
            and _is(st.target.value, target):
        keys.append(st.target.slice)  # (d[k] += v reads d[k] first)
    for part in _header(st):
        keys.extend(n.slice for n in walk(part) if _entry_read(n, target))
    stores = []
    for key in keys:
        missing = gast.Compare(left=copy.deepcopy(key), ops=[gast.NotIn()],
                               comparators=[gast.Name(id=target, ctx=gast.Load(),
                                                      annotation=None, type_comment=None)])
        store = gast.Assign(targets=[gast.Subscript(
            value=gast.Name(id=target, ctx=gast.Load(), annotation=None, type_comment=None),
            slice=copy.deepcopy(key), ctx=gast.Store())], value=default(), type_comment=None)
        stores.append(gast.copy_location(
            gast.If(test=missing, body=[gast.copy_location(store, st)], orelse=[]), st))
    return stores


