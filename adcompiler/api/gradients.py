"""``grad`` and ``value_and_grad`` (the derived functions that generate reverse-mode code, or
for the gradient of a gradient forward mode over its generated code), ``source`` and
``normalize`` (the generated code and the normal form as text), and the vjp and jvp of a
gradient function called inside differentiated code (Hessian-vector products), which the
layers below reach through ``hooks``."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .. import arguments, compiler, runtime
from ..callables import as_function
from ..errors import AdError
from .caches import _GRAD_BY_ARG
from .derived import Wrt, _as_derived, _Derived, _positions, _private, _public, _spread, _target
from .tangents import _forward_jacobian, _jvp_function, jvp, jvp_of_jvp


class _Gradient(_Derived):
    """A derived function whose code is a gradient: reverse mode over ``fn``, or for a derived
    ``fn`` (``grad(grad(f))``) forward mode over its generated code."""

    def _generate(self, target, positions, key, args):
        if _as_derived(self.fn) is not None:
            many = isinstance(self.wrt, (tuple, list))
            if len(positions) == 1 and key[positions[0]] == "float":
                target = _target(self.fn, args)
                jvp_fn = _jvp_function(self.fn, args, positions)
                return compiler.build_outer_derivative(target, positions[0], jvp_fn, self.mode,
                                                       many)
            return _ForwardOverReverse(self, positions)
        return compiler.build_reverse(target, positions, key, self.mode, self.optimize,
                                      as_tuple=isinstance(self.wrt, (tuple, list)))


class _ForwardOverReverse:
    """The gradient of a derived function (``grad(grad(f))``): forward mode over its generated
    code, one tangent per element of the differentiated arguments."""

    def __init__(self, derived: "_Derived", positions):
        self.derived = derived
        self.positions = positions
        self.fn = self

    def __call__(self, *args):
        inner = self.derived.fn
        value = None
        grads = []
        for p in self.positions:
            jac = _forward_jacobian(inner, args, p)
            if value is None:
                value = inner(*_private(args))
                runtime.scalar_seed(value, getattr(inner, "__name__", "f"))
            jac = np.reshape(jac, np.shape(args[p]))  # (an output of size 1 adds its axes)
            grads.append(jac if np.ndim(args[p]) else float(jac))
        out = tuple(grads) if isinstance(self.derived.wrt, (tuple, list)) else grads[0]
        return (value, out) if self.derived.mode == "value_and_grad" else out

    @property
    def source(self):
        return source(self.derived.fn, mode="forward")


class _Grad(_Gradient):
    mode = "grad"


class _ValueAndGrad(_Gradient):
    mode = "value_and_grad"


class _Decorator:
    """The default of ``fn``: ``ad.grad(wrt=...)`` without a function returns a decorator (an
    explicit None is an error, like any other value that is not a function)."""

    def __repr__(self):
        return "<decorator>"


_DECORATOR: Any = _Decorator()


def grad(fn: Callable = _DECORATOR, wrt: Wrt = 0, optimize: bool = True) -> Callable:
    """The gradient of scalar-valued ``fn`` w.r.t. argument(s) ``wrt`` (position, name, or a
    tuple of those, which gives a tuple). Use as ``ad.grad(f)``, ``@ad.grad`` or
    ``@ad.grad(wrt="w")``. The gradient has the argument's type and shape. ``fn`` may also be a
    NumPy ufunc or C function with a derivative rule, a ``functools.partial`` or an object with a
    ``__call__`` method."""
    if fn is _DECORATOR:
        return lambda f: _public(_Grad(f, wrt, optimize))
    return _public(_Grad(fn, wrt, optimize))


def value_and_grad(fn: Callable = _DECORATOR, wrt: Wrt = 0, optimize: bool = True) -> Callable:
    """Like ``grad`` but returns ``(value, gradient)``; ``fn``'s computation runs once."""
    if fn is _DECORATOR:
        return lambda f: _public(_ValueAndGrad(f, wrt, optimize))
    return _public(_ValueAndGrad(fn, wrt, optimize))


