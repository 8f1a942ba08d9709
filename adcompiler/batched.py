"""Pass 5 (forward, batched): forward mode over a batch of tangents at once. Every tangent
carries a leading batch axis (one one-hot direction per entry), so a Jacobian comes from one run
of tangent code instead of one run per column: ``jacobian(mode="forward")`` over the user's code,
``hessian`` over the generated gradient, and ``jacobian`` (reverse) over the generated backward
function, which is linear in its cotangent.

Only statements whose tangent stays right with that extra axis are accepted, on values whose
ranks are known (following definitions in program order): elementwise rules (the tangent is
lifted to the result's rank, so broadcasting never mixes the batch axis with a data axis), sums
and means over constant axes, vector/matrix products and their adjoints, indexing, stores,
reshapes, transposes and the runtime's adjoint helpers. Any other statement that carries a
tangent raises ``Unbatchable`` and the caller runs one jvp per column instead.
"""
from __future__ import annotations

import gast

from . import rules, runtime
from .analysis import BOTTOM, FLOAT, SCALAR, rank
from .forward import ForwardMode, sum_terms
from .ir import assign, const, instantiate, located, name, target_of, walk
from .planning.kinds import _index_kind


class Unbatchable(Exception):
    """This function's tangent code cannot run on a batch of tangents."""




class _Kinds(dict):
    """Kinds at one point: the reaching definitions' where known, else the name's overall kind."""

    def __init__(self, flow, overall):
        super().__init__()
        self.flow, self.overall = flow, overall

    def get(self, key, default=None):
        if key in self.flow:
            return self.flow[key]
        return self.overall.get(key, default)


class ProductBatching:
    """Batched tangents of products and of their adjoints, for vectors and matrices (a mixin of
    ``BatchedForwardMode``, whose ``rank_of`` and ``helper`` it uses)."""

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
        return sum_terms(terms)

    def matmul_adjoint(self, rule, bound, tangents):
        """Batched tangent of ``dmatmul_left/right(v, a, b)`` w.r.t. the adjoint ``v`` (the
        backward pass of a product run on a batch of cotangents) for vectors and matrices."""
        v, a, b = (bound[q] for q in rule.signature.params[:3])
        if any(tangents.get(q) is not None for q in rule.diff if q != rule.signature.params[0]):
            raise Unbatchable("a product adjoint with more than one tangent")
        t = tangents.get(rule.signature.params[0])
        if t is None:
            return None
        ra, rb = self.rank_of(a), self.rank_of(b)
        if ra not in (1, 2) or rb not in (1, 2):
            raise Unbatchable("a product of arrays of rank other than 1 or 2")

        def T(node):
            return gast.Attribute(value=node, attr="T", ctx=gast.Load())

        def matmul(x, y):
            return gast.BinOp(left=x, op=gast.MatMult(), right=y)

        def column(node):  # node[..., None]
            index = gast.Tuple(elts=[gast.Constant(value=Ellipsis, kind=None), const(None)],
                               ctx=gast.Load())
            return gast.Subscript(value=node, slice=index, ctx=gast.Load())
        lift1 = gast.Call(func=name(self.helper("lift")), args=[t, const(1)], keywords=[])
        if rule.batching == "matmul_left":       # the adjoint of a in a @ b
            if ra == 2:
                if rb == 2:
                    return matmul(t, T(b))
                return gast.BinOp(left=column(t), op=gast.Mult(), right=b)
            return gast.BinOp(left=lift1, op=gast.Mult(), right=b) if rb == 1 else matmul(t, T(b))
        if ra == 2:                              # the adjoint of b
            return matmul(T(a), t) if rb == 2 else matmul(t, a)
        if rb == 1:
            return gast.BinOp(left=lift1, op=gast.Mult(), right=a)
        return gast.BinOp(left=column(a), op=gast.Mult(), right=gast.Call(
            func=name(self.helper("lift")), args=[t, const(1)], keywords=[]))


