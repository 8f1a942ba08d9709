"""The derived-function objects behind ``grad`` and ``value_and_grad``: which arguments ``wrt``
names, whether they can be differentiated, and the per-call dispatch that finds (or has a
subclass generate) the code specialised for the arguments' kinds, with a generated dispatcher
as the cached-call fast path. ``_target`` gives the Python function the other operators
transform for a call (a gradient's generated code, or a caller for ``*args``)."""
from __future__ import annotations

import copy
import functools
import inspect
import types
import weakref
from typing import Sequence, Union

import numpy as np

from .. import arguments, compiler
from ..callables import as_function
from ..errors import AdError
from ..parse import passes_arguments_on, unwrap
from ..runtime import CalleeRedefined
from ..runtime.calls import _trampoline
from .caches import _LIVE, STATS, _cache_for, clear_cache

Wrt = Union[int, str, Sequence[Union[int, str]]]


def _params(fn) -> list[str]:
    """Positional parameter names (``co_argcount`` includes positional-only ones)."""
    while _as_derived(fn) is not None:
        fn = _as_derived(fn).fn
    fn = unwrap(fn)
    skip = 1 if isinstance(fn, types.MethodType) else 0  # a bound method's instance is not passed
    code = getattr(fn, "__func__", fn).__code__
    return list(code.co_varnames[skip:code.co_argcount])


def _by_position(fn, args, keywords) -> tuple:
    """``args`` with ``keywords`` put at their parameters' positions (their defaults in the
    positions between), for the transforms that take arguments by position; the parameters
    after them run with their defaults (held fixed: a model given as one)."""
    if not keywords:
        return tuple(args) + _defaults_after(fn, len(args))
    params = _params(fn)
    unknown = sorted(set(keywords) - set(params[len(args):]))
    if unknown:
        raise AdError("%r is not a positional parameter of %s after the %d given by position"
                      % (unknown[0], fn.__qualname__, len(args)), function=fn.__qualname__,
                      hint="pass it by position, or bind it first: functools.partial(f, %s=...)"
                      % unknown[0])
    defaults = {p.name: p.default for p in inspect.signature(unwrap(fn)).parameters.values()}
    last = max(params.index(k) for k in keywords)
    rest = []
    for p in params[len(args):last + 1]:
        value = keywords.get(p, defaults.get(p, inspect.Parameter.empty))
        if value is inspect.Parameter.empty:
            raise AdError("%s: missing argument %r" % (fn.__qualname__, p),
                          function=fn.__qualname__)
        rest.append(value)
    args = tuple(args) + tuple(rest)
    return args + _defaults_after(fn, len(args))


def _defaults_after(fn, given) -> tuple:
    """The defaults of ``fn``'s positional parameters after the first ``given``, when they all
    have one, else ()."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    defaults = getattr(getattr(fn, "__func__", fn), "__defaults__", None) or ()
    if code is None or isinstance(fn, types.MethodType) \
            or not 0 < code.co_argcount - given <= len(defaults):
        return ()
    return tuple(defaults[len(defaults) - (code.co_argcount - given):])


def _positions(fn, wrt) -> tuple[tuple[int, ...], bool]:
    """Positions of ``wrt`` among ``fn``'s parameters and whether a tuple was asked for."""
    params = _params(fn)
    many = isinstance(wrt, (tuple, list))
    items = list(wrt) if many else [wrt]
    name = getattr(fn, "__qualname__", repr(fn))
    out = []
    for w in items:
        if isinstance(w, bool) or not isinstance(w, (int, str)):
            raise AdError("wrt=%r must be an argument position, an argument name or a tuple of "
                          "those"
                          % (w,), function=name)
        if isinstance(w, str):
            if w not in params:
                raise AdError("wrt=%r names no argument of %s(%s)" % (w, name, ", ".join(params)),
                              function=name, hint="use one of: %s" % ", ".join(params))
            out.append(params.index(w))
        else:
            if not -len(params) <= w < len(params):
                raise AdError("wrt=%d is out of range: %s takes %d positional argument(s) (%s)"
                              % (w, name, len(params), ", ".join(params)), function=name)
            out.append(w % len(params))
    return tuple(out), many


def _check_differentiable(fn, args, positions):
    """An AdError for an argument the generated code cannot be trusted with (``arguments.check``) or
    one in ``positions`` that cannot be differentiated (an int, a bool, an int array, None...)."""
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
                (isinstance(value, np.generic) and not isinstance(value, np.inexact)) or \
                (isinstance(k, tuple) and k[0] == "array" and k[2][1] not in "fc"):
            raise AdError("cannot differentiate w.r.t. argument %r: it is %r (%s), which is not "
                          "differentiable"
                          % (params[i], value if not hasattr(value, "shape")
                             else "an array of dtype %s" % value.dtype, type(value).__name__),
                          function=fn.__qualname__, hint="pass a float (e.g. %r) or a float array" %
                          (float(value) if isinstance(value, (int, bool)) else 0.0))


