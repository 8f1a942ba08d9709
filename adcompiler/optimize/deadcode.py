"""Dead-code elimination by liveness over structured control flow: no adjoint nobody reads, no
primal value nobody uses, no pure call whose result is unused."""
from __future__ import annotations

import gast

from ..ir import COMMENT, loads, walk


class DeadCode:
    """Liveness-based removal of statements whose results nobody reads. Loops first iterate
    liveness to a fixpoint without changing anything (``apply`` off), then prune once."""

    def __init__(self, is_pure_call):
        self.is_pure_call = is_pure_call
        self.apply = True

    def pure(self, expr) -> bool:
        for node in walk(expr):
            if isinstance(node, gast.Call) and not self.is_pure_call(node):
                return False
            if isinstance(node, (gast.Yield, gast.YieldFrom, gast.Await, gast.NamedExpr)):
                return False
        return True

    def block(self, stmts, live_out: set):
        """(kept statements, names live before them)."""
        live = set(live_out)
        kept = []
        for s in reversed(stmts):
            s, live = self.stmt(s, live)
            if s is not None:
                kept.append(s)
        kept.reverse()
        return kept, live

    def stmt(self, s, live):
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, gast.Name):
                if target.id not in live and self.pure(s.value):
                    return None, live
                return s, (live - {target.id}) | set(loads(s.value))
            return s, live | set(loads(target)) | set(loads(s.value))
        if isinstance(s, gast.AugAssign):  # (reads its target too)
            return s, live | {n.id for n in walk(s.target)
                              if isinstance(n, gast.Name)} | set(loads(s.value))
        if isinstance(s, gast.Return):
            return s, set(loads(s.value)) if s.value is not None else set()
        if isinstance(s, gast.Expr):
            if self.pure(s.value) and not _is_comment(s):
                return None, live
            return s, live | set(loads(s.value))
        if isinstance(s, gast.If):
            body, live_body = self.block(s.body, live)
            orelse, live_else = self.block(s.orelse, live)
            if not _effective(body) and not _effective(orelse) and self.pure(s.test):
                return None, live
            if self.apply:
                s.body = body or [gast.Pass()]
                s.orelse = orelse
                if not _effective(body) and orelse:  # if t: pass else: ... -> if not t: ...
                    negated = isinstance(s.test, gast.UnaryOp) and isinstance(s.test.op, gast.Not)
                    s.test = (
                        s.test.operand if negated else gast.UnaryOp(op=gast.Not(), operand=s.test)
                    )
                    s.body, s.orelse = orelse, []
            return s, live_body | live_else | set(loads(s.test))
        if isinstance(s, (gast.For, gast.While)):
            target = (
                {n.id for n in walk(s.target) if isinstance(n, gast.Name)}
                if isinstance(s, gast.For)
                else set()
            )
            head = set(loads(s.iter if isinstance(s, gast.For) else s.test))
            out = set(live) | (head if isinstance(s, gast.While) else set())
            apply, self.apply = self.apply, False  # liveness only, until it is stable
            while True:
                _, live_body = self.block(s.body, out)
                new = out | (live_body - target)
                if new == out:
                    break
                out = new
            self.apply = apply
            body, live_body = self.block(s.body, out)
            if (
                isinstance(s, gast.For)
                and not _effective(body)
                and self.pure(s.iter)
                and not target & live
            ):
                return None, live  # (a loop that binds a name read afterwards stays, even if empty)
            if self.apply:
                s.body = body or [gast.Pass()]
            return s, live | (live_body - target) | head
        if isinstance(s, gast.Pass):
            return None, live
        return s, live | set(loads(s))


def _is_comment(s) -> bool:
    return (
        isinstance(s.value, gast.Call)
        and isinstance(s.value.func, gast.Name)
        and s.value.func.id == COMMENT
    )


def _effective(stmts) -> bool:
    return any(not isinstance(s, gast.Pass) and not (isinstance(s, gast.Expr) and _is_comment(s))
               for s in stmts)
