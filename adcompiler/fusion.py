"""Pass 3b: composites whose derivative is cheaper as a whole than as the chain of its parts.

The numerically stable log-softmax as people write it,

    m = np.max(a, axis=1, keepdims=True)
    e = np.exp(a - m)
    p = e / np.sum(e, axis=1, keepdims=True)
    q = np.log(p)

differentiates, statement by statement, into a dozen array operations, among them the max's
selection mask, whose contribution is zero: softmax does not change when a value constant along
its axis is subtracted. As a whole the adjoint of ``a`` is ``g - p * sum(g)``. The statement
``q = np.log(p)`` becomes ``q = log_softmax(p, a, axis=1)``: the same value (``np.log(p)``),
differentiated w.r.t. ``a`` by that rule and not through ``p``. Every other use of ``e``, ``p``,
``m`` keeps its own derivative, so nothing else changes.

Likewise the sigmoid ``s = 1 / (1 + np.exp(-z))`` becomes ``s = logistic(d, z)`` (``d`` the
denominator, the same value), differentiated w.r.t. ``z`` from its value, ``g * s * (1 - s)``.
"""
from __future__ import annotations

import gast
import numpy as np

from . import rules, runtime
from .ir import walk
from .resolve import MISSING

_EXP, _LOG = (np.exp,), (np.log,)
_SUMS = ("sum",)  # (reductions by their ndarray method: ``Rule.reduction``)
_SHIFTS = ("max", "min", "mean")  # constant along the axes they reduce


def fuse_composites(fdef: gast.FunctionDef, ctx) -> None:
    """Rewrite, in place, the composites of ``fdef``'s normal form (see the module docstring)."""
    stores: dict = {}
    for node in walk(fdef):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif (
            isinstance(node, gast.Subscript)
            and isinstance(node.ctx, gast.Store)
            and isinstance(node.value, gast.Name)
        ):
            # written in place: not a fixed value
            stores[node.value.id] = stores.get(node.value.id, 0) + 2
    _Fuser(ctx, stores).blocks(fdef.body)