class _Derived:
    """A function derived from ``fn``: generates specialised code on first use per argument kinds
    (the code itself comes from the subclass's ``_generate``: ``gradients._Gradient``)."""

    mode = "grad"
    __adcompiler_derived__ = True

    def __init__(self, fn, wrt: Wrt, optimize: bool = True):
        self.fn = fn = as_function(fn, self.mode)
        self.binding = type(fn) if isinstance(fn, (staticmethod, classmethod)) else None
        self.wrt = wrt
        self.optimize = optimize
        self._positions = None
        # argument classes -> generated function, for calls without arrays
        self._by_class: dict = {}
        self._by_key: dict = {}    # _array_key(args) -> generated function, for calls with arrays
        # (number of parameters, function telling the dispatcher the last new kind of call)
        self._remember = None
        self._fns = _cache_for(unwrap(fn)).setdefault((self.mode, _freeze(wrt), optimize), {})
        # never copy fn.__dict__ (a derived fn's cache)
        functools.update_wrapper(self, fn, updated=())
        _LIVE.add(self)
        self.__name__ = "%s_of_%s" % (self.mode, getattr(fn, "__name__", "f"))

    def _args(self, args, kwargs):
        """(positional arguments, keyword-only arguments) of a call made with keywords."""
        import inspect
        if hasattr(self.fn, "__wrapped__") and unwrap(self.fn) is self.fn \
                and not passes_arguments_on(self.fn):
            # (its wrapper may read the keywords as keywords: kwargs.setdefault(...))
            raise AdError("%s is a decorator's wrapper that does more than call the function it "
                          "wraps: it is differentiated as it is, and called with keywords, they "
                          "would reach it by position" % self.fn.__qualname__,
                          function=self.fn.__qualname__,
                          hint="bind them first: ad.grad(functools.partial(f, %s=...))"
                               % sorted(kwargs)[0])
        bound = inspect.signature(self.fn).bind(*args, **kwargs)
        bound.apply_defaults()
        return tuple(bound.args), bound.kwargs

    def __call__(self, *args, **kwargs):
        if not kwargs:
            fn = self._by_class.get(args[0].__class__ if len(args) == 1
                                    else tuple(map(type, args))) \
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
            self._remind(args, fast, arrays=False)
        else:
            if len(self._by_key) >= _MAX_SHAPE_KEYS:  # (many shapes seen: start again)
                self._by_key.clear()
            self._by_key[_array_key(args)] = fast
            self._remind(args, fast, arrays=True)
        return fast(*args, **keyword_only)

    def _remind(self, args, fast, arrays):
        """Have the dispatcher check these classes (with arrays: and their shapes and dtypes)
        first."""
        if self._remember is None or self._remember[0] != len(args):
            return
        none = (None,) * len(args)
        classes = tuple(a.__class__ for a in args)
        if not arrays:
            self._remember[1](classes, none, none, none, fast)
        else:
            self._remember[1](none, classes, tuple(a.shape if c is _ndarray else None
                                                   for a, c in zip(args, classes)),
                              tuple(a.dtype if c is _ndarray else None
                                    for a, c in zip(args, classes)), fast)

    def _forget(self):
        """Forget the fast paths to generated code (the cache was cleared)."""
        self._by_class.clear()
        self._by_key.clear()
        if self._remember is not None:
            none = (None,) * self._remember[0]
            self._remember[1](none, none, none, none, None)

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
        parts = [i for i, a in enumerate(args) if arguments.has_parts(a)]
        if not parts:
            return fn
        target, positions = self._target(args)
        name, params = target.__qualname__, _params(target)
        plain, kind_of = arguments.plain_parts, arguments.kind_of
        # (a tuple's kind holds its entries' kinds, a list's the class of its objects: the code
        # was generated for these)
        tuples = [(i, kind_of(args[i])) for i in parts if args[i].__class__ in (tuple, list)
                  and len(kind_of(args[i])) > 2]
        found = self._function_for

        def guarded(*args, **keyword_only):
            for i in parts:  # (containers of numbers and arrays quickly, the rest in full)
                if not plain(args[i]):
                    arguments.check(name, params, args, positions, parts_only=True)
                    break
            run = fn
            for i, kind in tuples:
                if kind_of(args[i]) != kind:  # (another tuple's entries: the code for them)
                    run = found(args)
                    break
            return run(*args, **keyword_only) if keyword_only else run(*args)
        return guarded

    def _build(self, key, args):
        target, positions = self._target(args)
        _check_differentiable(target, args, positions)
        compiled = self._generate(target, positions, key, args)
        STATS["generated"] += 1
        self._fns[key] = compiled.fn
        self.specialised = compiled  # (its source: what the last new kind of call runs)
        return compiled.fn

    def _function_for(self, args):
        """The generated function used for these arguments (generating it if needed)."""
        key = arguments.kinds_of(args)
        return self._fns.get(key) or self._build(key, args)

    @property
    def source(self) -> str:
        """The source generated without the arguments' kinds (see ``GradientFunction.source``)."""
        positions, many = _positions(self.fn, self.wrt)
        return compiler.build_reverse(self.fn, positions, None, self.mode, self.optimize,
                                      as_tuple=many).source


