"""The ``Normalizer``'s closures: a nested def or lambda used as a value (returned by a factory,
stored in a list, passed to a function that is not inlined) becomes an object of a class made for
it, whose attributes are the values it reads of the enclosing function and whose ``__call__`` is
its code reading them there (``W`` as ``closure.W``). Calling it is then differentiated like any
callable object's ``__call__``, gradients reaching what it holds. Python reads a closure's
variables when it is called, not when it is made: a variable the enclosing function binds in a
loop, or after the closure, could differ by then, so such a closure is refused.
"""
from __future__ import annotations

import types

import gast

from .. import hooks, runtime
from ..effects import WRITING_METHODS
from ..ir import assign, copy_tree, is_constant_default, name, walk
from ..parse import define
from ..resolve import local_names
from .local_functions import lambda_def

_CLASSES: dict = {}  # (globals' id, file, source) -> the class made for a closure


def late_names(body) -> set:
    """Names whose value a nested def or lambda of ``body`` may read after it is made and then
    used as a value (Python reads them when it is called): those bound in a loop or a
    comprehension, or after a nested function reading them (in the order of the source)."""
    late, read_by_nested = set(), set()

    def visit(node, looping):
        if isinstance(node, (gast.FunctionDef, gast.Lambda)):
            read_by_nested.update(free_reads(node))
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store) \
                and (looping or node.id in read_by_nested):
            late.add(node.id)
        inside = looping or isinstance(node, (gast.For, gast.While, gast.comprehension))
        for child in gast.iter_child_nodes(node):
            visit(child, inside)
    for st in body:
        visit(st, False)
    return late


def _scope_names(node) -> set:
    """The names a lambda, def or comprehension nested in a closure binds for itself."""
    if isinstance(node, gast.FunctionDef):
        return local_names(node)
    if isinstance(node, gast.Lambda):
        a = node.args
        return {p.id for p in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]
                if p is not None}
    return {n.id for g in node.generators for n in walk(g.target) if isinstance(n, gast.Name)}


class _HeldReads(gast.NodeTransformer):
    """``W`` as ``closure.W`` for each name the closure holds, except where a scope nested in it
    binds that name for itself."""

    def __init__(self, receiver: str, held: set):
        self.receiver, self.held = receiver, held

    def visit_Name(self, node):
        if node.id in self.held and isinstance(node.ctx, gast.Load):
            return gast.Attribute(value=name(self.receiver), attr=node.id, ctx=gast.Load())
        return node

    def _nested(self, node):
        saved = self.held
        self.held = saved - _scope_names(node)
        try:
            return self.generic_visit(node)
        finally:
            self.held = saved

    visit_FunctionDef = visit_Lambda = visit_ListComp = visit_SetComp = _nested
    visit_DictComp = visit_GeneratorExp = _nested


def closure_class(fdef, held: list, globals_: dict, where: str) -> type:
    """The class of the closure ``fdef`` holding the names ``held``: its ``__call__`` is
    ``fdef``'s code reading them as attributes of the object, in the user's module (``globals_``);
    its source is registered under a name saying ``where`` the closure is."""
    words = local_names(fdef) | {n.id for n in walk(fdef) if isinstance(n, gast.Name)}
    receiver = "closure"
    while receiver in words:
        receiver += "_"
    args = copy_tree(fdef.args)
    for a in args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
        if a is not None:
            a.annotation = None  # (read when the class is made, where the names are not)
    args.args.insert(0, gast.Name(id=receiver, ctx=gast.Param(), annotation=None,
                                  type_comment=None))
    body = [_HeldReads(receiver, set(held)).visit(copy_tree(st)) for st in fdef.body]
    call = gast.FunctionDef(name="__call__", args=args, body=body, decorator_list=[],
                            returns=None, type_comment=None, type_params=[])
    label = ("lambda" if getattr(fdef, "ad_lambda", False) else fdef.name) + "_closure"
    cls = gast.ClassDef(name=label, bases=[], keywords=[], body=[call], decorator_list=[],
                        type_params=[])
    source = gast.unparse(gast.fix_missing_locations(gast.Module(body=[cls], type_ignores=[])))
    key = (id(globals_), where, source)
    made = _CLASSES.get(key)
    if made is None or made[0] is not globals_:
        made_cls = define(source, label, {"__name__": globals_.get("__name__")},
                          "<%s #%d of %s>" % (label, len(_CLASSES), where))
        plain = made_cls.__call__  # (the same code, reading the names of the user's module)
        made_cls.__call__ = types.FunctionType(plain.__code__, globals_, "__call__",
                                               plain.__defaults__)
        made_cls.__call__.__kwdefaults__ = plain.__kwdefaults__
        made = _CLASSES[key] = (globals_, made_cls)
    return made[1]


