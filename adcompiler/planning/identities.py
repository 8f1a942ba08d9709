"""Attributes followed by the object's identity: when a store ``obj.attr = v`` cannot be followed
through the names that reach ``obj`` (the object is also in a list, in another object's attribute,
given to an inlined function under another name), the function's code is generated again with
every attribute's adjoint kept in a table by object identity (``runtime.shared_objects``):
reading ``t = obj.attr`` adds ``dt`` to the entry of ``obj``, storing ``obj.attr = v`` takes it for
``dv``, whatever name reached the object. Activity is then decided attribute by attribute name:
what any store into ``.attr`` may hold reaches every read of ``.attr``.
"""
from __future__ import annotations

import copy

import gast

from .. import runtime
from ..analysis import BOTTOM, fixpoint, rank, varied_names
from ..errors import GENERATED, AdError
from ..ir import const, copy_tree, name, target_of, walk

# the helpers of the table: code calling them has derivatives a second pass cannot see
TABLE_HELPERS = (runtime.add_attribute_adjoint, runtime.take_attribute_adjoint,
                 runtime.attribute_tangent, runtime.set_attribute_tangent)


class FollowByIdentity(AdError):
    """A store into an object other names may reach, refused when attributes are followed by
    name: the compiler generates the function again following them by identity (and raises this,
    an ordinary ``AdError``, where it cannot)."""

    @classmethod
    def of(cls, error):
        """The same error as ``error``, an ``AdError`` of this function's code."""
        return cls(error.message, function=error.function, filename=error.filename,
                   lineno=error.lineno, col=error.col, hint=error.hint)


def identity_activity(layout, plans, wrt, result, diff_reads) -> tuple:
    """``(varied, active, read_attributes)`` when attributes are followed by identity: a read of
    ``.attr`` is varied when its object is, or when some store into an ``.attr`` of any object
    stores a varied value; a store's value is active when some active read reads that attribute
    name (``read_attributes``), since any object may be the one read."""
    reads = [s for s in layout.simple if plans[id(s)].kind == "attr"]
    stores = [s for s in layout.simple if plans[id(s)].kind == "setattr"]
    stored: set = set()
    while True:
        seeds = {target_of(s)[0] for s in reads if s.value.attr in stored}
        varied = varied_names(layout, set(wrt) | seeds, diff_reads)
        more = {s.targets[0].attr for s in stores if any(n in varied for n in diff_reads(s))}
        if more <= stored:
            break
        stored |= more
    useful = {result} if result else set()
    read_attributes: set = set()

    def backward():
        changed = False
        for s in reversed(layout.simple):
            plan = plans[id(s)]
            bound, mutated = target_of(s)
            if plan.kind == "attr":
                if bound in useful and bound in varied and s.value.attr not in read_attributes:
                    read_attributes.add(s.value.attr)
                    changed = True
                continue  # (the object's adjoint is its table entry, not its name's)
            if plan.kind == "setattr":
                if s.targets[0].attr not in read_attributes:
                    continue
                needed = diff_reads(s)
            else:
                needed = diff_reads(s) if (bound or mutated) in useful else ()
            for r in needed:
                if r not in useful:
                    useful.add(r)
                    changed = True
        return changed
    fixpoint(backward)
    return varied, varied & useful, read_attributes


def check_followable(plan, ctx):
    """Refuse what following attributes by identity does not cover (yet): an object made or
    changed where the table cannot see it. A call of a user function with code of its own (or
    known only when it runs, or a user's rule) given or returning an object or a value of unknown
    type (what it stores, or its result's attributes, would be followed by name), and a copy of
    an object (``copy.copy(p)``: a new identity holding the values of the old one's)."""
    for s in plan.layout.simple:
        called = plan.plans[id(s)]
        value = getattr(s, "value", None)
        if isinstance(value, gast.Attribute) and value.attr == "__dict__" or isinstance(
                value, gast.Call) and any(ctx.resolver.resolve(value.func) is f
                                          for f in _BY_NAME):
            raise ctx.loc.error(
                "reading or changing an object's attributes by name (getattr, setattr, vars, "
                "__dict__) in a function whose objects other names reach too is not supported: "
                "the derivative follows obj.attr only", s, hint="write obj.attr")
        if not isinstance(value, gast.Call):
            continue
        given = [n for a in list(value.args) + [k.value for k in value.keywords]
                 for n in _names(a)]
        if isinstance(value.func, gast.Attribute):
            given += _names(value.func.value)
        bound = target_of(s)[0]
        objects = not all(_numeric(plan.kinds.get(n)) for n in given) or (
            bound is not None and not _numeric(plan.kinds.get(bound)))
        if called.kind in ("call", "dynamic", "checkpoint", "user") and objects:
            raise ctx.loc.error(
                "%s is called with (or returns) an object or a value of unknown type in a function "
                "whose objects other names reach too: what it stores into objects would not be "
                "followed" % (called.callee or "a function"), s,
                hint="make it a function adcompiler can inline (no recursion), or give it and "
                     "return arrays")
        if any(ctx.resolver.resolve(value.func) is f for f in (copy.copy, copy.deepcopy)) \
                and not all(_numeric(plan.kinds.get(n)) for n in given):
            raise ctx.loc.error(
                "copying an object in a function whose objects other names reach too is not "
                "supported: the copy's attributes would not be followed", s,
                hint="make the new object with its class (Cls(p.x, p.v)) instead")


