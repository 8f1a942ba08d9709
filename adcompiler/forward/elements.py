"""Elements in forward mode: the ``Elements`` mixin of ``ForwardMode`` builds the tangents of
reads of an element (``index_tangent``) and of displays (``display_tangent``), and does to a
tangent what a store (``transform_store``) or an in-place update (``transform_in_place``:
``add_at``, ``take_adjoint``) does to its primal, on a tangent this code owns."""
from __future__ import annotations

import gast

from ..analysis import FLOAT, SCALAR
from ..ir import assign, const, located, name, target_of


class Elements:
    """Element reads and writes (a mixin of ``ForwardMode``, whose tangent state it reads and
    updates)."""

    def index_tangent(self, s):
        """Tangent of ``v = base[index]``."""
        base = s.value.value
        t = self.tangent_of(base)
        if t is None:
            return None
        base_kind = self.plan.kind_of(base)
        if base.id in self.maybe_zero or (self.ctx.generated and not (
                isinstance(base_kind, tuple) and base_kind[0] == "array")):
            # (in generated code a list's tangent may be a helper's 0.0 standing for zeros)
            index = self.index_value(s.value.slice)
            return gast.Call(func=name(self.helper("element")), args=[t, index], keywords=[])
        parts = s.value.slice.elts if isinstance(s.value.slice, gast.Tuple) else [s.value.slice]
        new_axis = any(isinstance(p, gast.Constant) and (p.value is None or p.value is Ellipsis)
                       for p in parts)
        base_kind = self.plan.kind_of(base)
        if base_kind == SCALAR or (new_axis and base_kind in (FLOAT, None)):
            # (a NumPy scalar's x[None]: its tangent may be a Python float)
            t = gast.Call(func=gast.Attribute(value=name(self.helper("np")), attr="asarray",
                                              ctx=gast.Load()), args=[t], keywords=[])
        return gast.Subscript(value=t, slice=s.value.slice, ctx=gast.Load())

    def index_value(self, index):
        if isinstance(index, gast.Slice):
            parts = [p if p is not None else const(None)
                     for p in (index.lower, index.upper, index.step)]
            return gast.Call(func=name(self.ctx.builtin("slice")), args=parts, keywords=[])
        if isinstance(index, gast.Tuple):
            return gast.Tuple(elts=[self.index_value(e) for e in index.elts], ctx=gast.Load())
        return index

    def display_tangent(self, value):
        items = value.values if isinstance(value, gast.Dict) else value.elts
        tangents = [self.tangent_of(e) for e in items]
        if items and all(t is None for t in tangents):
            return None
        parts = [gast.Call(func=name(self.helper("zero_like")), args=[e], keywords=[])
                 if t is None else self.dense(t, e) for t, e in zip(tangents, items)]
        if isinstance(value, gast.Dict):
            return gast.Dict(keys=value.keys, values=parts)
        return type(value)(elts=parts, ctx=gast.Load())

    def transform_in_place(self, s, kind, out):
        """``add_at(d, i, g)`` / ``v = take_adjoint(d, i)`` update ``d`` in place: do the same to
        its tangent."""
        call = s.value
        base = call.args[0].id
        bound = target_of(s)[0]
        if kind == "add_at":
            t = self.tangent_of(call.args[2])
            if t is None and base not in self.live:
                return
            self.ensure_owned(base, out, s)
            args = [name(self.tan(base)), call.args[1], t if t is not None else const(0.0)]
            update = gast.Call(func=self.in_place_helper(kind, call), args=args, keywords=[])
            out.append(located(gast.Expr(value=update), s))
            return
        if base not in self.live:
            if bound:
                self.set_tangent(bound, None, out, s)
            return
        self.ensure_owned(base, out, s)
        take = gast.Call(func=self.in_place_helper(kind, call),
                         args=[name(self.tan(base)), call.args[1]], keywords=[])
        if bound:
            self.set_tangent(bound, take, out, s)
        else:
            out.append(located(gast.Expr(value=take), s))

    def in_place_helper(self, kind, call):
        """The function doing ``add_at`` / ``take_adjoint`` on the tangent: the same one."""
        return call.func

    def transform_store(self, s, out):
        target = s.targets[0]
        base = target.value.id
        t = self.tangent_of(s.value)
        if t is None and base not in self.live:
            return
        self.ensure_owned(base, out, s)
        if t is not None:  # (an int array truncates what is stored: no derivative)
            t = gast.Call(func=name(self.helper("stored_derivative")), args=[t, name(base)],
                          keywords=[])
        store = gast.Subscript(value=name(self.tan(base)), slice=target.slice, ctx=gast.Store())
        out.append(located(assign(store, t if t is not None else const(0.0)), s))