def free_reads(fdef) -> set:
    """The names ``fdef`` (a nested def) reads that none of its scopes binds."""
    found = set()

    def visit(node, bound):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) \
                and node.id not in bound:
            found.add(node.id)
        if isinstance(node, (gast.FunctionDef, gast.Lambda, gast.ListComp, gast.SetComp,
                             gast.DictComp, gast.GeneratorExp)):
            bound = bound | _scope_names(node)
        for child in gast.iter_child_nodes(node):
            visit(child, bound)
    if isinstance(fdef, gast.Lambda):
        visit(fdef.body, _scope_names(fdef))
    else:
        for st in fdef.body:
            visit(st, local_names(fdef))
    return found


class Closures:
    """Local functions used as values (a mixin of the ``Normalizer``)."""

    def lifted_gradient(self, node, s):
        """``ad.grad(f, wrt)(args)`` of a nested def or lambda ``f`` reading values of this
        function: ``ad.grad(f_lifted, wrt)(args, *values)``, ``f_lifted`` taking them as
        parameters after its own, so the derivative through them (a mixed second derivative) is
        the gradient call's; else None."""
        inner = node.func
        if not (isinstance(inner, gast.Call) and inner.args and self.bind_object is not None
                and not self.generated and self.is_global(inner.func)
                and self.resolver.resolve(inner.func) is hooks.grad) \
                or any(isinstance(a, gast.Starred) for a in node.args) or node.keywords:
            return None
        fn = inner.args[0]
        fdef = self.local_fns.get(fn.id) if isinstance(fn, gast.Name) else \
            lambda_def("lambda", fn, s) if isinstance(fn, gast.Lambda) else None
        if fdef is None:
            return None
        a = fdef.args
        held = sorted(free_reads(fdef) & (self.resolver.locals | self.temps))
        if not held or set(held) & set(self.local_fns) or fdef.name in held or a.vararg \
                or a.kwarg or a.kwonlyargs or a.posonlyargs or a.defaults \
                or any(isinstance(n, gast.Nonlocal) for n in walk(fdef)) \
                or _changed_in(fdef, set(held)):
            return None
        lifted = lifted_function(fdef, held, self.resolver.parsed.globals, "%s:%d" % (
            self.loc.filename, getattr(fdef, "lineno", 0) + self.loc.line_offset))
        made = gast.Call(func=inner.func, args=[name(self.helper(lifted.__name__, lifted))]
                         + list(inner.args[1:]), keywords=inner.keywords)
        return gast.Call(func=made, args=list(node.args) + [name(h) for h in held], keywords=[])

    def closure_value(self, label, s):
        """The object standing for the local function ``label`` used as a value (see the module's
        docstring): made here, holding the values of the enclosing function's names it reads."""
        fdef = self.local_fns[label]
        what = "this lambda" if getattr(fdef, "ad_lambda", False) \
            else "the nested function %r" % self.spelled_as.get(label, label)
        hint = ("call it here and return what it computes, or make it an object of a class of "
                "yours whose __call__ reads the values it holds")
        if getattr(fdef, "ad_choice", None) is not None:
            self.unsupported(s, "%s, bound differently by an if, used as a value" % what, hint)
        held = sorted(free_reads(fdef) & (self.resolver.locals | self.temps | set(self.local_fns)))
        a = fdef.args
        if any(isinstance(n, gast.Nonlocal) for n in walk(fdef)) or a.posonlyargs:
            self.unsupported(s, "%s (nonlocal or positional-only parameters), used as a value"
                             % what, hint)
        if not all(is_constant_default(d)
                   for d in a.defaults + [d for d in a.kw_defaults if d is not None]):
            self.unsupported(s, "%s with default values that are not constants, used as a value"
                             % what,
                             "pass those values as arguments, or " + hint)
        if fdef.name in held or label in held:
            self.unsupported(s, "%s, recursive, used as a value" % what,
                             "define it at module level")
        changed = _changed_in(fdef, set(held))
        if changed:
            raise self.loc.error(
                "%s is used as a value and changes %r, which it reads of the function (%s): the "
                "derivative does not follow a change made when it is called later, which is not "
                "supported" % (what, changed[0], "a list, dict or array the caller holds too"), s,
                hint="return the new value from the function and store it where it is called")
        late = [n for n in held if n in self.read_late and n not in self.local_fns
                and n not in self.bound_per_call]
        if late:
            raise self.loc.error(
                "%s is used as a value and reads %r, which is bound in a loop or after the "
                "function is made: Python reads it when the function is called, which is not "
                "supported" % (what, self.spelled_as.get(late[0], late[0].rstrip("_0123456789"))
                               or late[0]), s,
                hint="bind the value it reads to a name of its own before the function is made "
                     "(or pass it as an argument)")
        cls = closure_class(fdef, held, self.resolver.parsed.globals,
                            "%s:%d" % (self.loc.filename, getattr(fdef, "lineno", 0)
                                       + self.loc.line_offset))
        obj = self.namer.fresh("closure" if getattr(fdef, "ad_lambda", False) else label)
        self.resolver.locals.add(obj)
        made = gast.Call(func=name(self.helper("new_object", runtime.new_object)),
                         args=[name(self.helper(cls.__name__, cls))], keywords=[])
        self.emit(assign(obj, made), s)
        self.object_classes[obj] = cls
        for h in held:
            self.stmt(gast.copy_location(gast.Assign(
                targets=[gast.Attribute(value=name(obj), attr=h, ctx=gast.Store())],
                value=name(h), type_comment=None), s))
        return name(obj)


