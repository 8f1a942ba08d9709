"""The pipeline: parse -> resolve -> normalise -> analyse -> reverse/forward -> optimise ->
unparse -> compile. Each step is its own module; this one only wires them together."""
from __future__ import annotations

from dataclasses import dataclass

import gast
import numpy as np

from .analysis import FLOAT, SCALAR
from .codegen import compile_functions, drop_orphan_comments, to_source
from .context import Context
from .normalize import assign, const, name, normalize_function
from .optimize import optimize as run_optimizer
from .parse import parse_function
from .reverse import ReverseMode
from . import rules, runtime

CONTAINER = "container"


def kind_of(value):
    """What generated code is specialised on: Python scalar, array rank and dtype, container."""
    cls = value.__class__
    if cls is float:
        return FLOAT
    if cls is int or cls is bool:
        return "int"
    if cls is np.ndarray:
        return ("array", value.ndim, value.dtype.str)
    if isinstance(value, np.generic):
        return SCALAR
    if isinstance(value, (list, tuple, dict)):
        return (CONTAINER, cls.__name__)
    return (cls.__module__, cls.__qualname__)


def _analysis_kind(k):
    if k == "int":
        return FLOAT
    return k if k in (FLOAT, SCALAR) else None


@dataclass
class Compiled:
    """A generated function and its source."""

    fn: object
    source: str
    name: str


def param_names(fdef) -> list[str]:
    a = fdef.args
    return [p.id for p in a.posonlyargs + a.args]


def _stage(fn):
    parsed = parse_function(fn)
    ctx = Context(parsed)
    fdef, _ = normalize_function(parsed.tree, ctx.resolver, ctx.namer, ctx.loc)
    return parsed, ctx, fdef


def normalized_source(fn) -> str:
    """The three-address form of ``fn`` as source."""
    _, _, fdef = _stage(fn)
    fdef.name = fn.__name__ if fn.__name__ != "<lambda>" else "lambda_"
    return to_source(fdef)


def _is_pure_call(ctx):
    pure_objects = {id(o) for o in ctx.bindings.objects.values()
                    if o is not runtime.add_at and o is not runtime.take_adjoint}

    def is_pure(call):
        func = call.func
        obj = ctx.bindings.objects.get(func.id) if isinstance(func, gast.Name) else None
        if obj is not None:
            return id(obj) in pure_objects
        resolved = ctx.resolver.resolve(func)
        if resolved is not None and not isinstance(resolved, type(rules)) and rules.lookup(resolved) is not None:
            return resolved not in (print,)
        return False
    return is_pure


def build_reverse(fn, wrt_positions, arg_kinds=None, mode="grad", optimize=True) -> Compiled:
    """Generate the gradient function of ``fn`` w.r.t. the positional parameters ``wrt_positions``.

    ``mode`` is "grad" (returns the gradients) or "value_and_grad" (returns value, gradients);
    ``arg_kinds`` (from ``kind_of``) lets the code skip work that the argument types make
    unnecessary; None gives code valid for every argument type."""
    parsed, ctx, fdef = _stage(fn)
    params = param_names(fdef)
    wrt = [params[i] for i in wrt_positions]
    kinds = {}
    if arg_kinds is not None:
        for p, k in zip(params, arg_kinds):
            kinds[p] = _analysis_kind(k)
            if isinstance(k, tuple) and k[0] == CONTAINER:
                ctx.containers.add(p)
    else:
        kinds = {p: None for p in params}
    rev = ReverseMode(fdef, wrt, kinds, ctx)
    entry, originals = [], {}
    for p in params:
        if p in rev.layout.mutates:  # the function writes into it: work on a private copy
            entry.append(assign(p, gast.Call(func=name(ctx.helper("copy")), args=[name(p)], keywords=[])))
    for p in wrt:
        if p in rev.layout.binds:
            originals[p] = ctx.namer.fresh(p + "_arg")
            entry.append(assign(originals[p], name(p)))
    forward = rev.forward(rev.body)
    if rev.tape:
        entry.append(assign(rev.tape, gast.List(elts=[], ctx=gast.Load())))
    seed = []
    result = rev.result
    if result is not None and result in rev.active:
        if rev.kinds.get(result) in (FLOAT, SCALAR):
            value = const(1.0)
        else:
            value = gast.Call(func=name(ctx.helper("scalar_seed")), args=[name(result), const(parsed.name)],
                              keywords=[])
        seed.append(assign(rev.adj(result), value))
        rev.live = {result}
    elif result is not None:
        seed.append(gast.Expr(value=gast.Call(func=name(ctx.helper("scalar_seed")),
                                              args=[name(result), const(parsed.name)], keywords=[])))
    backward = rev.backward(rev.body)
    pure_float = all(rev.kinds.get(v) == FLOAT for v in rev.active)
    grads = []
    for p in wrt:
        d = rev.adj(p)
        source_arg = name(originals.get(p, p))
        if p in rev.live and pure_float and kinds.get(p) == FLOAT:
            grads.append(name(d))
        elif kinds.get(p) == FLOAT and p not in rev.live:
            grads.append(const(0.0))
        else:
            value = name(d) if p in rev.live else const(0.0)
            grads.append(gast.Call(func=name(ctx.helper("cast_like")), args=[value, source_arg], keywords=[]))
    out = grads[0] if len(grads) == 1 else gast.Tuple(elts=grads, ctx=gast.Load())
    ret_value = rev.ret_node.value
    if mode == "value_and_grad":
        out = gast.Tuple(elts=[ret_value, out], ctx=gast.Load())
    body = entry + forward + seed + backward + [gast.Return(value=out)]
    gname = ctx.namer.fresh("d" + ("lambda_" if fn.__name__ == "<lambda>" else fn.__name__))
    gdef = gast.FunctionDef(name=gname, args=fdef.args, body=body, decorator_list=[], returns=None,
                            type_comment=None, type_params=[])
    gast.copy_location(gdef, fdef)
    if optimize:
        run_optimizer(gdef, _is_pure_call(ctx))
    gdef.body = drop_orphan_comments(gdef.body)
    source = to_source(gdef)
    compiled = compile_functions(source, [gname], parsed.fn, ctx.bindings.objects, gname)
    gfn = compiled[gname]
    gfn.__defaults__ = parsed.fn.__defaults__
    gfn.__kwdefaults__ = parsed.fn.__kwdefaults__
    return Compiled(gfn, source, gname)
