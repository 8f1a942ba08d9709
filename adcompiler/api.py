"""The public API: grad, value_and_grad, source, normalize (and the cache behind them)."""
from __future__ import annotations

import functools
import inspect
import types
import weakref
from typing import Any, Callable, Sequence, Union

import numpy as np

from . import arguments, compiler, hooks, runtime
from .batched import Unbatchable
from .callables import as_function
from .errors import AdError
from .parse import unwrap
from .runtime import CalleeRedefined
from .runtime.calls import _trampoline

Wrt = Union[int, str, Sequence[Union[int, str]]]

# every derived function made so far (their class-keyed fast paths are cleared with the cache)
_LIVE: "weakref.WeakSet" = weakref.WeakSet()
# function -> {(wrt, mode, options, argument kinds): generated function}
_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
STATS = {"generated": 0}


def _cache_for(fn) -> dict:
    try:
        return _CACHE.setdefault(fn, {})
    except TypeError:  # not weak-referenceable: cache on nothing
        return {}


def _params(fn) -> list[str]:
    """Positional parameter names (``co_argcount`` includes positional-only ones)."""
    while _as_derived(fn) is not None:
        fn = _as_derived(fn).fn
    fn = unwrap(fn)
    skip = 1 if isinstance(fn, types.MethodType) else 0  # a bound method's instance is not passed
    code = getattr(fn, "__func__", fn).__code__
    return list(code.co_varnames[skip:code.co_argcount])


def _positions(fn, wrt) -> tuple[tuple[int, ...], bool]:
    """Positions of ``wrt`` among ``fn``'s parameters and whether a tuple was asked for."""
    params = _params(fn)
    many = isinstance(wrt, (tuple, list))
    items = list(wrt) if many else [wrt]
    name = getattr(fn, "__qualname__", repr(fn))
    out = []
    for w in items:
        if isinstance(w, bool) or not isinstance(w, (int, str)):
            raise AdError("wrt=%r must be an argument position, an argument name or a tuple of those" % (w,),
                          function=name)
        if isinstance(w, str):
            if w not in params:
                raise AdError("wrt=%r names no argument of %s(%s)" % (w, name, ", ".join(params)), function=name,
                              hint="use one of: %s" % ", ".join(params))
            out.append(params.index(w))
        else:
            if not -len(params) <= w < len(params):
                raise AdError("wrt=%d is out of range: %s takes %d positional argument(s) (%s)"
                              % (w, name, len(params), ", ".join(params)), function=name)
            out.append(w % len(params))
    return tuple(out), many


def _check_differentiable(fn, args, positions):
    """An AdError for an argument the generated code cannot be trusted with (``arguments.check``)
    or one in ``positions`` that cannot be differentiated (an int, a bool, an int array, None...)."""
    params = _params(fn)
    for i in positions:
        if i >= len(args):
            raise AdError("the gradient w.r.t. %r needs that argument to be passed" % params[i],
                          function=fn.__qualname__)
    arguments.check(fn.__qualname__, params, args, positions)
    for i in positions:
        k = arguments.kind_of(args[i])
        value = args[i]
        if k == "int" or value is None or isinstance(value, (str, bytes)) or \
                (isinstance(value, np.generic) and not isinstance(value, np.floating)) or \
                (isinstance(k, tuple) and k[0] == "array" and k[2][1] not in "f"):
            raise AdError("cannot differentiate w.r.t. argument %r: it is %r (%s), which is not differentiable"
                          % (params[i], value if not hasattr(value, "shape") else "an array of dtype %s" % value.dtype,
                             type(value).__name__),
                          function=fn.__qualname__, hint="pass a float (e.g. %r) or a float array" %
                          (float(value) if isinstance(value, (int, bool)) else 0.0))


