"""The tangent of each simple statement: the ``Statements`` mixin of ``ForwardMode`` keeps the
user's statement (with its runtime checks), then dispatches on the kind of its plan to the step
that adds its tangent (``transform_simple``): copies, rules, element reads, displays, stores,
attributes, list appends and pops, in-place updates, gradient calls, user rules, and the
refusal of opaque calls whose operands carry tangents."""
from __future__ import annotations

import gast

from .. import hooks
from ..ir import const, list_method, located, name, target_of

# the step giving the tangent of a statement of each plan kind whose target is active (others:
# ``no_tangent``)
_STEPS = {
    "copy": "copy_statement", "rule": "rule_statement", "index": "index_statement",
    "display": "display_statement", "store": "store_statement", "setattr": "setattr_statement",
    "append": "append_statement", "pop": "pop_statement", "add_at": "in_place_statement",
    "take_adjoint": "in_place_statement", "gradcall": "gradcall_statement",
    "attr": "attr_statement", "user": "user_statement", "opaque": "opaque_statement",
}


class Statements:
    """Simple statements (a mixin of ``ForwardMode``, whose ``plans``, ``active`` and tangent
    state it reads; the tangents of rules, elements and calls come from its other mixins)."""

    def transform_simple(self, s, out):
        bound, mutated = target_of(s)
        plan = self.plan.plans[id(s)]
        target = bound or mutated
        if plan.kind in ("add_at", "take_adjoint") and mutated in self.plan.active:
            target = mutated  # (it changes the array it reads from, whatever becomes of the value)
        if plan.kind in ("call", "dynamic", "checkpoint") and bound in self.plan.active:
            self.transform_call(s, out)
            return
        self.emit_primal(s, plan, out)
        if self.plan.read_attributes is not None and plan.kind in ("attr", "setattr"):
            self.attribute_by_identity(s, plan, out)
            return
        if target is None or target not in self.plan.active:
            self.inactive_statement(s, plan, out)
            return
        getattr(self, _STEPS.get(plan.kind, "no_tangent"))(s, plan, out)

    def attribute_by_identity(self, s, plan, out):
        """``t = obj.attr`` and ``obj.attr = v`` when attributes are followed by identity: the
        tangent is in the table's entry of the object, whatever name reached it."""
        table = name(self.ctx.attribute_table)
        if plan.kind == "attr":
            bound = target_of(s)[0]
            expr = None
            if bound in self.plan.active:
                expr = gast.Call(func=name(self.helper("attribute_tangent")),
                                 args=[table, s.value.value, const(s.value.attr)], keywords=[])
            self.set_tangent(bound, expr, out, s)
            if expr is not None and self.plan.kinds.get(bound) not in ("float", "scalar"):
                self.maybe_zero.add(bound)  # (an attribute without a tangent: 0.0 for an array)
        elif s.targets[0].attr in self.plan.read_attributes:
            t = self.tangent_of(s.value) or const(0.0)
            call = gast.Call(func=name(self.helper("set_attribute_tangent")),
                             args=[table, s.targets[0].value, const(s.targets[0].attr), t],
                             keywords=[])
            out.append(located(gast.Expr(value=call), s))

    def emit_primal(self, s, plan, out):
        """The user's statement, with the checks before and after it (and, before a list with no
        tangent yet gets an entry with one, zeros for the entries it has so far)."""
        mutated = target_of(s)[1]
        s.ad_primal = True  # the user's statement keeps its exact semantics (x * 1.0 stays a copy)
        out.extend(self.checks(s))
        if plan.kind == "append" and mutated not in self.live and mutated in self.plan.active \
                and self.tangent_of(s.value.args[0]) is not None:
            # a list with no tangent yet (an argument): zeros for the entries it has so far
            zeros = gast.Call(func=name(self.helper("zero_like")), args=[name(mutated)],
                              keywords=[])
            self.set_tangent(mutated, zeros, out, s, owned=True)
        elif plan.kind == "append" and mutated in self.live and mutated in self.maybe_zero:
            # (a tangent that may be the 0.0 standing for the list's zeros: entering a loop)
            dense = gast.Call(func=name(self.helper("dense")),
                              args=[name(self.tan(mutated)), name(mutated)], keywords=[])
            self.set_tangent(mutated, dense, out, s, owned=True)
        out.append(s)
        check = self.subscript_check(s)
        if check is not None:
            out.append(check)

    def inactive_statement(self, s, plan, out):
        """A statement whose target carries no tangent: the target's tangent is zero."""
        bound = target_of(s)[0]
        if bound:
            self.set_tangent(bound, None, out, s)
        if plan.kind == "pop" and list_method(s)[0] in self.live:
            # an inactive value off a list whose tangents are kept (a tape): pop its tangent too,
            # or the next pop would get this one
            lst, _, call = list_method(s)
            out.append(located(gast.Expr(value=self.pop_tangent(lst, call)), s))

    def no_tangent(self, s, plan, out):
        self.set_tangent(target_of(s)[0], None, out, s)

    def copy_statement(self, s, plan, out):
        self.set_tangent(target_of(s)[0], self.tangent_of(s.value), out, s)

    def rule_statement(self, s, plan, out):
        tangent = self.rule_tangent(s, plan)
        if tangent is not None:
            tangent = self.gated(s, plan, tangent)
        self.set_tangent(target_of(s)[0], tangent, out, s)

    def index_statement(self, s, plan, out):
        bound = target_of(s)[0]
        self.set_tangent(bound, self.index_tangent(s), out, s)
        base_kind = self.plan.kind_of(s.value.value)
        if bound in self.live and self.plan.kinds.get(bound) not in ("float", "scalar") and not (
                isinstance(base_kind, tuple) and base_kind[0] == "array"):
            # (an entry of a list's or dict's tangent may be the 0.0 of an array)
            self.maybe_zero.add(bound)

    def display_statement(self, s, plan, out):
        self.set_tangent(target_of(s)[0], self.display_tangent(s.value), out, s)

    def store_statement(self, s, plan, out):
        self.transform_store(s, out)

    def in_place_statement(self, s, plan, out):
        self.transform_in_place(s, plan.kind, out)

    def setattr_statement(self, s, plan, out):
        mutated = target_of(s)[1]
        t = self.tangent_of(s.value)
        if t is not None or mutated in self.live:
            base = name(self.tan(mutated)) if mutated in self.live else const(0.0)
            expr = gast.Call(func=name(self.helper("with_attribute")),
                             args=[base, const(s.targets[0].attr), t or const(0.0)], keywords=[])
            self.set_tangent(mutated, expr, out, s)

    def append_statement(self, s, plan, out):
        lst = target_of(s)[1]
        if lst in self.live:
            t = self.tangent_of(s.value.args[0]) or const(0.0)
            append = gast.Attribute(value=name(self.tan(lst)), attr="append", ctx=gast.Load())
            call = gast.Call(func=append, args=[t], keywords=[])
            out.append(located(gast.Expr(value=call), s))

    def pop_statement(self, s, plan, out):
        bound = target_of(s)[0]
        lst, _, call = list_method(s)
        expr = None
        if lst in self.live:
            expr = self.pop_tangent(lst, call)
        if bound is None:  # (lst.pop(), its value discarded)
            if expr is not None:
                out.append(located(gast.Expr(value=expr), s))
        else:
            self.set_tangent(bound, expr, out, s)
            if expr is not None:
                # (a tangent kept on a list may be the 0.0 standing for zeros)
                self.maybe_zero.add(bound)

    def pop_tangent(self, lst, call):
        """``dlst.pop(...)``, through ``popped`` when the tangent may be the 0.0 standing for a
        list of zeros (seed 1098539)."""
        if lst in self.maybe_zero:
            return gast.Call(func=name(self.helper("popped")),
                             args=[name(self.tan(lst))] + list(call.args), keywords=[])
        pop = gast.Attribute(value=name(self.tan(lst)), attr="pop", ctx=gast.Load())
        return gast.Call(func=pop, args=list(call.args), keywords=[])

    def gradcall_statement(self, s, plan, out):
        bound = target_of(s)[0]
        tangents = [self.tangent_of(a)
                    or gast.Call(func=name(self.helper("zero_like")), args=[a], keywords=[])
                    for a in s.value.args]
        if all(self.tangent_of(a) is None for a in s.value.args):
            self.set_tangent(bound, None, out, s)
        else:
            helper = name(self.ctx.bind("gradient_jvp", hooks.gradient_jvp))
            args = [s.value.func, gast.Tuple(elts=list(s.value.args), ctx=gast.Load()),
                    gast.Tuple(elts=tangents, ctx=gast.Load())]
            expr = gast.Call(func=helper, args=args, keywords=[])
            self.set_tangent(bound, expr, out, s)

    def attr_statement(self, s, plan, out):
        t = self.tangent_of(s.value.value)
        expr = None if t is None else gast.Call(func=name(self.helper("attribute")),
                                                args=[t, const(s.value.attr)], keywords=[])
        bound = target_of(s)[0]
        self.set_tangent(bound, expr, out, s)
        if expr is not None and self.plan.kinds.get(bound) not in ("float", "scalar"):
            self.maybe_zero.add(bound)  # (an attribute without a tangent: 0.0 for an array)

    def user_statement(self, s, plan, out):
        self.set_tangent(target_of(s)[0], self.user_tangent(s, plan), out, s)

    def opaque_statement(self, s, plan, out):
        # (a value given to it depends on wrt, or a value that does is stored into what it made
        # and read from it after: the derivative would be lost, as in reverse mode)
        if any(n in self.live for n in plan.diff_reads) or target_of(s)[0] in self.plan.active:
            out.append(self.refusal(s, plan, "register a rule with ad.defjvp(fn, rule), or wrap "
                                             "the value in ad.stop_gradient(...)"))
        self.set_tangent(target_of(s)[0], None, out, s)
