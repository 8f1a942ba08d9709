"""Lists and dicts changed in place, the ``ListSharing`` mixin of ``Aliasing``: the names that
may be the same list or hold it (``same_list``, ``list_sharers``), the refusal of a change seen
through them (``check_list_changed``), and the names every binding of which makes a new list or
dict (``fresh_list``, ``fresh_container``)."""
from __future__ import annotations

import gast

from .. import effects
from ..ir import target_of


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
        if names:
            raise self.loc.error("changing the list %r changes %s too, which may be the same list "
                                 "(or hold it) and is read afterwards, which is not supported"
                                 % (lst, ", ".join(repr(v) for v in names)), s,
                                 hint="make %s a new list first: %s = list(%s)" % (lst, lst, lst))

    def list_sharers(self, lst, s) -> list:
        """The names that may be the list (or dict) ``lst`` itself, or hold it, and are read after
        ``s`` changes it."""
        same = self.same_list(lst)
        aliasing = [st for bindings in same.values() for st in bindings]
        names = {v for v, bindings in same.items() if v != lst and self.read_after(v, s)
                 and any(self.runs_before(st, s) and not self.rebound_between(lst, st, s, aliasing)
                         for st in bindings)}
        for container in sorted({t for st in self.layout.simple for t in target_of(st) if t}):
            if container not in same and self.holds_before(container, same, s, aliasing) \
                    and (self.read_after(container, s) or any(
                        container in bases and self.may_run_before(v, s)
                        for v, bases in self.layout.views.items())):
                names.add(container)
        return sorted({n for n in names if n not in self.ctx.temps} or names)

    def holds_before(self, container, same, s, aliasing) -> bool:
        """Whether ``container`` may hold one of the names ``same`` when ``s`` runs: put into it
        (or into a list it copies) by a statement that may run before ``s``, the name not bound
        to another object in between (``items.append(row)`` of the last pass of a loop that
        starts with ``row = []``). ``aliasing``: bindings to the same object."""
        if not set(same).intersection(self.entries(container, before=s)):
            return False
        if container not in {into for _, into, _ in self.stores()}:
            return True  # (through a copy: what it copies holds them)
        return any(self.runs_before(st, s) and not any(
            self.rebound_between(n, st, s, aliasing) for n in set(names) & set(same))
            for st, into, names in self.stores() if into == container and set(names) & set(same)) \
            or any(set(same).intersection(self.entries(c, before=s))
                   for c in self.copied_from(container))

    def same_list(self, lst) -> dict:
        """{name: the statements binding it to what may be the list ``lst`` itself} (``b = lst``,
        a function's result that may be its argument, an entry of a container holding it; and
        ``w`` for ``lst = w``, from that statement on)."""
        same, grown = {lst: []}, True
        while grown:
            grown = False
            for st in self.layout.simple:
                bound = target_of(st)[0] if isinstance(st, gast.Assign) else None
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
        return var in self._fresh_lists
