"""Views, the ``Views`` mixin of ``Aliasing``: which names may be views of (or the same object
as) other arrays (``find_views``, kept in ``layout.views``): subscripts, ``.T``, reshaping calls
and methods, temporaries handed over, and the arguments a user function may return
(``returned_arguments``). A value read from a view changes when its base is written."""
from __future__ import annotations

import inspect
import operator
import types

import gast
import numpy as np

from .. import effects, runtime
from ..analysis import FLOAT, SCALAR, is_container
from ..ir import loads, target_of
from ..resolve import MISSING
from .call_plans import _user_callable
from .kinds import _hashable

# builtins whose result is one of their arguments or an entry of one, itself
_SELECTING = (min, max, next, iter, reversed, operator.getitem, getattr)


def _element_read(value, kinds, result_kind, resolve=None) -> bool:
    """``x[i]`` or ``x[i, j]`` with numbers as indices only (no slice, ``...`` or ``None``), giving
    a shape-() result or indexing every axis of an array of known rank: a NumPy scalar (a copy,
    for a boolean scalar used as an index), never a view. ``resolve``: the value of a name
    outside the function (``REC = 2`` of the module)."""
    if not isinstance(value, gast.Subscript):
        return False
    parts = value.slice.elts if isinstance(value.slice, gast.Tuple) else [value.slice]
    if not all((isinstance(p, gast.Name) and kinds.get(p.id) in (FLOAT, SCALAR))
               or (isinstance(p, gast.Name) and p.id not in kinds and resolve is not None
                   and type(resolve(p)) is int)
               or (isinstance(p, gast.Constant) and type(p.value) is int)
               or (isinstance(p, gast.UnaryOp) and isinstance(p.operand, gast.Constant))
               for p in parts):
        return False
    base = kinds.get(value.value.id) if isinstance(value.value, gast.Name) else None
    # (a list's, tuple's or dict's entry is the object it holds: a 0-d array itself)
    return (result_kind == SCALAR and not is_container(base)) or (
        isinstance(base, tuple) and base[0] == "array" and base[1] == len(parts))


# (a dict's entry is the object it holds; d.values() a live view of the dict)
_VIEW_METHODS = ("reshape", "transpose", "ravel", "squeeze", "view", "swapaxes", "diagonal",
                 "get", "setdefault", "values", "items", "keys")
_VIEW_FUNCTIONS = {getattr(__import__("numpy"), n) for n in (
    "reshape", "transpose", "ravel", "squeeze", "expand_dims", "asarray", "asanyarray",
    "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_to", "moveaxis", "rollaxis", "swapaxes",
    "diagonal", "diag", "real", "imag", "flip", "fliplr", "flipud", "rot90", "split",
    "array_split", "hsplit", "vsplit", "dsplit", "matrix_transpose", "permute_dims", "unstack",
    "ascontiguousarray", "asfortranarray", "asarray_chkfinite", "require")
    if hasattr(__import__("numpy"), n)} | {runtime.synced}  # (the array itself)
_VIEW_FUNCTIONS |= {list, tuple}  # (the same entries: list(d.values()), list(x)'s rows are views)
# (attributes of an array that are never views of it)
_NO_VIEW_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype", "strides", "itemsize",
                                 "nbytes"})


def _copy_optional(call) -> bool:
    """Whether ``call`` (``np.array``, ``astype``) is given ``copy=`` other than True: its
    result may be its argument itself."""
    return any(k.arg == "copy" and not (isinstance(k.value, gast.Constant)
                                        and k.value.value is True) for k in call.keywords)


