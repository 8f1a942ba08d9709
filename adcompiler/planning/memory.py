"""What one normalised function's arrays share: which names may share memory
(``sharing_memory``, ``reachable_memory``) and which may depend on ``wrt`` at all
(``reached_by``), with the writes among the others recorded on every array sharing their memory.
``SharedMemory`` gathers the program order (``order``) and what lists and dicts hold
(``contents``); it is the base of ``Aliasing``, which adds the views and the refusals."""
from __future__ import annotations

import inspect
import types

import gast
import numpy as np

from .. import effects, rules
from ..analysis import is_container
from ..ir import loads, target_of, walk
from ..parse import is_user_function
from .contents import ContainerContents
from .order import ProgramOrder


class SharedMemory(ContainerContents, ProgramOrder):
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
        the lists, tuples and dicts that hold one of them (and what is read from them: ``for idx
        in [W]``, idx may be W; all their entries when ``var`` is read from one)."""
        stores = [(into, set(names), True) for _, into, names in self.stores()
                  if is_container(self.kinds.get(into)) or into in self.ctx.containers]
        # (a shallow copy holds the same objects: ``terms = terms + [w]``, ``list(lst)``)
        stores += [(c, set(self.copied_from(c)), True) for c in self.containers()]
        # (a temporary handed over to a name is that name's array: ``t1 = g / n; g = t1``)
        stores += [(temp, set(names), False) for temp, names in self.layout.aliases.items()]
        # (a container found only as holding one of them, ``holding``: what else is stored into
        # it is not var's array, ``ret = (loss, dW, hs[-1])`` of a written dW; what is read from
        # it may be)
        found, holding = set(), set()

        def add(start, holder=False):
            reached, whole = self._sharing(start, holder)
            holding.difference_update(whole)
            holding.update((reached - whole) - found)
            grown = not reached <= found
            found.update(reached)
            return grown
        add(var)
        grown = True
        while grown:
            grown = False
            for into, names, contains in stores:
                if (into in found and into not in holding) or (not contains and names & found):
                    grown |= any([add(into)] + [add(n) for n in names])
                elif contains and names & found and into not in found:
                    grown |= add(into, holder=True)
        return found

    def sharing_memory(self, var) -> set:
        """``var`` and every name connected to it by views, in either direction; but not, through
        a tuple display holding one of them, the tuple's other entries (``ret = (loss, dW,
        hs[-1])`` holds dW, whose memory is not ``hs``'s; what is read from the tuple may be)."""
        return self._sharing(var)[0]

    def _sharing(self, var, holder=False) -> tuple:
        """(``sharing_memory(var)``, the names in it reached otherwise than only as a tuple
        holding one of them); ``holder``: ``var`` is found only as holding one."""
        views = self.layout.views
        found, whole, todo = {var}, set() if holder else {var}, [(var, holder)]
        while todo:
            n, holds_n = todo.pop()
            near = self.layout.same_memory(n)
            if holds_n:  # (reached from one of its entries only)
                near = near - views.get(n, set())
            for m in near - {n}:
                holds = n in views.get(m, ()) and self.tuple_display(m)
                if m not in found or (not holds and m not in whole):
                    found.add(m)
                    if not holds:
                        whole.add(m)
                    todo.append((m, holds))
        return found, whole

    def tuple_display(self, var) -> bool:
        """Whether every binding of ``var`` is a tuple display (``ret = (loss, dW)``)."""
        bindings = self.layout.bindings(var)
        return bool(bindings) and len(bindings) == len(self.layout.binds.get(var, ())) and all(
            isinstance(b, gast.Assign) and isinstance(b.value, gast.Tuple) for b in bindings)

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
            written.update(a for n in calls if not self.pure_call(n)
                           for a in self.maybe_written(n))
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

    def maybe_written(self, call) -> list:
        """The names passed to ``call`` that it may write into: for a function of the user's,
        those given to the parameters its source writes into (``effects``), else all."""
        passed = call.args + [k.value for k in call.keywords]
        fn = self.ctx.resolver.resolve(call.func)
        if isinstance(fn, types.FunctionType) and is_user_function(fn) \
                and not any(isinstance(a, gast.Starred) for a in call.args) \
                and all(k.arg is not None for k in call.keywords):
            try:
                bound = inspect.signature(fn).bind(*call.args, **{
                    k.arg: k.value for k in call.keywords})
            except (TypeError, ValueError):
                bound = None
            if bound is not None:
                written = effects.written_parameters(fn)
                passed = [a for p, v in bound.arguments.items() if p in written
                          for a in (v if isinstance(v, tuple) else v.values()
                                    if isinstance(v, dict) else [v])]
        return [a.id for a in passed if isinstance(a, gast.Name)]

    def pure_call(self, call) -> bool:
        """Whether ``call`` is of a function with a derivative rule that writes into none of its
        arguments (``np.dot(W, x)``; not ``np.copyto``, ``out=``, ``ufunc.at``)."""
        fn = self.ctx.resolver.resolve(call.func)
        return rules.lookup(fn) is not None and not effects.writes_first_argument(fn) \
            and not any(k.arg == "out" or k.arg is None for k in call.keywords)


_SHAPE_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype"})
