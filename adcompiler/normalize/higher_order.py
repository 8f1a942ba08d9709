"""The ``Normalizer``'s calls of higher-order builtins: ``map`` and ``filter`` as comprehensions
and ``functools.reduce`` as a loop, so the function they call is differentiated like any call;
``sorted``/``max``/``min`` with ``key=`` as the keys computed, then items picked.
"""
from __future__ import annotations

import functools
import itertools

import gast
import numpy as np

from .. import runtime
from ..ir import const, name
from ..resolve import MISSING
from .itertools_calls import ITERTOOLS


class HigherOrder:
    """Higher-order builtins spelled out (a mixin of the ``Normalizer``)."""

    def iterator_items(self, target, node, s):
        """``list(zip(xs, ys))`` (``tuple(...)``): the items as a loop over the iterator makes
        them, which follows their derivatives."""
        item = self.namer.fresh("item")
        items = name(self.comprehension(gast.ListComp(elt=name(item), generators=[
            gast.comprehension(target=name(item, True), iter=node.args[0], ifs=[],
                               is_async=0)]), s))
        return items if target is list else gast.Call(func=node.func, args=[items], keywords=[])

    def iterator_call(self, node) -> bool:
        """Whether ``node`` is a call of zip, enumerate or reversed (plain arguments)."""
        return isinstance(node, gast.Call) and self.is_global(node.func) \
            and any(self.resolver.resolve(node.func) is f for f in (zip, enumerate, reversed)) \
            and not node.keywords and not any(isinstance(a, gast.Starred) for a in node.args)

    def piecewise(self, node, s):
        """``np.piecewise(x, [c1, c2], [f1, f2(, f_else)])`` with the lists written out: NumPy's
        own steps, ``y = np.zeros_like(x)`` then ``y[c] = f(x[c])`` (or the number ``f``) for each
        condition in order, the last function where none holds; each call differentiated like any
        call. None for other forms (refused by the rule)."""
        if len(node.args) != 3 or node.keywords or not all(
                isinstance(a, gast.List) for a in node.args[1:]):
            return None
        conds, funcs = node.args[1].elts, node.args[2].elts
        if len(funcs) not in (len(conds), len(conds) + 1) or not conds:
            return None
        x = self.atom(gast.Call(func=self._np("asarray"), args=[node.args[0]], keywords=[]), s)
        masks = [self.atom(gast.Call(func=self._np("asarray"), args=[c], keywords=[
            gast.keyword(arg="dtype", value=name("bool"))]), s) for c in conds]
        if len(funcs) > len(conds):  # (otherwise: where no condition holds)
            held = self.atom(gast.Call(func=self._np("any"), args=[gast.List(
                elts=[name(m.id) for m in masks], ctx=gast.Load())], keywords=[
                gast.keyword(arg="axis", value=const(0))]), s)
            masks.append(self.atom(gast.UnaryOp(op=gast.Invert(), operand=held), s))
        out = self.namer.fresh("pieces")
        self.temps.add(out)
        self.resolver.locals.add(out)
        self.stmt(gast.copy_location(gast.Assign(targets=[name(out, True)], value=gast.Call(
            func=self._np("zeros_like"), args=[x], keywords=[]), type_comment=None), s))
        for mask, f in zip(masks, funcs):
            picked = gast.Subscript(value=name(x.id), slice=name(mask.id), ctx=gast.Load())
            value = f if isinstance(f, gast.Constant) else gast.Call(func=f, args=[picked],
                                                                      keywords=[])
            self.stmt(gast.copy_location(gast.Assign(targets=[gast.Subscript(
                value=name(out), slice=name(mask.id), ctx=gast.Store())], value=value,
                type_comment=None), s))
        return name(out)

    def _np(self, attr):
        return gast.Attribute(value=name(self.helper("np", np)), attr=attr, ctx=gast.Load())

    def higher_order(self, node, s):
        """``map(f, xs, ...)`` as ``[f(x, ...) for x, ... in zip(xs, ...)]``, ``filter(f, xs)`` as
        ``[x for x in xs if f(x)]`` and ``functools.reduce(f, xs[, start])`` as a loop, so ``f``
        (a lambda too) is called, and differentiated, like any call; None for other calls."""
        target = self.resolver.resolve(node.func) if self.is_global(node.func) else MISSING
        if target in (sorted, max, min) and any(k.arg == "key" for k in node.keywords):
            return self.keyed(target, node, s)
        if target in (list, tuple) and len(node.args) == 1 and not node.keywords \
                and self.iterator_call(node.args[0]):
            return self.iterator_items(target, node, s)
        if target is itertools.accumulate or target is np.piecewise:
            return (self.accumulated if target is itertools.accumulate else self.piecewise)(node, s)
        if any(target is f for f in ITERTOOLS):
            return self.itertools_call(target, node, s)
        if target not in (map, filter, functools.reduce) or node.keywords or len(node.args) < 2 \
                or any(isinstance(a, gast.Starred) for a in node.args):
            return None
        if target is filter:
            if len(node.args) != 2:
                return None
            item = self.namer.fresh("item")
            test = name(item) if isinstance(node.args[0], gast.Constant) \
                and node.args[0].value is None else gast.Call(
                    func=self.callable_of(node.args[0], s), args=[name(item)], keywords=[])
            comp = gast.ListComp(elt=name(item), generators=[gast.comprehension(
                target=name(item, True), iter=node.args[1], ifs=[test], is_async=0)])
            return name(self.comprehension(comp, s))
        fn = self.callable_of(node.args[0], s)
        if target is map:
            variables = [self.namer.fresh("item") for _ in node.args[1:]]
            source = node.args[1] if len(variables) == 1 else gast.Call(
                func=name(self._builtin("zip")), args=list(node.args[1:]), keywords=[])
            target_node = (name(variables[0], True) if len(variables) == 1 else
                           gast.Tuple(elts=[name(v, True) for v in variables], ctx=gast.Store()))
            comp = gast.ListComp(elt=gast.Call(func=fn, args=[name(v) for v in variables],
                                               keywords=[]),
                                 generators=[gast.comprehension(target=target_node, iter=source,
                                                                ifs=[], is_async=0)])
            return name(self.comprehension(comp, s))
        if len(node.args) > 3:
            return None
        acc, item, items = (self.namer.fresh(n) for n in ("acc", "item", "items"))
        self.resolver.locals |= {acc, item, items}
        self.assign_to(items, gast.Call(func=name(self._builtin("list")), args=[node.args[1]],
                                        keywords=[]), s)
        if len(node.args) == 3:
            self.assign_to(acc, node.args[2], s)
            rest = name(items)
        else:
            self.assign_to(acc, gast.Subscript(value=name(items), slice=const(0),
                                               ctx=gast.Load()), s)
            rest = gast.Subscript(value=name(items),
                                  slice=gast.Slice(lower=const(1), upper=None, step=None),
                                  ctx=gast.Load())
        loop = gast.For(target=name(item, True), iter=rest, body=[gast.copy_location(gast.Assign(
            targets=[name(acc, True)],
            value=gast.Call(func=fn, args=[name(acc), name(item)], keywords=[]),
            type_comment=None), s)], orelse=[], type_comment=None)
        self.stmt(gast.copy_location(loop, s))
        return name(acc)

    def accumulated(self, node, s):
        """``itertools.accumulate(xs[, func][, initial=v])`` as the list a loop appends the running
        values to (``out[-1] + x``, or ``func(out[-1], x)``, differentiated like any call); None
        for other forms."""
        keywords = {k.arg: k.value for k in node.keywords}
        if set(keywords) - {"func", "initial"} or not 1 <= len(node.args) <= 2 \
                or any(isinstance(a, gast.Starred) for a in node.args) \
                or (len(node.args) == 2 and "func" in keywords):
            return None
        func = node.args[1] if len(node.args) == 2 else keywords.get("func")
        fn = None if func is None or (isinstance(func, gast.Constant) and func.value is None) \
            else self.callable_of(func, s)
        item, items, out = (self.namer.fresh(n) for n in ("item", "items", "running"))
        self.resolver.locals |= {item, items, out}
        self.growing.add(out)  # (out[-1]: the entry last appended, read as out[len(out) - 1])
        self.assign_to(items, gast.Call(func=name(self._builtin("list")), args=[node.args[0]],
                                        keywords=[]), s)
        initial = keywords.get("initial")
        if initial is not None and not (isinstance(initial, gast.Constant)
                                        and initial.value is None):
            self.assign_to(out, gast.List(elts=[initial], ctx=gast.Load()), s)
            rest = name(items)
        else:  # (the first item as it is; none for no items)
            self.assign_to(out, gast.Subscript(value=name(items), slice=gast.Slice(
                lower=None, upper=const(1), step=None), ctx=gast.Load()), s)
            rest = gast.Subscript(value=name(items), slice=gast.Slice(
                lower=const(1), upper=None, step=None), ctx=gast.Load())
        last = gast.Subscript(value=name(out), slice=const(-1), ctx=gast.Load())
        value = gast.BinOp(left=last, op=gast.Add(), right=name(item)) if fn is None \
            else gast.Call(func=fn, args=[last, name(item)], keywords=[])
        append = gast.Expr(value=gast.Call(func=gast.Attribute(value=name(out), attr="append",
                                                               ctx=gast.Load()),
                                           args=[value], keywords=[]))
        self.stmt(gast.copy_location(gast.For(target=name(item, True), iter=rest, body=[append],
                                              orelse=[], type_comment=None), s))
        return name(out)

    def keyed(self, target, node, s):
        """``sorted(xs, key=f)``, ``max(xs, key=f)``, ``min(a, b, key=f)``: the keys are computed
        by calling ``f`` on each item; the order they give picks items (no gradient flows
        through a key); None for forms this does not cover."""
        keywords = {k.arg: k.value for k in node.keywords}
        allowed = {"key", "reverse"} if target is sorted else {"key"}
        if set(keywords) - allowed or not node.args \
                or any(isinstance(a, gast.Starred) for a in node.args) \
                or (target is sorted and len(node.args) != 1) or self.bind_object is None:
            return None
        fn = self.callable_of(keywords["key"], s)
        items, item, keys = (self.namer.fresh(n) for n in ("items", "item", "keys"))
        self.resolver.locals |= {items, item, keys}
        if len(node.args) == 1:  # (the list of its items: any iterable, a dict's keys too)
            self.assign_to(items, gast.Call(func=name(self._builtin("list")), args=node.args,
                                            keywords=[]), s)
        else:
            self.assign_to(items, gast.List(elts=list(node.args), ctx=gast.Load()), s)
        comp = gast.ListComp(elt=gast.Call(func=fn, args=[name(item)], keywords=[]),
                             generators=[gast.comprehension(target=name(item, True),
                                                            iter=name(items), ifs=[], is_async=0)])
        self.assign_to(keys, comp, s)
        if target is sorted:
            order = gast.Call(func=name(self.helper("key_order", runtime.key_order)),
                              args=[name(keys), keywords.get("reverse", const(False))], keywords=[])
            picked = gast.ListComp(elt=gast.Subscript(value=name(items), slice=name(item),
                                                      ctx=gast.Load()),
                                   generators=[gast.comprehension(target=name(item, True),
                                                                  iter=order, ifs=[], is_async=0)])
            return name(self.comprehension(picked, s))
        pick = gast.Call(func=name(self.helper("key_pick", runtime.key_pick)),
                         args=[name(keys), const(target is max)], keywords=[])
        return self.expr(gast.Subscript(value=name(items), slice=pick, ctx=gast.Load()), s)
