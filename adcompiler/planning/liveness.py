"""Where one name's value may still be read: liveness of a single name over the structured normal
form (blocks, ``if``, ``for`` and ``while`` with ``break`` and ``continue``, ``return``), for the
in-place analyses, which ask of a few names whether a write at one statement can be seen through
them afterwards (``t8``, a temporary of ``self.mean += v`` in a loop, bound again next pass
before it is read: the array it held is not seen through it)."""
from __future__ import annotations

import gast

from ..ir import loads, walk


def live_after(body, var) -> set:
    """The ids of the simple statements of ``body`` after which the value ``var`` holds may be
    read (on some path, before ``var`` is bound again). A ``try`` or other statement the
    analysis does not follow reads ``var`` if it names it."""
    return _Liveness(var).run(body)


class _Liveness:
    """Backward liveness of the one name ``var`` (booleans: a loop settles in two passes)."""

    def __init__(self, var):
        self.var = var
        self.after: set = set()   # ids of the statements after which var is live
        self.exits: list = []     # (live after the loop, live at its head) of each loop around
        self.settled: dict = {}   # (id(loop), live after it) -> live before it

    def run(self, body) -> set:
        self.block(body, False)
        return self.after

    def block(self, stmts, live: bool) -> bool:
        for s in reversed(stmts):
            live = self.stmt(s, live)
        return live

    def stmt(self, s, live: bool) -> bool:
        var = self.var
        if isinstance(s, gast.If):
            body, orelse = self.block(s.body, live), self.block(s.orelse, live)
            return body or orelse or var in loads(s.test)
        if isinstance(s, gast.While) and not s.orelse \
                or isinstance(s, gast.For) and not s.orelse and isinstance(s.target, gast.Name):
            return self.loop(s, live)
        if isinstance(s, gast.With):
            return self.block(s.body, live) or any(var in loads(item) for item in s.items)
        if isinstance(s, (gast.Break, gast.Continue)):  # (what follows it in its block never runs)
            live = (self.exits[-1][0 if isinstance(s, gast.Break) else 1]) if self.exits else True
        if live:
            self.after.add(id(s))
        if isinstance(s, (gast.Break, gast.Continue)):
            return live
        if isinstance(s, gast.Return):
            return s.value is not None and var in loads(s.value)
        if any(isinstance(n, gast.stmt) for n in walk(s) if n is not s) \
                or isinstance(s, (gast.For, gast.While, gast.Try)):
            # (not followed: live wherever it names var, or var is live after it)
            return live or any(isinstance(n, gast.Name) and n.id == var for n in walk(s))
        if var in loads(s):
            return True
        targets = s.targets if isinstance(s, gast.Assign) else []
        bound = len(targets) == 1 and isinstance(targets[0], gast.Name) and targets[0].id == var
        return live and not bound

    def loop(self, s, live: bool) -> bool:
        key = (id(s), live)
        if key in self.settled:
            return self.settled[key]
        var, head = self.var, live
        while True:
            self.exits.append((live, head))
            start = self.block(s.body, head)
            self.exits.pop()
            if isinstance(s, gast.For):
                again = live or (start and s.target.id != var)
            else:
                again = live or start or var in loads(s.test)
            if again == head:
                break
            head = again
        before = head or (isinstance(s, gast.For) and var in loads(s.iter))
        self.settled[key] = before
        return before
