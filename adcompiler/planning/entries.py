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
from .syncs import block_of, insert_beside, made_object


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
    if not argument and not made_objects(aliasing, holder) \
            and owned_attribute(aliasing, holder) is None:
        return None
    return binding[0], holder, value.slice


def owned_attribute(aliasing, holder, objects=False):
    """``(owner, attr)`` when ``holder`` is only ever bound to ``owner.attr``, of an object
    ``owner`` made here and never handed on, whose ``attr`` is only ever given lists the function
    makes of objects it makes (``made_objects``), read by nothing else (``self.bodies =
    [Body(...), ...]`` then ``for b in self.bodies: b.vel = ...`` of its methods, inlined): the
    list's objects are then reached through ``owner.attr`` alone, and stored back into it.
    With ``objects``: an attribute only ever given objects made here, read no more once given
    (``self.cell = Cell(w)``). Else None."""
    lay = aliasing.layout
    bindings = _forward_bindings(aliasing, holder)
    values = {gast.dump(b.value) for b in bindings}
    value = bindings[0].value if bindings and isinstance(bindings[0], gast.Assign) else None
    if len(values) != 1 or not (isinstance(value, gast.Attribute)
                                and isinstance(value.value, gast.Name)):
        return None
    owner, attr = value.value.id, value.attr
    if aliasing.ctx.generated:  # (checked when the code differentiated again was generated)
        restored = any(isinstance(st, gast.Assign) and isinstance(st.value, gast.Name)
                       and st.value.id == holder and isinstance(st.targets[0], gast.Attribute)
                       and gast.dump(st.targets[0].value) == gast.dump(name(owner))
                       and st.targets[0].attr == attr for st in lay.simple)
        return (owner, attr) if restored else None
    if not made_object(aliasing, owner):
        return None
    given = _handed_object if objects else _handed_list
    stores = 0
    for st in lay.simple:
        if getattr(st, "ad_restores_attribute", None):
            continue
        target = st.targets[0] if isinstance(st, gast.Assign) and len(st.targets) == 1 else None
        if isinstance(target, gast.Attribute) and isinstance(target.value, gast.Name) \
                and (target.value.id, target.attr) == (owner, attr):
            if not (isinstance(st.value, gast.Name) and given(aliasing, st.value.id, st)):
                return None
            stores += 1
        if owner in _handed(st) and not _a_check(aliasing, st):
            return None
    return (owner, attr) if stores else None


def _a_check(aliasing, st) -> bool:
    """Whether ``st`` calls a run-time check of generated code (``check_dict_attribute(obj, 'h',
    refusal)``), which reads what it is given and keeps nothing."""
    call = st.value if isinstance(st, gast.Expr) else None
    fn = aliasing.ctx.resolver.resolve(call.func) if isinstance(call, gast.Call) else None
    return getattr(fn, "__module__", "").startswith(runtime.__name__) \
        and getattr(fn, "__name__", "").startswith("check_")


def _handed_list(aliasing, lst, store) -> bool:
    """Whether the list ``lst`` ``store`` puts in an attribute is one of objects made here
    (``made_objects``) that nothing else reads, or the list the attribute holds, given new
    objects only (``t = self.layers; t.append(Dense(n)); self.layers = t``)."""
    lay = aliasing.layout
    readers = [r for r in lay.readers(lst) if r is not store]
    if made_objects(aliasing, lst) and not readers:
        return True
    read = gast.dump(store.targets[0].value), store.targets[0].attr
    bindings = _forward_bindings(aliasing, lst)
    return bool(bindings) and all(isinstance(b, gast.Assign)
                                  and isinstance(b.value, gast.Attribute)
                                  and (gast.dump(b.value.value), b.value.attr) == read
                                  for b in bindings) \
        and all((list_method(r) or ("", "", ""))[:2] == (lst, "append") for r in readers) \
        and fresh_puts(aliasing, [(r, r.value.args[0]) for r in readers])


