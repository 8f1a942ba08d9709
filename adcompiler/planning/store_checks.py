"""Stores into arrays and containers, the ``StoreChecks`` mixin of ``Aliasing``: ``x[i] = v`` of
a value that may overlap ``x`` (``guard_overlapping_stores``), the syncs after a store into an
array other names may share (``sync_stores``), the refusal of a write whose views are read
afterwards (``check_views_of_written``), and that of ``d[k] += v`` on an array reachable
otherwise too (``check_element_updates``)."""
from __future__ import annotations

import gast

from .. import runtime
from ..analysis import FLOAT, SCALAR, is_container, rank
from ..ir import const, copy_tree, name, target_of
from .syncs import insert_beside, local


class StoreChecks:
    """The checks of stores and element updates (a mixin of ``Aliasing``, whose state it reads:
    ``fdef``, ``layout``, ``kinds``, ``reached``, ``syncs``, ``ctx``; it adds to
    ``array_guards`` and ``layout.mutates``)."""

    def guard_overlapping_stores(self) -> bool:
        """``x[i] = v`` where ``v`` may be a view of ``x`` (``x[1, :] = x[:, -1]``): NumPy writes
        the overlap in an order of its own, and the derivative takes ``v`` as it was before the
        write. ``v = stored_value(x, i, v, refusal)`` before the store makes the write as NumPy
        does and refuses it where the two differ. True if any was added (analyse again)."""
        added = False
        for s in self.layout.simple:
            _, var = target_of(s)
            if var is None or var not in self.reached or self.ctx.generated \
                    or getattr(s, "ad_overlap_guarded", False) or not isinstance(s, gast.Assign) \
                    or not isinstance(s.targets[0], gast.Subscript) \
                    or not isinstance(s.value, gast.Name) \
                    or s.value.id not in self.reachable_memory(var) - {var} \
                    or self.kinds.get(s.value.id) == FLOAT or is_container(self.kinds.get(var)):
                continue
            error = self.loc.error("the value written into %r may be a view of it, overlapping "
                                   "the entries written, which NumPy then writes in an order "
                                   "of its own that the derivative does not follow"
                                   % var, s, hint="store a copy of the value: %s[...] = "
                                                  "(...).copy()" % var)
            refusal = self.ctx.bind("refusal", runtime.Refusal(error))
            kept = local(self.ctx, self.ctx.namer.fresh(s.value.id + "_stored"))
            call = gast.Call(func=name(self.ctx.planned_helper("stored_value")),
                             args=[name(var), _index_value(s.targets[0].slice,
                                                           self.ctx.builtin("slice")),
                                   s.value, name(refusal)], keywords=[])
            insert_beside(self.fdef.body, s, [gast.copy_location(
                gast.Assign(targets=[name(kept, store=True)], value=call, type_comment=None),
                s)], after=False)
            s.value = name(kept)
            s.ad_overlap_guarded = added = True
        return added

    def sync_stores(self):
        """Plan the syncs after ``x[i] = v`` into an array that may share other names' memory (a
        view of them, or viewed by them); where that cannot be done ``store_plan`` refuses."""
        for s in self.layout.simple:
            _, var = target_of(s)
            if var is None or var not in self.reached or not isinstance(s, gast.Assign) \
                    or not isinstance(s.targets[0], gast.Subscript) \
                    or is_container(self.kinds.get(var)) or var in self.ctx.containers:
                continue
            sharing = self.reachable_memory(var) - {var}
            holder = getattr(s, "ad_written_back", None)
            if holder is not None:  # (a.v = arr; t = a.v; t[0] = u changes arr)
                sharing |= self.held_memory_read_after(var, holder, s)
            if sharing:
                self.syncs.add(s, var, sharing)

    def check_views_of_written(self, var, s):
        """A write into ``var`` changes the views of it too (``t = A[0:2]; A[0] = v`` changes
        ``t``), which the derivative does not follow: an error when such a view may be read after
        it."""
        # (temporaries are read at once)
        holder = getattr(s, "ad_written_back", None)
        if var not in self.reached and holder is None:  # (no derivative to follow)
            return
        if is_container(self.kinds.get(var)):
            # (replacing an entry writes into no array: the entries read before keep theirs;
            # what sees the change is the list or dict itself under other names)
            # (not a comprehension's list handed over to it, vel = items: nothing reads it after)
            viewers = [v for v in self.list_sharers(var, s)
                       if v != var and not self.filled_then_handed(v, var)]
        else:
            views = {v for v, bases in self.layout.views.items()
                     if var in bases and v != var and v not in self.ctx.temps
                     and self.may_run_before(v, s) and self.read_after(v, s)
                     and not self.rebound_before_read(v, s)}
            viewers = sorted({v for v in views if not self.given_an_earlier_array(v, var, s)}
                             | {v for v in self.holders_seeing(var, s)
                                if not self.given_an_earlier_array(v, var, s, holder=True)
                                and not self.rebound_before_read(v, s)})
        if holder is not None:  # (x of obj.attr or d[k]: a list or dict, maybe, held elsewhere too)
            viewers = sorted(set(viewers) | set(self.list_sharers(var, s))
                             | self.held_memory_read_after(var, holder, s))
            self.guard_other_attributes(var, holder, s)
        viewers = [v for v in viewers if v != holder]
        if viewers and not self.syncs.add(s, var, self.sharing_memory(var) | set(viewers)):
            raise self.loc.error("writing into %r changes %s, which may be a view of it and is "
                                 "read afterwards, which is not supported"
                                 % (self.spelled(var), ", ".join(repr(v) for v in viewers)), s,
                                 hint="make %s a separate array: %s = ....copy()"
                                 % (viewers[0], viewers[0]))

    def copies_read_after(self, container, s) -> set:
        """The containers ``container`` is a shallow copy of, and those that are one of it
        (``sh = dict(p)``, or made entry by entry, ``{k: v for k, v in p.items()}``), read after
        ``s``: they hold the same arrays."""
        copies = {c for c in self.containers() if any(
            container in self.copy_sources(b.value) for b in self.layout.bindings(c)
            if isinstance(b, gast.Assign)) or any(
            container in self.layout.views.get(e, ()) for e in self.entries(c, before=s))}
        return {c for c in copies | set(self.copied_from(container))
                if c != container and c not in self.ctx.temps
                and any(self.read_after(n, s) for n in self.same_list(c))}

    def held_memory_read_after(self, var, holder, s) -> set:
        """For ``x[k] = v`` of an array ``x = obj.attr`` given back to ``obj``: the names read
        after ``s`` that may share its memory other than through ``obj`` (``b = H(a.v[:2]);
        b.v[0] = u`` changes ``a.v``)."""
        lay = self.layout
        bound = lay.bindings(var)
        read = bound[0].value if len(bound) == 1 and isinstance(bound[0], gast.Assign) else None
        if not isinstance(read, gast.Attribute) or getattr(read.value, "id", None) != holder \
                or is_container(self.kinds.get(var)):
            return set()
        # (what obj.attr was given, and what shares its memory: a.v = arr, b.v = a.v[:2])
        given = {st.value.id for st in lay.simple if isinstance(st, gast.Assign)
                 and isinstance(st.targets[0], gast.Attribute) and st.targets[0].attr == read.attr
                 and getattr(st.targets[0].value, "id", None) == holder
                 and isinstance(st.value, gast.Name) and st.value.id != var}
        shared = set().union(set(), *map(self.reachable_memory, given))
        if all(is_container(self.kinds.get(g)) for g in given):
            return set()  # (a list given: x[k] = v replaces an entry, it writes no array)
        # (and another object given one of them, its attribute read afterwards: b = P(arr))
        others = {st.targets[0].value.id for st in lay.simple if isinstance(st, gast.Assign)
                  and isinstance(st.targets[0], gast.Attribute)
                  and isinstance(st.targets[0].value, gast.Name)
                  and st.targets[0].value.id != holder
                  and isinstance(st.value, gast.Name) and st.value.id in shared}
        return {n for n in (shared | others) - {var, holder} if n not in self.ctx.temps
                and self.read_after(n, s) and self.may_run_before(n, s)}

    def guard_other_attributes(self, var, holder, s):
        """``x[k] = v`` of ``x = obj.attr`` stored back into ``obj``: no other attribute of
        ``obj`` may hold the array (``self.mid = u[1:]`` next to ``self.u``), whose reads would
        not see the write; checked when it runs."""
        bound = self.layout.bindings(var)
        read = bound[0].value if len(bound) == 1 and isinstance(bound[0], gast.Assign) else None
        if id(s) in self.array_guards or not isinstance(read, gast.Attribute) \
                or getattr(read.value, "id", None) != holder or is_container(self.kinds.get(var)):
            return
        self.array_guards[id(s)] = ("attribute_alone", [name(holder), const(read.attr)],
                                    self.loc.error(
            "writing into %s.%s changes the array another attribute of %r holds too (or a view "
            "of it), whose reads the derivative does not follow" % (holder, read.attr, holder),
            s, hint="store a copy in one of them"))

    def given_an_earlier_array(self, v, var, s, holder=False) -> bool:
        """Whether no binding of ``v`` that may run before ``s`` gives it the array ``var`` holds
        at ``s``: each makes no view of ``var`` (not said of a ``holder``, a list or dict that may
        hold it), or ``var`` is rebound to a new array on every path from it to ``s`` (``u =
        u_next`` or ``u_prev, u = u, u_next`` at the end of a loop's pass, ``u_next =
        np.zeros_like(u)`` at the start of the next, then ``u_next[1:] = ...``)."""
        def views_of(st, name_):
            bases = self.views_made_by([st]).get(name_, set())
            return bases | {b2 for b in bases for b2 in self.layout.views.get(b, ())}
        bindings = [st for st in self.layout.simple
                    if target_of(st)[0] == v and self.runs_before(st, s)]
        # (a sync binds var again to the array it held: y = synced(y, u, shared))
        same = [b for b in self.layout.simple if getattr(b, "ad_same_array", False)]
        renewed = all(isinstance(b, gast.Assign) and not views_of(b, var)
                      for b in self.layout.bindings(var) if b not in same)
        return bool(bindings) and all(
            isinstance(st, gast.Assign) and ((not holder and var not in views_of(st, v)) or (
                renewed and self.rebound_between(var, st, s, aliasing=same)))
            for st in bindings)

    def check_element_updates(self):
        """``d[k] += v`` on a list or dict changes the array ``d[k]`` in place (runtime's
        ``element_in_place``): an error when that array may be reachable under another name too
        (a value stored into ``d`` that is a view, an argument, or read elsewhere; another view of
        ``d``), whose later reads would not see the change in the derivative."""
        for s in self.layout.simple:
            container = getattr(s, "ad_element_of", None)
            if container is None or rank(self.kinds.get(container)):
                continue  # (an array's element is written by the store that follows)
            # (their arrays may be the one written: record them first; so may the entries read
            # from it or from the list it copies, ``t = lst[-1]`` of ``c = lst.copy()``, seed
            # 1106785)
            holders = {container} | set(self.copied_from(container))
            read = [v for v, bases in self.layout.views.items() if bases & holders]
            for held in self.entries(container) + read:
                self.layout.mutates.setdefault(held, []).append(self.layout.pos[id(s)])
            if self.ctx.generated or container not in self.reached:
                continue
            element = target_of(s)[1]
            # (a shallow copy holds the original's arrays: dict(p), p.copy(), copy.copy(p))
            originals = self.copies_read_after(container, s)
            holders = self.unknown_holders(container)
            shared = sorted(self.shared_entries(container) | originals | holders | {
                # (the normal form's temporaries are read at once)
                v for v, bases in self.layout.views.items()
                if container in bases and v != element and v not in self.ctx.temps
                and self.may_run_before(v, s)
                # (not k, v of a loop before it, dead here)
                and (self.read_after(v, s) or self.in_closure(v)) and not self.dead_at(v, s)})
            if shared:
                # (a temporary of the normal form is named by the arrays it may view)
                named = sorted({b for v in shared
                                for b in ([v] if v not in self.ctx.temps
                                          else self.layout.views.get(v, ()))
                                if b not in self.ctx.temps})
                error = self.loc.error(
                    "the augmented assignment changes the array in %r in place, and that array "
                    "may also be %s, which is not supported" % (container, ", ".join(
                        repr(v) for v in named) or (
                            "another of its entries (a list repeated by *)"
                            if self.repeated(container) else "reached otherwise")), s,
                    hint="write %s[...] = %s[...] + ... (a new array), or store a copy in %r"
                    % (container, container, container))
                if self.kinds.get(container) is not None or container in self.ctx.containers \
                        or holders:
                    entry = self.kinds.get(element)
                    if entry == FLOAT:
                        continue  # (a number entry: d[k] += 1 binds a new number)
                    if entry not in (None, SCALAR):
                        raise error
                    # (an entry of no known kind, or a shape-() one, which np.where(c, a, b) of
                    # numbers makes a 0-d array: refused when it runs if it holds an array; seed
                    # 1386421)
                    self.array_guards[id(s)] = ("refused_if_array", [name(element)], error)
                    continue
                # (of no known kind: an array's element is written by the store that follows,
                # as for any array; a list or dict is refused when the update runs)
                self.array_guards[id(s)] = ("check_array", [name(container)], error)

    def unknown_holders(self, container) -> set:
        """The objects ``container`` is read from as an attribute (``t = net.params``): the arrays
        it holds may be anything's, the caller's too."""
        return {st.value.value.id for st in self.layout.simple
                if isinstance(st, gast.Assign) and target_of(st)[0] == container
                and isinstance(st.value, gast.Attribute) and isinstance(st.value.value, gast.Name)}

    def completes_element_update(self, store) -> bool:
        """Whether ``d[k] = t`` stores the result of an in-place update of the entry
        (``d[k] += v``: ``t = element_in_place(d, old, new)``), which changed the array held."""
        value = store.value
        return isinstance(value, gast.Name) and any(
            isinstance(s, gast.Assign) and target_of(s)[0] == value.id
            and getattr(s, "ad_element_of", None) is not None for s in self.layout.simple)


    def number_entry_update(self, store, error) -> bool:
        """Whether ``d[k] = t`` completes an update of an entry that is a number (``d[k] *= v``
        makes a new number, and changes no array): by its kind, or checked where it runs (which
        raises ``error`` if it holds an array)."""
        value = store.value
        update = next((s for s in self.layout.simple if isinstance(s, gast.Assign)
                       and isinstance(value, gast.Name) and target_of(s)[0] == value.id
                       and getattr(s, "ad_element_of", None) is not None), None)
        if update is None or self.kinds.get(update.ad_mutates) not in (FLOAT, SCALAR, None):
            return False
        guard = self.array_guards.get(id(update))
        if guard is None and self.kinds.get(update.ad_mutates) != FLOAT:
            guard = self.array_guards[id(update)] = (
                "refused_if_array", [name(update.ad_mutates)], error)
        return guard is None or guard[0] == "refused_if_array"

def _index_value(index, slice_name):
    """A copy of an index as a value: ``1:3`` is ``slice(1, 3, None)``."""
    if isinstance(index, gast.Slice):
        return gast.Call(func=name(slice_name), args=[
            copy_tree(p) if p is not None else gast.Constant(value=None, kind=None)
            for p in (index.lower, index.upper, index.step)], keywords=[])
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[_index_value(e, slice_name) for e in index.elts], ctx=gast.Load())
    return copy_tree(index)
