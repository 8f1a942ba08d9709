"""Which names of a function may hold a dict, and which hold only dicts: ``for k in d``
iterates over a list of a dict's keys, and a dict's keys are never views of arrays. A dict is
made by a display or comprehension, ``dict(...)``, a copy of a dict, or a call of a function of
the user's every ``return`` of which makes one (``returns_lists`` tells the same of lists)."""
from __future__ import annotations

import copy

import gast

from .. import effects, runtime
from ..errors import AdError
from ..ir import const, located, name, walk
from ..parse import is_user_function, parse_function
from ..resolve import Resolver
from ..rules.helpers import containers

_RETURNS_DICTS: dict = {}  # code object -> whether every return of the function makes a dict
_RETURNS_LISTS: dict = {}  # (the same for a new list)


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
    def makes_dicts(parsed, resolver, returned, code):
        _, sure = dict_names(parsed.tree.body, resolver, active=tuple(active) + (code,))
        return all(r is not None and makes_dict(r, resolver, sure, tuple(active) + (code,))
                   for r in returned)
    return _every_return(fn, _RETURNS_DICTS, makes_dicts, active)


def returns_lists(fn) -> bool:
    """Whether every ``return`` of the user's function ``fn`` makes a new list: a display, a
    comprehension, ``list(...)``, or a name every binding of which makes one (cached by code)."""
    def makes_lists(parsed, resolver, returned, code):
        args = parsed.tree.args
        params = [a.id for a in args.posonlyargs + args.args + args.kwonlyargs]
        fresh = effects.fresh_lists(parsed.tree.body, params, resolver.resolve,
                                    concatenations=False)  # (out = x @ w + b: an array)
        return all(isinstance(r, (gast.List, gast.ListComp))
                   or (isinstance(r, gast.Call) and resolver.resolve(r.func) is list)
                   or (isinstance(r, gast.Name) and r.id in fresh and r.id not in params)
                   for r in returned)
    return _every_return(fn, _RETURNS_LISTS, makes_lists)


def _every_return(fn, cache, test, active=()) -> bool:
    """``test(parsed, resolver, returned values, code)`` for the user's function ``fn``, which
    has a ``return`` (False without one, without source, or recursively), cached by code."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    if code is None or code in active:
        return False
    if code not in cache:
        try:
            parsed = parse_function(fn)
        except AdError:
            cache[code] = False
            return False
        returned = [r.value for r in _own_returns(parsed.tree.body)]
        cache[code] = bool(returned) and test(parsed, Resolver(parsed), returned, code)
    return cache[code]


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


class DictUpdates:
    """A dict changed in place by ``d.update(e, k=v)`` or ``d |= e``, and ``a | b`` of dicts (a
    mixin of the ``Normalizer``)."""

    def is_dict(self, node) -> bool:
        """Whether ``node`` surely makes or names a dict."""
        return (isinstance(node, gast.Name) and node.id in self.dict_params) \
            or makes_dict(node, self.resolver, self.sure_dicts)

    def dict_union(self, node, left, right):
        """``a | b`` (atoms ``left``, ``right`` of ``node``) of dicts: the new dict
        ``merged_dict(a, b)``, whose entries the derivative follows; None for other operands."""
        if not (isinstance(node.op, gast.BitOr) and self.bind_object is not None
                and (self.is_dict(node.left) or self.is_dict(node.right))):
            return None
        helper = self.helper("merged_dict", containers.merged_dict)
        return gast.Call(func=name(helper), args=[left, right], keywords=[])

    def set_default(self, node, s):
        """``d.setdefault(key, value)`` of a dict (checked where it runs, unless ``d`` surely is
        one): ``value`` evaluated, stored at ``key`` when ``key`` is not there, then ``d[key]``
        read, each a step the derivative follows (``d`` stays the same object, as in the plain
        call); None for other calls."""
        func = node.func
        if not (isinstance(func, gast.Attribute) and func.attr == "setdefault"
                and 1 <= len(node.args) <= 2 and not node.keywords
                and not any(isinstance(a, gast.Starred) for a in node.args)
                and isinstance(func.value, (gast.Name, gast.Attribute))
                and getattr(func.value, "id", None) not in self.object_classes
                and self.bind_object is not None and not self.generated):
            return None
        receiver = func.value
        if not self.is_dict(receiver):
            error = self.loc.error("%s.setdefault(...) is differentiated as a dict's, but it is "
                                   "a %%s here" % gast.unparse(receiver).strip(), s,
                                   hint="call it on a dict")
            check = gast.Call(func=name(self.helper("check_dict", runtime.check_dict)),
                              args=[self.atom(receiver, s),
                                    name(self.helper("refusal", runtime.Refusal(error)))],
                              keywords=[])
            self.emit(gast.Expr(value=check), s)
        key = self.atom(node.args[0], s)
        value = self.atom(node.args[1] if len(node.args) == 2 else const(None), s)
        missing = gast.Compare(left=key, ops=[gast.NotIn()], comparators=[copy.deepcopy(receiver)])
        store = gast.Assign(targets=[gast.Subscript(value=copy.deepcopy(receiver), slice=key,
                                                    ctx=gast.Store())], value=value,
                            type_comment=None)
        self.stmt(located(gast.If(test=missing, body=[located(store, s)], orelse=[]), s))
        return gast.Subscript(value=copy.deepcopy(receiver), slice=key, ctx=gast.Load())

    def dict_update(self, s) -> bool:
        """``d.update(e, k=v)`` or ``d |= e`` on a name holding dicts only: each entry stored in
        turn, ``for key in e: d[key] = e[key]`` (``e`` evaluated first), then the keywords, so
        ``d`` stays the same object, as in the plain call; False for any other statement."""
        if isinstance(s, gast.AugAssign):
            target, parts, keywords = s.target, [s.value], []
            if not isinstance(s.op, gast.BitOr):
                return False
        else:
            call = s.value
            if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute)
                    and call.func.attr == "update" and len(call.args) <= 1
                    and all(k.arg is not None for k in call.keywords)):
                return False
            target, parts, keywords = call.func.value, list(call.args), call.keywords
        if self.bind_object is None or not (isinstance(target, gast.Name)
                                            and target.id in self.sure_dicts | self.dict_params) \
                or not all(self.is_dict(p) for p in parts):
            return False
        for part in parts:
            source = self.namer.fresh("entries")
            self.resolver.locals.add(source)
            self.assign_to(source, part, s)
            self.maybe_dicts.add(source)
            self.sure_dicts.add(source)
            key = self.namer.fresh("key")
            self.resolver.locals.add(key)
            store = gast.Assign(targets=[gast.Subscript(value=name(target.id), slice=name(key),
                                                        ctx=gast.Store())],
                                value=gast.Subscript(value=name(source), slice=name(key),
                                                     ctx=gast.Load()), type_comment=None)
            loop = gast.For(target=name(key, True), iter=name(source), body=[store], orelse=[],
                            type_comment=None)
            self.stmt(located(loop, s))
        for k in keywords:
            self.stmt(located(gast.Assign(targets=[gast.Subscript(
                value=name(target.id), slice=const(k.arg), ctx=gast.Store())], value=k.value,
                type_comment=None), s))
        return True