class Views:
    """Which names may be views of other arrays (a mixin of ``Aliasing``, whose state it reads:
    ``layout``, ``kinds``, ``params``, ``ctx``; it sets ``layout.views`` and adds the
    temporaries handed over to ``layout.aliases``)."""

    def find_views(self):
        """Which names may be views of (or the same object as) other arrays: copies, subscripts,
        ``.T`` and reshaping calls. A value read from a view changes when its base is written."""
        self.layout.views = self.views_made_by(self.layout.simple)

    def module_value(self, node):
        """The value of the name ``node`` when it is not a local name of the function (a
        module-level constant), else None."""
        if node.id in self.ctx.resolver.locals or node.id in self.params:
            return None
        found = self.ctx.resolver.resolve(node)
        return None if found is MISSING else found

    def bases_at(self, var, s) -> set:
        """The arrays ``var`` may be a view of when ``s`` runs: ``layout.views`` from the
        bindings of ``var`` that may run before ``s`` only (``u = u0.copy(); u[1:] = v`` before a
        loop that ends with ``u = u_next``: ``u`` is no view of ``u_next`` there), and that no
        other binding of it follows on every path to ``s`` (``p = params`` before a loop whose
        body starts with ``p = dict(p)``)."""
        bound_before = [st for st in self.layout.simple
                        if target_of(st)[0] != var or (
                            self.runs_before(st, s)  # (not one another binding always follows)
                            and not self.rebound_between(var, st, s, aliasing=(st,)))]
        return self.views_made_by(bound_before).get(var, set())

    def views_made_by(self, statements) -> dict:
        """``find_views`` over ``statements`` (simple statements of the function)."""
        views = {}
        for s in statements:
            bound, _ = target_of(s)
            if bound is None or not isinstance(s, gast.Assign):
                continue
            if isinstance(s.value, gast.Call) and self.kinds.get(bound) != FLOAT:
                # (min/max return one of their values itself, a 0-d array too: seed 576743)
                selects = any(self.ctx.resolver.resolve(s.value.func) is f for f in (min, max))
                for base in self.returned_arguments(s.value):  # (def f(u): return u.T; min(a, b))
                    if base != bound and (self.kinds.get(bound) != SCALAR or base in self.params
                                          or selects):
                        views.setdefault(bound, set()).add(base)
            # (x, y = a[0], a[1]: the tuple holds the views, and its entries are them)
            if isinstance(s.value, gast.Tuple) and not self.ctx.generated:
                if self.only_unpacked(bound):
                    continue  # (xs, hs = {}, {}: each name is its entry, see unpacked_entry)
                held = {e.id for e in s.value.elts if isinstance(e, gast.Name) and e.id != bound
                        and self.kinds.get(e.id) != FLOAT}
                held |= set().union(*(views.get(e, set()) for e in held)) if held else set()
                if held:
                    views.setdefault(bound, set()).update(held)
                continue
            entry = self.unpacked_entry(s.value)
            if entry is not None:  # (a, b = u, v: a is u itself, not any entry of the tuple)
                if isinstance(entry, str) and entry != bound and self.kinds.get(bound) != FLOAT:
                    views.setdefault(bound, set()).add(entry)
                continue
            if isinstance(s.value, gast.Subscript) and self.copying_index(s):
                continue  # (u[idx] of an array by an index array or list: NumPy copies)
            base = self.view_source(s.value)
            if base is not None and isinstance(s.value, gast.Subscript) and any(
                    getattr(b, "ad_dict_keys", False) for b in self.layout.bindings(base)) \
                    and len(self.layout.binds.get(base, ())) == 1:
                continue  # (an entry of a dict's list of keys: a key, never an array)
            # (a shape-() NumPy value may be a 0-d array, which x += v changes in place: np.where
            # and np.array make them; an element read, x[i, j], is a NumPy scalar, a copy)
            if base is None or base == bound or self.kinds.get(bound) == FLOAT or (
                    _element_read(s.value, self.kinds, self.kinds.get(bound),
                                  self.module_value)):
                continue
            if self.handed_over(base, s):
                # no alias the user can see, but the backward pass may read the temporary (the
                # result of ``t1 = t / x``), which writes into ``t`` change; a temporary that was
                # itself a view hands that over (``u = w if c else v``: u may be w)
                self.layout.aliases.setdefault(base, set()).add(bound)
                if views.get(base, set()) - {bound}:  # (u = synced(u, ...): u is not its own view)
                    views.setdefault(bound, set()).update(views[base] - {bound})
            else:
                views.setdefault(bound, set()).add(base)
        changed = True
        while changed:  # views of views
            changed = False
            for name_, bases in views.items():
                more = set().union(*(views.get(b, set()) for b in bases)) - bases - {name_}
                if more:
                    bases |= more
                    changed = True
        return views

    def view_source(self, value):
        """The array ``value`` may be a view of, or None."""
        if isinstance(value, gast.Name):
            return value.id
        if self.augmented_value(value):
            return self.augmented_value(value)
        if isinstance(value, gast.Attribute) and value.attr in _NO_VIEW_ATTRIBUTES:
            return None  # (x.shape: a new tuple of numbers)
        if isinstance(value, (gast.Subscript, gast.Attribute)) \
                and isinstance(value.value, gast.Name):
            if self.ctx.resolver.resolve(value) is MISSING:
                return value.value.id
            # (self.buf of a method's self, W[0] of a module's W)
            owner = self.ctx.resolver.resolve(value.value)
            if isinstance(owner, (type, types.ModuleType, types.FunctionType)) \
                    or isinstance(self.ctx.resolver.resolve(value),
                                  (int, float, complex, str, type(None))):
                return None  # (a number is never a view: self.calls += 1)
            return value.value.id
        if isinstance(value, gast.Call):
            func = value.func
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                    and func.attr in _VIEW_METHODS and self.ctx.resolver.resolve(func) is MISSING:
                return func.value.id
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                    and func.attr == "astype" and _copy_optional(value):
                return func.value.id  # (x.astype(x.dtype, copy=False): x itself)
            resolved = self.ctx.resolver.resolve(func)
            first = value.args[0] if value.args else None
            if resolved is np.einsum:  # (one operand: a view of it, "ii->i" or "ij->ji")
                operands = [a for a in value.args[1:] if isinstance(a, gast.Name)] \
                    if isinstance(first, gast.Constant) else value.args[:1]
                if len(operands) == 1 and isinstance(operands[0], gast.Name):
                    return operands[0].id
            if resolved is np.array and _copy_optional(value) and isinstance(first, gast.Name):
                return first.id  # (np.array(x, copy=None): x itself)
            if _hashable(resolved) and resolved in _VIEW_FUNCTIONS \
                    and isinstance(first, gast.Name):
                return first.id
        return None

    def handed_over(self, temp, copy) -> bool:
        """Whether ``name = temp`` (statement ``copy``) hands over a normalisation temporary that
        nothing else reads (``u = u.copy()`` becomes ``t1 = u.copy(); u = t1``): no alias
        remains."""
        if temp not in self.ctx.temps \
                or not (isinstance(copy.value, gast.Name) or self.augmented_value(copy.value)):
            return False
        return all(s is copy for s in self.layout.readers(temp))

    def object_class(self, node):
        """The class of the object argument (never rebound) or object made here (bound once, to
        ``new_object(Cls)``) ``node`` names; else None."""
        if not isinstance(node, gast.Name):
            return None
        if node.id in self.ctx.arg_classes and node.id not in self.layout.binds:
            return self.ctx.arg_classes[node.id]
        made = [s.value for s in self.layout.bindings(node.id)]
        if len(made) == 1 and isinstance(made[0], gast.Call) and made[0].args \
                and self.ctx.resolver.resolve(made[0].func) is runtime.new_object:
            cls = self.ctx.resolver.resolve(made[0].args[0])
            return cls if isinstance(cls, type) else None
        return None

    def returned_arguments(self, call, whole=False) -> set:
        """Names passed to a call of a user function that may return them (or views of them;
        with ``whole``, the objects themselves, not a part of theirs: see
        ``effects.returned_objects``)."""
        if self.ctx.generated or any(isinstance(a, gast.Starred) for a in call.args) \
                or any(k.arg is None for k in call.keywords):
            return set()
        callee = self.ctx.resolver.resolve(call.func)
        if (callee is MISSING and isinstance(call.func, gast.Name)) \
                or any(callee is f for f in _SELECTING) \
                or isinstance(callee, (operator.itemgetter, operator.attrgetter)) \
                or (isinstance(call.func, gast.Attribute) and call.func.attr == "__getitem__"):
            # (one of them, itself; or one of the entries of the one iterable given; next(iter(xs))
            # is xs[0] itself; a callable known only at run time may return what it is given)
            return {n for a in call.args + ([call.func.value] if isinstance(
                call.func, gast.Attribute) and call.func.attr == "__getitem__" else [])
                for n in loads(a)}
        fn = _user_callable(self.ctx.resolver.resolve(call.func))
        receiver = [fn.__self__] if isinstance(fn, types.MethodType) else []
        cls = self.object_class(call.func.value) if isinstance(call.func, gast.Attribute) \
            else None
        if fn is None and cls is not None:
            # a method of an object argument or of an object made here (h.get_w() may return h.w
            # itself; o.reader(k) a closure over o)
            method = inspect.getattr_static(cls, call.func.attr, None)
            if isinstance(method, types.FunctionType):
                fn, receiver = method, [call.func.value]
        if fn is None:
            return set()
        returned = (effects.returned_objects if whole else effects.returned_parameters)(fn)
        if not returned:
            return set()
        try:
            bound = inspect.signature(getattr(fn, "__func__", fn)).bind(
                *(receiver + list(call.args)), **{k.arg: k.value for k in call.keywords})
        except (TypeError, ValueError):
            return set()
        return {n for p, v in bound.arguments.items() if p in returned and isinstance(v, gast.AST)
                for n in loads(v)}

