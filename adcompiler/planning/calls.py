"""Planning statements: ``StatementPlanner.plan`` picks how each simple statement is
differentiated (a copy, an index, a store, a rule, a call of a user function, a callable known
only at run time, or opaque), and ``call_plan`` does so for calls; what counts as the user's own
function or class. Binding a call's arguments to a derivative rule is in ``binding``."""
from __future__ import annotations

import functools
import inspect
import operator
import types

import gast
import numpy as np

from .. import callables, custom, hooks, rules, runtime
from ..analysis import BOTTOM, FLOAT, is_container, rank
from ..errors import AdError
from ..ir import list_method, loads, name, target_of
from ..parse import is_library_function, unwrap
from ..resolve import MISSING
from ..rules.builtin_rules import READS_LOCALS
from .binding import RuleBinding
from .kinds import SHAPE, kind_of
from .plan import Plan, _call_text, _unpacks, dynamic_plan

BINOPS = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
          gast.Div: operator.truediv, gast.Pow: operator.pow, gast.MatMult: operator.matmul,
          gast.FloorDiv: operator.floordiv, gast.Mod: operator.mod, gast.BitAnd: operator.and_,
          gast.BitOr: operator.or_, gast.BitXor: operator.xor, gast.LShift: operator.lshift,
          gast.RShift: operator.rshift}
UNARYOPS = {gast.USub: operator.neg, gast.UAdd: operator.pos, gast.Not: operator.not_,
            gast.Invert: operator.invert}


_SEQUENCE_OPS = {operator.add: (list.__add__, list.__add__),
                 operator.mul: (list.__mul__, list.__rmul__)}


def _user_function(fn) -> bool:
    """A Python function (or method) of the user's: not a library's, not adcompiler's own."""
    inner = getattr(fn, "__func__", fn)
    return isinstance(inner, types.FunctionType) and not is_library_function(inner) \
        and (getattr(inner, "__module__", None) or "").split(".")[0] != "adcompiler"


def _user_callable(obj):
    """The user's Python function (or bound method) a call of ``obj`` runs: ``obj`` itself, or the
    ``__call__`` of an object of a user class; None for anything else."""
    if obj is MISSING:
        return None
    obj = unwrap(obj)
    if _user_function(obj):
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


_LOCALS_HINT = ("write the computation as code (x * 2.0, not eval('x * 2.0'); a dict of the "
                "values, not locals()), or wrap the result in ad.stop_gradient(...) if no gradient "
                "should flow through it")
_OBJECT_HINT = ("create the object outside the differentiated function and pass it in as an "
                "argument: its methods are then differentiated and its attributes get gradients")


