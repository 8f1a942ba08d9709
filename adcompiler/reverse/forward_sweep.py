"""The forward sweep of reverse mode: the ``ForwardSweep`` mixin of ``ReverseMode`` emits the
primal statements with what the backward pass needs of them: records (see ``taping``), calls of
user functions as their forward halves (``f_forward``, returning the state ``f_backward`` reads),
the tests of branches and the bounds and trip counts of loops."""
from __future__ import annotations

import gast

from ..ir import (
    assign,
    const,
    if_,
    in_region_of,
    loads,
    located,
    name,
    not_,
    rebuilt,
    target_of,
    walk,
)
from ..naming import label_of


class ForwardSweep:
    """The forward pass (a mixin of ``ReverseMode``, whose state it reads: ``plans``, ``active``,
    ``layout``, ``ctx``, and ``records``, which it fills)."""

    def forward(self, stmts) -> list:
        out = []
        for s in stmts:
            start = len(out)
            self.forward_statement(s, out)
            in_region_of(out[start:], s)
        return out

    def forward_statement(self, s, out):
        """Append the forward pass of ``s`` to ``out``."""
        if isinstance(s, (gast.For, gast.While)) and not self.has_active(s):
            s.ad_inactive = True
            out.append(self.guarded(s))
        elif isinstance(s, gast.With):
            if not getattr(s, "ad_hook", False):  # a context manager: forward inside it
                out.append(located(gast.With(items=s.items, body=self.forward(s.body),
                                             type_comment=None), s))
            # (gradient hooks run in the backward pass only)
        elif isinstance(s, gast.If):
            self.forward_if(s, out)
        elif isinstance(s, gast.For):
            self.forward_for(s, out)
        elif isinstance(s, gast.While):
            self.forward_while(s, out)
        elif self.plan.plans[id(s)].kind in ("call", "dynamic") \
                and target_of(s)[0] in self.plan.active:
            if id(s) in self.plan.aliasing.array_guards:  # (check_entry_classes)
                out.extend(self.checks(s))
            self.forward_call(s, out)
        else:
            out.extend(self.checks(s))
            out.append(s)
            check = self.subscript_check(s)
            if check is not None:
                out.append(check)
            record = self.record_plan(s, self.reads_of(s))
            self.records[id(s)] = self.emit_records(s, record, out)

    def guarded(self, s):
        """``s``, a loop or an ``if`` with nothing to differentiate, as it runs, with the checks
        planning asked for before the statements inside it (an in-place update left to a check
        when it runs, ``hidden += 0.1`` of a ``hidden`` that may be an array another name holds;
        a call of the user's code given objects, ``plain_call_check``)."""
        guards = self.plan.aliasing.array_guards
        added = []

        def block(stmts):
            out = []
            for st in stmts:
                if isinstance(st, (gast.For, gast.While, gast.If)):
                    out.append(self.guarded(st))
                    added.append(out[-1] is not st)
                    continue
                # (a call of the user's code given objects: see plain_call_check)
                found = self.checks(st) if id(st) in guards else self.plain_call_check(st)
                added.extend(found)
                out.extend(found + [st])
            return out
        copy = located(type(s)(**{f: getattr(s, f) for f in s._fields}), s)
        copy.body, copy.orelse = block(s.body), block(s.orelse)
        if not any(added):
            return s
        copy.ad_inactive = True
        return copy

    def has_active(self, s) -> bool:
        """Does compound statement ``s`` contain a statement with an active target?"""
        for n in walk(s):
            if isinstance(n, (gast.Assign, gast.Expr)):  # (lst.append(v) and add_at(d, i, v) too)
                bound, mutated = target_of(n)
                if (bound or mutated) in self.plan.active or self.takes_attribute(n):
                    return True
        return False

    def takes_attribute(self, s) -> bool:
        """Whether ``s`` is a store ``obj.attr = v`` whose backward statement takes the adjoint of
        ``obj.attr`` from the table of attributes followed by identity (some active read reads
        an ``.attr``)."""
        return self.plan.read_attributes is not None and isinstance(s, gast.Assign) \
            and isinstance(s.targets[0], gast.Attribute) \
            and s.targets[0].attr in self.plan.read_attributes

    def call_site(self, s):
        """(forward name, backward name, active parameter positions) of a user-function call."""
        plan = self.plan.plans[id(s)]
        active = [i for i, p in enumerate(plan.positional) if p in plan.bound and any(
            n in self.plan.active for n in loads(plan.bound[p]))]
        if plan.kind == "dynamic":
            return self.helper("call_forward"), self.helper("call_backward"), active
        kinds = self.plan.callee_kinds(plan, self.ctx)
        fwd, bwd = self.callee_code(s, plan,
                                    lambda: self.ctx.subroutine(plan.fn, tuple(active), kinds))
        return fwd, bwd, active

    def forward_call(self, s, out):
        """``t = f(args)`` becomes ``t, f_saved = f_forward(args)``; the saved state is what
        ``f_backward`` needs."""
        fwd, _, active = self.call_site(s)
        plan = self.plan.plans[id(s)]
        label = label_of(plan.fn) if plan.fn is not None else "call"
        saved = self.ctx.namer.fresh(label + "_saved")
        self.ctx.resolver.locals.add(saved)
        call = s.value
        args = plan.call_args or call.args
        keywords = call.keywords
        if plan.kind == "dynamic":  # call_forward(active positions, f, *args)
            positions = gast.Tuple(elts=[const(i) for i in active], ctx=gast.Load())
            args = [positions, self.dynamic_callee(plan, call)] + list(args)
            keywords = []
        new = gast.Call(func=name(fwd), args=args, keywords=keywords)
        target = gast.Tuple(elts=[name(target_of(s)[0], True), name(saved, True)],
                            ctx=gast.Store())
        out.append(located(assign(target, new), s))
        # (f(u=base): base passed by keyword)
        passed = list(args) + [k.value for k in call.keywords]
        if any(self.plan.layout.written_after(n, s) for a in passed for n in loads(a)) or \
                self.plan.layout.written_after(target_of(s)[0], s):
            # the callee kept references to arrays this function writes into later (its arguments,
            # or its result): keep their values
            snapshot = gast.Call(func=name(self.helper("snapshot")), args=[name(saved)],
                                 keywords=[])
            out.append(located(assign(saved, snapshot), s))
        s.ad_saved = saved
        self.records[id(s)] = {}
        if self.plan.layout.in_loop(s):
            out.append(self.tape_push(name(saved), s))
            self.records[id(s)] = {saved: saved}

    def forward_if(self, s, out):
        if is_break(s) or not self.has_active(s):
            s.ad_inactive = True
            out.append(self.guarded(s))
            return
        test = s.test
        var = test.operand.id if isinstance(test, gast.UnaryOp) else \
            (test.id if isinstance(test, gast.Name) else None)
        fresh = bool(var) and self._bound_inside(var, s)
        if fresh:
            # The branch rebinds its own test: keep the decision in a fresh name (which the
            # layout does not know: recorded in a loop whatever the layout says).
            var = self.ctx.namer.fresh("cond")
            out.append(located(assign(var, test.operand if isinstance(test, gast.UnaryOp)
                                      else test), s))
            test = branch_test(var, test)
            self.ctx.resolver.locals.add(var)
        new = rebuilt(if_(test, self.forward(s.body), self.forward(s.orelse)), s)
        out.append(new)
        s.ad_test = test
        s.ad_test_var = self.control_record(s, var, out, always=fresh) if var else None

    def _bound_inside(self, var, s) -> bool:
        inner = {id(n) for n in walk(s)} - {id(s)}
        return any(isinstance(n, gast.Name) and n.id == var and isinstance(n.ctx, gast.Store)
                   for n in walk(s) if id(n) in inner)

    def forward_for(self, s, out):
        args = [a.id for a in s.iter.args if isinstance(a, gast.Name)]
        counter = None
        body = self.forward(s.body)
        if getattr(s, "ad_break_flag", None):
            counter = self.trip_counter(s, out)
            _count(counter, body, s)
        saved_args = {}
        for a in args:
            if self._bound_inside(a, s) and not self.plan.layout.in_loop(s):
                fresh = self.ctx.namer.fresh(a + "_")
                out.append(located(assign(fresh, name(a)), s))
                saved_args[a] = fresh
        loop = rebuilt(gast.For(target=s.target, iter=s.iter, body=body, orelse=[],
                                type_comment=None), s)
        out.append(loop)
        s.ad_range_args = [saved_args.get(a) or self.control_record(s, a, out) for a in args]
        s.ad_counter = self.control_record(s, counter, out, always=True) if counter else None

    def forward_while(self, s, out):
        counter = self.trip_counter(s, out)
        body = self.forward(s.body)
        _count(counter, body, s)
        out.append(rebuilt(gast.While(test=s.test, body=body, orelse=[]), s))
        s.ad_counter = self.control_record(s, counter, out, always=True)

    def trip_counter(self, s, out) -> str:
        """A fresh counter of the iterations of loop ``s``, set to 0 before it."""
        counter = self.ctx.namer.fresh("n_iter")
        self.ctx.resolver.locals.add(counter)
        out.append(located(assign(counter, const(0)), s))
        return counter


def _count(counter, body, like):
    """``counter += 1`` (as ``counter = counter + 1``) first in the loop body ``body``."""
    step = gast.BinOp(left=name(counter), op=gast.Add(), right=const(1))
    body.insert(0, located(assign(counter, step), like))


def branch_test(var, test):
    """``var``, or ``not var`` when branch test ``test`` is a negation: the test ``test`` reads
    from ``var``, which holds the value it negates."""
    return not_(var) if isinstance(test, gast.UnaryOp) else name(var)


def is_break(s) -> bool:
    """An ``if test: break`` with no ``else``: the forward pass keeps it as it is, and the
    backward pass has nothing to reverse for it."""
    return isinstance(s, gast.If) and len(s.body) == 1 and isinstance(s.body[0], gast.Break) \
        and not s.orelse
