"""What the forward pass records for the backward pass: the ``Taping`` mixin of ``ReverseMode``
finds the values the backward pass of a statement reads (``reads_of``) that may change before it
runs (``record_plan``), and emits the code that keeps them (a fresh name outside loops, the tape
inside loops: ``emit_records``, ``control_record``) and that gets them back in the backward pass
(``emit_pops``, ``pop_control``)."""
from __future__ import annotations

import gast

from ..analysis import rank
from ..ir import assign, list_method, loads, located, name, target_of, walk


class Taping:
    """Records and tape pushes and pops (a mixin of ``ReverseMode``, whose state it reads:
    ``plans``, ``active``, ``kinds``, ``layout``, ``resized``, ``ctx``; and ``tape``, the tape's
    name, which it sets)."""

    def tape_name(self) -> str:
        """The tape's name, made on first use (generated code has a tape only when something is
        pushed on it)."""
        if self.tape is None:
            self.tape = self.ctx.namer.fresh("tape")
        return self.tape

    def tape_push(self, value, like):
        """``tape.append(value)``, a statement located at ``like``."""
        push = gast.Call(func=gast.Attribute(value=name(self.tape_name()), attr="append",
                                             ctx=gast.Load()), args=[value], keywords=[])
        return located(gast.Expr(value=push), like)

    def tape_pop(self):
        """``tape.pop()``."""
        return gast.Call(func=gast.Attribute(value=name(self.tape_name()), attr="pop",
                                             ctx=gast.Load()), args=[], keywords=[])

    def record_plan(self, s, reads: dict) -> dict:
        """{name: how} for every value the backward pass of ``s`` reads that may change before it
        runs; ``reads`` maps names to True (value read) or False (shape only)."""
        plan = {}
        for var, by_value in reads.items():
            if var is None or var not in self.ctx.resolver.locals:
                continue
            # the shape of a list is its length, which appends and pops change
            structure = by_value or (not rank(self.plan.kinds.get(var))
                                     and bool(self.resized & self.plan.layout.same_memory(var)))
            if self.plan.layout.changes_after(var, s, with_mutation=structure):
                # a copy when the array (or one it views, or the list) is written in place later
                plan[var] = structure and any(b in self.plan.layout.mutates
                                              for b in self.plan.layout.same_memory(var))
        return plan

    def emit_records(self, s, plan: dict, out: list) -> dict:
        """Forward-pass code recording the values in ``plan``; returns their backward names.
        Inside loops the values go on the tape, several at once as one tuple."""
        names = {}
        values = []
        for var, copy in plan.items():
            value = name(var)
            if copy:
                value = gast.Call(func=name(self.helper("copy")), args=[value], keywords=[])
            if self.plan.layout.in_loop(s):
                values.append(value)
                names[var] = var
            else:
                saved = self.ctx.namer.fresh(var + "_saved") if copy else \
                    self.ctx.namer.fresh(var + "_")
                out.append(located(assign(saved, value), s))
                names[var] = saved
        if values:
            item = values[0] if len(values) == 1 else gast.Tuple(elts=values, ctx=gast.Load())
            out.append(self.tape_push(item, s))
        return names

    def emit_pops(self, s, names: dict, out: list):
        if not self.plan.layout.in_loop(s) or not names:
            return
        pop = self.tape_pop()
        targets = [name(var, True) for var in names]
        target = targets[0] if len(targets) == 1 else gast.Tuple(elts=targets, ctx=gast.Store())
        out.append(located(assign(target, pop), s))

    def pop_control(self, s, out):
        """Pop the control values the forward pass pushed after compound statement ``s``."""
        for var in reversed(getattr(s, "ad_pushed", [])):
            out.append(located(assign(var, self.tape_pop()), s))

    def control_record(self, s, var, out, always=False):
        """Record control value ``var`` (a branch test, loop bound or trip count) read at ``s``;
        ``always`` for trip counters, which the layout does not know. Returns the name the
        backward pass reads it from (after popping it, inside loops)."""
        if var is None or var not in self.ctx.resolver.locals:
            return var
        if not always and not self.plan.layout.changes_after(var, s, with_mutation=False):
            return var
        if self.plan.layout.in_loop(s):
            out.append(self.tape_push(name(var), s))
            s.ad_pushed = getattr(s, "ad_pushed", []) + [var]
            return var
        if always:
            return var
        saved = self.ctx.namer.fresh(var + "_")
        out.append(located(assign(saved, name(var)), s))
        return saved

    def reads_of(self, s) -> dict:
        """Names the backward pass of simple statement ``s`` reads: {name: reads its value}."""
        bound, mutated = target_of(s)
        target = bound or mutated
        plan = self.plan.plans[id(s)]
        if self.plan.read_attributes is not None and plan.kind in ("attr", "setattr"):
            # (followed by identity: the object is the key of its table entry, what it holds
            # then is not read: kept as it is, never copied)
            stored = plan.kind == "setattr" and s.targets[0].attr in self.plan.read_attributes
            return {mutated if stored else s.value.value.id: False} \
                if stored or (plan.kind == "attr" and bound in self.plan.active) else {}
        if target not in self.plan.active:
            return {}
        reads = {}
        if plan.kind == "index":
            base = s.value.value.id
            if base in self.plan.active:
                reads[base] = False
                for n in loads(s.value.slice):
                    reads[n] = True
            return reads
        if plan.kind == "append":
            return {mutated: False}
        if plan.kind == "setattr":
            return {}
        if plan.kind == "pop":  # (and the index of lst.pop(i), where the adjoint goes back)
            return {list_method(s)[0]: False, **{n: True for n in loads(s.value)
                                                if n != list_method(s)[0]}}
        if plan.kind in ("add_at", "take_adjoint"):  # d[i] += v / v = d[i]: the index, and shapes
            args = s.value.args
            reads = {args[0].id: False}
            reads.update({a.id: False for a in args[2:] if isinstance(a, gast.Name)})
            reads.update({n: True for n in loads(args[1])})
            return reads
        if plan.kind == "gradcall":
            reads = {n: True for a in s.value.args for n in loads(a)}
            if isinstance(s.value.func, gast.Name) and s.value.func.id in self.ctx.resolver.locals:
                reads[s.value.func.id] = True
            return reads
        if plan.kind in ("user", "checkpoint"):
            reads = {n: True for n in loads(s.value) if not _is_func_part(n, s.value)}
            if plan.kind == "user":
                reads[target] = True
            return reads
        if plan.kind == "store":
            for n in loads(s.targets[0].slice):
                reads[n] = True
            reads[mutated] = False
            if isinstance(s.value, gast.Name) and s.value.id in self.plan.active:
                reads[s.value.id] = False
            return reads
        for c in self.contributions(s, plan):
            for n in sorted(c.shape_reads):
                reads.setdefault(n, False)
            for n in sorted(c.value_reads):
                reads[n] = True
        return dict(sorted(reads.items()))  # a deterministic tape order


def _is_func_part(var, call) -> bool:
    """Is ``var`` only the callee of ``call`` (``helper`` in ``helper(x)``)?"""
    func = call.func
    while isinstance(func, gast.Attribute):
        func = func.value
    return isinstance(func, gast.Name) and func.id == var and var not in {
        n.id for a in call.args for n in walk(a) if isinstance(n, gast.Name)}
