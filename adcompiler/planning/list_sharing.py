"""Lists and dicts changed in place, the ``ListSharing`` mixin of ``Aliasing``: the names that
may be the same list or hold it (``same_list``, ``list_sharers``), the refusal of a change seen
through them (``check_list_changed``), and the names every binding of which makes a new list or
dict (``fresh_list``, ``fresh_container``)."""
from __future__ import annotations

import copy

import gast

from .. import effects, runtime
from ..analysis import CONTAINER, FLOAT, SCALAR
from ..ir import const, copy_tree, loads, name, target_of
from ..resolve import MISSING
from .own_lists import own_fresh_list
from .views import _SELECTING

# calls that make a new list or dict (holding the entries of what they copy: ``entries``)
_NEW_CONTAINERS = (list, tuple, dict, set, sorted, copy.copy, copy.deepcopy, len, range, zip,
                   enumerate)
_NEW_CONTAINER_METHODS = ("copy", "tolist", "split", "splitlines", "keys")


class ListSharing:
    """Which names may be the same list (a mixin of ``Aliasing``, whose state it reads:
    ``fdef``, ``layout``, ``reached``, ``ctx``; it caches ``fresh_list`` in ``_fresh_lists``)."""

    def check_list_changed(self, lst, s):
        """``lst.append(v)`` or ``lst.pop()`` at ``s`` adds or removes an entry of the list itself:
        another name for the same list (``b = lst``), or a list or dict holding it (``[lst]``),
        read afterwards sees the change, which the derivative does not follow. (A copy,
        ``lst[:]``, and an entry, ``lst[0]`` or ``max(lst)``, do not.)"""
        if lst not in self.reached:
            return
        names = self.list_sharers(lst, s)
        holder = getattr(s, "ad_written_back", None)
        if holder is not None:
            # (t = obj.items; t.append(v); obj.items = t: obj gets the list back right after,
            # and so does the list obj is an entry of; the entries' lists are checked apart)
            entries_of = self.entry_holder(holder)
            owner = owner_given_back(self, holder, s)
            names = [n for n in names if n not in (holder, entries_of, self.held_by(holder))
                     and (owner is None or n != owner[0])]
            read = self.layout.bindings(lst)[0].value
            if isinstance(read, gast.Subscript):  # (d['hist'].append(v))
                guard = ("held_entry_alone", [name(owner[0]), const(owner[1])]) if owner \
                    else ("entry_alone", [name(holder)])
                where = self.spelled(holder)
                also = (" (or another attribute of %r, which holds the same dict)" % owner[0]
                        if owner else "")
                self.array_guards[id(s)] = (guard[0], guard[1] + [copy_tree(read.slice)],
                                            self.loc.error(
                    "changing the list %s[%s] changes another entry of %r too, which holds the "
                    "same list%s: the derivative does not follow it"
                    % (where, gast.unparse(read.slice).strip(), where, also), s,
                    hint="give each entry a list of its own"))
            else:
                if entries_of is not None:
                    self.entry_updates.setdefault(entries_of, set()).add(read.attr)
                self.array_guards[id(s)] = ("attribute_alone", [name(holder), const(read.attr)],
                                            self.loc.error(
                    "changing the list %s.%s changes another attribute of the object too, "
                    "which holds the same list: the derivative does not follow it"
                    % (holder, read.attr), s, hint="give each attribute a list of its own"))
        if not names:
            return
        read_from = [st.value for st in self.layout.simple if isinstance(st, gast.Assign)
                     and target_of(st)[0] == lst and lst in self.ctx.temps
                     and isinstance(st.value, (gast.Attribute, gast.Subscript))]
        if read_from:  # (obj.cache.append(v): the list an object or a container holds)
            text = gast.unparse(read_from[0]).strip()
            hint = ("build the list in a local variable and store it when it is complete "
                    "(cache = []; ...; %s = cache), or pass the values on instead" % text)
        else:
            text = repr(lst)
            hint = "make %s a new list first: %s = list(%s)" % (lst, lst, lst)
        raise self.loc.error("changing the list %s changes %s too, which may be the same list "
                             "(or hold it) and is read afterwards, which is not supported"
                             % (text, ", ".join(repr(v) for v in names)), s, hint=hint)

    def list_sharers(self, lst, s) -> list:
        """The names that may be the list (or dict) ``lst`` itself, or hold it, and are read after
        ``s`` changes it."""
        same = self.same_list(lst, s)
        aliasing = [st for bindings in same.values() for st in bindings]
        # (v shares lst at s unless lst is bound again after a binding relating them, by one
        # that is not itself such a binding: p = params; then p = dict(p) in the loop)
        read = [b for b in same[lst] if isinstance(b.value, gast.Attribute)]  # (t = o.v)
        names = {v for v, bindings in same.items() if v != lst and self.read_after(v, s)
                 and not self.rebound_before_read(v, s) and not _handed_over_to(self, v, lst)
                 and any(self.runs_before(st, s)
                         and not self.rebound_between(lst, st, s, bindings + read)
                         for st in bindings)}
        containers = sorted({t for st in self.layout.simple for t in target_of(st) if t})
        holding, grown = set(same), True
        while grown:  # (a container holding one that holds it: store = [inner], inner = [lst])
            grown = False
            for container in containers:
                if container in holding \
                        or not self.holds_before(container, holding, s, aliasing):
                    continue
                holding.add(container)
                grown = True
                if self.read_after(container, s) or any(
                        container in bases and self.may_run_before(v, s)
                        for v, bases in self.layout.views.items()):
                    names.add(container)
        names |= self.holders_reading_after(lst, same, s)
        return sorted({n for n in names if n not in self.ctx.temps} or names)

    def filled_then_handed(self, v, lst) -> bool:
        """Whether ``v`` is a dict or list made here (``items = {}``, a comprehension's), only
        stored into and then handed over to ``lst`` (``params = items``): what it holds is seen
        through ``lst`` only."""
        lay = self.layout
        made = lay.bindings(v)
        if len(made) != 1 or not isinstance(made[0], gast.Assign) \
                or not isinstance(made[0].value, (gast.Dict, gast.List)):
            return False
        handed = [st for st in lay.readers(v) if isinstance(st, gast.Assign)
                  and isinstance(st.value, gast.Name) and st.value.id == v
                  and target_of(st)[0] == lst]
        # (made anew in each pass of the loop it is handed over in, before that)
        return len(handed) == 1 and lay.loops[id(made[0])] == lay.loops[id(handed[0])] \
            and lay.pos[id(made[0])] < lay.pos[id(handed[0])] and all(
                st is handed[0] or (_fills(st, v) and lay.pos[id(st)] < lay.pos[id(handed[0])])
                for st in lay.readers(v))

    def holders_reading_after(self, lst, same, s) -> set:
        """The objects and containers the list ``lst`` (or a name in ``same``) was read from
        before ``s`` (``t = obj.cache``, ``t = d['hist']``) that may be read again after ``s``
        changes it, through that attribute or any entry, or whole (passed on, returned); and the
        other names they hold, which may be the same list (``state = {'acc': acc}``)."""
        holders = {}
        for st in self.layout.simple:
            value = getattr(st, "value", None)
            if isinstance(st, gast.Assign) and target_of(st)[0] in same \
                    and isinstance(value, (gast.Attribute, gast.Subscript)) \
                    and isinstance(value.value, gast.Name) and self.runs_before(st, s) \
                    and not _list_slice(value, self.kinds) \
                    and (target_of(st)[0] == lst or not self.rebound_between(lst, st, s)):
                # (another name read from a holder on an earlier pass, before lst = []: another
                # list)
                attr = value.attr if isinstance(value, gast.Attribute) else None
                holders.setdefault(value.value.id, set()).add(attr)
            elif isinstance(st, gast.Assign) and target_of(st)[0] in same \
                    and isinstance(value, gast.Call) and self.runs_before(st, s):
                for holder in self.call_holders(value):  # (lst = d.setdefault(k, []))
                    holders.setdefault(holder, set()).add(None)
        held = list(holders)
        while held:  # (the holders of a holder: t2 of t2 = iter(t1), t1 of t1 = d.values())
            holder = held.pop()
            for st in self.layout.simple:
                value = getattr(st, "value", None)
                if not (isinstance(st, gast.Assign) and target_of(st)[0] == holder
                        and self.runs_before(st, s)):
                    continue
                found = self.call_holders(value) if isinstance(value, gast.Call) else \
                    {value.value.id} if isinstance(value, (gast.Attribute, gast.Subscript)) \
                    and isinstance(value.value, gast.Name) else set()
                for h in found - set(holders):
                    holders[h] = {None}
                    held.append(h)
        names = set()
        for holder, attrs in holders.items():
            if any(self.reaches_after(holder, attr, s) for attr in attrs):
                names.add(holder)
            if own_fresh_list(self, holder, attrs, same):
                continue  # (self.cache = []: no other attribute is that list, nor holds it)
            names |= {n for n in self.entries(holder)  # (a number held beside it: not it)
                      if n not in same and n != holder and self.read_after(n, s)
                      and self.may_run_before(n, s)  # (bound after s: what s made)
                      and self.kinds.get(n) not in (FLOAT, SCALAR)}
        return names

    def call_holders(self, call) -> set:
        """The names whose object may hold the list a call returns (or be it): its receiver and
        arguments (``d.get(k)``, ``d.setdefault(k, [])``, ``max(lists, key=len)``,
        ``log.history()``), or those a function of the user's may return; none for a call known
        to make a new list (``list(x)``, ``sorted(x)``, ``x.tolist()``, ``d.copy()``) or a NumPy
        function."""
        func = call.func
        callee = self.ctx.resolver.resolve(func)
        if any(callee is f for f in _NEW_CONTAINERS) \
                or (isinstance(func, gast.Attribute) and func.attr in _NEW_CONTAINER_METHODS):
            return set()
        if callee is MISSING or any(callee is f for f in _SELECTING) or callee is vars:
            return set(loads(call)) - {n for n in loads(func)
                                         if not isinstance(func, gast.Attribute)}
        if getattr(callee, "__module__", "").split(".")[0] == "numpy":
            return set()
        return self.returned_arguments(call)

    def reaches_after(self, holder, attr, s) -> bool:
        """Whether a statement that may run after ``s`` reads ``holder`` in a way that may give
        what it holds at ``attr`` (an attribute's name; None for an entry): any read of it but
        that of another attribute."""
        lay = self.layout
        at, loops = lay.pos[id(s)], lay.loops[id(s)]
        lo, hi = lay.span[id(loops[0])] if loops else (at, None)
        for other in lay.simple:
            p = lay.pos[id(other)]
            if not (p > at or (hi is not None and lo <= p <= hi)) or holder not in loads(other):
                continue
            value = getattr(other, "value", None)
            if not (attr is not None and isinstance(other, gast.Assign)
                    and isinstance(value, gast.Attribute) and value.attr != attr
                    and isinstance(value.value, gast.Name) and value.value.id == holder):
                return True
        return holder == self.result

    def holds_before(self, container, same, s, aliasing, seen=()) -> bool:
        """Whether ``container`` may hold one of the names ``same`` when ``s`` runs: put into it
        (or into a list it copies) by a statement that may run before ``s``, the name not bound
        to another object in between (``items.append(row)`` of the last pass of a loop that
        starts with ``row = []``). ``aliasing``: bindings to the same object."""
        if not set(same).intersection(self.entries(container, before=s)):
            return False
        if container not in {into for _, into, _ in self.stores()}:
            # (through a copy, M = items: when what it copies holds them)
            return any(self.holds_before(c, same, s, aliasing, seen + (container,))
                       for c in self.copied_from(container, s) if c not in seen + (container,))
        return any(self.runs_before(st, s) and not any(
            self.rebound_between(n, st, s, aliasing) for n in set(names) & set(same))
            for st, into, names in self.stores() if into == container and set(names) & set(same)) \
            or any(set(same).intersection(self.entries(c, before=s))
                   for c in self.copied_from(container, s))

    def same_list(self, lst, before=None) -> dict:
        """{name: the statements binding it to what may be the list ``lst`` itself} (``b = lst``,
        a function's result that may be its argument, an entry of a container holding it; and
        ``w`` for ``lst = w``, from that statement on); with ``before``, by the statements that
        may run before that one only (``ret = frames`` or ``ret = T`` after the loop appending
        ``T`` to ``frames`` does not make them one list in it)."""
        same, grown = {lst: []}, True
        statements = [st for st in self.layout.simple
                      if before is None or self.runs_before(st, before)]
        while grown:
            grown = False
            for st in statements:
                bound = target_of(st)[0] if isinstance(st, gast.Assign) else None
                if bound in same and isinstance(st.value, gast.Subscript) \
                        and isinstance(st.value.value, gast.Name) \
                        and not isinstance(st.value.slice, gast.Slice):
                    # (lst = rows[i]: any entry of rows, r0 of rows = [r0, r1], may be lst)
                    for entry in self.entries(st.value.value.id):
                        if st not in same.get(entry, ()):
                            same.setdefault(entry, []).append(st)
                            grown = True
                if bound is None or st in same.get(bound, ()):
                    continue
                value = st.value
                if (isinstance(value, gast.Name) and value.id in same) or (
                        isinstance(value, gast.Call) and set(same) & self.returned_arguments(value)
                        and not any(self.ctx.resolver.resolve(value.func) is f
                                    for f in (min, max))) or (
                        isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)
                        and set(same).intersection(self.entries(value.value.id))):
                    same.setdefault(bound, []).append(st)
                    grown = True
                elif bound in same and isinstance(value, gast.Attribute):
                    # (t = obj.items: what obj.items = lst stored is t, by that read too; lst
                    # may be held by another object, b = P(lst))
                    for v, store in _attribute_stores(self, value):
                        if store not in same.get(v, ()):
                            same.setdefault(v, []).append(store)
                            same[bound].append(st)
                            grown = True
                elif bound in same and isinstance(value, gast.Name) \
                        and st not in same.get(value.id, ()):
                    # (lst = ws: ws is that list too, from this binding on)
                    same.setdefault(value.id, []).append(st)
                    grown = True

        return same

    def fresh_container(self, var, seen=()) -> bool:
        """Whether every binding of ``var`` makes a new list or dict (a display, ``list(...)``,
        ``dict(...)``), or hands over a temporary of the normal form that does (a
        comprehension's ``items``)."""
        values = [st.value for st in self.layout.simple
                  if isinstance(st, gast.Assign) and target_of(st)[0] == var
                  and isinstance(st.targets[0], gast.Name)]
        def handed(v):  # (the temporary v is: a name, or an entry of xs, hs = {}, {})
            return v.id if isinstance(v, gast.Name) else self.unpacked_entry(v)

        return bool(values) and all(
            isinstance(v, (gast.List, gast.Dict))
            or (isinstance(v, gast.Call) and any(self.ctx.resolver.resolve(v.func) is f
                                                 for f in (list, dict)))
            or (isinstance(handed(v), str) and handed(v) in self.ctx.temps
                and handed(v) not in seen and self.fresh_container(handed(v), seen + (var,)))
            for v in values)

    def fresh_list(self, var) -> bool:
        """Whether every binding of ``var`` makes a new list (``list(x)``, ``[a, b]``): a store
        ``var[i] = v`` then replaces an entry and writes into no array (``list(x)``'s entries
        may be views of ``x``, but a write into one is a write into a name read from it)."""
        if self._fresh_lists is None:
            signature = self.fdef.args
            params = [a.id for a in signature.posonlyargs + signature.args + signature.kwonlyargs
                      + [signature.vararg, signature.kwarg] if a is not None]
            self._fresh_lists = effects.fresh_lists(self.fdef.body, params,
                                                    self.ctx.resolver.resolve)
        # (or a slice of a list, lst[1:]: a new list of its entries, as list(lst) is)
        made = self.layout.bindings(var)
        return var in self._fresh_lists or bool(made) and all(
            isinstance(st, gast.Assign) and _list_slice(st.value, self.kinds) for st in made)