class _Derived:
    """A function derived from ``fn``: generates specialised code on first use per argument kinds."""

    mode = "grad"
    __adcompiler_derived__ = True

    def __init__(self, fn, wrt: Wrt, optimize: bool = True):
        self.fn = fn = as_function(fn, self.mode)
        self.binding = type(fn) if isinstance(fn, (staticmethod, classmethod)) else None
        self.wrt = wrt
        self.optimize = optimize
        self._positions = None
        self._by_class: dict = {}  # argument classes -> generated function, for calls without arrays
        self._by_key: dict = {}    # _array_key(args) -> generated function, for calls with arrays
        self._fns = _cache_for(unwrap(fn)).setdefault((self.mode, _freeze(wrt), optimize), {})
        functools.update_wrapper(self, fn, updated=())  # never copy fn.__dict__ (a derived fn's cache)
        _LIVE.add(self)
        self.__name__ = "%s_of_%s" % (self.mode, getattr(fn, "__name__", "f"))

    def _args(self, args, kwargs):
        """(positional arguments, keyword-only arguments) of a call made with keywords."""
        import inspect
        bound = inspect.signature(self.fn).bind(*args, **kwargs)
        bound.apply_defaults()
        return tuple(bound.args), bound.kwargs

    def __call__(self, *args, **kwargs):
        if not kwargs:
            fn = self._by_class.get(args[0].__class__ if len(args) == 1 else tuple(map(type, args))) \
                or self._by_key.get(_array_key(args))
            if fn is not None:
                return fn(*args)
        return self._dispatch(args, kwargs)

    def _dispatch(self, args, kwargs):
        try:
            return self._dispatch_once(args, kwargs)
        except CalleeRedefined:
            clear_cache()  # a function it calls was redefined: generate everything again
            return self._dispatch_once(args, kwargs)

    def _dispatch_once(self, args, kwargs):
        """The slow path (the fast paths missed): find or generate the code for these kinds."""
        keyword_only = {}
        if kwargs:
            args, keyword_only = self._args(args, kwargs)
        key = arguments.kinds_of(args)
        fn = self._fns.get(key)
        if fn is None:
            fn = self._build(key, args)
        fast = self._guarded(fn, args)
        classes = tuple(map(type, args))
        if _ndarray not in classes:
            self._by_class[classes[0] if len(classes) == 1 else classes] = fast
        else:
            if len(self._by_key) >= _MAX_SHAPE_KEYS:  # (many shapes seen: start again)
                self._by_key.clear()
            self._by_key[_array_key(args)] = fast
        return fast(*args, **keyword_only)

    def _target(self, args):
        """(function to generate code for, positions of wrt among its parameters) for a call."""
        target = self.fn if _as_derived(self.fn) is not None else _spread(self.fn, len(args))
        if target is not self.fn:  # f(*xs): positions among the arguments of this call
            return target, _positions(target, self.wrt)[0]
        if self._positions is None:
            self._positions = _positions(self.fn, self.wrt)
        return target, self._positions[0]

    def _guarded(self, fn, args):
        """``fn``, or when arguments hold values (containers, objects: their classes, the cache key,
        do not say what they hold) a function that checks what they hold, then calls ``fn``."""
        if not any(map(arguments.has_parts, args)):
            return fn
        target, positions = self._target(args)
        name, params = target.__qualname__, _params(target)

        def guarded(*args, **keyword_only):
            arguments.check(name, params, args, positions, parts_only=True)
            return fn(*args, **keyword_only)
        return guarded

    def _build(self, key, args):
        target, positions = self._target(args)
        _check_differentiable(target, args, positions)
        compiled = self._generate(target, positions, key, args)
        STATS["generated"] += 1
        self._fns[key] = compiled.fn
        return compiled.fn

    def _generate(self, target, positions, key, args):
        if _as_derived(self.fn) is not None:
            many = isinstance(self.wrt, (tuple, list))
            if len(positions) == 1 and key[positions[0]] == "float":
                target = _target(self.fn, args)
                jvp_fn = _jvp_function(self.fn, args, positions)
                return compiler.build_outer_derivative(target, positions[0], jvp_fn, self.mode, many)
            return _ForwardOverReverse(self, positions)
        return compiler.build_reverse(target, positions, key, self.mode, self.optimize,
                                      as_tuple=isinstance(self.wrt, (tuple, list)))

    def _function_for(self, args):
        """The generated function used for these arguments (generating it if needed)."""
        key = arguments.kinds_of(args)
        return self._fns.get(key) or self._build(key, args)

    @property
    def source(self) -> str:
        """The generated source (valid for every argument type)."""
        positions, many = _positions(self.fn, self.wrt)
        return compiler.build_reverse(self.fn, positions, None, self.mode, self.optimize, as_tuple=many).source


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


