"""Shapes around loops: the ``LoopShapes`` mixin of ``ResolveShapes`` runs a loop's body with
what every iteration keeps of the values the loop binds (a fixpoint over dry runs of the body,
which rewrite nothing), and remembers what the tape's pushes held, for its pops."""
from __future__ import annotations

import gast

from .ir import walk
from .shape_values import PY, UNKNOWN, Value, facts, meet


class LoopShapes:
    """Loops and tape pushes for ``ResolveShapes`` (whose ``block``, ``is_range``, ``dry``,
    ``taped`` and ``walked`` it uses)."""

    def binds(self, st) -> set:
        """The names ``st`` binds, walked once per statement: nested loops are visited again in
        every dry run of the loops around them, and walking each again made deep nests
        quadratic. (What a statement binds does not change: this pass's rewrites keep targets.)"""
        known = self.walked.get(id(st))
        if known is None or known[0] is not st:
            nodes = walk(st)
            known = self.walked[id(st)] = (st, {n.id for n in nodes if isinstance(n, gast.Name)
                                                and isinstance(n.ctx, gast.Store)},
                                           any(isinstance(n, _EARLY_EXITS) for n in nodes))
        return known[1]

    def leaves_early(self, st) -> bool:
        """Whether a loop's body can leave or restart the loop (or the function) early."""
        self.binds(st)
        return self.walked[id(st)][2]

    def push(self, names, env) -> None:
        """What a push on the tape holds: each name's value, as a copy would be (no identity)."""
        for v in names:
            known = env.get(v, UNKNOWN)
            known = Value(known.shape, known.dtype) if known.shape not in (None, PY) else None
            if v in self.taped:
                known = known and self.taped[v] and meet(self.taped[v], known, v)
            self.taped[v] = known

    def loop(self, st, env) -> None:
        """A ``for`` or ``while`` loop: its body runs with what every iteration keeps of the
        values the loop binds (``loop_head``), which is also what holds after it."""
        bound = self.binds(st)
        head = None if self.dry else self.loop_head(st, env, bound)
        for v in bound:
            env.pop(v, None)
            if head is not None and v in head and not (
                    isinstance(st, gast.For) and v in self.binds(st.target)):
                env[v] = head[v]
        inner = dict(head if head is not None else env)
        if isinstance(st, gast.For):
            for v in self.binds(st.target):
                inner.pop(v, None)
            if isinstance(st.target, gast.Name) and self.is_range(st.iter):
                inner[st.target.id] = Value(PY, "int")
        self.block(st.body, inner)
        self.block(st.orelse, dict(env))

    def loop_head(self, st, env, bound):
        """The values the loop's names hold at the head of every iteration: those they enter
        with, kept where a dry run of the body (nothing rewritten, inner loops taken as knowing
        nothing) leaves them with the same shape and dtype, until nothing changes; None when
        that takes more than three runs or the body can leave or restart early."""
        if self.leaves_early(st):
            return None
        targets = self.binds(st.target) if isinstance(st, gast.For) else set()
        head = {v: k for v, k in env.items() if v not in targets}
        for _ in range(3):
            inner = dict(head)
            if isinstance(st, gast.For) and isinstance(st.target, gast.Name) \
                    and self.is_range(st.iter):
                inner[st.target.id] = Value(PY, "int")
            self.dry = True
            try:
                self.block(st.body, inner)
            finally:
                self.dry = False
            kept = {v: meet(k, inner.get(v), v) if v in bound else k for v, k in head.items()}
            kept = {v: k for v, k in kept.items() if k is not None}
            if all(v in kept and facts(kept[v]) == facts(k) for v, k in head.items()):
                return kept  # (not head: a value rebound in the body keeps no more than facts)
            head = kept
        return None


_EARLY_EXITS = (gast.Break, gast.Continue, gast.Return, gast.Try)