def entry_checks(plan, ctx, arg_kinds) -> list:
    """Statements the code starts with: a differentiated argument that may hold objects is
    refused when it does (its gradient would be in the table, by identity, not in its adjoint)."""
    out = []
    for p in plan.wrt:
        if _numeric(arg_kinds.get(p)):
            continue
        error = ctx.loc.error(
            "the function stores into objects that other names reach too, which is followed only "
            "when the differentiated arguments are numbers, arrays or containers of them; %r "
            "holds an object" % p, plan.fdef,
            hint="differentiate w.r.t. the arrays the object holds, passed as arguments")
        refusal = ctx.bind("refusal", runtime.Refusal(error))
        check = gast.Call(func=name(ctx.helper("check_no_objects")), args=[name(p), name(refusal)],
                          keywords=[])
        out.append(gast.copy_location(gast.Expr(value=check), plan.ret_node))
    return out


def result_checks(plan, ctx) -> list:
    """The statement a jvp or a vjp's forward function ends with when its result may hold
    objects: refused when it does (their attributes' derivatives are in the table)."""
    if plan.result is not None and _numeric(plan.kinds.get(plan.result)):
        return []
    error = ctx.loc.error(
        "the function stores into objects that other names reach too, which is followed only "
        "when its result is a number, an array or a container of them; it returns an object",
        plan.ret_node, hint="return the arrays the object holds")
    check = gast.Call(func=name(ctx.helper("check_no_objects")),
                      args=[plan.ret_node.value, name(ctx.bind("refusal",
                                                               runtime.Refusal(error)))],
                      keywords=[])
    return [gast.copy_location(gast.Expr(value=check), plan.ret_node)]


def store_check(transform, s) -> list:
    """``obj.attr = v`` when attributes are followed by identity: generated code refuses a store
    that runs code of the object's class (``__setattr__``, a property's setter), which the table
    would not follow (``runtime.check_plain_store``). ``transform``: its ``plan`` and ``ctx``."""
    plan, ctx = transform.plan, transform.ctx
    if not ctx.by_identity or getattr(plan.plans.get(id(s)), "kind", None) != "setattr":
        return []
    error = ctx.loc.error(
        "storing %s.%s runs code of its class (%%s), which the derivative does not follow in a "
        "function whose objects other names reach too" % (
            plan.aliasing.spelled(s.targets[0].value.id), s.targets[0].attr), s,
        hint="store into a plain attribute, or into the object under the name it was made with")
    call = gast.Call(func=name(ctx.helper("check_plain_store")),
                     args=[copy_tree(s.targets[0].value), const(s.targets[0].attr),
                           name(ctx.bind("refusal", runtime.Refusal(error)))], keywords=[])
    return [gast.copy_location(gast.Expr(value=call), s)]


def check_not_differentiated_again(fdef, ctx):
    """Gradient code that follows attributes by identity, differentiated again: refused (its
    adjoints live in a table a second pass cannot see through)."""
    for node in walk(fdef):
        if isinstance(node, gast.Call) and any(
                ctx.resolver.resolve(node.func) is h for h in TABLE_HELPERS):
            message = ("second derivatives of a function whose objects other names reach too "
                       "(their attributes' adjoints are kept by object identity) are not "
                       "supported yet")
            hint = ("differentiate w.r.t. arrays the objects are made from in a function that "
                    "keeps each object under one name, or use finite differences of the gradient")
            user = GENERATED.get(ctx.loc.filename)
            at = user and user[1].get(getattr(node, "lineno", None))
            if at:  # (where the user's statement is, not the gradient code's)
                raise AdError(message, function=user[0].function, filename=user[0].filename,
                              lineno=at[0] + user[0].line_offset,
                              col=at[1] + user[0].col_offset, hint=hint)
            raise ctx.loc.error(message, node, hint=hint)


# (what reads or writes an attribute given its name as a value)
_BY_NAME = (getattr, setattr, delattr, vars)


def _numeric(kind) -> bool:
    """Whether a value of this kind is a number or an array (no object, no container)."""
    return kind != BOTTOM and rank(kind) is not None


def _names(node):
    return [n.id for n in walk(node) if isinstance(n, gast.Name)]
