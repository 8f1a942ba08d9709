"""Aliasing: which names may be views of (or the same object as) other arrays
(``layout.views``), where a value may still be read (``read_after``, ``seen_after``), what lists
and dicts hold, and the refusals of in-place writes the derivative could not follow (``h += v``
on an array seen under another name, a write into a view or into a list's array). ``Aliasing``
takes the data it needs from the planner: the function, its layout, kinds and parameters."""
from __future__ import annotations

import inspect
import operator
import types

import gast

from .. import effects, runtime
from ..analysis import FLOAT, SCALAR, is_container, rank
from ..ir import const, copy_tree, loads, name, target_of, walk
from ..resolve import MISSING
from .call_plans import _user_callable
from .kinds import _hashable
from .memory import SharedMemory
from .syncs import Syncs, dead_temporary, insert_beside, local

# builtins whose result is one of their arguments or an entry of one, itself
_SELECTING = (min, max, next, iter, reversed, operator.getitem, getattr)


def _element_read(value, kinds, result_kind) -> bool:
    """``x[i]`` or ``x[i, j]`` with numbers as indices only (no slice, ``...`` or ``None``), giving
    a shape-() result or indexing every axis of an array of known rank: a NumPy scalar (a copy,
    for a boolean scalar used as an index), never a view."""
    if not isinstance(value, gast.Subscript):
        return False
    parts = value.slice.elts if isinstance(value.slice, gast.Tuple) else [value.slice]
    if not all((isinstance(p, gast.Name) and kinds.get(p.id) in (FLOAT, SCALAR))
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
    "array_split", "hsplit", "vsplit", "dsplit", "matrix_transpose", "permute_dims", "unstack")
    if hasattr(__import__("numpy"), n)} | {runtime.synced}  # (the array itself)
_VIEW_FUNCTIONS |= {list, tuple}  # (the same entries: list(d.values()), list(x)'s rows are views)


def mark_in_place_helpers(stmts, resolver):
    """Calls to the runtime's in-place helpers (in generated code being differentiated again)
    mutate their first argument: say so, so every analysis sees it."""
    for s in stmts:
        for field_ in ("body", "orelse"):
            mark_in_place_helpers(getattr(s, field_, None) or [], resolver)
        call = s.value if isinstance(s, (gast.Expr, gast.Assign)) else None
        if isinstance(call, gast.Call) and call.args and isinstance(call.args[0], gast.Name):
            obj = resolver.resolve(call.func)
            if obj is runtime.add_at or obj is runtime.take_adjoint:
                s.ad_mutates = call.args[0].id
                s.ad_helper = obj.__name__
            # (x = in_place(x, t): written like a store, planned as a rule)
            elif obj is runtime.in_place:
                s.ad_mutates = call.args[0].id
            elif obj is runtime.element_in_place:
                s.ad_mutates, s.ad_element_of = call.args[1].id, call.args[0].id


