"""What the lists, tuples and dicts of one normalised function hold, the ``ContainerContents``
mixin of ``SharedMemory``: the statements that put names into them (``stores``), their entries
(``entries``, shallow copies included: ``copied_from``), the entries reachable otherwise too
(``shared_entries``), an entry of a tuple display read back (``unpacked_entry``), and the
containers that see an in-place write into an array they hold (``holders_seeing``)."""
from __future__ import annotations

import copy
import types

import gast

from .. import runtime
from ..analysis import FLOAT, is_container
from ..ir import list_method, loads, target_of
from ..parse import is_library_function
from ..rules.helpers.containers import merged_dict

# (copies of a list or dict that hold the same objects)
_SHALLOW_COPIES = (list, tuple, dict, copy.copy)


class ContainerContents:
    """What lists, tuples and dicts hold (a mixin of ``SharedMemory``, whose state it reads:
    ``layout`` and its ``views`` once found, ``kinds``, ``params``, ``ctx``; it caches
    ``stores`` in ``_stores``)."""

    def containers(self) -> set:
        """The names bound to a list, tuple or dict somewhere."""
        return {t for s in self.layout.simple for t in target_of(s)
                if t and (is_container(self.kinds.get(t)) or t in self.ctx.containers)}

    def stores(self) -> list:
        """(statement, container, names it stores into the container) for every statement that
        puts names into a list or dict (computed once)."""
        if self._stores is None:
            self._stores = []
            for s in self.layout.simple:
                bound, mutated = target_of(s)
                if getattr(s, "ad_element_of", None) is not None \
                        or not isinstance(s, (gast.Assign, gast.Expr)):
                    continue
                value = s.value
                if bound and isinstance(value, (gast.List, gast.Tuple, gast.Dict)):
                    items = value.values if isinstance(value, gast.Dict) else value.elts
                    self._stores.append((s, bound,
                                         [e.id for e in items if isinstance(e, gast.Name)]))
                elif mutated and isinstance(s, gast.Assign) and isinstance(value, gast.Name):
                    self._stores.append((s, mutated, [value.id]))
                elif mutated and isinstance(s, gast.Expr) and list_method(s) \
                        and list_method(s)[1] == "append" and isinstance(value.args[0], gast.Name):
                    self._stores.append((s, mutated, [value.args[0].id]))
        return self._stores

    def entries(self, container, before=None, seen=()) -> list:
        """Names stored into ``container`` (a list or dict display, ``d[k] = v``, ``d.append(v)``);
        with ``before`` a statement, only by statements that may run before it. A shallow copy
        (``lst.copy()``, ``list(lst)``, ``lst[:]``, ``dict(d)``) holds the same objects: the
        entries of what it copies (see ``copied_unknowns`` for an argument's)."""
        found = [n for s, into, names in self.stores() if into == container
                 and (before is None or self.runs_before(s, before)) for n in names]
        for source in self.copied_from(container):
            if source not in seen:
                found += self.entries(source, before, seen + (container,))
        return found

    def copied_from(self, container, before=None) -> list:
        """The containers ``container`` is bound to (itself or a shallow copy: the same
        entries); with ``before``, by statements that may run before that one."""
        out = []
        for s in self.layout.simple:
            if isinstance(s, gast.Assign) and target_of(s)[0] == container \
                    and (before is None or self.runs_before(s, before)):
                value = s.value  # (a name: the same object, ``t = a + b; a = t``)
                out += [value.id] if isinstance(value, gast.Name) else self.copy_sources(value)
        return [c for c in out if is_container(self.kinds.get(c)) or c in self.ctx.containers]

    def copy_sources(self, value) -> list:
        """The names ``value`` makes a new list, tuple or dict holding the entries of
        (``lst.copy()``, ``list(lst)``, ``lst[a:b]``, ``dict(d, k=v)``, ``a + b``), else []."""
        if self.augmented_value(value):
            return [self.augmented_value(value)]
        if isinstance(value, gast.Call) and not value.keywords:
            func = value.func
            if isinstance(func, gast.Attribute) and func.attr == "copy" and not value.args \
                    and isinstance(func.value, gast.Name):
                return [func.value.id]
            if len(value.args) == 1 and isinstance(value.args[0], gast.Name) and any(
                    self.ctx.resolver.resolve(func) is f for f in _SHALLOW_COPIES):
                return [value.args[0].id]
            if self.ctx.resolver.resolve(func) is merged_dict:  # ({**d}, dict(d, k=v))
                return [a.id for a in value.args if isinstance(a, gast.Name)]
        elif isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Mult)):
            # (``a + b`` of lists or tuples holds both's objects, ``a * 2`` a's; the normal form's
            # ``a += b`` is ``t = a + b; a = keep_dtype(a, t)``: seed 717809)
            return [v.id for v in (value.left, value.right) if isinstance(v, gast.Name)]
        elif isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) \
                and isinstance(value.slice, gast.Slice):
            return [value.value.id]  # (lst[1:] holds some of them: taken for all)
        return []

    def augmented_value(self, value):
        """The ``x op v`` of ``x = keep_dtype(x, t)`` / ``x = in_place(x, t)`` (normalize's
        ``x op= v``: the result is ``t``'s array), else None."""
        if isinstance(value, gast.Call) and len(value.args) == 2 \
                and isinstance(value.args[1], gast.Name) \
                and any(self.ctx.resolver.resolve(value.func) is f
                        for f in (runtime.keep_dtype, runtime.in_place)):
            return value.args[1].id
        return None

    def copied_unknowns(self, container, seen=()) -> set:
        """The containers ``container`` shallow-copies (directly or through other copies) whose
        entries are not all known here: an argument's, a call's."""
        out = set()
        for source in self.copied_from(container):
            if source in seen:
                continue
            displayed = all(isinstance(st.value, (gast.List, gast.Dict, gast.Tuple))
                            for st in self.layout.simple
                            if isinstance(st, gast.Assign) and target_of(st)[0] == source)
            if source in self.params or not (self.entries(source) or displayed):
                out.add(source)  # (a new {} holds what is stored into it: known here)
            out |= self.copied_unknowns(source, seen + (container,))
        return out

    def shared_entries(self, container) -> set:
        """Names whose arrays were put into ``container`` and may be reached otherwise too."""
        params = self.params
        stored = self.entries(container)
        written = {target_of(s)[0] for s in self.layout.simple
                   if getattr(s, "ad_element_of", None) is not None}
        reads = {}
        for s in self.layout.simple:
            value = getattr(s, "value", None)
            items = value.values if isinstance(value, gast.Dict) else getattr(value, "elts", []) \
                if isinstance(value, (gast.List, gast.Tuple, gast.Set)) else []
            held = [e.id for e in items if isinstance(e, gast.Name)]
            # (a display holding the array twice, {'b': v, 'h': v}: two holders)
            for n in set(loads(s)):
                reads[n] = reads.get(n, 0) + max(1, held.count(n))
        viewed = {b for bases in self.layout.views.values() for b in bases}
        repeated = self.repeated(container)  # ([a] * 2 holds a twice)
        # (a copy of an argument's list holds the caller's arrays: seed 651624)
        return self.copied_unknowns(container) | {v for v in stored
                # (a shape-() value may be a 0-d array: np.where(c, a, b) of numbers; seed
                # 1386421)
                if v not in written and self.kinds.get(v) != FLOAT and (
                    v in params or (v in self.layout.views and not self.fresh_result_entry(v))
                    or v in viewed or reads.get(v, 0) > 1 or repeated)}

    def fresh_result_entry(self, var) -> bool:
        """Whether ``var`` is an entry of the tuple a call returned that holds none of the
        arrays it was given (``da, dw, db = affine_backward(dout, cache)``: new arrays), read
        from it only by unpacking."""
        bases = self.layout.views.get(var, ())
        return bool(bases) and all(
            self.unpacked_and_checked(b) and any(
                isinstance(st, gast.Assign) and target_of(st)[0] == b
                and isinstance(st.value, gast.Call) and not self.returned_arguments(st.value)
                and _user_call(st.value, self.ctx.resolver)
                for st in self.layout.simple)
            for b in bases)

    def repeated(self, container, seen=()) -> bool:
        """Whether ``container`` may be (a copy of) a list or tuple repeated by ``*``
        (``[a] * 2``: each entry held at several places)."""
        for s in self.layout.simple:
            if isinstance(s, gast.Assign) and target_of(s)[0] == container \
                    and isinstance(s.value, gast.BinOp) and isinstance(s.value.op, gast.Mult):
                return True
        return any(self.repeated(c, seen + (container,)) for c in self.copied_from(container)
                   if c not in seen and c != container)

    def unpacked_entry(self, value):
        """For ``t[i]`` (``i`` an int) of a name bound once, to a tuple display: the name of its
        entry ``i``, or False when that entry is no name (a constant); else None."""
        if not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)
                and isinstance(value.slice, gast.Constant) and type(value.slice.value) is int
                and len(self.layout.binds.get(value.value.id, ())) == 1):
            return None
        for st in self.layout.bindings(value.value.id):
            if isinstance(st, gast.Assign):
                display = st.value
                if not isinstance(display, gast.Tuple) or any(
                        isinstance(e, gast.Starred) for e in display.elts) \
                        or not -len(display.elts) <= value.slice.value < len(display.elts):
                    return None
                elt = display.elts[value.slice.value]
                return elt.id if isinstance(elt, gast.Name) else False
        return None

    def unpacked_and_checked(self, var) -> bool:
        """``only_unpacked``, the check of the number of values unpacked aside."""
        def unpacking(st):
            value = st.value
            if isinstance(st, gast.Expr):
                return isinstance(value, gast.Call) \
                    and self.ctx.resolver.resolve(value.func) is runtime.check_unpacking
            return isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) \
                and value.value.id == var and isinstance(value.slice, gast.Constant) \
                and type(value.slice.value) is int

        reads = [st for st in self.layout.simple if var in loads(st)]
        return var in self.ctx.temps and len(self.layout.binds.get(var, ())) == 1 \
            and bool(reads) and all(isinstance(st, (gast.Assign, gast.Expr)) and unpacking(st)
                                    for st in reads)

    def only_unpacked(self, var) -> bool:
        """Whether ``var``, a temporary bound once, is read only as ``var[i]`` of int ``i``."""
        if var not in self.ctx.temps or len(self.layout.binds.get(var, ())) != 1:
            return False
        reads = [st for st in self.layout.simple if var in loads(st)]
        return bool(reads) and all(
            isinstance(st, gast.Assign) and self.unpacked_entry(st.value) is not None
            and st.value.value.id == var for st in reads)

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
        containers = sorted({t for st in self.layout.simple for t in target_of(st) if t})
        grown = True
        while grown:  # (and the containers holding those: store = {'i': [h]})
            grown = False
            for container in containers:
                if container in seen_as \
                        or not seen_as.intersection(self.entries(container, before=s)):
                    continue
                seen_as.add(container)
                grown = True
                entries = {v for v, bases in self.layout.views.items()
                           if container in bases and self.may_run_before(v, s)}
                if entries or self.read_after(container, s):
                    found |= {container} | entries
        return {n for n in found if n not in self.ctx.temps} or found


def _user_call(call, resolver) -> bool:
    """Whether ``call`` calls a function of the user's (whose returns ``effects`` reads)."""
    fn = resolver.resolve(call.func)
    return isinstance(getattr(fn, "__func__", fn), types.FunctionType) \
        and not is_library_function(getattr(fn, "__func__", fn))
