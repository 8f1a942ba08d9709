"""Whether an array written in place is held by other names when the write runs, decided from
the order of the bindings (the ``ApartArrays`` mixin of ``Aliasing``): a name rebound to a copy
before the write holds no more what it was given (``held_alone``, ``rebound_apart``), and an
attribute holds what was stored into it (``stored_in_attribute``)."""
from __future__ import annotations

import gast
import numpy as np

from ..ir import loads, target_of


class ApartArrays:
    """Names holding the array a write changes, when it runs (a mixin of ``Aliasing``, whose
    state it reads: ``layout``, ``params``, ``ctx``)."""

    def held_alone(self, var, s) -> bool:
        """Whether the array ``var`` holds when ``s`` runs is held by no other name: ``var`` was
        bound to a new array earlier in the same pass of the loops around ``s`` (``u_next =
        np.zeros(n)``, on every path to ``s``), and no name that may share it since is read after
        ``s`` (``u_prev, u = u, u_next`` later in the pass hold earlier arrays at ``s``)."""
        lay = self.layout
        made = [b for b in lay.simple if target_of(b)[0] == var and isinstance(b, gast.Assign)
                and lay.loops[id(b)] == lay.loops[id(s)] and self.dominates(b, s)
                and _makes_a_new_array(b.value, self.ctx.resolver)]
        if not made:
            return False
        start, at = lay.pos[id(made[-1])], lay.pos[id(s)]
        if any(start < p < at for p in lay.binds.get(var, ())):
            return False
        # (the names that may share var's array since, each a view of one that does: all dead
        # at s, none put into a container or given to a call writing into it)
        sharing = {var}
        stored = {id(st): set(names) for st, _, names in self.stores()}
        for st in lay.simple:
            if not start < lay.pos[id(st)] < at or not sharing & set(loads(st)):
                continue
            bound, mutated = target_of(st)
            if stored.get(id(st), set()) & sharing \
                    or (mutated is not None and mutated not in sharing
                        and not sharing & lay.views.get(mutated, set())):
                return False
            if bound and sharing & lay.views.get(bound, set()):
                if not self.dead_at(bound, s):
                    return False
                sharing.add(bound)
        return True

    def rebound_apart(self, var, base, s) -> bool:
        """Whether ``var``, bound to ``base``'s memory by some bindings (``H = H_arg`` of an
        inlined call), is bound again before ``s`` on every path, to a value not sharing it
        (``H = H.copy()``): it holds no array of ``base`` at ``s``."""
        lay = self.layout
        every = [st for st in lay.simple if target_of(st)[0] == var]
        bindings = [st for st in every if isinstance(st, gast.Assign) and base in loads(st.value)]
        # (bindings to a value apart from base's memory: t1 = H.copy(); H = t1)
        apart = [st for st in every if st is not s and st not in bindings
                 and isinstance(st, gast.Assign)
                 and isinstance(st.value, gast.Name) and st.value.id not in self.params
                 and len(lay.binds.get(st.value.id, ())) == 1
                 and not lay.views.get(st.value.id)]
        kept = [st for st in every if st not in apart]
        return bool(bindings) and all(self.rebound_between(var, st, s, aliasing=kept)
                                      for st in bindings)

    def stored_in_attribute(self, var, s) -> set:
        """For ``var`` read from an attribute (``t = a.vel``, as ``a.vel += v`` reads it): the
        names whose arrays were stored in that attribute before ``s`` (``a.vel = y``), and the
        names sharing their memory, that are read after ``s``: ``y`` holds the array the update
        changes. (An argument read no more sees the change as the plain call's caller does.)"""
        def read_from(n):  # (the names bound to obj.attr)
            return {target_of(r)[0] for r in self.layout.simple
                    if isinstance(getattr(r, "value", None), gast.Attribute)
                    and isinstance(r.value.value, gast.Name)
                    and (r.value.value.id, r.value.attr) == n}

        found = set()
        for read in self.layout.simple:
            value = getattr(read, "value", None)
            if target_of(read)[0] != var or not isinstance(value, gast.Attribute) \
                    or not isinstance(value.value, gast.Name):
                continue
            held = read_from((value.value.id, value.attr))
            for st in self.layout.simple:
                target = st.targets[0] if isinstance(st, gast.Assign) else None
                # (not a store of what the attribute held: obj.attr op= v's own store)
                if isinstance(target, gast.Attribute) and isinstance(target.value, gast.Name) \
                        and (target.value.id, target.attr) == (value.value.id, value.attr) \
                        and isinstance(st.value, gast.Name) and st.value.id not in held \
                        and self.runs_before(st, s):
                    found |= {n for n in self.sharing_memory(st.value.id)
                              if self.read_after(n, s) or self.in_closure(n)}
        return found - {var}


# functions making a new array of their own
_NEW_ARRAYS = (np.zeros, np.ones, np.empty, np.full, np.zeros_like, np.ones_like, np.empty_like,
               np.full_like, np.copy)


def _makes_a_new_array(value, resolver) -> bool:
    """Whether ``value`` (a binding's) makes a new array (``np.zeros(n)``, ``x.copy()``,
    arithmetic), never one another name holds."""
    if isinstance(value, (gast.BinOp, gast.UnaryOp)):
        return True
    if not isinstance(value, gast.Call):
        return False
    if isinstance(value.func, gast.Attribute) and value.func.attr == "copy" and not value.args:
        return True
    fn = resolver.resolve(value.func)
    return any(fn is f for f in _NEW_ARRAYS)
