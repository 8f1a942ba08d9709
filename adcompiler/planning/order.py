"""Program order of one normalised function, the ``ProgramOrder`` mixin of ``SharedMemory``:
which statements may run before which (``runs_before``, ``may_run_before``, ``dominates``,
``rebound_between``) and where a value may still be read or seen (``read_after``,
``seen_after``)."""
from __future__ import annotations

import gast

from ..ir import loads, target_of, walk
from .liveness import live_after


class ProgramOrder:
    """Which statements may run before which, and where a name may still be read (a mixin of
    ``SharedMemory``, whose state it reads: ``fdef``, ``layout``, ``params``, ``result``,
    ``ctx``; it caches the blocks around each statement for ``dominates`` in ``_chains``)."""

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

    def rebound_before_read(self, var, stmt) -> bool:
        """Whether what ``var`` holds when ``stmt`` runs is never read afterwards: every binding of
        ``var`` follows ``stmt`` in the pass of the innermost loop around it, and no read comes
        between ``stmt`` and the first of them (``bp = d['b']`` after a write into ``d['W']``'s
        array, in a loop: the earlier pass's ``bp`` is not read again)."""
        lay = self.layout
        at, loops = lay.pos[id(stmt)], lay.loops[id(stmt)]
        binds = lay.binds.get(var) or []
        if var in self.params or not binds or not loops or var == self.result:
            return False
        loop = loops[-1]
        if any(not at < p <= lay.span[id(loop)][1] for p in binds):
            return False
        # (a binding run on every pass, in the loop's own block, before any read after stmt)
        first = min((lay.pos[id(b)] for b in lay.simple if target_of(b)[0] == var
                     and (self.chain_of(b) or ((None,),))[-1][0] == id(loop.body)),
                    default=None)
        return first is not None and not any(
            at < lay.pos[id(other)] <= first and var in loads(other) for other in lay.simple)

    def live_after(self, var, stmt) -> bool:
        """Whether the value ``var`` holds once ``stmt`` has run may be read afterwards, on some
        path before ``var`` is bound again (``liveness``); always for a parameter, the result and
        a name a nested function reads."""
        if var in self.params or var == self.result:
            return True
        known = self.__dict__.setdefault("_live", {})
        if known.get(var, (None,))[0] != len(self.layout.simple):
            known[var] = (len(self.layout.simple), live_after(self.fdef.body, var),
                          self.in_closure(var))
        return known[var][2] or id(stmt) in known[var][1]

    def dead_at(self, var, stmt) -> bool:
        """Whether what ``var`` holds when ``stmt`` runs is never read: ``var`` is bound once, and
        each read of it comes after that binding, which runs before it in every pass of the
        same loops, with ``stmt`` not in between (``q = ps[j]`` read in an inner loop before
        ``stmt``)."""
        lay = self.layout
        if var in self.params or len(lay.binds.get(var, ())) != 1 or var == self.result:
            return False
        binding = next((b for b in lay.simple if target_of(b)[0] == var), None)
        at, bound = lay.pos[id(stmt)], lay.binds[var][0]
        reads = [r for r in lay.simple if var in loads(r)]
        return binding is not None and all(
            lay.loops[id(r)][:len(lay.loops[id(binding)])] == lay.loops[id(binding)]
            and self.dominates(binding, r) and not bound < at < lay.pos[id(r)]
            and (lay.loops[id(r)] == lay.loops[id(binding)]
                 or not any(lay.span[id(loop)][0] <= at <= lay.span[id(loop)][1]
                            for loop in lay.loops[id(r)][len(lay.loops[id(binding)]):]))
            for r in reads)

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

    def chain_of(self, stmt):
        """The blocks around statement ``stmt`` and its place in each ((id of the block, index),
        outermost first), or None."""
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
        return self._chains.get(id(stmt))

    def dominates(self, first, stmt) -> bool:
        """Whether statement ``first`` runs before ``stmt`` on every path to it: ``stmt`` comes
        after it in its block, or inside a later statement of that block."""
        mine, other = self.chain_of(first), self.chain_of(stmt)
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
