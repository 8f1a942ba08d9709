"""Which tangents are live (bound to a possibly non-zero value), owned (arrays this code may
update in place) or maybe zero (the scalar ``0.0`` standing for an array): the ``TangentState``
mixin of ``ForwardMode`` reads tangents (``tangent_of``, ``dense``), binds them
(``set_tangent``), makes them owned (``ensure_owned``) and materialises zeros
(``materialize``), keeping those sets up to date."""
from __future__ import annotations

import gast

from ..analysis import is_container
from ..ir import assign, const, located, name, walk


class TangentState:
    """Tangents and their state (a mixin of ``ForwardMode``, whose sets ``live``, ``owned``,
    ``wants_owned``, ``maybe_zero`` and ``grown`` it reads and updates)."""

    def tangent_of(self, node):
        """The tangent expression of an operand, or None when it is zero."""
        if isinstance(node, gast.Name) and node.id in self.live and node.id in self.plan.active:
            return name(self.tan(node.id))
        return None

    def set_tangent(self, var, expr, out, like, owned=False):
        if expr is None and var in self.grown:
            expr = gast.Call(func=name(self.helper("zero_like")), args=[name(var)], keywords=[])
        if expr is None:
            if var in self.live:
                self.live.discard(var)
                self.owned.discard(var)
            return
        out.append(located(assign(self.tan(var), expr), like))
        self.live.add(var)
        zeros = {self.tangents[v] for v in self.maybe_zero if v in self.tangents}
        if not owned and any(n.id in zeros for n in walk(expr) if isinstance(n, gast.Name)):
            # (a copy or linear map of a tangent that may be 0.0 may be 0.0)
            self.maybe_zero.add(var)
        else:
            self.maybe_zero.discard(var)
        if owned:
            self.owned.add(var)
        else:
            self.owned.discard(var)
            # (the expression may be one of the tangents it reads, unchanged: expand_like(dx, y) of
            # y = c + x; an in-place write into that tangent must then copy it first)
            read = {n.id for n in walk(expr) if isinstance(n, gast.Name)}
            self.owned -= {v for v in self.owned if self.tangents.get(v) in read}

    def dense(self, tangent, operand):
        """``tangent`` of ``operand``, made an array if it may be the 0.0 standing for one (entry
        by entry for a list or tuple, whose entries' tangents may be 0.0)."""
        kind = self.plan.kind_of(operand)
        # (a kind None: the operand may be a list)
        if isinstance(operand, gast.Name) and kind not in ("float", "scalar") and (
                operand.id in self.maybe_zero or kind is None or is_container(kind)):
            return gast.Call(func=name(self.helper("dense")), args=[tangent, operand], keywords=[])
        return tangent

    def ensure_owned(self, var, out, like):
        if var in self.owned:
            return
        self.wants_owned.add(var)
        src = name(self.tan(var)) if var in self.live else const(0.0)
        own = gast.Call(func=name(self.helper("own")), args=[src, name(var)], keywords=[])
        out.append(located(assign(self.tan(var), own), like))
        self.live.add(var)
        self.owned.add(var)
        self.maybe_zero.discard(var)

    def materialize(self, vars_, out, like):
        for v in sorted(vars_):
            out.append(located(assign(self.tan(v), const(0.0)), like))
        self.maybe_zero |= set(vars_)
