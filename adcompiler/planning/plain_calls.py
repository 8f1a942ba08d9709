"""The check before a call of the user's code that is not differentiated (the
``PlainCallChecks`` mixin of ``RuntimeChecks``): the objects it is given hold no value a called
function left there depending on ``wrt`` (``runtime.check_objects_followed``), which the call
would read without its derivative."""
from __future__ import annotations

import gast

from .. import runtime
from ..analysis import activity
from ..ir import loads, name, target_of


class PlainCallChecks:
    """Reads the transform's ``plan``, ``ctx`` and ``loc``."""

    def plain_call_check(self, s) -> list:
        """Before a call of code of the user's that is not differentiated (none of its operands
        depends on ``wrt``): a check that no object it is given holds a value a called function
        left there depending on ``wrt`` (``LAYER(x)`` caching ``self.out``, then
        ``LAYER.penalty()`` reading it: its derivative would be lost)."""
        plan = self.plan.plans.get(id(s))
        call = getattr(s, "value", None)
        if self.ctx.generated or plan is None or plan.kind not in ("call", "dynamic") \
                or not isinstance(call, gast.Call) or target_of(s)[0] in self.plan.active \
                or target_of(s)[0] not in self.reaching_result() or not self.plan.wrt:
            return []  # (a result that reaches nothing differentiated: a hand-written backward)
        given = [a for a in [getattr(call.func, "value", None)] + list(call.args)
                 if isinstance(a, gast.Name) and (self.plan.kinds.get(a.id) is None or a.id
                                                  in self.ctx.arg_classes)]
        if not given:
            return []
        error = self.loc.error("calling %s with an object holding a value that a called function "
                               "left in its attribute .%%s, which depends on %s: the derivative "
                               "does not follow it" % (plan.callee or "this function",
                                                       ", ".join(self.plan.wrt)), s,
                               hint="return the value from the function that computes it and "
                                    "pass it on")
        refusal = self.ctx.bind("refusal", runtime.Refusal(error))
        check = gast.Call(func=name(self.ctx.helper("check_objects_followed")),
                          args=[name(refusal)] + [name(a.id) for a in given], keywords=[])
        return [gast.copy_location(gast.Expr(value=check), s)]

    def reaching_result(self) -> set:
        """The names whose values reach the function's result, through any operation."""
        if getattr(self, "_reaching", None) is None:
            layout = self.plan.layout
            names = {n for st in layout.simple for n in [*target_of(st), *loads(st)] if n}
            self._reaching = activity(layout, (), self.plan.result, loads, names)
        return self._reaching
