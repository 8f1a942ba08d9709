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
from .derived import Wrt, _array_key, _by_position, _check_differentiable, _params, _positions
from .gradients import _DECORATOR
from .jacobians import _wrt_or_argnums
from .pullbacks import vjp
from .tangents import _at, _check_pair, _jvp_function, _rebuilt, _zero_cotangent, jvp


def grad(fn: Callable = _DECORATOR, wrt: Wrt = 0, optimize: bool = True,
         has_aux: bool = False, holomorphic: bool = False, *, argnums: Wrt | None = None
         ) -> Callable:
    """The gradient of scalar-valued ``fn`` w.r.t. argument(s) ``wrt`` (position, name, or a
    tuple of those, which gives a tuple; ``argnums``, JAX's name, is another name for it). Use as
    ``ad.grad(f)``, ``@ad.grad`` or ``@ad.grad(wrt="w")``. The gradient has the argument's type
    and shape; keyword arguments of a call are passed to ``fn`` and not differentiated. ``fn``
    may also be a NumPy ufunc or C function with a derivative rule, a ``functools.partial`` or an
    object with a ``__call__`` method. ``has_aux=True``: ``fn`` returns ``(value, aux)`` (aux
    anything: a dict of metrics...); the result is ``(gradient of value, aux)``.
    ``holomorphic=True`` (JAX's): complex arguments and a complex scalar output; the result is
    ``f'(z)`` for a holomorphic ``f`` (docs/complex.md)."""
    wrt = _wrt_or_argnums(wrt, argnums, "grad")
    if fn is _DECORATOR:
        return lambda f: grad(f, wrt, optimize, has_aux, holomorphic)
    if has_aux or holomorphic:
        return through_pullback(fn, wrt, "grad", has_aux, holomorphic)
    return gradients.grad(fn, wrt, optimize)


def value_and_grad(fn: Callable = _DECORATOR, wrt: Wrt = 0, optimize: bool = True,
                   has_aux: bool = False, holomorphic: bool = False, *,
                   argnums: Wrt | None = None) -> Callable:
    """Like ``grad`` but returns ``(value, gradient)``; ``fn``'s computation runs once. With
    ``has_aux=True``: ``((value, aux), gradient)``."""
    wrt = _wrt_or_argnums(wrt, argnums, "value_and_grad")
    if fn is _DECORATOR:
        return lambda f: value_and_grad(f, wrt, optimize, has_aux, holomorphic)
    if has_aux or holomorphic:
        return through_pullback(fn, wrt, "value_and_grad", has_aux, holomorphic)
    return gradients.value_and_grad(fn, wrt, optimize)


def _with_keywords(fn, args, keywords):
    """(function, positional arguments) of a call made with keyword arguments, for the
    transforms that take arguments by position: those naming positional parameters put at
    their positions (with the defaults between), the keyword-only ones bound with
    ``functools.partial``; none of them differentiated."""
    if not keywords:
        return fn, args
    params = _params(fn)
    bound = {k: v for k, v in keywords.items() if k not in params}
    placed = {k: v for k, v in keywords.items() if k in params}
    if placed:
        args = _by_position(fn, args, placed)
    return (functools.partial(fn, **bound) if bound else fn), args


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
        target, args = _with_keywords(fn, args, keywords)
        out, pullback = vjp(target, *args)
        value = out
        if has_aux:
            _check_pair(out, name)
            value = out[0]
        seed = _complex_seed(value, name) if holomorphic else runtime.scalar_seed(value, name)
        grads = pullback(_rebuilt(out, {(0,): seed, (1,): _zero_cotangent(out[1])})
                         if has_aux else seed)
        chosen = tuple(grads[p] for p in positions)
        gradient = chosen if many else chosen[0]
        if mode == "value_and_grad":
            return out, gradient
        return (gradient, out[1]) if has_aux else gradient
    return derivative


def hvp(fn: Callable, wrt: int = 0) -> Callable:
    """``hvp(f)(x, v)``: the Hessian of scalar ``f`` w.r.t. ``x`` times ``v``, without forming the
    Hessian (forward mode over the generated gradient: JAX's ``jvp(grad(f), (x,), (v,))[1]``).
    With more arguments, ``hvp(f, wrt=i)(*args, v)``: ``v`` comes last, the other arguments are
    held fixed, as are keyword arguments (``hvp(f)(x, v, rho=28.0)``)."""
    gradient = gradients.grad(fn, wrt=wrt)
    # (_array_key of the arguments and v -> the tangent code, for calls on float arrays and
    # floats seen before: their classes, shapes and dtypes decide every check jvp makes)
    fast = FastPaths()

    @functools.wraps(as_function(fn, "hvp"))
    def product(*args_and_vector, **keywords):
        if keywords:
            if len(args_and_vector) < 2:
                raise AdError("hvp(f)(*args, v) needs the arguments of f and the vector v",
                              function=getattr(fn, "__qualname__", "f"))
            target, args = _with_keywords(fn, args_and_vector[:-1], keywords)
            # (keyword-only arguments: the gradient of f with them bound, generated again)
            inner = gradient if target is fn else gradients.grad(target, wrt=wrt)
            tangents = [None] * len(args)
            tangents[wrt] = args_and_vector[-1]
            return jvp(inner, args, tangents)[1]
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


