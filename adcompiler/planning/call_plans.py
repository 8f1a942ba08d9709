"""Planning calls: ``CallPlans.call_plan`` picks how a call is differentiated (a derivative rule,
a user function's subroutine, a callable known only at run time, an object built here, a
gradient function, or opaque), and what counts as the user's own function or class. The base
of ``StatementPlanner``; binding a call's arguments to a rule is in ``binding``."""
from __future__ import annotations

import functools
import inspect
import logging
import os
import types
import warnings

import gast
import numpy as np

from .. import callables, custom, hooks, rules, runtime
from ..arguments import plain_object
from ..errors import AdError
from ..ir import const, loads, name, target_of
from ..parse import is_library_function, is_user_function, traced_library_function, unwrap
from ..resolve import MISSING
from ..rules.builtin_rules import READS_LOCALS
from .activity import changes_nothing
from .binding import RuleBinding
from .known_objects import KnownObjects
from .plan import Plan, _call_text, _unpacks, dynamic_plan

_LOGGING = frozenset({"debug", "info", "warning", "error", "critical", "exception", "log"})
_MESSAGES = (logging.debug, logging.info, logging.warning, logging.error, logging.critical,
             logging.log, warnings.warn)


def _user_callable(obj):
    """The user's Python function (or bound method) a call of ``obj`` runs: ``obj`` itself, or the
    ``__call__`` of an object of a user class; None for anything else."""
    if obj is MISSING:
        return None
    obj = unwrap(obj)
    if is_user_function(obj):
        return obj
    if _is_user_instance(obj):
        return types.MethodType(inspect.getattr_static(type(obj), "__call__"), obj)
    return None


def _is_user_class(obj) -> bool:
    init = inspect.getattr_static(obj, "__init__", None) if isinstance(obj, type) else None
    return isinstance(init, types.FunctionType) and not is_library_function(init)


def _is_user_instance(obj) -> bool:
    """An instance of a class whose ``__call__`` is a Python function with source."""
    call = inspect.getattr_static(type(obj), "__call__", None)
    return (not isinstance(obj, (type, types.FunctionType, types.MethodType))
            and isinstance(call, types.FunctionType) and not is_library_function(call))


# (adcompiler's API: what a called closure made by it lives in)
_API_FOLDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "api")
_LOCALS_HINT = ("write the computation as code (x * 2.0, not eval('x * 2.0'); a dict of the "
                "values, not locals()), or wrap the result in ad.stop_gradient(...) if no gradient "
                "should flow through it")
_FROZEN_HINT = ("a frozen distribution is not differentiated: call the method with the parameters, "
                "%s.logpdf(x, loc, scale) rather than %s(loc, scale).logpdf(x)")
_OBJECT_HINT = ("create the object outside the differentiated function and pass it in as an "
                "argument: its methods are then differentiated and its attributes get gradients")


