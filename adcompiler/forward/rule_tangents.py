"""Tangents of derivative rules: the ``RuleTangents`` mixin of ``ForwardMode`` instantiates a
rule's tangent (``rule_tangent``: from its vjp templates for elementwise entries, its ``jvp``
template, or the function itself applied to the tangent for linear entries, zero terms dropped)
and calls the user's forward rules (``user_tangent``, registered with ``ad.defjvp``)."""
from __future__ import annotations

import gast

from .. import custom, rules
from ..ir import const, instantiate, name, target_of, walk
from ..naming import label_of


class RuleTangents:
    """Rule and user-rule tangents (a mixin of ``ForwardMode``, whose ``loc``, ``ctx`` and tangent
    state it reads)."""

    def rule_tangent(self, s, plan):
        """The tangent of ``s``, a call of a function with a derivative rule (``plan``): None when
        no differentiable operand has a tangent; else from the rule's vjp templates (elementwise
        entries), its ``jvp`` template, or the function applied to the tangent (linear
        entries)."""
        rule, bound = plan.rule, plan.bound
        target = target_of(s)[0]
        params = list(bound)
        tangents = {p: self.operand_tangent(bound[p]) for p in params}
        if not any(tangents[p] is not None for p in rule.diff):
            return None
        self.read_lists_as_arrays(s, plan, tangents)
        templates = [*rule.vjps.values(), *rule.scalar_vjps.values(), *rule.constant_vjps.values(),
                     rule.jvp]
        mapping = self.mapping_of(s, plan, templates)
        mapping["ans"] = target
        for template in templates:
            if template is not None:
                for h in rules.helpers_used(template):
                    mapping.setdefault(h, self.helper(h))
        if rule.elementwise and rule.jvp is None:  # (an entry for complex values has a jvp)
            return self.elementwise_tangent(plan, tangents, mapping, target)
        live = {n.id for t in tangents.values() if t is not None
                for n in walk(t) if isinstance(n, gast.Name)}
        # a tangent entering a loop as 0.0 stands for an array the rule may reshape
        for p in params:
            if tangents[p] is not None:
                tangents[p] = self.dense(tangents[p], bound[p])
        if rule.jvp is not None:
            for p in params:
                mapping["t_" + p] = tangents[p] if tangents[p] is not None else _ZERO
            return _without_zero_terms(instantiate(rule.jvp, mapping), live)
        linear = self.linear_tangent(s, plan, tangents) if rule.linear else None
        if linear is not None:
            return linear
        raise self.loc.error("there is no forward-mode rule for %s" % plan.callee, s,
                             hint="register one with ad.defjvp(fn, rule), or use reverse mode")

    def read_lists_as_arrays(self, s, plan, tangents):
        """Where the rule reads a list given for an array operand as ``np.asarray(list)`` (see
        ``mapping_of``), read the operand's tangent (in ``tangents``) so too, its entries' zeros
        spelled out."""
        mapping = self.mapping_of(s, plan, [])
        for p in plan.rule.diff:
            if tangents[p] is not None and mapping[p] is not plan.bound[p]:
                dense = gast.Call(func=name(self.helper("dense")),
                                  args=[tangents[p], plan.bound[p]], keywords=[])
                tangents[p] = gast.Call(func=gast.Attribute(value=name(self.helper("np")),
                                                            attr="asarray", ctx=gast.Load()),
                                        args=[dense], keywords=[])

    def elementwise_tangent(self, plan, tangents, mapping, target):
        """The tangent of an elementwise entry: the sum of its vjp templates, each applied to its
        operand's tangent as ``g``, expanded to the result's shape when an operand may be
        smaller than the broadcast result."""
        rule, bound = plan.rule, plan.bound
        terms = []
        for p in rule.vjps:
            if tangents[p] is None:
                continue
            mapping["g"] = tangents[p]
            floats = all(self.plan.kind_of(bound[q]) == "float" for q in rule.vjps)
            template = rule.vjp_template(p, bound, floats)
            terms.append(instantiate(template, mapping))
        expr = sum_terms(terms)
        operands = [bound[q] for q in rule.signature.params
                    if isinstance(bound.get(q), gast.Name)]
        if len({o.id for o in operands}) > 1 \
                and any(self.plan.kind_of(o) not in ("float", "scalar") for o in operands):
            # a term may have its operand's shape, smaller than the broadcast result
            expr = gast.Call(func=name(self.helper("expand_like")), args=[expr, name(target)],
                             keywords=[])
        return expr

    def linear_tangent(self, s, plan, tangents):
        """The tangent of a linear entry whose one operand with a tangent is a name: the function
        (or the method or attribute read) applied to that tangent; None for other calls."""
        diff = [p for p in plan.rule.diff if tangents[p] is not None]
        if len(diff) != 1 or not isinstance(plan.bound[diff[0]], gast.Name):
            return None
        operand, t = plan.bound[diff[0]], tangents[diff[0]]
        # (the method or attribute read: v.ravel(), v.T)
        func = s.value if isinstance(s.value, gast.Attribute) else getattr(s.value, "func", None)
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.value.id == operand.id \
                and self.plan.kind_of(operand) in ("float", "scalar"):
            # (of a NumPy scalar: its tangent may be a Python float, which has no such method or
            # attribute; dense makes it a NumPy scalar; seed 1220409)
            t = gast.Call(func=name(self.helper("dense")), args=[t, operand], keywords=[])
        return _substitute(s.value, operand.id, t)

    def user_tangent(self, s, plan):
        rule = custom.user_rules(plan.fn)[1]
        call = s.value
        tangents = [self.tangent_of(a) or const(0.0) for a in call.args]
        if rule is None:
            raise self.loc.error("%s has a reverse rule (defvjp) but no forward rule"
                                 % plan.callee, s, hint="register one with ad.defjvp(fn, rule)")
        fn = self.ctx.bind(label_of(plan.fn) + "_jvp", rule)
        args = [name(target_of(s)[0]), gast.Tuple(elts=list(call.args), ctx=gast.Load()),
                gast.Tuple(elts=tangents, ctx=gast.Load())]
        return gast.Call(func=name(fn), args=args, keywords=[])