def linearize(fn: Callable, *primals, has_aux: bool = False) -> tuple[Any, Callable]:
    """``(fn(*primals), f_jvp)`` where ``f_jvp(*tangents)`` is the tangent of the output along
    ``tangents`` (one per primal) at ``primals`` (JAX's ``linearize``; each call runs the
    generated tangent code, which recomputes the forward values). ``has_aux=True``: ``fn``
    returns ``(value, aux)``; the result is ``(value, f_jvp, aux)``, ``f_jvp`` giving the tangent
    of ``value``."""
    name = getattr(fn, "__qualname__", "f")
    out = fn(*primals)
    if has_aux:
        _check_pair(out, name)

    def f_jvp(*tangents):
        if len(tangents) != len(primals):
            raise AdTypeError("the linearized function takes one tangent per primal (%d), got %d"
                              % (len(primals), len(tangents)), function=name)
        tangent = jvp(fn, primals, tangents)[1]
        return tangent[0] if has_aux else tangent
    return (out[0], f_jvp, out[1]) if has_aux else (out, f_jvp)


def elementwise_grad(fn: Callable, wrt: int = 0) -> Callable:
    """autograd's ``elementwise_grad``: the gradient of ``sum(fn(...))`` w.r.t. argument ``wrt``,
    which for a function applied elementwise is each output's derivative by its input (JAX's
    ``vmap(grad(f))`` for such a function). Keyword arguments of a call are passed to ``fn``
    and not differentiated."""
    fn = as_function(fn, "elementwise_grad")

    @functools.wraps(fn)
    def derivative(*args, **keywords):
        target, args = _with_keywords(fn, args, keywords)
        out, pullback = vjp(target, *args)
        return pullback(np.ones_like(out, dtype=float) if np.ndim(out) else 1.0)[wrt]
    return derivative


def _check_axes(spec, what: str, name: str) -> None:
    """An ``AdTypeError`` unless ``spec`` (``in_axes`` or ``out_axes``) is an int, None, or a
    tuple, list or dict of those (nested: for the entries of an argument or output)."""
    if spec is None or (isinstance(spec, int) and not isinstance(spec, bool)):
        return
    if isinstance(spec, (tuple, list, dict)):
        for entry in (spec.values() if isinstance(spec, dict) else spec):
            _check_axes(entry, what, name)
        return
    raise AdTypeError("vmap: %s must be an int, None, or a tuple (list, dict) of those, not %r"
                      % (what, spec), function=name)


def _mismatch(spec, value, what, where, name):
    return AdError("vmap: %s %r does not match the structure of %s (%s)"
                   % (what, spec, where, type(value).__name__), function=name,
                   hint="give an int or None for the whole value, or a tuple, list or dict "
                        "of those with its entries")


def _entries_with_axes(value, spec, where, name):
    """(key, entry, its spec) of container ``value`` for container ``spec`` (their structures
    must agree), or for an int or None ``spec`` the same for every entry."""
    if isinstance(spec, dict):
        if not isinstance(value, dict) or set(value) != set(spec):
            raise _mismatch(spec, value, "in_axes", where, name)
        return [(k, v, spec[k]) for k, v in value.items()]
    if isinstance(spec, (tuple, list)):
        if not isinstance(value, (tuple, list)) or len(value) != len(spec):
            raise _mismatch(spec, value, "in_axes", where, name)
        return [(k, v, spec[k]) for k, v in enumerate(value)]
    items = value.items() if isinstance(value, dict) else enumerate(value)
    return [(k, v, spec) for k, v in items]


def _mapped_leaves(value, spec, where, name, found: list) -> None:
    """Append (where, size of the mapped axis) for each leaf of ``value`` that ``spec`` maps."""
    if spec is None or value is None:
        return
    if isinstance(value, (tuple, list, dict)) or isinstance(spec, (tuple, list, dict)):
        for key, entry, sub in _entries_with_axes(value, spec, where, name):
            _mapped_leaves(entry, sub, "%s[%r]" % (where, key), name, found)
        return
    rank = np.ndim(value)
    if not -rank <= spec < rank:
        raise AdError("vmap: in_axes maps %s along axis %d, but it has rank %d (shape %s)"
                      % (where, spec, rank, np.shape(value)), function=name,
                      hint="map an axis it has, or give None to pass it whole to every call")
    found.append((where, np.shape(value)[spec]))


