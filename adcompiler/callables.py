"""What the API differentiates when it is given a callable: a Python function (or bound method) as
it is; a callable without Python source but with a derivative rule (``np.sin``, ``math.exp``,
``np.sum``), a ``functools.partial`` or an object with a ``__call__`` method through a small
generated Python function that calls it (its source registered with ``linecache``, like all
generated code), which the compiler then differentiates as a call written in a user's code; an
``AdError`` naming anything else (a property, a class, a number, a C function without a rule)."""
from __future__ import annotations

import functools
import inspect
import itertools
import keyword
import sys
import types
import weakref

import numpy as np

from . import rules
from .custom import user_rules
from .errors import AdError
from .parse import define, is_library_function, unwrap

_BY_ID: dict = {}  # id(callable with a rule) -> (callable, its wrapper): module-level objects, kept
_PARTIALS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # partial -> its wrapper
_serial = itertools.count(1)


def as_function(fn, api: str):
    """The Python function ``ad.<api>(fn)`` differentiates: ``fn`` itself when it has Python source
    (a function, a bound method, a gradient function, a staticmethod or classmethod object,
    a ``functools.wraps`` wrapper), else a generated function that calls ``fn``."""
    if getattr(fn, "__adcompiler_derived__", False):
        return fn
    if isinstance(fn, property):
        name = describe(fn)
        raise AdError("ad.%s(%s): a property is not a function" % (api, name),
                      hint="differentiate a function that reads the property (lambda obj: "
                           "obj.%s), or %s.fget"
                           % (name.rsplit(".", 1)[-1], name))
    if isinstance(fn, functools.partial):
        return _partial_function(fn, api)
    if _through_rule(fn):
        return _rule_function(fn)
    inner = unwrap(fn)
    if _is_python(inner):
        return fn
    if isinstance(inner, type):
        raise AdError(
            "ad.%s(%s): %s is a class, not a function (and has no derivative rule)"
            % (api, describe(fn), describe(fn)),
            hint="differentiate a function that creates and uses the object",
        )
    call = inspect.getattr_static(type(fn), "__call__", None)
    if isinstance(call, types.FunctionType) and not _library(call):
        return types.MethodType(call, fn)  # a callable object: its __call__, bound to it
    if not callable(fn):
        raise AdError("ad.%s(%r): %s (%s) is not a function" % (api, fn, _short(fn),
                                                                type(fn).__name__),
                      hint="pass the function to differentiate: ad.%s(f)" % api)
    raise AdError(
        "ad.%s(%s): %s has no derivative rule and no Python source"
        % (api, describe(fn), describe(fn)),
        hint="register a rule with ad.defvjp(fn, rule) (and ad.defjvp), or differentiate "
             "a Python function that computes the same value",
    )


_NAMED = (type, types.FunctionType, types.MethodType, types.BuiltinFunctionType, np.ufunc,
          type(np.sum))


def describe(fn) -> str:
    """A callable's name as a user would write it: ``numpy.sin``, ``math.exp``, ``Model.w2``."""
    if isinstance(fn, property):
        return describe(fn.fget) if fn.fget is not None else "property"
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if name is None or not isinstance(fn, _NAMED):
        return "%s object" % type(fn).__name__
    module = getattr(fn, "__module__", None) or ("numpy" if isinstance(fn, np.ufunc) else None)
    return "%s.%s" % (module, name) if module and module not in ("builtins", "__main__") \
        and not isinstance(fn, (types.FunctionType, type)) else name


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_python(fn) -> bool:
    """A Python function, or a method bound to a Python function."""
    return isinstance(getattr(fn, "__func__", fn), types.FunctionType)


def _library(fn) -> bool:
    return is_library_function(getattr(fn, "__func__", fn))


def _through_rule(fn) -> bool:
    """Differentiated through its rule: a callable with a rule that has no Python source, or is a
    library's function (never traced into), or a function with a user rule (``ad.defvjp``)."""
    return any(r is not None for r in user_rules(fn)) or (
        rules.lookup(fn) is not None and (not _is_python(fn) or _library(fn)))


def _label(fn) -> str:
    name = getattr(fn, "__name__", "")
    return name if name.isidentifier() else "fn"


def _rule_function(fn):
    """``def sin(x): return fn(x)`` for a callable with a rule: one parameter per required
    positional parameter of ``fn`` (per input of a ufunc)."""
    made = _BY_ID.get(id(fn))
    if made is not None and made[0] is fn:
        return made[1]
    params = [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD)
              for p in _required_positional(fn)]
    wrapper = _wrapper(_label(fn), fn, params, [], {})
    _BY_ID[id(fn)] = (fn, wrapper)
    return wrapper