class _Grad(_Derived):
    mode = "grad"


class _ValueAndGrad(_Derived):
    mode = "value_and_grad"


class GradientFunction(functools.partial):
    """What ``grad``/``value_and_grad`` return: called like ``f``; ``.source`` is the generated
    code. Calls go straight to a small generated dispatcher (see ``_dispatcher``)."""

    __adcompiler_derived__ = True

    @property
    def source(self) -> str:
        return self.derived.source

    def __get__(self, instance, owner=None):
        """Used as a method decorator (``@ad.grad`` on ``def g(self, x)``): differentiate the method
        bound to ``instance`` (one gradient function per instance)."""
        binding = self.derived.binding
        if binding is staticmethod or (instance is None and binding is not classmethod):
            return self
        if binding is classmethod:
            instance = owner if instance is None else type(instance)
        bound = self.__dict__.setdefault("_bound", weakref.WeakKeyDictionary())
        try:
            made = bound.get(instance)
        except TypeError:  # an instance that cannot be weakly referenced
            made = None
        if made is None:
            derived = self.derived
            func = derived.fn.__func__ if binding is classmethod else derived.fn
            made = _public(type(derived)(types.MethodType(func, instance), derived.wrt, derived.optimize))
            try:
                bound[instance] = made
            except TypeError:
                pass
        return made

    def __repr__(self):
        return "<%s of %s>" % (self.derived.mode, getattr(self.derived.fn, "__qualname__", self.derived.fn))


def _public(derived: "_Derived") -> GradientFunction:
    out = GradientFunction(_dispatcher(derived))
    out.derived = derived
    functools.update_wrapper(out, derived.fn, updated=())
    out.__name__ = derived.__name__
    return out


def _dispatcher(derived: "_Derived"):
    """A function with ``f``'s positional parameters that looks its argument classes up in the
    derived function's cache (no ``*args`` packing): the cached-call fast path."""
    fn = unwrap(derived.fn)
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    params = _params(fn) if code is not None else []
    simple = code is not None and not (code.co_flags & 0x0C) and not code.co_kwonlyargcount \
        and params and "generated" not in params
    if not simple:  # *args, **kwargs or keyword-only parameters: the general path
        return derived
    safe = ["a%d" % i for i in range(len(params))]
    key = "%s.__class__" % safe[0] if len(safe) == 1 else "(%s,)" % ", ".join("%s.__class__" % a for a in safe)
    array_key = "(%s,)" % ", ".join("%s.shape if %s.__class__ is ndarray else %s.__class__, "
                                    "%s.dtype if %s.__class__ is ndarray else None" % ((a,) * 5) for a in safe)
    all_arrays = " and ".join("%s.__class__ is ndarray" % a for a in safe)
    arrays_key = "(%s,)" % ", ".join("%s.shape, %s.dtype" % (a, a) for a in safe)
    src = ("def make(get, get_array, slow):\n"
           "    def dispatch(%s):\n"
           "        if %s:\n"
           "            generated = get_array(%s)\n"
           "        else:\n"
           "            generated = get(%s)\n"
           "            if generated is None:\n"
           "                generated = get_array(%s)  # (keys as _array_key)\n"
           "        if generated is not None:\n"
           "            try:\n"
           "                return generated(%s)\n"
           "            except redefined:\n"
           "                pass\n"
           "        return slow((%s,), None)\n"
           "    return dispatch\n" % (", ".join(safe), all_arrays, arrays_key, key, array_key, ", ".join(safe),
                                     ", ".join(safe)))
    ns = {"redefined": CalleeRedefined, "ndarray": np.ndarray}
    exec(compile(src, "<adcompiler dispatch>", "exec"), ns)
    dispatch = ns["make"](derived._by_class.get, derived._by_key.get, derived._dispatch)
    defaults = getattr(fn, "__defaults__", None)
    dispatch.__defaults__ = defaults
    # give the parameters the user's names, so that keyword calls bind as they would on ``f``
    dispatch.__code__ = dispatch.__code__.replace(co_varnames=tuple(params) + dispatch.__code__.co_varnames[len(params):])
    return dispatch


