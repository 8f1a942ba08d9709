"""Which names of a function hold lists only: ``lst.append(v)`` and ``lst.pop()`` are
differentiated as a list's methods, which generated code checks where the name may hold
anything else (a class of the user's with an ``append``, a dict's ``pop(key)``)."""
from __future__ import annotations

import gast

from ..ir import walk


def sure_lists(body, resolve, list_params=frozenset()) -> set:
    """The names of ``body`` (statements) bound only to new lists (a display or comprehension,
    ``list(...)``, ``sorted(...)``, a concatenation or repetition of a list, a copy of such a
    name), or parameters in ``list_params`` (known to be given lists) that no statement binds
    otherwise. ``resolve``: a callee expression -> the object it names."""
    bindings: dict = {p: [gast.List(elts=[], ctx=gast.Load())] for p in list_params}
    handled, stores = set(), []
    for node in (n for s in body for n in walk(s)):
        if isinstance(node, gast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], gast.Name):
            bindings.setdefault(node.targets[0].id, []).append(node.value)
            handled.add(id(node.targets[0]))
        elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name) \
                and isinstance(node.op, (gast.Add, gast.Mult)):
            handled.add(id(node.target))  # (lst += [v], lst *= 2: still the list)
        elif isinstance(node, gast.Name) and not isinstance(node.ctx, gast.Load):
            stores.append(node)
    other = {n.id for n in stores if id(n) not in handled}  # (loop targets, unpacking, del)
    sure, grown = set(), True
    while grown:
        grown = False
        for target, values in bindings.items():
            if target not in sure and target not in other \
                    and all(_makes_list(v, resolve, sure) for v in values):
                sure.add(target)
                grown = True
    return sure


def _makes_list(value, resolve, lists) -> bool:
    if isinstance(value, (gast.List, gast.ListComp)):
        return True
    if isinstance(value, gast.Name):
        return value.id in lists
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add):
        # (an array + a list is an array)
        return _makes_list(value.left, resolve, lists) and _makes_list(value.right, resolve, lists)
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult):  # ([0.0] * 3)
        return any(_makes_list(a, resolve, lists) and isinstance(b, gast.Constant)
                   and type(b.value) is int for a, b in ((value.left, value.right),
                                                          (value.right, value.left)))
    if isinstance(value, gast.Call):
        if any(resolve(value.func) is f for f in (list, sorted)):
            return True
        func = value.func
        return isinstance(func, gast.Attribute) and func.attr == "copy" and not value.args \
            and isinstance(func.value, gast.Name) and func.value.id in lists
    return False
