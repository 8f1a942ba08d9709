"""The ``Planner``: the plans of one normalised function and the analyses both modes need,
computed when it is made, in this order: kinds, views and in-place checks, plans, activity and
the refusals that follow from it. The base of ``ReverseMode`` and ``ForwardMode``, which also
keep here the state they track while they emit code (``live``, ``owned``)."""
from __future__ import annotations

import gast

from ..analysis import BOTTOM, Layout, activity, scalar_kinds
from ..errors import AdError
from ..ir import list_method, target_of
from ..parse import traced_library_function
from . import kinds as kinds_
from .activity import check_complex_values, check_ignored_operands
from .aliasing import Aliasing, mark_in_place_helpers
from .calls import StatementPlanner
from .objects import ObjectStores, varied_with_attributes
from .runtime_checks import RuntimeChecks
from .webs import split_webs


class Planner(RuntimeChecks):
    """Plans of one normalised function, and its activity and scalar kinds w.r.t. ``wrt``.

    Also the state both transforms track while they emit code: ``live`` (derivative variables
    bound to a possibly non-zero value) and ``owned`` (arrays the code may update in place)."""

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

    def __init__(self, fdef, wrt, arg_kinds, ctx):
        self.ctx = ctx
        self.loc = ctx.loc
        self.fdef = fdef
        self.wrt = list(wrt)
        ret = fdef.body[-1]
        self.body = fdef.body[:-1]
        self.ret_node = ret
        self.result = ret.value.id if isinstance(ret.value, gast.Name) else None
        mark_in_place_helpers(self.body, ctx.resolver)
        self.params = {a.id for a in fdef.args.posonlyargs + fdef.args.args + fdef.args.kwonlyargs}
        self.sites: dict = {}  # id(statement) -> the name bound to its call site (see site)
        self.split_webs(arg_kinds)
        while self.analyse_memory(arg_kinds):
            # writes into shared arrays were followed by syncs: the function has new statements
            # (whose reads may make more writes need syncs: until none is added)
            self.body = fdef.body[:-1]
        statements = StatementPlanner(fdef, self.layout, self.kinds, self.params, self.wrt,
                                      self.aliasing, ctx)
        self.plans = {id(s): statements.plan(s) for s in self.layout.simple}
        diff_reads = lambda s: self.plans[id(s)].diff_reads  # noqa: E731
        self.varied = varied_with_attributes(self.layout, self.plans, self.wrt, diff_reads)
        objects = ObjectStores(fdef, self.layout, self.kinds, self.params, self.wrt, self.varied,
                               self.plans, self.aliasing, ctx)
        objects.check_written_arguments()
        self.unfollowed = objects.check_attribute_stores()
        self.active = activity(self.layout, self.wrt, self.result, diff_reads, self.varied)
        self.index_checks = check_ignored_operands(self.layout, self.plans, self.wrt, self.result,
                                                   self.varied, self.loc,
                                                   ctx.generated or _rule_helper(ctx))
        if hasattr(self, "tangent_of") and any(isinstance(c, tuple)
                                               for c in self.index_checks.values()):
            # forward mode checks the tangents of operands checked at run time: they need one
            self.active = activity(self.layout, self.wrt, self.result, lambda s: self.plans[
                id(s)].diff_reads + [n for ns in self.plans[id(s)].ignored.values() for n in ns],
                self.varied)
        check_complex_values(self.layout, self.active, self.wrt, ctx)

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

    def split_webs(self, arg_kinds):
        """Names of no single kind, rebound to values of different kinds, become one name per
        web (see ``webs``), so each has the kind of its own values. Only with argument kinds (the
        code a call runs), and not in gradient code (whose names are the compiler's own)."""
        if self.ctx.generated or not any(k is not None for k in arg_kinds.values()):
            return
        layout = Layout.of(self.body)
        self._saved = None
        kinds = scalar_kinds(layout, arg_kinds, lambda s, k: kinds_.kind_of_value(
            s, k, self.ctx.resolver, layout))
        candidates = {n for n, k in kinds.items() if k is None and len(layout.binds.get(n, ())) > 1}
        renamed = split_webs(self.body, self.ret_node, candidates, self.params, self.ctx) \
            if candidates else {}
        if renamed:
            self.result = self.ret_node.value.id if isinstance(self.ret_node.value, gast.Name) \
                else None
            self.loc = self.ctx.loc = self.ctx.loc.renaming(renamed)

    def analyse_memory(self, arg_kinds) -> bool:
        """Layout, kinds, views and the checks of in-place writes; True if syncs were inserted
        after writes into shared arrays (see ``syncs``), after which this must run again."""
        self.layout = Layout.of(self.body)
        self._saved = None  # (tape, name) of every tape.append(name), found on first use
        self.kinds = scalar_kinds(self.layout, arg_kinds, self.kind_of_value)
        kinds_.drop_dtype_keeping(self.layout, self.kinds, self.ctx.resolver)
        self.aliasing = Aliasing(self.fdef, self.layout, self.kinds, self.params, self.result,
                                 self.ctx)
        self.aliasing.find_views()
        self.aliasing.reached = self.aliasing.reached_by(self.wrt)
        if self.aliasing.guard_overlapping_stores():
            return True
        self.aliasing.sync_stores()
        self.aliasing.check_in_place_updates(arg_kinds)
        if self.aliasing.syncs.insert():
            return True
        self.aliasing.syncs.closed = True
        self.aliasing.check_element_updates()
        self.aliasing.record_shared_writes()
        return False

    def kind_of_value(self, s, kinds):
        """The kind of the value statement ``s`` computes (``kinds.kind_of_value``). In gradient
        code, ``v = tape.pop()`` restores a value ``tape.append(v)`` saved: nothing new."""
        if self.ctx.generated and self._restores(s):
            return BOTTOM
        return kinds_.kind_of_value(s, kinds, self.ctx.resolver, self.layout)

    def _restores(self, s) -> bool:
        method = list_method(s)
        if not method or method[1] != "pop" or not isinstance(s, gast.Assign):
            return False
        if self._saved is None:
            self._saved = {(m[0], m[2].args[0].id) for m in map(list_method, self.layout.simple)
                           if m and m[1] == "append" and isinstance(m[2].args[0], gast.Name)}
        return (method[0], target_of(s)[0]) in self._saved

    def callee_kinds(self, plan) -> tuple:
        """Kinds of a user function's positional arguments at a call (``kinds.callee_kinds``)."""
        return kinds_.callee_kinds(plan, self.kinds, self.ctx.arg_classes, self.layout)

    def kind_of(self, node):
        """The kind of an operand (``kinds.kind_of``)."""
        return kinds_.kind_of(node, self.kinds)


def _rule_helper(ctx) -> bool:
    """Whether the function is one of adcompiler's rule helpers, traced when generated code that
    calls it is differentiated again (its arguments' kinds are not known: see
    ``check_ignored_operands``)."""
    return (getattr(ctx.parsed.fn, "__module__", None) or "").startswith("adcompiler.rules.helpers")
