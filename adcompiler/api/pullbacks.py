"""Reverse mode at the API: ``vjp``, a forward function returning its saved values and a
backward function run by the pullback (the split pair, generated per function, positions and
argument kinds, and cached); the vjp of a gradient is Hessian-vector products."""
from __future__ import annotations

from typing import Any, Callable

from .. import arguments, compiler
from ..callables import as_function
from ..errors import AdError
from ..parse import unwrap
from ..runtime import CalleeRedefined
from .caches import _SPLITS, STATS, clear_cache
from .derived import _as_derived, _params, _positions, _spread
from .gradients import gradient_vjp
from .tangents import (
    _check_pair,
    _differentiable_positions,
    _rebuilt,
    _structure,
    _zero_cotangent,
)


def _split(fn, args, wanted=None):
    """The split pair of ``fn`` for ``args``' kinds, w.r.t. its differentiable arguments (those
    among ``wanted`` positions when given), and those positions."""
    fn = _spread(fn, len(args))
    kinds = tuple(map(arguments.kind_of, args))
    positions = _differentiable_positions(args)
    if wanted is not None:
        positions = tuple(p for p in positions if p in wanted)
    arguments.check(getattr(fn, "__qualname__", "f"), _params(fn), args, positions)
    table = _SPLITS.setdefault(unwrap(fn), {})
    pair = table.get((positions, kinds))
    if pair is None:
        pair = compiler.build_split(fn, positions, kinds, reusable=True)
        STATS["generated"] += 1
        table[(positions, kinds)] = pair
    return pair, positions


def vjp(fn: Callable, *args, wrt=None, has_aux: bool = False) -> tuple[Any, Callable]:
    """Run ``fn(*args)`` forward and return ``(out, pullback)`` (JAX's ``vjp``).
    ``pullback(cotangent)`` returns a tuple with one cotangent per positional argument (None for
    arguments that are not differentiable: ints, strings...), or with ``wrt`` (a position, a
    name, or a tuple of those) the cotangent of that argument (a tuple of those) only.
    ``has_aux=True``: ``fn`` returns ``(value, aux)``; the result is ``(value, pullback, aux)``,
    the pullback taking the cotangent of ``value``. The forward and backward halves are two
    generated functions; the tape between them is explicit, and the pullback may be called any
    number of times."""
    fn = as_function(fn, "vjp")
    if has_aux:
        out, pullback = vjp(fn, *args, wrt=wrt)
        _check_pair(out, getattr(fn, "__qualname__", "f"))
        zero_aux = _zero_cotangent(out[1])

        def value_pullback(cotangent):
            return pullback(_rebuilt(out, {(0,): cotangent, (1,): zero_aux}))
        value_pullback.source = getattr(pullback, "source", None)
        return out[0], value_pullback, out[1]
    if wrt is None:
        return _pullback(fn, args)
    positions, many = _positions(fn, wrt)
    out, every = _pullback(fn, args, positions)

    def chosen(cotangent):
        grads = every(cotangent)
        return tuple(grads[p] for p in positions) if many else grads[positions[0]]
    chosen.source = getattr(every, "source", None)
    return out, chosen


def _pullback(fn, args, wanted=None):
    """``(fn(*args), pullback)``, the pullback giving one cotangent per positional argument:
    None for those not differentiable or (with ``wanted``) not among the ``wanted`` positions,
    which the generated code does not differentiate (an argument written in place, refused as
    a ``wrt``, is then allowed)."""
    name = getattr(fn, "__qualname__", "f")
    # the vjp of a gradient: Hessian-vector products (forward over reverse)
    if _as_derived(fn) is not None:
        out = fn(*args)
        out_shape = _structure(out)
        positions = _differentiable_positions(args)

        def hvp_pullback(cotangent):
            _check_cotangent(cotangent, out_shape, name)
            return tuple(gradient_vjp(fn, p, args, cotangent)
                         if p in positions and (wanted is None or p in wanted) else None
                         for p in range(len(args)))
        return out, hvp_pullback
    pair, positions = _split(fn, args, wanted)
    try:
        out, saved = pair.forward(*args)
    except CalleeRedefined:
        clear_cache()
        pair, positions = _split(fn, args, wanted)
        out, saved = pair.forward(*args)
    out_shape = _structure(out)

    def pullback(cotangent):
        _check_cotangent(cotangent, out_shape, name)
        grads = pair.backward(saved, cotangent)
        result = [None] * len(args)
        for pos, g in zip(positions, grads):
            result[pos] = g
        return tuple(result)
    pullback.source = pair.source
    return out, pullback


def _check_cotangent(cotangent, out_shape, name):
    arguments.check(name, ["the cotangent"], (cotangent,), ())
    if _structure(cotangent) != out_shape:
        raise AdError("the cotangent has shape %s but %s returned shape %s (cotangent: %r)"
                      % (_structure(cotangent), name, out_shape, cotangent), function=name,
                      hint="pass a cotangent with the output's shape (and structure)")
