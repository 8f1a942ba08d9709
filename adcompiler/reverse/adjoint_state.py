"""What the backward pass knows of each adjoint while it emits code, and the accumulation that
keeps it: the ``AdjointState`` mixin of ``ReverseMode`` tracks which adjoints are ``live`` (bound
to a possibly non-zero value), ``owned`` (arrays the code may update in place), ``uniform`` (a
scalar standing for a uniform array), ``maybe_zero`` (possibly the scalar 0.0 standing for a
zero array) and ``zero_passed`` (an array's adjoint that may be a number's 0.0), adds
contributions (``accumulate``, ``unpack_adjoints``), and makes adjoints arrays or zeros where
control flow needs them (``ensure_owned``, ``materialize*``)."""
from __future__ import annotations

import gast

from .. import runtime
from ..analysis import is_container, rank
from ..ir import assign, const, located, name

# statements whose value may be a container when its kind is unknown (not arithmetic, not a rule)
_OPAQUE_RESULTS = ("call", "dynamic", "index", "attr", "user", "checkpoint", "copy", "pop",
                   "opaque", "gradcall")


class AdjointState:
    """The adjoints' state and its updates (a mixin of ``ReverseMode``, whose state it reads and
    updates: ``live``, ``owned``, ``uniform``, ``maybe_zero``, ``wants_owned``; and reads:
    ``plans``, ``kinds``, ``layout``, ``params``, ``resized``, ``ctx``)."""

    def may_be_object(self, var) -> bool:
        """Whether ``var`` may hold an object, whose adjoint is a dict of its attributes' adjoints:
        an object argument, an attribute read of unknown kind (``layer = self.inner``), an object
        made here."""
        if var in self.ctx.arg_classes:
            return True
        return self.plan.kinds.get(var) is None and any(
            self.plan.plans[id(s)].kind == "attr" or (
                isinstance(s.value, gast.Call)  # (obj = Cls(args): new_object, __init__ inlined)
                and self.ctx.resolver.resolve(s.value.func) is runtime.new_object)
            for s in self.plan.layout.bindings(var))

    def may_be_container(self, var) -> bool:
        """Whether ``var`` may hold a list, tuple, dict or object, whose adjoints add up entry by
        entry (``+`` would concatenate): known containers, and values of unknown kind that come
        from calls, reads or attributes rather than from arithmetic."""
        seen = set()

        def may(var):
            kind = self.plan.kinds.get(var)
            if is_container(kind) or var in self.ctx.containers or self.may_be_object(var):
                return True
            if kind is not None:
                return False
            if self.ctx.generated or (self.ctx.called and var in self.plan.params):
                # (gradient code differentiated again: its helpers build containers; an argument
                # of unknown kind of a called function: it may be given a dict)
                return True
            seen.add(var)
            for s in self.plan.layout.bindings(var):
                plan = self.plan.plans[id(s)]
                if plan.kind == "copy" and (plan.diff_reads[0] in seen
                                            or not may(plan.diff_reads[0])):
                    continue  # (h = x: as x is)
                if plan.kind in _OPAQUE_RESULTS:
                    return True
            return False
        return may(var)

    def accumulate(self, var: str, expr, out: list, like, uniform=None, zero=True,
                   fresh=True, passed=False):
        """``dvar = expr`` for the first contribution, then ``dvar = dvar + expr``, or in place
        (``dvar += expr``) into an array adjoint this code owns. ``uniform``: expr is a scalar
        standing for a uniform array (broadcasting makes every sum right) of the shape of the
        value this name holds in the backward pass; ``zero``: expr may be the scalar 0.0
        standing for a zero array; ``fresh``: a sum with expr is an array (not when expr may be
        a helper's 0.0 for an adjoint that is 0.0 by cancellation); ``passed``: expr may be such a
        0.0 (see ``zero_passed``)."""
        d = self.adj(var)
        if passed and (var not in self.live or var in self.zero_passed):
            self.zero_passed.add(var)
        else:
            self.zero_passed.discard(var)  # (a sum with an array is an array)
        if self.masking:
            self.masked.add(var)
        if uniform and var in self.live and var in self.maybe_zero:
            # (0.0 standing for zeros + a scalar standing for a uniform array: a scalar)
            self.uniform[var] = uniform
        still_zero = zero and (var in self.maybe_zero or var not in self.live)  # (0.0 + 0.0 is 0.0)
        if still_zero:
            self.maybe_zero.add(var)
        else:
            self.maybe_zero.discard(var)  # (0.0 + an array, or an array: an array)
        if var in self.live:
            if var in self.uniform and not uniform and zero:
                # (the contribution may be the 0.0 standing for zeros, and scalar + 0.0 a scalar
                # no longer known to stand for an array: seed 305629)
                self.materialize_uniform([var], out, like)
            elif var in self.uniform and not uniform:
                del self.uniform[var]  # scalar + full array: a full array of var's shape
                out.append(located(assign(d, _plus(d, expr)), like))
                return
            if self.may_be_container(var):
                add = gast.Call(func=name(self.helper("add")), args=[name(d), expr], keywords=[])
                out.append(located(assign(d, add), like))
                return
            if var in self.owned and rank(self.plan.kinds.get(var)):
                out.append(located(gast.AugAssign(target=name(d, True), op=gast.Add(), value=expr),
                                   like))
                return
            out.append(located(assign(d, _plus(d, expr)), like))
            if rank(self.plan.kinds.get(var)) and not still_zero and var not in self.uniform \
                    and fresh:
                self.owned.add(var)  # ``+`` on arrays made a fresh array of the adjoint's shape
            return
        out.append(located(assign(d, expr), like))
        self.live.add(var)
        self.owned.discard(var)
        if uniform:
            self.uniform[var] = uniform
        else:
            self.uniform.pop(var, None)

    def kill(self, var):
        """``var`` is bound here: before it (in the backward pass, after) its adjoint is another
        value's, which starts from nothing (no scalar standing for a uniform array of it)."""
        self.live.discard(var)
        self.owned.discard(var)
        self.zero_passed.discard(var)
        self.uniform.pop(var, None)

    def materialize_uniform(self, vars_, out, like=None):
        """Turn scalar stand-ins for uniform adjoints into arrays of their variables' shapes (read
        from the names noted when they became uniform: the variable itself may be bound to
        another value by then, seed 345720)."""
        for v in sorted(set(vars_) & set(self.uniform)):
            call = gast.Call(func=name(self.helper("expand_like")),
                             args=[name(self.adj(v)), name(self.uniform.pop(v))], keywords=[])
            out.append(located(assign(self.adj(v), call), like))

    def ensure_owned(self, var: str, shape_name: str, out: list, like):
        self.materialize_uniform([var], out, like)  # (a scalar standing for a uniform array first)
        if var in self.owned and var not in self.zero_passed:
            return
        self.wants_owned.add(var)
        d = self.adj(var)
        src = name(d) if var in self.live else const(0.0)
        # (in code computing with complex values, a complex buffer: see runtime.own)
        wide = [const(True)] if self.ctx.complex_mode else []
        own = gast.Call(func=name(self.helper("own")), args=[src, name(shape_name)] + wide,
                        keywords=[])
        out.append(located(assign(d, own), like))
        self.live.add(var)
        self.owned.add(var)
        self.maybe_zero.discard(var)
        self.zero_passed.discard(var)

    def materialize(self, vars_, out, like):
        """``dv = 0.0`` for each of ``vars_``, whose adjoints are live from here."""
        self.materialize_into(vars_, out, like)
        self.live |= set(vars_)
        self.owned -= set(vars_)

    def materialize_into(self, vars_, stmts, like):
        """``dv = 0.0`` for each of ``vars_``, at the end of ``stmts`` (a branch or loop body
        that must end in the state of another)."""
        self.maybe_zero |= set(vars_)
        for v in sorted(vars_):
            stmts.append(located(assign(self.adj(v), const(0.0)), like))

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
                # (a callee returns 0.0 for an argument no gradient reached)
                self.maybe_zero.add(var)
            else:
                part = self.ctx.namer.fresh(self.adj(var) + "_")
                targets.append(name(part, True))
                pending.append((var, part))
            seen.add(var)
        out.append(located(assign(gast.Tuple(elts=targets, ctx=gast.Store()), call), like))
        for var, part in pending:
            self.accumulate(var, name(part), out, like)

    def never_rebound(self, var) -> bool:
        """Whether ``var`` is bound once in the function (a parameter never rebound), outside any
        loop: the backward pass may then read its value anywhere. (A loop's target, or a name
        bound once in a loop body, holds another iteration's value until the backward pass
        restores it: seed 273735.)"""
        binds = self.plan.layout.binds.get(var, ())
        return len(binds) + (var in self.plan.params) == 1 and not any(
            first <= p <= last for p in binds for first, last in self.plan.layout.span.values())

    def kept_after(self, var, loop) -> bool:
        """Whether ``var`` keeps, from the end of ``loop`` until the function returns, the value the
        loop left in it (so the backward pass reads that value where the loop's reversal starts)."""
        lay = self.plan.layout
        first, last = lay.span[id(loop)]
        outer = lay.loops[id(loop)]
        lo, hi = lay.span[id(outer[0])] if outer else (first, last)
        changes = list(lay.binds.get(var, ()))
        if var in self.resized:
            # (a list appended to or popped later is not as long as it was here)
            changes += lay.mutates.get(var, ())
        return not any(p > last or (lo <= p < first) for p in changes)


def _plus(d: str, expr):
    """``d + expr``."""
    return gast.BinOp(left=name(d), op=gast.Add(), right=expr)
