"""Pass 5: reverse mode. Turns the three-address form into a forward pass (the primal code plus
tape records) and a backward pass (adjoint statements in reverse order).

Invariants of the generated backward pass
- the adjoint of ``x`` is ``dx``; a zero adjoint is never materialised unless control flow needs
  it, and then as the scalar ``0.0``;
- a value the backward pass reads is read directly when it cannot have changed since the
  statement that used it ran; otherwise the forward pass records it, in a fresh name outside loops
  or on the tape (a list, ``tape.append`` / ``tape.pop``) inside loops;
- in-place updates (``add_at``, ``take_adjoint``) only touch adjoint arrays the code owns.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import gast

from . import custom, hooks, rules
from .analysis import FLOAT, SCALAR, is_container, rank
from .ir import (
    assign,
    const,
    if_,
    instantiate,
    list_method,
    loads,
    located,
    name,
    target_of,
    walk,
)
from .naming import label_of
from .planning import Plan, Planner
from .rules.helpers import TOPICS

# statements whose value may be a container when its kind is unknown (not arithmetic, not a rule)
_OPAQUE_RESULTS = ("call", "dynamic", "index", "attr", "user", "checkpoint", "copy", "pop", "opaque", "gradcall")
# the modules of the rules' helpers (not the runtime's): see refuse_traced_helpers
_TOPIC_MODULES = frozenset(m.__name__ for m in TOPICS)

@dataclass
class Contrib:
    """One adjoint contribution ``d<var> += expr`` of a statement."""

    var: str
    expr: object
    value_reads: set = field(default_factory=set)
    shape_reads: set = field(default_factory=set)
    uniform: bool = False   # expr is a scalar standing for a uniform array of var's shape
    raw: object = None      # expr before unbroadcast (for a uniform adjoint of the result)
    full: bool = True       # with a scalar adjoint of the result, expr still has the result's shape
    needs_array: bool = False  # expr is wrong for a scalar 0.0 standing for a zero adjoint of the result


class ReverseMode(Planner):
    """Builds the forward and backward statement lists of one function."""

    def __init__(self, fdef, wrt, arg_kinds, ctx):
        super().__init__(fdef, wrt, arg_kinds, ctx)
        self.definitions = {target_of(s)[0]: s for s in self.layout.simple if target_of(s)[0]}
        self.adjoints: dict[str, str] = {}
        self.tape = None
        self.records: dict = {}      # id(stmt) -> {var: backward name}
        self.entry: list = []        # statements run before the forward pass
        self.live: set = set()       # adjoints bound to a (possibly non-zero) value
        self.owned: set = set()      # adjoints that are arrays this code may update in place
        self.wants_owned: set = set()  # adjoints a loop body made owned (hoisted out of the loop)
        self.contrib_cache: dict = {}
        self.uniform: set = set()      # adjoints held as a scalar standing for a uniform array
        # adjoints that may hold the scalar 0.0 standing for a zero array (set where a branch or loop
        # merges states): rules that are not elementwise skip their contributions then
        self.maybe_zero: set = set()
        self.resized = {m[0] for m in map(list_method, self.layout.simple) if m}  # lists appended to / popped
        self.refuse_traced_helpers()

    def refuse_traced_helpers(self):
        """Gradient code differentiated in reverse (reverse over reverse) goes through its helpers'
        reverse rules; a helper without one is an error here (forward mode may trace it instead)."""
        for s in self.layout.simple:
            plan = self.plans[id(s)]
            if plan.kind in ("call", "checkpoint") and getattr(plan.fn, "__module__", None) in _TOPIC_MODULES \
                    and target_of(s)[0] in self.active:
                raise self.loc.error("there is no reverse-mode rule for adcompiler's helper %r" % plan.fn.__name__, s,
                                     hint="differentiate gradient code in forward mode: ad.hessian(f) (mode='forward')")

    # ------------------------------------------------------------------------------------------
    # Names.

    def adj(self, var: str) -> str:
        """The adjoint name of ``var``: ``dx`` for ``x`` (renamed on collision)."""
        if var not in self.adjoints:
            self.adjoints[var] = self.ctx.namer.fresh("d" + var)
        return self.adjoints[var]

    def helper(self, name_: str) -> str:
        return self.ctx.helper(name_)

    def tape_name(self) -> str:
        if self.tape is None:
            self.tape = self.ctx.namer.fresh("tape")
        return self.tape

    # ------------------------------------------------------------------------------------------
    # Contributions of one statement.

    def contributions(self, s, plan: Plan) -> list[Contrib]:
        """The adjoint contributions of simple statement ``s`` (computed once: they depend only on
        activity and kinds, not on the backward pass's state)."""
        cached = self.contrib_cache.get(id(s))
        if cached is None:
            cached = self.contrib_cache[id(s)] = self._contributions(s, plan)
        return cached

    def _contributions(self, s, plan: Plan) -> list[Contrib]:
        bound, mutated = target_of(s)
        target = bound
        g = self.adj(target) if target else None
        if plan.kind == "copy":
            src = s.value.id
            return [Contrib(src, name(g), full=False, raw=name(g))] if src in self.active else []
        if plan.kind == "display":
            out = []
            items = s.value.values if isinstance(s.value, gast.Dict) else s.value.elts
            keys = s.value.keys if isinstance(s.value, gast.Dict) else [const(i) for i in range(len(items))]
            for key, item in zip(keys, items):
                if isinstance(item, gast.Name) and item.id in self.active:
                    expr = gast.Call(func=name(self.helper("element")), args=[name(g), key], keywords=[])
                    out.append(Contrib(item.id, expr, set(loads(key))))
            return out
        if plan.kind == "rule":
            return self.rule_contributions(s, plan, target, g)
        return []

    def uniform_reduction(self, plan, target, g):
        """``np.sum(x)`` / ``np.mean(x)`` over every axis of an array with a scalar result: the
        adjoint of ``x`` is uniform, kept as a scalar (no broadcast array)."""
        rule, bound = plan.rule, plan.bound
        if rule.reduction not in ("sum", "mean") or not rule.linear:
            return None
        x = bound.get(rule.signature.params[0])
        extra = [bound.get(k) for k in ("axis", "keepdims", "dtype") if k in bound]
        if not (isinstance(x, gast.Name) and x.id in self.active and rank(self.kinds.get(x.id))
                and all(isinstance(e, gast.Constant) and e.value in (None, False) for e in extra)
                and self.kinds.get(target) in (FLOAT, SCALAR)):
            return None
        expr = name(g)
        if rule.reduction == "mean":
            size = gast.Call(func=name(self.helper("reduced_size")), args=[name(self.shape_source(x.id))],
                             keywords=[])
            expr = gast.BinOp(left=expr, op=gast.Div(), right=size)
        return Contrib(x.id, expr, set(), {self.shape_source(x.id)}, uniform=True)

    def rule_contributions(self, s, plan, target, g) -> list[Contrib]:
        uniform = self.uniform_reduction(plan, target, g)
        if uniform is not None:
            return [uniform]
        rule, bound = plan.rule, plan.bound
        params = list(bound)
        operands = [p for p in rule.diff if isinstance(bound.get(p), gast.Name) and bound[p].id in self.active]
        missing = [p for p in operands if p not in rule.vjps]
        if missing:
            raise self.loc.error("there is no reverse-mode rule for %s w.r.t. its argument %r" % (plan.callee, missing[0]),
                                 s, hint="register one with ad.defvjp(fn, rule), or use forward mode (ad.jvp)")
        all_float = all(self.kind_of(bound[p]) == FLOAT for p in params if p in rule.vjps)
        out = []
        varargs = rule.signature.varargs
        # a dtype known only at run time decides there whether the adjoint passes (dtype_gate)
        seed = self.gated(s, plan, name(g))
        gate_reads = set(loads(plan.gate)) if plan.gate is not None else set()
        if varargs in rule.vjps and isinstance(bound.get(varargs), gast.Tuple):
            # f(*args): one adjoint per element of the tuple the rule returns
            mapping = dict(self.mapping_of(s, plan, [rule.vjps[varargs]]), g=seed, ans=target)
            for h in rules.helpers_used(rule.vjps[varargs]):
                mapping.setdefault(h, self.helper(h))
            parts = instantiate(rule.vjps[varargs], mapping)
            reads = {n for n in loads(bound[varargs])} | {target} | gate_reads
            for i, elt in enumerate(bound[varargs].elts):
                if isinstance(elt, gast.Name) and elt.id in self.active:
                    expr = gast.Call(func=name(self.helper("element")), args=[parts, const(i)], keywords=[])
                    out.append(Contrib(elt.id, expr, set(reads)))
        for p in operands:
            template = rule.vjp_template(p, bound, all_float)
            mapping = self.mapping_of(s, plan, [template])
            mapping["g"] = seed
            mapping["ans"] = target
            for h in rules.helpers_used(template):
                mapping.setdefault(h, self.helper(h))
            value_params, shape_params = rules.template_reads(template, params + ["ans"])
            for q in shape_params:  # read only for its shape: any value of that shape will do
                node = mapping[q] if q != "ans" else name(target)
                if isinstance(node, gast.Name):
                    if q == "ans":
                        mapping["ans"] = self.shape_source(target)
                    else:
                        mapping[q] = name(self.shape_source(node.id))
            expr = instantiate(template, mapping)
            value_reads = {n for q in value_params for n in loads(mapping[q] if q != "ans" else name(target))} | gate_reads
            shape_reads = {n for q in shape_params for n in loads(mapping[q] if q != "ans" else name(mapping["ans"]))}
            raw = expr
            # does the expression have the result's shape even when g is a scalar?
            full = any(n == target or self.shape_source(n) == self.shape_source(target) for n in value_reads)
            if rule.elementwise and self.needs_unbroadcast(p, bound, rule):
                if self.kind_of(bound[p]) in (FLOAT, SCALAR) and isinstance(raw, gast.BinOp) \
                        and isinstance(raw.op, gast.Mult) and isinstance(raw.left, gast.Name) \
                        and isinstance(raw.right, gast.Name):  # a scalar times an array: one dot product
                    expr = gast.Call(func=name(self.helper("sum_product")), args=[raw.left, raw.right], keywords=[])
                else:
                    source = self.shape_source(bound[p].id)
                    expr = self.unbroadcast(expr, bound[p].id, source)
                    if source not in value_reads:
                        shape_reads.add(source)
            out.append(Contrib(bound[p].id, expr, value_reads, shape_reads, raw=raw, full=full,
                               needs_array=rules.needs_array_adjoint(template)))
        return out

    def unbroadcast(self, expr, operand: str, source: str):
        """``unbroadcast(expr, source)``, with the factors that are constant along the summed axes
        (a sign, a division by the operand itself) applied after the sum, to the smaller array:
        ``-unbroadcast(g * ans, y) / y`` for the divisor of ``x / y``."""
        if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
            return gast.UnaryOp(op=gast.USub(), operand=self.unbroadcast(expr.operand, operand, source))
        if isinstance(expr, gast.BinOp) and isinstance(expr.op, gast.Div) and isinstance(expr.right, gast.Name) \
                and expr.right.id == operand:
            return gast.BinOp(left=self.unbroadcast(expr.left, operand, source), op=gast.Div(), right=expr.right)
        if isinstance(expr, gast.BinOp) and isinstance(expr.op, gast.Mult) and isinstance(expr.left, gast.UnaryOp) \
                and isinstance(expr.left.op, gast.USub):
            product = gast.BinOp(left=expr.left.operand, op=gast.Mult(), right=expr.right)
            return gast.UnaryOp(op=gast.USub(), operand=self.unbroadcast(product, operand, source))
        return gast.Call(func=name(self.helper("unbroadcast")), args=[expr, name(source)], keywords=[])

    def shape_source(self, var: str) -> str:
        """A name whose value has the shape of ``var`` and is computed no later: follows copies and
        elementwise operations whose other operands are scalars (``sin(x)`` has the shape of
        ``x``), so values read only for their shape need not be kept."""
        seen = set()
        while var not in seen:
            seen.add(var)
            stmt = self.single_definition(var)
            if stmt is None:
                return var
            plan = self.plans[id(stmt)]
            if plan.kind == "copy":
                nxt = stmt.value.id
            elif plan.kind == "rule" and plan.rule.elementwise:
                operands = [plan.bound[q] for q in plan.rule.signature.params if q in plan.bound]
                names = {o.id for o in operands if isinstance(o, gast.Name) and self.kind_of(o) not in (FLOAT, SCALAR)}
                if len(names) != 1 or any(isinstance(o, gast.Name) and o.id not in names and
                                          self.kind_of(o) not in (FLOAT, SCALAR) for o in operands):
                    return var
                nxt = names.pop()
            else:
                return var
            if self.single_definition(nxt) is None and not (nxt in self.params and nxt not in self.layout.binds):
                return var
            var = nxt
        return var

    def single_definition(self, var):
        """The statement binding ``var`` if it is bound exactly once (outside any loop)."""
        positions = self.layout.binds.get(var, ())
        if len(positions) != 1 or var in self.params:
            return None
        stmt = self.definitions.get(var)
        if stmt is None or self.layout.in_loop(stmt):
            return None
        return stmt

    def needs_unbroadcast(self, p, bound, rule) -> bool:
        """Only when another operand may broadcast this one to a bigger shape."""
        me = bound[p]
        others = [bound[q] for q in rule.signature.params if q != p and q in bound]
        others = [o for o in others if not (isinstance(o, gast.Constant) and o.value is None)]
        for other in others:
            if isinstance(other, gast.Name) and other.id == me.id:
                continue
            if self.kind_of(other) not in (FLOAT, SCALAR):
                return True
        return False

    # ------------------------------------------------------------------------------------------
    # Recording values for the backward pass.

    def record_plan(self, s, reads: dict) -> dict:
        """{name: how} for every value the backward pass of ``s`` reads that may change before it
        runs; ``reads`` maps names to True (value read) or False (shape only)."""
        plan = {}
        for var, by_value in reads.items():
            if var is None or var not in self.ctx.resolver.locals:
                continue
            # the shape of a list is its length, which appends and pops change
            structure = by_value or (not rank(self.kinds.get(var)) and bool(self.resized & self.layout.same_memory(var)))
            if self.layout.changes_after(var, s, with_mutation=structure):
                # a copy when the array (or one it views, or the list) is written in place later
                plan[var] = structure and any(b in self.layout.mutates for b in self.layout.same_memory(var))
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
            if self.layout.in_loop(s):
                values.append(value)
                names[var] = var
            else:
                saved = self.ctx.namer.fresh(var + "_saved") if copy else self.ctx.namer.fresh(var + "_")
                out.append(located(assign(saved, value), s))
                names[var] = saved
        if values:
            item = values[0] if len(values) == 1 else gast.Tuple(elts=values, ctx=gast.Load())
            push = gast.Call(func=gast.Attribute(value=name(self.tape_name()), attr="append", ctx=gast.Load()),
                             args=[item], keywords=[])
            out.append(located(gast.Expr(value=push), s))
        return names

    def emit_pops(self, s, names: dict, out: list):
        if not self.layout.in_loop(s) or not names:
            return
        pop = gast.Call(func=gast.Attribute(value=name(self.tape_name()), attr="pop", ctx=gast.Load()),
                        args=[], keywords=[])
        targets = [name(var, True) for var in names]
        target = targets[0] if len(targets) == 1 else gast.Tuple(elts=targets, ctx=gast.Store())
        out.append(located(assign(target, pop), s))

    # ------------------------------------------------------------------------------------------
    # Forward pass.

    def forward(self, stmts) -> list:
        out = []
        for s in stmts:
            if isinstance(s, (gast.For, gast.While)) and not self.has_active(s):
                s.ad_inactive = True
                out.append(s)
            elif isinstance(s, gast.With):
                if not getattr(s, "ad_hook", False):  # a context manager: forward inside it
                    out.append(located(gast.With(items=s.items, body=self.forward(s.body), type_comment=None), s))
                continue  # gradient hooks run in the backward pass only
            elif isinstance(s, gast.If):
                self.forward_if(s, out)
            elif isinstance(s, gast.For):
                self.forward_for(s, out)
            elif isinstance(s, gast.While):
                self.forward_while(s, out)
            elif self.plans[id(s)].kind in ("call", "dynamic") and target_of(s)[0] in self.active:
                self.forward_call(s, out)
            else:
                out.extend(self.checks(s))
                out.append(s)
                check = self.subscript_check(s)
                if check is not None:
                    out.append(check)
                self.records[id(s)] = self.emit_records(s, self.record_plan(s, self.reads_of(s)), out)
        return out

    def call_site(self, s):
        """(forward name, backward name, active parameter positions) of a user-function call."""
        plan = self.plans[id(s)]
        active = [i for i, p in enumerate(plan.positional) if p in plan.bound and any(
            n in self.active for n in loads(plan.bound[p]))]
        if plan.kind == "dynamic":
            return self.helper("call_forward"), self.helper("call_backward"), active
        kinds = self.callee_kinds(plan)
        fwd, bwd = self.ctx.subroutine(plan.fn, tuple(active), kinds)
        return fwd, bwd, active

    def forward_call(self, s, out):
        """``t = f(args)`` becomes ``t, f_saved = f_forward(args)``; the saved state is what
        ``f_backward`` needs."""
        fwd, _, active = self.call_site(s)
        plan = self.plans[id(s)]
        saved = self.ctx.namer.fresh((label_of(plan.fn) if plan.fn is not None else "call") + "_saved")
        self.ctx.resolver.locals.add(saved)
        call = s.value
        args = plan.call_args or call.args
        keywords = call.keywords
        if plan.kind == "dynamic":  # call_forward(active positions, f, *args)
            args = [gast.Tuple(elts=[const(i) for i in active], ctx=gast.Load()), self.dynamic_callee(plan, call)] + list(args)
            keywords = []
        new = gast.Call(func=name(fwd), args=args, keywords=keywords)
        target = gast.Tuple(elts=[name(target_of(s)[0], True), name(saved, True)], ctx=gast.Store())
        out.append(located(assign(target, new), s))
        passed = list(args) + [k.value for k in call.keywords]  # (f(u=base): base passed by keyword)
        if any(self.layout.written_after(n, s) for a in passed for n in loads(a)) or \
                self.layout.written_after(target_of(s)[0], s):
            # the callee kept references to arrays this function writes into later (its arguments,
            # or its result): keep their values
            out.append(located(assign(saved, gast.Call(func=name(self.helper("snapshot")), args=[name(saved)],
                                                       keywords=[])), s))
        s.ad_saved = saved
        self.records[id(s)] = {}
        if self.layout.in_loop(s):
            push = gast.Call(func=gast.Attribute(value=name(self.tape_name()), attr="append", ctx=gast.Load()),
                             args=[name(saved)], keywords=[])
            out.append(located(gast.Expr(value=push), s))
            self.records[id(s)] = {saved: saved}

    def reads_of(self, s) -> dict:
        """Names the backward pass of simple statement ``s`` reads: {name: reads its value}."""
        bound, mutated = target_of(s)
        target = bound or mutated
        if target not in self.active:
            return {}
        plan = self.plans[id(s)]
        reads = {}
        if plan.kind == "index":
            base = s.value.value.id
            if base in self.active:
                reads[base] = False
                for n in loads(s.value.slice):
                    reads[n] = True
            return reads
        if plan.kind == "append":
            return {mutated: False}
        if plan.kind == "setattr":
            return {}
        if plan.kind == "pop":
            return {list_method(s)[0]: False}
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
            if isinstance(s.value, gast.Name) and s.value.id in self.active:
                reads[s.value.id] = False
            return reads
        for c in self.contributions(s, plan):
            for n in sorted(c.shape_reads):
                reads.setdefault(n, False)
            for n in sorted(c.value_reads):
                reads[n] = True
        return dict(sorted(reads.items()))  # a deterministic tape order

    def control_record(self, s, var, out, always=False):
        """Record control value ``var`` (a branch test, loop bound or trip count) read at ``s``;
        ``always`` for trip counters, which the layout does not know. Returns the name the
        backward pass reads it from (after popping it, inside loops)."""
        if var is None or var not in self.ctx.resolver.locals:
            return var
        if not always and not self.layout.changes_after(var, s, with_mutation=False):
            return var
        if self.layout.in_loop(s):
            push = gast.Call(func=gast.Attribute(value=name(self.tape_name()), attr="append", ctx=gast.Load()),
                             args=[name(var)], keywords=[])
            out.append(located(gast.Expr(value=push), s))
            s.ad_pushed = getattr(s, "ad_pushed", []) + [var]
            return var
        if always:
            return var
        saved = self.ctx.namer.fresh(var + "_")
        out.append(located(assign(saved, name(var)), s))
        return saved

    def has_active(self, s) -> bool:
        """Does compound statement ``s`` contain a statement with an active target?"""
        for n in walk(s):
            if isinstance(n, (gast.Assign, gast.Expr)):  # (lst.append(v) and add_at(d, i, v) too)
                bound, mutated = target_of(n)
                if (bound or mutated) in self.active:
                    return True
        return False

    def forward_if(self, s, out):
        if _is_break(s) or not self.has_active(s):
            s.ad_inactive = True
            out.append(s)
            return
        test = s.test
        var = test.operand.id if isinstance(test, gast.UnaryOp) else (test.id if isinstance(test, gast.Name) else None)
        if var and self._bound_inside(var, s):
            # The branch rebinds its own test: keep the decision in a fresh name.
            fresh = self.ctx.namer.fresh("cond")
            out.append(located(assign(fresh, name(var)), s))
            test = gast.UnaryOp(op=gast.Not(), operand=name(fresh)) if isinstance(test, gast.UnaryOp) else name(fresh)
            var = fresh
            self.ctx.resolver.locals.add(fresh)
        new = located(if_(test, self.forward(s.body), self.forward(s.orelse)), s)
        out.append(new)
        s.ad_test = test
        s.ad_test_var = self.control_record(s, var, out) if var else None

    def never_rebound(self, var) -> bool:
        """Whether ``var`` is bound once in the function (a parameter never rebound), outside any
        loop: the backward pass may then read its value anywhere. (A loop's target, or a name
        bound once in a loop body, holds another iteration's value until the backward pass
        restores it: seed 273735.)"""
        binds = self.layout.binds.get(var, ())
        return len(binds) + (var in self.params) == 1 and not any(
            first <= p <= last for p in binds for first, last in self.layout.span.values())

    def _bound_inside(self, var, s) -> bool:
        inner = {id(n) for n in walk(s)} - {id(s)}
        return any(isinstance(n, gast.Name) and n.id == var and isinstance(n.ctx, gast.Store)
                   for n in walk(s) if id(n) in inner)

    def forward_for(self, s, out):
        args = [a.id for a in s.iter.args if isinstance(a, gast.Name)]
        counter = None
        body = self.forward(s.body)
        if getattr(s, "ad_break_flag", None):
            counter = self.ctx.namer.fresh("n_iter")
            self.ctx.resolver.locals.add(counter)
            out.append(located(assign(counter, const(0)), s))
            body.insert(0, located(assign(counter, gast.BinOp(left=name(counter), op=gast.Add(), right=const(1))), s))
        saved_args = {}
        for a in args:
            if self._bound_inside(a, s) and not self.layout.in_loop(s):
                fresh = self.ctx.namer.fresh(a + "_")
                out.append(located(assign(fresh, name(a)), s))
                saved_args[a] = fresh
        loop = located(gast.For(target=s.target, iter=s.iter, body=body, orelse=[], type_comment=None), s)
        out.append(loop)
        s.ad_range_args = [saved_args.get(a) or self.control_record(s, a, out) for a in args]
        s.ad_counter = self.control_record(s, counter, out, always=True) if counter else None

    def forward_while(self, s, out):
        counter = self.ctx.namer.fresh("n_iter")
        self.ctx.resolver.locals.add(counter)
        out.append(located(assign(counter, const(0)), s))
        body = self.forward(s.body)
        body.insert(0, located(assign(counter, gast.BinOp(left=name(counter), op=gast.Add(), right=const(1))), s))
        out.append(located(gast.While(test=s.test, body=body, orelse=[]), s))
        s.ad_counter = self.control_record(s, counter, out, always=True)

    # ------------------------------------------------------------------------------------------
    # Backward pass.

    def may_be_object(self, var) -> bool:
        """Whether ``var`` may hold an object, whose adjoint is a dict of its attributes' adjoints:
        an object argument, or an attribute read of unknown kind (``layer = self.inner``)."""
        if var in self.ctx.arg_classes:
            return True
        return self.kinds.get(var) is None and any(
            self.plans[id(s)].kind == "attr" for s in self.layout.simple if target_of(s)[0] == var)

    def may_be_container(self, var) -> bool:
        """Whether ``var`` may hold a list, tuple, dict or object, whose adjoints add up entry by
        entry (``+`` would concatenate): known containers, and values of unknown kind that come
        from calls, reads or attributes rather than from arithmetic."""
        seen = set()

        def may(var):
            kind = self.kinds.get(var)
            if is_container(kind) or var in self.ctx.containers or self.may_be_object(var):
                return True
            if kind is not None:
                return False
            if self.ctx.generated:  # gradient code differentiated again: its helpers build containers
                return True
            seen.add(var)
            for s in self.layout.simple:
                if target_of(s)[0] == var:
                    plan = self.plans[id(s)]
                    if plan.kind == "copy" and (plan.diff_reads[0] in seen or not may(plan.diff_reads[0])):
                        continue  # (h = x: as x is)
                    if plan.kind in _OPAQUE_RESULTS:
                        return True
            return False
        return may(var)

    def accumulate(self, var: str, expr, out: list, like, uniform=False, zero=True):
        """``dvar = expr`` for the first contribution, then ``dvar = dvar + expr``, or in place
        (``dvar += expr``) into an array adjoint this code owns. ``uniform``: expr is a scalar
        standing for a uniform array (broadcasting makes every sum right); ``zero``: expr may be
        the scalar 0.0 standing for a zero array."""
        d = self.adj(var)
        if uniform and var in self.live and var in self.maybe_zero:
            self.uniform.add(var)  # (0.0 standing for zeros + a scalar standing for a uniform array: a scalar)
        still_zero = zero and (var in self.maybe_zero or var not in self.live)  # (0.0 + 0.0 is 0.0)
        if still_zero:
            self.maybe_zero.add(var)
        else:
            self.maybe_zero.discard(var)  # (0.0 + an array, or an array: an array)
        if var in self.live:
            if var in self.uniform and not uniform:
                self.uniform.discard(var)  # scalar + full array: a full array of var's shape
                out.append(located(assign(d, gast.BinOp(left=name(d), op=gast.Add(), right=expr)), like))
                return
            if self.may_be_container(var):
                out.append(located(assign(d, gast.Call(func=name(self.helper("add")), args=[name(d), expr],
                                                       keywords=[])), like))
                return
            if var in self.owned and rank(self.kinds.get(var)):
                out.append(located(gast.AugAssign(target=name(d, True), op=gast.Add(), value=expr), like))
                return
            out.append(located(assign(d, gast.BinOp(left=name(d), op=gast.Add(), right=expr)), like))
            if rank(self.kinds.get(var)) and not still_zero and var not in self.uniform:
                self.owned.add(var)  # ``+`` on arrays made a fresh array of the adjoint's shape
            return
        out.append(located(assign(d, expr), like))
        self.live.add(var)
        self.owned.discard(var)
        if uniform:
            self.uniform.add(var)
        else:
            self.uniform.discard(var)

    def kill(self, var):
        """``var`` is bound here: before it (in the backward pass, after) its adjoint is another
        value's, which starts from nothing (no scalar standing for a uniform array of it)."""
        self.live.discard(var)
        self.owned.discard(var)
        self.uniform.discard(var)

    def materialize_uniform(self, vars_, out, like=None):
        """Turn scalar stand-ins for uniform adjoints into arrays of their variables' shapes."""
        for v in sorted(set(vars_) & self.uniform):
            call = gast.Call(func=name(self.helper("expand_like")), args=[name(self.adj(v)), name(self.shape_source(v))],
                             keywords=[])
            out.append(located(assign(self.adj(v), call), like))
            self.uniform.discard(v)

    def ensure_owned(self, var: str, shape_name: str, out: list, like):
        self.materialize_uniform([var], out, like)  # (a scalar standing for a uniform array first)
        if var in self.owned:
            return
        self.wants_owned.add(var)
        d = self.adj(var)
        src = name(d) if var in self.live else const(0.0)
        out.append(located(assign(d, gast.Call(func=name(self.helper("own")), args=[src, name(shape_name)],
                                               keywords=[])), like))
        self.live.add(var)
        self.owned.add(var)
        self.maybe_zero.discard(var)

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
        if line:
            text += "  (line %d)" % (line + self.loc.line_offset)
        out.append(self.ctx.comment(text))

    def backward_simple(self, s, out):
        bound, mutated = target_of(s)
        target = bound or mutated
        plan = self.plans[id(s)]
        if plan.kind == "pop" and list_method(s)[0] in self.active:
            target = list_method(s)[0]  # (a pop changes the list, whatever becomes of the value)
        if plan.kind in ("add_at", "take_adjoint") and mutated in self.active:
            target = mutated  # (it changes the array it reads from, whatever becomes of the value)
        if target is None or target not in self.active:
            return
        names = self.records.get(id(s), {})
        if plan.kind in ("pop", "add_at", "take_adjoint"):  # (whether or not a gradient reached the target)
            block = []
            self.emit_pops(s, names, block)
            recorded = len(block)
            getattr(self, "backward_" + plan.kind)(s, {k: v for k, v in names.items() if k != v}, block)
            if len(block) > recorded:
                self.comment(s, out)
            out.extend(block)
            self.kill(bound)
            return
        if target not in self.live:
            self.emit_pops(s, names, out)  # keep the tape aligned even when no gradient flows
            if bound:
                self.kill(bound)
            return
        if plan.kind == "opaque":
            raise self.loc.error("cannot differentiate %s: %s"
                                 % (plan.callee, plan.why), s,
                                 hint=plan.hint or "register a rule with ad.defvjp(fn, rule), or wrap the value "
                                      "in ad.stop_gradient(...) if no gradient should flow through it")
        block = []
        if bound in self.uniform and not self.keeps_uniform(s, plan):
            self.materialize_uniform([bound], block, s)
        self.emit_pops(s, names, block)
        rename = {k: v for k, v in names.items() if k != v}
        if plan.kind == "append":
            self.backward_append(s, block)
        elif plan.kind in ("call", "dynamic"):
            self.backward_call(s, block)
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
            target_uniform = bound in self.uniform
            source_zero = bound in self.maybe_zero  # (0.0 for a number, or standing for a zero array)
            entries = plan.kind == "display"  # (an entry of a container's adjoint may be 0.0)
            for c in self.contributions(s, plan):
                expr = c.expr
                uniform = c.uniform
                if target_uniform and not c.full:
                    # the contribution is a scalar too: uniform over the operand if it has the
                    # result's shape
                    expr, uniform = c.raw if c.raw is not None else c.expr, True
                expr = instantiate(expr, rename) if rename else expr
                if source_zero and (c.needs_array or not _passes_zero(expr, self.adj(bound))):
                    # a zero adjoint contributes nothing (every vjp is linear in it); 0.0 * y would
                    # be a NumPy zero of y's shape, not the zero standing for the operand's adjoint,
                    # and 0.0 * inf is NaN (sqrt at 0 on a path not taken)
                    expr = gast.IfExp(test=gast.Call(func=name(self.helper("nonzero")), args=[name(self.adj(bound))],
                                                     keywords=[]), body=expr, orelse=const(0.0))
                self.accumulate(c.var, expr, block, s, uniform=uniform, zero=source_zero or entries)
        if bound:
            self.kill(bound)
        if block:
            self.comment(s, out)
            out.extend(block)

    def backward_attr(self, s, out):
        """``t = obj.w``: the adjoint of a simple object holds one adjoint per attribute read."""
        obj = s.value.value.id
        if obj not in self.active:
            return
        d = self.adj(obj)
        call = gast.Call(func=name(self.helper("add_attribute")),
                         args=[name(d) if obj in self.live else const(0.0), const(s.value.attr),
                               name(self.adj(target_of(s)[0]))], keywords=[])
        out.append(located(assign(d, call), s))
        self.live.add(obj)
        self.owned.discard(obj)

    def backward_setattr(self, s, out):
        """``obj.attr = v``: ``dv`` is the adjoint ``obj``'s had for ``attr``, which the store
        overwrote (``obj``'s adjoint no longer has it)."""
        obj, attr = s.targets[0].value.id, const(s.targets[0].attr)
        d = name(self.adj(obj))
        if isinstance(s.value, gast.Name) and s.value.id in self.active:
            self.accumulate(s.value.id, gast.Call(func=name(self.helper("attribute")), args=[d, attr], keywords=[]),
                            out, s)
        out.append(located(assign(self.adj(obj), gast.Call(func=name(self.helper("without_attribute")),
                                                            args=[d, attr], keywords=[])), s))

    def backward_gradcall(self, s, rename, out):
        """``t = df(x, y)`` for a gradient function ``df``: the adjoint of each argument is a
        Hessian-vector product, generated as forward mode over df's code."""
        call = instantiate(s.value, rename)
        helper = name(self.ctx.bind("gradient_vjp", hooks.gradient_vjp))
        args = gast.Tuple(elts=list(call.args), ctx=gast.Load())
        g = name(self.adj(target_of(s)[0]))
        for j, arg in enumerate(s.value.args):
            if isinstance(arg, gast.Name) and arg.id in self.active:
                expr = gast.Call(func=helper, args=[call.func, const(j), args, g], keywords=[])
                self.accumulate(arg.id, expr, out, s)

    def backward_append(self, s, out):
        """``lst.append(v)``: the last adjoint of ``dlst`` belongs to ``v``."""
        lst = target_of(s)[1]
        self.ensure_owned(lst, lst, out, s)
        take = gast.Call(func=gast.Attribute(value=name(self.adj(lst)), attr="pop", ctx=gast.Load()),
                         args=[], keywords=[])
        value = s.value.args[0]
        if isinstance(value, gast.Name) and value.id in self.active:
            self.accumulate(value.id, take, out, s)
        else:
            out.append(located(gast.Expr(value=take), s))

    def backward_pop(self, s, rename, out):
        """``v = lst.pop()``: ``dv`` goes back on the end of ``dlst`` (a zero when no gradient reached
        ``v``, so that ``dlst`` stays aligned with ``lst``: the tape of generated gradient code,
        differentiated again, is such a list)."""
        lst, v = list_method(s)[0], target_of(s)[0]
        if lst not in self.active:
            return
        self.ensure_owned(lst, rename.get(lst, lst), out, s)
        put = gast.Call(func=gast.Attribute(value=name(self.adj(lst)), attr="append", ctx=gast.Load()),
                        args=[name(self.adj(v)) if v in self.live else const(0.0)], keywords=[])
        out.append(located(gast.Expr(value=put), s))

    # Generated gradient code differentiated again (reverse over reverse) updates adjoints in place.
    def backward_add_at(self, s, rename, out):
        """``add_at(d, i, v)`` is ``d[i] += v``: ``v`` gets the adjoint of ``d`` at ``i``."""
        d, index, v = s.value.args
        if d.id not in self.live or not (isinstance(v, gast.Name) and v.id in self.active):
            return
        index = instantiate(index, rename) if rename else index
        read = gast.Call(func=name(self.helper("element")), args=[name(self.adj(d.id)), index], keywords=[])
        shape = name(rename.get(v.id, v.id))
        self.accumulate(v.id, gast.Call(func=name(self.helper("unbroadcast")), args=[read, shape], keywords=[]),
                        out, s)

    def backward_take_adjoint(self, s, rename, out):
        """``w = take_adjoint(d, i)`` is ``w = d[i]; d[i] = 0``: the adjoint of ``d`` at ``i`` is
        replaced by that of ``w``."""
        d, index = s.value.args
        w = target_of(s)[0]
        if d.id not in self.active or (d.id not in self.live and w not in self.live):
            return
        index = instantiate(index, rename) if rename else index
        self.ensure_owned(d.id, rename.get(d.id, d.id), out, s)
        dd = name(self.adj(d.id))
        out.append(located(gast.Expr(value=gast.Call(func=name(self.helper("take_adjoint")), args=[dd, index],
                                                     keywords=[])), s))
        if w in self.live:
            out.append(located(gast.Expr(value=gast.Call(func=name(self.helper("add_at")),
                                                         args=[dd, index, name(self.adj(w))], keywords=[])), s))

    def backward_hook(self, s, out):
        """``with insert_grad_of(x) as g: body``: run body on the adjoint of ``x`` accumulated so far."""
        x = s.items[0].context_expr.args[0].id
        alias = s.items[0].optional_vars.id
        if x not in self.active:
            return
        self.comment(s, out)
        d = self.adj(x)
        out.append(located(assign(alias, name(d) if x in self.live else const(0.0)), s))
        out.extend(s.body)
        out.append(located(assign(d, name(alias)), s))
        self.live.add(x)
        self.maybe_zero.add(x)
        self.owned.discard(x)

    def backward_checkpoint(self, s, rename, out):
        """Recompute the checkpointed call from its recorded inputs, then run its backward."""
        fwd, _, active = self.call_site(s)
        if not active:
            return
        call = instantiate(s.value, rename)
        args = [instantiate(a, rename) for a in self.plans[id(s)].call_args or s.value.args]
        s.ad_saved = self.ctx.namer.fresh(label_of(self.plans[id(s)].fn) + "_saved")
        target = gast.Tuple(elts=[name(self.ctx.throwaway(), True), name(s.ad_saved, True)], ctx=gast.Store())
        out.append(located(assign(target, gast.Call(func=name(fwd), args=args, keywords=call.keywords)), s))
        self.backward_call(s, out)

    def backward_user(self, s, rename, out):
        """Call the user's vjp rule: ``rule(g, ans, *args, **kwargs)``."""
        plan = self.plans[id(s)]
        call = instantiate(s.value, rename)
        target = target_of(s)[0]
        # the user's rule itself, by name (forward mode can differentiate it again: hessians)
        rule = self.ctx.bind(label_of(plan.fn) + "_vjp", custom.USER_VJPS[plan.fn])
        args = [name(self.adj(target)), name(rename.get(target, target))] + list(call.args)
        parts = self.ctx.namer.fresh(label_of(plan.fn) + "_cotangents")
        out.append(located(assign(parts, gast.Call(func=name(rule), args=args, keywords=call.keywords)), s))
        for i, a in enumerate(s.value.args):
            if isinstance(a, gast.Name) and a.id in self.active:
                self.accumulate(a.id, gast.Call(func=name(self.helper("cotangent")), args=[name(parts), const(i)],
                                                keywords=[]), out, s)

    def unpack_adjoints(self, variables, call, out, like, fresh=()):
        """``dx, dy_ = call`` for a call returning one adjoint per entry of ``variables`` (None:
        not wanted; names in ``fresh``: plain temporaries), accumulating into adjoints that
        already hold a value."""
        targets, pending, seen = [], [], set()
        for var in variables:
            if var is None:
                targets.append(name(self.ctx.throwaway(), True))
            elif var in fresh:
                targets.append(name(var, True))
            elif var not in self.live and var not in seen:
                targets.append(name(self.adj(var), True))
                self.live.add(var)
                self.owned.discard(var)
                self.maybe_zero.add(var)  # (a callee returns 0.0 for an argument no gradient reached)
            else:
                part = self.ctx.namer.fresh(self.adj(var) + "_")
                targets.append(name(part, True))
                pending.append((var, part))
            seen.add(var)
        out.append(located(assign(gast.Tuple(elts=targets, ctx=gast.Store()), call), like))
        for var, part in pending:
            self.accumulate(var, name(part), out, like)

    def backward_call(self, s, out):
        _, bwd, active = self.call_site(s)
        plan = self.plans[id(s)]
        if not active:
            return
        call = gast.Call(func=name(bwd), args=[name(s.ad_saved), name(self.adj(target_of(s)[0]))], keywords=[])
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
                            args=[name(self.adj(obj)) if obj in self.live else const(0.0), const(node.attr),
                                  name(part)], keywords=[])
            out.append(located(assign(self.adj(obj), add), s))
            self.live.add(obj)
            self.owned.discard(obj)
        for part, node in spread:
            entries = enumerate(node.elts) if isinstance(node, gast.Tuple) else \
                ((k.value, v) for k, v in zip(node.keys, node.values))
            for k, elt in entries:
                if isinstance(elt, gast.Name) and elt.id in self.active:
                    self.accumulate(elt.id, gast.Call(func=name(self.helper("element")), args=[name(part), const(k)],
                                                      keywords=[]), out, s)

    def keeps_uniform(self, s, plan) -> bool:
        """Can the adjoints of this statement's operands be computed from a scalar standing for
        its result's uniform adjoint? Elementwise rules and copies can, when every operand that
        would receive a scalar has the result's shape."""
        target = target_of(s)[0]
        if plan.kind == "copy":
            return True
        if plan.kind != "rule" or not plan.rule.elementwise:
            return False
        same = self.shape_source(target)
        return all(c.full or self.shape_source(c.var) == same for c in self.contributions(s, plan))

    def backward_index(self, s, rename, out):
        """``t = x[i]``: add ``dt`` into ``dx`` at ``i``."""
        base = s.value.value.id
        if base not in self.active:
            return
        index = self.index_value(instantiate(s.value.slice, rename))
        base_ref = rename.get(base, base)
        g = name(self.adj(target_of(s)[0]))
        if base in self.live:
            self.ensure_owned(base, base_ref, out, s)
            if rank(self.kinds.get(base)) and self.basic_index(s.value.slice):
                # an integer / slice index cannot repeat an element: add in place directly
                target = gast.Subscript(value=name(self.adj(base)), slice=instantiate(s.value.slice, rename),
                                        ctx=gast.Store())
                out.append(located(gast.AugAssign(target=target, op=gast.Add(), value=g), s))
                return
            call = gast.Call(func=name(self.helper("add_at")), args=[name(self.adj(base)), index, g], keywords=[])
            out.append(located(gast.Expr(value=call), s))
        else:
            call = gast.Call(func=name(self.helper("container_adjoint")), args=[name(base_ref), index, g], keywords=[])
            out.append(located(assign(self.adj(base), call), s))
            self.live.add(base)
            self.owned.add(base)
            self.maybe_zero.discard(base)

    def basic_index(self, index) -> bool:
        """Integers and slices only (no fancy or boolean index, which may repeat elements)."""
        parts = index.elts if isinstance(index, gast.Tuple) else [index]
        return all(isinstance(p, gast.Slice) or (isinstance(p, gast.Constant) and type(p.value) is int)
                   or (isinstance(p, gast.Name) and self.kinds.get(p.id) == FLOAT) for p in parts)

    def index_value(self, index):
        """An index expression as a value that can be passed to a helper (``slice(None, 2)``)."""
        if isinstance(index, gast.Slice):
            parts = [p if p is not None else const(None) for p in (index.lower, index.upper, index.step)]
            if index.step is None:
                parts.pop()  # slice(a, b); never slice(b) alone, which means stop=b
            return gast.Call(func=name(self.ctx.builtin("slice")), args=parts, keywords=[])
        if isinstance(index, gast.Tuple):
            return gast.Tuple(elts=[self.index_value(e) for e in index.elts], ctx=gast.Load())
        return index

    def backward_store(self, s, rename, out):
        """``y[i] = v``: ``dv`` is what ``dy`` held at ``i``, which the store overwrote (now 0)."""
        target = s.targets[0]
        base = target.value.id
        index = self.index_value(instantiate(target.slice, rename))
        self.ensure_owned(base, rename.get(base, base), out, s)
        take = gast.Call(func=name(self.helper("take_adjoint")), args=[name(self.adj(base)), index], keywords=[])
        value = s.value
        if isinstance(value, gast.Name) and value.id in self.active:
            expr = gast.Call(func=name(self.helper("unbroadcast")),
                             args=[take, name(rename.get(value.id, value.id))], keywords=[])
            # (read out of an owned array: an array or a NumPy number, never the 0.0 stand-in)
            self.accumulate(value.id, expr, out, s, zero=not rank(self.kinds.get(base)))
        else:
            out.append(located(gast.Expr(value=take), s))

    def pop_control(self, s, out):
        """Pop the control values the forward pass pushed after compound statement ``s``."""
        for var in reversed(getattr(s, "ad_pushed", [])):
            pop = gast.Call(func=gast.Attribute(value=name(self.tape_name()), attr="pop", ctx=gast.Load()),
                            args=[], keywords=[])
            out.append(located(assign(var, pop), s))

    def materialize(self, vars_, out, like):
        self.maybe_zero |= set(vars_)
        for v in sorted(vars_):
            out.append(located(assign(self.adj(v), const(0.0)), like))
            self.live.add(v)
            self.owned.discard(v)

    def backward_if(self, s, out):
        if getattr(s, "ad_inactive", False):
            return
        test = s.ad_test
        var = s.ad_test_var
        block = []
        if _is_break(s):
            return
        self.pop_control(s, block)
        if var is not None:
            test = gast.UnaryOp(op=gast.Not(), operand=name(var)) if isinstance(test, gast.UnaryOp) else name(var)
        start_live, start_owned, start_zero = set(self.live), set(self.owned), set(self.maybe_zero)
        hoisted = set()
        for _ in range(2):
            # An adjoint one branch updates in place is owned before the if (so a loop around
            # it can own it once), instead of being copied inside the branch.
            self.live, self.owned = set(start_live) | hoisted, set(start_owned) | hoisted
            self.maybe_zero = start_zero - hoisted
            body = self.backward_block(s.body)
            body_live, body_owned, body_zero = self.live, self.owned, self.maybe_zero
            self.live, self.owned = set(start_live) | hoisted, set(start_owned) | hoisted
            self.maybe_zero = start_zero - hoisted
            orelse = self.backward_block(s.orelse)
            else_live, else_owned = self.live, self.owned
            mixed = {v for v in ((body_owned | else_owned) - (body_owned & else_owned)) & start_live
                     if self.never_rebound(v)}  # (owned before the if: shaped like v's value there, which the
            # name holds in the backward pass only when nothing rebinds it)
            if not mixed - hoisted:
                break
            hoisted |= mixed
        self.live, self.owned = set(start_live), set(start_owned)
        for v in sorted(hoisted):
            self.ensure_owned(v, v, block, s)
        self.live = body_live | else_live
        self.owned = body_owned & else_owned
        self.maybe_zero = body_zero | self.maybe_zero  # (0.0 after the if when after either branch)
        self.materialize_into(self.live - body_live, body, s)  # (an adjoint a branch kills is 0.0 there)
        self.materialize_into(self.live - else_live, orelse, s)
        if not body and not orelse:
            out.extend(block)
            return
        if not body:
            test = gast.UnaryOp(op=gast.Not(), operand=test) if not isinstance(test, gast.UnaryOp) else test.operand
            body, orelse = orelse, []
        block.append(located(if_(test, body, orelse), s))
        out.extend(block)

    def materialize_into(self, vars_, stmts, like):
        self.maybe_zero |= set(vars_)
        for v in sorted(vars_):
            stmts.append(located(assign(self.adj(v), const(0.0)), like))

    def kept_after(self, var, loop) -> bool:
        """Whether ``var`` keeps, from the end of ``loop`` until the function returns, the value the
        loop left in it (so the backward pass reads that value where the loop's reversal starts)."""
        lay = self.layout
        first, last = lay.span[id(loop)]
        outer = lay.loops[id(loop)]
        lo, hi = lay.span[id(outer[0])] if outer else (first, last)
        changes = list(lay.binds.get(var, ()))
        if var in self.resized:  # (a list appended to or popped later is not as long as it was here)
            changes += lay.mutates.get(var, ())
        return not any(p > last or (lo <= p < first) for p in changes)

    def backward_loop(self, s, out):
        """Reverse a loop (``for i in reversed(range(...))``, or ``for _ in range(trip count)``
        for a while loop), with the adjoint state made consistent by ``loop_fixpoint``."""
        if getattr(s, "ad_inactive", False):
            return
        entry = set(self.live)

        zero_at_head = set()  # adjoints the body kills: 0.0 when the next iteration starts

        def reversed_body():
            self.maybe_zero |= (self.live - entry) | zero_at_head  # (adjoints entering the loop as 0.0)
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
        arrays = {v for v in head_live - entry_live if rank(self.kinds.get(v)) and v in end_owned
                  and self.kept_after(v, s) and self.never_rebound(v)}
        if arrays - head_owned or zero_at_head - self.maybe_zero:
            head_owned = head_owned | arrays
            self.live, self.owned = set(head_live), set(head_owned)
            self.maybe_zero |= zero_at_head
            body = self.backward_block(s.body)
            end_live, end_owned = self.live, self.owned
            self.live, self.owned = set(entry_live), set(entry_owned)
        self.materialize(head_live - entry_live - head_owned, block, s)
        for v in sorted(head_owned - entry_owned):
            self.ensure_owned(v, v, block, s)
        self.materialize_into(head_live - end_live, body, s)
        self.live, self.owned = set(head_live), set(head_owned)
        self.pop_control(s, block)
        if not body:
            out.extend(block)
            return
        if isinstance(s, gast.For):
            recorded = iter(s.ad_range_args)
            args = [name(next(recorded)) if isinstance(a, gast.Name) else a for a in s.iter.args]
            rng = gast.Call(func=s.iter.func, args=args, keywords=[])
            if s.ad_counter:
                rng = gast.Subscript(value=rng, slice=gast.Slice(None, name(s.ad_counter), None), ctx=gast.Load())
            it = gast.Call(func=name(self.ctx.builtin("reversed")), args=[rng], keywords=[])
            loop = gast.For(target=s.target, iter=it, body=body, orelse=[], type_comment=None)
        else:
            it = gast.Call(func=name(self.ctx.builtin("range")), args=[name(s.ad_counter)], keywords=[])
            loop = gast.For(target=name(self.ctx.throwaway(), True), iter=it, body=body, orelse=[],
                            type_comment=None)
        block.append(located(loop, s))
        out.extend(block)


def _passes_zero(expr, g) -> bool:
    """Whether ``expr`` is ``g`` or ``-g`` (0.0 for a zero ``g``), or a helper call (helpers
    return 0.0 for it)."""
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        expr = expr.operand
    if isinstance(expr, gast.Name):
        return expr.id == g
    return isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) and expr.func.id in rules.HELPER_NAMES \
        and expr.func.id not in ("np", "math")


def _is_func_part(var, call) -> bool:
    """Is ``var`` only the callee of ``call`` (``helper`` in ``helper(x)``)?"""
    func = call.func
    while isinstance(func, gast.Attribute):
        func = func.value
    return isinstance(func, gast.Name) and func.id == var and var not in {
        n.id for a in call.args for n in walk(a) if isinstance(n, gast.Name)}


def _is_break(s) -> bool:
    return isinstance(s, gast.If) and len(s.body) == 1 and isinstance(s.body[0], gast.Break) and not s.orelse
