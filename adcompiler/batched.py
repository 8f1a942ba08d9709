"""Pass 5 (forward, batched): forward mode over a batch of tangents at once, for
``jacobian(mode="forward")``. Every tangent carries a leading batch axis (one one-hot direction
per entry), so the columns of a Jacobian come from one run of the tangent code instead of one run
each.

Only statements whose tangent stays right with that extra axis are accepted, on values whose
ranks are known: elementwise rules (the tangent is lifted to the result's rank, so broadcasting
never mixes the batch axis with a data axis), sums and means over constant axes (shifted past the
batch axis), ``@``/``np.dot``/``np.matmul`` of vectors and matrices, indexing and copies. Any
other statement that carries a tangent raises ``Unbatchable`` and the caller runs one jvp per
column instead.
"""
from __future__ import annotations

import operator

import gast
import numpy as np

from . import rules
from .analysis import BOTTOM, FLOAT, SCALAR, rank, target_of
from .forward import ForwardMode, _sum
from .normalize import const, name


class Unbatchable(Exception):
    """This function's tangent code cannot run on a batch of tangents."""


_REDUCTIONS = {np.sum: "sum", np.mean: "mean"}
_PRODUCTS = (np.matmul, operator.matmul, np.dot)


class BatchedForwardMode(ForwardMode):
    """Tangent code in which every tangent has a leading batch axis."""

    def rank_of(self, node) -> int:
        if isinstance(node, gast.Constant):
            return 0
        kind = self.kind_of(node)
        r = 0 if kind in (FLOAT, SCALAR) else (None if kind == BOTTOM else rank(kind))
        if r is None:
            raise Unbatchable("the rank of %s is not known" % gast.unparse(node).strip())
        return r

    def transform_simple(self, s, out):
        plan = self.plans[id(s)]
        bound, mutated = target_of(s)
        target = bound or mutated
        if target is not None and target in self.active and (mutated or plan.kind not in ("copy", "rule", "index")):
            raise Unbatchable("a %s statement" % plan.kind)
        super().transform_simple(s, out)

    def operand(self, node):
        """The batched tangent of an operand (None when zero)."""
        t = self.tangent_of(node)
        if t is not None and node.id in self.maybe_zero:
            raise Unbatchable("a tangent that enters a loop as 0.0")
        return t

    def index_tangent(self, s):
        base, index = s.value.value, s.value.slice
        t = self.operand(base)
        if t is None:
            return None
        if self.rank_of(base) == 0:
            raise Unbatchable("indexing a value that is not an array")
        whole = gast.Slice(lower=None, upper=None, step=None)
        if isinstance(index, gast.Tuple):
            return gast.Subscript(value=t, slice=gast.Tuple(elts=[whole] + list(index.elts), ctx=gast.Load()),
                                  ctx=gast.Load())
        if isinstance(index, (gast.Slice, gast.Constant)):
            return gast.Subscript(value=t, slice=gast.Tuple(elts=[whole, index], ctx=gast.Load()), ctx=gast.Load())
        return gast.Call(func=name(self.helper("batch_index")), args=[t, index], keywords=[])

    def rule_tangent(self, s, plan):
        rule, bound = plan.rule, plan.bound
        target = target_of(s)[0]
        tangents = {p: self.operand(bound[p]) if isinstance(bound[p], gast.Name) else None for p in bound}
        if not any(tangents.get(p) is not None for p in rule.diff):
            return None
        if rule.elementwise:
            return self.elementwise(s, rule, bound, tangents, target)
        if rule.fn in _REDUCTIONS or rule.name in ("x.sum", "x.mean"):
            return self.reduction(rule, bound, tangents)
        if rule.fn in _PRODUCTS:
            return self.product(rule, bound, tangents)
        if rule.fn in (np.transpose, "T", "transpose"):
            return self.transpose(rule, bound, tangents)
        if rule.fn in (np.reshape, np.ravel, "reshape", "ravel", "flatten"):
            first = rule.signature.params[0]
            shape = bound.get("shape") if rule.fn in (np.reshape, "reshape") else const((-1,))
            if isinstance(shape, gast.Tuple) and rule.fn == "reshape":  # x.reshape(a, b)
                shape = gast.Tuple(elts=list(shape.elts), ctx=gast.Load()) if len(shape.elts) > 1 else shape.elts[0]
            if tangents.get(first) is None or shape is None or bound.get("order", const("C")).value != "C":
                raise Unbatchable("a reshape")
            return gast.Call(func=name(self.helper("batch_reshape")), args=[tangents[first], shape], keywords=[])
        raise Unbatchable("the tangent rule of %s" % plan.callee)

    def transpose(self, rule, bound, tangents):
        first = rule.signature.params[0]
        axes = bound.get("axes", const(None))
        if isinstance(axes, gast.Tuple) and not axes.elts:  # x.transpose()
            axes = const(None)
        if tangents.get(first) is None or not isinstance(axes, gast.Constant):
            raise Unbatchable("a transpose with computed axes")
        r = self.rank_of(bound[first])
        order = tuple(range(r, 0, -1)) if axes.value is None else tuple(a % r + 1 for a in axes.value)
        fn = gast.Attribute(value=name(self.helper("np")), attr="transpose", ctx=gast.Load())
        return gast.Call(func=fn, args=[tangents[first], const((0,) + order)], keywords=[])

    def elementwise(self, s, rule, bound, tangents, target):
        r_ans = self.rank_of(name(target))
        mapping = {q: bound[q] for q in bound}
        mapping["ans"] = name(target)
        terms = []
        for p, template in rule.vjps.items():
            t = tangents.get(p)
            if t is None:
                continue
            lift = r_ans - self.rank_of(bound[p])
            if lift < 0:
                raise Unbatchable("an operand of higher rank than the result")
            if lift:
                t = gast.Call(func=name(self.helper("lift")), args=[t, const(lift)], keywords=[])
            for h in rules.helpers_used(template):
                mapping.setdefault(h, name(self.helper(h)))
            terms.append(rules.instantiate(template, dict(mapping, g=t)))
        return gast.Call(func=name(self.helper("expand_batch")), args=[_sum(terms), name(target)], keywords=[])

    def reduction(self, rule, bound, tangents):
        first = rule.signature.params[0]
        t = tangents.get(first)
        axis, keepdims = bound.get("axis", const(None)), bound.get("keepdims", const(False))
        if t is None or not isinstance(axis, gast.Constant) or not isinstance(keepdims, gast.Constant) \
                or any(bound.get(q) is not None and not (isinstance(bound[q], gast.Constant) and bound[q].value is None)
                       for q in ("dtype", "out")):
            raise Unbatchable("a reduction over a computed axis")
        r = self.rank_of(bound[first])
        axes = axis.value
        if axes is None:
            shifted = tuple(range(1, r + 1))
        elif isinstance(axes, int):
            shifted = axes + 1 if axes >= 0 else axes
        else:
            shifted = tuple(a + 1 if a >= 0 else a for a in axes)
        fn = gast.Attribute(value=name(self.helper("np")), attr=_REDUCTIONS.get(rule.fn) or rule.name[2:],
                            ctx=gast.Load())
        return gast.Call(func=fn, args=[t], keywords=[gast.keyword(arg="axis", value=const(shifted)),
                                                      gast.keyword(arg="keepdims", value=keepdims)])

    def product(self, rule, bound, tangents):
        left, right = rule.signature.params[:2]
        a, b = bound[left], bound[right]
        ra, rb = self.rank_of(a), self.rank_of(b)
        if ra not in (1, 2) or rb not in (1, 2):
            raise Unbatchable("a product of arrays of rank other than 1 or 2")
        terms = []
        if tangents.get(left) is not None:   # (B, ..., k) @ b
            terms.append(gast.BinOp(left=tangents[left], op=gast.MatMult(), right=b))
        if tangents.get(right) is not None:
            t = tangents[right]
            if rb == 2:                      # a @ (B, k, m)
                terms.append(gast.BinOp(left=a, op=gast.MatMult(), right=t))
            else:                            # a @ v for each v: v @ a.T
                other = a if ra == 1 else gast.Attribute(value=a, attr="T", ctx=gast.Load())
                terms.append(gast.BinOp(left=t, op=gast.MatMult(), right=other))
        return _sum(terms)
