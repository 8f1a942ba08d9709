"""Calls of functions that get tangent code of their own: the ``Calls`` mixin of ``ForwardMode``
turns ``t = f(args)`` into ``t, dt = f_jvp((da, db), args)`` (``transform_call``; a callee known
only at run time goes through ``call_jvp``) and builds the tangents of call operands
(``operand_tangent``, ``callee_tangent``: ``*args``, ``**kwargs`` and attributes included)."""
from __future__ import annotations

import gast

from ..ir import assign, const, located, name, target_of


class Calls:
    """Tangents through calls (a mixin of ``ForwardMode``, whose ``plans``, ``ctx`` and tangent
    state it reads)."""

    def transform_call(self, s, out):
        """``t = f(args)`` becomes ``t, dt = f_jvp((da, db), args)``."""
        plan = self.plan.plans[id(s)]
        if id(s) in self.plan.aliasing.array_guards:  # (check_entry_classes)
            out.extend(self.checks(s))
        active = [i for i, p in enumerate(plan.positional)
                  if p in plan.bound and self.operand_tangent(plan.bound[p])]
        bound = target_of(s)[0]
        if not active:
            out.append(s)
            self.set_tangent(bound, None, out, s)
            return
        tangents = gast.Tuple(elts=[self.callee_tangent(plan.bound[plan.positional[i]])
                                    for i in active], ctx=gast.Load())
        args = plan.call_args or list(s.value.args)
        keywords = s.value.keywords
        if plan.kind == "dynamic":  # call_jvp(tangents, active positions, f, *args)
            jvp_name = self.helper("call_jvp")
            args = [gast.Tuple(elts=[const(i) for i in active], ctx=gast.Load()),
                    self.dynamic_callee(plan, s.value)] + list(args)
            keywords = []
        else:
            jvp_name = self.callee_code(s, plan, lambda: self.ctx.subroutine_jvp(
                plan.fn, tuple(active), self.plan.callee_kinds(plan, self.ctx)))
        call = gast.Call(func=name(jvp_name), args=[tangents] + list(args), keywords=keywords)
        targets = gast.Tuple(elts=[name(bound, True), name(self.tan(bound), True)],
                             ctx=gast.Store())
        out.append(located(assign(targets, call), s))
        self.live.add(bound)
        self.owned.discard(bound)
        self.maybe_zero.add(bound)  # (the callee's tangent of a constant it returns is 0.0)

    def callee_tangent(self, node):
        """Tangent of an operand handed to a function's generated tangent code, which reads it
        with the operand's structure (``du[k]``): never the 0.0 standing for an array's zeros."""
        t = self.operand_tangent(node)
        if t is None or isinstance(node, (gast.Tuple, gast.Dict)):
            return t
        # (an attribute's tangent may be the 0.0 of its object's; an array's may be the 0.0 a
        # linear rule gave for a number's 0.0: unreduce(0.0, x))
        if isinstance(node, gast.Attribute) or (
                isinstance(node, gast.Name) and self.plan.kind_of(node) not in ("float", "scalar")):
            return gast.Call(func=name(self.helper("dense")), args=[t, node], keywords=[])
        return self.dense(t, node)

    def operand_tangent(self, node):
        """Tangent of a call operand; ``*args`` operands (a tuple) get a tuple of tangents, and an
        attribute (``self.inner``) the attribute of its object's tangent."""
        if isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name):
            t = self.tangent_of(node.value)
            return None if t is None else gast.Call(func=name(self.helper("attribute")),
                                                    args=[t, const(node.attr)], keywords=[])
        if isinstance(node, (gast.Tuple, gast.Dict)):  # (*args, **kwargs)
            elts = node.elts if isinstance(node, gast.Tuple) else node.values
            parts = [self.tangent_of(e) for e in elts]
            if all(p is None for p in parts):
                return None
            parts = [p if p is not None else
                     gast.Call(func=name(self.helper("zero_like")), args=[e], keywords=[])
                     for p, e in zip(parts, elts)]
            if isinstance(node, gast.Dict):
                return gast.Dict(keys=list(node.keys), values=parts)
            return gast.Tuple(elts=parts, ctx=gast.Load())
        return self.tangent_of(node)
