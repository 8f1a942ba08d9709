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
    statement -> those names), from the pop and from its push (``_entries``); an entry left
    empty goes. True if anything changed."""
    if not unread or not plain_tape(fdef, tape):
        return False
    changed = False
    for found in _entries(fdef, tape):
        pop = next(st for _, st, is_pop in found if is_pop)
        names = popped(pop, tape)
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


def _entries(fdef, tape) -> list:
    """The pairs ``[(block, push, False), (block, pop, True)]`` of a push and the pop that takes
    its entry back: a block of pushes and one of pops that mirror each other (the backward pass
    of a loop body pops, in reverse order, the entries its forward pass pushed), when no other
    block has the same pushes or pops; else an entry whose names are pushed at one place and
    popped at one place."""
    pushes, pops, places = {}, {}, {}
    for block in _blocks(fdef):
        entries = [(st, names, is_pop) for st in block
                   for is_pop, names in ((False, pushed(st, tape)), (True, popped(st, tape)))
                   if names is not None]
        for st, names, is_pop in entries:
            places.setdefault(names, []).append((block, st, is_pop))
        if entries and len({is_pop for _, _, is_pop in entries}) == 1:
            key = tuple(names for _, names, _ in entries)
            table = pops if entries[0][2] else pushes
            table.setdefault(key[::-1] if entries[0][2] else key, []).append((block, entries))
    pairs, paired = [], set()
    for key, found in pops.items():
        if len(found) == 1 and len(pushes.get(key, ())) == 1:
            (pop_block, popping), (push_block, pushing) = found[0], pushes[key][0]
            for (push, _, _), (pop, _, _) in zip(pushing, reversed(popping)):
                pairs.append([(push_block, push, False), (pop_block, pop, True)])
                paired.update((id(push), id(pop)))
    for found in places.values():
        if len(found) == 2 and found[0][2] != found[1][2] \
                and not {id(st) for _, st, _ in found} & paired:
            pairs.append(sorted(found, key=lambda place: place[2]))
    return pairs


def _entry(parts, ctx):
    return parts[0] if len(parts) == 1 else gast.Tuple(elts=parts, ctx=ctx)


def _blocks(fdef):
    """Every statement list of ``fdef`` (``fdef``'s own included)."""
    for node in walk(fdef):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(node, gast.stmt) and isinstance(block, list):
                yield block