def source(fn: Callable, wrt: Wrt | None = None, mode: str = "reverse", optimize: bool = True,
           args: Sequence | None = None) -> str:
    """The generated source for ``fn`` as a string (mode "reverse", "forward" or "split"): with
    ``args`` (example arguments) the code specialised for their kinds, which is what a call with
    such arguments runs; without, the code generated without the arguments' kinds, for reading
    (where a kind matters it differs from what calls run: an augmented assignment of a value of
    unknown kind shows as a rebinding). ``wrt`` defaults to a gradient function's own (for
    ``ad.source(ad.grad(f, wrt=(0, 1)))``), else to the first argument. A Jacobian or Hessian
    runs several generated functions: its source is refused (print the gradient's,
    ``ad.source(f)``)."""
    if hasattr(fn, "__adcompiler_jacobian__"):
        raise AdError("ad.source shows one generated function; a Jacobian or Hessian runs several "
                      "(the gradient's code, differentiated again)", function=getattr(
                          fn, "__qualname__", None),
                      hint="print the gradient's code: ad.source(f), or ad.source(f, "
                           "mode='forward') for the tangent code")
    derived = _as_derived(fn)
    if wrt is None:  # (a gradient function's own wrt, else the first argument)
        wrt = derived.wrt if derived is not None else 0
    fn = derived.fn if derived is not None else as_function(fn, "source")
    if args is not None:
        fn = _spread(fn, len(args))
    positions, _ = _positions(fn, wrt)
    kinds = None if args is None else arguments.kinds_of(args)
    if mode == "reverse":
        return compiler.build_reverse(fn, positions, kinds, "grad", optimize).source
    if mode == "forward":
        return compiler.build_jvp(fn, positions, kinds, optimize).source
    if mode == "split":
        return compiler.build_split(fn, positions, kinds, reusable=True, optimize=optimize).source
    raise AdError("unknown mode %r: use 'reverse', 'forward' or 'split'" % (mode,))


def normalize(fn: Callable) -> str:
    """The three-address (SSA-like) normal form of ``fn`` as source."""
    return compiler.normalized_source(as_function(fn, "normalize"))


def gradient_vjp(fn, position: int, args: tuple, cotangent):
    """The vjp w.r.t. argument ``position`` of a gradient function ``fn = grad(f, wrt)`` called as
    ``fn(*args)``: the Hessian-vector product of ``grad(f, wrt=position)`` along ``cotangent``
    placed at ``wrt`` (forward mode over generated gradient code). Used by generated code that
    differentiates a function which calls a gradient."""
    if _as_derived(fn).mode == "value_and_grad":
        # (the value's cotangent times the gradient, plus the gradient's Hessian-vector product)
        value_cotangent, cotangent = _pair(cotangent)
        inner, tangents = _as_hessian_product(fn, position, args, cotangent)
        gradient, product = jvp(inner, args, tangents)
        return runtime.add(product, _scaled(gradient, value_cotangent))
    inner, tangents = _as_hessian_product(fn, position, args, cotangent)
    return jvp(inner, args, tangents)[1]


def _scaled(value, factor):
    """``factor * value`` entry by entry for a gradient of any structure."""
    if isinstance(value, (list, tuple)):
        return type(value)(_scaled(v, factor) for v in value)
    if isinstance(value, dict):
        return {k: _scaled(v, factor) for k, v in value.items()}
    return factor * value


def _as_hessian_product(fn, position, args, cotangent):
    """(``grad(f, wrt=position)``, tangents) whose jvp is ``gradient_vjp``'s result: the cotangent
    of ``fn = grad(f, wrt)`` placed at the arguments ``wrt``."""
    derived = _as_derived(fn)
    wrt_positions, many = _positions(derived.fn, derived.wrt)
    key = (derived, position)
    inner = _GRAD_BY_ARG.get(key)
    if inner is None:
        inner = _GRAD_BY_ARG[key] = grad(derived.fn, wrt=position, optimize=derived.optimize)
    tangents = [runtime.zero_like(a) for a in args]
    if cotangent is not None:
        for p, c in zip(wrt_positions, cotangent if many else (cotangent,)):
            if _complex_for_real(c, args[p]):  # (of a real gradient: its real part counts)
                c = np.real(c)
            tangents[p] = _shaped_like(c, args[p])
    return inner, tangents


