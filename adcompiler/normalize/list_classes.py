"""The class of the entries of lists of objects, read from the code: a list every binding,
append and store of which gives it objects of one plain class of the user's (``element_classes``:
``vs = [Vec(a, b), Vec(c, d)]``, ``ps = [p + v * dt for p, v in zip(ps, vs)]``), and the list a
function of the user's returns (``returned_list_class``); a list given to a function that may
write into it is not known."""
from __future__ import annotations

import types

import gast

from .. import effects
from ..ir import walk
from ..parse import is_user_function
from ..resolve import MISSING
from .classes import _READING, _class_of, _own_nodes, _resolve_in, readable_tree


def _comprehension_entries(comp, resolve):
    """For ``[e for p, v in zip(ps, vs)]``: each variable of its loops that is bound to an entry
    of a list named (``p``: of ``ps``; ``for x in xs``, ``zip``, ``enumerate``), with that
    list's name; None when a loop variable is bound otherwise (its class is not known)."""
    lists = {}
    for gen in comp.generators:
        it, target = gen.iter, gen.target
        func = resolve(it.func) if isinstance(it, gast.Call) and not it.keywords else None
        if isinstance(it, gast.Name) and isinstance(target, gast.Name):
            lists[target.id] = it.id
        elif func is zip and isinstance(target, gast.Tuple) \
                and len(target.elts) == len(it.args) \
                and all(isinstance(a, gast.Name) for a in it.args):
            lists.update({t.id: a.id for t, a in zip(target.elts, it.args)
                          if isinstance(t, gast.Name)})
        elif func is enumerate and len(it.args) == 1 and isinstance(it.args[0], gast.Name) \
                and isinstance(target, gast.Tuple) and len(target.elts) == 2 \
                and isinstance(target.elts[1], gast.Name):
            lists[target.elts[1].id] = it.args[0].id
        elif not (isinstance(target, gast.Name) and func is range):
            return None
    return lists


def returned_list_class(fn, arg_lists=()):
    """The one plain class of the user's of every entry of the lists every ``return`` of ``fn``
    gives (``return F`` of ``F = [Vec(..) for ..]``), given the classes of the entries of its
    first positional arguments that are such lists (``arg_lists``); else None."""
    tree = readable_tree(fn)
    if tree is None:
        return None
    params = [a.id for a in tree.args.args]
    known = {p + "[]": c for p, c in zip(params, arg_lists) if c is not None}
    returns = [n for n in _own_nodes(tree.body) if isinstance(n, gast.Return)]
    if not returns or not all(isinstance(r.value, gast.Name) for r in returns):
        return None
    _READING.add(fn)
    try:
        found = element_classes(tree.body, lambda node: _resolve_in(node, fn), known)
    finally:
        _READING.discard(fn)
    classes = {found.get(r.value.id) for r in returns}
    return classes.pop() if len(classes) == 1 and None not in classes else None


# builtins that read the lists given them and change none
_READING_LISTS = (len, sum, zip, enumerate, range, sorted, min, max, list, tuple, iter, reversed,
                  print, isinstance, map, filter, any, all)


def _lists_changed_by(call, resolve) -> list:
    """The names given to ``call`` that it may change: those given to a function of the user's
    writing into their parameters (``corrupt(ps)`` appending to ``ps``), or to another function
    known here but builtins that only read and NumPy's; not to a list's own methods, nor to a
    method of an object (``p.grow(ps)``: as before, see ``check_entry_classes``)."""
    passed = [a for a in call.args if isinstance(a, gast.Name)]
    passed += [k.value for k in call.keywords if isinstance(k.value, gast.Name)]
    if not passed or isinstance(call.func, gast.Attribute) and call.func.attr in (
            "append", "extend", "insert", "__setitem__", "__iadd__"):
        return []
    fn = resolve(call.func)
    if fn is None or fn is MISSING or any(fn is f for f in _READING_LISTS) \
            or getattr(fn, "__module__", None) in ("numpy", "math"):
        return []
    if isinstance(fn, types.FunctionType) and is_user_function(fn) and not call.keywords \
            and not any(isinstance(a, gast.Starred) for a in call.args):
        params = fn.__code__.co_varnames[:fn.__code__.co_argcount]
        written = effects.written_parameters(fn)
        return [a.id for p, a in zip(params, call.args)
                if isinstance(a, gast.Name) and p in written]
    return [a.id for a in passed]


def element_classes(body, resolve, known) -> dict:
    """Name -> class for each list ``body`` binds only to displays and comprehensions, whose
    every entry (in them, appended, or stored into it) is an object of that one plain class of
    the user's (``vs = [Vec(a, b), Vec(c, d)]``: ``vs[i]`` is a ``Vec``); ``known``: classes of
    names."""
    entries: dict = {}
    for node in (n for st in body for n in walk(st)):
        if isinstance(node, gast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, gast.Name):
                value = node.value
                entries.setdefault(target.id, []).extend(
                    value.elts if isinstance(value, gast.List)
                    else [(value.elt, _comprehension_entries(value, resolve))]
                    if isinstance(value, gast.ListComp)
                    else [("returned", value)] if isinstance(value, gast.Call) else [None])
            elif isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name):
                entries.setdefault(target.value.id, []).append(
                    None if isinstance(target.slice, gast.Slice) else node.value)
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and isinstance(node.func.value, gast.Name):
            lst = node.func.value.id
            if node.func.attr == "append" and len(node.args) == 1:
                entries.setdefault(lst, []).append(node.args[0])
            elif node.func.attr in ("extend", "insert", "__setitem__", "__iadd__"):
                entries.setdefault(lst, []).append(None)
        elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
            entries.setdefault(node.target.id, []).append(None)
        if isinstance(node, gast.Call):  # (corrupt(ps) may append anything to ps)
            for lst in _lists_changed_by(node, resolve):
                entries.setdefault(lst, []).append(None)
    return _one_class_each(entries, resolve, known)


def _one_class_each(entries, resolve, known) -> dict:
    """List name -> the one class of all its ``entries`` (expressions; a comprehension's with
    its variables' lists; a list a call returns), found to a fixed point from ``known``."""
    candidates = {lst: values for lst, values in entries.items() if values and None not in values
                  and not any(isinstance(v, tuple) and v[1] is None for v in values)}

    def class_of(value, classes):  # (an entry, or a comprehension's with its variables' lists)
        if isinstance(value, tuple) and value[0] == "returned":  # (a list a function returns)
            call = value[1]
            return returned_list_class(resolve(call.func), [
                classes.get(a.id + "[]") if isinstance(a, gast.Name) else None
                for a in call.args]) if not call.keywords else None
        if isinstance(value, tuple):
            expr, lists = value
            classes = {**classes, **{n: classes.get(lst + "[]") for n, lst in lists.items()}}
            value = expr
        return _class_of(value, resolve, classes)
    found: dict = {}
    for _ in range(len(candidates) + 1):  # (optimistic: vs[i] = vs[i] + w reads what it finds)
        before = dict(found)
        for lst, values in candidates.items():
            classes = {class_of(v, {**known, **found}) for v in values} - {None}
            if len(classes) == 1:
                found[lst + "[]"] = classes.pop()
        if found == before:
            break
    for _ in range(len(found) + 1):  # (every entry, with every class found: or none)
        wrong = [k for k in found if any(class_of(v, {**known, **found}) is not found[k]
                                         for v in candidates[k[:-2]])]
        for k in wrong:
            del found[k]
        if not wrong:
            break
    return {k[:-2]: cls for k, cls in found.items()}
