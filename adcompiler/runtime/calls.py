"""Callables known only at run time (``layer(x)`` over a list of layers, ``f(*args)``,
``np.vectorize`` objects): small functions with source made for them (trampolines), the dispatch
that picks what to differentiate, and ``call_forward`` / ``call_backward`` (forward mode over
them: ``call_tangents``), which compile the callee through ``hooks`` when the call runs. With
``call_tangents``, the runtime's only modules that reach the compiler: kept apart from the hot
path."""
from __future__ import annotations

import types

import numpy as np

from .. import effects, hooks
from ..arguments import marked_kinds
from ..errors import AdError
from ..parse import define, is_library_function
from ._base import _effectful, _float, _is_plain_object, _ndarray
from .adjoints import container_adjoint, zero_like
from .objects import add_attribute

_TRAMPOLINES: dict = {}


class MethodCall:
    """The callee ``obj.name`` of a call whose object is known only at run time
    (``layer.forward(x)`` for each layer of a list), called with the object first: differentiated
    as the method call itself, so the object's adjoint is that of what the call reads of it,
    whether ``name`` is a method of its class or a callable it holds."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __call__(self, obj, *args, **kwargs):
        return getattr(obj, self.name)(*args, **kwargs)


_METHOD_CALLS: dict = {}


def method_call(name):
    """The ``MethodCall`` of the method ``name`` (one per name)."""
    made = _METHOD_CALLS.get(name)
    if made is None:
        made = _METHOD_CALLS[name] = MethodCall(name)
    return made


def _trampoline(fn, n, names=None, call_first=False, keywords=()):
    """A small function with source, ``call_<name>(arg0, ...)`` returning ``fn(arg0, ...)``, so
    the compiler differentiates ``fn`` as it would a call written in the source: through its
    Python source (a function, a method, an object's ``__call__``) or its rule (``np.tanh``);
    for a ``MethodCall``, ``arg0.name(arg1, ...)``. ``names``: parameter names to use instead of
    ``arg0, ...``; ``keywords``: names of keyword arguments passed after the ``n`` positional
    ones (parameters ``kw0, ...``)."""
    key = (id(fn), n, call_first) + tuple(keywords)
    made = _cached(fn, key)
    if made is not None:
        return made
    method = fn.name if fn.__class__ is MethodCall else None
    label = method or getattr(fn, "__name__", type(fn).__name__)
    label = label if label.isidentifier() else "fn"
    names = names or ["arg%d" % i for i in range(n)]
    if method:
        callee, passed = "%s.%s" % (names[0], method), names[1:]
    else:
        callee, passed = (names[0], names[1:]) if call_first else ("fn", names)
    extra = ["kw%d" % i for i in range(len(keywords))]
    passed = list(passed) + ["%s=%s" % (k, v) for k, v in zip(keywords, extra)]
    source = "def call_%s(%s):\n    return %s(%s)\n" % (
        label, ", ".join(list(names) + extra), callee, ", ".join(passed))
    return _compiled(fn, key, "call of %s" % label, "call_" + label, source, {"fn": fn})


def _cached(fn, key):
    """The function made for ``fn`` under ``key`` (see _compiled), or None."""
    made = _TRAMPOLINES.get(key)
    return made[1] if made is not None and made[0] is fn else None


def _compiled(fn, key, title, function, source, namespace):
    """``function`` defined by ``source`` in ``namespace`` and registered with linecache (so it has
    source to differentiate), kept for ``key`` while it stands for ``fn``."""
    made = define(source, function, namespace, "<%s #%d>" % (title, len(_TRAMPOLINES)))
    _TRAMPOLINES[key] = (fn, made)
    return made


def vectorized(vec, n):
    """For an ``np.vectorize`` object, a function with source computing ``vec(arg0, ...)`` by
    calling its Python function on each element of the broadcast arguments, so it is
    differentiated like a loop; the result's dtype is the first output's (or ``otypes``), as
    NumPy's. Options it does not reproduce (``excluded``, ``signature``, several outputs) are
    an AdError."""
    made = _cached(vec, (id(vec), n, "vectorized"))
    if made is not None:
        return made
    label = getattr(vec.pyfunc, "__name__", "fn")
    label = label if label.isidentifier() else "fn"
    otypes = vec.otypes or ""
    if vec.excluded or vec.signature is not None or len(otypes) > 1 or n == 0:
        raise AdError("np.vectorize(%s) with %s is not differentiated" % (
            label, "excluded=" if vec.excluded else "signature=" if vec.signature is not None else
            "several otypes" if len(otypes) > 1 else "no arguments"),
            hint="write the loop over the elements in the function itself")
    args = ["arg%d" % i for i in range(n)]
    items = ["a%d" % i for i in range(n)]
    flat = ["np.ravel(np.broadcast_to(%s, shape))" % a for a in args]
    loop = ("%s in %s" % (items[0], flat[0]) if n == 1 else
            "%s in zip(%s)" % (", ".join(items), ", ".join(flat)))
    dtype = "otype" if otypes else "np.asarray(items[0]).dtype"
    source = ("def vectorized_%s(%s):\n"
              "    shape = np.broadcast_shapes(%s)\n"
              "    items = [fn(%s) for %s]\n"
              "    out = np.array(items, dtype=%s)\n"
              "    if np.ndim(out) != 1:\n"
              "        raise several_outputs\n"
              "    return np.reshape(out, shape)\n") % (
        label, ", ".join(args), ", ".join("np.shape(%s)" % a for a in args), ", ".join(items), loop,
        dtype)
    several = AdError("np.vectorize(%s): the function returns several values, which is not "
                      "differentiated" % label, hint="vectorize one function per output")
    namespace = {"np": np, "fn": vec.pyfunc, "otype": otypes[0] if otypes else None,
                 "several_outputs": several}
    return _compiled(vec, (id(vec), n, "vectorized"), "np.vectorize(%s)" % label,
                     "vectorized_" + label, source, namespace)


def _callee_kinds(args):
    return marked_kinds(args)


def _object_trampoline(cls, n):
    """``call_<Class>(fn, arg0, ...)`` returning ``fn(arg0, ...)``: an object of a user class is an
    argument, so its ``__call__`` is differentiated with gradients into its attributes. (A class
    of NumPy's or another library's is an AdError: their Python code is not traced.)"""
    made = _cached(cls, (id(cls), n + 1, True))
    if made is not None:
        return made
    if is_library_function(cls.__call__):
        raise AdError("a %s object is called here, which has no derivative rule" % cls.__name__,
                      hint="call a function with a derivative rule or with Python source")
    return _trampoline(cls, n + 1, ["fn"] + ["arg%d" % i for i in range(n)], call_first=True)


def _dispatch(active, fn, args):
    """(function to differentiate, its arguments, active positions among them, the map of its
    adjoints back to ``args``' or None) for ``fn(*args)`` with ``active`` positions counted over
    ``(fn, *args)``."""
    if fn.__class__ is MethodCall:
        return _dispatch_method(active, fn, args)
    if fn.__class__ is Unpacked:
        inner = fn.fn
        if inner.__class__ is MethodCall and fn.layout[:1] == ("",) \
                and _class_method(args[0], inner.name) is None:
            # obj.name(..., key=v) of a callable the object holds (a library's method): that
            # callable called with the rest (its trampoline would make this call again)
            return _dispatch_method(active, inner, args,
                                    Unpacked(getattr(args[0], inner.name), fn.layout[1:]))
        return _dispatch_unpacked(active, fn, args)
    if isinstance(fn, np.vectorize):
        return vectorized(fn, len(args)), args, tuple(i - 1 for i in active if i), None
    if fn.__class__ is np.ufunc and _cached(fn, (id(fn), len(args), False)) is None:
        if hooks.lookup_rule(fn) is None:
            raise AdError("the ufunc %r has no derivative rule (np.frompyfunc makes ufuncs of "
                          "Python functions, which are not differentiated)" % fn,
                          hint="use np.vectorize(f), or call f in a loop")
    if _callable_object(fn):  # (a library's callable object: through a rule)
        return _object_trampoline(type(fn), len(args)), (fn,) + args, active, None
    if isinstance(fn, types.MethodType) and isinstance(fn.__self__, type):
        # (type(obj).make(...), a classmethod reached at run time: its function given the class
        # first, as Python calls it; a trampoline of the bound method would call itself)
        return _trampoline(fn.__func__, len(args) + 1), (fn.__self__,) + args, \
            tuple(i for i in active if i), None
    _check_stateless(active, fn)
    return _trampoline(fn, len(args)), args, tuple(i - 1 for i in active if i), None


def _callable_object(fn) -> bool:
    """Whether ``fn`` is an object whose class (the user's) defines ``__call__`` in Python."""
    call = getattr(type(fn), "__call__", None)
    return not isinstance(fn, (types.FunctionType, types.MethodType, type, MethodCall, Unpacked)) \
        and isinstance(call, types.FunctionType) and not is_library_function(call)


def _class_method(obj, name):
    """``obj.name`` when it is a method of the class of ``obj``, a plain object (a user
    function bound to it), else None."""
    bound = getattr(obj, name)
    func = getattr(bound, "__func__", None)
    if isinstance(bound, types.MethodType) and bound.__self__ is obj and not isinstance(obj, type) \
            and isinstance(func, types.FunctionType) and not is_library_function(func):
        return bound
    return None


def _dispatch_method(active, call, args, held=None):
    """``_dispatch`` of ``obj.name(*rest)`` (``call`` a ``MethodCall``, ``args`` = (obj, *rest)):
    a method of the object's class is differentiated as the call written with the object first
    (its adjoint is that of what the method reads of it); another callable the object holds,
    as the callable it is (``held``, when given: that callable with its arguments unpacked),
    whose adjoint is the object's entry for ``name``."""
    if held is None and _class_method(args[0], call.name) is not None:
        return _trampoline(call, len(args)), args, tuple(i - 1 for i in active if i), None
    if active and call.name in effects.WRITING_METHODS and isinstance(args[0], _CONTAINERS):
        raise AdError("the method .%s() of a %s changes it in place, which is not differentiated "
                      "where its result is used or it is reached at run time"
                      % (call.name, type(args[0]).__name__),
                      hint="call it as a statement of its own on a name: lst.%s(...)" % call.name)
    inner_active = tuple(i - 1 for i in active if i)
    target, operands, positions, repack = _dispatch(
        inner_active, held or getattr(args[0], call.name), args[1:])
    repack = repack or len(positions) < len(inner_active)

    def outer(grads):
        inner = iter(_repacked(repack, grads))
        out = [0.0] if active[0] == 0 else []
        for i in active:
            if i == 1:
                d = next(inner)
                out.append(d if d.__class__ is _float else add_attribute(0.0, call.name, d))
            elif i > 1:
                out.append(next(inner))
        return tuple(out)

    return target, operands, positions, outer


_CONTAINERS = (list, dict, set, np.ndarray)


def _stateless(fn) -> bool:
    """A callable that holds no values a gradient could reach: a Python function, a NumPy ufunc
    or a builtin (``self.act = np.tanh`` in a layer); a ``MethodCall`` (the object it is called
    with is an argument). (A closure that differentiated code makes is an object of a class made
    for it, ``normalize.closures``: a Python closure here was made by code that ran without
    differentiated values, so the values it holds do not depend on them.)"""
    if fn.__class__ is MethodCall or isinstance(fn, types.FunctionType):
        return True
    if isinstance(fn, types.BuiltinFunctionType):  # (a bound method of a list or array holds it)
        owner = fn.__self__
        return owner is None or isinstance(owner, types.ModuleType) \
            or not _may_carry_gradient(owner)
    if isinstance(fn, types.MethodType) and not isinstance(fn.__func__, types.FunctionType):
        # (a compiled method of a library's object holding no gradient: rng.binomial)
        return not _may_carry_gradient(fn.__self__)
    return isinstance(fn, np.ufunc)


def _check_stateless(active, fn):
    if 0 in active and not _stateless(fn):
        raise AdError("the callable %r is chosen at run time and depends on the differentiated "
                      "arguments: only objects with a __call__ method get gradients that way"
                      % (fn,),
                      hint="pass the values it uses as arguments")


class Unpacked:
    """``fn`` called with arguments unpacked into it: ``f(a, *rest, key=v, **opts)`` is
    ``Unpacked(f, ("", "*", "=key", "**"))`` called with ``(a, rest, v, opts)``."""
    __slots__ = ("fn", "layout")

    def __init__(self, fn, layout):
        self.fn, self.layout = fn, layout


def unpacked(fn, layout):
    """The callee of a call with ``*args`` or keywords in generated code (see ``Unpacked``)."""
    return Unpacked(fn, layout)


def _may_carry_gradient(value) -> bool:
    cls = value.__class__
    if cls is _float or cls is _ndarray:
        return cls is _float or value.dtype.kind in "fc"
    return isinstance(value, (np.inexact, list, tuple, dict)) or _is_plain_object(value)


def _dispatch_unpacked(active, call, parts):
    """``_dispatch`` of ``call.fn(...)`` with ``parts`` unpacked as ``call.layout`` says: the
    callee gets one parameter per positional value and keyword; adjoints of the values of an
    unpacked sequence or mapping are put back together with its structure."""
    _check_stateless(active, call.fn)
    for i, (how, part) in enumerate(zip(call.layout, parts), 1):
        if how == "*" and i in active and not isinstance(part, (list, tuple, _ndarray)):
            raise AdError("a %s unpacked into a call carries values being differentiated"
                          % type(part).__name__,
                          hint="unpack a list, tuple or array, or pass the arguments one by one")
    flat, keywords, owners = _flatten(call, parts)
    positions = tuple(p for p, (i, _) in enumerate(owners)
                      if i in active and _may_carry_gradient(flat[p]))

    def repack(grads):
        """Adjoints of the active parts from those of the callee's active parameters."""
        by_part = {}
        for p, g in zip(positions, grads):
            by_part.setdefault(owners[p][0], []).append((owners[p][1], g))
        out = []
        for i in active:
            if i == 0:
                out.append(0.0)
                continue
            got, part, how = by_part.get(i, []), parts[i - 1], call.layout[i - 1]
            if how in ("*", "**"):
                whole = (container_adjoint(part, 0, 0.0) if part.__class__ is _ndarray
                         else zero_like(part))
                whole = list(whole) if part.__class__ is tuple else whole
                for key, g in got:
                    if not (g.__class__ is _float and not g):
                        whole[key] = g
                out.append(tuple(whole) if part.__class__ is tuple else whole)
            else:
                out.append(got[0][1] if got else 0.0)
        return tuple(out)

    return (_trampoline(call.fn, len(flat) - len(keywords), keywords=tuple(keywords)), tuple(flat),
            positions, repack)


def _flatten(call, parts):
    """(the callee's arguments, positional first, then keyword values; the keywords; the (part
    position, key inside it) each argument comes from) of an ``Unpacked`` call."""
    positional, named = [], []
    for i, (how, part) in enumerate(zip(call.layout, parts), 1):
        if how == "*":
            positional.extend(((i, k), v) for k, v in enumerate(part))
        elif how == "**":
            named.extend(((i, k), v, k) for k, v in part.items())
        elif how:
            named.append(((i, None), part, how[1:]))
        else:
            positional.append(((i, None), part))
    flat = [v for _, v in positional] + [v for _, v, _ in named]
    owners = [o for o, _ in positional] + [o for o, _, _ in named]
    return flat, [k for _, _, k in named], owners


def _called_object(active, fn, args):
    """``(active, fn, args)`` of ``fn(*args)``; for ``obj(x, key=v)`` of an object of the user's
    class, those of ``obj.__call__(x, key=v)``, the object first (its adjoint that of what the
    method reads of it; the active operands keep their order)."""
    if fn.__class__ is Unpacked and _callable_object(fn.fn):
        return (tuple(i + 1 for i in active), Unpacked(MethodCall("__call__"), ("",) + fn.layout),
                (fn.fn,) + tuple(args))
    return active, fn, args


@_effectful
def changes_nothing(fn, refusal):
    """Raise ``refusal`` unless ``fn``, chosen at run time and called with values that depend
    on ``wrt`` for a result nothing differentiated uses, changes nothing read afterwards: a
    function of the user's writing neither into its arguments nor outside (a lambda), or a
    library function with a rule that writes into no argument (``np.sin``)."""
    target = getattr(fn, "__func__", fn)
    if _callable_object(fn):  # (a lambda or nested def of the function: its closure object)
        target = type(fn).__call__
    user = isinstance(target, types.FunctionType) and not is_library_function(target)
    # (a lambda is made anew on each call: its code; a library's callable object is refused)
    key = target.__code__ if user else fn if isinstance(fn, _FUNCTIONS) else None
    quiet = _QUIET.get(key, False if key is None else None)
    if quiet is None:
        quiet = (not effects.written_parameters(target, nested=True)
                 and not effects.writes_outside(target)
                 if user else hooks.lookup_rule(fn) is not None
                 and not effects.writes_first_argument(fn))
        _QUIET[key] = quiet
    if not quiet:
        raise refusal()


_QUIET: dict = {}
_FUNCTIONS = (types.FunctionType, types.BuiltinFunctionType, np.ufunc)


def call_forward(active, fn, *args):
    """Forward half of differentiating ``fn(*args)`` for a callable chosen at run time: the value
    and what ``call_backward`` needs (``active``: positions over ``(fn, *args)``)."""
    active, fn, args = _called_object(active, fn, args)
    target, operands, positions, repack = _dispatch(active, fn, args)
    pair = hooks.subroutine_pair(target, (positions, _callee_kinds(operands)))
    out, saved = pair.forward(*operands)
    return out, (pair, saved, repack or len(positions) < len(active))


def call_backward(saved, g):
    """The adjoints of the active operands of a ``call_forward`` call (a stateless callable's
    is zero)."""
    pair, inner, repack = saved
    grads = pair.backward(inner, g)
    return _repacked(repack, grads)


def _repacked(repack, grads):
    """Adjoints per active operand: ``repack`` is the map of an unpacked call, or True when the
    (stateless) callable itself is an active operand, whose adjoint is zero."""
    if repack is True:
        return (0.0,) + tuple(grads)
    return repack(grads) if repack else grads
