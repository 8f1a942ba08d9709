"""What one normalised function's arrays share, in program order: which statements may run before
which, where a name may still be read, what lists and dicts hold, and which names may depend
on ``wrt`` at all (``reached_by``), with the writes among the others recorded on every array
sharing their memory. The base of ``Aliasing``, which adds the views and the refusals."""
from __future__ import annotations

import copy

import gast
import numpy as np

from .. import effects, rules, runtime
from ..analysis import FLOAT, SCALAR, is_container
from ..ir import list_method, loads, target_of, walk
from ..rules.helpers.containers import merged_dict

# (copies of a list or dict that hold the same objects)
_SHALLOW_COPIES = (list, tuple, dict, copy.copy)


class SharedMemory:
    """Program-order and memory facts of one normalised function (``fdef``, its ``layout`` and
    ``kinds``; ``params`` its parameters, ``result`` the name it returns)."""

    def __init__(self, fdef, layout, kinds, params, result, ctx):
        self.fdef, self.layout, self.kinds = fdef, layout, kinds
        self.params, self.result, self.ctx = params, result, ctx
        self.loc = ctx.loc
        self._stores = None
        self.reached = None  # (``reached_by(wrt)``, set once the views are known)

    def record_shared_writes(self):
        """A write into an array no derivative follows (outside ``reached``: allowed through
        views) changes every array that may share its memory, siblings included (``t = r[0]``
        then ``for item in r: item += 2`` changes ``t``): recorded as a write into each, so the
        backward pass keeps what it reads of them as it was."""
        # (from the writes as recorded before: a list extended while it is read would grow
        # with every name of a large web, seed 1079794)
        recorded = {var: list(positions) for var, positions in self.layout.mutates.items()}
        for var, positions in recorded.items():
            if var not in self.reached:
                for other in self.reachable_memory(var) - {var}:
                    known = self.layout.mutates.setdefault(other, [])
                    known.extend(p for p in positions if p not in known)

    def reachable_memory(self, var) -> set:
        """The names that may share ``var``'s memory: through views, temporaries handed over, and
        the lists, tuples and dicts that hold one of them (their entries, and what is read from
        them: ``for idx in [W]``, idx may be W)."""
        found = self.sharing_memory(var)
        stores = [(into, set(names)) for _, into, names in self.stores()
                  if is_container(self.kinds.get(into)) or into in self.ctx.containers]
        # (a shallow copy holds the same objects: ``terms = terms + [w]``, ``list(lst)``)
        stores += [(c, set(self.copied_from(c))) for c in self.containers()]
        # (a temporary handed over to a name is that name's array: ``t1 = g / n; g = t1``)
        stores += [(temp, set(names)) for temp, names in self.layout.aliases.items()]
        grown = True
        while grown:
            grown = False
            for into, names in stores:
                if into in found or names & found:
                    more = set().union(self.sharing_memory(into), *map(self.sharing_memory, names))
                    grown |= not more <= found
                    found |= more
        return found

    def containers(self) -> set:
        """The names bound to a list, tuple or dict somewhere."""
        return {t for s in self.layout.simple for t in target_of(s)
                if t and (is_container(self.kinds.get(t)) or t in self.ctx.containers)}

    def sharing_memory(self, var) -> set:
        """``var`` and every name connected to it by views, in either direction."""
        found, todo = {var}, [var]
        while todo:
            for n in self.layout.same_memory(todo.pop()) - found:
                found.add(n)
                todo.append(n)
        return found

    def reached_by(self, wrt) -> set:
        """Names whose values may depend on ``wrt`` in any way, known before planning: a statement
        reading one makes what it binds or writes into one, and every name passed to a call in
        it or whose method it calls (which the call may write into); an array shares this with
        the arrays it may share memory with, a list or dict with what was put into it. A
        superset of the varied names: an in-place write among names outside it needs no
        derivative."""
        stored = {}
        for _, container, names in self.stores():
            if not self.only_unpacked(container):  # (xs, hs = {}, {}: each read on its own)
                stored.setdefault(container, set()).update(names)
        flows = []  # (names a statement reads, names it may bind or write into)
        for s in self.layout.simple:
            calls = [n for n in walk(s) if isinstance(n, gast.Call)]
            written = {t for t in target_of(s) if t}
            written.update(a.id for n in calls if not self.pure_call(n)
                           for a in n.args + [k.value for k in n.keywords]
                           if isinstance(a, gast.Name))
            written.update(n.func.value.id for n in calls  # (buf.fill(v) writes buf; not np)
                           if isinstance(getattr(n.func, "value", None), gast.Name)
                           and (n.func.value.id in self.layout.binds
                                or n.func.value.id in self.params))
            entry = self.unpacked_entry(s.value) if isinstance(s, gast.Assign) else None
            # (xs = t[0] of t = (a, b): reads a, not b; x.shape reads no value of x)
            reads = {entry} if isinstance(entry, str) else set() if entry is False \
                or self.shape_read(s) else set(loads(s))
            flows.append((reads, written))
        reached = set(wrt)
        while True:
            grown = set(reached)
            for reads, written in flows:
                if not grown.isdisjoint(reads):
                    grown |= written
            for n in list(grown):
                grown |= self.layout.same_memory(n) | stored.get(n, set())
            if grown == reached:
                return reached
            reached = grown

    def unpacked_entry(self, value):
        """For ``t[i]`` (``i`` an int) of a name bound once, to a tuple display: the name of its
        entry ``i``, or False when that entry is no name (a constant); else None."""
        if not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)
                and isinstance(value.slice, gast.Constant) and type(value.slice.value) is int
                and len(self.layout.binds.get(value.value.id, ())) == 1):
            return None
        for st in self.layout.simple:
            if isinstance(st, gast.Assign) and target_of(st)[0] == value.value.id:
                display = st.value
                if not isinstance(display, gast.Tuple) or any(
                        isinstance(e, gast.Starred) for e in display.elts) \
                        or not -len(display.elts) <= value.slice.value < len(display.elts):
                    return None
                elt = display.elts[value.slice.value]
                return elt.id if isinstance(elt, gast.Name) else False
        return None

    def only_unpacked(self, var) -> bool:
        """Whether ``var``, a temporary bound once, is read only as ``var[i]`` of int ``i``."""
        if var not in self.ctx.temps or len(self.layout.binds.get(var, ())) != 1:
            return False
        reads = [st for st in self.layout.simple if var in loads(st)]
        return bool(reads) and all(
            isinstance(st, gast.Assign) and self.unpacked_entry(st.value) is not None
            and st.value.value.id == var for st in reads)

    def shape_read(self, s) -> bool:
        """Whether statement ``s`` binds a shape, size or dtype, or an array of one value made
        like another (``t = x.shape``, ``n = len(x)``, ``np.zeros_like(x)``): it depends on no
        value of the array it reads."""
        value = getattr(s, "value", None)
        if isinstance(value, gast.Attribute):
            return value.attr in _SHAPE_ATTRIBUTES
        if not isinstance(value, gast.Call) or value.keywords or len(value.args) != 1:
            return False
        fn = self.ctx.resolver.resolve(value.func)
        return any(fn is f for f in (len, np.shape, np.ndim, np.size, np.zeros_like,
                                     np.ones_like, np.empty_like))

    def pure_call(self, call) -> bool:
        """Whether ``call`` is of a function with a derivative rule that writes into none of its
        arguments (``np.dot(W, x)``; not ``np.copyto``, ``out=``, ``ufunc.at``)."""
        fn = self.ctx.resolver.resolve(call.func)
        return rules.lookup(fn) is not None and not effects.writes_first_argument(fn) \
            and not any(k.arg == "out" or k.arg is None for k in call.keywords)

    def read_after(self, var, stmt) -> bool:
        """Whether ``var`` may be read after ``stmt`` runs: later in program order, or anywhere in a
        loop around ``stmt``."""
        lay = self.layout
        at = lay.pos[id(stmt)]
        loops = lay.loops[id(stmt)]
        lo = lay.span[id(loops[0])][0] if loops else at
        hi = lay.span[id(loops[0])][1] if loops else None
        for other in lay.simple:
            p = lay.pos[id(other)]
            if (p > at or (hi is not None and lo <= p <= hi)) and var in loads(other):
                return True
        return var == self.result

    def selected_before(self, var, stmt) -> bool:
        """Whether ``min``, ``max`` or ``sorted`` of ``var`` may run before ``stmt`` (earlier in
        program order, or in a loop around it): their backward pass compares the entries'
        values with the result."""
        lay = self.layout
        at = lay.pos[id(stmt)]
        loops = lay.loops[id(stmt)]
        lo, hi = (lay.span[id(loops[0])] if loops else (at, at))
        for other in lay.simple:
            call = getattr(other, "value", None)
            if (lay.pos[id(other)] < at or lo <= lay.pos[id(other)] <= hi) \
                    and isinstance(call, gast.Call) and var in loads(call) \
                    and any(self.ctx.resolver.resolve(call.func) is f for f in (min, max, sorted)):
                return True
        return False

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
                if v not in written and (self.kinds.get(v) not in (FLOAT, SCALAR)
                                         or v in self.ctx.zero_d_arrays) and (
                    v in params or v in self.layout.views or v in viewed or reads.get(v, 0) > 1
                    or repeated)}

    def repeated(self, container, seen=()) -> bool:
        """Whether ``container`` may be (a copy of) a list or tuple repeated by ``*``
        (``[a] * 2``: each entry held at several places)."""
        for s in self.layout.simple:
            if isinstance(s, gast.Assign) and target_of(s)[0] == container \
                    and isinstance(s.value, gast.BinOp) and isinstance(s.value.op, gast.Mult):
                return True
        return any(self.repeated(c, seen + (container,)) for c in self.copied_from(container)
                   if c not in seen and c != container)

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

    def copied_unknowns(self, container, seen=()) -> set:
        """The containers ``container`` shallow-copies (directly or through other copies) whose
        entries are not all known here: an argument's, a call's."""
        out = set()
        for source in self.copied_from(container):
            if source in seen:
                continue
            if source in self.params or not self.entries(source):
                out.add(source)
            out |= self.copied_unknowns(source, seen + (container,))
        return out

    def copied_from(self, container) -> list:
        """The containers ``container`` is bound to (itself or a shallow copy: the same
        entries)."""
        out = []
        for s in self.layout.simple:
            if isinstance(s, gast.Assign) and target_of(s)[0] == container:
                value = s.value  # (a name: the same object, ``t = a + b; a = t``)
                out += [value.id] if isinstance(value, gast.Name) else self.copy_sources(value)
        return [c for c in out if is_container(self.kinds.get(c)) or c in self.ctx.containers]

    def copy_sources(self, value) -> list:
        """The names ``value`` makes a new list, tuple or dict holding the entries of
        (``lst.copy()``, ``list(lst)``, ``lst[:]``, ``dict(d, k=v)``, ``a + b``), else []."""
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
                and isinstance(value.slice, gast.Slice) \
                and value.slice.lower is value.slice.upper is value.slice.step is None:
            return [value.value.id]
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

    def runs_before(self, first, stmt) -> bool:
        """Whether statement ``first`` may run before ``stmt``: earlier, or in a loop around
        both."""
        lay = self.layout
        p = lay.pos[id(first)]
        if lay.exclusive(p, lay.pos[id(stmt)]):
            return False
        return p < lay.pos[id(stmt)] or any(lay.span[id(loop)][0] <= p <= lay.span[id(loop)][1]
                                             for loop in lay.loops[id(stmt)])

    def rebound_between(self, var, first, stmt, aliasing=()) -> bool:
        """Whether ``var`` is rebound on every path from statement ``first`` to ``stmt``: by a
        binding that dominates ``stmt`` inside the innermost loop around both, and does not come
        between them in program order (``items = []`` of a comprehension in a loop: the list
        ``ws = items`` took in an earlier pass is not the one appended to now). The statements
        ``aliasing`` (bindings to the same object) do not count."""
        lay = self.layout
        common = [loop for loop in lay.loops[id(stmt)] if loop in lay.loops[id(first)]]
        at, start = lay.pos[id(stmt)], lay.pos[id(first)]
        return any(
            self.dominates(b, stmt) and (not common or common[-1] in lay.loops[id(b)])
            and not lay.pos[id(b)] < start < at
            for b in lay.simple if target_of(b)[0] == var and isinstance(b, gast.Assign)
            and b not in aliasing)

    def dominates(self, first, stmt) -> bool:
        """Whether statement ``first`` runs before ``stmt`` on every path to it: ``stmt`` comes
        after it in its block, or inside a later statement of that block."""
        if getattr(self, "_chains", None) is None:
            self._chains = chains = {}

            def visit(block, chain):
                for i, st in enumerate(block):
                    here = chain + ((id(block), i),)
                    chains[id(st)] = here
                    for field in ("body", "orelse"):
                        inner = getattr(st, field, None)
                        if isinstance(inner, list) and not isinstance(st, gast.Try):
                            visit(inner, here)
            visit(self.fdef.body, ())
        mine, other = self._chains.get(id(first)), self._chains.get(id(stmt))
        if mine is None or other is None or len(other) < len(mine):
            return False
        depth = len(mine) - 1
        return other[:depth] == mine[:depth] and other[depth][0] == mine[depth][0] \
            and other[depth][1] > mine[depth][1]

    def may_run_before(self, var, stmt, skip=()) -> bool:
        """Whether a binding of ``var`` (but those at the positions ``skip``) may run before
        ``stmt``: earlier in program order, or in a loop around ``stmt``, and not in the other
        arm of an ``if`` (parameters are bound before everything)."""
        lay = self.layout
        at = lay.pos[id(stmt)]
        return var in self.params or var not in lay.binds or any(
            (p < at or any(lay.span[id(loop)][0] <= p <= lay.span[id(loop)][1]
                           for loop in lay.loops[id(stmt)])) and not lay.exclusive(p, at)
            for p in lay.binds[var] if p not in skip)

    def viewed_before(self, var, stmt) -> bool:
        """Whether a binding of ``var`` that may make it a view (or the same array) of another
        name may run before ``stmt``: ``may_run_before`` without the bindings to constants
        (``retval = None`` makes no view)."""
        lay = self.layout
        return self.may_run_before(var, stmt, skip={
            lay.pos[id(st)] for st in lay.simple if isinstance(st, gast.Assign)
            and target_of(st)[0] == var and isinstance(st.value, gast.Constant)})


_SHAPE_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype"})
