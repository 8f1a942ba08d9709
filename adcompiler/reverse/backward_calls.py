"""The backward statements of calls: the ``BackwardCalls`` mixin of ``ReverseMode`` calls the
backward half of a user function (``f_backward``, recomputing the forward half first for a
checkpointed call), a user's vjp rule, or a Hessian-vector product for a gradient function called
in the code, and adds what they return into the arguments' adjoints."""
from __future__ import annotations

import gast

from .. import custom, hooks
from ..ir import assign, const, instantiate, located, name, target_of
from ..naming import label_of


class BackwardCalls:
    """Backward statements of calls (a mixin of ``ReverseMode``, whose state it reads: ``plans``,
    ``active``, ``live``, ``ctx``; it accumulates through ``adjoint_state``)."""

    def backward_call(self, s, out):
        """``t = f(args)`` for a user function: ``f_backward(f_saved, dt)`` returns the adjoints
        of the active arguments, added to theirs (entry by entry for ``*args`` and ``**kwargs``,
        into the adjoint of its object for an attribute ``self.inner``)."""
        _, bwd, active = self.call_site(s)
        plan = self.plan.plans[id(s)]
        if not active:
            return
        call = gast.Call(func=name(bwd), args=[name(s.ad_saved), name(self.adj(target_of(s)[0]))],
                         keywords=[])
        variables, spread, attributes = [], [], []
        for i in active:
            node = plan.bound[plan.positional[i]]
            if isinstance(node, (gast.Tuple, gast.Dict)):  # *args, **kwargs: an adjoint to spread
                part = self.ctx.namer.fresh("d" + plan.positional[i] + "_")
                variables.append(part)
                spread.append((part, node))
            elif isinstance(node, gast.Attribute):  # self.inner(x): the adjoint of an attribute
                part = self.ctx.namer.fresh("d" + node.attr)
                variables.append(part)
                attributes.append((part, node))
            else:
                variables.append(node.id)
        self.unpack_adjoints(variables, call, out, s, fresh=[p for p, _ in spread + attributes])
        for part, node in attributes:
            obj = node.value.id
            add = gast.Call(func=name(self.helper("add_attribute")),
                            args=[name(self.adj(obj)) if obj in self.live else const(0.0),
                                  const(node.attr), name(part)], keywords=[])
            out.append(located(assign(self.adj(obj), add), s))
            self.live.add(obj)
            self.owned.discard(obj)
        for part, node in spread:
            entries = enumerate(node.elts) if isinstance(node, gast.Tuple) else \
                ((k.value, v) for k, v in zip(node.keys, node.values))
            for k, elt in entries:
                if isinstance(elt, gast.Name) and elt.id in self.plan.active:
                    expr = gast.Call(func=name(self.helper("element")),
                                     args=[name(part), const(k)], keywords=[])
                    self.accumulate(elt.id, expr, out, s)

    def backward_checkpoint(self, s, rename, out):
        """Recompute the checkpointed call from its recorded inputs, then run its backward."""
        fwd, _, active = self.call_site(s)
        if not active:
            return
        call = instantiate(s.value, rename)
        args = [instantiate(a, rename) for a in self.plan.plans[id(s)].call_args or s.value.args]
        s.ad_saved = self.ctx.namer.fresh(label_of(self.plan.plans[id(s)].fn) + "_saved")
        target = gast.Tuple(elts=[name(self.ctx.throwaway(), True), name(s.ad_saved, True)],
                            ctx=gast.Store())
        recompute = gast.Call(func=name(fwd), args=args, keywords=call.keywords)
        out.append(located(assign(target, recompute), s))
        self.backward_call(s, out)

    def backward_user(self, s, rename, out):
        """Call the user's vjp rule: ``rule(g, ans, *args, **kwargs)``."""
        plan = self.plan.plans[id(s)]
        if custom.USER_VJPS.get(plan.fn) is None:
            raise self.loc.error("%s has a forward rule (defjvp) but no reverse rule"
                                 % plan.callee, s,
                                 hint="register one with ad.defvjp(fn, rule), or use forward "
                                      "mode (ad.jvp, ad.hessian's default)")
        call = instantiate(s.value, rename)
        target = target_of(s)[0]
        # the user's rule itself, by name (forward mode can differentiate it again: hessians)
        rule = self.ctx.bind(label_of(plan.fn) + "_vjp", custom.USER_VJPS[plan.fn])
        args = [name(self.adj(target)), name(rename.get(target, target))] + list(call.args)
        parts = self.ctx.namer.fresh(label_of(plan.fn) + "_cotangents")
        cotangents = gast.Call(func=name(rule), args=args, keywords=call.keywords)
        out.append(located(assign(parts, cotangents), s))
        for i, a in enumerate(s.value.args):
            if isinstance(a, gast.Name) and a.id in self.plan.active:
                expr = gast.Call(func=name(self.helper("cotangent")), args=[name(parts), const(i)],
                                 keywords=[])
                self.accumulate(a.id, expr, out, s)

    def backward_gradcall(self, s, rename, out):
        """``t = df(x, y)`` for a gradient function ``df``: the adjoint of each argument is a
        Hessian-vector product, generated as forward mode over df's code."""
        call = instantiate(s.value, rename)
        helper = name(self.ctx.bind("gradient_vjp", hooks.gradient_vjp))
        args = gast.Tuple(elts=list(call.args), ctx=gast.Load())
        g = name(self.adj(target_of(s)[0]))
        for j, arg in enumerate(s.value.args):
            if isinstance(arg, gast.Name) and arg.id in self.plan.active:
                expr = gast.Call(func=helper, args=[call.func, const(j), args, g], keywords=[])
                self.accumulate(arg.id, expr, out, s)