def _as_derived(fn):
    """The derived-function state behind a gradient function (or None)."""
    if isinstance(fn, GradientFunction):
        return fn.derived
    return fn if isinstance(fn, _Derived) else None


_ndarray = np.ndarray
_MAX_SHAPE_KEYS = 512


def _array_key(args):
    """A cheap key that decides the generated code: classes, and the shapes and dtypes of arrays
    (the code depends on their ranks and on which arrays have equal shapes)."""
    key = []
    for a in args:  # (flat: cheaper to hash and compare than a tuple per argument)
        key += (a.shape, a.dtype) if a.__class__ is _ndarray else (a.__class__, None)
    return tuple(key)


def _private(args) -> tuple:
    """Copies of the arrays, lists and dicts among ``args`` (nested ones too), for the operators
    that run the function several times (Jacobians, Hessians): a function that writes into its
    arguments must see the same values at every run, and the caller's data stays as it was."""
    return tuple(_private_copy(a) for a in args)


def _private_copy(value):
    if value.__class__ is _ndarray:
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(_private_copy(v) for v in value) if value.__class__ in (list, tuple) else value
    if value.__class__ is dict:
        return {k: _private_copy(v) for k, v in value.items()}
    return value


def _freeze(wrt):
    return tuple(wrt) if isinstance(wrt, list) else wrt


class _Decorator:
    """The default of ``fn``: ``ad.grad(wrt=...)`` without a function returns a decorator (an explicit
    None is an error, like any other value that is not a function)."""

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


def source(fn: Callable, wrt: Wrt = 0, mode: str = "reverse", optimize: bool = True,
           args: Sequence | None = None) -> str:
    """The generated source for ``fn`` as a string (mode "reverse", "forward" or "split"): the code
    valid for every argument type, or with ``args`` (example arguments) the code specialised for
    their kinds, which is what a call with such arguments runs."""
    fn = _as_derived(fn).fn if _as_derived(fn) is not None else as_function(fn, "source")
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


def clear_cache() -> None:
    """Forget all generated code (after registering a new rule, or when a callee was redefined)."""
    compiler.clear_cache()
    for entry in list(_CACHE.values()):
        for table in entry.values():
            table.clear()
    for derived in list(_LIVE):
        derived._by_class.clear()
        derived._by_key.clear()
    _SPLITS.clear()
    _JVPS.clear()
    _GRAD_BY_ARG.clear()


# function -> {(positions, kinds): Split}
_SPLITS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _differentiable_positions(args) -> tuple[int, ...]:
    """Positions of the arguments vjp and jvp differentiate: floats, float arrays, containers and
    plain objects (complex ones and unknown types are refused by ``arguments.check``)."""
    out = []
    for i, a in enumerate(args):
        k = arguments.kind_of(a)
        if k == "float" or (k == "scalar" and isinstance(a, (np.floating, np.complexfloating))) or \
                (isinstance(k, tuple) and ((k[0] == "array" and k[2][1] in "fc") or k[0] == compiler.CONTAINER
                                           or (k[0] == "object" and arguments.plain_object(a)))):
            out.append(i)
    return tuple(out)


