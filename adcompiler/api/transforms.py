"""The rest of the API a JAX or autograd user reaches for, built on ``grad``, ``vjp`` and ``jvp``:
the public ``grad``/``value_and_grad`` (with ``has_aux``), ``hvp``, ``linearize``,
``elementwise_grad``, ``vmap`` and ``check_grads``."""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from .. import runtime
from ..callables import as_function
from ..errors import AdError, AdTypeError
from ..parse import define
from ..runtime import CalleeRedefined
from . import gradients
from .caches import FastPaths
from .derived import Wrt, _array_key, _check_differentiable, _positions
from .gradients import _DECORATOR
from .pullbacks import vjp
from .tangents import _jvp_function, jvp


def grad(fn: Callable = _DECORATOR, wrt: Wrt = 0, optimize: bool = True,
         has_aux: bool = False, holomorphic: bool = False) -> Callable:
    """The gradient of scalar-valued ``fn`` w.r.t. argument(s) ``wrt`` (position, name, or a
    tuple of those, which gives a tuple). Use as ``ad.grad(f)``, ``@ad.grad`` or
    ``@ad.grad(wrt="w")``. The gradient has the argument's type and shape. ``fn`` may also be a
    NumPy ufunc or C function with a derivative rule, a ``functools.partial`` or an object with a
    ``__call__`` method. ``has_aux=True``: ``fn`` returns ``(value, aux)``; the result is
    ``(gradient of value, aux)``. ``holomorphic=True`` (JAX's): complex arguments and a complex
    scalar output; the result is ``f'(z)`` for a holomorphic ``f`` (docs/complex.md)."""
    if fn is _DECORATOR:
        return lambda f: grad(f, wrt, optimize, has_aux, holomorphic)
    if has_aux or holomorphic:
        return through_pullback(fn, wrt, "grad", has_aux, holomorphic)
    return gradients.grad(fn, wrt, optimize)


def value_and_grad(fn: Callable = _DECORATOR, wrt: Wrt = 0, optimize: bool = True,
                   has_aux: bool = False, holomorphic: bool = False) -> Callable:
    """Like ``grad`` but returns ``(value, gradient)``; ``fn``'s computation runs once. With
    ``has_aux=True``: ``((value, aux), gradient)``."""
    if fn is _DECORATOR:
        return lambda f: value_and_grad(f, wrt, optimize, has_aux, holomorphic)
    if has_aux or holomorphic:
        return through_pullback(fn, wrt, "value_and_grad", has_aux, holomorphic)
    return gradients.value_and_grad(fn, wrt, optimize)


def _zero_cotangent(value):
    """The zero cotangent of an output of any structure (0.0 for a number, zeros for an array)."""
    if isinstance(value, (tuple, list)):
        return type(value)(_zero_cotangent(v) for v in value)
    if isinstance(value, dict):
        return {k: _zero_cotangent(v) for k, v in value.items()}
    return np.zeros(np.shape(value)) if np.ndim(value) else 0.0


def _complex_seed(value, name):
    """The seed of ``grad(holomorphic=True)``: one of the complex scalar output's type."""
    if np.iscomplexobj(value) and np.size(value) == 1:
        return np.ones(np.shape(value), np.result_type(value)) if np.ndim(value) else 1.0 + 0.0j
    raise AdTypeError("grad(holomorphic=True) needs a complex scalar output, but %s returned %s"
                      % (name, type(value).__name__), function=name,
                      hint="return a complex number, or drop holomorphic=True for a real output")


