"""The jvp function's frame around its body: its first statements (``jvp_entry``), its return
of the value and the tangent (``jvp_return``) and its parameters, the tangents first
(``tangents_first``)."""
from __future__ import annotations

import gast

from ..ir import assign, name


def jvp_entry(fm, ctx, wrt, tangents: str, top_level: bool) -> list:
    """The jvp function's first statements: the callee guards, a fresh start at the top level,
    ``tangents`` unpacked into the tangents of ``wrt``, and a batched function's batch size."""
    entry = (
        fm.callee_guards(ctx)
        + (fm.fresh_start() + fm.distinct_arguments() if top_level else fm.distinct_entries())
        + [
            assign(
                gast.Tuple(elts=[name(fm.tan(p), True) for p in wrt], ctx=gast.Store()),
                name(tangents),
            )
        ]
    )
    if ctx.batch_size is not None:
        entry.append(assign(ctx.batch_size,
                            gast.Call(func=name(ctx.helper("batch_size")), args=[name(tangents)],
                                      keywords=[])))
    return entry


def jvp_return(fm, ctx):
    """``return (value, tangent)``, the tangent a zero like the value when none reaches the
    result."""
    ret = fm.plan.ret_node.value
    result = fm.plan.result
    if result is not None and result in fm.live and result in fm.plan.active:
        tangent = name(fm.tan(result))
    else:
        tangent = gast.Call(func=name(ctx.helper("zero_like")), args=[ret], keywords=[])
    return gast.Return(value=gast.Tuple(elts=[ret, tangent], ctx=gast.Load()))


def tangents_first(args, tangents: str):
    """The parameters ``args`` with ``tangents`` before them all (the first positional-only one
    when there are such)."""
    new_args = gast.arguments(args=[gast.Name(id=tangents, ctx=gast.Param(), annotation=None,
                                              type_comment=None)]
                              + list(args.args), posonlyargs=list(args.posonlyargs),
                              vararg=args.vararg,
                              kwonlyargs=args.kwonlyargs, kw_defaults=args.kw_defaults,
                              kwarg=args.kwarg,
                              defaults=args.defaults)
    if args.posonlyargs:
        new_args.posonlyargs = [new_args.args.pop(0)] + list(args.posonlyargs)
    return new_args
