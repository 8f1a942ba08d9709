"""Refusals that follow from activity: a value depending on ``wrt`` given to a rule
parameter without a derivative, to a call that may change it in place or to an object computing
items from an index (``check_ignored_operands``), or combined with a complex number
(``check_complex_values``). Activity itself is ``analysis.activity``."""
from __future__ import annotations

import gast
import numpy as np

from .. import rules
from ..analysis import activity, is_container
from ..errors import COMPLEX_HINT, COMPLEX_UNSUPPORTED
from ..ir import target_of, walk
from ..resolve import MISSING


def check_ignored_operands(layout, plan_of, wrt, result, varied, loc, generated=False,
                           kinds=None) -> dict:
    """A value that depends on ``wrt`` passed to a rule parameter without a derivative (the
    bounds of ``np.clip`` once had none) would silently get no gradient, and so would one a
    call changes in place (``y.sort()``, ``np.add.at(out, i, x)``), or an index that depends on
    it given to an object that computes its items from it (``np.s_[x]``): errors instead. Returns
    the subscripts whose base is checked at run time instead (``subscript_check``); ``plan_of``
    maps id(statement) to its plan. In generated code (``generated``: a gradient differentiated
    again), where what was saved for the backward pass has no known kind, an operand reaching
    a parameter without a derivative is checked at run time instead: an integer (the order of
    ``jv(n, x)``) has no derivative to lose, a float is refused there; so is one whose kind is
    not known here (``self.pad`` of an object, a tuple's entries; ``kinds``: name -> kind). The
    result maps
    id(statement) to "index" or to (operand names, error) for those run-time checks."""
    plans = [(s, p) for s in layout.simple for p in [plan_of[id(s)]] if p.ignored]
    index_checks = {}  # statements checked at run time instead (see runtime_checks)
    if not plans:
        return index_checks
    for s, plan in plans:
        if plan.kind == "effect" and any(n in varied for n in plan.ignored[""]):
            raise loc.error(plan.why or "the call %s(...) discards its result, so it may change "
                            "a value in place, which is not differentiated" % plan.callee, s,
                            hint=plan.hint or "use the function's result instead (y = np.sort(y), "
                                              "out = out + ..., a function that returns the new "
                                              "value)")
    def all_reads(s):
        plan = plan_of[id(s)]
        return plan.diff_reads + [n for names in plan.ignored.values() for n in names]
    reaching = activity(layout, wrt, result, all_reads)
    for s, plan in plans:
        if plan.kind == "effect":
            continue
        for param, names in plan.ignored.items():
            if any(n in reaching for n in names) \
                    and (target_of(s)[0] or target_of(s)[1]) in reaching:
                if plan.kind == "index":  # (decided at run time, on the index's values)
                    index_checks[id(s)] = "index"
                    continue
                error = loc.error("%s has no derivative w.r.t. its argument %r, which depends on "
                                  "%s" % (plan.callee, param, ", ".join(wrt)), s,
                                  hint="wrap that argument in ad.stop_gradient(...) if no gradient "
                                       "should flow through it, or register a rule with "
                                       "ad.defvjp")
                known = [(kinds or {}).get(n) for n in names if n in reaching]
                if not generated and any(k is not None and not is_container(k) for k in known):
                    raise error  # (a container's entries, an attribute: checked where it runs)
                operands = index_checks.setdefault(id(s), ([], error))[0]
                operands.extend(n for n in names if n in reaching and n not in operands)
    return index_checks


def check_complex_values(layout, active, wrt, ctx):
    """Complex numbers inside differentiated code are not supported yet: a statement that
    combines a complex number (``1j``, a module-level complex constant or array, or a value
    computed from one) with a value that depends on ``wrt`` is an error, never a silently
    wrong gradient. (``complex(...)`` and casts to complex dtypes are refused by their rules;
    the rules of abs, real, imag, conj and angle check their operand at run time.)"""
    if ctx.generated:
        return
    complex_names = set()

    def complex_atom(node):
        if isinstance(node, gast.Constant):
            return isinstance(node.value, complex)
        if not isinstance(node, gast.Name) or not isinstance(node.ctx, gast.Load):
            return False
        if node.id in complex_names:
            return True
        value = ctx.resolver.resolve(node)
        return isinstance(value, (complex, np.complexfloating)) or (
            isinstance(value, np.ndarray) and value.dtype.kind == "c")

    def reads_complex(s):
        return isinstance(s, gast.Assign) and any(complex_atom(n) for n in walk(s.value))

    grew = True
    # values computed from complex numbers are complex, unless made real (np.abs, .real)
    while grew:
        grew = False
        for s in layout.simple:
            bound = target_of(s)[0]
            if bound and bound not in complex_names and reads_complex(s) \
                    and not makes_real(s, ctx.resolver):
                complex_names.add(bound)
                grew = True
    for s in layout.simple:
        if target_of(s)[0] in active and reads_complex(s):
            raise ctx.loc.error("a complex number is combined with a value that depends on %s: %s"
                                % (", ".join(wrt), COMPLEX_UNSUPPORTED), s,
                                hint=COMPLEX_HINT)


def makes_real(s, resolver) -> bool:
    """Whether statement ``s`` computes a real value from any operand: a comparison, abs, the
    real or imaginary part, an angle, or a function without a derivative."""
    value = s.value
    if isinstance(value, gast.Compare):
        return True
    if isinstance(value, gast.Attribute):
        return value.attr in ("real", "imag")
    if isinstance(value, gast.Call):
        obj = resolver.resolve(value.func)
        if any(obj is f for f in (np.abs, abs, np.real, np.imag, np.angle)):
            return True
        rule = rules.lookup(obj) if obj is not MISSING else None
        return rule is not None and rule.nondiff
    return False
