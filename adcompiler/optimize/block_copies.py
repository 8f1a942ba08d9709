"""Copy propagation inside any block (loop bodies too): ``a = b`` where ``a`` is a temporary
bound only there and read only later in the same block, and ``b`` keeps its value until then:
read ``b`` instead. Each block is indexed once (which of its statements read or bind which
name), so a copy costs what its own reads cost, not a walk over the rest of the block; what a
statement reads and binds is found once for all the blocks around it (``_Facts``): straight code
of thousands of copies and deep loop nests stay linear."""
from __future__ import annotations

from bisect import bisect_right, insort

import gast

from ..ir import children
from .propagate import _name_stats


def propagate_block_copies(fdef, keep) -> bool:
    """Propagate the copies of every block of ``fdef`` (``b = a`` on the way is a no-op and
    goes); True if any copy went. ``keep``: names never replaced."""
    counts, loads_total = _name_stats(fdef)
    facts = _Facts()

    def block(stmts) -> bool:
        index, changed = None, False
        for k, st in enumerate(stmts):
            if index is not None and k in index.removed:
                continue
            for field in ("body", "orelse"):
                if isinstance(getattr(st, field, None), list):
                    changed = block(getattr(st, field)) or changed
            if _is_copy(st) and not getattr(st, "ad_primal", False):
                a, b = st.targets[0].id, st.value.id
                if a not in keep and counts.get(a) == 1 and a != b and loads_total.get(a):
                    # (built when the block has a copy to propagate; only later statements,
                    # whose own blocks are still to come, are asked)
                    index = index or _BlockIndex(stmts, facts)
                    if index.substitute_copy(k, a, b, loads_total[a]):
                        index.removed.add(k)
                        changed = True
        if index is not None and index.removed:
            stmts[:] = [s for j, s in enumerate(stmts) if j not in index.removed]
        return changed
    return block(fdef.body)


def _is_copy(st):
    return (
        isinstance(st, gast.Assign)
        and isinstance(st.targets[0], gast.Name)
        and isinstance(st.value, gast.Name)
    )


def _is_copy_of(st, target, value) -> bool:
    return _is_copy(st) and st.targets[0].id == target and st.value.id == value


class _Facts:
    """For each statement, nested ones too: the names it reads (how often) and binds, what it
    holds included. A statement's own expressions are walked once and a compound statement adds
    up its statements' facts, so a block nested d deep is not walked d times. Kept true for every
    statement still to be asked about: renaming goes through ``rename``; statements that go
    leave the facts of the statements around them stale, which are never asked again (their
    block is past them)."""

    def __init__(self):
        self.known = {}  # id(statement) -> (statement, reads, binds)

    def of(self, st) -> tuple:
        known = self.known.get(id(st))
        if known is not None and known[0] is st:
            return known[1], known[2]
        reads, binds = {}, set()
        stack = children(st)
        while stack:
            n = stack.pop()
            if isinstance(n, gast.stmt):
                inner_reads, inner_binds = self.of(n)
                for v, count in inner_reads.items():
                    reads[v] = reads.get(v, 0) + count
                binds |= inner_binds
                continue
            if n.__class__ is gast.Name:
                if n.ctx.__class__ is gast.Load:
                    reads[n.id] = reads.get(n.id, 0) + 1
                elif n.ctx.__class__ is gast.Store:
                    binds.add(n.id)
            stack.extend(children(n))
        self.known[id(st)] = (st, reads, binds)
        return reads, binds

    def rename(self, st, a, b):
        """Read ``b`` for ``a`` everywhere in ``st``."""
        reads = self.of(st)[0]
        stack = children(st)
        while stack:
            n = stack.pop()
            if isinstance(n, gast.stmt):
                if a in self.of(n)[0]:
                    self.rename(n, a, b)
                continue
            if isinstance(n, gast.Name) and n.id == a and isinstance(n.ctx, gast.Load):
                n.id = b
            stack.extend(children(n))
        reads[b] = reads.get(b, 0) + reads.pop(a)


class _BlockIndex:
    """The statements of one block by position: for each name, the positions reading it, binding
    it, and copying it to itself (``b = b``). Positions never shift: statements that go are
    ``removed`` and dropped at the end."""

    def __init__(self, stmts, facts):
        self.stmts, self.facts = stmts, facts
        self.removed = set()
        self.readers = {}  # name -> positions reading it, ascending (facts say how often)
        self.binders = {}  # name -> positions binding it, ascending
        self.self_copies = {}
        for j, st in enumerate(stmts):
            reads, binds = facts.of(st)
            for n in reads:
                self.readers.setdefault(n, []).append(j)
            for n in binds:
                self.binders.setdefault(n, []).append(j)
            if _is_copy(st) and st.targets[0].id == st.value.id:
                self.self_copies.setdefault(st.value.id, []).append(j)

    def reads(self, j, v) -> int:
        return self.facts.of(self.stmts[j])[0].get(v, 0)

    def after(self, positions, k):
        """The positions in ``positions`` after ``k`` whose statements are still there."""
        for i in range(bisect_right(positions, k), len(positions)):
            if positions[i] not in self.removed:
                yield positions[i]

    def substitute_copy(self, k, a, b, total) -> bool:
        """Replace the loads of ``a`` after position ``k`` (``a = b``) by ``b`` if ``b`` still
        holds the same value at each of them and they are all ``total`` loads of ``a`` (none in
        another block); True if done."""
        uses, seen = [], 0
        for j in self.after(self.readers.get(a, ()), k):
            if seen >= total:
                break
            if self.reads(j, a):
                uses.append(j)
                seen += self.reads(j, a)
        if not uses or seen != total:
            return False  # unused, or read in another block: leave it
        for j in self.after(self.binders.get(b, ()), k):
            if _is_copy_of(self.stmts[j], b, a):
                continue  # ``b = a`` leaves b as it was
            # b changes here: every use must come earlier, or be the value of this plain assignment
            if uses[-1] > j or (uses[-1] == j and not isinstance(self.stmts[j], gast.Assign)):
                return False
            break
        for j in uses:
            self.rename(j, a, b)
        for j in list(self.after(self.self_copies.get(b, ()), k)):
            if _is_copy_of(self.stmts[j], b, b):
                self.removed.add(j)
        return True

    def rename(self, j, a, b):
        """Read ``b`` for ``a`` in the statement at position ``j``."""
        st = self.stmts[j]
        if not self.reads(j, b):
            insort(self.readers.setdefault(b, []), j)
        self.facts.rename(st, a, b)
        st.ad_touched = True
        if _is_copy_of(st, b, b):
            insort(self.self_copies.setdefault(b, []), j)
