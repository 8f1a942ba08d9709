"""What the optimiser is told about a function being compiled, read from its compilation
context: which calls are pure (dead ones may go), and the ``Facts`` (callees, argument shapes,
ranks, the arguments runtime helpers read for their shape only) its shape rewrites use."""
from __future__ import annotations

import types

import gast
import numpy as np

from . import effects, rules, runtime
from .analysis import FLOAT, SCALAR
from .optimize import Facts
from .rules.core import SHAPE_ONLY


def _effectful(obj) -> bool:
    """A runtime helper marked ``_effectful`` (it checks, raises or writes)."""
    return isinstance(obj, types.FunctionType) and getattr(obj, "effectful", False) is True


def is_pure_call(ctx):
    pure_objects = {id(o) for o in ctx.bindings.objects.values() if not _effectful(o)}

    def is_pure(call):
        if any(k.arg == "out" for k in call.keywords):
            return False  # (writes its result into an array)
        func = call.func
        obj = ctx.bindings.objects.get(func.id) if isinstance(func, gast.Name) else None
        if obj is not None:
            return id(obj) in pure_objects
        resolved = ctx.resolver.resolve(func)
        if _effectful(resolved):  # (generated code differentiated again calls them)
            return False
        if (
            resolved is not None
            and not isinstance(resolved, type(rules))
            and rules.lookup(resolved) is not None
        ):
            return resolved is not print and not effects.writes_first_argument(resolved)
        return False
    return is_pure


# runtime helpers that read some arguments for their shape only (by position)
_SHAPE_ARGUMENTS = {id(getattr(runtime, n)): (at,) for n, at in SHAPE_ONLY.items()}
_SHAPE_ARGUMENTS[id(runtime.shape_of)] = range(64)


def facts_of(ctx, kinds, arg_kinds, tape=None) -> Facts:
    def callee(call):
        func = call.func
        if isinstance(func, gast.Name):
            return ctx.bindings.objects.get(func.id)
        # np.cos, with np bound by generated code
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.value.id in ctx.bindings.objects:
            return getattr(ctx.bindings.objects[func.value.id], func.attr, None)
        return ctx.resolver.resolve(func)

    def arg_shape(param):
        kind = arg_kinds.get(param)
        if kind in ("float", "int"):
            return ("py", kind)
        if isinstance(kind, tuple) and kind[0] == "array" and len(kind) == 4:
            return kind[3], kind[2]
        return None

    def positions():
        return {n: _SHAPE_ARGUMENTS[id(o)] for n, o in ctx.bindings.objects.items()
                if id(o) in _SHAPE_ARGUMENTS}

    def shape_operands(call):
        obj = callee(call)
        if (
            isinstance(obj, np.ufunc)
            and obj.signature is None
            and obj.nout == 1
            and len(call.args) == obj.nin
            and not call.keywords
        ):  # (elementwise: not np.matmul)
            return call.args
        if obj is runtime.log_softmax:
            return call.args[:1]
        return None

    def reduction_method(call):  # (the ndarray method skips the function's dispatch: a microsecond)
        rule = rules.lookup(callee(call))
        return rule.reduction if rule is not None else None

    def rank(v):
        kind = kinds.get(v)
        if kind in (FLOAT, SCALAR):
            return 0
        return kind[1] if isinstance(kind, tuple) and kind[0] == "array" else None

    return Facts(positions, shape_operands, reduction_method, arg_shape, callee, rank,
                 lambda v: kinds.get(v) == FLOAT,
                 lambda: ctx.helper("shape_of"), ctx.builtin, ctx.bind, tape)