def through_pullback(fn: Callable, wrt: Wrt, mode: str, has_aux: bool,
                     holomorphic: bool) -> Callable:
    """``grad`` (``mode`` "grad") and ``value_and_grad`` with ``has_aux`` (``fn`` returns
    ``(value, aux)``, runs once, and only ``value`` is differentiated: ``(gradient, aux)`` or
    ``((value, aux), gradient)``) or ``holomorphic`` (complex arguments, a complex output seeded
    with 1: ``f'(z)``), through ``vjp``."""
    fn = as_function(fn, mode)
    name = getattr(fn, "__qualname__", "f")

    @functools.wraps(fn)
    def derivative(*args, **keywords):
        positions, many = _positions(fn, wrt)
        _check_differentiable(fn, args, positions)
        if holomorphic:
            for p in positions:
                if not np.iscomplexobj(args[p]):
                    raise AdTypeError("grad(holomorphic=True) needs complex arguments, but "
                                      "argument %d of %s is %s" % (p, name, type(args[p]).__name__),
                                      function=name, hint="pass complex values (x + 0j)")
        target = functools.partial(fn, **keywords) if keywords else fn
        out, pullback = vjp(target, *args)
        value = out
        if has_aux:
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise AdError("has_aux=True: %s must return a pair (value, aux), but it returned "
                              "%s" % (name, type(out).__name__), function=name,
                              hint="return (loss, aux), or drop has_aux")
            value = out[0]
        seed = _complex_seed(value, name) if holomorphic else runtime.scalar_seed(value, name)
        grads = pullback(type(out)((seed, _zero_cotangent(out[1]))) if has_aux else seed)
        chosen = tuple(grads[p] for p in positions)
        gradient = chosen if many else chosen[0]
        if mode == "value_and_grad":
            return out, gradient
        return (gradient, out[1]) if has_aux else gradient
    return derivative


def hvp(fn: Callable, wrt: int = 0) -> Callable:
    """``hvp(f)(x, v)``: the Hessian of scalar ``f`` w.r.t. ``x`` times ``v``, without forming the
    Hessian (forward mode over the generated gradient). With more arguments,
    ``hvp(f, wrt=i)(*args, v)``: ``v`` comes last, the other arguments are held fixed."""
    gradient = gradients.grad(fn, wrt=wrt)
    # (_array_key of the arguments and v -> the tangent code, for calls on float arrays and
    # floats seen before: their classes, shapes and dtypes decide every check jvp makes)
    fast = FastPaths()

    @functools.wraps(as_function(fn, "hvp"))
    def product(*args_and_vector):
        run = fast.get(_array_key(args_and_vector))
        if run is not None:
            try:
                return run((args_and_vector[-1],), *args_and_vector[:-1])[1]
            except CalleeRedefined:
                pass  # (the general path generates the code again)
        if len(args_and_vector) < 2:
            raise AdError("hvp(f)(*args, v) needs the arguments of f and the vector v",
                          function=getattr(fn, "__qualname__", "f"))
        args, v = args_and_vector[:-1], args_and_vector[-1]
        tangents = [None] * len(args)
        tangents[wrt] = v
        result = jvp(gradient, args, tangents)[1]
        if all(_real_float(a) for a in args_and_vector) and v.__class__ is args[wrt].__class__ \
                and getattr(v, "shape", None) == getattr(args[wrt], "shape", None):
            fast[_array_key(args_and_vector)] = _jvp_function(gradient, args,
                                                              (wrt % len(args),))
        return result
    return product


def _real_float(value) -> bool:
    """A Python float or a real float ndarray (not a subclass)."""
    return value.__class__ is float or (value.__class__ is np.ndarray
                                        and value.dtype.kind == "f")


def linearize(fn: Callable, *primals) -> tuple[Any, Callable]:
    """``(fn(*primals), f_jvp)`` where ``f_jvp(*tangents)`` is the tangent of the output along
    ``tangents`` at ``primals`` (JAX's ``linearize``; each call runs the generated tangent code,
    which recomputes the forward values)."""
    out = fn(*primals)

    def f_jvp(*tangents):
        if len(tangents) != len(primals):
            raise AdError("the linearized function takes one tangent per primal (%d), got %d"
                          % (len(primals), len(tangents)), function=getattr(fn, "__qualname__",
                                                                              "f"))
        return jvp(fn, primals, tangents)[1]
    return out, f_jvp


def elementwise_grad(fn: Callable, wrt: int = 0) -> Callable:
    """autograd's ``elementwise_grad``: the gradient of ``sum(fn(...))`` w.r.t. argument ``wrt``,
    which for a function applied elementwise is each output's derivative by its input."""
    fn = as_function(fn, "elementwise_grad")

    @functools.wraps(fn)
    def derivative(*args):
        out, pullback = vjp(fn, *args)
        return pullback(np.ones_like(out, dtype=float) if np.ndim(out) else 1.0)[wrt]
    return derivative