def _list_slice(value, kinds) -> bool:
    """Whether ``value`` is ``lst[a:b]`` of a name holding a list (or a tuple, which cannot be
    stored into): a new list, where an array's slice is a view."""
    return isinstance(value, gast.Subscript) and isinstance(value.slice, gast.Slice) \
        and isinstance(value.value, gast.Name) and kinds.get(value.value.id) == CONTAINER


def _method_call(st):
    """``(name, method)`` when the statement ``st`` calls ``name.method(...)`` (its value), else
    None."""
    call = getattr(st, "value", None)
    if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) \
            and isinstance(call.func.value, gast.Name):
        return call.func.value.id, call.func.attr
    return None


def _fills(st, v) -> bool:
    """Whether ``st`` puts a value into ``v`` that is not ``v`` itself: ``v[k] = x`` or
    ``v.append(x)`` (a comprehension's)."""
    if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Subscript):
        return getattr(st.targets[0].value, "id", None) == v and v not in loads(st.value)
    call = st.value if isinstance(st, gast.Expr) else None
    return isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) \
        and call.func.attr == "append" and getattr(call.func.value, "id", None) == v \
        and len(call.args) == 1 and v not in loads(call.args[0])


def owner_given_back(aliasing, holder, s):
    """``(obj, attr)`` when the dict or list ``holder`` that ``s`` writes a list back into is
    read from ``obj.attr`` and given back to it right after (``t = obj.hist; u = t['I'];
    u.append(v); t['I'] = u; obj.hist = t``), and no other read of ``obj.attr`` is handed on;
    else None."""
    lay = aliasing.layout
    bound = lay.bindings(holder)
    if len(bound) != 1 or not isinstance(bound[0], gast.Assign) \
            or not isinstance(bound[0].value, gast.Attribute) \
            or not isinstance(bound[0].value.value, gast.Name):
        return None
    owner, attr = bound[0].value.value.id, bound[0].value.attr
    for st in lay.simple:  # (another read of obj.attr handed on: c = dict(obj.hist) holds u too)
        read = getattr(st, "value", None)
        if isinstance(st, gast.Assign) and isinstance(read, gast.Attribute) \
                and getattr(read.value, "id", None) == owner and read.attr == attr \
                and not _entries_only(aliasing, target_of(st)[0]):
            return None
    at = next(k for k, st in enumerate(lay.simple) if st is s)
    # (the entry stored back, maybe through a check, then the holder given back)
    for st in lay.simple[at + 1:at + 4]:
        target = st.targets[0] if isinstance(st, gast.Assign) else None
        if isinstance(target, gast.Attribute) and isinstance(target.value, gast.Name) \
                and (target.value.id, target.attr) == (owner, attr) \
                and isinstance(st.value, gast.Name) and st.value.id == holder:
            return owner, attr
    return None


