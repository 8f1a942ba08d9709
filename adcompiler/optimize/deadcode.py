"""Dead-code elimination by liveness over structured control flow: no adjoint nobody reads, no
primal value nobody uses, no pure call whose result is unused."""
from __future__ import annotations

import gast

from ..ir import COMMENT, children, loads, walk
from ..tape_entries import popped


class DeadCode:
    """Liveness-based removal of statements whose results nobody reads. Loops first iterate
    liveness to a fixpoint without changing anything (``apply`` off), then prune once."""

    def __init__(self, is_pure_call, tape=None):
        self.is_pure_call = is_pure_call
        self.tape = tape
        self.unread: dict = {}  # id(a pop off the tape) -> (the pop, names it binds nobody reads)
        self.apply = True
        # id(loop body) -> (the body, live after the loop, live at the end of each pass, live at
        # its start): the last fixpoint of each loop, where the next one (of an enclosing loop's
        # next pass) starts, so nested loops cost no more than one pass more each
        self.fixpoints: dict = {}
        self.mentioned: dict = {}  # id(loop body) -> (the body, names in it, whether it returns)

    def pure(self, expr) -> bool:
        for node in walk(expr):
            if isinstance(node, gast.Call) and not self.is_pure_call(node):
                return False
            if isinstance(node, (gast.Yield, gast.YieldFrom, gast.Await, gast.NamedExpr)):
                return False
        return True

    def block(self, stmts, live_out: set):
        """(kept statements, names live before them)."""
        live = set(live_out)  # (this block's own set, which its statements update in place)
        kept = []
        for s in reversed(stmts):
            s, live = self.stmt(s, live)
            if s is not None:
                kept.append(s)
        kept.reverse()
        return kept, live

    def stmt(self, s, live):
        """(``s``, or None when it can go; names live before it, given ``live`` after it, which
        it may update in place: a copy per statement made long straight code quadratic)."""
        if isinstance(s, gast.Assign):
            return self.assignment(s, live)
        if isinstance(s, gast.AugAssign):  # (reads its target too)
            live |= _names_in(s.target)
            live.update(loads(s.value))
            return s, live
        if isinstance(s, gast.Return):
            return s, set(loads(s.value)) if s.value is not None else set()
        if isinstance(s, gast.Expr):
            if self.pure(s.value) and not _is_comment(s):
                return None, live
            live.update(loads(s.value))
            return s, live
        if isinstance(s, gast.If):
            return self.branch(s, live)
        if isinstance(s, (gast.For, gast.While)):
            return self.loop(s, live)
        if isinstance(s, gast.Pass):
            return None, live
        live.update(loads(s))
        return s, live

    def assignment(self, s, live):
        """``x = v``: gone when nobody reads ``x`` and ``v`` has no effect."""
        target = s.targets[0]
        if self.apply and self.tape is not None and popped(s, self.tape):
            self.unread[id(s)] = (s, set(popped(s, self.tape)) - live)
        if isinstance(target, gast.Name):
            if target.id not in live and self.pure(s.value):
                return None, live
            live.discard(target.id)
        else:
            live.update(loads(target))
        live.update(loads(s.value))
        return s, live

    def branch(self, s, live):
        """An ``if``, both arms pruned: gone when neither does anything and its test has no
        effect."""
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
        live_body |= live_else  # (the body's own set)
        live_body.update(loads(s.test))
        return s, live_body

    def loop(self, s, live):
        """A ``for`` or ``while``, its body pruned. A ``for`` goes when its body does nothing, its
        iterable has no effect and nothing after it reads its target."""
        is_for = isinstance(s, gast.For)
        target = _names_in(s.target) if is_for else set()
        head = set(loads(s.iter if is_for else s.test))
        # (a while loop reads its test after the last pass too)
        out, live_body = self.live_across(s.body, set(live) | (set() if is_for else head), target)
        body = s.body
        if self.apply:  # (liveness alone is known: the fixpoint's last pass found it)
            body, live_body = self.block(s.body, out)
        if is_for and not _effective(body) and self.pure(s.iter) and not target & live:
            return None, live  # (a loop that binds a name read afterwards stays, even if empty)
        if self.apply:
            s.body = body or [gast.Pass()]
        live.update(live_body - target)  # (not live_body itself: a fixpoint keeps it)
        live |= head
        return s, live

    def live_across(self, body, out: set, target: set) -> tuple:
        """(Names live at the end of each pass of a loop ``body`` binding ``target`` each pass,
        ``out`` being live after the loop -- a fixpoint, found without pruning anything --, names
        live at the start of the body then)."""
        out = frozenset(out)
        known = self.fixpoints.get(id(body))
        if known is not None and known[1] <= out:
            extra = out - known[2]
            if not extra or self.passes_through(body, extra):
                # (the fixpoint for fewer names live after the loop, with the names the body
                # leaves alone: the least one for these too, found without a pass -- nor a pass
                # of the loops inside, which made deep nests quadratic)
                return known[2] | extra, known[3] | extra
        # (a fixpoint for fewer names live after the loop is below this one: a start)
        start = out | known[2] if known is not None and known[1] <= out else out
        apply, self.apply = self.apply, False  # liveness only, until it is stable
        while True:
            _, live_body = self.block(body, start)
            new = start | (live_body - target)
            if new == start:
                break
            start = new
        self.apply = apply
        self.fixpoints[id(body)] = (body, out, start, live_body)
        return start, live_body


    def passes_through(self, body, names) -> bool:
        """Whether ``names`` are live before ``body`` whenever they are after it: the body
        neither mentions them nor returns."""
        mentioned, returns = self.mentions(body)
        return not returns and mentioned.isdisjoint(names)

    def mentions(self, body) -> tuple:
        """(The names in ``body``, whether it returns), found once for each loop body: a loop's
        takes those of the loops inside it."""
        known = self.mentioned.get(id(body))
        if known is not None and known[0] is body:
            return known[1], known[2]
        names, returns = set(), False
        stack = list(body)
        while stack:
            n = stack.pop()
            if isinstance(n, (gast.For, gast.While)):
                inner, inner_returns = self.mentions(n.body)
                names |= inner
                returns = returns or inner_returns
                stack += [part for part in (getattr(n, "target", None), getattr(n, "iter", None),
                                            getattr(n, "test", None)) if part is not None]
                stack += n.orelse
                continue
            if isinstance(n, gast.Name):
                names.add(n.id)
            returns = returns or isinstance(n, gast.Return)
            stack += children(n)
        self.mentioned[id(body)] = (body, names, returns)
        return names, returns


def _is_comment(s) -> bool:
    return (
        isinstance(s.value, gast.Call)
        and isinstance(s.value.func, gast.Name)
        and s.value.func.id == COMMENT
    )


def _effective(stmts) -> bool:
    return any(not isinstance(s, gast.Pass) and not (isinstance(s, gast.Expr) and _is_comment(s))
               for s in stmts)


def _names_in(target) -> set:
    """The names a target (``x``, ``x[i]``, ``a, b``) mentions."""
    return {n.id for n in walk(target) if isinstance(n, gast.Name)}
