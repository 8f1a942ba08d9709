"""``plan_function``: the plans of one normalised function and the analyses both modes need,
computed in this order: kinds, views and in-place checks, plans, activity and the refusals that
follow from it. What it returns, a ``FunctionPlan``, is data the transforms read."""
from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Callable

import gast
import numpy as np

from .. import runtime
from ..analysis import BOTTOM, CONTAINER, Layout, activity, is_container, scalar_kinds
from ..ir import const, list_method, target_of
from . import kinds as kinds_
from .activity import check_ignored_operands, check_unused_calls
from .aliasing import Aliasing, mark_in_place_helpers
from .call_plans import _user_callable
from .calls import StatementPlanner
from .complex_values import makes_complex
from .entries import owned_attribute, restore_entry_objects
from .identities import check_followable, check_not_differentiated_again, identity_activity
from .list_sharing import check_kept_views
from .objects import ObjectStores, varied_with_attributes
from .webs import split_webs


@dataclass
class FunctionPlan:
    """What planning found in one normalised function, w.r.t. the parameters ``wrt``."""

    fdef: gast.FunctionDef
    wrt: list            # the differentiated parameters
    params: set          # every parameter
    body: list           # the statements before the final ``return``
    ret_node: gast.Return
    result: str | None   # the name returned (None for another expression)
    layout: Layout       # program order, bindings, loops
    kinds: dict          # name -> kind (FLOAT, SCALAR, an array kind, a container, None)
    aliasing: Aliasing   # views, and the checks of writes into shared arrays
    plans: dict          # id(statement) -> its Plan
    varied: set          # names that may depend on wrt (attributes of objects included)
    unfollowed: list     # (object, attribute) stored with values depending on wrt
    active: set          # names that depend on wrt and reach the result
    index_checks: dict   # id(statement) -> the run-time check of an operand without a derivative
    # (statement, kinds) -> the kind of the value it computes given those kinds of its operands
    kind_of_value: Callable
    # attributes whose adjoints are kept by object identity and read (None: followed by name)
    read_attributes: set | None = None

    def kind_of(self, node):
        """The kind of an operand (``kinds.kind_of``)."""
        return kinds_.kind_of(node, self.kinds)

    def callee_kinds(self, plan, ctx) -> tuple:
        """Kinds of a user function's positional arguments at a call (``kinds.callee_kinds``)."""
        kinds = kinds_.callee_kinds(plan, self.kinds, ctx.arg_classes, self.layout, ctx.resolver,
                                    ctx.returned_classes, ctx.argument_containers, ctx.sure_dicts)
        # (a namedtuple of a known class: the callee reads its properties and methods)
        return tuple((CONTAINER, ctx.namedtuples[node.id].__name__, ctx.namedtuples[node.id])
                     if isinstance(node, gast.Name) and node.id in ctx.namedtuples else k
                     for k, node in zip(kinds, (plan.bound.get(p) for p in plan.positional)))

    def float_names(self) -> set:
        """Names that surely hold floats or float arrays: what depends on ``wrt`` (a comparison,
        ``int(x)`` or ``x.astype(int)`` carries no derivative), unless a binding of it reads
        nothing that does (``t = np.full(shape, 2)`` in the other arm of an ``if``: an int
        array)."""
        floats = {v for v in self.active if not is_container(self.kinds.get(v))}
        bindings: dict = {}
        for s in self.layout.simple:
            if target_of(s)[0] in floats:
                bindings.setdefault(target_of(s)[0], []).append(s)
        changed = True
        while changed:
            changed = False
            for v in sorted(floats):
                if any(not set(self.plans[id(s)].diff_reads) & floats and not _makes_floats(s)
                       for s in bindings.get(v, ())):
                    floats.discard(v)
                    changed = True
        return floats


_FLOAT_MAKERS = (np.zeros, np.ones, np.empty, np.eye, np.identity)