def _slice(value, spec, i, where, name):
    """``value`` with each leaf that ``spec`` maps replaced by its ``i``-th slice."""
    if spec is None or value is None:
        return value
    if isinstance(value, (tuple, list, dict)) or isinstance(spec, (tuple, list, dict)):
        return _rebuilt(value, {(key,): _slice(entry, sub, i, where, name) for key, entry, sub
                                in _entries_with_axes(value, spec, where, name)})
    return np.take(value, i, axis=spec)


def _stacked(outs: list, spec, where: str, name: str):
    """The results of the calls, one structure, its leaves stacked along ``spec`` (out_axes: an
    int or None for all of them, or a tuple, list or dict of those matching the structure)."""
    first = outs[0]
    if isinstance(first, (tuple, list, dict)) or isinstance(spec, (tuple, list, dict)):
        if isinstance(spec, dict):
            matches = isinstance(first, dict) and set(first) == set(spec)
        elif isinstance(spec, (tuple, list)):
            matches = isinstance(first, (tuple, list)) and len(first) == len(spec)
        else:
            matches = True
        if not matches:
            raise _mismatch(spec, first, "out_axes", where, name)
        keys = first.keys() if isinstance(first, dict) else range(len(first))
        return _rebuilt(first, {(k,): _stacked([o[k] for o in outs],
                                               spec if isinstance(spec, (int, type(None)))
                                               else spec[k], "%s[%r]" % (where, k), name)
                                for k in keys})
    if first is None:
        return None
    if spec is None:
        if any(not np.array_equal(o, first) for o in outs[1:]):
            raise AdError("vmap: out_axes None for %s, which differs between the mapped "
                          "calls" % where, function=name,
                          hint="give the axis to stack it along (out_axes=0)")
        return first
    rank = np.ndim(first) + 1
    if not -rank <= spec < rank:
        raise AdError("vmap: out_axes %d for %s of rank %d (shape %s): the stacked result "
                      "has rank %d" % (spec, where, rank - 1, np.shape(first), rank),
                      function=name)
    return np.stack([np.asarray(o) for o in outs], axis=spec)


def vmap(fn: Callable, in_axes: int | Sequence | dict | None = 0,
         out_axes: int | Sequence | dict | None = 0, axis_size: int | None = None) -> Callable:
    """JAX's ``vmap``: ``fn`` applied to each slice of its arguments along ``in_axes``, the
    results stacked along ``out_axes``. ``in_axes``: an int (negative counts from the end) or
    None (not mapped: passed whole to every call) for every argument, or a tuple (or list)
    with one per positional argument; each entry an int or None for the whole argument, or for
    a tuple, list or dict argument a tuple, list or dict of those for its entries (nested).
    Keyword arguments are mapped along their axis 0 (every leaf), as JAX does. ``out_axes``:
    likewise an int or None for every output, or a structure of those matching the output's
    (a tuple, list or dict output is a structure of stacked results; None: an output that is
    the same for every slice, returned once). ``axis_size``: the number of calls when no
    argument is mapped. The slices are run one by one (a Python loop: no batched code is
    generated), so ``vmap(grad(f))`` gives per-example gradients with ``f``'s generated code."""
    name = getattr(fn, "__qualname__", "f")
    if isinstance(in_axes, list):  # (JAX's too: a list of axes is a tuple of them)
        in_axes = tuple(in_axes)
    _check_axes(in_axes, "in_axes", name)
    _check_axes(out_axes, "out_axes", name)

    @functools.wraps(fn)
    def mapped(*args, **keywords):
        if isinstance(in_axes, tuple):
            if len(in_axes) != len(args):
                raise AdError("vmap: in_axes %r has %d entries for %d positional arguments"
                              % (in_axes, len(in_axes), len(args)), function=name,
                              hint="one int or None per positional argument, or one int or "
                                   "None for all")
            axes = in_axes
        else:
            axes = (in_axes,) * len(args)
        places = ["argument %d" % i for i in range(len(args))]
        found: list = []
        for a, spec, where in zip(args, axes, places):
            _mapped_leaves(a, spec, where, name, found)
        for key, a in keywords.items():
            _mapped_leaves(a, 0, "argument %r" % key, name, found)
        sizes = {size for _, size in found} | ({axis_size} if axis_size is not None else set())
        if not sizes:
            raise AdError("vmap: no argument is mapped (in_axes=%r)" % (in_axes,), function=name,
                          hint="map an argument, or give axis_size")
        if len(sizes) > 1:
            raise AdError("vmap: the mapped axes have different sizes: %s"
                          % "; ".join("%s has %d" % pair for pair in found)
                          + ("; axis_size=%d" % axis_size if axis_size is not None else ""),
                          function=name, hint="map arguments of one batch size")
        n = sizes.pop()
        if n == 0:
            raise AdError("vmap over an axis of size 0: fn runs once per slice, so the shape of "
                          "its result is unknown", function=name)
        outs = [fn(*[_slice(a, spec, i, where, name) for a, spec, where in zip(args, axes, places)],
                   **{k: _slice(a, 0, i, k, name) for k, a in keywords.items()})
                for i in range(n)]
        return _stacked(outs, out_axes, "the output", name)
    return mapped


