"""What generated code gets from the plans besides derivatives: checks it runs before a
statement (an array method's receiver, an index given to an object, a followed attribute), where
a call is for errors raised at run time (``site``), dtype gates, the callable of a dynamic call,
the guards that a called user function is still the one the code was generated for, and the
statements that keep a value a called function leaves in an object from being read silently
(``fresh_start``, ``registrations``, ``followed_check``)."""
from __future__ import annotations

import re
import types

import gast

from .. import rules, runtime
from ..analysis import is_container
from ..ir import copy_tree, loads, name, target_of
from .entries import own_lists
from .identities import store_check
from .plain_calls import PlainCallChecks
from .plan import method_text

_ARRAY_ATTRIBUTES = frozenset(("shape", "ndim", "size", "dtype", "T", "real", "imag", "mT", "flat",
                               "itemsize", "nbytes", "strides"))


class RuntimeChecks(PlainCallChecks):
    """The statements and expressions for generated code that plans ask for (a mixin of the
    transforms, whose ``plan``, ``sites``, ``ctx`` and ``loc`` it reads)."""

    def checks(self, s) -> list:
        """Run-time checks generated code makes before statement ``s`` (see ``method_plan``,
        ``followed_check``, and ``Aliasing.check_element_updates`` for ``check_array``)."""
        guard = self.plan.aliasing.array_guards.get(id(s))
        if guard is not None:  # (see Aliasing.check_element_updates)
            check, args, error = guard
            refusal = self.ctx.bind("refusal", runtime.Refusal(error))
            call = gast.Call(func=name(self.ctx.helper(check)), args=args + [name(refusal)],
                             keywords=[])
            return [gast.copy_location(gast.Expr(value=call), s)] + self.checks_of_plan(s)
        kind_check = self.ctx.kind_checks.get(id(s))
        if kind_check is not None:
            check, args = kind_check
            error = self.loc.error("%s.%s is differentiated as a dict (its class stores only dicts "
                                   "there), but it is a %%s here" % (args[0].id, args[1].value), s,
                                   hint="store a dict there, or pass the value as an argument")
            refusal = self.ctx.bind("refusal", runtime.Refusal(error))
            call = gast.Call(func=name(self.ctx.helper(check)),
                             args=[copy_tree(a) for a in args] + [name(refusal)], keywords=[])
            return [gast.copy_location(gast.Expr(value=call), s)] + self.checks_of_plan(s)
        return self.checks_of_plan(s) + self.plain_call_check(s) + store_check(self, s)

    def checks_of_plan(self, s) -> list:
        """The checks of ``checks`` that the statement's plan asks for."""
        plan = self.plan.plans.get(id(s))
        deferred = self.plan.index_checks.get(id(s))
        if isinstance(deferred, tuple):  # (see check_ignored_operands)
            operands, error = deferred
            refusal = self.ctx.bind("refusal", runtime.Refusal(error))
            tangent_of = getattr(self, "tangent_of", None)
            if tangent_of is not None:  # forward mode: refused where a tangent is not zero
                tangents = [t for t in (tangent_of(name(n)) for n in operands) if t is not None]
                if not tangents:
                    return []
                helper, values = "refused_if_moving", tangents
            else:  # (reverse mode: where a value is a float)
                helper, values = "refused_if_inexact", [name(n) for n in operands]
            call = gast.Call(func=name(self.ctx.helper(helper)),
                             args=[gast.Tuple(elts=values, ctx=gast.Load()), name(refusal)],
                             keywords=[])
            return [gast.copy_location(gast.Expr(value=call), s)]
        if plan is not None and (plan.kind == "attr" or plan.watch):
            return self.followed_check(s)
        if plan is None or plan.receiver is None or not getattr(s, "ad_check_receiver", any(
                n in self.plan.varied for n in loads(s.value))):
            return []
        method = plan.callee.rsplit(".", 1)[-1]
        error = self.loc.error("%s.%s is differentiated as the array method .%s, but %r is %%s "
                               "here, not an array or a number" % (plan.receiver, method, method,
                                                                   plan.receiver), s,
                               hint="call the function itself (np.%s(...)), or differentiate a "
                                    "function of arrays" % method)
        refusal = self.ctx.bind("refusal", runtime.Refusal(error))
        call = gast.Call(func=gast.Name(id=self.ctx.helper("check_receiver"), ctx=gast.Load(),
                                        annotation=None, type_comment=None),
                         args=[gast.Name(id=plan.receiver, ctx=gast.Load(), annotation=None,
                                         type_comment=None),
                               gast.Name(id=refusal, ctx=gast.Load(), annotation=None,
                                         type_comment=None)],
                         keywords=[])
        return [gast.copy_location(gast.Expr(value=call), s)]

    def refusal(self, s, plan, hint):
        """The refusal of the opaque call of ``s`` reached with a value that depends on ``wrt``:
        an AdError now when ``s`` runs on every call (a statement of the function's body, not
        of a branch or a loop), else the statement raising it when generated code reaches it."""
        error = self.loc.error("cannot differentiate %s: %s" % (plan.callee, plan.why), s,
                               hint=plan.hint or hint)
        if any(s is top for top in self.plan.body):
            raise error
        refusal = self.ctx.bind("refusal", runtime.Refusal(error))
        call = gast.Call(func=name(self.ctx.helper("refused")), args=[name(refusal)], keywords=[])
        return gast.copy_location(gast.Expr(value=call), s)

    def subscript_check(self, s):
        """For ``t = base[index]`` with an index that depends on ``wrt`` and a base that may compute
        its items from it, a statement raising an AdError there if the index carries float values
        and ``base`` is not an array, list, tuple or dict (``runtime.subscript_check``; an int or
        string index is not differentiable, so it is fine); else None."""
        if self.plan.index_checks.get(id(s)) != "index":
            return None
        index = gast.Tuple(elts=[name(n) for n in loads(s.value.slice)], ctx=gast.Load())
        site = self.site(s, self.plan.plans[id(s)])
        check = gast.Call(func=name(self.ctx.helper("subscript_check")),
                          args=[s.value.value, index, site], keywords=[])
        return gast.copy_location(gast.Expr(value=check), s)

    def mapping_of(self, s, plan, templates) -> dict:
        """What the names of a rule's ``templates`` stand for at statement ``s``: its parameters'
        operands, and ``site`` if a template reads it. A list or tuple given for an array operand
        of an entry whose operands are arrays (``Rule.arrays``), or for any operand of an
        elementwise entry, is read as the array NumPy makes of it (``np.asarray(y)``: the
        templates' arithmetic and comparisons are NumPy's, not a list's)."""
        mapping = dict(plan.bound)
        rule = plan.rule
        arrays = rule.diff if rule is not None and (rule.arrays or rule.elementwise
                                                    or rule.reduction or rule.product) else ()
        if rule is not None and rule.elementwise:  # (a list of counts: logpmf([1, 2], mu))
            arrays = list(arrays) + list(rule.zero)
        for p in arrays:  # (operands of other entries may be sequences: np.concatenate's)
            operand = mapping.get(p)
            if isinstance(operand, gast.Name) and is_container(self.plan.kinds.get(operand.id)):
                mapping[p] = gast.Call(func=gast.Attribute(value=name(self.ctx.helper("np")),
                                                           attr="asarray", ctx=gast.Load()),
                                       args=[operand], keywords=[])
        if any(t is not None and "site" in rules.template_names(t) for t in templates):
            mapping["site"] = self.site(s, plan)
        return mapping

    def site(self, s, plan):
        """A name bound in generated code to where the call of statement ``s`` is (callee,
        function, file, line, column), for errors a helper raises at run time."""
        sites = self.sites
        if id(s) not in sites:
            lineno = (getattr(s, "lineno", 0) or 0) + self.loc.line_offset
            col = getattr(s, "col_offset", None)
            where = (plan.callee, self.loc.function, self.loc.filename, lineno,
                     None if col is None else col + self.loc.col_offset)
            label = re.sub(r"\W+", "_", plan.callee).strip("_")
            sites[id(s)] = self.ctx.bind("%s_line_%d" % (label, lineno), where)
        return name(sites[id(s)])

    def gated(self, s, plan, value):
        """``value`` (an adjoint or a tangent) through ``dtype_gate`` when the call casts to a dtype
        known only at run time."""
        if plan.gate is None:
            return value
        return gast.Call(func=name(self.ctx.helper("dtype_gate")),
                         args=[value, plan.gate, self.site(s, plan)], keywords=[])

    def dynamic_callee(self, plan, call):
        """The callable generated code hands to ``call_forward`` / ``call_jvp``: the call's own, or
        ``unpacked(f, layout)`` when arguments are unpacked into it or passed by keyword."""
        if plan.layout is None:
            return plan.bound["fn"]
        layout = gast.Tuple(elts=[gast.Constant(value=how, kind=None) for how in plan.layout],
                            ctx=gast.Load())
        return gast.Call(func=gast.Name(id=self.ctx.helper("unpacked"), ctx=gast.Load(),
                                        annotation=None, type_comment=None),
                         args=[plan.bound["fn"], layout], keywords=[])

    def callee_guards(self, namer_ctx) -> list:
        """Statements that check, on entry, that each user function this code was generated for
        is still the one its name denotes (a re-run notebook cell rebinds it): otherwise the
        generated code asks to be generated again."""
        out, seen, parsed, a = [], set(), self.ctx.resolver.parsed, self.plan.fdef.args
        # (a name the user may bind again, or an argument: m.f of Model.f = other)
        outer = set(parsed.globals) | set(parsed.cells) | {
            p.id for p in a.posonlyargs + a.args + a.kwonlyargs}
        inlined = [(name(n), obj) for n, obj in getattr(self.ctx, "inlined_globals", {}).items()
                   if n not in self.ctx.resolver.locals]  # (inlined: no call to guard)
        for func, obj in [p.guard for p in self.plan.plans.values() if p.guard] + inlined:
            text = gast.unparse(func).strip()
            root = func
            while isinstance(root, gast.Attribute):
                root = root.value
            if text in seen or (isinstance(root, gast.Name) and root.id not in outer):
                # (a name generated code binds itself, not one the user may bind again)
                continue
            seen.add(text)
            label = text.replace(".__func__", "").replace(".", "_")
            original = namer_ctx.bind(label + "_at_compile", obj)
            changed = gast.Call(func=gast.Name(id=namer_ctx.helper("callee_redefined"),
                                               ctx=gast.Load(), annotation=None, type_comment=None),
                                args=[gast.Constant(value=text, kind=None)], keywords=[])
            # a bound method is made anew at each access: compare instance and function (==)
            op = gast.NotEq() if isinstance(obj, types.MethodType) else gast.IsNot()
            test = gast.Compare(left=func, ops=[op],
                                comparators=[gast.Name(id=original, ctx=gast.Load(),
                                                       annotation=None, type_comment=None)])
            out.append(gast.If(test=test, body=[gast.Expr(value=changed)], orelse=[]))
        return out

    def fresh_start(self) -> list:
        """The statement a gradient computation (not a called function's) starts with, when the
        function reads or stores attributes or calls functions that may (see ``unfollowed``)."""
        kinds = ("call", "dynamic", "attr", "setattr", "checkpoint", "effect")
        plans = self.plan.plans.values()
        if self.ctx.generated or not any(p.kind in kinds or p.watch for p in plans):
            return []
        call = gast.Call(func=name(self.ctx.helper("fresh_computation")), args=[], keywords=[])
        return [gast.copy_location(gast.Expr(value=call), self.plan.ret_node)]

    def distinct_arguments(self) -> list:
        """The check a gradient computation starts with when the function writes into one of its
        arguments (never rebound to another object) and has others: none of them may be that one
        or share its memory (``runtime.check_distinct``)."""
        a = self.plan.fdef.args
        params = [p.id for p in a.posonlyargs + a.args + a.kwonlyargs]
        layout = self.plan.layout
        mutated = {target_of(s)[1] for s in layout.simple}
        written = [i for i, p in enumerate(params) if p in mutated and p not in layout.binds]
        # (p.W = v only: no object p holds changes, only what p itself holds; not a list or
        # array read from p.W and changed, t = p.W; t[k] = v; p.W = t)
        read_from = {p: {target_of(s)[0] for s in layout.simple if isinstance(s, gast.Assign)
                         and isinstance(s.value, gast.Attribute)
                         and isinstance(s.value.value, gast.Name) and s.value.value.id == p}
                     for p in params}
        rebound = [i for i in written if all(
            isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Attribute)
            for s in layout.simple if target_of(s)[1] == params[i])
            and not read_from[params[i]] & set(layout.mutates)]
        if self.ctx.generated:
            return []
        out = self.distinct_entries()
        if not written or len(params) < 2:
            return out
        error = self.loc.error("the function writes into one of the arguments %s, which are the "
                               "same object or share memory: the derivative does not follow a "
                               "write seen through another argument", self.plan.ret_node,
                               hint="pass separate objects (a copy)")
        call = gast.Call(func=name(self.ctx.helper("check_distinct")), args=[
            gast.Constant(value=tuple(written), kind=None),
            gast.Constant(value=tuple(rebound), kind=None),
            gast.Constant(value=tuple(params), kind=None),
            name(self.ctx.bind("refusal", runtime.Refusal(error)))] + [name(p) for p in params],
            keywords=[])
        return [gast.copy_location(gast.Expr(value=call), self.plan.ret_node)] + out

    def distinct_entries(self) -> list:
        """The checks that the list and dict arguments whose entries get attributes stored into
        them (``planning/entries.py``) hold each object once, and arrays of their own where
        they are changed in place (``runtime.check_entries_distinct``); a list made here of
        objects made here holds distinct objects, whose arrays are not changed in place."""
        if self.ctx.generated:
            return []
        holders = sorted({s.targets[0].value.id for s in self.plan.layout.simple
                          if getattr(s, "ad_restores", None)})
        a = self.plan.fdef.args
        params = [p.id for p in a.posonlyargs + a.args + a.kwonlyargs]
        out = []
        for holder in holders:
            updated = tuple(sorted(self.plan.aliasing.entry_updates.get(holder, ())))
            if holder not in params:  # (a list made here of objects made here: distinct)
                updated = tuple(a for a in updated if not own_lists(self.plan.layout, a))
                if updated:  # (but their arrays may be anything's: ``P(x[i])`` views x)
                    raise self.loc.error(
                        "the objects of %r, a list made here, have their %s changed in place, "
                        "and those arrays may be other names' too" % (holder, " or ".join(
                            map(repr, updated))), self.plan.ret_node,
                        hint="assign new arrays in the method (self.v = self.v + dv)")
                continue
            error = self.loc.error("%r %%s: the derivative does not follow a change seen "
                                   "through the other place" % holder, self.plan.ret_node,
                                   hint="pass a list of separate objects, each holding its own "
                                        "arrays (a copy)")
            call = gast.Call(func=name(self.ctx.helper("check_entries_distinct")), args=[
                name(holder), gast.Constant(value=updated, kind=None),
                name(self.ctx.bind("refusal", runtime.Refusal(error)))]
                + [name(p) for p in params if p != holder and updated], keywords=[])
            out.append(gast.copy_location(gast.Expr(value=call), self.plan.ret_node))
        return out

    def registrations(self, like) -> list:
        """Statements generated code runs as the function returns: the attributes it set to values
        depending on ``wrt`` (see ``check_attribute_stores``)."""
        out = []
        for obj, attr in self.plan.unfollowed:
            call = gast.Call(func=name(self.ctx.helper("unfollowed")),
                             args=[name(obj), gast.Constant(value=attr, kind=None)], keywords=[])
            out.append(gast.copy_location(gast.Expr(value=call), like))
        return out

    def followed_check(self, s) -> list:
        """``t = obj.attr`` whose value reaches the result: generated code refuses it when a called
        function set ``obj.attr`` to a value depending on ``wrt`` (``runtime.check_followed``)."""
        owner = s.value.value
        kind = self.plan.kinds.get(owner.id) if isinstance(owner, gast.Name) else None
        if self.ctx.generated or not self.plan.wrt \
                or (kind is not None and not is_container(kind)) \
                or s.value.attr in _ARRAY_ATTRIBUTES:
            return []  # (a namedtuple's attribute may be a property: checked)
        error = self.loc.error("reading %s, which a called function set to a value that depends "
                               "on %s: the derivative does not follow values a called function "
                               "leaves in an object" % (method_text(s.value, self.ctx.temps),
                                                        ", ".join(self.plan.wrt)), s,
                               hint="return the value from the function that computes it and "
                                    "pass it on")
        refusal = self.ctx.bind("refusal", runtime.Refusal(error))
        code_error = self.loc.error(
            "reading %s runs code of its class (a %%s), which is differentiated only on an object "
            "whose class is known where the code is generated (an argument, or an object made "
            "here and bound to one name)" % method_text(s.value, self.ctx.temps), s,
            hint="read it from the object under the name it was made with, or call the getter "
                 "function itself")
        # (code run by the read: refused where the object depends on wrt, the derivative going
        # through the getter; a value that does not is read as the plain call reads it)
        varied = isinstance(owner, gast.Name) and owner.id in self.plan.varied
        call = gast.Call(func=name(self.ctx.helper("check_followed")),
                         args=[copy_tree(owner), gast.Constant(value=s.value.attr, kind=None),
                               name(refusal)] + (
                             [name(self.ctx.bind("refusal", runtime.Refusal(code_error)))]
                             if varied or self.ctx.by_identity else []),
                         keywords=[])
        return [gast.copy_location(gast.Expr(value=call), s)]