def _split(fn, args):
    fn = _spread(fn, len(args))
    kinds = tuple(map(arguments.kind_of, args))
    positions = _differentiable_positions(args)
    arguments.check(getattr(fn, "__qualname__", "f"), _params(fn), args, positions)
    table = _SPLITS.setdefault(unwrap(fn), {})
    pair = table.get((positions, kinds))
    if pair is None:
        pair = compiler.build_split(fn, positions, kinds, reusable=True)
        STATS["generated"] += 1
        table[(positions, kinds)] = pair
    return pair, positions


def vjp(fn: Callable, *args) -> tuple[Any, Callable]:
    """Run ``fn(*args)`` forward and return ``(out, pullback)``. ``pullback(cotangent)`` returns
    one cotangent per positional argument (None for arguments that are not differentiable). The
    forward and backward halves are two generated functions; the tape between them is explicit,
    and the pullback may be called any number of times."""
    fn = as_function(fn, "vjp")
    name = getattr(fn, "__qualname__", "f")
    if _as_derived(fn) is not None:  # the vjp of a gradient: Hessian-vector products (forward over reverse)
        out = fn(*args)
        out_shape = _structure(out)
        positions = _differentiable_positions(args)

        def hvp_pullback(cotangent):
            _check_cotangent(cotangent, out_shape, name)
            return tuple(gradient_vjp(fn, p, args, cotangent) if p in positions else None for p in range(len(args)))
        return out, hvp_pullback
    pair, positions = _split(fn, args)
    try:
        out, saved = pair.forward(*args)
    except CalleeRedefined:
        clear_cache()
        pair, positions = _split(fn, args)
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


def _structure(value):
    """Shape of an array or scalar; nested for tuples, lists and dicts."""
    if isinstance(value, (tuple, list)):
        return tuple(_structure(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _structure(v)) for k, v in sorted(value.items(), key=lambda kv: repr(kv[0])))
    return np.shape(value)


def jacobian(fn: Callable, wrt: Wrt = 0, mode: str = "reverse") -> Callable:
    """The Jacobian of ``fn`` w.r.t. ``wrt``, shape ``out.shape + arg.shape``. ``mode="reverse"``
    builds it from vjps (one backward pass on a batch of one-hot cotangents when the code allows
    it, else one per output element), ``mode="forward"`` from jvps (likewise batched, else one per
    input element). The Jacobian of a gradient (``ad.jacobian(ad.grad(f))``, a Hessian) is always
    forward mode over the generated gradient."""
    if mode not in ("reverse", "forward"):
        raise AdError("unknown jacobian mode %r: use 'reverse' or 'forward'" % (mode,))
    fn = as_function(fn, "jacobian")

    @functools.wraps(fn)
    def jac(*args):
        positions, many = _positions(fn, wrt)
        _check_differentiable(fn, args, positions)
        if mode == "reverse" and _as_derived(fn) is None:  # (a gradient's Jacobian: forward over reverse)
            batched = _batched_reverse_jacobian(fn, args, positions)
            if batched is not None:
                result = [r if np.ndim(r) else float(r) for r in batched]
                return tuple(result) if many else result[0]
            out, pullback = vjp(fn, *_private(args))
            result = _rows_by_pullback(pullback, np.shape(out), args, positions)
        else:
            result = [_forward_jacobian(fn, args, p) for p in positions]
        result = [r if np.ndim(r) else float(r) for r in result]
        return tuple(result) if many else result[0]
    return jac


# function -> {(positions, kinds): Compiled jvp}
_JVPS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _target(fn, args):
    """The Python function to transform: a derived function (``grad(f)``) is differentiated through
    the code generated for these arguments; a function taking ``*args`` through a caller with one
    parameter per argument."""
    if _as_derived(fn) is not None:
        return _as_derived(fn)._function_for(args)
    return _spread(fn, len(args))


