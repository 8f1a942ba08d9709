"""Refusals that follow from activity: a value depending on ``wrt`` given to a rule
parameter without a derivative, to a call that may change it in place or to an object computing
items from an index (``check_ignored_operands``). Activity itself is ``analysis.activity``."""
from __future__ import annotations

import inspect
import types

import gast

from .. import effects
from ..analysis import activity, is_container
from ..ir import copy_tree, loads, target_of, walk
from .identities import FollowByIdentity


def check_ignored_operands(layout, plan_of, wrt, result, varied, loc, generated=False,
                           kinds=None, top=None, inlined_retry=None) -> dict:
    """A value that depends on ``wrt`` passed to a rule parameter without a derivative (the
    bounds of ``np.clip`` once had none) would silently get no gradient, and so would one a
    call changes in place (``y.partition(k)``), or an index that depends on
    it given to an object that computes its items from it (``np.s_[x]``): errors instead. Returns
    the subscripts whose base is checked at run time instead (``subscript_check``); ``plan_of``
    maps id(statement) to its plan. In generated code (``generated``: a gradient differentiated
    again), where what was saved for the backward pass has no known kind, an operand reaching
    a parameter without a derivative is checked at run time instead: an integer (the order of
    ``jv(n, x)``) has no derivative to lose, a float is refused there; so is one whose kind is
    not known here (``self.pad`` of an object, a tuple's entries; ``kinds``: name -> kind), and
    one of a statement not in ``top`` (the ids of the body's own statements: one of a branch or
    a loop is refused when it runs, never in a branch not taken). The result maps
    id(statement) to "index" or to (operand names, error) for those run-time checks.
    ``inlined_retry(s)``: whether the call for its effect of ``s`` is a ``FollowByIdentity``
    error (a function of the user's: the code generated again then inlines it)."""
    plans = [(s, p) for s in layout.simple for p in [plan_of[id(s)]] if p.ignored]
    index_checks = {}  # statements checked at run time instead (see runtime_checks)
    if not plans:
        return index_checks
    for s, plan in plans:
        if plan.kind == "effect" and any(n in varied for n in plan.ignored[""]):
            error = loc.error(plan.why or "the call %s(...) discards its result, so it may "
                              "change a value in place, which is not differentiated"
                              % plan.callee, s,
                              hint=plan.hint or "use the function's result instead (y = "
                                                "np.sort(y), out = out + ..., a function that "
                                                "returns the new value)")
            raise FollowByIdentity.of(error) \
                if inlined_retry is not None and plan.why is None and inlined_retry(s) else error
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
                if not generated and any(k is not None and not is_container(k) for k in known) \
                        and (top is None or id(s) in top):
                    # (a container's entries, an attribute, a statement of a branch or a loop,
                    # which may not run: checked where it runs)
                    raise error
                operands = index_checks.setdefault(id(s), ([], error))[0]
                operands.extend(n for n in names if n in reaching and n not in operands)
    return index_checks


def check_unused_calls(fdef, layout, plan_of, wrt, result, varied, loc, guards, generated=False,
                       known_class=None):
    """A call given values that depend on ``wrt`` whose result reaches nothing differentiated
    (``x = cb(a)``, ``x`` never used) is not differentiated: whatever it changes (a dict its
    closure holds, a module-level cache) would be seen afterwards without its derivative. An
    error for a function of the user's that writes into something not its own
    (``effects.writes_outside``); for a callable known only at run time, checked where it runs
    (``runtime.changes_nothing``, one of ``guards``)."""
    candidates = [s for s in layout.simple if plan_of[id(s)].kind in ("dynamic", "call")
                  and target_of(s)[0] is not None
                  and any(n in varied for n in plan_of[id(s)].diff_reads)]
    if generated or not candidates:
        return  # (the common case: no walk, no fixpoint below)
    # (what reaches the result at all, for its value or only its shape: np.shape(lift(t))), or
    # a branch's or loop's test (if f(cand) < f0: a line search)
    tests = {n for st in fdef.body for node in walk(st)
             if isinstance(node, (gast.If, gast.While)) for n in loads(node.test)}
    reaching = set().union(*(activity(layout, wrt, r, loads) for r in tests | {result}))
    for s in candidates:
        plan = plan_of[id(s)]
        if target_of(s)[0] in reaching \
                or (plan.kind == "call" and not effects.writes_outside(plan.fn)) \
                or changes_nothing(s.value, known_class):
            continue
        error = loc.error("the call %s(...) may change values that are read afterwards, and "
                          "its result is not used, so it is not differentiated" % plan.callee, s,
                          hint="use the call's result, or return what it changes and store it "
                               "where it is called")
        if plan.kind != "dynamic" or id(s) in guards:
            raise error
        guards[id(s)] = ("changes_nothing", [copy_tree(s.value.func)], error)


def changes_nothing(call, known_class) -> bool:
    """Whether ``call`` is ``obj.method(...)`` of an object of a class known here whose method
    writes into nothing (not its arguments, ``self`` included, nor anything outside)."""
    func = call.func
    if known_class is None or not (isinstance(func, gast.Attribute)
                                   and isinstance(func.value, gast.Name)):
        return False
    cls = known_class(func.value)
    fn = inspect.getattr_static(cls, func.attr, None) if isinstance(cls, type) else None
    return isinstance(fn, types.FunctionType) \
        and not effects.written_parameters(fn, nested=True) and not effects.writes_outside(fn)
