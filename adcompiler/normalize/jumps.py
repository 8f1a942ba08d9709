"""Jump lowering, the first step of normalisation: ``break``, ``continue`` and early ``return``
become flags (``broke``, ``skip``, ``returned``), so the body that goes on to be flattened has
structured ``if``/``for``/``while`` only, the only ``break`` left is ``if <flag>: break`` as the
last statement of a loop body, and the function ends with its single ``return``. Flags nothing
reads are dropped again.
"""
from __future__ import annotations

import gast

from ..ir import assign, const, if_, located, name, not_, walk
from ..naming import Namer


class _Loop:
    """Flags of one loop, named on first use so unused flags take no names."""

    def __init__(self, namer: Namer):
        self.namer = namer
        self._brk = self._skip = None

    @property
    def brk(self) -> str:
        if self._brk is None:
            self._brk = self.namer.fresh("broke")
        return self._brk

    @property
    def skip(self) -> str:
        if self._skip is None:
            self._skip = self.namer.fresh("skip")
        return self._skip

    used_brk = property(lambda self: self._brk is not None)
    used_skip = property(lambda self: self._skip is not None)


class JumpLowering:
    """Rewrites a function body so its only jumps are a trailing ``if flag: break`` per loop and
    one final ``return``."""

    def __init__(self, namer: Namer):
        self.namer = namer
        self.loops: list[_Loop] = []
        self.retval = None
        self.returned = None
        self.used_returned = False
        self.all_flags: set[str] = set()

    def run(self, fdef: gast.FunctionDef) -> list:
        body = fdef.body
        simple = not any(self._jumps(s) for s in body[:-1]) and not (
            body and not isinstance(body[-1], gast.Return) and self._jumps(body[-1]))
        if simple:
            if not body or not isinstance(body[-1], gast.Return):
                body = body + [located(gast.Return(value=None), body[-1] if body else fdef)]
            return [self._stmt(s) for s in body[:-1]] + [body[-1]]
        kept = _one_returned_name(body)
        self.retval = kept or self.namer.fresh("retval")
        self.returned = self.namer.fresh("returned")
        lowered = self._block(body)
        pre = [] if kept else [assign(self.retval, const(None), fdef.body[0])]
        if self.used_returned:
            pre.append(assign(self.returned, const(False), fdef.body[0]))
        return pre + lowered + [located(gast.Return(value=name(self.retval)), fdef.body[-1])]

    def flags(self) -> set[str]:
        """Names of every flag this lowering introduced."""
        names = {self.returned} if self.returned else set()
        return names | self.all_flags

    def _jumps(self, node, depth=0) -> bool:
        """Can control leave ``node`` by a jump that is not caught inside it?"""
        if isinstance(node, gast.Return):
            return True
        if isinstance(node, (gast.Break, gast.Continue)):
            return depth == 0
        if isinstance(node, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
            return False
        inner = depth + 1 if isinstance(node, (gast.For, gast.While)) else depth
        for field in ("body", "orelse", "handlers", "finalbody"):
            for s in getattr(node, field, None) or []:
                if self._jumps(s, inner if field == "body" else depth):
                    return True
        return False

    def _block(self, stmts) -> list:
        out = []
        for k, s in enumerate(stmts):
            rest = stmts[k + 1:]
            if isinstance(s, (gast.Return, gast.Break, gast.Continue)):
                out.extend(self._jump(s))
                return out
            if not self._jumps(s):
                out.append(self._stmt(s))
                continue
            if isinstance(s, gast.If) and rest:
                ends_body = _ends_with_jump(s.body)
                ends_else = _ends_with_jump(s.orelse)
                if ends_body and not any(self._jumps(x) for x in s.orelse):
                    out.append(if_(s.test, self._block(s.body), self._block(s.orelse + rest), s))
                    return out
                if ends_else and not any(self._jumps(x) for x in s.body):
                    out.append(if_(s.test, self._block(s.body + rest), self._block(s.orelse), s))
                    return out
            out.append(self._stmt(s))
            if rest:
                out.append(if_(not_(self._guard_flag()), self._block(rest), like=rest[0]))
            return out
        return out

    def _guard_flag(self) -> str:
        if self.loops:
            return self.loops[-1].skip
        self.used_returned = True
        return self.returned

    def _jump(self, s) -> list:
        out = []
        if isinstance(s, gast.Return):
            value = s.value if s.value is not None else const(None)
            if not (isinstance(value, gast.Name) and value.id == self.retval):
                out.append(assign(self.retval, value, s))
            out.append(assign(self.returned, const(True), s))
            # (every loop around is left: what follows an inner loop in an outer one's body is
            # skipped too, guarded by the outer loop's skip flag: seed 701628)
            for loop in self.loops:
                out.append(assign(loop.brk, const(True), s))
                out.append(assign(loop.skip, const(True), s))
            return out
        loop = self.loops[-1]
        if isinstance(s, gast.Break):
            out.append(assign(loop.brk, const(True), s))
        out.append(assign(loop.skip, const(True), s))
        return out

    def _stmt(self, s):
        if isinstance(s, gast.If):
            return if_(s.test, self._block(s.body), self._block(s.orelse), s)
        if isinstance(s, (gast.For, gast.While)):
            # ``else``: runs after the loop unless it was left by break (or return)
            orelse, s.orelse = (self._block(s.orelse) if s.orelse else []), []
            loop = _Loop(self.namer)
            self.loops.append(loop)
            body = self._block(s.body)
            self.loops.pop()
            self.all_flags |= {f for f in (loop._brk, loop._skip) if f}
            if loop.used_skip:
                body.insert(0, assign(loop.skip, const(False), s.body[0]))
            if loop.used_brk:
                body.append(if_(name(loop.brk), [located(gast.Break(), s)], like=s))
            s.body = body
            if loop.used_brk:
                s.ad_break_flag = loop.brk
                return [assign(loop.brk, const(False), s), s] + (
                    [if_(not_(loop.brk), orelse, like=orelse[0])] if orelse else [])
            return [s] + orelse if orelse else s
        if isinstance(s, (gast.With, gast.Try)):
            s.body = self._block(s.body)
            if isinstance(s, gast.Try):
                s.orelse = self._block(s.orelse)
                for h in s.handlers:
                    h.body = self._block(h.body) or [gast.Pass()]
        return s


def _one_returned_name(body):
    """The name every ``return`` of ``body`` returns (``return out``, early in a loop and last),
    which is the result itself: once a ``return`` ran, only the flags' code and ``finally``
    blocks run, and those do not bind it; else None. No ``retval = out`` then makes a second
    name for a list appended to before."""
    returns, finally_bound, stack = [], set(), list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, gast.Try):
            finally_bound |= {n.id for st in node.finalbody for n in gast.walk(st)
                              if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)}
        if isinstance(node, gast.Return):
            returns.append(node.value)
        elif not isinstance(node, (gast.FunctionDef, gast.AsyncFunctionDef, gast.Lambda,
                                   gast.ClassDef)):
            stack.extend(gast.iter_child_nodes(node))
    ids = {v.id if isinstance(v, gast.Name) else None for v in returns}
    ends = bool(body) and (isinstance(body[-1], gast.Return) or _endless(body[-1]))
    return ids.pop() if len(ids) == 1 and not ids & (finally_bound | {None}) and ends else None