def sum_terms(terms):
    """``t0 + t1 + ...``, the sum of a non-empty list of tangent expressions (also used by batched
    forward mode)."""
    expr = terms[0]
    for t in terms[1:]:
        expr = gast.BinOp(left=expr, op=gast.Add(), right=t)
    return expr


_ZERO = gast.Name(id="__zero_tangent__", ctx=gast.Load(), annotation=None, type_comment=None)


def _without_zero_terms(expr, live: set):
    """Drop the terms of sums (anywhere in a linear tangent rule) that hold a zero tangent and no
    live one; remaining zero tangents become 0.0. None if the whole expression is zero."""
    def names(node):
        return {n.id for n in walk(node) if isinstance(n, gast.Name)}

    def dead(node):
        found = names(node)
        return _ZERO.id in found and not found & live

    class Prune(gast.NodeTransformer):
        def visit_BinOp(self, node):
            displays = (gast.Tuple, gast.List)  # (a + of displays concatenates: not a sum)
            if isinstance(node.op, (gast.Add, gast.Sub)) \
                    and not isinstance(node.left, displays) \
                    and not isinstance(node.right, displays):  # decide on the terms as written
                if dead(node.right):
                    return self.visit(node.left)
                if dead(node.left):
                    right = self.visit(node.right)
                    if isinstance(node.op, gast.Add):
                        return right
                    return gast.UnaryOp(op=gast.USub(), operand=right)
            self.generic_visit(node)
            return node

        def visit_Name(self, node):
            return const(0.0) if node.id == _ZERO.id else node
    if dead(expr):
        return None
    return Prune().visit(expr)


def _substitute(expr, var: str, tangent):
    """``expr`` with the operand ``var`` replaced by its tangent (a linear function applied to
    it)."""
    return instantiate(expr, {var: tangent})