def _axes_per_argument(in_axes, n: int, name: str) -> list:
    if isinstance(in_axes, (int, type(None))) and not isinstance(in_axes, bool):
        return [in_axes] * n
    if isinstance(in_axes, (tuple, list)) and len(in_axes) == n and all(
            a is None or (isinstance(a, int) and not isinstance(a, bool)) for a in in_axes):
        return list(in_axes)
    raise AdError("vmap: in_axes=%r must be an int, None, or a tuple with one int or None per "
                  "argument (%d here)" % (in_axes, n), function=name,
                  hint="nested in_axes (for the entries of a list or dict argument) are not "
                       "supported: map over whole arguments")


def vmap(fn: Callable, in_axes: int | Sequence | None = 0, out_axes: int | Sequence = 0
         ) -> Callable:
    """JAX's ``vmap``: ``fn`` applied to each slice of its arguments along ``in_axes`` (an int or
    None for every argument, or one per argument; None: not mapped), the results stacked along
    ``out_axes`` (one per output for a tuple output). The slices are run one by one (a Python
    loop), so ``vmap(grad(f))`` gives per-example gradients with ``f``'s generated code."""
    name = getattr(fn, "__qualname__", "f")

    @functools.wraps(fn)
    def mapped(*args):
        axes = _axes_per_argument(in_axes, len(args), name)
        sizes = {np.shape(a)[ax] for a, ax in zip(args, axes) if ax is not None}
        if not sizes:
            raise AdError("vmap: no argument is mapped (in_axes=%r)" % (in_axes,), function=name)
        if len(sizes) > 1:
            raise AdError("vmap: the mapped axes have different sizes %s" % sorted(sizes),
                          function=name, hint="map arguments of one batch size")
        outs = [fn(*[a if ax is None else np.take(a, i, axis=ax) for a, ax in zip(args, axes)])
                for i in range(sizes.pop())]
        if isinstance(outs[0], tuple):
            places = out_axes if isinstance(out_axes, (tuple, list)) else [out_axes] * len(outs[0])
            return tuple(np.stack([o[k] for o in outs], axis=places[k])
                         for k in range(len(outs[0])))
        return np.stack(outs, axis=out_axes)
    return mapped