def _spread(fn, n):
    """``fn`` itself, or for ``def f(a, *xs)`` called with ``n`` positional arguments a caller
    ``call_f(a, xs0, xs1, ...)`` (its positions are the call's: ``wrt=2`` is ``xs[1]``)."""
    inner = unwrap(fn)
    code = getattr(getattr(inner, "__func__", inner), "__code__", None)
    if code is None or not code.co_flags & inspect.CO_VARARGS:
        return fn
    named = _params(fn)
    rest = code.co_varnames[code.co_argcount + code.co_kwonlyargcount]
    return _trampoline(fn, n, named + ["%s%d" % (rest, i) for i in range(n - len(named))])


def _jvp_function(fn, args, positions):
    target = _target(fn, args)
    kinds = tuple(map(arguments.kind_of, args))
    table = _JVPS.setdefault(unwrap(target), {})
    compiled = table.get((positions, kinds))
    if compiled is None:
        compiled = compiler.build_jvp(target, positions, kinds)
        STATS["generated"] += 1
        table[(positions, kinds)] = compiled
    return compiled.fn


def jvp(fn: Callable, primals: Sequence, tangents: Sequence) -> tuple[Any, Any]:
    """Forward mode: ``(fn(*primals), tangent of the output along tangents)``. The tangent code is
    generated as its own function (``ad.source(fn, mode="forward")`` prints it). A tangent of None
    (or 0.0) is the zero tangent of its argument, whatever the argument's structure."""
    fn = as_function(fn, "jvp")
    primals, tangents = tuple(primals), tuple(tangents)
    name = getattr(fn, "__qualname__", "f")
    if len(primals) != len(tangents):
        raise AdError("jvp needs one tangent per primal: got %d primals and %d tangents"
                      % (len(primals), len(tangents)), function=name)
    # an argument whose tangent is None is held fixed: the code is generated without its tangent
    positions = tuple(p for p in _differentiable_positions(primals) if tangents[p] is not None)
    params = _params(fn)
    arguments.check(name, params, primals, positions)
    arguments.check(name, ["the tangent of %s" % p for p in params] + ["a tangent"] * len(tangents), tangents, ())
    # 0.0 stands for the zero tangent of an argument of any structure
    tangents = tuple(runtime.cast_like(0.0, a) if i in positions and (t is None or (t.__class__ is float and not t))
                     else t for i, (a, t) in enumerate(zip(primals, tangents)))
    for p in positions:
        if _structure(tangents[p]) != _structure(primals[p]):
            raise AdError("the tangent of argument %d has shape %s, the argument has shape %s (tangent: %r)"
                          % (p, _structure(tangents[p]), _structure(primals[p]), tangents[p]), function=name)
    run = _jvp_function(fn, primals, positions)
    try:
        return run(tuple(tangents[p] for p in positions), *primals)
    except CalleeRedefined:
        clear_cache()
        return _jvp_function(fn, primals, positions)(tuple(tangents[p] for p in positions), *primals)


def _forward_jacobian(fn, args, pos):
    """Jacobian columns: from one run of batched tangent code (a batch of one-hot tangents) when
    the function allows it, else from one jvp per element of argument ``pos`` (tangent code w.r.t.
    that argument alone)."""
    x = args[pos]
    if np.ndim(x):
        jac = _batched_jacobian(fn, args, pos)
        if jac is not None:
            return jac
    run = _jvp_function(fn, args, (pos,))
    columns = []
    out_shape = None
    for idx in np.ndindex(np.shape(x)):
        if np.ndim(x):
            tangent = np.zeros_like(x, dtype=float)
            tangent[idx] = 1.0
        else:
            tangent = 1.0
        out, t = run((tangent,), *_private(args))
        out_shape = np.shape(out)
        columns.append(np.broadcast_to(np.asarray(t, dtype=float), out_shape))
    if not columns:
        out_shape = np.shape(_target(fn, args)(*_private(args))) if out_shape is None else out_shape
        return np.zeros(out_shape + np.shape(x))
    jac = np.stack(columns, axis=-1)
    return np.reshape(jac, out_shape + np.shape(x))