def _attribute_stores(aliasing, read) -> list:
    """(name, statement) of each ``obj.attr = name`` into the object the attribute read
    ``read`` (``obj.attr``) reads, but not of a name read from that attribute itself (what a
    list read from it is given back by: ``t = obj.items; t.append(v); obj.items = t``)."""
    owners = _named_alike(aliasing.layout, getattr(read.value, "id", None))
    given_back = {target_of(st)[0] for st in aliasing.layout.simple
                  if isinstance(st, gast.Assign) and isinstance(st.value, gast.Attribute)
                  and getattr(st.value.value, "id", None) in owners
                  and st.value.attr == read.attr}
    return [(st.value.id, st) for st in aliasing.layout.simple if isinstance(st, gast.Assign)
            and isinstance(st.targets[0], gast.Attribute) and st.targets[0].attr == read.attr
            and getattr(st.targets[0].value, "id", None) in owners
            and isinstance(st.value, gast.Name) and st.value.id not in given_back]


def _named_alike(lay, var) -> set:
    """``var`` and the names bound to it, or it to them, by ``a = b`` (the same object)."""
    pairs = [(target_of(st)[0], st.value.id) for st in lay.simple
             if isinstance(st, gast.Assign) and isinstance(st.value, gast.Name)
             and target_of(st)[0]]
    found, grown = {var}, True
    while grown:
        grown = False
        for a, b in pairs:
            if (a in found) != (b in found):
                found |= {a, b}
                grown = True
    return found