class GradientFunction(functools.partial):
    """What ``grad``/``value_and_grad`` return: called like ``f``; ``.source`` is the generated
    code. Calls go straight to a small generated dispatcher (see ``_dispatcher``)."""

    __adcompiler_derived__ = True

    @property
    def source(self) -> str:
        """The code generated for the argument kinds of the last call that needed new code (what
        such calls run), or before any call the code generated without the arguments' kinds (for
        reading: where a kind matters, it differs from what a call runs; an augmented assignment
        of a value of unknown kind, which could be an array written in place, shows as a
        rebinding)."""
        specialised = getattr(self.derived, "specialised", None)
        return specialised.source if specialised is not None else self.derived.source

    @property
    def source_generic(self) -> str:
        """The code generated without the arguments' kinds (see ``source``)."""
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
            made = _public(type(derived)(types.MethodType(func, instance), derived.wrt,
                                         derived.optimize))
            try:
                bound[instance] = made
            except TypeError:
                pass
        return made

    def __repr__(self):
        return "<%s of %s>" % (self.derived.mode,
                               getattr(self.derived.fn, "__qualname__", self.derived.fn))


def _public(derived: "_Derived") -> GradientFunction:
    out = GradientFunction(_dispatcher(derived))
    out.derived = derived
    functools.update_wrapper(out, derived.fn, updated=())
    out.__name__ = derived.__name__
    return out


def _dispatcher(derived: "_Derived"):
    """A function with ``f``'s positional parameters that looks its argument classes up in the
    derived function's cache (no ``*args`` packing): the cached-call fast path."""
    fn = derived.fn
    while _as_derived(fn) is not None:  # (grad(grad(f)) has f's parameters)
        fn = _as_derived(fn).fn
    fn = unwrap(fn)
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    params = _params(fn) if code is not None else []
    simple = code is not None and not (code.co_flags & 0x0C) and not code.co_kwonlyargcount \
        and params and "generated" not in params
    if not simple:  # *args, **kwargs or keyword-only parameters: the general path
        return derived
    safe = ["a%d" % i for i in range(len(params))]
    # (its own globals: the state it reads costs no closure cells to set up per call)
    cells = ["%s%d" % (c, i) for c in "cksd" for i in range(len(safe))]
    ns = dict.fromkeys(cells + ["last"])
    ns.update(redefined=CalleeRedefined, ndarray=np.ndarray, get=derived._by_class.get,
              get_array=derived._by_key.get, slow=derived._dispatch)
    exec(compile(_dispatch_source(safe), "<adcompiler dispatch>", "exec"), ns)
    dispatch = ns["dispatch"]

    def remember(classes, with_arrays, shapes, dtypes, generated):
        ns.update(zip(cells, classes + with_arrays + shapes + dtypes), last=generated)
    derived._remember = (len(safe), remember)
    defaults = getattr(fn, "__defaults__", None)
    dispatch.__defaults__ = defaults
    # give the parameters the user's names, so that keyword calls bind as they would on ``f``
    dispatch.__code__ = dispatch.__code__.replace(
        co_varnames=tuple(params) + dispatch.__code__.co_varnames[len(params):])
    return dispatch