# function -> {(position, kinds): batched jvp function, or None when the function does not allow it}
_BATCHED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _batched_reverse_jacobian(fn, args, positions):
    """Jacobians w.r.t. ``positions`` from one run of the backward pass on a batch of one-hot
    cotangents (batched forward mode over the generated backward function, which is linear in
    its cotangent), or None when it cannot run on a batch."""
    pair, differentiable = _split(fn, args)
    if any(not isinstance(args[p], np.ndarray) for p in positions):
        return None
    try:
        out, saved = pair.forward(*_private(args))
    except CalleeRedefined:
        return None  # the row loop regenerates the code
    if not isinstance(out, np.ndarray) or out.dtype.kind != "f":
        return None
    kinds = ((arguments.TUPLE_OF, tuple(map(arguments.kind_of, saved))), arguments.kind_of(out))
    table = _BATCHED.setdefault(unwrap(pair.backward), {})
    if kinds not in table:
        try:
            table[kinds] = compiler.build_jvp(pair.backward, (1,), kinds, batched=True).fn
            STATS["generated"] += 1
        except Unbatchable:
            table[kinds] = None
    run = table[kinds]
    if run is None:
        return None
    m = out.size
    try:
        _, tangents = run((np.eye(m, dtype=float).reshape((m,) + out.shape),), saved, np.zeros_like(out))
    except (ValueError, IndexError, TypeError):
        return None
    result = []
    for p in positions:
        t = tangents[differentiable.index(p)] if isinstance(tangents, tuple) else None
        shape = np.shape(args[p])
        if np.shape(t) != (m,) + shape:
            if t is None or (np.ndim(t) and np.any(t)):
                return None
            t = np.zeros((m,) + shape)
        result.append(np.reshape(np.asarray(t, dtype=float), out.shape + shape))
    return result


def _batched_jacobian(fn, args, pos):
    """The Jacobian w.r.t. array argument ``pos`` from one run of batched tangent code, or None
    when the function's tangent code cannot run on a batch."""
    target = _target(fn, args)
    kinds = tuple(map(arguments.kind_of, args))
    table = _BATCHED.setdefault(unwrap(target), {})
    if (pos, kinds) not in table:
        try:
            table[(pos, kinds)] = compiler.build_jvp(target, (pos,), kinds, batched=True).fn
            STATS["generated"] += 1
        except Unbatchable:
            table[(pos, kinds)] = None
    run = table[(pos, kinds)]
    if run is None:
        return None
    x = np.asarray(args[pos])
    n = x.size
    try:
        out, t = run((np.eye(n, dtype=float).reshape((n,) + x.shape),), *_private(args))
    except (ValueError, IndexError, TypeError):
        return None  # the column loop runs the function one tangent at a time (and reports real errors)
    out_shape = np.shape(out)
    t = np.asarray(t, dtype=float)
    if t.shape != (n,) + out_shape:
        if t.ndim and np.any(t):
            return None  # not a batch of tangents: let the column loop decide
        t = np.zeros((n,) + out_shape)
    return np.moveaxis(t.reshape((n,) + out_shape), 0, -1).reshape(out_shape + x.shape)


