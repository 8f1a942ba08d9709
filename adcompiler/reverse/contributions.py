"""What each simple statement contributes to which adjoint: ``Contrib``, and the ``Contributions``
mixin of ``ReverseMode``, which instantiates the statement's derivative rule (its vjp templates)
for the statement's operands, keeps a uniform adjoint as a scalar where it can, applies
``unbroadcast`` only where an operand may have been broadcast, and finds for each value read only
for its shape a name of that shape computed no later (``shape_source``), so it need not be kept."""
from __future__ import annotations

from dataclasses import dataclass, field

import gast

from .. import rules
from ..analysis import FLOAT, SCALAR, is_container, rank
from ..ir import const, instantiate, loads, name, target_of
from ..planning import Plan


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
    # expr is wrong for a scalar 0.0 standing for a zero adjoint of the result
    needs_array: bool = False


class Contributions:
    """The adjoint contributions of simple statements (a mixin of ``ReverseMode``, whose state it
    reads: ``plans``, ``active``, ``kinds``, ``layout``, ``params``, ``definitions``, and
    ``contrib_cache``, which it fills)."""

    def contributions(self, s, plan: Plan) -> list[Contrib]:
        """The adjoint contributions of simple statement ``s`` (computed once: they depend only on
        activity and kinds, not on the backward pass's state)."""
        key = (id(s), target_of(s)[0] in self.masked)
        cached = self.contrib_cache.get(key)
        if cached is None:
            cached = self.contrib_cache[key] = self._contributions(s, plan)
        return cached

    def _contributions(self, s, plan: Plan) -> list[Contrib]:
        bound, mutated = target_of(s)
        target = bound
        g = self.adj(target) if target else None
        if plan.kind == "copy":
            src = s.value.id
            if src not in self.plan.active:
                return []
            return [Contrib(src, name(g), full=False, raw=name(g))]
        if plan.kind == "display":
            out = []
            items = s.value.values if isinstance(s.value, gast.Dict) else s.value.elts
            keys = s.value.keys if isinstance(s.value, gast.Dict) else \
                [const(i) for i in range(len(items))]
            for key, item in zip(keys, items):
                if isinstance(item, gast.Name) and item.id in self.plan.active:
                    expr = gast.Call(func=name(self.helper("element")), args=[name(g), key],
                                     keywords=[])
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
        kinds = self.plan.kinds
        if not (isinstance(x, gast.Name) and x.id in self.plan.active and rank(kinds.get(x.id))
                and all(isinstance(e, gast.Constant) and e.value in (None, False) for e in extra)
                and kinds.get(target) in (FLOAT, SCALAR)):
            return None
        expr = name(g)
        if rule.reduction == "mean":
            size = gast.Call(func=name(self.helper("reduced_size")),
                             args=[name(self.shape_source(x.id))], keywords=[])
            expr = gast.BinOp(left=expr, op=gast.Div(), right=size)
        return Contrib(x.id, expr, set(), {self.shape_source(x.id)}, uniform=True)

    def rule_contributions(self, s, plan, target, g) -> list[Contrib]:
        uniform = self.uniform_reduction(plan, target, g)
        if uniform is not None:
            return [uniform]
        rule, bound = plan.rule, plan.bound
        params = list(bound)
        operands = [p for p in rule.diff
                    if isinstance(bound.get(p), gast.Name) and bound[p].id in self.plan.active]
        missing = [p for p in operands if p not in rule.vjps]
        if missing:
            raise self.loc.error("there is no reverse-mode rule for %s w.r.t. its argument %r"
                                 % (plan.callee, missing[0]), s,
                                 hint="register one with ad.defvjp(fn, rule), or use forward mode "
                                      "(ad.jvp)")
        all_float = all(self.plan.kind_of(bound[p]) == FLOAT for p in params if p in rule.vjps)
        # a dtype known only at run time decides there whether the adjoint passes (dtype_gate)
        seed = self.gated(s, plan, name(g))
        gate_reads = set(loads(plan.gate)) if plan.gate is not None else set()
        out = self.varargs_contributions(s, plan, target, seed, gate_reads)
        for p in operands:
            out.append(self.operand_contribution(s, plan, p, target, seed, gate_reads, all_float))
        return out

    def varargs_contributions(self, s, plan, target, seed, gate_reads) -> list[Contrib]:
        """``f(*args)`` with a rule for ``args``: one adjoint per element of the tuple the rule
        returns."""
        rule, bound = plan.rule, plan.bound
        varargs = rule.signature.varargs
        if not (varargs in rule.vjps and isinstance(bound.get(varargs), gast.Tuple)):
            return []
        out = []
        mapping = dict(self.mapping_of(s, plan, [rule.vjps[varargs]]), g=seed, ans=target)
        for h in rules.helpers_used(rule.vjps[varargs]):
            mapping.setdefault(h, self.helper(h))
        parts = instantiate(rule.vjps[varargs], mapping)
        reads = {n for n in loads(bound[varargs])} | {target} | gate_reads
        for i, elt in enumerate(bound[varargs].elts):
            if isinstance(elt, gast.Name) and elt.id in self.plan.active:
                expr = gast.Call(func=name(self.helper("element")), args=[parts, const(i)],
                                 keywords=[])
                out.append(Contrib(elt.id, expr, set(reads)))
        return out

    def operand_contribution(self, s, plan, p, target, seed, gate_reads, all_float) -> Contrib:
        """The contribution of the rule's vjp template for parameter ``p`` to the adjoint of the
        operand bound to it."""
        rule, bound = plan.rule, plan.bound
        params = list(bound)
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
        if rule.elementwise and target in self.masked:
            # (an adjoint that is 0 where np.where did not pick: 0 there, even where the
            # derivative is not finite)
            expr = gast.Call(func=name(self.helper("where_nonzero")), args=[seed, expr],
                             keywords=[])
        value_reads = {n for q in value_params
                       for n in loads(mapping[q] if q != "ans" else name(target))} | gate_reads
        shape_reads = {n for q in shape_params
                       for n in loads(mapping[q] if q != "ans" else name(mapping["ans"]))}
        raw = expr
        # does the expression have the result's shape even when g is a scalar?
        full = any(n == target or self.shape_source(n) == self.shape_source(target)
                   for n in value_reads)
        if rule.elementwise and self.needs_unbroadcast(p, bound, rule):
            if self.plan.kind_of(bound[p]) in (FLOAT, SCALAR) and isinstance(raw, gast.BinOp) \
                    and isinstance(raw.op, gast.Mult) and isinstance(raw.left, gast.Name) \
                    and isinstance(raw.right, gast.Name):
                # a scalar times an array: one dot product
                expr = gast.Call(func=name(self.helper("sum_product")), args=[raw.left, raw.right],
                                 keywords=[])
            else:
                source = self.shape_source(bound[p].id)
                expr = self.unbroadcast(expr, bound[p].id, source)
                if source not in value_reads:
                    shape_reads.add(source)
        return Contrib(bound[p].id, expr, value_reads, shape_reads, raw=raw, full=full,
                       needs_array=rules.needs_array_adjoint(template))

    def unbroadcast(self, expr, operand: str, source: str):
        """``unbroadcast(expr, source)``, with the factors that are constant along the summed axes
        (a sign, a division by the operand itself) applied after the sum, to the smaller array:
        ``-unbroadcast(g * ans, y) / y`` for the divisor of ``x / y``."""
        if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
            return gast.UnaryOp(op=gast.USub(),
                                operand=self.unbroadcast(expr.operand, operand, source))
        if isinstance(expr, gast.BinOp) and isinstance(expr.op, gast.Div) \
                and isinstance(expr.right, gast.Name) and expr.right.id == operand:
            return gast.BinOp(left=self.unbroadcast(expr.left, operand, source), op=gast.Div(),
                              right=expr.right)
        if isinstance(expr, gast.BinOp) and isinstance(expr.op, gast.Mult) \
                and isinstance(expr.left, gast.UnaryOp) and isinstance(expr.left.op, gast.USub):
            product = gast.BinOp(left=expr.left.operand, op=gast.Mult(), right=expr.right)
            return gast.UnaryOp(op=gast.USub(), operand=self.unbroadcast(product, operand, source))
        return gast.Call(func=name(self.helper("unbroadcast")), args=[expr, name(source)],
                         keywords=[])

    def shape_source(self, var: str) -> str:
        """A name whose value has the shape of ``var`` and is computed no later: follows copies and
        elementwise operations whose other operands are scalars (``sin(x)`` has the shape of
        ``x``), so values read only for their shape need not be kept."""
        known = self.shape_sources
        path = []  # (each name on it has the same source: a chain is walked once)
        while var not in known and var not in path:
            path.append(var)
            nxt = self.same_shape_operand(var)
            if nxt is None:
                break
            var = nxt
        source = known.get(var, var)
        known.update(dict.fromkeys(path, source))
        return source

    def same_shape_operand(self, var: str):
        """The name ``shape_source`` goes on to from ``var``: the value copied, or the one array
        operand of an elementwise operation, bound once outside loops or a parameter; else
        None."""
        stmt = self.single_definition(var)
        if stmt is None:
            return None
        plan = self.plan.plans[id(stmt)]
        if plan.kind == "copy":
            nxt = stmt.value.id
        elif plan.kind == "rule" and plan.rule.elementwise:
            operands = [plan.bound[q] for q in plan.rule.signature.params if q in plan.bound]
            kinds = {o.id: self.plan.kind_of(o) for o in operands if isinstance(o, gast.Name)}
            names = {n for n, k in kinds.items() if k not in (FLOAT, SCALAR)}
            if len(names) != 1 or is_container(kinds[next(iter(names))]):
                return None  # (one array operand: the others are numbers; not a list)
            nxt = names.pop()
        else:
            return None
        if self.single_definition(nxt) is None \
                and not (nxt in self.plan.params and nxt not in self.plan.layout.binds):
            return None
        return nxt

    def single_definition(self, var):
        """The statement binding ``var`` if it is bound exactly once (outside any loop)."""
        positions = self.plan.layout.binds.get(var, ())
        if len(positions) != 1 or var in self.plan.params:
            return None
        stmt = self.definitions.get(var)
        if stmt is None or self.plan.layout.in_loop(stmt):
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
            if self.plan.kind_of(other) not in (FLOAT, SCALAR):
                return True
        return False

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