def _handed_object(aliasing, obj, store) -> bool:
    """Whether the object ``obj`` ``store`` puts in an attribute is made here, in the pass of
    the loops that stores it, and read no more afterwards."""
    lay = aliasing.layout
    return made_object(aliasing, obj) \
        and lay.loops[id(lay.bindings(obj)[0])] == lay.loops[id(store)] \
        and not any(lay.pos[id(r)] > lay.pos[id(store)] for r in lay.readers(obj))


def held_read(aliasing, obj):
    """``(statement, owner, attr)`` when ``obj`` is bound once, by ``obj = owner.attr`` of an
    attribute only ever given objects made here (``owned_attribute``), else None."""
    lay = aliasing.layout
    binding = _forward_bindings(aliasing, obj)
    if len(binding) != 1 or (not aliasing.ctx.generated and len(lay.binds.get(obj, ())) != 1):
        return None
    owned = owned_attribute(aliasing, obj, objects=True)
    return (binding[0],) + owned if owned is not None else None


def _handed(st) -> set:
    """The names ``st`` hands on as values (``a = obj``, ``[obj]``, ``f(obj)``), not those it
    reads an attribute of or stores into."""
    value = getattr(st, "value", None)
    if value is None or isinstance(value, gast.Name):
        return {value.id} if value is not None else set()
    bases = {id(n.value) for n in gast.walk(value) if isinstance(n, gast.Attribute)}
    return {n.id for n in gast.walk(value) if isinstance(n, gast.Name) and id(n) not in bases}


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
    return fresh_puts(aliasing, puts)


def own_lists(lay, attr) -> bool:
    """Whether every store of ``.attr`` in the code ``lay`` lays out gives it a new list
    (``self.series = [n0]``) or puts back the list read from the same object's ``.attr``
    (``t = s.series; t.append(v); s.series = t``): each object's is its own."""
    stores = [st for st in lay.simple if isinstance(st, gast.Assign)
              and isinstance(st.targets[0], gast.Attribute) and st.targets[0].attr == attr]
    for st in stores:
        bound = lay.bindings(st.value.id) if isinstance(st.value, gast.Name) else []
        value = bound[0].value if len(bound) == 1 and isinstance(bound[0], gast.Assign) \
            else None
        # (a display run for this store alone: [] made once and given to each is shared)
        fresh = isinstance(value, gast.List) and lay.readers(st.value.id) == [st] \
            and lay.loops[id(bound[0])] == lay.loops[id(st)]
        if not fresh and not (isinstance(value, gast.Attribute) and value.attr == attr
                              and gast.dump(value.value) == gast.dump(st.targets[0].value)):
            return False
    return bool(stores)


