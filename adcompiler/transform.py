"""``Transform``: what the reverse and forward transforms share. They read the ``FunctionPlan``
that planning made (``plan``) and the checks generated code runs (``RuntimeChecks``); here are the
state both track while they emit code (``live``: derivative variables bound to a possibly non-zero
value; ``owned``: arrays the code may update in place), its fixpoint over a loop, and errors from
the code of a called function."""
from __future__ import annotations

import gast

from .errors import AdError
from .parse import traced_library_function
from .planning import FunctionPlan, RuntimeChecks


class Transform(RuntimeChecks):
    """The base of ``ReverseMode`` and ``ForwardMode``: the plan of one function, the compile
    context ``ctx``, and the emission state."""

    def __init__(self, plan: FunctionPlan, ctx):
        self.plan = plan
        self.ctx = ctx
        self.loc = ctx.loc
        self.sites: dict = {}  # id(statement) -> the name bound to its call site (see site)
        self.live: set = set()
        self.owned: set = set()
        self.wants_owned: set = set()  # derivatives a loop body made owned (hoisted out of it)

    def loop_fixpoint(self, generate):
        """Generate a loop body until the state at its head is the same on entry and on the back
        edge: derivatives live at the end are live (as 0.0) at the head; arrays the body updates
        in place and still owns at its end are owned before the loop (one copy, not one per
        iteration). Returns (body, head state, end state, entry state), each state (live, owned)."""
        entry = (set(self.live), set(self.owned))
        outer_wants = self.wants_owned
        head_live, head_owned = set(entry[0]), set(entry[1])
        # (live only grows; an adjoint the end of the body did not own once is never owned at the
        # head again: ownership could otherwise alternate between passes, seed 845131)
        dropped = set()
        while True:
            self.live, self.owned = set(head_live), set(head_owned)
            self.wants_owned = set()
            body = generate()
            end_live, end_owned = self.live, self.owned
            new_owned = ((head_owned | self.wants_owned) & end_owned) - dropped
            dropped |= head_owned - new_owned
            new_live = head_live | end_live | new_owned
            if new_live == head_live and new_owned == head_owned:
                break
            head_live, head_owned = new_live, new_owned
        self.wants_owned = outer_wants
        return body, (head_live, head_owned), (end_live, end_owned), entry

    def callee_code(self, s, plan, make):
        """``make()``: the generated code of the function called at ``s``. When that is a
        library's function differentiated through its source (``traced_library_function``), an
        AdError from inside it is one located at ``s`` that names the function and, from the
        innermost library code, what stopped it."""
        try:
            return make()
        except AdError as e:
            fn = plan.fn
            if not traced_library_function(fn):
                raise
            reason = getattr(e, "library_reason", None) or "%s (in %s, %s, line %s)" % (
                e.message, e.function, e.filename, e.lineno)
            call = getattr(s, "value", None)
            callee = gast.unparse(call.func).strip() if isinstance(call, gast.Call) \
                else plan.callee
            error = self.loc.error(
                "cannot differentiate %s (%s.%s) through its source: %s"
                % (callee, fn.__module__, fn.__qualname__, reason), s,
                hint="register a rule for it with ad.defvjp(fn, rule) (and ad.defjvp), or compute "
                     "the value with NumPy code in your function")
            error.library_reason = reason
            raise error from None