def _makes_floats(s) -> bool:
    """Whether statement ``s`` binds a float or a float array made from nothing differentiated
    (``y = np.zeros(3)``, ``acc = 0.0``), with no ``dtype`` given."""
    value = getattr(s, "value", None)
    if isinstance(value, gast.Constant):
        return type(value.value) is float
    func = getattr(value, "func", None)
    return isinstance(value, gast.Call) and not value.keywords and len(value.args) <= 1 \
        and isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
        and func.value.id in ("np", "numpy") and any(func.attr == f.__name__ for f in _FLOAT_MAKERS)


def plan_function(fdef, wrt, arg_kinds, ctx, tangents=False) -> FunctionPlan:
    """Plan ``fdef`` (normal form, ending in ``return``) w.r.t. the parameters ``wrt``, given the
    kinds of its arguments ``arg_kinds`` (parameter -> kind or None). ``tangents``: for forward
    mode, where an operand checked at run time needs a tangent (see ``check_ignored_operands``).
    May rewrite ``fdef``: names of several kinds split into webs, syncs after shared writes."""
    if ctx.generated:
        check_not_differentiated_again(fdef, ctx)
    mark_in_place_helpers(fdef.body[:-1], ctx.resolver)
    ctx.complex_mode = ctx.complex_mode or makes_complex(fdef, ctx.resolver)
    params = {a.id for a in fdef.args.posonlyargs + fdef.args.args + fdef.args.kwonlyargs}
    _split_webs(fdef, params, arg_kinds, ctx)
    wrt = list(wrt)
    while True:
        # writes into shared arrays followed by syncs give the function new statements (whose
        # reads may make more writes need syncs): until none is added
        layout, kinds, kind_of_value, aliasing = _analyse_memory(fdef, params, wrt, arg_kinds,
                                                                 ctx)
        if aliasing is not None:
            break
    ret = fdef.body[-1]
    statements = StatementPlanner(fdef, layout, kinds, params, wrt, aliasing, ctx)
    plans = {id(s): statements.plan(s) for s in layout.simple}
    diff_reads = lambda s: plans[id(s)].diff_reads  # noqa: E731
    result = ret.value.id if isinstance(ret.value, gast.Name) else None
    read_attributes = None
    if ctx.by_identity:
        varied, active, read_attributes = identity_activity(layout, plans, wrt, result,
                                                            diff_reads)
    else:
        varied = varied_with_attributes(layout, plans, wrt, diff_reads)
    objects = ObjectStores(fdef, layout, kinds, params, wrt, varied, plans, aliasing, ctx)
    objects.check_written_arguments()
    unfollowed = objects.check_attribute_stores()
    if not ctx.by_identity:
        active = activity(layout, wrt, result, diff_reads, varied)
    index_checks = check_ignored_operands(layout, plans, wrt, result, varied, ctx.loc,
                                          ctx.generated or _rule_helper(ctx), kinds,
                                          {id(s) for s in fdef.body[:-1]},
                                          None if ctx.generated or ctx.by_identity else
                                          lambda s: _may_be_inlined(s.value.func, ctx))
    check_unused_calls(fdef, layout, plans, wrt, result, varied, ctx.loc,
                       aliasing.array_guards, ctx.generated, statements.known_class)
    if tangents and any(isinstance(c, tuple) for c in index_checks.values()):
        # forward mode checks the tangents of operands checked at run time: they need one
        reads = lambda s: plans[id(s)].diff_reads + [  # noqa: E731
            n for ns in plans[id(s)].ignored.values() for n in ns]
        if ctx.by_identity:
            _, active, read_attributes = identity_activity(layout, plans, wrt, result, reads)
        else:
            active = activity(layout, wrt, result, reads, varied)
    made = FunctionPlan(fdef, wrt, params, fdef.body[:-1], ret, result, layout, kinds, aliasing,
                        plans, varied, unfollowed, active, index_checks, kind_of_value,
                        read_attributes)
    if ctx.by_identity:
        check_followable(made, ctx)
    return made