def fresh_puts(aliasing, puts) -> bool:
    """Whether each ``(statement, entry)`` of ``puts`` puts into a list a new object made here,
    one per statement run, read no more once it is in."""
    lay = aliasing.layout
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
    list or dict argument (``entry_read``) whose key is kept until then (``key_kept``), and
    ``owner.a = holder`` after it when the list was read from an attribute; or ``owner.a = obj``
    after a store into an object read from an attribute (``held_read``); unless they follow
    already. True if any was inserted (the function is then analysed again)."""
    inserted = False
    for s in aliasing.layout.simple:
        target = s.targets[0] if isinstance(s, gast.Assign) and len(s.targets) == 1 else None
        if not (isinstance(target, gast.Attribute) and isinstance(target.value, gast.Name)) \
                or getattr(s, "ad_restored", False):
            continue
        obj = target.value.id
        found = entry_read(aliasing, obj)
        if found is not None and aliasing.dominates(found[0], s) \
                and key_kept(aliasing, found[0], s, found[2]):
            _, holder, key = found
            _check_kept_in(aliasing, found[0], s, holder, None)
            back = gast.Assign(targets=[gast.Subscript(value=name(holder), slice=copy_tree(key),
                                                       ctx=gast.Store())],
                               value=name(obj), type_comment=None)
            back.ad_restores = obj
            backs = [back] + _attribute_restore(aliasing, holder)
            if len(backs) > 1:  # (the attribute gets the list back right after: store_plan)
                back.ad_written_back = backs[1].targets[0].value.id
        else:
            held = held_read(aliasing, obj)
            if held is None or not aliasing.dominates(held[0], s):
                continue
            _check_kept_in(aliasing, held[0], s, held[1], held[2])
            backs = [_stored_in(held[1], held[2], obj)]
        done = _insert_after(aliasing, s, backs)
        if done is None:
            continue
        inserted |= done
        s.ad_restored = True
    return inserted


def _check_kept_in(aliasing, read, s, holder, attr):
    """Refuse the store ``s`` into an object read (at ``read``) from the list or dict ``holder``
    (``attr`` None) or from the attribute ``holder.attr``, when that place may be given another
    object in between (``ps[0], ps[1] = ps[1], ps[0]``, ``h.p = P(...)``): the object put back
    there after ``s``, as the derivative needs, would undo it."""
    if aliasing.ctx.generated:
        return
    lay = aliasing.layout
    inner = [loop for loop in lay.loops[id(s)] if loop not in lay.loops[id(read)]]
    start = lay.pos[id(read)]
    end = lay.span[id(inner[0])][1] if inner else lay.pos[id(s)]
    between = [st for st in lay.simple if start < lay.pos[id(st)] < end
               and not getattr(st, "ad_restores", None)
               and not getattr(st, "ad_restores_attribute", None)]  # (what these put back)
    if attr is None:  # (an entry given, the list changed by a method, the name rebound)
        names = {holder} | {target_of(st)[0] for st in lay.simple if isinstance(st, gast.Assign)
                            and isinstance(st.value, gast.Name) and st.value.id == holder}
        changed = [st for st in between if target_of(st)[0] in names or (
            isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Subscript)
            and target_of(st)[1] in names) or (list_method(st) or ("",))[0] in names]
    else:
        changed = [st for st in between if isinstance(st, gast.Assign)
                   and isinstance(st.targets[0], gast.Attribute) and st.targets[0].attr == attr]
    if changed:
        place = "%s.%s" % (holder, attr) if attr is not None else holder
        raise aliasing.loc.error(
            "storing into %s, an object read from %s, after %s may have been given another "
            "object: that is not supported" % (target_of(s)[1], place, place), s,
            hint="store into the object through %s itself, or read it again after changing %s"
                 % (place, place))


def _insert_after(aliasing, s, backs):
    """Insert the statements ``backs`` after ``s``: True; False when they follow it already
    (generated code differentiated again), whose marks they are then given; None when they do
    not and the code is generated (nothing to do)."""
    block, at = block_of(aliasing.fdef.body, s)
    if aliasing.ctx.generated:
        # (there already, in order; the forward pass may save what the backward pass reads
        # between them: t = (x, p); tape.append(t))
        rest, found = iter(block[at + 1:at + 4 * len(backs)]), []
        for back in backs:
            found.append(next((st for st in rest if gast.dump(st) == gast.dump(back)), None))
        if None in found or found[0] is not block[at + 1]:
            return None
        for st, back in zip(found, backs):
            st.__dict__.update({k: v for k, v in back.__dict__.items() if k.startswith("ad_")})
        return False
    insert_beside(aliasing.fdef.body, s, [located(back, s) for back in backs])
    return True


def _stored_in(owner, attr, value):
    """``owner.attr = value``, marked as the store of ``value`` back where it was read from."""
    back = gast.Assign(targets=[gast.Attribute(value=name(owner), attr=attr, ctx=gast.Store())],
                       value=name(value), type_comment=None)
    back.ad_restores_attribute = value
    return back


def _attribute_restore(aliasing, holder) -> list:
    """``[owner.attr = holder]`` when ``holder`` was read from an attribute (``owned_attribute``),
    so the derivative of what is read through ``owner.attr`` afterwards reaches what was stored;
    else []."""
    owned = owned_attribute(aliasing, holder)
    return [] if owned is None else [_stored_in(owned[0], owned[1], holder)]