class Aliasing(SharedMemory):
    """Views and in-place writes of one normalised function (``fdef``, its ``layout`` and
    ``kinds``; ``params`` its parameters, ``result`` the name it returns)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.syncs = Syncs(self)
        self._fresh_lists = None
        # id(statement) -> (check, its arguments, error): the runtime check made before it
        # (check_array, refused_if_array, attribute_alone) and the AdError it raises
        self.array_guards: dict = {}

    def find_views(self):
        """Which names may be views of (or the same object as) other arrays: copies, subscripts,
        ``.T`` and reshaping calls. A value read from a view changes when its base is written."""
        views = {}
        for s in self.layout.simple:
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
            base = self.view_source(s.value)
            if base is not None and isinstance(s.value, gast.Subscript) and any(
                    getattr(b, "ad_dict_keys", False) for b in self.layout.simple
                    if target_of(b)[0] == base) and len(self.layout.binds.get(base, ())) == 1:
                continue  # (an entry of a dict's list of keys: a key, never an array)
            # (a shape-() NumPy value may be a 0-d array, which x += v changes in place: np.where
            # and np.array make them; an element read, x[i, j], is a NumPy scalar, a copy)
            if base is None or base == bound or self.kinds.get(bound) == FLOAT or (
                    _element_read(s.value, self.kinds, self.kinds.get(bound))):
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
        self.layout.views = views

    def fresh_list(self, var) -> bool:
        """Whether every binding of ``var`` makes a new list (``list(x)``, ``[a, b]``): a store
        ``var[i] = v`` then replaces an entry and writes into no array (``list(x)``'s entries
        may be views of ``x``, but a write into one is a write into a name read from it)."""
        if self._fresh_lists is None:
            signature = self.fdef.args
            params = [a.id for a in signature.posonlyargs + signature.args + signature.kwonlyargs
                      + [signature.vararg, signature.kwarg] if a is not None]
            self._fresh_lists = effects.fresh_lists(self.fdef.body, params,
                                                    self.ctx.resolver.resolve)
        return var in self._fresh_lists

    def completes_element_update(self, store) -> bool:
        """Whether ``d[k] = t`` stores the result of an in-place update of the entry
        (``d[k] += v``: ``t = element_in_place(d, old, new)``), which changed the array held."""
        value = store.value
        return isinstance(value, gast.Name) and any(
            isinstance(s, gast.Assign) and target_of(s)[0] == value.id
            and getattr(s, "ad_element_of", None) is not None for s in self.layout.simple)

    def returned_arguments(self, call) -> set:
        """Names passed to a call of a user function that may return them (or views of them)."""
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
        if fn is None and isinstance(call.func, gast.Attribute) \
                and isinstance(call.func.value, gast.Name) \
                and call.func.value.id in self.ctx.arg_classes \
                and call.func.value.id not in self.layout.binds:
            # a method of an object argument (h.get_w() may return h.w itself)
            method = inspect.getattr_static(self.ctx.arg_classes[call.func.value.id],
                                            call.func.attr, None)
            if isinstance(method, types.FunctionType):
                fn, receiver = method, [call.func.value]
        if fn is None:
            return set()
        returned = effects.returned_parameters(fn)
        if not returned:
            return set()
        try:
            bound = inspect.signature(getattr(fn, "__func__", fn)).bind(
                *(receiver + list(call.args)), **{k.arg: k.value for k in call.keywords})
        except (TypeError, ValueError):
            return set()
        return {n for p, v in bound.arguments.items() if p in returned and isinstance(v, gast.AST)
                for n in loads(v)}

    def check_in_place_updates(self, arg_kinds):
        """``h += v`` changes an array in place: the same array under another name (``h = x``, a
        list element, a dict entry) changes too. The normal form rebinds ``h`` instead, so that is
        an error, unless ``h`` is a Python or NumPy scalar. (With no argument kinds at all, as for
        ``ad.source``, unknown kinds are let through: that code is for reading.) In generated code
        being differentiated again, the writes are its ``in_place`` calls, the user's own: each is
        recorded on the names sharing its array, whose values the backward pass then keeps."""
        specialised = any(k is not None for k in arg_kinds.values())
        bases = {b for targets in self.layout.views.values() for b in targets}
        for s in self.layout.simple:
            var = self.updated_in_place(s)
            if var is None:
                continue
            kind = self.kinds.get(var)
            # (a shape-() NumPy value may be a 0-d array, changed in place)
            if kind == FLOAT or (kind is None and not specialised):
                continue
            views_of_var = {v for v, b in self.layout.views.items()
                            if var in b and self.viewed_before(v, s)}
            bases_of_var = self.layout.views.get(var, set())
            if is_container(kind):  # (a += [v] extends the list, not the arrays it holds)
                bases_of_var = {b for b in bases_of_var
                                if is_container(self.kinds.get(b)) or b in self.ctx.containers}
            aliases = (bases_of_var
                       | (views_of_var if var in bases else set()) | self.holders_seeing(var, s))
            if self.ctx.generated:  # (checked, and synced where needed, when it was generated)
                self.record_write(s, var, aliases)
                continue
            # (a name bound only after the write, ``ret = (loss, dW)``, is bound to what the
            # names hold then: it sees the change as the plain call's does)
            others = sorted(o for o in aliases
                            # (what a list holds is not tracked)
                            if (is_container(self.kinds.get(o))
                                or any(self.seen_after(n, s) and self.may_run_before(n, s)
                                       for n in self.layout.same_memory(o) - {var}))
                            and not self.bound_apart(o, var, s))
            owner = self.updated_attribute_owner(s, var, others)
            if owner is not None:
                # (obj.v -= u: the array obj.v holds, changed in place as Python does, is stored
                # back into obj.v; no other name holds it, and no other attribute of obj holds
                # it either, checked when it runs)
                others.remove(owner[0])
                error = self.loc.error(
                    "the augmented assignment changes %s.%s in place, and another attribute of "
                    "the object holds the same array (or a view of it), which is not supported"
                    % owner, s, hint="store a copy in one of them")
                self.array_guards[id(s)] = ("attribute_alone", [name(owner[0]),
                                                                const(owner[1])], error)
            if others and var not in self.reached and not set(others) & self.reached:
                # (no derivative involved: the write, as Python does it)
                self.write_in_place(s, var)
            elif others and self.syncs.add(s, var, self.sharing_memory(var) | aliases):
                self.write_in_place(s, var)  # (as Python does it; the names sharing it follow)
            elif others and kind == SCALAR and owner is None and not self.ctx.generated:
                # (a shape-() value: a NumPy scalar, as np.max(...) gives, does not change in
                # place, and rebinding is what Python does; a 0-d array is refused when it runs)
                self.array_guards[id(s)] = ("refused_if_array", [name(var)], self.loc.error(
                    "the augmented assignment changes the 0-d array %r in place, and %s may be "
                    "the same array, which is not supported" % (
                        self.spelled(var), ", ".join(repr(o) for o in others)), s,
                    hint="write %s = %s + ... (a new value)" % ((self.spelled(var),) * 2)))
                continue
            elif others:
                shown = self.spelled(var)
                raise self.loc.error(
                    "the augmented assignment changes %r in place, and %s may be the same %s, "
                    "which is not supported" % (shown, ", ".join(repr(o) for o in others),
                                                "list (a list's += extends it)" if is_container(
                                                    kind) else "array (NumPy's += writes into it)"),
                    s,
                    hint="write %s = %s + ... (a new array), or copy it first: %s = %s.copy() (%s "
                         "then no longer changes with it)" % (shown, shown, shown, shown,
                                                              others[0]))
            # a write into the array itself (an argument's, in place as the caller sees it) changes
            # what its aliases hold: the backward pass keeps what it reads of them from before
            # (``for item in [w]: z = item ** 2`` then ``w -= z``: seed 330768)
            self.record_write(s, var, aliases)

    def updated_in_place(self, s):
        """The name whose array ``s`` updates in place as an augmented assignment of the user's
        code (``h += v``, or ``t = in_place(h, ...)`` in generated code), else None."""
        if self.ctx.generated:
            return s.ad_mutates if isinstance(s, gast.Assign) and getattr(
                s, "ad_mutates", None) and isinstance(s.value, gast.Call) \
                and self.ctx.resolver.resolve(s.value.func) is runtime.in_place else None
        return target_of(s)[0] if getattr(s, "ad_augmented", False) else None

    def bound_apart(self, other, var, s) -> bool:
        """Whether every binding that may give ``other`` the memory of ``var`` sits in the other
        arm of an ``if`` from ``s`` (``else: mean = self.running_mean`` beside ``if ...:
        mean = x.mean(0); self.running_mean += ...``): ``other`` does not hold it at ``s``."""
        bases, todo = set(), [var]
        while todo:  # (an array var views, made by any binding: ``z = np.exp(x); v = z[1:]``)
            for b in self.layout.views.get(todo.pop(), ()):
                if b not in bases:
                    bases.add(b)
                    todo.append(b)
        bindings = [st for st in self.layout.simple if target_of(st)[0] == other]
        if other in bases or not bindings or not all(isinstance(st, gast.Assign)
                                                     for st in bindings):
            return False
        memory, at = self.reachable_memory(var), self.layout.pos[id(s)]
        sharing = [st for st in bindings if any(n in memory for n in loads(st.value))]
        return bool(sharing) and all(self.layout.exclusive(self.layout.pos[id(st)], at)
                                     for st in sharing)

    def updated_attribute_owner(self, s, var, others):
        """(obj, attr) when ``s`` is the in-place update of ``obj.attr += v`` (``var`` bound to
        ``obj.attr`` just before) and the only other name that may hold its array is ``obj``:
        every other name read from ``obj`` that may hold an array when ``s`` runs and is read
        afterwards is a read of another attribute (``osc.x`` next to ``osc.v -= ...``) or a
        temporary dead at ``s``; else None."""
        if not getattr(s, "ad_attribute_update", False) or len(others) != 1:
            return None
        read = [st for st in self.layout.simple if isinstance(st, gast.Assign)
                and target_of(st)[0] == var and isinstance(st.value, gast.Attribute)
                and isinstance(st.value.value, gast.Name)]
        if len(read) != 1 or read[0].value.value.id != others[0]:
            return None
        obj, attr = others[0], read[0].value.attr
        for v, bases in self.layout.views.items():
            if v == var or obj not in bases or not self.may_run_before(v, s) \
                    or not (self.read_after(v, s) or self.in_closure(v)) \
                    or dead_temporary(self, v, s):
                continue
            # (the bindings that may give v obj's memory: not ``mean = x.mean(0)``, nor one in
            # the other arm of an if, ``else: mean = self.running_mean``, when s runs)
            at = self.layout.pos[id(s)]
            bindings = [st for st in self.layout.simple if target_of(st)[0] == v]
            if not bindings or not all(isinstance(st, gast.Assign) for st in bindings):
                return None
            bindings = [st for st in bindings
                        if not self.layout.exclusive(self.layout.pos[id(st)], at)
                        and any(obj in self.sharing_memory(n) for n in loads(st.value))]
            if not all(
                    (isinstance(st.value, gast.Attribute) and isinstance(st.value.value, gast.Name)
                     and st.value.value.id == obj and st.value.attr != attr)
                    or (getattr(st, "ad_attribute_update", False) and self.updated_from_other(
                        st, obj, attr)) for st in bindings):
                return None
        return obj, attr

    def updated_from_other(self, st, obj, attr) -> bool:
        """Whether ``st``, ``t = in_place(t, ...)`` of another ``obj.n += v``, updates the value
        of an attribute of ``obj`` other than ``attr``."""
        var = target_of(st)[0]
        return any(isinstance(b, gast.Assign) and target_of(b)[0] == var
                   and isinstance(b.value, gast.Attribute) and isinstance(b.value.value, gast.Name)
                   and b.value.value.id == obj and b.value.attr != attr
                   for b in self.layout.simple)

    def spelled(self, var) -> str:
        """``var`` as the user wrote it: a temporary of the normal form bound once to an attribute
        (``obj.v`` of ``obj.v -= x``) is that attribute."""
        if var in self.ctx.temps:
            for st in self.layout.simple:
                if target_of(st)[0] == var and isinstance(st.value, gast.Attribute) \
                        and isinstance(st.value.value, gast.Name):
                    return "%s.%s" % (st.value.value.id, st.value.attr)
        return var

    def record_write(self, s, var, aliases):
        """Record ``s``, a write into ``var``'s array, on every name that may share it."""
        if getattr(s, "ad_mutates", None) != var:
            return  # (the normal form rebinds var: no other name sees the change)
        at = self.layout.pos[id(s)]
        for n in set().union(self.reachable_memory(var), *map(self.reachable_memory, aliases)) \
                - {var}:
            self.layout.mutates.setdefault(n, []).append(at)

    def write_in_place(self, s, var):
        """Make ``var = keep_dtype(var, t)`` (normalize's ``var op= v``) the in-place write Python
        does, ``var = in_place(var, t)``, so the arrays sharing ``var``'s memory see it."""
        s.value.func = name(self.ctx.planned_helper("in_place"))
        s.ad_mutates = var
        known = self.layout.mutates.setdefault(var, [])
        if self.layout.pos[id(s)] not in known:  # (generated code's in_place: known already)
            known.append(self.layout.pos[id(s)])

    def seen_after(self, alias, s) -> bool:
        """Whether a change made at ``s`` to an array ``alias`` may share could be observed through
        ``alias``: it is read later (or returned), it is the caller's (an argument, a module-level
        value), or a nested function may read it. (The normal form rebinds instead of writing in
        place: an alias nobody reads afterwards, such as the temporary of ``d[i, y] -= 1`` or the
        tuple a call returned and the function unpacked, does not matter.)"""
        if alias in self.params or alias not in self.layout.binds or self.read_after(alias, s):
            return True
        return self.in_closure(alias)

    def in_closure(self, var) -> bool:
        """Whether a nested function or lambda may read ``var``."""
        return any(isinstance(n, (gast.Lambda, gast.FunctionDef)) and var in loads(n)
                   for n in walk(self.fdef) if n is not self.fdef)

    def holders_seeing(self, var, s) -> set:
        """Lists and dicts ``var``'s array was put into (``hist.append(h)``, ``[h]``) that are read
        after ``s``, or whose entries were read before it (``for item in [h]``): they hold the
        array an in-place operation at ``s`` changes."""
        found = set()
        # (or a view of it, {'b': x[None]}, or an array it views, ``terms = [w]; s = w; s -= v``,
        # or a view of that; not a tuple or list holding it: a container's views are its
        # entries, which its += does not write)
        seen_as = {var}
        if not is_container(self.kinds.get(var)):
            seen_as |= {b for b in self.layout.views.get(var, ())
                        if not is_container(self.kinds.get(b)) and b not in self.ctx.containers}
        seen_as |= {v for v, bases in self.layout.views.items() if bases & seen_as}
        for container in sorted({t for st in self.layout.simple for t in target_of(st) if t}):
            if container == var or not seen_as.intersection(self.entries(container, before=s)):
                continue
            entries = {v for v, bases in self.layout.views.items()
                       if container in bases and self.may_run_before(v, s)}
            if entries or self.read_after(container, s):
                found |= {container} | entries
        return {n for n in found if n not in self.ctx.temps} or found

    def check_views_of_written(self, var, s):
        """A write into ``var`` changes the views of it too (``t = A[0:2]; A[0] = v`` changes
        ``t``), which the derivative does not follow: an error when such a view may be read after
        it."""
        # (temporaries are read at once)
        if var not in self.reached:  # (no derivative to follow)
            return
        if is_container(self.kinds.get(var)):
            # (replacing an entry writes into no array: the entries read before keep theirs;
            # what sees the change is the list or dict itself under other names)
            viewers = [v for v in self.list_sharers(var, s) if v != var]
        else:
            viewers = sorted({v for v, bases in self.layout.views.items()
                              if var in bases and v != var and v not in self.ctx.temps
                              and self.may_run_before(v, s) and self.read_after(v, s)}
                             | self.holders_seeing(var, s))
        if viewers and not self.syncs.add(s, var, self.sharing_memory(var) | set(viewers)):
            raise self.loc.error("writing into %r changes %s, which may be a view of it and is "
                                 "read afterwards, which is not supported"
                                 % (var, ", ".join(repr(v) for v in viewers)), s,
                                 hint="make %s a separate array: %s = ....copy()"
                                 % (viewers[0], viewers[0]))

    def check_list_changed(self, lst, s):
        """``lst.append(v)`` or ``lst.pop()`` at ``s`` adds or removes an entry of the list itself:
        another name for the same list (``b = lst``), or a list or dict holding it (``[lst]``),
        read afterwards sees the change, which the derivative does not follow. (A copy,
        ``lst[:]``, and an entry, ``lst[0]`` or ``max(lst)``, do not.)"""
        if lst not in self.reached:
            return
        names = self.list_sharers(lst, s)
        if names:
            raise self.loc.error("changing the list %r changes %s too, which may be the same list "
                                 "(or hold it) and is read afterwards, which is not supported"
                                 % (lst, ", ".join(repr(v) for v in names)), s,
                                 hint="make %s a new list first: %s = list(%s)" % (lst, lst, lst))

    def fresh_container(self, var, seen=()) -> bool:
        """Whether every binding of ``var`` makes a new list or dict (a display, ``list(...)``,
        ``dict(...)``), or hands over a temporary of the normal form that does (a
        comprehension's ``items``)."""
        values = [st.value for st in self.layout.simple
                  if isinstance(st, gast.Assign) and target_of(st)[0] == var
                  and isinstance(st.targets[0], gast.Name)]
        def handed(v):  # (the temporary v is: a name, or an entry of xs, hs = {}, {})
            return v.id if isinstance(v, gast.Name) else self.unpacked_entry(v)

        return bool(values) and all(
            isinstance(v, (gast.List, gast.Dict))
            or (isinstance(v, gast.Call) and any(self.ctx.resolver.resolve(v.func) is f
                                                 for f in (list, dict)))
            or (isinstance(handed(v), str) and handed(v) in self.ctx.temps
                and handed(v) not in seen and self.fresh_container(handed(v), seen + (var,)))
            for v in values)

    def list_sharers(self, lst, s) -> list:
        """The names that may be the list (or dict) ``lst`` itself, or hold it, and are read after
        ``s`` changes it."""
        same = self.same_list(lst)
        aliasing = [st for bindings in same.values() for st in bindings]
        names = {v for v, bindings in same.items() if v != lst and self.read_after(v, s)
                 and any(self.runs_before(st, s) and not self.rebound_between(lst, st, s, aliasing)
                         for st in bindings)}
        for container in sorted({t for st in self.layout.simple for t in target_of(st) if t}):
            if container not in same and self.holds_before(container, same, s, aliasing) \
                    and (self.read_after(container, s) or any(
                        container in bases and self.may_run_before(v, s)
                        for v, bases in self.layout.views.items())):
                names.add(container)
        return sorted({n for n in names if n not in self.ctx.temps} or names)

    def holds_before(self, container, same, s, aliasing) -> bool:
        """Whether ``container`` may hold one of the names ``same`` when ``s`` runs: put into it
        (or into a list it copies) by a statement that may run before ``s``, the name not bound
        to another object in between (``items.append(row)`` of the last pass of a loop that
        starts with ``row = []``). ``aliasing``: bindings to the same object."""
        if not set(same).intersection(self.entries(container, before=s)):
            return False
        if container not in {into for _, into, _ in self.stores()}:
            return True  # (through a copy: what it copies holds them)
        return any(self.runs_before(st, s) and not any(
            self.rebound_between(n, st, s, aliasing) for n in set(names) & set(same))
            for st, into, names in self.stores() if into == container and set(names) & set(same)) \
            or any(set(same).intersection(self.entries(c, before=s))
                   for c in self.copied_from(container))

    def same_list(self, lst) -> dict:
        """{name: the statements binding it to what may be the list ``lst`` itself} (``b = lst``,
        a function's result that may be its argument, an entry of a container holding it; and
        ``w`` for ``lst = w``, from that statement on)."""
        same, grown = {lst: []}, True
        while grown:
            grown = False
            for st in self.layout.simple:
                bound = target_of(st)[0] if isinstance(st, gast.Assign) else None
                if bound is None or st in same.get(bound, ()):
                    continue
                value = st.value
                if (isinstance(value, gast.Name) and value.id in same) or (
                        isinstance(value, gast.Call) and set(same) & self.returned_arguments(value)
                        and not any(self.ctx.resolver.resolve(value.func) is f
                                    for f in (min, max))) or (
                        isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)
                        and set(same).intersection(self.entries(value.value.id))):
                    same.setdefault(bound, []).append(st)
                    grown = True
                elif bound in same and isinstance(value, gast.Name) \
                        and st not in same.get(value.id, ()):
                    # (lst = ws: ws is that list too, from this binding on)
                    same.setdefault(value.id, []).append(st)
                    grown = True
        return same

    def guard_overlapping_stores(self) -> bool:
        """``x[i] = v`` where ``v`` may be a view of ``x`` (``x[1, :] = x[:, -1]``): NumPy writes
        the overlap in an order of its own, and the derivative takes ``v`` as it was before the
        write. ``v = stored_value(x, i, v, refusal)`` before the store makes the write as NumPy
        does and refuses it where the two differ. True if any was added (analyse again)."""
        added = False
        for s in self.layout.simple:
            _, var = target_of(s)
            if var is None or var not in self.reached or self.ctx.generated \
                    or getattr(s, "ad_overlap_guarded", False) or not isinstance(s, gast.Assign) \
                    or not isinstance(s.targets[0], gast.Subscript) \
                    or not isinstance(s.value, gast.Name) \
                    or s.value.id not in self.reachable_memory(var) - {var} \
                    or self.kinds.get(s.value.id) == FLOAT or is_container(self.kinds.get(var)):
                continue
            error = self.loc.error("the value written into %r may be a view of it, overlapping "
                                   "the entries written, which NumPy then writes in an order "
                                   "of its own that the derivative does not follow"
                                   % var, s, hint="store a copy of the value: %s[...] = "
                                                  "(...).copy()" % var)
            refusal = self.ctx.bind("refusal", runtime.Refusal(error))
            kept = local(self.ctx, self.ctx.namer.fresh(s.value.id + "_stored"))
            call = gast.Call(func=name(self.ctx.planned_helper("stored_value")),
                             args=[name(var), _index_value(s.targets[0].slice,
                                                           self.ctx.builtin("slice")),
                                   s.value, name(refusal)], keywords=[])
            insert_beside(self.fdef.body, s, [gast.copy_location(
                gast.Assign(targets=[name(kept, store=True)], value=call, type_comment=None),
                s)], after=False)
            s.value = name(kept)
            s.ad_overlap_guarded = added = True
        return added

    def sync_stores(self):
        """Plan the syncs after ``x[i] = v`` into an array that may share other names' memory (a
        view of them, or viewed by them); where that cannot be done ``store_plan`` refuses."""
        for s in self.layout.simple:
            _, var = target_of(s)
            if var is None or var not in self.reached or not isinstance(s, gast.Assign) \
                    or not isinstance(s.targets[0], gast.Subscript) \
                    or is_container(self.kinds.get(var)) or var in self.ctx.containers:
                continue
            sharing = self.reachable_memory(var) - {var}
            if sharing:
                self.syncs.add(s, var, sharing)

    def check_element_updates(self):
        """``d[k] += v`` on a list or dict changes the array ``d[k]`` in place (runtime's
        ``element_in_place``): an error when that array may be reachable under another name too
        (a value stored into ``d`` that is a view, an argument, or read elsewhere; another view of
        ``d``), whose later reads would not see the change in the derivative."""
        for s in self.layout.simple:
            container = getattr(s, "ad_element_of", None)
            if container is None or rank(self.kinds.get(container)):
                continue  # (an array's element is written by the store that follows)
            # (their arrays may be the one written: record them first; so may the entries read
            # from it or from the list it copies, ``t = lst[-1]`` of ``c = lst.copy()``, seed
            # 1106785)
            holders = {container} | set(self.copied_from(container))
            read = [v for v, bases in self.layout.views.items() if bases & holders]
            for held in self.entries(container) + read:
                self.layout.mutates.setdefault(held, []).append(self.layout.pos[id(s)])
            if self.ctx.generated or container not in self.reached:
                continue
            element = target_of(s)[1]
            # (a shallow copy holds the original's arrays: dict(p), p.copy(), copy.copy(p))
            originals = {c for c in self.copied_from(container)
                         if c != container and c not in self.ctx.temps
                         and any(self.read_after(n, s) for n in self.same_list(c))}
            shared = sorted(self.shared_entries(container) | originals | {
                # (the normal form's temporaries are read at once)
                v for v, bases in self.layout.views.items()
                if container in bases and v != element and v not in self.ctx.temps
                and self.may_run_before(v, s)})
            if shared:
                # (a temporary of the normal form is named by the arrays it may view)
                named = sorted({b for v in shared
                                for b in ([v] if v not in self.ctx.temps
                                          else self.layout.views.get(v, ()))
                                if b not in self.ctx.temps})
                error = self.loc.error(
                    "the augmented assignment changes the array in %r in place, and that array "
                    "may also be %s, which is not supported" % (container, ", ".join(
                        repr(v) for v in named) or (
                            "another of its entries (a list repeated by *)"
                            if self.repeated(container) else "reached otherwise")), s,
                    hint="write %s[...] = %s[...] + ... (a new array), or store a copy in %r"
                    % (container, container, container))
                if self.kinds.get(container) is not None or container in self.ctx.containers:
                    entry = self.kinds.get(element)
                    if entry in (FLOAT, SCALAR):
                        continue  # (a number entry: d[k] += 1 binds a new number)
                    if entry is not None:
                        raise error
                    # (an entry of no known kind: refused when it runs if it holds an array)
                    self.array_guards[id(s)] = ("refused_if_array", [name(element)], error)
                    continue
                # (of no known kind: an array's element is written by the store that follows,
                # as for any array; a list or dict is refused when the update runs)
                self.array_guards[id(s)] = ("check_array", [name(container)], error)

    def handed_over(self, temp, copy) -> bool:
        """Whether ``name = temp`` (statement ``copy``) hands over a normalisation temporary that
        nothing else reads (``u = u.copy()`` becomes ``t1 = u.copy(); u = t1``): no alias
        remains."""
        if temp not in self.ctx.temps \
                or not (isinstance(copy.value, gast.Name) or self.augmented_value(copy.value)):
            return False
        return not any(temp in loads(s) for s in self.layout.simple if s is not copy)

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
            if _hashable(self.ctx.resolver.resolve(func)) \
                    and self.ctx.resolver.resolve(func) in _VIEW_FUNCTIONS \
                    and value.args and isinstance(value.args[0], gast.Name):
                return value.args[0].id
        return None


# (attributes of an array that are never views of it)
_NO_VIEW_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype", "strides", "itemsize",
                                 "nbytes"})


def _index_value(index, slice_name):
    """A copy of an index as a value: ``1:3`` is ``slice(1, 3, None)``."""
    if isinstance(index, gast.Slice):
        return gast.Call(func=name(slice_name), args=[
            copy_tree(p) if p is not None else gast.Constant(value=None, kind=None)
            for p in (index.lower, index.upper, index.step)], keywords=[])
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[_index_value(e, slice_name) for e in index.elts], ctx=gast.Load())
    return copy_tree(index)