class CallPlans(RuleBinding, KnownObjects):
    """How each call of one normalised function is differentiated (the plans ``StatementPlanner``
    makes for calls)."""

    def call_plan(self, s, call) -> Plan:
        """How ``call`` (the value of statement ``s``) is differentiated."""
        func = call.func
        obj = self.ctx.resolver.resolve(func)
        if obj is MISSING and isinstance(func, gast.Name) and func.id in self.known:
            obj = self.known[func.id]
        args = list(call.args)
        made = self.gradient_factory(s, call, obj)
        if made is not None:
            return made
        if getattr(obj, "__adcompiler_derived__", False) \
                and getattr(getattr(obj, "derived", None), "mode", "") in ("grad",
                                                                            "value_and_grad"):
            # calling a gradient: its vjps are Hessian-vector products (forward over reverse)
            if call.keywords or any(isinstance(a, gast.Starred) for a in args):
                raise self.loc.error("call %s with positional arguments only" % _call_text(func), s)
            reads = [n for a in args for n in loads(a)]
            return Plan("gradcall", reads, callee=_call_text(func), fn=obj)
        if obj is MISSING:
            return self.unresolved_call_plan(s, call)
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and isinstance(getattr(obj, "__self__", None), np.ndarray) \
                and rules.lookup_method(func.attr) is not None:
            # (BASE.copy() of a module-level array: the array method's rule)
            return self.method_plan(s, rules.lookup_method(func.attr), func.value, args,
                                    call.keywords, func)
        # a lambda used as a value: its defaults are read when it is called
        if obj is runtime.make_function:
            return Plan("opaque", loads(call.args[1]), callee="a lambda used as a value",
                        why="its default values depend on %s" % ", ".join(self.wrt),
                        hint="pass those values as arguments when calling it, or pass the "
                             "lambda without defaults straight to a function of this file that "
                             "calls it (which is then inlined)")
        named = obj  # (what the call's name must still be for the code to be valid)
        if isinstance(obj, functools.partial):  # its function with the partial's arguments bound
            try:
                obj = callables.as_function(obj, "grad")
            except AdError as e:
                raise self.loc.error(e.message, s, hint=e.hint) from None
        return self.function_call_plan(s, call, obj, named)

    def unresolved_call_plan(self, s, call) -> Plan:
        """A call of a callable not known when generating code: a method of an object argument,
        an array's method, or a callable known only when the call runs."""
        func, args = call.func, list(call.args)
        method = self.argument_method(func)
        if method is not None and not _unpacks(call):
            # obj.method(x) (or obj(x): __call__) on an object argument: the class's function,
            # obj its first argument
            obj_node = func.value if isinstance(func, gast.Attribute) else func
            receiver = [] if isinstance(method, staticmethod) else [obj_node]
            fn = method.__func__ if isinstance(method, staticmethod) else method
            plan = self.subroutine_plan(
                s, gast.Call(func=func, args=receiver + args, keywords=call.keywords), fn)
            plan.call_args = receiver + args
            if isinstance(fn, types.FunctionType) and isinstance(func, gast.Attribute):
                # (Model.f = other between two calls: the code is generated again)
                plan.guard = (func if not receiver else gast.Attribute(
                    value=func, attr="__func__", ctx=gast.Load()), fn)
            return plan
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Constant) \
                and isinstance(func.value.value, (str, bytes)):
            # ("loss {:.3f}".format(s): a string's method changes nothing; no derivative)
            return Plan("opaque", loads(call), callee="%r.%s" % (func.value.value, func.attr),
                        why="a string has no derivative")
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
            rule = rules.lookup_method(func.attr)
            if rule is not None and not self.is_known_object(func.value):
                return self.method_plan(s, rule, func.value, args, call.keywords, func)
            if any(hasattr(t, func.attr) for t in (np.ndarray, list, dict, tuple, set, str)) \
                    and not self.is_known_object(func.value):
                # (a method of an array or a container)
                return Plan("opaque", loads(call), callee="the method '.%s()'" % func.attr)
        # a callable known when the call runs: a local function, an object made here, a method
        # of an object held in an attribute (self.cost.fn(a, y)), a partial; obj.name(x) with
        # obj known only then (a layer of a list) is called with obj first
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and not self.ctx.generated:
            return dynamic_plan(call, gast.Call(func=name(self.ctx.helper("method_call")),
                                                args=[const(func.attr)], keywords=[]))
        return dynamic_plan(call)

    def function_call_plan(self, s, call, obj, named) -> Plan:
        """A call of ``obj``, known when generating code (``named``: what the call's name must
        still denote when the code runs): a rule, a user function, a checkpoint, or opaque."""
        func, args = call.func, list(call.args)
        target = unwrap(obj)
        unseen = self.unseen_code_plan(call, obj, target)
        if unseen is not None:
            return unseen
        if any(custom.user_rules(target)):
            names = [a.id for a in args if isinstance(a, gast.Name)]
            return Plan("user", names, callee=_call_text(func), fn=target, guard=(func, named))
        rule = rules.lookup(obj)
        if rule is not None and _unpacks(call):
            # (f(*args): the arguments are known when the call runs; so is the rule applied)
            return dynamic_plan(call)
        if rule is not None:
            plan = self.bind_rule(s, rule, args, call.keywords, _call_text(func))
            if self.rebindable(func, obj):  # (ACT = np.tanh; then ACT = np.sin: other rules)
                plan.guard = (func, named)
            return plan
        # its Python function, called on each element (runtime.vectorized)
        if isinstance(obj, np.vectorize):
            try:
                target = runtime.vectorized(obj, len(args))
            except AdError as e:
                raise self.loc.error(e.message, s, hint=e.hint) from None
            plan = self.subroutine_plan(s, call, target)
            plan.guard = (func, named)
            return plan
        if _is_user_instance(target):
            target = target.__call__  # a callable object from the module: its bound __call__
        if isinstance(target, (types.FunctionType, types.MethodType)) and is_library_function(
                getattr(target, "__func__", target)) and not traced_library_function(target):
            return Plan("opaque", loads(call),
                        callee="'%s' (%s.%s)" % (_call_text(func), target.__module__,
                                                 target.__qualname__),
                        why="it is a library's function with no derivative rule (adcompiler "
                            "differentiates through the source of SciPy's functions, not of "
                            "NumPy's, other libraries' or a library object's methods)")
        if isinstance(obj, custom._Checkpointed):
            plan = self.subroutine_plan(s, call, unwrap(obj.fn))
            plan.kind = "checkpoint"
            plan.guard = (func, named)
            return plan
        plan = self.module_object_call(s, call, target, named)
        if plan is not None:
            return plan
        if isinstance(target, types.FunctionType) or (
                isinstance(target, types.MethodType)
                and isinstance(target.__func__, types.FunctionType)):
            plan = self.subroutine_plan(s, call, target)
            plan.guard = (func, named)
            return plan
        home = getattr(type(obj), "__module__", None)  # (a descriptor for staticmethod on 3.10)
        frozen = isinstance(home, str) and home.startswith("scipy.stats.") \
            and hasattr(obj, "logpdf")
        return Plan("opaque", loads(call), callee="'%s' (%r)" % (_call_text(func), obj),
                    hint=_FROZEN_HINT % ((_call_text(func),) * 2) if frozen else None)

    def rebindable(self, func, obj) -> bool:
        """Whether the name or attribute ``func`` a function with a rule (``obj``) is called
        through may come to denote another function: an alias (``ACT = np.tanh``), or an
        attribute of an object (``self.act``, ``CFG.act``); not a module's function (``np.tanh``)
        or a name that is the function's own (``exp`` of ``from numpy import exp``)."""
        if isinstance(func, gast.Name):
            return func.id != getattr(obj, "__name__", None)
        # (an object's attribute holding a function; not a ufunc's method, np.add.reduce, made
        # anew at each access)
        return isinstance(func, gast.Attribute) \
            and plain_object(self.ctx.resolver.resolve(func.value)) \
            and not isinstance(obj, (types.MethodType, types.BuiltinMethodType))

    def unseen_code_plan(self, call, obj, target):
        """The opaque plan of a call whose derivative would go through code the compiler does not
        see or trace: ``eval``/``locals()``, a class of the user's (an object made here),
        adcompiler's own runtime helpers and API functions without a rule; else None."""
        frame = self.frame_reads(call)
        if frame:
            return Plan("opaque", frame, callee="%s(...)" % _call_text(call.func),
                        hint=_LOCALS_HINT, why="it reads the function's local variables through "
                                               "code the compiler does not see")
        if rules.lookup(obj) is not None:
            return None
        if _is_user_class(obj):
            return Plan("opaque", loads(call), callee="%s(...)" % obj.__name__, hint=_OBJECT_HINT,
                        why="objects created inside the differentiated function are not traced")
        module = getattr(target, "__module__", None) or ""
        code = getattr(obj, "__code__", None)
        if code is not None and os.path.dirname(code.co_filename) == _API_FOLDER \
                and hasattr(obj, "__wrapped__") and not any(custom.user_rules(obj)):
            # (jacobian, hessian, elementwise_grad, hvp: closures that functools.wraps names
            # after the function they transform)
            return Plan("opaque", loads(call), callee="%s (made by adcompiler's %s)"
                        % (_call_text(call.func), code.co_name),
                        why="the result of ad.jacobian, ad.hessian, ad.elementwise_grad or ad.hvp "
                            "called inside differentiated code is not differentiated",
                        hint="differentiate through ad.grad(f) (or ad.value_and_grad), or "
                             "compute this value outside the differentiated function")
        if module.startswith(runtime.__name__ + "."):
            return Plan("opaque", loads(call),
                        callee="adcompiler's runtime helper %r (generated code is differentiated "
                               "again by forward mode: use ad.jvp / ad.hessian)" % target.__name__)
        if module.startswith(runtime.__name__.rsplit(".", 1)[0] + ".api") \
                and not any(custom.user_rules(target)):
            return Plan("opaque", loads(call), callee="adcompiler's %r" % target.__name__,
                        why="derivatives of this order through nested jacobian/hessian calls are "
                            "not supported",
                        hint="use grad(grad(grad(f))) for scalar functions, or one level less")
        return None

    def frame_reads(self, call) -> list:
        """For a call of eval, exec, locals, vars() or another function that reads the calling
        function's local variables (``builtin_rules.READS_LOCALS``): every variable of the function,
        which is what its value may depend on. Else an empty list."""
        obj = self.ctx.resolver.resolve(call.func)
        if not any(obj is f for f in READS_LOCALS) or (obj is vars and call.args):
            return []
        a = self.fdef.args
        params = [p.id for p in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]
                  if p is not None]
        return params + sorted(set(self.layout.binds) - set(params))

    def gradient_factory(self, s, call, obj):
        """``df = ad.grad(f, ...)`` inside the function, with f and the options known: make the
        gradient function now, so later calls of ``df`` can be differentiated (its value is not
        differentiable: no plan beyond that)."""
        if obj is not hooks.grad:
            return None
        target = target_of(s)[0]
        # (a function given that holds a value depending on the differentiated arguments, a
        # closure reading x: the derivative through it would need the mixed second derivative)
        closes_over = Plan("opaque", loads(call), callee=_call_text(call.func) + "(...)",
                           why="the function it is given reads values that depend on the "
                               "differentiated arguments (a closure over them)",
                           hint="call the gradient where it is made, ad.grad(f)(y) (a nested "
                                "def or lambda then gets the values it reads as arguments), or "
                                "pass them yourself: ad.grad(lambda y, x: x * y, wrt=0)(2.0, x)")
        values = []
        for node in list(call.args) + [k.value for k in call.keywords]:
            value = node.value if isinstance(node, gast.Constant) \
                else self.ctx.resolver.resolve(node)
            if value is MISSING:
                return closes_over
            values.append(value)
        if target and len(self.layout.binds.get(target, ())) == 1:
            n = len(call.args)
            self.known[target] = hooks.grad(*values[:n], **{k.arg: v for k, v in
                                                           zip(call.keywords, values[n:])})
        return Plan("none")

    def subroutine_plan(self, s, call, fn) -> Plan:
        """A call to a user function: it gets its own generated forward/backward pair."""
        if _unpacks(call):
            return dynamic_plan(call)  # (the number of arguments is known when it runs)
        try:
            # (the code differentiated is fn's own)
            sig = inspect.signature(fn, follow_wrapped=False)
            bound = sig.bind(*call.args, **{k.arg: k.value for k in call.keywords if k.arg})
        except (TypeError, ValueError):
            raise self.loc.error("the call does not match the signature of %s" % fn.__qualname__,
                                 s) from None
        positional = [p.name for p in sig.parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        args = {p: bound.arguments[p] for p in positional if p in bound.arguments}
        for p in sig.parameters.values():
            if p.kind == p.VAR_POSITIONAL:
                positional.append(p.name)  # *args: one more differentiable "position", a tuple
                if p.name in bound.arguments:
                    args[p.name] = gast.Tuple(elts=list(bound.arguments[p.name]), ctx=gast.Load())
            elif p.kind == p.KEYWORD_ONLY:
                # (a "position" after the positional ones: compiler.param_names)
                positional.append(p.name)
                if p.name in bound.arguments:
                    args[p.name] = bound.arguments[p.name]
            elif p.kind == p.VAR_KEYWORD:
                positional.append(p.name)  # **kwargs: a dict of the keywords it collects
                if bound.arguments.get(p.name):
                    value = bound.arguments[p.name]
                    args[p.name] = gast.Dict(
                        keys=[gast.Constant(value=k, kind=None) for k in value],
                        values=list(value.values()))
        plan = Plan("call", [n for a in args.values() for n in loads(a)], bound=args,
                    callee=fn.__qualname__, fn=fn, positional=positional)
        self.checked_entry_classes(s, plan)
        return plan

    def effect_free(self, call) -> bool:
        """Whether a call whose result is discarded cannot change a value the function goes on
        to use: print and other functions with a non-differentiable rule."""
        if self.ctx.generated:  # generated code calls only its own helpers for their effect
            return True
        obj = self.ctx.resolver.resolve(call.func)
        if isinstance(obj, types.MethodType) and isinstance(obj.__self__, logging.Logger) \
                and obj.__name__ in _LOGGING or any(obj is f for f in _MESSAGES):
            return True  # (a message: it formats the values it is given, and changes none)
        rule = rules.lookup(obj) if obj is not MISSING else None
        # (a method of an object of a class known here that writes into nothing: model.describe())
        return (rule is not None and rule.nondiff) or changes_nothing(call, self.known_class)
