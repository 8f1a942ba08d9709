"""The ``Normalizer``'s local functions that are not a plain nested def: a lambda bound or passed
(a def of its own, ``lambda_def``), ``functools.partial`` of a function (``partial``, called as its
function with the partial's arguments), and a function an ``if`` bound differently in its arms
(called in an ``if`` on the arm that ran, ``call_chosen``).
"""
from __future__ import annotations

import functools
import inspect
import types

import gast

from ..ir import assign, const, copy_tree, if_, is_constant_default, name, walk
from ..parse import is_library_function


def lambda_def(label: str, lam, like):
    """The lambda ``lam`` as the nested def ``label`` returning its body (located at ``like``),
    called, and differentiated, like any nested def."""
    fdef = gast.copy_location(gast.FunctionDef(
        name=label, args=lam.args, body=[gast.copy_location(gast.Return(value=lam.body), lam.body)],
        decorator_list=[], returns=None, type_comment=None, type_params=[]), like)
    fdef.ad_lambda = True
    return fdef


class LocalFunctions:
    """Lambdas, partials and local functions chosen by an ``if`` (a mixin of the ``Normalizer``;
    ``inline_def`` of ``inlining`` hands their calls to ``call_partial`` and ``call_chosen``)."""

    def callable_of(self, fn, s):
        """A lambda becomes a local function (called, and differentiated, like a nested def)."""
        if not isinstance(fn, gast.Lambda):
            return fn
        label = self.namer.fresh("lambda_")
        self.local_fns[label] = lambda_def(label, fn, s)
        return name(label)

    def methods_as_lambdas(self, call) -> None:
        """``obj.method`` handed to a function of the user's (``euler(model.rhs, y0)``; a method
        or a callable object of a known class of the user's too) becomes ``lambda y:
        obj.method(y)``: inlined with its callee, as the method call it stands for, whose
        adjoint is the object's (see ``method_lambda``)."""
        if not self.calls_users_code(call):
            return
        call.args = [self.method_lambda(a) or a for a in call.args]
        for k in call.keywords:
            k.value = self.method_lambda(k.value) or k.value

    def calls_users_code(self, call) -> bool:
        """Whether ``call`` calls a function of the user's, a local function, or a method or
        the ``__call__`` of an object of a known class of the user's."""
        func = call.func
        if isinstance(func, gast.Name) and func.id in self.local_fns:
            return True
        if isinstance(func, gast.Name) and func.id in self.object_classes:  # (integrator(f, z))
            fn = inspect.getattr_static(self.object_classes[func.id], "__call__", None)
        elif isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.value.id in self.object_classes:  # (solver.run(f, z))
            fn = inspect.getattr_static(self.object_classes[func.value.id], func.attr, None)
        else:
            fn = self.resolver.resolve(func)
        return isinstance(fn, types.FunctionType) and not is_library_function(fn)

    def method_lambda(self, node):
        """``lambda a0, ...: obj.m(a0, ...)`` for ``node`` ``obj.m`` (handed to a call, or bound
        to a name: ``f = model.rhs``), else None. Only for an object of a known class that the
        name holds all along (what the bound method is bound to) and a plain method of that
        class with positional parameters of constant defaults."""
        if not (isinstance(node, gast.Attribute) and isinstance(node.ctx, gast.Load)):
            return None
        held = node.value.id if isinstance(node.value, gast.Name) else None
        cls = self.object_classes.get(held)
        if cls is None or (held not in self.parameters and held in self.bound_twice):
            return None
        fn = inspect.getattr_static(cls, node.attr, None)
        if not isinstance(fn, types.FunctionType) or is_library_function(fn):
            return None
        params = list(inspect.signature(fn).parameters.values())[1:]
        if any(p.kind != p.POSITIONAL_OR_KEYWORD or (p.default is not p.empty and not (
                p.default is None or p.default.__class__ in (int, float, bool, str)))
               for p in params):
            return None
        names = [p.name for p in params]  # (a call may pass them by name: f(t=0.0, y=y0))
        if held in names:
            return None
        call = gast.Call(func=gast.Attribute(value=name(held), attr=node.attr, ctx=gast.Load()),
                         args=[name(n) for n in names], keywords=[])
        defaults = [const(p.default) for p in params if p.default is not p.empty]
        lam = gast.Lambda(args=gast.arguments(
            args=[gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None)
                  for n in names], posonlyargs=[], vararg=None,
            kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=defaults), body=call)
        for made in walk(lam):
            gast.copy_location(made, node)
        return lam

    def defaults_now(self, fdef, s):
        """``fdef`` with its default values that are not constants computed here, into names of
        their own (Python evaluates them when the def runs, not when the function is called:
        ``def step(w, lr=lr)`` keeps the ``lr`` of that moment)."""
        a = fdef.args
        if all(is_constant_default(d)
               for d in a.defaults + [d for d in a.kw_defaults if d is not None]):
            return fdef

        def now(d):
            if d is None or is_constant_default(d):
                return d
            held = self.temp()
            self.emit(assign(held, self.atom(d, s)), s)
            return name(held)
        args = gast.arguments(args=a.args, posonlyargs=a.posonlyargs, vararg=a.vararg,
                              kwonlyargs=a.kwonlyargs, kwarg=a.kwarg,
                              defaults=[now(d) for d in a.defaults],
                              kw_defaults=[now(d) for d in a.kw_defaults])
        made = gast.copy_location(gast.FunctionDef(
            name=fdef.name, args=args, body=fdef.body, decorator_list=[], returns=None,
            type_comment=None, type_params=[]), fdef)
        made.ad_lambda = getattr(fdef, "ad_lambda", False)
        return made

    def partial(self, target, value, s) -> bool:
        """``k = functools.partial(f, a, b=v)``: a local function (passed on, and inlined where
        it is called, like a nested def) calling ``f`` with the values ``a`` and ``v`` had here
        (kept in temporaries), then the call's own arguments and keywords (see ``call_partial``).
        False for other values."""
        if not (isinstance(value, gast.Call) and value.args
                and self.resolver.resolve(value.func) is functools.partial
                and not any(isinstance(a, gast.Starred) for a in value.args)
                and all(k.arg for k in value.keywords)):
            return False
        func, *args = value.args

        def kept(node):  # (the value it has now, whatever the name holds when it is called)
            flat = self.atom(node, s)
            if isinstance(flat, gast.Name) and flat.id in self.resolver.locals:
                held = self.temp()
                self.emit(assign(held, flat), s)
                return name(held)
            return flat
        if isinstance(func, gast.Name) and func.id in self.local_fns:
            # (the local function bound now, whatever the name is bound to later: a def of the
            # same name after the partial is another function)
            held = self.namer.fresh(func.id)
            self.local_fns[held] = self.local_fns[func.id]
            func = name(held)
        elif not (isinstance(func, gast.Name) and self.is_global(func)):
            func = kept(func)  # (the function, chosen when the partial is made)
        args = [kept(a) for a in args]
        keywords = [gast.keyword(arg=k.arg, value=kept(k.value)) for k in value.keywords]
        fdef = gast.FunctionDef(name=target, args=gast.arguments(
            args=[], posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
            defaults=[]), body=[], decorator_list=[], returns=None, type_comment=None,
            type_params=[])
        fdef.ad_partial = (func, args, keywords)
        self.local_fns[target] = gast.copy_location(fdef, s)
        return True

    def call_partial(self, made, call, s):
        """``call`` of a partial ``made`` (see ``partial``): the call of its function with the
        partial's arguments, then the call's, and the partial's keywords the call does not give,
        then the call's."""
        func, args, keywords = made
        if any(k.arg is None for k in call.keywords):
            self.unsupported(call, "calling a partial with **kwargs unpacked",
                             "pass the keywords by name")
        given = {k.arg for k in call.keywords}
        flat = gast.Call(func=copy_tree(func), args=[copy_tree(a) for a in args] + list(
            call.args), keywords=[gast.keyword(arg=k.arg, value=copy_tree(k.value))
                                  for k in keywords if k.arg not in given] + list(
            call.keywords))
        return self.atom(gast.copy_location(flat, call), s)

    def call_chosen(self, choice, call, s):
        """``call`` of a local function that an ``if`` before bound differently in its arms (see
        ``choose_local_functions``): an ``if`` on the arm that ran, calling the one it bound (or
        the name as a variable, when that arm bound no local function)."""
        chosen, first, second, variable = choice
        called = call.func.id
        # (the arguments once, before the choice: f(f(x)) chooses for the inner call on its own)
        args, keywords = self.flat_arguments(call, s)
        call = gast.copy_location(gast.Call(func=call.func, args=args, keywords=keywords), call)
        result = self.temp()
        arms = []
        for fn in (first, second):
            saved = self.local_fns.pop(called, None)
            one = copy_tree(call)
            if fn is not None:
                self.local_fns[called] = fn
            else:  # (the variable the if bound, by the name it has where it was bound)
                one.func = name(variable)
            try:
                arms.append(self.block([gast.copy_location(gast.Assign(
                    targets=[name(result, True)], value=one, type_comment=None), call)]))
            finally:
                self.local_fns.pop(called, None)
                if saved is not None:
                    self.local_fns[called] = saved
        test = self.atom(gast.Compare(left=name(chosen), ops=[gast.Eq()],
                                      comparators=[const(0)]), s)
        self.emit(if_(test, *arms), s)
        return name(result)