def _handed_over_to(aliasing, v, lst) -> bool:
    """Whether ``v`` is read only by ``lst = v`` (``t1 = dict(p); p = t1``): what it holds is
    seen through ``lst`` only."""
    reads = [st for st in aliasing.layout.simple if v in loads(st)]
    return bool(reads) and all(isinstance(st, gast.Assign) and target_of(st)[0] == lst
                               and isinstance(st.value, gast.Name) and st.value.id == v
                               for st in reads)


def _entries_only(aliasing, var) -> bool:
    """Whether every use of ``var`` reads an entry of it (``var[k]``), stores one into it or
    gives it back to what it was read from (``var[k] = u``, ``obj.attr = var``), or is a
    run-time helper of generated code (``stored_value(var, k, u, refusal)``)."""
    for st in aliasing.layout.readers(var):
        value = getattr(st, "value", None)
        fn = aliasing.ctx.resolver.resolve(value.func) if isinstance(value, gast.Call) else None
        if getattr(fn, "__module__", "").startswith(runtime.__name__):
            continue
        target = st.targets[0] if isinstance(st, gast.Assign) else None
        if isinstance(value, gast.Subscript) and getattr(value.value, "id", None) == var \
                and var not in loads(value.slice):
            continue
        if isinstance(target, (gast.Subscript, gast.Attribute)) and isinstance(value, gast.Name) \
                and (value.id == var or getattr(target.value, "id", None) == var) \
                and var not in loads(getattr(target, "slice", const(0))):
            continue
        return False
    return True


def check_kept_views(aliasing) -> None:
    """Refuse ``v = d.values()`` (or ``d.items()``) read after a store into the dict ``d``
    that may run after it: the view shows the entries stored then, which the derivative
    would not follow (it reads the entries the view had)."""
    lay = aliasing.layout
    for s in lay.simple:
        method = _method_call(s)
        if aliasing.ctx.generated or method is None or method[1] not in ("values", "items") \
                or not isinstance(s, gast.Assign):
            continue
        view, held = target_of(s)[0], method[0]
        for st in lay.simple:
            stored = isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Subscript) \
                and getattr(st.targets[0].value, "id", None) == held
            changed = _method_call(st) in ((held, "update"), (held, "setdefault"),
                                           (held, "pop"), (held, "clear"))
            if (stored or changed) and aliasing.runs_before(s, st) \
                    and aliasing.read_after(view, st) and not aliasing.dead_at(view, st):
                raise aliasing.loc.error(
                    "%r holds a view of the dict %r, read after a store into the dict: the "
                    "view shows the entries stored, which the derivative does not follow"
                    % (view, held), s,
                    hint="call %s.%s() where the entries are read" % (held, method[1]))