def _dispatch_source(safe) -> str:
    """The source of the dispatcher of a function with parameters ``safe``: the last new kind of
    call is checked first (its classes ``c0``, ``c1``... when it had no arrays; else its classes
    ``k0``... and its arrays' shapes ``s0``... and dtypes ``d0``...), then the tables (``get``,
    ``get_array``); the general path (``slow``) generates what is missing."""
    args = ", ".join(safe)
    classes = ["c%d" % i for i in range(len(safe))]
    key = "%s.__class__" % safe[0] if len(safe) == 1 \
        else "(%s,)" % ", ".join("%s.__class__" % a for a in safe)
    array_key = "(%s,)" % ", ".join("%s.shape if %s.__class__ is ndarray else %s.__class__, "
                                    "%s.dtype if %s.__class__ is ndarray else None" % ((a,) * 5)
                                    for a in safe)
    all_arrays = " and ".join("%s.__class__ is ndarray" % a for a in safe)
    arrays_key = "(%s,)" % ", ".join("%s.shape, %s.dtype" % (a, a) for a in safe)
    # (the classes, and the shapes and dtypes, of the last new kind of call: checked first)
    last_classes = " and ".join("%s.__class__ is %s" % (a, c) for a, c in zip(safe, classes))
    # (with arrays: k0 is their class, s0 and d0 the shape and dtype of an array, else None)
    last_arrays = " and ".join("%s.__class__ is k%d and (s%d is None or %s.shape == s%d and "
                               "%s.dtype is d%d)" % (a, i, i, a, i, a, i)
                               for i, a in enumerate(safe))
    src = ("def dispatch(%s):\n"
           "    if %s or %s:\n"
           "        generated = last\n"
           "    elif %s:\n"
           "        generated = get_array(%s)\n"
           "    else:\n"
           "        generated = get(%s)\n"
           "        if generated is None:\n"
           "            generated = get_array(%s)  # (keys as _array_key)\n"
           "    if generated is not None:\n"
           "        try:\n"
           "            return generated(%s)\n"
           "        except redefined:\n"
           "            pass\n"
           "    return slow((%s,), None)\n"
           % (args, last_classes, last_arrays, all_arrays, arrays_key, key, array_key, args,
              args))
    return src


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
    """Copies of the arrays, lists, dicts and objects of the user's classes among ``args``
    (nested ones too, each copied once: what two arguments share, their copies share), for the
    operators that run the function several times (Jacobians, Hessians): a function that writes
    into its arguments must see the same values at every run, and the caller's data stays as it
    was."""
    memo: dict = {}
    return tuple(_private_copy(a, memo) for a in args)


def _private_copy(value, memo):
    cls = value.__class__
    if cls is _ndarray:
        return value.copy()
    if cls is not list and cls is not tuple and cls is not dict \
            and not arguments.plain_object(value):
        return value
    if id(value) in memo:
        return memo[id(value)]
    if cls is list:
        out = memo[id(value)] = []
        out.extend(_private_copy(v, memo) for v in value)
    elif cls is tuple:
        out = memo[id(value)] = tuple(_private_copy(v, memo) for v in value)
    elif cls is dict:
        out = memo[id(value)] = {}
        out.update((k, _private_copy(v, memo)) for k, v in value.items())
    else:  # (an object of the user's class: its attributes, as the function finds them)
        out = memo[id(value)] = copy.copy(value)
        if hasattr(out, "__dict__"):
            out.__dict__.update((k, _private_copy(v, memo)) for k, v in vars(value).items())
    return out


def _freeze(wrt):
    return tuple(wrt) if isinstance(wrt, list) else wrt


def _target(fn, args):
    """The Python function to transform: a derived function (``grad(f)``) is differentiated through
    the code generated for these arguments; a function taking ``*args`` through a caller with one
    parameter per argument."""
    if _as_derived(fn) is not None:
        return _as_derived(fn)._function_for(args)
    return _spread(fn, len(args))


def _as_called(fn, n):
    """The function whose parameters are the positions of a call of ``fn`` (a derived function's
    or not) with ``n`` positional arguments (see ``_spread``)."""
    while _as_derived(fn) is not None:
        fn = _as_derived(fn).fn
    return _spread(fn, n)


def _spread(fn, n):
    """``fn`` itself, or for ``def f(a, *xs)`` called with ``n`` positional arguments a caller
    ``call_f(a, xs0, xs1, ...)`` (its positions are the call's: ``wrt=2`` is ``xs[1]``)."""
    inner = unwrap(fn)
    code = getattr(getattr(inner, "__func__", inner), "__code__", None)
    if code is None or not code.co_flags & inspect.CO_VARARGS:
        return fn
    named = _params(fn)
    if not named and hasattr(inner, "__wrapped__"):  # (a decorator's wrapper: the names of the
        wrapped = inspect.signature(inner)  # function it wraps, which it forwards the call to)
        named = [q.name for q in wrapped.parameters.values()
                 if q.kind in (q.POSITIONAL_ONLY, q.POSITIONAL_OR_KEYWORD)][:n]
    rest = code.co_varnames[code.co_argcount + code.co_kwonlyargcount]
    return _trampoline(fn, n, named + ["%s%d" % (rest, i) for i in range(n - len(named))])