def check_grads(fn: Callable, args: Sequence, order: int = 2, modes=("rev", "fwd"),
                eps: float | None = 1e-6, rtol: float | None = 1e-5, atol: float | None = 1e-6,
                seed: int = 0) -> None:
    """Check ``fn``'s derivatives at ``args`` against central finite differences in random
    directions: ``"fwd"`` the jvp, ``"rev"`` the vjp (as ``<u, J v>``, ``Re(sum(u * J v))`` for
    complex values: docs/complex.md); with ``order`` 2 or more, the same checks of the first
    derivative (``grad`` of ``<u, fn>``), and so on. The arguments checked are those made of
    floats or complex numbers (a number, an array, or a list/tuple/dict of those; the others are
    held fixed); ``fn`` may return such a structure too. Raises AssertionError naming
    the mode and order that disagree; usable in your tests. As JAX's (``jax.test_util``):
    ``args`` a tuple or list, ``eps``, ``rtol`` or ``atol`` None for the default."""
    name = getattr(fn, "__qualname__", "f")
    if not isinstance(args, (tuple, list)):
        raise AdTypeError("check_grads(f, args, order): args must be a tuple or list of the "
                          "arguments, not %s" % type(args).__name__, function=name,
                          hint="check_grads(f, (x,), order=2) for one argument")
    tolerances = (1e-6 if eps is None else eps, 1e-5 if rtol is None else rtol,
                  1e-6 if atol is None else atol)
    _check_orders(fn, tuple(args), order, modes, tolerances, seed, 1, name)


def _check_orders(fn, args, order, modes, tolerances, seed, level, name):
    """``check_grads`` of ``fn``, derivative ``level`` of the function named ``name``, and of
    ``order - 1`` more derivatives."""
    eps, rtol, atol = tolerances
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
            _agree(_at(tangent, p), want, "forward mode (jvp)", name, level, rtol, atol)
    u = direction(out)
    if "rev" in modes:
        cotangents = vjp(fn, *args)[1](u)
        both_ways = sum(np.real(np.sum(_at(cotangents[i], p) * _at(v[i], p)))
                        for i in positions for p, _ in _float_paths(args[i]))
        _agree(both_ways, sum(np.real(np.sum(np.asarray(_at(u, p)) * d))
                              for (p, _), d in zip(outputs, numeric)),
               "reverse mode (vjp)", name, level, rtol, atol)
    if order > 1:
        # the first derivative as a function of the arguments: <u, fn(args)>'s gradient, raveled
        params = ", ".join("a%d" % i for i in range(len(args)))
        inner = " + ".join(("np.real(np.sum(u%s * out%s))" if np.iscomplexobj(leaf) else
                            "np.sum(u%s * out%s)") % (_index(p), _index(p)) for p, leaf in outputs)
        scalar = define("def scalarized(%s):\n    out = fn(%s)\n    return %s\n"
                        % (params, params, inner), "scalarized", {"np": np, "u": u, "fn": fn},
                        "<adcompiler check_grads of %s, order %d>" % (name, level))
        first = gradients.grad(scalar, wrt=tuple(positions))
        pieces = ", ".join("np.ravel(g[%d]%s)" % (k, _index(p)) for k, i in enumerate(positions)
                           for p, _ in _float_paths(args[i]))
        flat = define("def first_derivative(%s):\n    g = gradient(%s)\n"
                      "    return np.concatenate([%s])\n" % (params, params, pieces),
                      "first_derivative", {"np": np, "gradient": first},
                      "<adcompiler check_grads of %s, order %d: gradient>" % (name, level))
        _check_orders(flat, args, order - 1, modes, tolerances, seed + 1, level + 1, name)


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


def _index(path) -> str:
    return "".join("[%r]" % (key,) for key in path)


def _agree(got, want, what, name, level, rtol, atol):
    if not np.allclose(got, want, rtol=rtol, atol=atol):
        raise AssertionError("check_grads(%s): %s of derivative %d disagrees with finite "
                             "differences: %r vs %r" % (name, what, level, got, want))
