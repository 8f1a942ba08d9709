"""Blocks, branches and loops in forward mode: the ``ControlFlow`` mixin of ``ForwardMode``
transforms a block statement by statement (``transform``), keeps the control flow as written,
and merges the tangents' state where branches join (``transform_if``) and at a loop's head
(``transform_loop``, to a fixed point), materialising the zeros a path leaves unbound."""
from __future__ import annotations

import gast

from ..ir import if_, in_region_of, located, not_, rebuilt


class ControlFlow:
    """Blocks, ``if`` and loops (a mixin of ``ForwardMode``; ``transform_simple`` and the tangent
    state come from its other mixins)."""

    def transform(self, stmts) -> list:
        out = []
        for s in stmts:
            start = len(out)
            self.transform_statement(s, out)
            in_region_of(out[start:], s)
        return out

    def transform_statement(self, s, out):
        """Append the tangent code of ``s`` to ``out``."""
        if isinstance(s, gast.If):
            self.transform_if(s, out)
        elif isinstance(s, (gast.For, gast.While)):
            self.transform_loop(s, out)
        elif isinstance(s, gast.With):
            if not getattr(s, "ad_hook", False):  # a context manager: tangents inside it too
                out.append(located(gast.With(items=s.items, body=self.transform(s.body),
                                             type_comment=None), s))
            # (gradient hooks belong to the backward pass)
        else:
            self.transform_simple(s, out)

    def enter_branch(self, s):
        """Called before each branch of an ``if``, and each pass over a loop body, is
        transformed."""

    def transform_if(self, s, out):
        start_live, start_owned, start_zero = set(self.live), set(self.owned), set(self.maybe_zero)
        self.enter_branch(s)
        body = self.transform(s.body)
        body_live, body_owned, body_zero = self.live, self.owned, self.maybe_zero
        self.live, self.owned, self.maybe_zero = set(start_live), set(start_owned), set(start_zero)
        self.enter_branch(s)
        orelse = self.transform(s.orelse)
        else_live, else_owned = self.live, self.owned
        self.live = body_live | else_live
        self.owned = body_owned & else_owned
        self.maybe_zero = body_zero | self.maybe_zero  # (0.0 after the if when after either branch)
        self.materialize(self.live - body_live, body, s)
        self.materialize(self.live - else_live, orelse, s)
        if orelse and _is_attempt(s):
            # the body may raise and set the test False: the other branch's zeros then too
            out.append(rebuilt(if_(s.test, body), s))
            out.append(rebuilt(if_(not_(s.test.id), orelse), s))
            return
        out.append(rebuilt(if_(s.test, body, orelse), s))

    def transform_loop(self, s, out):
        """Tangents live at the end of the body are live (as 0.0) at its head; tangents the body
        updates in place are owned before the loop."""
        entry = set(self.live)
        entry_zero = set(self.maybe_zero)

        back_zero = set()

        def generate():
            # tangents that enter the loop as the scalar 0.0 must be indexed through element()
            # (each pass from the entry's state: a body that makes one dense does so only after
            # its first iteration's reads), and so must those a pass may leave as 0.0 (``x = c``
            # in a branch of the body: seed 704338)
            head = set(self.live), set(self.owned), set(self.wants_owned)
            while True:
                self.live, self.owned, self.wants_owned = map(set, head)
                head_zero = entry_zero | (self.live - entry) | back_zero
                self.maybe_zero = set(head_zero)
                self.enter_branch(s)
                body = self.transform(s.body)
                if self.maybe_zero <= head_zero:
                    break
                back_zero.update(self.maybe_zero)
            # a tangent owned before the loop is shaped like its primal there: only for a primal
            # the loop does not rebind
            self.wants_owned = {v for v in self.wants_owned if not self.plan.layout.bound_in(v, s)}
            return body
        body, (head_live, head_owned), (end_live, _), (entry_live, entry_owned) = \
            self.loop_fixpoint(generate)
        self.live, self.owned = set(entry_live), set(entry_owned)
        self.materialize(head_live - entry_live - head_owned, out, s)
        for v in sorted(head_owned - entry_owned):
            self.ensure_owned(v, out, s)
        tail = []
        self.materialize(head_live - end_live, tail, s)
        if getattr(s, "ad_break_flag", None) and body:
            # before the trailing ``if broke: break``: the pass that breaks leaves with them too
            # (seed 531247: a stale tangent after the loop)
            body[-1:-1] = tail
        else:
            body.extend(tail)
        self.live, self.owned = set(head_live), set(head_owned)
        if isinstance(s, gast.For):
            loop = gast.For(target=s.target, iter=s.iter, body=body, orelse=[], type_comment=None)
        else:
            loop = gast.While(test=s.test, body=body, orelse=[])
        out.append(rebuilt(loop, s))


def _is_attempt(s) -> bool:
    """``if try_ok:`` holding the body of a ``try`` whose handler sets ``try_ok`` False (see
    ``normalize.attempts``)."""
    handlers = getattr(s.body[0], "ad_try", None) or () if s.body else ()
    return isinstance(s.test, gast.Name) and any(
        getattr(h, "ad_attempt_flag", None) == s.test.id for h in handlers)