def _endless(loop) -> bool:
    """Whether ``loop`` is ``while True:`` with no ``break`` of its own: left by ``return``
    only."""
    if not (isinstance(loop, gast.While) and isinstance(loop.test, gast.Constant)
            and loop.test.value):
        return False
    stack = list(loop.body)
    while stack:
        node = stack.pop()
        if isinstance(node, gast.Break):
            return False
        if isinstance(node, (gast.For, gast.While)):
            stack.extend(node.orelse)  # (an inner loop's break is its own, not its else's)
        elif not isinstance(node, (gast.FunctionDef, gast.AsyncFunctionDef, gast.Lambda,
                                   gast.ClassDef)):
            stack.extend(gast.iter_child_nodes(node))
    return True


def _ends_with_jump(stmts) -> bool:
    return bool(stmts) and isinstance(stmts[-1], (gast.Return, gast.Break, gast.Continue))


def _flatten_lists(stmts):
    out = []
    for s in stmts:
        if isinstance(s, list):
            out.extend(_flatten_lists(s))
        else:
            for block in (s, *getattr(s, "handlers", ())):
                for field in ("body", "orelse"):
                    if isinstance(getattr(block, field, None), list):
                        setattr(block, field, _flatten_lists(getattr(block, field)))
            out.append(s)
    return out


def _drop_unread_flags(body, flags):
    """Remove stores of constants into jump flags that nothing reads."""
    read = {n.id for stmt in body for n in walk(stmt)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    dead = flags - read

    def keep(stmts):
        out = []
        for st in stmts:
            if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name) \
                    and st.targets[0].id in dead:
                continue
            for block in (st, *getattr(st, "handlers", ())):
                for field in ("body", "orelse"):
                    if isinstance(getattr(block, field, None), list):
                        setattr(block, field, keep(getattr(block, field))
                                or ([gast.Pass()] if field == "body" else []))
            out.append(st)
        return out
    return keep(body)


def lower_jumps(fdef: gast.FunctionDef, namer: Namer) -> list:
    """The body of ``fdef`` with its jumps lowered to flags (see ``JumpLowering``)."""
    lowering = JumpLowering(namer)
    return _drop_unread_flags(_flatten_lists(lowering.run(fdef)), lowering.flags())
