"""The backward sweep of reverse mode: the ``BackwardSweep`` mixin of ``ReverseMode`` walks the
statements in reverse, emits the adjoint statements of each simple statement (its contributions,
or the backward statements of ``backward_calls`` and ``backward_stores``), and reverses branches
and loops with the adjoints' state made to agree where control flow merges (``loop_fixpoint``)."""
from __future__ import annotations

import gast

from .. import rules
from ..analysis import rank
from ..ir import assign, const, if_, instantiate, list_method, located, name, target_of
from .forward_sweep import branch_test, is_break


class BackwardSweep:
    """The backward pass (a mixin of ``ReverseMode``, whose state it reads and updates: the
    adjoints' state of ``adjoint_state``; and reads: ``plans``, ``active``, ``kinds``, ``records``,
    ``ctx``, ``loc``)."""

    def backward(self, stmts) -> list:
        out = []
        for s in reversed(stmts):
            if isinstance(s, (gast.If, gast.For, gast.While, gast.With)):
                self.materialize_uniform(self.uniform, out, s)  # keep branch and loop states simple
            if isinstance(s, gast.If):
                self.backward_if(s, out)
            elif isinstance(s, gast.For):
                self.backward_loop(s, out)
            elif isinstance(s, gast.While):
                self.backward_loop(s, out)
            elif isinstance(s, gast.With) and getattr(s, "ad_hook", False):
                self.backward_hook(s, out)
            elif isinstance(s, gast.With):
                out.extend(self.backward(s.body))
            else:
                self.backward_simple(s, out)
        return out

    def backward_block(self, stmts) -> list:
        """The backward pass of a branch or loop body, ending with no scalar stand-in for a
        uniform adjoint (the states of two branches, or of a loop's head and end, must agree)."""
        out = self.backward(stmts)
        self.materialize_uniform(self.uniform, out)
        return out

    def comment(self, s, out):
        line = getattr(s, "lineno", None)
        text = gast.unparse(s).strip().splitlines()[0].rstrip(":")
        if line is not None:
            text += "  (line %d)" % (line + self.loc.line_offset)
        out.append(self.ctx.comment(text))

    def backward_simple(self, s, out):
        bound, mutated = target_of(s)
        target = bound or mutated
        plan = self.plan.plans[id(s)]
        if plan.kind == "pop" and list_method(s)[0] in self.plan.active:
            target = list_method(s)[0]  # (a pop changes the list, whatever becomes of the value)
        if plan.kind in ("add_at", "take_adjoint") and mutated in self.plan.active:
            target = mutated  # (it changes the array it reads from, whatever becomes of the value)
        if plan.kind == "setattr" and self.plan.read_attributes is not None:
            if self.takes_attribute(s):  # (whatever reached the object: its table entry is taken)
                block = []
                names = self.records.get(id(s), {})
                self.emit_pops(s, names, block)
                self.backward_setattr_by_identity(s, {k: v for k, v in names.items() if k != v},
                                                  block)
                self.comment(s, out)
                out.extend(block)
            return
        if target is None or target not in self.plan.active:
            return
        names = self.records.get(id(s), {})
        if plan.kind in ("pop", "add_at", "take_adjoint"):
            self.backward_changing(s, plan, names, out)
            return
        if target not in self.live:
            self.emit_pops(s, names, out)  # keep the tape aligned even when no gradient flows
            if bound:
                self.kill(bound)
            return
        if plan.kind == "opaque":
            out.append(self.refusal(s, plan, "register a rule with ad.defvjp(fn, rule), or wrap "
                                             "the value in ad.stop_gradient(...) if no gradient "
                                             "should flow through it"))
            if bound:
                self.kill(bound)
            return
        block = []
        if bound in self.uniform and not self.keeps_uniform(s, plan):
            self.materialize_uniform([bound], block, s)
        self.emit_pops(s, names, block)
        self.masking = target in self.masked or (plan.kind == "rule" and plan.rule.selects)
        try:
            self.backward_kind(s, plan, {k: v for k, v in names.items() if k != v}, block)
        finally:
            self.masking = False
        if bound:
            self.kill(bound)
        if block:
            self.comment(s, out)
            out.extend(block)

    def backward_changing(self, s, plan, names, out):
        """A statement that changes the list or array it reads (``v = lst.pop()``, ``add_at``,
        ``take_adjoint``): its backward statements run whether or not a gradient reached its
        target."""
        block = []
        self.emit_pops(s, names, block)
        recorded = len(block)
        getattr(self, "backward_" + plan.kind)(s, {k: v for k, v in names.items() if k != v}, block)
        if len(block) > recorded:
            self.comment(s, out)
        out.extend(block)
        self.kill(target_of(s)[0])

    def backward_kind(self, s, plan, rename, block):
        """The backward statements of simple statement ``s`` by the kind of its plan, reading the
        recorded values by their names in ``rename``."""
        if plan.kind == "append":
            self.backward_append(s, block)
        elif plan.kind in ("call", "dynamic"):
            self.backward_call(s, block)
        elif plan.kind == "attr" and self.plan.read_attributes is not None:
            self.backward_attr_by_identity(s, rename, block)
        elif plan.kind == "attr":
            self.backward_attr(s, block)
        elif plan.kind == "setattr":
            self.backward_setattr(s, block)
        elif plan.kind == "gradcall":
            self.backward_gradcall(s, rename, block)
        elif plan.kind == "checkpoint":
            self.backward_checkpoint(s, rename, block)
        elif plan.kind == "user":
            self.backward_user(s, rename, block)
        elif plan.kind == "index":
            self.backward_index(s, rename, block)
        elif plan.kind == "store":
            self.backward_store(s, rename, block)
        else:
            self.backward_contributions(s, plan, rename, block)

    def backward_contributions(self, s, plan, rename, block):
        """Add the statement's contributions (see ``contributions``) into the adjoints of its
        operands."""
        bound = target_of(s)[0]
        target_uniform = bound in self.uniform
        source_zero = bound in self.maybe_zero  # (0.0 for a number, or standing for a zero array)
        passed = bound in self.zero_passed \
            or not rank(self.plan.kinds.get(bound)) and bound not in self.never_zero
        entries = plan.kind == "display"  # (an entry of a container's adjoint may be 0.0)
        for c in self.contributions(s, plan):
            expr = c.expr
            uniform = None
            if c.uniform:
                shape = self.shape_source(c.var)
                uniform = rename.get(shape, shape)
            if target_uniform and not c.full:
                # the contribution is a scalar too: uniform over the operand if it has the
                # result's shape
                expr, uniform = c.raw if c.raw is not None else c.expr, self.uniform[bound]
            expr = instantiate(expr, rename) if rename else expr
            if source_zero and (c.needs_array or not _passes_zero(expr, self.adj(bound))):
                # a zero adjoint contributes nothing (every vjp is linear in it); 0.0 * y would
                # be a NumPy zero of y's shape, not the zero standing for the operand's adjoint,
                # and 0.0 * inf is NaN (sqrt at 0 on a path not taken)
                nonzero = gast.Call(func=name(self.helper("nonzero")),
                                    args=[name(self.adj(bound))], keywords=[])
                expr = gast.IfExp(test=nonzero, body=expr, orelse=const(0.0))
            # (the adjoint of a number may be the Python float 0.0 by cancellation, which the
            # helpers take for the zero of any structure: their results may then be 0.0 too,
            # not arrays, seed 509973)
            self.accumulate(c.var, expr, block, s, uniform=uniform, zero=source_zero or entries,
                            fresh=bool(rank(self.plan.kinds.get(bound))), passed=passed)

    def backward_if(self, s, out):
        if getattr(s, "ad_inactive", False):
            return
        test = s.ad_test
        var = s.ad_test_var
        block = []
        if is_break(s):
            return
        self.pop_control(s, block)
        if var is not None:
            test = branch_test(var, test)
        start_live, start_owned, start_zero = set(self.live), set(self.owned), set(self.maybe_zero)
        start_passed = set(self.zero_passed)
        hoisted = set()
        for _ in range(2):
            # An adjoint one branch updates in place is owned before the if (so a loop around
            # it can own it once), instead of being copied inside the branch.
            self.live, self.owned = set(start_live) | hoisted, set(start_owned) | hoisted
            self.maybe_zero, self.zero_passed = start_zero - hoisted, start_passed - hoisted
            body = self.backward_block(s.body)
            body_live, body_owned, body_zero = self.live, self.owned, self.maybe_zero
            body_passed = self.zero_passed
            self.live, self.owned = set(start_live) | hoisted, set(start_owned) | hoisted
            self.maybe_zero, self.zero_passed = start_zero - hoisted, start_passed - hoisted
            orelse = self.backward_block(s.orelse)
            else_live, else_owned = self.live, self.owned
            mixed = {v for v in ((body_owned | else_owned) - (body_owned & else_owned)) & start_live
                     if self.never_rebound(v)}  # (owned before the if: shaped like v's value
            # there, which the name holds in the backward pass only when nothing rebinds it)
            if not mixed - hoisted:
                break
            hoisted |= mixed
        self.live, self.owned = set(start_live), set(start_owned)
        for v in sorted(hoisted):
            self.ensure_owned(v, v, block, s)
        self.live = body_live | else_live
        self.owned = body_owned & else_owned
        self.maybe_zero = body_zero | self.maybe_zero  # (0.0 after the if when after either branch)
        self.zero_passed |= body_passed
        # (an adjoint a branch kills is 0.0 there)
        self.materialize_into(self.live - body_live, body, s)
        self.materialize_into(self.live - else_live, orelse, s)
        if not body and not orelse:
            out.extend(block)
            return
        if not body:
            test = gast.UnaryOp(op=gast.Not(), operand=test) \
                if not isinstance(test, gast.UnaryOp) else test.operand
            body, orelse = orelse, []
        block.append(located(if_(test, body, orelse), s))
        out.extend(block)

    def backward_loop(self, s, out):
        """Reverse a loop (``for i in reversed(range(...))``, or ``for _ in range(trip count)``
        for a while loop), with the adjoint state made consistent by ``loop_fixpoint``."""
        if getattr(s, "ad_inactive", False):
            return
        entry = set(self.live)
        entry_zero = set(self.maybe_zero)  # (0.0 on the first iteration, and if there is none)
        entry_passed = set(self.zero_passed)

        zero_at_head = set()  # adjoints the body kills: 0.0 when the next iteration starts

        def reversed_body():
            # (adjoints entering the loop as 0.0)
            self.maybe_zero |= (self.live - entry) | zero_at_head | entry_zero
            self.zero_passed |= entry_passed
            start = set(self.live)
            stmts = self.backward_block(s.body)
            zero_at_head.update(start - self.live)
            # an adjoint owned before the loop is shaped like its variable's value now: only
            # when that is the value the loop left (nothing rebinds it afterwards)
            self.wants_owned = {v for v in self.wants_owned if self.kept_after(v, s)}
            return stmts
        body, (head_live, head_owned), (end_live, end_owned), (entry_live, entry_owned) = \
            self.loop_fixpoint(reversed_body)
        block = []
        self.live, self.owned = set(entry_live), set(entry_owned)
        # An array adjoint the loop accumulates into starts as an owned zero array, so the body can
        # add in place (as hand-written code does) instead of allocating every iteration.
        arrays = {v for v in head_live - entry_live
                  if rank(self.plan.kinds.get(v)) and v in end_owned
                  and self.kept_after(v, s) and self.never_rebound(v)}
        if arrays - head_owned or zero_at_head - self.maybe_zero:
            head_owned = head_owned | arrays
            self.live, self.owned = set(head_live), set(head_owned)
            body = reversed_body()  # (the fixpoint's entry state again: seed 829142)
            end_live, end_owned = self.live, self.owned
            self.live, self.owned = set(entry_live), set(entry_owned)
        self.materialize(head_live - entry_live - head_owned, block, s)
        for v in sorted(head_owned - entry_owned):
            self.ensure_owned(v, v, block, s)
        self.materialize_into(head_live - end_live, body, s)
        self.live, self.owned = set(head_live), set(head_owned)
        self.maybe_zero |= entry_zero
        self.zero_passed |= entry_passed
        self.pop_control(s, block)
        if not body:
            out.extend(block)
            return
        block.append(located(self.reversed_loop(s, body), s))
        out.extend(block)

    def reversed_loop(self, s, body):
        """The loop running ``body`` once per iteration of loop ``s``, in reverse: ``for i in
        reversed(range(...))`` over the recorded bounds (up to the recorded trip count when ``s``
        breaks), ``for _ in range(trip count)`` for a while loop."""
        if isinstance(s, gast.For):
            recorded = iter(s.ad_range_args)
            args = [name(next(recorded)) if isinstance(a, gast.Name) else a for a in s.iter.args]
            rng = gast.Call(func=s.iter.func, args=args, keywords=[])
            if s.ad_counter:
                rng = gast.Subscript(value=rng, slice=gast.Slice(None, name(s.ad_counter), None),
                                     ctx=gast.Load())
            it = gast.Call(func=name(self.ctx.builtin("reversed")), args=[rng], keywords=[])
            return gast.For(target=s.target, iter=it, body=body, orelse=[], type_comment=None)
        it = gast.Call(func=name(self.ctx.builtin("range")), args=[name(s.ad_counter)],
                       keywords=[])
        return gast.For(target=name(self.ctx.throwaway(), True), iter=it, body=body, orelse=[],
                        type_comment=None)

    def backward_hook(self, s, out):
        """``with insert_grad_of(x) as g: body``: run body on the adjoint of ``x`` accumulated so
        far."""
        x = s.items[0].context_expr.args[0].id
        alias = s.items[0].optional_vars.id
        if x not in self.plan.active:
            return
        self.comment(s, out)
        d = self.adj(x)
        out.append(located(assign(alias, name(d) if x in self.live else const(0.0)), s))
        out.extend(s.body)
        out.append(located(assign(d, name(alias)), s))
        self.live.add(x)
        self.maybe_zero.add(x)
        self.owned.discard(x)


def _passes_zero(expr, g) -> bool:
    """Whether ``expr`` is ``g`` or ``-g`` (0.0 for a zero ``g``), or a helper call (helpers
    return 0.0 for it)."""
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        expr = expr.operand
    if isinstance(expr, gast.Name):
        return expr.id == g
    return isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) \
        and expr.func.id in rules.HELPER_NAMES and expr.func.id not in ("np", "math")