class StatementPlanner(RuleBinding):
    """The plans of the simple statements of one normalised function (``plan``), made from the
    data they need: the function, its layout and kinds, its parameters, ``wrt``, and its
    ``Aliasing`` (a write into a view is refused as it is planned)."""

    def __init__(self, fdef, layout, kinds, params, wrt, aliasing, ctx):
        self.fdef, self.layout, self.kinds, self.params, self.wrt = fdef, layout, kinds, params, wrt
        self.aliasing, self.ctx, self.loc = aliasing, ctx, ctx.loc
        self.bound_once = {target_of(s)[0]: s for s in self.layout.simple
                           if isinstance(s, gast.Assign) and target_of(s)[0]
                           and len(self.layout.binds[target_of(s)[0]]) == 1}
        self.known: dict = {}  # locals bound once to a gradient function made in the body
        self.stored = {(s.targets[0].value.id, s.targets[0].attr)  # obj.attr = v
                       for s in self.layout.simple
                       if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Attribute)}

    def plan(self, s) -> Plan:
        """How simple statement ``s`` is differentiated."""
        helper = getattr(s, "ad_helper", None)
        if helper is not None:
            call = s.value
            return Plan(helper, [n for a in call.args[::2] for n in loads(a)])
        method = list_method(s)
        if method:
            lst, kind, call = method
            if kind == "append":
                arg = call.args[0] if len(call.args) == 1 else None
                return Plan("append", [arg.id] if isinstance(arg, gast.Name) else [])
            return Plan("pop", [lst])
        if isinstance(s, gast.Expr) and isinstance(s.value, gast.Call) \
                and not self.effect_free(s.value):
            frame = self.frame_reads(s.value)
            return Plan("effect", [], callee=_call_text(s.value.func),
                        ignored={"": frame or loads(s.value)}, hint=_LOCALS_HINT if frame else None)
        if not isinstance(s, gast.Assign):
            return Plan("none")  # expression statements, assert, break, pass
        bound, mutated = target_of(s)
        value = s.value
        if mutated and bound is None:
            return self.store_plan(s, mutated)
        if isinstance(value, gast.Name):
            return Plan("copy", [value.id])
        if isinstance(value, gast.Constant):
            return Plan("none")
        if isinstance(value, gast.BinOp):
            return self.binop_plan(s, value)
        if isinstance(value, gast.UnaryOp):
            return self.rule_plan(s, UNARYOPS[type(value.op)], [value.operand], [])
        if isinstance(value, (gast.Compare, gast.JoinedStr)):
            return Plan("none")
        if isinstance(value, gast.Subscript):
            return self.index_plan(value)
        if isinstance(value, (gast.Tuple, gast.List)):
            return Plan("display", [e.id for e in value.elts if isinstance(e, gast.Name)])
        if isinstance(value, gast.Dict):
            return Plan("display", [v.id for v in value.values if isinstance(v, gast.Name)])
        if isinstance(value, gast.Attribute):
            return self.attribute_plan(s, value)
        if isinstance(value, gast.Call):
            return self.call_plan(s, value)
        return Plan("opaque", loads(value), callee=type(value).__name__)

    def store_plan(self, s, mutated) -> Plan:
        """``x[i] = v`` or ``obj.attr = v``: a store into ``mutated``, the name written into."""
        value = s.value
        if isinstance(s.targets[0], gast.Attribute):
            return Plan("setattr", [value.id] if isinstance(value, gast.Name) else [])
        if self.is_module_object(mutated):
            # CALLS[k] = n: runs as written (see check_attribute_stores)
            return Plan("none", callee="module")
        bases = self.layout.views.get(mutated)
        # (generated code writes only into arrays it owns; no derivative follows a write of
        # values that do not depend on wrt into arrays that do not)
        if bases and not self.ctx.generated and mutated in self.aliasing.reached:
            raise self.loc.error("writing into %r, which may be a view of (or the same array as) "
                                 "%s, is not supported" % (mutated, ", ".join(repr(b) for b in
                                                                              sorted(bases))), s,
                                 hint="make it a separate array first: %s = %s.copy()"
                                 % (mutated, sorted(bases)[0]))
        if not self.ctx.generated:
            self.aliasing.check_views_of_written(mutated, s)
        reads = [value.id] if isinstance(value, gast.Name) else []
        return Plan("store", reads)

    def binop_plan(self, s, value) -> Plan:
        """``a op b``: the operator's rule, or a list's concatenation or repetition."""
        fn = BINOPS[type(value.op)]
        sides = [is_container(self.kinds.get(getattr(v, "id", None)))
                 for v in (value.left, value.right)]
        if any(sides) and fn in _SEQUENCE_OPS:
            other = kind_of(value.right if sides[0] else value.left, self.kinds)
            if all(sides) if fn is operator.add else other == FLOAT:
                # lists/tuples: + concatenates, * repeats
                fn = _SEQUENCE_OPS[fn][0 if sides[0] else 1]
            else:  # (a list and an array: NumPy converts the list, elementwise)
                return Plan("opaque", loads(value),
                            callee="arithmetic between a list or tuple and an array",
                            why="the list's gradient would be an array",
                            hint="convert it first: np.asarray(xs)")
        return self.rule_plan(s, fn, [value.left, value.right], [])

    def index_plan(self, value) -> Plan:
        """``base[index]``."""
        base = value.value
        if not isinstance(base, gast.Name):
            return Plan("none")
        # gradients reach the base only: for arrays, lists, tuples and dicts the index only
        # selects; an object that may compute its items from an index depending on wrt (np.s_,
        # np.ogrid, a class with __getitem__) is checked at run time (subscript_check)
        index = loads(value.slice)
        made = self.bound_once.get(base.id) if base.id in self.ctx.temps else None
        label = _call_text(made.value) if made is not None else base.id
        return Plan("index", [base.id], callee=label + "[...]",
                    ignored={"index": index} if index and self.items_from_index(base) is not False
                    else {})

    def attribute_plan(self, s, value) -> Plan:
        """``x.attr``: an attribute the function stored, a module's or an object's attribute, or an
        array's (``x.T``: its rule)."""
        obj = self.ctx.resolver.resolve(value)
        if obj is not MISSING and isinstance(value.value, gast.Name) \
                and (value.value.id, value.attr) in self.stored:
            # (self.h after self.h = v in a method)
            return Plan("attr", [value.value.id], callee=value.attr)
        if obj is not MISSING:
            owner = self.ctx.resolver.resolve(value.value)
            watch = hasattr(owner, "__dict__") and not isinstance(
                owner, (type, types.ModuleType, types.FunctionType, types.MethodType))
            # module constant such as np.pi, or a user object's attribute
            return Plan("none", watch=watch)
        rule = rules.lookup_method(value.attr)
        if rule is not None and not self.is_object_argument(value.value):
            # (an object's attribute is its own)
            return self.method_plan(s, rule, value.value, [], [], value)
        if isinstance(value.value, gast.Name):
            return Plan("attr", [value.value.id], callee=value.attr)
        return Plan("none")

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
                and getattr(getattr(obj, "derived", None), "mode", "") == "grad":
            # calling a gradient: its vjps are Hessian-vector products (forward over reverse)
            if call.keywords or any(isinstance(a, gast.Starred) for a in args):
                raise self.loc.error("call %s with positional arguments only" % _call_text(func), s)
            reads = [n for a in args for n in loads(a)]
            return Plan("gradcall", reads, callee=_call_text(func), fn=obj)
        if obj is MISSING:
            return self.unresolved_call_plan(s, call)
        # a lambda used as a value: its defaults are read when it is called
        if obj is runtime.make_function:
            return Plan("opaque", loads(call.args[1]), callee="a lambda used as a value",
                        why="its default values depend on %s" % ", ".join(self.wrt),
                        hint="pass those values as arguments when calling it")
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
            return plan
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
            rule = rules.lookup_method(func.attr)
            if rule is not None and not self.is_object_argument(func.value):
                return self.method_plan(s, rule, func.value, args, call.keywords, func)
            if any(hasattr(t, func.attr) for t in (np.ndarray, list, dict, tuple, set, str)) \
                    and not self.is_object_argument(func.value):
                # (a method of an array or a container)
                return Plan("opaque", loads(call), callee="the method '.%s()'" % func.attr)
        # a callable known when the call runs: a local function, an object made here, a method
        # of an object held in an attribute (self.cost.fn(a, y)), a partial
        return dynamic_plan(call)

    def function_call_plan(self, s, call, obj, named) -> Plan:
        """A call of ``obj``, known when generating code (``named``: what the call's name must
        still denote when the code runs): a rule, a user function, a checkpoint, or opaque."""
        func, args = call.func, list(call.args)
        target = unwrap(obj)
        frame = self.frame_reads(call)
        if frame:
            return Plan("opaque", frame, callee="%s(...)" % _call_text(func), hint=_LOCALS_HINT,
                        why="it reads the function's local variables through code the compiler "
                            "does not see")
        if _is_user_class(obj) and rules.lookup(obj) is None:
            return Plan("opaque", loads(call), callee="%s(...)" % obj.__name__, hint=_OBJECT_HINT,
                        why="objects created inside the differentiated function are not traced")
        if (getattr(target, "__module__", None) or "").startswith(runtime.__name__ + ".") \
                and rules.lookup(obj) is None:
            return Plan("opaque", loads(call),
                        callee="adcompiler's runtime helper %r (generated code is differentiated "
                               "again by forward mode: use ad.jvp / ad.hessian)" % target.__name__)
        if custom.user_rules(target)[0] is not None:
            names = [a.id for a in args if isinstance(a, gast.Name)]
            return Plan("user", names, callee=_call_text(func), fn=target, guard=(func, named))
        rule = rules.lookup(obj)
        if rule is not None:
            return self.bind_rule(s, rule, args, call.keywords, _call_text(func))
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
                getattr(target, "__func__", target)):
            return Plan("opaque", loads(call),
                        callee="'%s' (%s.%s)" % (_call_text(func), target.__module__,
                                                 target.__qualname__))
        if isinstance(obj, custom._Checkpointed):
            plan = self.subroutine_plan(s, call, unwrap(obj.fn))
            plan.kind = "checkpoint"
            plan.guard = (func, named)
            return plan
        if isinstance(target, types.FunctionType) or (
                isinstance(target, types.MethodType)
                and isinstance(target.__func__, types.FunctionType)):
            plan = self.subroutine_plan(s, call, target)
            plan.guard = (func, named)
            return plan
        return Plan("opaque", loads(call), callee="'%s' (%r)" % (_call_text(func), obj))

    def is_module_object(self, var) -> bool:
        """Whether ``var`` names a module-level object (not a local, not an argument)."""
        return var not in self.layout.binds and var not in self.params \
            and var not in self.ctx.temps and self.ctx.resolver.resolve(name(var)) is not MISSING

    def is_object_argument(self, node) -> bool:
        """Whether ``node`` names an object argument of a known class (never an array)."""
        return isinstance(node, gast.Name) and node.id in self.ctx.arg_classes \
            and node.id not in self.layout.binds

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

    def argument_method(self, func):
        """The plain function (or staticmethod) behind ``obj.name`` when ``obj`` is an object
        argument of a known class that the body never rebinds; else None."""
        if isinstance(func, gast.Name):  # calling the object itself
            obj, attr = func, "__call__"
        elif isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
            obj, attr = func.value, func.attr
        else:
            return None
        cls = self.ctx.arg_classes.get(obj.id)
        if cls is None or obj.id in self.layout.binds:
            return None
        method = inspect.getattr_static(cls, attr, None)
        if isinstance(method, types.FunctionType) and not is_library_function(method):
            return method
        if isinstance(method, staticmethod) and isinstance(method.__func__, types.FunctionType):
            return method
        return None

    def gradient_factory(self, s, call, obj):
        """``df = ad.grad(f, ...)`` inside the function, with f and the options known: make the
        gradient function now, so later calls of ``df`` can be differentiated (its value is not
        differentiable: no plan beyond that)."""
        if obj is not hooks.grad:
            return None
        target = target_of(s)[0]
        values = []
        for node in list(call.args) + [k.value for k in call.keywords]:
            value = node.value if isinstance(node, gast.Constant) \
                else self.ctx.resolver.resolve(node)
            if value is MISSING:
                return Plan("none")
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
        return Plan("call", [n for a in args.values() for n in loads(a)], bound=args,
                    callee=fn.__qualname__, fn=fn, positional=positional)

    def effect_free(self, call) -> bool:
        """Whether a call whose result is discarded cannot change a value the function goes on
        to use: print and other functions with a non-differentiable rule."""
        if self.ctx.generated:  # generated code calls only its own helpers for their effect
            return True
        obj = self.ctx.resolver.resolve(call.func)
        rule = rules.lookup(obj) if obj is not MISSING else None
        return rule is not None and rule.nondiff

    def items_from_index(self, base):
        """Whether ``base[...]`` may compute its value from the index: not for values known to be
        arrays or containers, nor for a module-level object, an object argument or an object made
        here (``Table()``) of those types; yes for other objects (np.s_, np.ogrid, np.r_ with a
        slice, a class with ``__getitem__``), or None when only the run time knows."""
        if self.ctx.generated:
            return False
        kind = self.kinds.get(base.id)
        if is_container(kind) or kind == SHAPE or (kind != BOTTOM and rank(kind) is not None):
            return False
        cls = self.ctx.arg_classes.get(base.id) if base.id not in self.layout.binds else None
        if cls is None and base.id in self.bound_once \
                and isinstance(self.bound_once[base.id].value, gast.Call):
            made = self.ctx.resolver.resolve(self.bound_once[base.id].value.func)
            cls = made if isinstance(made, type) else None
        if cls is None:
            obj = self.static_value(base)
            if obj is MISSING:
                return None
            cls = type(obj)
        return not issubclass(cls, runtime.SELECTING)