class _Fuser:
    def __init__(self, ctx, stores):
        self.ctx = ctx
        self.stores = stores
        self.helpers: dict = {}  # runtime helper -> its name in generated code

    def blocks(self, body):
        for s in body:
            for field in ("body", "orelse"):
                inner = getattr(s, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                    self.blocks(inner)
        self.block(body)

    def block(self, body):
        defs = {}  # name bound once in the whole function -> its position in this block
        for i, s in enumerate(body):
            if (
                isinstance(s, gast.Assign)
                and len(s.targets) == 1
                and isinstance(s.targets[0], gast.Name)
                and self.stores.get(s.targets[0].id) == 1
            ):
                defs[s.targets[0].id] = i
                self.log_softmax(body, i, defs)
                self.logistic(body, i, defs)

    # -- matching ---------------------------------------------------------------------------------

    def defined(self, body, defs, var, before):
        """The value of ``var``'s only binding, when it is in this block before ``before``."""
        if not isinstance(var, gast.Name) or defs.get(var.id, before) >= before:
            return None, None
        at = defs[var.id]
        return body[at].value, at

    def is_call_to(self, value, fns):
        return (
            isinstance(value, gast.Call)
            and len(value.args) == 1
            and not value.keywords
            and isinstance(value.args[0], gast.Name)
            and any(self.ctx.resolver.resolve(value.func) is f for f in fns)
        )

    def reduction(self, value, names):
        """(operand, axis, keepdims) of a reduction whose ndarray method is one of ``names``:
        ``np.sum(x, axis, keepdims=...)`` or ``x.sum(...)`` for "sum"."""
        if not isinstance(value, gast.Call):
            return None
        func, args = value.func, list(value.args)
        obj = self.ctx.resolver.resolve(func)
        if obj is MISSING and isinstance(func, gast.Attribute) and func.attr in names \
                and isinstance(func.value, gast.Name):
            args = [func.value] + args  # the method form: the receiver is the operand
        elif obj is MISSING or getattr(rules.lookup(obj), "reduction", None) not in names:
            return None
        options = {"axis": gast.Constant(value=None, kind=None),
                   "keepdims": gast.Constant(value=False, kind=None)}
        if not args or len(args) > 2 or not isinstance(args[0], gast.Name):
            return None
        if len(args) == 2:
            options["axis"] = args[1]
        for k in value.keywords:
            if k.arg not in options:
                return None
            options[k.arg] = k.value
        axis, keepdims = (_constant(options[k]) for k in ("axis", "keepdims"))
        if axis is _UNKNOWN or keepdims not in (True, False):
            return None
        if axis is not None and not (isinstance(axis, int) or isinstance(axis, tuple) and all(
                isinstance(a, int) for a in axis)):
            return None
        return args[0].id, axis, keepdims

    def log_softmax(self, body, i, defs):
        s = body[i]
        if not self.is_call_to(s.value, _LOG):
            return
        p = s.value.args[0]
        quotient, at_p = self.defined(body, defs, p, i)
        if not (isinstance(quotient, gast.BinOp) and isinstance(quotient.op, gast.Div)):
            return
        e, total = quotient.left, quotient.right
        value, _ = self.defined(body, defs, total, at_p)
        summed = self.reduction(value, _SUMS)
        if summed is None or not isinstance(e, gast.Name) or summed[0] != e.id:
            return
        _, axis, keepdims = summed
        if axis is not None and not keepdims:
            return  # (p = e / sum(e, axis) broadcasts along another axis)
        exp, at_e = self.defined(body, defs, e, at_p)
        if not self.is_call_to(exp, _EXP):
            return
        z = exp.args[0].id
        wrt, first = self.unshifted(body, defs, z, axis, at_e)
        if any(isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store) and n.id == wrt
               for st in body[first:i] for n in walk(st)):
            return  # rebound in between: its adjoint at this point is another value's
        s.value = gast.Call(func=gast.Name(id=self.bound("log_softmax"), ctx=gast.Load(),
                                           annotation=None,
                                           type_comment=None),
                            args=[p,
                                  gast.Name(id=wrt, ctx=gast.Load(), annotation=None,
                                            type_comment=None)],
                            keywords=[gast.keyword(arg="axis",
                                                value=gast.Constant(value=axis, kind=None))])

    def logistic(self, body, i, defs):
        """``s = 1 / d`` with ``d = 1 + e``, ``e = np.exp(n)``, ``n = -z``: ``s = logistic(d, z)``
        (the same value; its derivative w.r.t. ``z`` from ``s``, three operations where the chain
        takes five and keeps ``e`` and ``d``)."""
        s = body[i]
        if not (isinstance(s.value, gast.BinOp) and isinstance(s.value.op, gast.Div)
                and _constant(s.value.left) == 1):
            return
        total, at_d = self.defined(body, defs, s.value.right, i)
        if not (isinstance(total, gast.BinOp) and isinstance(total.op, gast.Add)):
            return
        one, e = (total.left, total.right) if _constant(total.left) == 1 else \
            (total.right, total.left)
        exp, at_e = self.defined(body, defs, e, at_d)
        if _constant(one) != 1 or not self.is_call_to(exp, _EXP):
            return
        negated, first = self.defined(body, defs, exp.args[0], at_e)
        if not (isinstance(negated, gast.UnaryOp) and isinstance(negated.op, gast.USub)
                and isinstance(negated.operand, gast.Name)):
            return
        z = negated.operand.id
        if any(isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store) and n.id == z
               for st in body[first:i] for n in walk(st)):
            return  # (rebound in between)
        s.value = gast.Call(func=gast.Name(id=self.bound("logistic"), ctx=gast.Load(),
                                           annotation=None, type_comment=None),
                            args=[s.value.right, gast.Name(id=z, ctx=gast.Load(), annotation=None,
                                                           type_comment=None)], keywords=[])

    def unshifted(self, body, defs, z, axis, before):
        """``(a, position of m)`` when ``z = a - m`` with ``m`` a reduction of ``a`` constant along
        ``axis`` (the softmax of ``z`` is that of ``a``); else ``(z, before)``."""
        diff, at_z = self.defined(body, defs,
                                  gast.Name(id=z, ctx=gast.Load(), annotation=None,
                                            type_comment=None), before)
        if not (isinstance(diff, gast.BinOp) and isinstance(diff.op, gast.Sub)
                and isinstance(diff.left, gast.Name)):
            return z, before
        a = diff.left.id
        shift, at_m = self.defined(body, defs, diff.right, at_z)
        reduced = self.reduction(shift, _SHIFTS)
        if reduced is None or reduced[0] != a:
            return z, before
        _, m_axis, m_keepdims = reduced
        if not (m_axis is None and not m_keepdims or m_axis == axis and m_keepdims):
            return z, before  # not constant along the softmax's axis
        if self.stores.get(a, 0) > 1:
            return z, before
        return a, at_m

    def bound(self, helper):
        """The name generated code calls the runtime's ``helper`` by."""
        if helper not in self.helpers:
            self.helpers[helper] = self.ctx.bind(helper, getattr(runtime, helper))
            self.ctx.resolver.imported[self.helpers[helper]] = getattr(runtime, helper)
        return self.helpers[helper]


_UNKNOWN = object()


def _constant(node):
    if isinstance(node, gast.Constant):
        return node.value
    if (
        isinstance(node, gast.UnaryOp)
        and isinstance(node.op, gast.USub)
        and isinstance(node.operand, gast.Constant)
    ):
        return -node.operand.value
    if isinstance(node, gast.Tuple):
        parts = [_constant(e) for e in node.elts]
        return _UNKNOWN if _UNKNOWN in parts else tuple(parts)
    return _UNKNOWN