def _may_be_inlined(func, ctx) -> bool:
    """Whether the callee ``func`` may be a function of the user's that the code generated again,
    following attributes by identity, inlines: one, or a method of a local object."""
    if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
        return func.value.id in ctx.resolver.locals
    return _user_callable(ctx.resolver.resolve(func)) is not None


def _split_webs(fdef, params, arg_kinds, ctx):
    """Names of no single kind, rebound to values of different kinds, and containers rebound to
    new ones (``params = {k: v.copy() for k, v in params.items()}``) become one name per web
    (see ``webs``), so each has the kind (and the entries) of its own values. Only with argument
    kinds (the code a call runs), and not in gradient code (whose names are the compiler's
    own)."""
    if ctx.generated or not any(k is not None for k in arg_kinds.values()):
        return
    body = fdef.body[:-1]
    layout = Layout.of(body)
    kinds = scalar_kinds(layout, arg_kinds, lambda s, k: kinds_.kind_of_value(
        s, k, ctx.resolver, layout))
    candidates = {n for n, k in kinds.items() if len(layout.binds.get(n, ())) > 1 and (
        k is None or (is_container(k) and _rebound_to_new(layout, n)))}
    renamed = split_webs(body, fdef.body[-1], candidates, params, ctx) if candidates else {}
    if renamed:
        ctx.loc = ctx.loc.renaming(renamed)
        for known in (ctx.returned_classes, ctx.list_classes, ctx.namedtuples):
            known.update({new: known[old] for new, old in renamed.items() if old in known})


def _rebound_to_new(layout, var) -> bool:
    """Whether some binding of ``var`` gives it a dict or list a comprehension made (``var =
    items`` of ``items = {}`` filled in a loop)."""
    for b in layout.bindings(var):
        made = layout.bindings(b.value.id) if isinstance(getattr(b, "value", None), gast.Name) \
            else []
        if len(made) == 1 and isinstance(made[0], gast.Assign) \
                and isinstance(made[0].value, (gast.Dict, gast.List)) and not (
                    made[0].value.elts if isinstance(made[0].value, gast.List)
                    else made[0].value.keys):
            return True
    return False


def _analyse_memory(fdef, params, wrt, arg_kinds, ctx) -> tuple:
    """Layout, kinds, views and the checks of in-place writes: (layout, kinds, the function giving
    a statement's kind, aliasing), with aliasing None when syncs were inserted after writes into
    shared arrays (see ``syncs``), after which this must run again."""
    body = fdef.body[:-1]
    ret = fdef.body[-1]
    result = ret.value.id if isinstance(ret.value, gast.Name) else None
    layout = Layout.of(body)
    kind_of_value = _value_kinds(layout, ctx)
    kinds = scalar_kinds(layout, arg_kinds, kind_of_value)
    kinds_.drop_dtype_keeping(layout, kinds, ctx.resolver)
    aliasing = Aliasing(fdef, layout, kinds, params, result, ctx)
    aliasing.find_views()
    aliasing.reached = aliasing.reached_by(wrt)
    if aliasing.guard_overlapping_stores():
        return layout, kinds, kind_of_value, None
    if restore_entry_objects(aliasing):  # (p = ps[k]; p.vel = v; ps[k] = p)
        return layout, kinds, kind_of_value, None
    aliasing.sync_stores()
    aliasing.check_in_place_updates(arg_kinds)
    if aliasing.syncs.insert():
        return layout, kinds, kind_of_value, None
    aliasing.syncs.closed = True
    aliasing.check_element_updates()
    check_kept_views(aliasing)
    aliasing.record_shared_writes()
    return layout, kinds, kind_of_value, aliasing


