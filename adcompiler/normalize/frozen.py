"""Frozen SciPy distributions: ``d = norm(mu, sigma); d.logpdf(x)`` (or
``norm(mu, sigma).logpdf(x)``) is ``norm.logpdf(x, mu, sigma)``, which has a derivative rule,
while the frozen object has none. Rewritten on the jump-lowered body, before it is flattened,
where that changes no value: the frozen object is bound once and only its methods are called;
``d = norm(a, b)`` becomes the assignment of ``a`` and ``b`` to names of their own (evaluated
once, where they were), which the methods' calls read."""
from __future__ import annotations

import gast

from ..ir import copy_tree, walk
from ..resolve import MISSING


def _is_distribution(obj) -> bool:
    """A ``scipy.stats`` distribution (``norm``, ``multivariate_normal``), whose call freezes it."""
    return any(c.__name__ in ("rv_generic", "multi_rv_generic")
               and str(getattr(c, "__module__", "")).startswith("scipy.stats")
               for c in type(obj).__mro__)


def _frozen(value, resolver) -> bool:
    """Whether ``value`` is ``dist(args...)`` of a distribution (no ``*``/``**`` unpacking)."""
    if not isinstance(value, gast.Call) or not isinstance(value.func, (gast.Name, gast.Attribute)):
        return False
    obj = resolver.resolve(value.func)
    return obj is not MISSING and _is_distribution(obj) \
        and not any(isinstance(a, gast.Starred) for a in value.args) \
        and all(k.arg is not None for k in value.keywords)


def _thaw(method_call, frozen):
    """``frozen(args).m(x, ...)`` as ``dist.m(x, ..., args)``."""
    method_call.func = gast.Attribute(value=copy_tree(frozen.func), attr=method_call.func.attr,
                                      ctx=gast.Load())
    method_call.args = list(method_call.args) + copy_tree(list(frozen.args))
    method_call.keywords = list(method_call.keywords) + copy_tree(list(frozen.keywords))


def thaw_frozen_distributions(body, resolver, fresh) -> None:
    """Rewrite the methods of frozen distributions as calls of the distribution's methods
    (``fresh(label)``: a new variable name)."""
    stores, loads_ = {}, {}
    for n in (n for st in body for n in walk(st)):
        if isinstance(n, gast.Name):
            table = stores if isinstance(n.ctx, (gast.Store, gast.Del)) else loads_
            table[n.id] = table.get(n.id, 0) + 1
    frozen, methods = {}, {}
    for n in (n for st in body for n in walk(st)):
        if isinstance(n, gast.Assign) and len(n.targets) == 1 \
                and isinstance(n.targets[0], gast.Name) and stores.get(n.targets[0].id) == 1 \
                and _frozen(n.value, resolver):
            frozen[n.targets[0].id] = n
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute):
            owner = n.func.value
            if isinstance(owner, gast.Name):
                methods.setdefault(owner.id, []).append(n)
            elif _frozen(owner, resolver):  # norm(mu, sigma).logpdf(x): its arguments run once
                _thaw(n, owner)
    for var, assign in frozen.items():
        calls = methods.get(var, [])
        if not calls or len(calls) != loads_.get(var, 0):  # (another use of the frozen object)
            continue
        value = assign.value
        operands = list(value.args) + [k.value for k in value.keywords]
        names = [fresh(var + "_arg") for _ in operands]
        # d = norm(a, loc=b) -> d_arg = a; d_arg_1 = b, read by d's methods
        _replace(body, assign, [gast.copy_location(gast.Assign(
            targets=[gast.Name(id=m, ctx=gast.Store(), annotation=None, type_comment=None)],
            value=v, type_comment=None), assign) for m, v in zip(names, operands)])
        load = [gast.Name(id=m, ctx=gast.Load(), annotation=None, type_comment=None) for m in names]
        held = gast.Call(func=value.func, args=load[:len(value.args)],
                         keywords=[gast.keyword(arg=k.arg, value=m)
                                   for k, m in zip(value.keywords, load[len(value.args):])])
        for call in calls:
            _thaw(call, held)


def _replace(block, old, new) -> bool:
    """Replace statement ``old`` (somewhere in ``block`` or a block nested in it) by ``new``."""
    for i, st in enumerate(block):
        if st is old:
            block[i:i + 1] = new
            return True
        if any(_replace(getattr(st, f, None) or [], old, new)
               for f in ("body", "orelse", "finalbody")):
            return True
    return False
