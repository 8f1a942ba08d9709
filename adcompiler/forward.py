"""Pass 5 (forward): forward mode. Each statement of the three-address form is followed by the
statement computing its tangent (``dx`` is the tangent of ``x``); control flow is kept as is, so
loops, branches, subroutines and subscript assignment work as in the primal.

A zero tangent is the scalar ``0.0`` and is never materialised unless control flow needs it.
Tangent rules come from the same tables as reverse mode: elementwise entries derive their
tangent from their vjp templates, linear entries apply the function to the tangent, others give
``jvp`` explicitly (``t_<arg>``: tangent of ``<arg>``).
"""
from __future__ import annotations

import gast

from . import custom, hooks, rules
from .analysis import FLOAT, SCALAR, is_container
from .ir import assign, const, if_, instantiate, list_method, located, name, target_of, walk
from .naming import label_of
from .planning import Planner


class ForwardMode(Planner):
    """Builds the statements of the forward-mode (tangent) function of one normalised function."""

    def __init__(self, fdef, wrt, arg_kinds, ctx):
        super().__init__(fdef, wrt, arg_kinds, ctx)
        self.tangents: dict[str, str] = {}
        self.live: set = set(self.wrt)
        self.owned: set = set()
        self.wants_owned: set = set()
        self.maybe_zero: set = set()   # tangents that may be the scalar 0.0 standing for an array
        # lists that get active values appended: they need a tangent list from the start
        self.grown = {m[0] for m in map(list_method, self.layout.simple) if m and m[1] == "append"} & self.active

    def tan(self, var: str) -> str:
        if var not in self.tangents:
            self.tangents[var] = self.ctx.namer.fresh("d" + var)
        return self.tangents[var]

    def helper(self, name_: str) -> str:
        return self.ctx.helper(name_)

    def tangent_of(self, node):
        """The tangent expression of an operand, or None when it is zero."""
        if isinstance(node, gast.Name) and node.id in self.live and node.id in self.active:
            return name(self.tan(node.id))
        return None

    # ------------------------------------------------------------------------------------------

    def transform(self, stmts) -> list:
        out = []
        for s in stmts:
            if isinstance(s, gast.If):
                self.transform_if(s, out)
            elif isinstance(s, (gast.For, gast.While)):
                self.transform_loop(s, out)
            elif isinstance(s, gast.With):
                if not getattr(s, "ad_hook", False):  # a context manager: tangents inside it too
                    out.append(located(gast.With(items=s.items, body=self.transform(s.body), type_comment=None), s))
                continue  # gradient hooks belong to the backward pass
            else:
                self.transform_simple(s, out)
        return out

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
            self.maybe_zero.add(var)  # (a copy or linear map of a tangent that may be 0.0 may be 0.0)
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

    def transform_simple(self, s, out):
        bound, mutated = target_of(s)
        plan = self.plans[id(s)]
        target = bound or mutated
        if plan.kind in ("add_at", "take_adjoint") and mutated in self.active:
            target = mutated  # (it changes the array it reads from, whatever becomes of the value)
        if plan.kind in ("call", "dynamic") and bound in self.active:
            self.transform_call(s, out)
            return
        if plan.kind == "checkpoint" and bound in self.active:
            self.transform_call(s, out)
            return
        s.ad_primal = True  # the user's statement keeps its exact semantics (x * 1.0 stays a copy)
        out.extend(self.checks(s))
        if plan.kind == "append" and mutated not in self.live and mutated in self.active \
                and self.tangent_of(s.value.args[0]) is not None:
            # a list with no tangent yet (an argument): zeros for the entries it has so far
            self.set_tangent(mutated, gast.Call(func=name(self.helper("zero_like")), args=[name(mutated)],
                                                keywords=[]), out, s, owned=True)
        out.append(s)
        check = self.subscript_check(s)
        if check is not None:
            out.append(check)
        if target is None or target not in self.active:
            if bound:
                self.set_tangent(bound, None, out, s)
            if plan.kind == "pop" and list_method(s)[0] in self.live:
                # an inactive value off a list whose tangents are kept (a tape): pop its tangent too,
                # or the next pop would get this one
                lst = list_method(s)[0]
                out.append(located(gast.Expr(value=gast.Call(func=gast.Attribute(
                    value=name(self.tan(lst)), attr="pop", ctx=gast.Load()), args=[], keywords=[])), s))
            return
        kind = plan.kind
        if kind == "copy":
            self.set_tangent(bound, self.tangent_of(s.value), out, s)
        elif kind == "rule":
            tangent = self.rule_tangent(s, plan)
            self.set_tangent(bound, None if tangent is None else self.gated(s, plan, tangent), out, s)
        elif kind == "index":
            self.set_tangent(bound, self.index_tangent(s), out, s)
            base_kind = self.kind_of(s.value.value)
            if bound in self.live and self.kind_of(name(bound)) not in ("float", "scalar") and not (
                    isinstance(base_kind, tuple) and base_kind[0] == "array"):
                self.maybe_zero.add(bound)  # (an entry of a list's or dict's tangent may be the 0.0 of an array)
        elif kind == "display":
            self.set_tangent(bound, self.display_tangent(s.value), out, s)
        elif kind == "store":
            self.transform_store(s, out)
        elif kind == "setattr":
            t = self.tangent_of(s.value)
            if t is not None or mutated in self.live:
                base = name(self.tan(mutated)) if mutated in self.live else const(0.0)
                expr = gast.Call(func=name(self.helper("with_attribute")),
                                 args=[base, const(s.targets[0].attr), t or const(0.0)], keywords=[])
                self.set_tangent(mutated, expr, out, s)
        elif kind == "append":
            lst = mutated
            if lst in self.live:
                t = self.tangent_of(s.value.args[0]) or const(0.0)
                call = gast.Call(func=gast.Attribute(value=name(self.tan(lst)), attr="append", ctx=gast.Load()),
                                 args=[t], keywords=[])
                out.append(located(gast.Expr(value=call), s))
        elif kind == "pop":
            lst = list_method(s)[0]
            expr = None
            if lst in self.live:
                expr = gast.Call(func=gast.Attribute(value=name(self.tan(lst)), attr="pop", ctx=gast.Load()),
                                 args=[], keywords=[])
            if bound is None:  # (lst.pop(), its value discarded)
                if expr is not None:
                    out.append(located(gast.Expr(value=expr), s))
            else:
                self.set_tangent(bound, expr, out, s)
                if expr is not None:
                    self.maybe_zero.add(bound)  # (a tangent kept on a list may be the 0.0 standing for zeros)
        elif kind in ("add_at", "take_adjoint"):
            self.transform_in_place(s, kind, out)
        elif kind == "gradcall":
            tangents = [self.tangent_of(a) or gast.Call(func=name(self.helper("zero_like")), args=[a], keywords=[])
                        for a in s.value.args]
            if all(self.tangent_of(a) is None for a in s.value.args):
                self.set_tangent(bound, None, out, s)
            else:
                helper = name(self.ctx.bind("gradient_jvp", hooks.gradient_jvp))
                expr = gast.Call(func=helper, args=[s.value.func, gast.Tuple(elts=list(s.value.args), ctx=gast.Load()),
                                                    gast.Tuple(elts=tangents, ctx=gast.Load())], keywords=[])
                self.set_tangent(bound, expr, out, s)
        elif kind == "attr":
            t = self.tangent_of(s.value.value)
            expr = None if t is None else gast.Call(func=name(self.helper("attribute")),
                                                    args=[t, const(s.value.attr)], keywords=[])
            self.set_tangent(bound, expr, out, s)
        elif kind == "user":
            self.set_tangent(bound, self.user_tangent(s, plan), out, s)
        elif kind == "opaque":
            if any(n in self.live for n in plan.diff_reads):
                raise self.loc.error("cannot differentiate %s: %s"
                                     % (plan.callee, plan.why), s,
                                     hint=plan.hint or "register a rule with ad.defjvp(fn, rule), or wrap the "
                                          "value in ad.stop_gradient(...)")
            self.set_tangent(bound, None, out, s)
        else:
            self.set_tangent(bound, None, out, s)

    def index_tangent(self, s):
        """Tangent of ``v = base[index]``."""
        base = s.value.value
        t = self.tangent_of(base)
        if t is None:
            return None
        if base.id in self.maybe_zero:
            index = self.index_value(s.value.slice)
            return gast.Call(func=name(self.helper("element")), args=[t, index], keywords=[])
        parts = s.value.slice.elts if isinstance(s.value.slice, gast.Tuple) else [s.value.slice]
        new_axis = any(isinstance(p, gast.Constant) and (p.value is None or p.value is Ellipsis) for p in parts)
        if self.kind_of(base) == SCALAR or (new_axis and self.kind_of(base) in (FLOAT, None)):
            # (a NumPy scalar's x[None]: its tangent may be a Python float)
            t = gast.Call(func=gast.Attribute(value=name(self.helper("np")), attr="asarray", ctx=gast.Load()),
                          args=[t], keywords=[])
        return gast.Subscript(value=t, slice=s.value.slice, ctx=gast.Load())

    def rule_tangent(self, s, plan):
        rule, bound = plan.rule, plan.bound
        target = target_of(s)[0]
        params = list(bound)
        tangents = {p: self.operand_tangent(bound[p]) for p in params}
        if not any(tangents[p] is not None for p in rule.diff):
            return None
        mapping = self.mapping_of(s, plan, [*rule.vjps.values(), *rule.scalar_vjps.values(),
                                            *rule.constant_vjps.values(), rule.jvp])
        mapping["ans"] = target
        for template in [*rule.vjps.values(), *rule.scalar_vjps.values(), *rule.constant_vjps.values(), rule.jvp]:
            if template is not None:
                for h in rules.helpers_used(template):
                    mapping.setdefault(h, self.helper(h))
        if rule.elementwise:
            terms = []
            for p in rule.vjps:
                if tangents[p] is None:
                    continue
                mapping["g"] = tangents[p]
                template = rule.vjp_template(p, bound, all(self.kind_of(bound[q]) == "float" for q in rule.vjps))
                terms.append(instantiate(template, mapping))
            expr = _sum(terms)
            operands = [bound[q] for q in rule.signature.params if isinstance(bound.get(q), gast.Name)]
            if len({o.id for o in operands}) > 1 and any(self.kind_of(o) not in ("float", "scalar") for o in operands):
                # a term may have its operand's shape, smaller than the broadcast result
                expr = gast.Call(func=name(self.helper("expand_like")), args=[expr, name(target)], keywords=[])
            return expr
        live = {n.id for t in tangents.values() if t is not None for n in walk(t) if isinstance(n, gast.Name)}
        for p in params:  # a tangent entering a loop as 0.0 stands for an array the rule may reshape
            if tangents[p] is not None:
                tangents[p] = self.dense(tangents[p], bound[p])
        if rule.jvp is not None:
            for p in params:
                mapping["t_" + p] = tangents[p] if tangents[p] is not None else _ZERO
            return _without_zero_terms(instantiate(rule.jvp, mapping), live)
        if rule.linear:
            diff = [p for p in rule.diff if tangents[p] is not None]
            if len(diff) == 1 and isinstance(bound[diff[0]], gast.Name):
                return _substitute(s.value, bound[diff[0]].id, tangents[diff[0]])
        raise self.loc.error("there is no forward-mode rule for %s" % plan.callee, s,
                             hint="register one with ad.defjvp(fn, rule), or use reverse mode")

    def dense(self, tangent, operand):
        """``tangent`` of ``operand``, made an array if it may be the 0.0 standing for one (entry
        by entry for a list or tuple, whose entries' tangents may be 0.0)."""
        kind = self.kind_of(operand)
        if isinstance(operand, gast.Name) and kind not in ("float", "scalar") and (
                operand.id in self.maybe_zero or kind is None or is_container(kind)):  # (None: it may be a list)
            return gast.Call(func=name(self.helper("dense")), args=[tangent, operand], keywords=[])
        return tangent

    def display_tangent(self, value):
        items = value.values if isinstance(value, gast.Dict) else value.elts
        tangents = [self.tangent_of(e) for e in items]
        if items and all(t is None for t in tangents):
            return None
        parts = [gast.Call(func=name(self.helper("zero_like")), args=[e], keywords=[]) if t is None else
                 self.dense(t, e) for t, e in zip(tangents, items)]
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
            out.append(located(gast.Expr(value=gast.Call(func=self.in_place_helper(kind, call), args=args,
                                                         keywords=[])), s))
            return
        if base not in self.live:
            if bound:
                self.set_tangent(bound, None, out, s)
            return
        self.ensure_owned(base, out, s)
        take = gast.Call(func=self.in_place_helper(kind, call), args=[name(self.tan(base)), call.args[1]], keywords=[])
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
        store = gast.Subscript(value=name(self.tan(base)), slice=target.slice, ctx=gast.Store())
        out.append(located(assign(store, t if t is not None else const(0.0)), s))

    def ensure_owned(self, var, out, like):
        if var in self.owned:
            return
        self.wants_owned.add(var)
        src = name(self.tan(var)) if var in self.live else const(0.0)
        out.append(located(assign(self.tan(var), gast.Call(func=name(self.helper("own")), args=[src, name(var)],
                                                           keywords=[])), like))
        self.live.add(var)
        self.owned.add(var)
        self.maybe_zero.discard(var)

    def user_tangent(self, s, plan):
        rule = custom.user_rules(plan.fn)[1]
        call = s.value
        tangents = [self.tangent_of(a) or const(0.0) for a in call.args]
        if rule is None:
            raise self.loc.error("%s has a reverse rule (defvjp) but no forward rule" % plan.callee, s,
                                 hint="register one with ad.defjvp(fn, rule)")
        fn = self.ctx.bind(label_of(plan.fn) + "_jvp", rule)
        return gast.Call(func=name(fn), args=[name(target_of(s)[0]),
                                              gast.Tuple(elts=list(call.args), ctx=gast.Load()),
                                              gast.Tuple(elts=tangents, ctx=gast.Load())], keywords=[])

    def transform_call(self, s, out):
        """``t = f(args)`` becomes ``t, dt = f_jvp((da, db), args)``."""
        plan = self.plans[id(s)]
        active = [i for i, p in enumerate(plan.positional) if p in plan.bound and self.operand_tangent(plan.bound[p])]
        bound = target_of(s)[0]
        if not active:
            out.append(s)
            self.set_tangent(bound, None, out, s)
            return
        tangents = gast.Tuple(elts=[self.callee_tangent(plan.bound[plan.positional[i]]) for i in active],
                              ctx=gast.Load())
        args = plan.call_args or list(s.value.args)
        keywords = s.value.keywords
        if plan.kind == "dynamic":  # call_jvp(tangents, active positions, f, *args)
            jvp_name = self.helper("call_jvp")
            args = [gast.Tuple(elts=[const(i) for i in active], ctx=gast.Load()), self.dynamic_callee(plan, s.value)] \
                + list(args)
            keywords = []
        else:
            jvp_name = self.ctx.subroutine_jvp(plan.fn, tuple(active), self.callee_kinds(plan))
        call = gast.Call(func=name(jvp_name), args=[tangents] + list(args), keywords=keywords)
        targets = gast.Tuple(elts=[name(bound, True), name(self.tan(bound), True)], ctx=gast.Store())
        out.append(located(assign(targets, call), s))
        self.live.add(bound)
        self.owned.discard(bound)

    def callee_tangent(self, node):
        """Tangent of an operand handed to a function's generated tangent code, which reads it
        with the operand's structure (``du[k]``): never the 0.0 standing for an array's zeros."""
        t = self.operand_tangent(node)
        if t is None or isinstance(node, (gast.Tuple, gast.Dict)):
            return t
        if isinstance(node, gast.Attribute):  # (an attribute's tangent may be the 0.0 of its object's)
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
            parts = [p if p is not None else gast.Call(func=name(self.helper("zero_like")), args=[e], keywords=[])
                     for p, e in zip(parts, elts)]
            if isinstance(node, gast.Dict):
                return gast.Dict(keys=list(node.keys), values=parts)
            return gast.Tuple(elts=parts, ctx=gast.Load())
        return self.tangent_of(node)

    # ------------------------------------------------------------------------------------------

    def materialize(self, vars_, out, like):
        for v in sorted(vars_):
            out.append(located(assign(self.tan(v), const(0.0)), like))
        self.maybe_zero |= set(vars_)

    def index_value(self, index):
        if isinstance(index, gast.Slice):
            parts = [p if p is not None else const(None) for p in (index.lower, index.upper, index.step)]
            return gast.Call(func=name(self.ctx.builtin("slice")), args=parts, keywords=[])
        if isinstance(index, gast.Tuple):
            return gast.Tuple(elts=[self.index_value(e) for e in index.elts], ctx=gast.Load())
        return index

    def enter_branch(self, s):
        """Called before each branch of an ``if``, and each pass over a loop body, is transformed."""

    def transform_if(self, s, out):
        start_live, start_owned, start_zero = set(self.live), set(self.owned), set(self.maybe_zero)
        self.enter_branch(s)
        body = self.transform(s.body)
        body_live, body_owned, body_zero = self.live, self.owned, self.maybe_zero
        self.live, self.owned, self.maybe_zero = set(start_live), set(start_owned), set(start_zero)
        self.enter_branch(s)
        orelse = self.transform(s.orelse)
        else_live, else_owned = self.live, self.owned
        self.live = body_live | else_live
        self.owned = body_owned & else_owned
        self.maybe_zero = body_zero | self.maybe_zero  # (0.0 after the if when after either branch)
        self.materialize(self.live - body_live, body, s)
        self.materialize(self.live - else_live, orelse, s)
        out.append(located(if_(s.test, body, orelse), s))

    def transform_loop(self, s, out):
        """Tangents live at the end of the body are live (as 0.0) at its head; tangents the body
        updates in place are owned before the loop."""
        entry = set(self.live)

        def generate():
            # tangents that enter the loop as the scalar 0.0 must be indexed through element()
            self.maybe_zero |= self.live - entry
            self.enter_branch(s)
            body = self.transform(s.body)
            # a tangent owned before the loop is shaped like its primal there: only for a primal
            # the loop does not rebind
            self.wants_owned = {v for v in self.wants_owned if not self.layout.bound_in(v, s)}
            return body
        body, (head_live, head_owned), (end_live, _), (entry_live, entry_owned) = self.loop_fixpoint(generate)
        self.live, self.owned = set(entry_live), set(entry_owned)
        self.materialize(head_live - entry_live - head_owned, out, s)
        for v in sorted(head_owned - entry_owned):
            self.ensure_owned(v, out, s)
        self.materialize(head_live - end_live, body, s)
        self.live, self.owned = set(head_live), set(head_owned)
        if isinstance(s, gast.For):
            loop = gast.For(target=s.target, iter=s.iter, body=body, orelse=[], type_comment=None)
        else:
            loop = gast.While(test=s.test, body=body, orelse=[])
        out.append(located(loop, s))


def _sum(terms):
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
            if isinstance(node.op, (gast.Add, gast.Sub)):  # decide on the terms as written
                if dead(node.right):
                    return self.visit(node.left)
                if dead(node.left):
                    right = self.visit(node.right)
                    return right if isinstance(node.op, gast.Add) else gast.UnaryOp(op=gast.USub(), operand=right)
            self.generic_visit(node)
            return node

        def visit_Name(self, node):
            return const(0.0) if node.id == _ZERO.id else node
    if dead(expr):
        return None
    return Prune().visit(expr)


def _substitute(expr, var: str, tangent):
    """``expr`` with the operand ``var`` replaced by its tangent (a linear function applied to it)."""
    return instantiate(expr, {var: tangent})