class BatchedForwardMode(ProductBatching, ForwardMode):
    """Tangent code in which every tangent has a leading batch axis."""

    def __init__(self, *args):
        super().__init__(*args)
        self.flow_kinds: dict = {}  # kinds of the definitions reaching this point (program order)

    def current_kind(self, node):
        if isinstance(node, gast.Name) and node.id in self.flow_kinds:
            return self.flow_kinds[node.id]
        return self.plan.kind_of(node)

    def forget_bound_in(self, s):
        """Names a compound statement binds may hold any of their definitions after (and at the
        head of) it: back to their flow-insensitive kinds."""
        for n in walk(s):
            if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load):
                self.flow_kinds.pop(n.id, None)

    def enter_branch(self, s):
        self.forget_bound_in(s)  # a branch or a loop body starts from any definition before it

    def transform_if(self, s, out):
        super().transform_if(s, out)
        self.forget_bound_in(s)

    def transform_loop(self, s, out):
        super().transform_loop(s, out)
        self.forget_bound_in(s)

    def rank_of(self, node) -> int:
        if isinstance(node, gast.Constant):
            return 0
        kind = self.current_kind(node)
        r = 0 if kind in (FLOAT, SCALAR) else (None if kind == BOTTOM else rank(kind))
        if r is None:
            raise Unbatchable("the rank of %s is not known" % gast.unparse(node).strip())
        return r

    def transform_simple(self, s, out):
        plan = self.plan.plans[id(s)]
        bound, mutated = target_of(s)
        target = bound or mutated
        if target is not None and target in self.plan.active and plan.kind not in (
                "copy", "rule", "index", "display", "store", "add_at", "take_adjoint"):
            raise Unbatchable("a %s statement" % plan.kind)
        if bound is not None:  # the kind of this definition, from the kinds of its operands here
            # (a three-address statement never reads its own target)
            here = _Kinds(self.flow_kinds, self.plan.kinds)
            self.flow_kinds[bound] = self.plan.kind_of_value(s, here)
        super().transform_simple(s, out)

    def transform_store(self, s, out):
        """``base[index] = value``: the same store into every tangent of the batch (the tangent
        of ``base`` made a batch of its own first: a fresh array of shape (batch,) + base.shape)."""
        target = s.targets[0]
        base, index = target.value.id, target.slice
        t = self.tangent_of(s.value)
        if t is None and base not in self.live:
            return
        slot = _index_kind(self.current_kind(target.value), index, self.current_kind)
        if rank(slot) is None or slot == BOTTOM:
            raise Unbatchable("a store into a slot of unknown rank")
        self.ensure_owned(base, out, s)
        value = const(0.0)
        if t is not None:
            lift = rank(slot) - self.rank_of(s.value)
            if lift < 0:
                raise Unbatchable("a store of a value of higher rank than its slot")
            value = (
                gast.Call(func=name(self.helper("lift")), args=[t, const(lift)], keywords=[])
                if lift
                else t
            )
        whole = gast.Slice(lower=None, upper=None, step=None)
        parts = list(index.elts) if isinstance(index, gast.Tuple) else [index]
        if not all(isinstance(p, (gast.Slice, gast.Constant, gast.Name)) for p in parts):
            raise Unbatchable("a store with a computed index")
        store = gast.Subscript(value=name(self.tan(base)),
                               slice=gast.Tuple(elts=[whole] + parts, ctx=gast.Load()),
                               ctx=gast.Store())
        out.append(located(assign(store, value), s))

    def ensure_owned(self, var, out, like):
        """Make the tangent of ``var`` a fresh batch of shape (batch,) + var.shape this code may
        write into."""
        if var in self.owned:
            return
        source = self.tangent_of(name(var)) if var in self.live else None
        fresh = (gast.Call(func=name(self.helper("batch_cast")), args=[source, name(var)],
                           keywords=[])
                 if source is not None else
                 gast.Call(func=name(self.helper("batch_zeros")),
                           args=[name(self.batch_size()), name(var)],
                           keywords=[]))
        out.append(located(assign(self.tan(var), fresh), like))
        self.live.add(var)
        self.owned.add(var)

    def transform_in_place(self, s, kind, out):
        """``add_at(d, i, g)`` / ``v = take_adjoint(d, i)`` (gradient code): the same on every
        tangent of the batch."""
        if self.rank_of(s.value.args[0]) == 0:
            raise Unbatchable("an in-place update of a value that is not an array")
        super().transform_in_place(s, kind, out)

    def in_place_helper(self, kind, call):
        return name(self.helper("batch_" + kind))

    def batch_size(self) -> str:
        """The name holding the batch size (bound on entry, see compiler.build_jvp)."""
        return self.ctx.batch_size

    def tangent_of(self, node):
        """The batched tangent of an operand (None when zero)."""
        t = super().tangent_of(node)
        if t is not None and node.id in self.maybe_zero:
            raise Unbatchable("a tangent that enters a loop as 0.0")
        return t

    def index_tangent(self, s):
        base, index = s.value.value, s.value.slice
        t = self.tangent_of(base)
        if t is None:
            return None
        if self.rank_of(base) == 0:
            raise Unbatchable("indexing a value that is not an array")
        whole = gast.Slice(lower=None, upper=None, step=None)
        if isinstance(index, gast.Tuple):
            return gast.Subscript(value=t,
                                  slice=gast.Tuple(elts=[whole] + list(index.elts),
                                                   ctx=gast.Load()),
                                  ctx=gast.Load())
        if isinstance(index, (gast.Slice, gast.Constant)):
            return gast.Subscript(value=t, slice=gast.Tuple(elts=[whole, index], ctx=gast.Load()),
                                  ctx=gast.Load())
        return gast.Call(func=name(self.helper("batch_index")), args=[t, index], keywords=[])

    def rule_tangent(self, s, plan):
        rule, bound = plan.rule, plan.bound
        target = target_of(s)[0]
        tangents = {p: self.tangent_of(bound[p]) if isinstance(bound[p], gast.Name) else None
                    for p in bound}
        if any(not isinstance(bound[p], gast.Name)
               and any(isinstance(n, gast.Name) and self.tangent_of(n) is not None
                       for n in walk(bound[p]))
               for p in rule.diff if p in bound):
            raise Unbatchable("a tuple of operands with tangents (*args)")
        if not any(tangents.get(p) is not None for p in rule.diff):
            return None
        if rule.elementwise:
            return self.elementwise(s, rule, self.mapping_of(
                s, plan, [*rule.vjps.values(), *rule.constant_vjps.values()]), tangents, target)
        how = rule.batching  # (the rule entry says which of the cases below its tangent is)
        if how == "reduction":
            return self.reduction(rule, bound, tangents)
        if rule.product == "matmul":
            return self.product(rule, bound, tangents)
        if how in ("matmul_left", "matmul_right"):
            return self.matmul_adjoint(rule, bound, tangents)
        if how == "unchanged":  # the gradients returned together: their tangents as they are
            return tangents.get("grads")
        if how == "container_adjoint":
            x, index = bound["x"], bound["index"]
            if self.rank_of(x) == 0 or tangents.get("v") is None:
                raise Unbatchable("the adjoint of an element of a container")
            return gast.Call(func=name(self.helper("batch_container_adjoint")),
                             args=[x, index, tangents["v"]],
                             keywords=[])
        if how == "sum_product":
            terms = [gast.Call(func=name(self.helper("batch_sum_product")),
                               args=[tangents[p], bound[q]], keywords=[])
                     for p, q in (("a", "b"), ("b", "a")) if tangents.get(p) is not None]
            return sum_terms(terms)
        if how == "transpose":
            return self.transpose(rule, bound, tangents)
        if how == "reshape":
            first = rule.signature.params[0]
            shape = bound.get("shape") if "shape" in bound else const((-1,))  # (ravel, flatten)
            # x.reshape(a, b)
            if isinstance(shape, gast.Tuple) and rule.signature.varargs == "shape":
                shape = (
                    gast.Tuple(elts=list(shape.elts), ctx=gast.Load())
                    if len(shape.elts) > 1
                    else shape.elts[0]
                )
            order = bound.get("order", const("C"))
            if (
                tangents.get(first) is None
                or shape is None
                or not (isinstance(order, gast.Constant) and order.value == "C")
            ):
                raise Unbatchable("a reshape")
            return gast.Call(func=name(self.helper("batch_reshape")), args=[tangents[first], shape],
                             keywords=[])
        if how is not None:  # a runtime helper's counterpart for a batch (in batched Hessians)
            return self.runtime_helper(rule, bound, tangents)
        raise Unbatchable("the tangent rule of %s" % plan.callee)

    def transpose(self, rule, bound, tangents):
        first = rule.signature.params[0]
        axes = bound.get("axes", const(None))
        if isinstance(axes, gast.Tuple) and not axes.elts:  # x.transpose()
            axes = const(None)
        if tangents.get(first) is None or not isinstance(axes, gast.Constant):
            raise Unbatchable("a transpose with computed axes")
        r = self.rank_of(bound[first])
        order = (
            tuple(range(r, 0, -1)) if axes.value is None else tuple(a % r + 1 for a in axes.value)
        )
        fn = gast.Attribute(value=name(self.helper("np")), attr="transpose", ctx=gast.Load())
        return gast.Call(func=fn, args=[tangents[first], const((0,) + order)], keywords=[])

    def elementwise(self, s, rule, bound, tangents, target):
        """``bound``: the mapping of the templates' names (RuntimeChecks.mapping_of)."""
        if rule.jvp is not None:  # (an entry for complex values: its tangent is not its vjps')
            raise Unbatchable("a rule for complex values")
        r_ans = self.rank_of(name(target))
        mapping = dict(bound)
        mapping["ans"] = name(target)
        terms = []
        for p in rule.vjps:
            t = tangents.get(p)
            if t is None:
                continue
            # (x ** 2: the form for a constant exponent, whose conditions are on constants)
            template = rule.vjp_template(p, bound, False)
            lift = r_ans - self.rank_of(bound[p])
            if lift < 0:
                raise Unbatchable("an operand of higher rank than the result")
            if lift:
                t = gast.Call(func=name(self.helper("lift")), args=[t, const(lift)], keywords=[])
            for h in rules.helpers_used(template):
                mapping.setdefault(h, name(self.helper(h)))
            terms.append(instantiate(template, dict(mapping, g=t)))
        return gast.Call(func=name(self.helper("expand_batch")),
                         args=[sum_terms(terms), name(target)], keywords=[])

    def runtime_helper(self, rule, bound, tangents):
        """The batched tangent of a runtime helper linear in its first argument ``v``, with the
        exact rank ``1 + rank(result)`` (a lower-rank ``v`` is lifted first)."""
        params = rule.signature.params
        first, like = params[0], bound[params[1]]
        if any(tangents.get(q) is not None for q in rule.diff if q != first):
            raise Unbatchable("a runtime helper with more than one tangent")
        t = tangents.get(first)
        if t is None:
            return None
        r_v, r_x = self.rank_of(bound[first]), self.rank_of(like)
        if rule.fn is runtime.unbroadcast:
            if r_v < r_x:
                raise Unbatchable("unbroadcast of a lower-rank adjoint")
        elif rule.fn is runtime.unreduce:
            axis, keepdims = bound.get("axis", const(None)), bound.get("keepdims", const(False))
            if not isinstance(axis, gast.Constant) or not isinstance(keepdims, gast.Constant):
                raise Unbatchable("unreduce over a computed axis")
            removed = r_x if axis.value is None else (0 if keepdims.value else
                                                      len(axis.value)
                                                      if isinstance(axis.value, tuple) else 1)
            if r_v != r_x - removed:
                raise Unbatchable("unreduce of an adjoint of unexpected rank")
        else:  # expand_like, cast_like, own: the result has the second argument's shape
            if r_v > r_x:
                raise Unbatchable("a helper given an adjoint of higher rank")
            if r_v < r_x:
                t = gast.Call(func=name(self.helper("lift")), args=[t, const(r_x - r_v)],
                              keywords=[])
        args = [t] + [bound[q] for q in params[1:]]
        return gast.Call(func=name(self.helper(rule.batching)), args=args, keywords=[])

    def reduction(self, rule, bound, tangents):
        first = rule.signature.params[0]
        t = tangents.get(first)
        axis, keepdims = bound.get("axis", const(None)), bound.get("keepdims", const(False))
        if (
            t is None
            or not isinstance(axis, gast.Constant)
            or not isinstance(keepdims, gast.Constant)
            or any(
                bound.get(q) is not None
                and not (isinstance(bound[q], gast.Constant) and bound[q].value is None)
                for q in ("dtype", "out")
            )
        ):
            raise Unbatchable("a reduction over a computed axis")
        r = self.rank_of(bound[first])
        axes = axis.value
        if axes is None:
            shifted = tuple(range(1, r + 1))
        elif isinstance(axes, int):
            shifted = axes + 1 if axes >= 0 else axes
        else:
            shifted = tuple(a + 1 if a >= 0 else a for a in axes)
        fn = gast.Attribute(value=name(self.helper("np")), attr=rule.reduction,
                            ctx=gast.Load())
        return gast.Call(func=fn, args=[t],
                         keywords=[gast.keyword(arg="axis", value=const(shifted)),
                                   gast.keyword(arg="keepdims", value=keepdims)])