def _value_kinds(layout, ctx):
    """The kind of the value a statement computes (``kinds.kind_of_value``). In gradient code,
    ``v = tape.pop()`` restores a value ``tape.append(v)`` saved, and so does ``v = t[0]`` of
    ``t = tape.pop()`` after ``tape.append((v, w))``: nothing new."""
    saved, popped = set(), {}
    if ctx.generated:
        values = _bound_once(layout)
        for m in map(list_method, layout.simple):
            if m and m[1] == "append" and isinstance(m[2].args[0], gast.Name):
                saved |= {(m[0], n) for n in _pushed(m[2].args[0].id, values)}
        popped = {target_of(s)[0]: m[0] for s, m in zip(layout.simple, map(list_method,
                                                                            layout.simple))
                  if m and m[1] == "pop" and isinstance(s, gast.Assign)}

    made = {n: ctx.resolver.resolve(v.args[0]) for n, v in _bound_once(layout).items()
            if isinstance(v, gast.Call) and v.args
            and ctx.resolver.resolve(v.func) is runtime.new_object}  # (objects made here)

    def class_of(owner):
        if owner.id in ctx.arg_classes and owner.id not in layout.binds:
            return ctx.arg_classes[owner.id]
        return made.get(owner.id)

    memory = types.SimpleNamespace(layout=layout, ctx=ctx)

    def kind_of_value(s, kinds):
        if saved and _restores(s, saved, popped):
            return BOTTOM
        value = s.value
        if isinstance(value, gast.Attribute) and isinstance(value.value, gast.Name) \
                and value.value.id in made and owned_attribute(memory, target_of(s)[0]):
            return CONTAINER  # (self.bodies of a list of objects made here)
        if isinstance(value, gast.Attribute) and isinstance(value.value, gast.Name) \
                and isinstance(class_of(value.value), type) \
                and kinds_.held_dict(class_of(value.value), value.attr):
            ctx.kind_checks[id(s)] = ("check_dict_attribute", [value.value, const(value.attr)])
            return CONTAINER  # (self.running of a class storing only dicts there: checked)
        return kinds_.kind_of_value(s, kinds, ctx.resolver, layout)
    return kind_of_value


def _bound_once(layout) -> dict:
    """Name -> the value of its one binding, for the names of ``layout`` bound once."""
    values: dict = {}
    for s in layout.simple:
        bound = target_of(s)[0]
        if bound and isinstance(s, gast.Assign):
            values[bound] = s.value if bound not in values else None
    return values


def _pushed(pushed, values) -> set:
    """The names whose values gradient code saves by pushing ``pushed`` on a tape: itself, or
    what it is a copy of, or the entries of the tuple it is (``t9 = (new, t5)``)."""
    value = values.get(pushed)
    if isinstance(value, gast.Tuple):
        return {n for e in value.elts if isinstance(e, gast.Name) for n in _pushed(e.id, values)}
    if isinstance(value, gast.Call) and len(value.args) == 1 \
            and isinstance(value.args[0], gast.Name) and isinstance(value.func, gast.Name) \
            and value.func.id == "copy":
        return {value.args[0].id}
    return {pushed}


def _restores(s, saved: set, popped: dict) -> bool:
    """Whether ``s`` binds a name to what a tape saved of it (``v = tape.pop()``, or ``v = t[i]``
    of ``t = tape.pop()``)."""
    bound = target_of(s)[0]
    method = list_method(s)
    if method and method[1] == "pop" and isinstance(s, gast.Assign):
        return (method[0], bound) in saved
    value = getattr(s, "value", None)
    return isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) \
        and value.value.id in popped and (popped[value.value.id], bound) in saved


def _rule_helper(ctx) -> bool:
    """Whether the function is one of adcompiler's rule helpers, traced when generated code that
    calls it is differentiated again (its arguments' kinds are not known: see
    ``check_ignored_operands``)."""
    return (getattr(ctx.parsed.fn, "__module__", None) or "").startswith("adcompiler.rules.helpers")
