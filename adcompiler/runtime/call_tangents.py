"""Forward mode over calls of callables known only at run time (see ``calls``): the tangent of
``fn(*args)`` (``call_jvp``), and of the forward and backward halves reverse mode runs
(``call_forward_jvp``, ``call_backward_jvp``: forward over reverse, Hessians)."""
from __future__ import annotations

from .. import hooks
from ..arguments import TUPLE_OF, kind_of
from ._base import _float
from .adjoints import dense, zero_like
from .calls import (
    MethodCall,
    Unpacked,
    _called_object,
    _callee_kinds,
    _class_method,
    _dispatch,
    _flatten,
    _repacked,
)
from .objects import attribute


def _zero(t) -> bool:
    """Whether ``t`` is the zero tangent (of a number, or of a tuple such as a shape)."""
    return (t.__class__ is _float and not t) or (t.__class__ in (tuple, list)
                                                 and all(_zero(e) for e in t))


def _flat_tangents(fn, active, tangents, args, positions):
    """The tangents of the callee's active parameters from those of the ``active`` operands."""
    if fn.__class__ is MethodCall and _class_method(args[0], fn.name) is None:
        # (the callable the object holds: its tangent is the object's entry)
        inner = [attribute(t, fn.name) if i == 1 else t for i, t in zip(active, tangents) if i]
        return _flat_tangents(getattr(args[0], fn.name), tuple(i - 1 for i in active if i),
                              inner, args[1:], positions)
    if fn.__class__ is Unpacked and fn.fn.__class__ is MethodCall and fn.layout[:1] == ("",) \
            and _class_method(args[0], fn.fn.name) is None:
        # (obj.fn(*args) of a callable the object holds: called with the rest, as _dispatch does)
        inner = [attribute(t, fn.fn.name) if i == 1 else t for i, t in zip(active, tangents) if i]
        return _flat_tangents(Unpacked(getattr(args[0], fn.fn.name), fn.layout[1:]),
                              tuple(i - 1 for i in active if i), inner, args[1:], positions)
    if fn.__class__ is not Unpacked:
        # (a stateless callable's tangent is dropped)
        return tangents[len(active) - len(positions):]
    of_part = dict(zip(active, tangents))
    owners = _flatten(fn, args)[2]
    out = []
    for p in positions:
        i, key = owners[p]
        t = of_part.get(i, 0.0)
        out.append(t if key is None or t.__class__ is _float else t[key])
    return tuple(out)


def call_jvp(tangents, active, fn, *args):
    """``(fn(*args), its tangent)`` for a callable chosen at run time (forward mode)."""
    active, fn, args = _called_object(active, fn, args)
    target, operands, positions, _ = _dispatch(active, fn, args)
    tangents = _flat_tangents(fn, active, tangents, args, positions)
    return hooks.subroutine_jvp(target, (positions, _callee_kinds(operands))).fn(
        tangents, *operands)


def call_forward_jvp(active, fn, args, t_fn, t_args):
    """Tangent of ``call_forward(active, fn, *args)`` (forward mode over gradient code that calls a
    callable chosen at run time): the tangent of the value and of the saved state."""
    if t_args.__class__ is _float:  # (0.0: the zero tangent of every argument)
        t_args = (t_args,) * len(args)
    if _called_object(active, fn, args)[1] is not fn:  # (the object's tangent, unwrapped)
        t_args, t_fn = (t_fn.fn if t_fn.__class__ is Unpacked else t_fn,) + tuple(t_args), 0.0
    active, fn, args = _called_object(active, fn, args)
    target, operands, positions, _ = _dispatch(active, fn, args)
    if fn.__class__ is Unpacked:
        tangents = _flat_tangents(fn, range(1, len(args) + 1), tuple(t_args), args,
                                  range(len(operands)))
    elif fn.__class__ is MethodCall and _class_method(args[0], fn.name) is None:
        # (the callable the object holds, maybe an operand: its tangent is the object's entry)
        held = (attribute(t_args[0], fn.name),) if len(operands) == len(args) else ()
        tangents = held + tuple(t_args[1:])
    else:
        tangents = ((t_fn,) if len(operands) > len(args) else ()) + tuple(t_args)
    if all(_zero(t) for t in tangents):
        return 0.0, 0.0  # (nothing moves: rng.binomial(1, p, size) of a fixed p)
    kinds = _callee_kinds(operands)
    pair = hooks.subroutine_pair(target, (positions, kinds))
    tangents = tuple(zero_like(a) if t.__class__ is _float and not t else t
                     for t, a in zip(tangents, operands))
    run = hooks.subroutine_jvp(pair.forward, (tuple(range(len(operands))), kinds)).fn
    _, (t_out, t_saved) = run(tangents, *operands)
    return t_out, (0.0, t_saved, 0.0)


def call_backward_jvp(saved, g, t_saved, t_g):
    """Tangent of ``call_backward(saved, g)``."""
    pair, inner, repack = saved
    t_inner = zero_like(inner) if t_saved.__class__ is _float else t_saved[1]
    t_g = dense(t_g, g) if t_g.__class__ is _float else t_g
    kinds = ((TUPLE_OF, tuple(map(kind_of, inner))), kind_of(g))
    t_grads = hooks.subroutine_jvp(pair.backward, ((0, 1), kinds)).fn((t_inner, t_g), inner, g)[1]
    return _repacked(repack, t_grads)
