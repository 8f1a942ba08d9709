"""Attributes stored into an object read from a list or dict argument (``for p in particles:
p.step(dt)``, whose ``self.vel = ...`` is inlined as ``p.vel = t``): the object is stored back
where it was read from right after each store,

    p = particles[k]
    p.vel = t5
    particles[k] = p        # (the same object at run time: the caller sees nothing more)

so the derivative of what is read through the list afterwards reaches what was stored
(``restore_entry_objects``); ``ObjectStores.check_attribute_stores`` then follows the store as
an argument's. The entries must be distinct objects, which is checked where the function is
called (``runtime.check_distinct``: the list is written into), or made so: a list the function
makes of objects it makes (``made_objects``)."""
from __future__ import annotations

import gast

from .. import runtime
from ..ir import copy_tree, list_method, located, name, target_of
from .syncs import block_of, insert_beside


def entry_read(aliasing, obj):
    """``(statement, holder, key)`` when ``obj`` is bound once, by ``obj = holder[key]``, with
    ``holder`` a list or dict argument never rebound and ``key`` a constant or a name; else
    None."""
    lay = aliasing.layout
    binding = _forward_bindings(aliasing, obj)
    if len(binding) != 1 or not isinstance(binding[0], gast.Assign) \
            or (not aliasing.ctx.generated and len(lay.binds.get(obj, ())) != 1):
        return None
    value = binding[0].value
    if not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)
            and isinstance(value.slice, (gast.Name, gast.Constant))):
        return None
    holder = value.value.id
    argument = (aliasing.ctx.argument_containers.get(holder) or ("", ""))[1] in ("list", "dict") \
        and not _forward_bindings(aliasing, holder) \
        and (aliasing.ctx.generated or holder not in lay.binds)
    if not argument and not made_objects(aliasing, holder):
        return None
    return binding[0], holder, value.slice


def made_objects(aliasing, holder) -> bool:
    """Whether ``holder`` is bound once, to a list the function makes of objects it makes, one
    new object per entry (``ps = [P(x) for x in xs]``, a comprehension's list handed over), each
    read no more once it is in the list: distinct objects, which nothing else holds."""
    lay = aliasing.layout
    bindings = _forward_bindings(aliasing, holder)
    if len(bindings) != 1 or not isinstance(bindings[0], gast.Assign):
        return False
    if aliasing.ctx.generated:
        return True  # (checked when the code differentiated again was generated)
    lst, display = holder, bindings[0]
    if isinstance(display.value, gast.Name):  # (ps = items, the list a comprehension made)
        lst, made = display.value.id, lay.bindings(display.value.id)
        if len(made) != 1 or not isinstance(made[0], gast.Assign) \
                or any(st is not bindings[0] and list_method(st) is None
                       for st in lay.readers(lst)):
            return False
        display = made[0]
    if not isinstance(display.value, gast.List):
        return False
    puts = [(display, e) for e in display.value.elts] + [
        (st, st.value.args[0]) for st in lay.simple
        if (list_method(st) or ("", "", ""))[:2] == (lst, "append")]
    if any(list_method(st) is not None and list_method(st)[:2] != (lst, "append")
           for st in lay.readers(lst)):
        return False
    names = [getattr(entry, "id", None) for _, entry in puts]
    if None in names or len(set(names)) < len(names):
        return False
    resolve = aliasing.ctx.resolver.resolve
    for put, entry in puts:
        made = lay.bindings(entry.id)
        # (made in the pass of the loops that puts it in: a new object each time)
        if not made or not all(isinstance(b, gast.Assign) and isinstance(b.value, gast.Call)
                                and resolve(b.value.func) is runtime.new_object
                                and lay.loops[id(b)] == lay.loops[id(put)]
                                and lay.pos[id(b)] < lay.pos[id(put)] for b in made) \
                or any(lay.pos[id(r)] > lay.pos[id(put)] for r in lay.readers(entry.id)):
            return False
    return True


def _forward_bindings(aliasing, var) -> list:
    """The statements binding ``var``; in generated code differentiated again, not those of its
    backward pass restoring what the forward pass saved (``p = tape.pop()``, or ``t[1]`` of
    it), nor a forward half's first ``p = None``."""
    lay = aliasing.layout
    binding = [s for s in lay.simple if target_of(s)[0] == var]
    if not aliasing.ctx.generated:
        return binding
    pops = {id(s) for s in lay.simple if (list_method(s) or ("", "", ""))[1] == "pop"}
    # (the tuples popped: t of ``t = tape.pop(); w = t[1]``)
    popped = {target_of(s)[0] for s in lay.simple if id(s) in pops} - {
        target_of(s)[0] for s in lay.simple if id(s) not in pops}
    return [s for s in binding if id(s) not in pops and not (
        isinstance(s.value, gast.Subscript) and isinstance(s.value.value, gast.Name)
        and s.value.value.id in popped)
        # (a split forward half's names start as None: ``p = None``)
        and not (isinstance(s.value, gast.Constant) and s.value.value is None)]


def key_kept(aliasing, read, s, key) -> bool:
    """Whether the name (or constant) ``key`` holds the same value at the store ``s`` as at
    ``read`` (which dominates it), and in every later pass of the loops around ``s`` that are
    not around ``read``: no binding of it from ``read`` to the end of those loops."""
    if isinstance(key, gast.Constant):
        return True
    lay = aliasing.layout
    inner = [loop for loop in lay.loops[id(s)] if loop not in lay.loops[id(read)]]
    start = lay.pos[id(read)]
    end = lay.span[id(inner[0])][1] if inner else lay.pos[id(s)]
    return not any(start < p <= end for p in lay.binds.get(key.id, ()))


def restore_entry_objects(aliasing) -> bool:
    """Insert ``holder[key] = obj`` after each store ``obj.attr = v`` into an object read from a
    list or dict argument (``entry_read``) whose key is kept until then (``key_kept``), unless
    one follows already; True if any was inserted (the function is then analysed again)."""
    inserted = False
    for s in aliasing.layout.simple:
        target = s.targets[0] if isinstance(s, gast.Assign) and len(s.targets) == 1 else None
        if not (isinstance(target, gast.Attribute) and isinstance(target.value, gast.Name)) \
                or getattr(s, "ad_restored", False):
            continue
        found = entry_read(aliasing, target.value.id)
        if found is None or not aliasing.dominates(found[0], s) \
                or not key_kept(aliasing, found[0], s, found[2]):
            continue
        read, holder, key = found
        back = gast.Assign(targets=[gast.Subscript(value=name(holder), slice=copy_tree(key),
                                                   ctx=gast.Store())],
                           value=name(target.value.id), type_comment=None)
        block, at = block_of(aliasing.fdef.body, s)
        following = block[at + 1] if at + 1 < len(block) else None
        if following is not None and gast.dump(following) == gast.dump(back):
            back = following  # (generated code differentiated again: there already)
        elif aliasing.ctx.generated:
            continue
        else:
            insert_beside(aliasing.fdef.body, s, [located(back, s)])
            inserted = True
        back.ad_restores = target.value.id
        s.ad_restored = True
    return inserted