def _complex_for_real(value, arg) -> bool:
    """Whether ``value`` is a complex number or array given for the real number or array
    ``arg`` (docs/complex.md: an adjoint of a real value may be complex)."""
    return arguments.is_complex_kind(arguments.kind_of(value)) and \
        isinstance(arg, (float, np.floating, np.ndarray)) and not np.iscomplexobj(arg)


def _entries(tangent, n):
    """A tuple's tangent as one entry per element (0.0 stands for all zero)."""
    return tuple(tangent) if isinstance(tangent, (tuple, list)) else (None,) * n


def gradient_vjp_tangent(ans, args, tangents):
    """Forward rule of ``gradient_vjp`` (generated code calling it differentiated again: a third
    derivative): linear in the cotangent, forward mode over the Hessian-vector product's code."""
    fn, position, primals, cotangent = args
    _, _, t_primals, t_cotangent = tangents
    t_primals = _entries(t_primals, len(primals))
    value_cotangent = t_value_cotangent = None
    if _as_derived(fn).mode == "value_and_grad":
        value_cotangent, cotangent = _pair(cotangent)
        t_value_cotangent, t_cotangent = _pair(t_cotangent)
    inner, directions = _as_hessian_product(fn, position, primals, cotangent)
    _, moved = _as_hessian_product(fn, position, primals, _moving(t_cotangent))
    out = jvp_of_jvp(inner, primals, directions, t_primals, moved)
    if value_cotangent is None:
        return out
    # (value_and_grad: + the value's cotangent times the gradient, differentiated)
    gradient, t_gradient = jvp(inner, primals, t_primals)
    return runtime.add(out, runtime.add(_scaled(gradient, t_value_cotangent),
                                        _scaled(t_gradient, value_cotangent)))


def _pair(cotangent):
    """(value's, gradient's) parts of a value_and_grad result's cotangent (0.0: both zero)."""
    return tuple(cotangent) if isinstance(cotangent, (tuple, list)) else (0.0, None)


def _moving(t):
    """None for a tangent that is the 0.0 standing for zeros, else the tangent."""
    return None if t is None or (t.__class__ is float and not t) else t


def gradient_jvp_tangent(ans, args, tangents):
    """Forward rule of ``gradient_jvp``: the tangent of a Hessian-vector product (see
    ``jvp_of_jvp``)."""
    fn, primals, directions = args
    _, t_primals, t_directions = tangents
    return jvp_of_jvp(fn, primals, directions, _entries(t_primals, len(primals)),
                      _entries(t_directions, len(primals)))


def _shaped_like(value, like):
    """A cotangent used as a tangent of ``like``: arrays broadcast to its shape, entry by entry
    for lists, tuples and dicts (0.0 stands for a zero of any structure)."""
    if isinstance(like, (list, tuple)):
        parts = [0.0] * len(like) if value.__class__ is float else value
        return (
            type(like)(_shaped_like(v, e) for v, e in zip(parts, like))
            if like.__class__ in (list, tuple)
            else like.__class__(*(_shaped_like(v, e) for v, e in zip(parts, like)))
        )
    if isinstance(like, dict):
        return {k: _shaped_like(0.0 if value.__class__ is float else value[k], e)
                for k, e in like.items()}
    return np.broadcast_to(value, np.shape(like)) if np.ndim(like) else value


def gradient_jvp(fn, args: tuple, tangents: tuple):
    """Tangent of ``fn(*args)`` for a gradient function ``fn`` (a Hessian-vector product)."""
    return jvp(fn, args, tuple(tangents))[1]