def lifted_function(fdef, held: list, globals_: dict, where: str):
    """``fdef`` (a nested def) as a function of the user's module taking the names ``held`` it
    reads of the enclosing function as parameters after its own."""
    args = copy_tree(fdef.args)
    for a in args.args:
        a.annotation = None
    args.args += [gast.Name(id=h, ctx=gast.Param(), annotation=None, type_comment=None)
                  for h in held]
    label = ("lambda" if getattr(fdef, "ad_lambda", False) else fdef.name) + "_lifted"
    lifted = gast.FunctionDef(name=label, args=args, body=copy_tree(fdef.body), decorator_list=[],
                              returns=None, type_comment=None, type_params=[])
    source = gast.unparse(gast.fix_missing_locations(gast.Module(body=[lifted], type_ignores=[])))
    made = define(source, label, {"__name__": globals_.get("__name__")},
                  "<%s of %s>" % (label, where))
    return types.FunctionType(made.__code__, globals_, label)


def _changed_in(fdef, held: set) -> list:
    """The names of ``held`` that ``fdef``'s code writes into (``store['w'] = v``, ``d.x = v``,
    ``hist.append(v)``, ``w[0] += v``)."""
    def root(node):
        while isinstance(node, (gast.Subscript, gast.Attribute)):
            node = node.value
        return node.id if isinstance(node, gast.Name) else None
    found = []
    for node in walk(fdef):
        targets = node.targets if isinstance(node, gast.Assign) else \
            [node.target] if isinstance(node, gast.AugAssign) else []
        for t in targets:
            if isinstance(t, (gast.Subscript, gast.Attribute)) and root(t) in held:
                found.append(root(t))
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr in WRITING_METHODS and root(node.func.value) in held:
            found.append(root(node.func.value))
    return sorted(set(found))