def hessian(fn: Callable, wrt: Wrt = 0, mode: str = "forward") -> Callable:
    """Second derivatives of scalar ``fn``, shape ``arg.shape + arg.shape`` (for a tuple ``wrt``, a
    tuple of rows of blocks ``H[a][b]`` of shape ``arg_a.shape + arg_b.shape``).

    ``mode="forward"`` runs forward mode over the generated gradient code (forward-over-reverse:
    Hessian-vector products, on a batch of one-hot tangents where the code allows it).
    ``mode="reverse"`` runs reverse mode over it (reverse-over-reverse: the generated gradient,
    tape operations included, differentiated again in split motion; one backward pass per row)."""
    if mode not in ("forward", "reverse"):
        raise AdError("unknown hessian mode %r: use 'forward' or 'reverse'" % (mode,))
    fn = as_function(fn, "hessian")

    @functools.wraps(fn)
    def hess(*args):
        positions, many = _positions(fn, wrt)
        _check_differentiable(fn, args, positions)
        blocks = [_hessian_rows(fn, args, a, positions, mode) for a in positions]
        blocks = [[b if np.ndim(b) else float(b) for b in row] for row in blocks]
        return tuple(tuple(row) for row in blocks) if many else blocks[0][0]
    return hess


def _hessian_rows(fn, args, a, positions, mode):
    """The blocks ``d(df/d arg_a) / d arg_b`` for every ``b`` in ``positions``."""
    g = grad(fn, wrt=a)
    if mode == "forward":
        return [jacobian(g, wrt=b, mode="forward")(*args) for b in positions]
    gradient, pullback = vjp(_target(g, args), *_private(args))
    return _rows_by_pullback(pullback, np.shape(gradient), args, positions)


def _rows_by_pullback(pullback, out_shape, args, positions):
    """Jacobian blocks w.r.t. ``positions`` from one pullback call per output element (one-hot
    cotangents), each of shape ``out_shape + arg.shape``."""
    rows = {p: [] for p in positions}
    for idx in np.ndindex(out_shape):
        seed = np.zeros(out_shape)
        seed[idx] = 1.0
        parts = pullback(seed if out_shape else 1.0)
        for p in positions:
            rows[p].append(np.asarray(parts[p], dtype=float))
    return [np.reshape(np.array(rows[p]), out_shape + np.shape(args[p])) for p in positions]


_GRAD_BY_ARG: dict = {}


def gradient_vjp(fn, position: int, args: tuple, cotangent):
    """The vjp w.r.t. argument ``position`` of a gradient function ``fn = grad(f, wrt)`` called as
    ``fn(*args)``: the Hessian-vector product of ``grad(f, wrt=position)`` along ``cotangent``
    placed at ``wrt`` (forward mode over generated gradient code). Used by generated code that
    differentiates a function which calls a gradient."""
    derived = _as_derived(fn)
    wrt_positions, many = _positions(derived.fn, derived.wrt)
    key = (derived, position)
    inner = _GRAD_BY_ARG.get(key)
    if inner is None:
        inner = _GRAD_BY_ARG[key] = grad(derived.fn, wrt=position, optimize=derived.optimize)
    tangents = [runtime.zero_like(a) for a in args]
    for p, c in zip(wrt_positions, cotangent if many else (cotangent,)):
        tangents[p] = _shaped_like(c, args[p])
    return jvp(inner, args, tangents)[1]


def _shaped_like(value, like):
    """A cotangent used as a tangent of ``like``: arrays broadcast to its shape, entry by entry
    for lists, tuples and dicts (0.0 stands for a zero of any structure)."""
    if isinstance(like, (list, tuple)):
        parts = [0.0] * len(like) if value.__class__ is float else value
        return type(like)(_shaped_like(v, e) for v, e in zip(parts, like)) if like.__class__ in (list, tuple) \
            else like.__class__(*(_shaped_like(v, e) for v, e in zip(parts, like)))
    if isinstance(like, dict):
        return {k: _shaped_like(0.0 if value.__class__ is float else value[k], e) for k, e in like.items()}
    return np.broadcast_to(value, np.shape(like)) if np.ndim(like) else value


def gradient_jvp(fn, args: tuple, tangents: tuple):
    """Tangent of ``fn(*args)`` for a gradient function ``fn`` (a Hessian-vector product)."""
    return jvp(fn, args, tuple(tangents))[1]


hooks.install(grad=grad, gradient_vjp=gradient_vjp, gradient_jvp=gradient_jvp, clear_cache=clear_cache)