def check_grads(fn: Callable, args: Sequence, order: int = 2, modes=("rev", "fwd"),
                eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-6, seed: int = 0) -> None:
    """Check ``fn``'s derivatives at ``args`` against central finite differences in random
    directions: ``"fwd"`` the jvp, ``"rev"`` the vjp (as ``<u, J v>``, ``Re(sum(u * J v))`` for
    complex values: docs/complex.md); with ``order`` 2 or more, the same checks of the first
    derivative (``grad`` of ``<u, fn>``), and so on. The arguments checked are those made of
    floats or complex numbers (a number, an array, or a list/tuple/dict of those; the others are
    held fixed); ``fn`` may return such a structure too. Raises AssertionError naming
    the mode and order that disagree; usable in your tests."""
    args = tuple(args)
    name = getattr(fn, "__qualname__", "f")
    rng = np.random.RandomState(seed)
    positions = [i for i, a in enumerate(args) if _float_paths(a)]
    if not positions:
        raise AdError("check_grads: no float or complex argument of %s" % name, function=name)

    def direction(a):
        return _rebuilt(a, {p: _random_like(leaf, rng) for p, leaf in _float_paths(a)})

    def moved(step, v):
        return tuple(_rebuilt(a, {p: leaf + step * _at(v[i], p) for p, leaf in _float_paths(a)})
                     if i in positions else a for i, a in enumerate(args))

    v = {i: direction(args[i]) for i in positions}
    out = fn(*args)
    outputs = [((), out)] if isinstance(out, (float, complex, np.ndarray)) else _float_paths(out)
    if not outputs:
        raise AdError("check_grads: %s returned %s, not floats or a structure of floats"
                      % (name, type(out).__name__), function=name)
    plus, minus = fn(*moved(eps, v)), fn(*moved(-eps, v))
    numeric = [(np.asarray(_at(plus, p)) - np.asarray(_at(minus, p))) / (2 * eps)
               for p, _ in outputs]
    if "fwd" in modes:
        tangent = jvp(fn, args, [v.get(i) for i in range(len(args))])[1]
        for (p, _), want in zip(outputs, numeric):
            _agree(_at(tangent, p), want, "forward mode (jvp)", name, order, rtol, atol)
    u = direction(out)
    if "rev" in modes:
        cotangents = vjp(fn, *args)[1](u)
        both_ways = sum(np.real(np.sum(_at(cotangents[i], p) * _at(v[i], p)))
                        for i in positions for p, _ in _float_paths(args[i]))
        _agree(both_ways, sum(np.real(np.sum(np.asarray(_at(u, p)) * d))
                              for (p, _), d in zip(outputs, numeric)),
               "reverse mode (vjp)", name, order, rtol, atol)
    if order > 1:
        # the first derivative as a function of the arguments: <u, fn(args)>'s gradient, raveled
        params = ", ".join("a%d" % i for i in range(len(args)))
        inner = " + ".join(("np.real(np.sum(u%s * out%s))" if np.iscomplexobj(leaf) else
                            "np.sum(u%s * out%s)") % (_index(p), _index(p)) for p, leaf in outputs)
        scalar = define("def scalarized(%s):\n    out = fn(%s)\n    return %s\n"
                        % (params, params, inner), "scalarized", {"np": np, "u": u, "fn": fn},
                        "<adcompiler check_grads of %s, order %d>" % (name, order))
        first = gradients.grad(scalar, wrt=tuple(positions))
        pieces = ", ".join("np.ravel(g[%d]%s)" % (k, _index(p)) for k, i in enumerate(positions)
                           for p, _ in _float_paths(args[i]))
        flat = define("def first_derivative(%s):\n    g = gradient(%s)\n"
                      "    return np.concatenate([%s])\n" % (params, params, pieces),
                      "first_derivative", {"np": np, "gradient": first},
                      "<adcompiler check_grads of %s, order %d: gradient>" % (name, order))
        check_grads(flat, args, order - 1, modes, eps, rtol, atol, seed + 1)


def _random_like(leaf, rng):
    """A random direction of ``leaf``'s type and shape (complex for a complex leaf)."""
    t = rng.randn(*np.shape(leaf))
    if np.iscomplexobj(leaf):
        t = t + 1j * rng.randn(*np.shape(leaf))
        return t if np.ndim(leaf) else complex(t)
    return t if np.ndim(leaf) else float(t)


def _float_paths(value, path=()) -> list:
    """(path, leaf) of each float or complex leaf of ``value`` (a number, an array of floats or
    complex numbers, or a list, tuple or dict of those); [] when any leaf is something else."""
    if isinstance(value, (float, complex)) or (isinstance(value, np.ndarray)
                                               and value.dtype.kind in "fc"):
        return [(path, value)]
    if isinstance(value, (list, tuple, dict)) and len(value):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        found = [_float_paths(item, path + (key,)) for key, item in items]
        return [pair for pairs in found for pair in pairs] if all(found) else []
    return []


def _at(value, path):
    for key in path:
        value = value[key]
    return value


def _index(path) -> str:
    return "".join("[%r]" % (key,) for key in path)


def _rebuilt(value, leaves: dict, path=()):
    """``value`` with the leaf at each path of ``leaves`` replaced."""
    if path in leaves:
        return leaves[path]
    if isinstance(value, dict):
        return {k: _rebuilt(v, leaves, path + (k,)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_rebuilt(v, leaves, path + (k,)) for k, v in enumerate(value))
    return value


def _agree(got, want, what, name, order, rtol, atol):
    if not np.allclose(got, want, rtol=rtol, atol=atol):
        raise AssertionError("check_grads(%s): %s at order %d disagrees with finite differences:"
                             " %r vs %r" % (name, what, order, got, want))
