"""The entries of the tape of generated code. The backward pass pops, into the same names and in
the same order, the values the forward pass pushed for the same statement (``reverse/taping.py``:
``tape.append((t3, t5))`` ... ``t3, t5 = tape.pop()``; a copy, ``tape.append(copy(x))``, is popped
into ``x``), so an entry is known by the names it holds: what a popped name holds has the shape
and dtype its pushes gave it, and a name popped but never read need not be pushed."""
from __future__ import annotations

import gast

from .ir import walk


def _names(node):
    """The names of an entry (a push's item or a pop's target): a name, a copy of a name, or a
    tuple of those; None for anything else."""
    parts = node.elts if isinstance(node, gast.Tuple) else [node]
    names = []
    for part in parts:
        if isinstance(part, gast.Call) and len(part.args) == 1 and not part.keywords:
            part = part.args[0]  # (copy(x))
        if not isinstance(part, gast.Name):
            return None
        names.append(part.id)
    return tuple(names)


def _call_on(node, tape, method, count):
    return (isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute)
            and node.func.attr == method and isinstance(node.func.value, gast.Name)
            and node.func.value.id == tape and len(node.args) == count and not node.keywords)


def pushed(st, tape):
    """The names ``st`` pushes when it is ``tape.append(item)``, else None."""
    if isinstance(st, gast.Expr) and _call_on(st.value, tape, "append", 1):
        return _names(st.value.args[0])
    return None


def popped(st, tape):
    """The names ``st`` pops into when it is ``names = tape.pop()``, else None."""
    if isinstance(st, gast.Assign) and len(st.targets) == 1 \
            and _call_on(st.value, tape, "pop", 0):
        return _names(st.targets[0])
    return None


def plain_tape(fdef, tape) -> bool:
    """Whether ``tape`` is used in ``fdef`` only by ``tape = []``, pushes and pops of names (not
    handed to another function, nor read back in a loop over it)."""
    if tape is None:
        return False
    uses = sum(isinstance(n, gast.Name) and n.id == tape for n in walk(fdef))
    made = pushes = 0
    for st in walk(fdef):
        if isinstance(st, gast.Assign) and len(st.targets) == 1 \
                and isinstance(st.targets[0], gast.Name) and st.targets[0].id == tape:
            if not (isinstance(st.value, gast.List) and not st.value.elts):
                return False
            made += 1
        elif pushed(st, tape) is not None or popped(st, tape) is not None:
            pushes += 1
    return uses == made + pushes


def drop_unread(fdef, tape, unread: dict) -> bool:
    """Remove from the tape the names popped but never read afterwards (``unread``: id of a pop
    statement -> those names), from the pop and from its push, when that entry's names are
    pushed and popped at one place each (so the two are each other's); an entry left empty goes.
    True if anything changed."""
    if not unread or not plain_tape(fdef, tape):
        return False
    places: dict = {}  # entry names -> [(block, statement, is_pop)]
    for block in _blocks(fdef):
        for st in block:
            for is_pop, names in ((False, pushed(st, tape)), (True, popped(st, tape))):
                if names is not None:
                    places.setdefault(names, []).append((block, st, is_pop))
    changed = False
    for names, found in places.items():
        if len(found) != 2 or found[0][2] == found[1][2]:
            continue
        pop = next(st for _, st, is_pop in found if is_pop)
        gone = unread.get(id(pop), (None, set()))
        if gone[0] is not pop or not set(names) & gone[1]:
            continue
        kept = [k for k, n in enumerate(names) if n not in gone[1]]
        for block, st, is_pop in found:
            node = st.targets[0] if is_pop else st.value.args[0]
            parts = node.elts if isinstance(node, gast.Tuple) else [node]
            if not kept:
                block.remove(st)
                block[:] = block or [gast.Pass()]
            elif is_pop:
                st.targets[0] = _entry([parts[k] for k in kept], gast.Store())
            else:
                st.value.args[0] = _entry([parts[k] for k in kept], gast.Load())
        changed = True
    return changed


def _entry(parts, ctx):
    return parts[0] if len(parts) == 1 else gast.Tuple(elts=parts, ctx=ctx)


def _blocks(fdef):
    """Every statement list of ``fdef`` (``fdef``'s own included)."""
    for node in walk(fdef):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(node, gast.stmt) and isinstance(block, list):
                yield block