def _required_positional(fn) -> list[str]:
    """From ``inspect.signature``, else a ufunc's number of inputs, else the rule's signature
    (``math.log`` has none that ``inspect`` can read)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        if isinstance(fn, np.ufunc):
            return ["x"] if fn.nin == 1 else ["x%d" % (i + 1) for i in range(fn.nin)]
        rule = rules.lookup(fn).signature
        return [p for p in rule.params if p not in rule.defaults and p not in rule.keyword_only]
    return [p.name for p in sig.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]


def _partial_function(p: functools.partial, api: str):
    """``def partial_f(x, *, y=default_y): return f(bound0, x, y=y)`` for ``partial(f, bound0,
    y=...)``: the partial's parameters (``inspect.signature(p)``); those of a callable without
    Python source are its required parameters and the keywords the partial binds (its other
    defaults stay inside it)."""
    try:
        made = _PARTIALS.get(p)
    except TypeError:  # (an unhashable partial subclass)
        made = None
    if made is not None:
        return made
    func = _partial_function(p.func, api) if isinstance(p.func, functools.partial) else p.func
    try:
        sig = inspect.signature(p)
    except (TypeError, ValueError) as exc:
        raise AdError(
            "ad.%s(%r): the partial's arguments do not match %s (%s)"
            % (api, p, describe(p.func), exc)
        ) from None
    python = _is_python(unwrap(func)) and not _through_rule(func)
    params = [q for q in sig.parameters.values()
              if python or q.default is q.empty or q.name in p.keywords
              or q.name in _given_by_position(func, sig)]
    if not python:
        as_function(func, api)  # (an AdError when the partial's function cannot be differentiated)
    params = _with_extra_keywords(p, params, api)
    bound = ["bound%d" % i for i in range(len(p.args))]
    namespace = dict(zip(bound, p.args))
    namespace.update(("default_" + q.name, q.default) for q in params if q.default is not q.empty)
    params = [q.replace(default=_Name("default_" + q.name) if q.default is not q.empty else q.empty,
                        annotation=q.empty) for q in params]
    wrapper = _wrapper("partial_" + _label(p.func), func, params, bound, namespace)
    try:
        _PARTIALS[p] = wrapper
    except TypeError:
        pass
    return wrapper


def _with_extra_keywords(p: functools.partial, params: list, api: str) -> list:
    """``params`` with the keywords ``p`` binds that its function's ``**kwargs`` takes (the
    partial's signature does not show them) as keyword-only parameters defaulting to the bound
    values: passed on as the partial passes them, and a call may still override them."""
    named = {q.name for q in params}
    extra = [k for k in p.keywords if k not in named]
    if not extra:
        return params
    for k in extra:
        if not k.isidentifier() or keyword.iskeyword(k):
            raise AdError("ad.%s(%r): the partial binds the keyword %r, which is not a name"
                          % (api, p, k), hint="bind it inside a def that calls the function")
    made = [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=p.keywords[k])
            for k in extra]
    before = [q for q in params if q.kind != q.VAR_KEYWORD]
    return before + made + [q for q in params if q.kind == q.VAR_KEYWORD]


def _given_by_position(fn, sig) -> list[str]:
    """The positional parameters of ``sig`` with defaults, up to the last one ``fn``'s rule
    differentiates: a call may give them by position (``partial(mvn.pdf, allow_singular=True)``
    called with ``x, mean, cov``)."""
    rule = rules.lookup(fn)
    positional = [q.name for q in sig.parameters.values()
                  if q.kind in (q.POSITIONAL_ONLY, q.POSITIONAL_OR_KEYWORD)]
    differentiated = [i for i, q in enumerate(positional) if rule is not None and q in rule.vjps]
    return positional[:differentiated[-1] + 1] if differentiated else []


class _Name:
    """A default value shown in a signature as the name that holds it."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return self.name


_ALIASES = {"numpy": "np"}


def _spelling(fn, taken: set) -> tuple[str, dict]:
    """How the wrapper names ``fn``: ``np.sin`` or ``math.exp`` when its module has it under its
    name (with the module bound), else a name bound to it."""
    module, name = getattr(fn, "__module__", None), getattr(fn, "__name__", "")
    if isinstance(fn, np.ufunc):
        module = module or "numpy"
    top = (module or "").split(".")[0]
    if (
        not _is_python(fn)
        and getattr(sys.modules.get(module), name, None) is fn
        and name.isidentifier()
    ):
        alias = _ALIASES.get(top, top)
        if alias not in taken:
            return ("%s.%s" % (".".join([alias] + module.split(".")[1:]), name),
                    {alias: sys.modules[top]})
    callee = next(n for n in (_label(fn), "fn", "fn_", "callee") if n not in taken)
    return callee, {callee: fn}


def _wrapper(name: str, callee, params: list, bound: list[str], namespace: dict):
    """Define ``def name(<params>): return callee(*bound, <params passed on by kind>)`` in
    ``namespace`` (which holds the bound values and the defaults the parameters name)."""
    taken = set(namespace) | {q.name for q in params} | {name}
    callee_name, binding = _spelling(callee, taken)
    passed = list(bound)
    for q in params:
        if q.kind in (q.POSITIONAL_ONLY, q.POSITIONAL_OR_KEYWORD):
            passed.append(q.name)
        elif q.kind == q.VAR_POSITIONAL:
            passed.append("*" + q.name)
        elif q.kind == q.KEYWORD_ONLY:
            passed.append("%s=%s" % (q.name, q.name))
        else:
            passed.append("**" + q.name)
    source = "def %s%s:\n    return %s(%s)\n" % (name, inspect.Signature(params), callee_name,
                                                 ", ".join(passed))
    namespace = dict(namespace, **binding)
    return define(source, name, namespace,
                  "<wrapper of %s #%d>" % (describe(callee), next(_serial)))
