"""Augmented assignments that write into an array in place (``h += v``), the ``InPlaceUpdates``
mixin of ``Aliasing``: the names that may hold the same array and see the change, and what is
done about them (``check_in_place_updates``): the write made the in-place write Python does (the
names sharing it synced after it), left to a check when it runs, or refused; each write is
recorded on the names sharing its array."""
from __future__ import annotations

import gast

from .. import runtime
from ..analysis import FLOAT, SCALAR, is_container, is_tuple
from ..ir import const, loads, name, target_of
from .syncs import dead_temporary


class InPlaceUpdates:
    """The checks of ``h += v`` (a mixin of ``Aliasing``, whose state it reads: ``layout``,
    ``kinds``, ``reached``, ``syncs``, ``ctx``; it adds to ``array_guards`` and
    ``layout.mutates``)."""

    def check_in_place_updates(self, arg_kinds):
        """``h += v`` changes an array in place: the same array under another name (``h = x``, a
        list element, a dict entry) changes too. The normal form rebinds ``h`` instead, so that is
        an error, unless ``h`` is a Python or NumPy scalar. (With no argument kinds at all, as for
        ``ad.source``, unknown kinds are let through: that code is for reading.) In generated code
        being differentiated again, the writes are its ``in_place`` calls, the user's own: each is
        recorded on the names sharing its array, whose values the backward pass then keeps."""
        specialised = any(k is not None for k in arg_kinds.values())
        bases = {b for targets in self.layout.views.values() for b in targets}
        for s in self.layout.simple:
            var = self.updated_in_place(s)
            if var is None:
                continue
            kind = self.kinds.get(var)
            # (a shape-() NumPy value may be a 0-d array, changed in place)
            if kind == FLOAT or (kind is None and not specialised) or self.tuple_only(var):
                continue  # (a tuple's += makes a new tuple: nothing else changes)
            aliases = self.in_place_aliases(s, var, kind, bases)
            # (generated code's writes were checked, and synced where needed, when it was
            # generated)
            if self.ctx.generated or self.follow_in_place_update(s, var, kind, aliases):
                # a write into the array itself (an argument's, in place as the caller sees it)
                # changes what its aliases hold: the backward pass keeps what it reads of them
                # from before (``for item in [w]: z = item ** 2`` then ``w -= z``: seed 330768)
                self.record_write(s, var, aliases)

    def in_place_aliases(self, s, var, kind, bases) -> set:
        """The names that may hold the array ``s``, an in-place update of ``var`` (of kind
        ``kind``), changes: the arrays ``var`` views (for a list, only the lists it is), its views
        bound before ``s`` and read after it when ``var`` is viewed at all (``bases``: the names
        some view is of), and the lists and dicts holding it that see the change."""
        views_of_var = {v for v, b in self.layout.views.items()
                        if var in b and self.viewed_before(v, s) and self.live_after(v, s)}
        bases_of_var = {b for b in self.layout.views.get(var, set())
                        if not self.rebound_apart(var, b, s)}
        if is_container(kind):  # (a += [v] extends the list, not the arrays it holds)
            bases_of_var = {b for b in bases_of_var
                            if is_container(self.kinds.get(b)) or b in self.ctx.containers}
        return (bases_of_var
                | (views_of_var if var in bases else set()) | self.holders_seeing(var, s)
                | self.stored_in_attribute(var, s))

    def follow_in_place_update(self, s, var, kind, aliases) -> bool:
        """Make the derivative follow ``s``, the user's in-place update of ``var`` whose array the
        names ``aliases`` may hold, where some of them see the change (``others_seeing``): as
        the in-place write Python does when no derivative is involved or the names sharing the
        array can be synced after it; else a shape-() value is refused when it runs if it is a
        0-d array, and anything else refused now. False when the update is left to that check
        (a NumPy scalar is rebound: no array is written), else True."""
        others = [] if self.held_alone(var, s) else self.others_seeing(s, var, aliases)
        owner = self.updated_attribute_owner(s, var, others)
        if owner is not None:
            holder = self.entry_holder(owner[0])
            others = [o for o in others if o not in (owner[0], holder)]
            if holder is not None:
                self.entry_updates.setdefault(holder, set()).add(owner[1])
            self.guard_attribute_alone(s, owner)
        if not others:
            return True
        if var not in self.reached and not set(others) & self.reached:
            self.write_in_place(s, var)  # (no derivative involved: the write, as Python does it)
        elif self.syncs.add(s, var, self.sharing_memory(var) | aliases):
            self.write_in_place(s, var)  # (as Python does it; the names sharing it follow)
        elif kind in (SCALAR, None) and owner is None:
            # (a shape-() value: a NumPy scalar, as np.max(...) gives, does not change in
            # place, and rebinding is what Python does; a 0-d array is refused when it runs,
            # and so is anything but a number when the kind is not known: ``loss, g = f(x);
            # loss += r``)
            self.array_guards[id(s)] = (
                "refused_if_array" if kind == SCALAR else "refused_unless_number", [name(var)],
                self.loc.error(
                    "the augmented assignment changes %s%r in place, and %s may be the same "
                    "%s, which is not supported" % (
                        "the 0-d array " if kind == SCALAR else "",
                        self.spelled(var), ", ".join(repr(o) for o in others),
                        "array" if kind == SCALAR else "array (it is not a number here)"), s,
                    hint="write %s = %s + ... (a new value)" % ((self.spelled(var),) * 2)))
            return False
        else:
            shown = self.spelled(var)
            raise self.loc.error(
                "the augmented assignment changes %r in place, and %s may be the same %s, "
                "which is not supported" % (shown, ", ".join(repr(o) for o in others),
                                            "list (a list's += extends it)" if is_container(
                                                kind) else "array (NumPy's += writes into it)"),
                s,
                hint="write %s = %s + ... (a new array), or copy it first: %s = %s.copy() (%s "
                     "then no longer changes with it)" % (shown, shown, shown, shown,
                                                          others[0]))
        return True

    def others_seeing(self, s, var, aliases) -> list:
        """The names among ``aliases`` through which the change ``s`` makes to ``var``'s array
        could be seen, sorted: a list or dict, or a name sharing the memory that may be bound
        before ``s`` and is seen after it; not one bound to that memory only in the other arm of
        an ``if`` from ``s`` (``bound_apart``)."""
        # (a name bound only after the write, ``ret = (loss, dW)``, is bound to what the
        # names hold then: it sees the change as the plain call's does)
        return sorted(o for o in aliases
                      # (what a list holds is not tracked)
                      if (is_container(self.kinds.get(o))
                          or any(self.seen_after(n, s) and self.may_run_before(n, s)
                                 and not self.dead_at(n, s)  # (t = h.T bound again first)
                                 and self.live_after(n, s)
                                 for n in self.layout.same_memory(o) - {var}))
                      and not self.bound_apart(o, var, s))

    def guard_attribute_alone(self, s, owner):
        """``obj.v -= u`` (``owner``: ``obj`` and ``v``): the array ``obj.v`` holds, changed in
        place as Python does, is stored back into ``obj.v``; no other name holds it, and no other
        attribute of ``obj`` may hold it either, which is checked when it runs."""
        error = self.loc.error(
            "the augmented assignment changes %s.%s in place, and another attribute of "
            "the object holds the same array (or a view of it), which is not supported"
            % owner, s, hint="store a copy in one of them")
        self.array_guards[id(s)] = ("attribute_alone", [name(owner[0]), const(owner[1])], error)

    def tuple_only(self, var) -> bool:
        """Whether every binding of ``var`` gives it a tuple: a tuple display, a name of a tuple
        of known entries, or ``var += t`` (a tuple plus anything else is a TypeError)."""
        bindings = self.layout.bindings(var)
        return bool(bindings) and all(
            isinstance(b, gast.Assign) and (
                getattr(b, "ad_augmented", False) or isinstance(b.value, gast.Tuple)
                or (isinstance(b.value, gast.Name) and is_tuple(self.kinds.get(b.value.id))))
            for b in bindings) and not all(getattr(b, "ad_augmented", False) for b in bindings)

    def updated_in_place(self, s):
        """The name whose array ``s`` updates in place as an augmented assignment of the user's
        code (``h += v``, or ``t = in_place(h, ...)`` in generated code), else None."""
        if self.ctx.generated:
            return s.ad_mutates if isinstance(s, gast.Assign) and getattr(
                s, "ad_mutates", None) and isinstance(s.value, gast.Call) \
                and self.ctx.resolver.resolve(s.value.func) is runtime.in_place else None
        return target_of(s)[0] if getattr(s, "ad_augmented", False) else None

    def bindings_sharing(self, var, shares, s):
        """The assignments of ``var`` whose value reads a name ``shares`` accepts (so that may
        give ``var`` its memory), as two lists: those that may hold it when ``s`` runs, and those
        in the other arm of an ``if`` from ``s``, which do not (``else: mean =
        self.running_mean`` beside ``if ...: mean = x.mean(0); self.running_mean += ...``).
        None when ``var`` is not bound, or bound otherwise than by an assignment."""
        bindings = self.layout.bindings(var)
        if not bindings or not all(isinstance(st, gast.Assign) for st in bindings):
            return None
        at, held, apart = self.layout.pos[id(s)], [], []
        for st in bindings:
            arm = apart if self.layout.exclusive(self.layout.pos[id(st)], at) \
                or self.rebound_between(var, st, s, aliasing=(st,)) else held
            if any(shares(n) for n in loads(st.value)):
                arm.append(st)
        return held, apart

    def bound_apart(self, other, var, s) -> bool:
        """Whether every binding that may give ``other`` the memory of ``var`` sits in the other
        arm of an ``if`` from ``s`` (see ``bindings_sharing``): ``other`` does not hold it at
        ``s``. (Not when no binding may give it that memory: it is not known to be apart.)"""
        bases, todo = set(), [var]
        while todo:  # (an array var views, made by any binding: ``z = np.exp(x); v = z[1:]``)
            for b in self.layout.views.get(todo.pop(), ()):
                if b not in bases:
                    bases.add(b)
                    todo.append(b)
        if other in bases:
            return False
        memory = self.reachable_memory(var)
        found = self.bindings_sharing(other, memory.__contains__, s)
        if found is None:
            return False
        held, apart = found
        return not held and bool(apart)

    def updated_attribute_owner(self, s, var, others):
        """(obj, attr) when ``s`` is the in-place update of ``obj.attr += v`` (``var`` bound to
        ``obj.attr`` just before) and the only other name that may hold its array is ``obj``:
        every other name read from ``obj`` that may hold an array when ``s`` runs and is read
        afterwards is a read of another attribute (``osc.x`` next to ``osc.v -= ...``) or a
        temporary dead at ``s``; else None."""
        if not getattr(s, "ad_attribute_update", False):
            return None
        read = [st for st in self.layout.simple if isinstance(st, gast.Assign)
                and target_of(st)[0] == var and isinstance(st.value, gast.Attribute)
                and isinstance(st.value.value, gast.Name)]
        if len(read) != 1:
            return None
        obj, attr = read[0].value.value.id, read[0].value.attr
        # (an entry of a list argument, stored back into it: the list holds it too, and the
        # entries' arrays are checked apart where the function is called)
        if set(others) - {obj} - {self.entry_holder(obj)} or obj not in others:
            return None

        def shares_obj(n):
            return obj in self.sharing_memory(n)

        for v, bases in self.layout.views.items():
            if v == var or obj not in bases or not self.may_run_before(v, s) \
                    or not (self.read_after(v, s) or self.in_closure(v)) \
                    or dead_temporary(self, v, s) or not self.live_after(v, s):
                continue
            # (the bindings that may give v obj's memory when s runs: not ``mean = x.mean(0)``,
            # nor one in the other arm of an if, ``else: mean = self.running_mean``)
            found = self.bindings_sharing(v, shares_obj, s)
            if found is None:
                return None
            held, _ = found
            if not all(
                    (isinstance(st.value, gast.Attribute) and isinstance(st.value.value, gast.Name)
                     and st.value.value.id == obj and st.value.attr != attr)
                    or (getattr(st, "ad_attribute_update", False) and self.updated_from_other(
                        st, obj, attr)) for st in held):
                return None
        return obj, attr

    def entry_holder(self, obj):
        """The list or dict argument ``obj`` was read from and is stored back into after each
        attribute store (``planning/entries.py``), else None."""
        return next((st.targets[0].value.id for st in self.layout.simple
                     if getattr(st, "ad_restores", None) == obj), None)

    def held_by(self, obj):
        """The object ``obj`` was read from as an attribute and is stored back into after each
        attribute store (``planning/entries.py``: ``held_read``), else None."""
        return next((st.targets[0].value.id for st in self.layout.simple
                     if getattr(st, "ad_restores_attribute", None) == obj), None)

    def updated_from_other(self, st, obj, attr) -> bool:
        """Whether ``st``, ``t = in_place(t, ...)`` of another ``obj.n += v``, updates the value
        of an attribute of ``obj`` other than ``attr``."""
        var = target_of(st)[0]
        return any(isinstance(b, gast.Assign) and target_of(b)[0] == var
                   and isinstance(b.value, gast.Attribute) and isinstance(b.value.value, gast.Name)
                   and b.value.value.id == obj and b.value.attr != attr
                   for b in self.layout.simple)

    def spelled(self, var) -> str:
        """``var`` as the user wrote it: a temporary of the normal form bound once to an attribute
        (``obj.v`` of ``obj.v -= x``) or an entry (``ps[i]`` of ``ps[i].v = x``) is that."""
        if var in self.ctx.temps:
            for st in self.layout.simple:
                if target_of(st)[0] == var and isinstance(st.value, gast.Attribute) \
                        and isinstance(st.value.value, gast.Name):
                    return "%s.%s" % (self.spelled(st.value.value.id), st.value.attr)
                if target_of(st)[0] == var and isinstance(st.value, gast.Subscript) \
                        and isinstance(st.value.value, gast.Name) \
                        and isinstance(st.value.slice, (gast.Name, gast.Constant)):
                    return gast.unparse(st.value)  # (ps[i] of ps[i].v = x)
        return var

    def record_write(self, s, var, aliases):
        """Record ``s``, a write into ``var``'s array, on every name that may share it."""
        if getattr(s, "ad_mutates", None) != var:
            return  # (the normal form rebinds var: no other name sees the change)
        at = self.layout.pos[id(s)]
        for n in set().union(self.reachable_memory(var), *map(self.reachable_memory, aliases)) \
                - {var}:
            self.layout.mutates.setdefault(n, []).append(at)

    def write_in_place(self, s, var):
        """Make ``var = keep_dtype(var, t)`` (normalize's ``var op= v``) the in-place write Python
        does, ``var = in_place(var, t)``, so the arrays sharing ``var``'s memory see it."""
        s.value.func = name(self.ctx.planned_helper("in_place"))
        s.ad_mutates = var
        known = self.layout.mutates.setdefault(var, [])
        if self.layout.pos[id(s)] not in known:  # (generated code's in_place: known already)
            known.append(self.layout.pos[id(s)])
