"""The ``Normalizer``'s ``itertools`` iterators over values (``chain``, ``product``,
``pairwise``, ``combinations``, ``permutations``, ``combinations_with_replacement``, ``islice``,
``starmap``): the list of what they give, made by a comprehension reading the items, so the
derivatives of the items reach what was read (the plain iterators are C code the compiler does
not see). The positions of
``combinations`` and its kin, and of ``islice``, are still the iterator's, over ``range``: no
derivative flows through positions, and its checks of its bounds are Python's. An endless
iterator is never listed: ``for i in itertools.count(a, b)``
(ended by ``break`` or ``return``, as Python's loop is) is the ``while`` loop counting ``i``,
``zip(xs, itertools.count())`` reads its counts by position, and a loop over any other one (a
``count`` given floats in ``zip``, ``cycle``, an endless ``repeat``, a generator of the user's
yielding in a ``while True`` it never leaves) is refused.
"""
from __future__ import annotations

import inspect
import itertools

import gast

from ..errors import AdError
from ..ir import assign, const, located, name, walk
from ..parse import parse_function
from ..resolve import MISSING

_BY_POSITION = (itertools.combinations, itertools.permutations,
                itertools.combinations_with_replacement)
ITERTOOLS = (itertools.chain, itertools.product, itertools.pairwise, itertools.islice,
             itertools.starmap) + _BY_POSITION
_ENDLESS_HINT = ("write the loop as a while loop with an explicit counter (i = 0; while True: ...; "
                 "i += 1), or go over a bounded range")


class ItertoolsCalls:
    """``itertools`` iterators spelled out (a mixin of the ``Normalizer``)."""

    def itertools_call(self, target, node, s):
        """The name of the list ``node`` (a call of ``target``, one of ``ITERTOOLS``) gives, or None
        when its arguments are not plain (``*its``, a keyword other than ``product``'s constant
        ``repeat``, the index iterator this makes itself)."""
        keywords = {k.arg: k.value for k in node.keywords}
        if getattr(node, "ad_positions", False) or any(isinstance(a, gast.Starred)
                                                       for a in node.args):
            return None
        repeat = keywords.pop("repeat", gast.Constant(value=1, kind=None))
        if keywords or not (isinstance(repeat, gast.Constant) and type(repeat.value) is int) \
                or (target is not itertools.product and repeat.value != 1):
            return None
        if target is itertools.islice or target is itertools.starmap:
            return self.sliced_or_starred(target, node, s)
        if target is not itertools.chain and target is not itertools.product \
                and not 1 <= len(node.args) <= (1 if target is itertools.pairwise else 2):
            return None
        iterables = node.args if target in (itertools.chain, itertools.product) else node.args[:1]
        parts = [self.listed_items(a, s) for a in iterables]
        if target is itertools.chain:
            return self.listed(name("item"), [("part", gast.Tuple(elts=parts, ctx=gast.Load())),
                                              ("item", name("part"))], s)
        if target is itertools.product:
            loops = [("x%d" % i, p) for i, p in enumerate(parts * repeat.value)]
            return self.listed(gast.Tuple(elts=[name(v) for v, _ in loops], ctx=gast.Load()),
                               loops, s)
        items = parts[0]
        length = gast.Call(func=name(self._builtin("len")), args=[items], keywords=[])
        if target is itertools.pairwise:
            pair = gast.Tuple(elts=[gast.Subscript(value=items, slice=name("i"), ctx=gast.Load()),
                                    gast.Subscript(value=items, slice=gast.BinOp(
                                        left=name("i"), op=gast.Add(),
                                        right=gast.Constant(value=1, kind=None)),
                                        ctx=gast.Load())], ctx=gast.Load())
            count = gast.BinOp(left=length, op=gast.Sub(), right=gast.Constant(value=1, kind=None))
            return self.listed(pair, [("i", gast.Call(func=name(self._builtin("range")),
                                                      args=[count], keywords=[]))], s)
        r = node.args[1] if len(node.args) > 1 else None
        if not (isinstance(r, gast.Constant) and type(r.value) is int):
            return None
        positions = gast.Call(func=node.func, args=[gast.Call(
            func=name(self._builtin("range")), args=[length], keywords=[]), r], keywords=[])
        positions.ad_positions = True
        positions = self.atom(gast.Call(func=name(self._builtin("list")), args=[positions],
                                        keywords=[]), s)  # (the call as written: ints)
        picked = gast.Tuple(elts=[gast.Subscript(value=items, slice=name("i%d" % k),
                                                 ctx=gast.Load()) for k in range(r.value)],
                            ctx=gast.Load())
        target_tuple = gast.Tuple(elts=[name("i%d" % k, True) for k in range(r.value)],
                                  ctx=gast.Store())
        return self.listed(picked, [(target_tuple, positions)], s)

    def sliced_or_starred(self, target, node, s):
        """``itertools.islice(xs, [start,] stop[, step])``: the items of ``xs`` at the positions
        ``islice`` gives over ``range(len(items))`` (its bounds checked as Python checks them);
        ``itertools.starmap(f, xs)``: ``[f(*item) for item in items]``, ``f`` (a lambda too)
        called, and differentiated, like any call. None for other forms."""
        if target is itertools.starmap:
            if len(node.args) != 2 or node.keywords:
                return None
            fn = self.callable_of(node.args[0], s)
            items = self.listed_items(self.endless_refused(node.args[1]), s)
            local = self.local_fns.get(fn.id) if isinstance(fn, gast.Name) else None
            a = local.args if local is not None and not hasattr(local, "ad_partial") else None
            if a is None or a.defaults or a.vararg or a.kwonlyargs or a.kwarg:
                return self.listed(gast.Call(func=fn, args=[gast.Starred(
                    value=name("item"), ctx=gast.Load())], keywords=[]), [("item", items)], s)
            # (a local function of n plain parameters: each item unpacked into n names, as
            # its call would bind them; a nested function is not called with *item)
            parts = ["a%d" % k for k in range(len(a.posonlyargs + a.args))]
            return self.listed(gast.Call(func=fn, args=[name(v) for v in parts], keywords=[]), [
                (gast.Tuple(elts=[name(v, True) for v in parts], ctx=gast.Store()), items)], s)
        if not 2 <= len(node.args) <= 4 or node.keywords:
            return None
        items = self.listed_items(self.endless_refused(node.args[0]), s)
        length = gast.Call(func=name(self._builtin("len")), args=[items], keywords=[])
        positions = gast.Call(func=node.func, args=[gast.Call(
            func=name(self._builtin("range")), args=[length], keywords=[])] + node.args[1:],
            keywords=[])
        positions.ad_positions = True
        positions = self.atom(gast.Call(func=name(self._builtin("list")), args=[positions],
                                        keywords=[]), s)
        return self.listed(gast.Subscript(value=items, slice=name("i"), ctx=gast.Load()),
                           [("i", positions)], s)

    def endless_refused(self, node):
        """``node``, an iterable listed whole: refused when it is an endless iterator (``islice``
        of ``itertools.count()`` reads a part of one)."""
        self.refuse_endless(node)
        return node

    def listed_items(self, node, s):
        """``list(node)`` in a name (iterated more than once, as the iterator reads it once)."""
        return self.atom(gast.Call(func=name(self._builtin("list")), args=[node], keywords=[]), s)

    def listed(self, elt, loops, s):
        """The name of ``[elt for v1 in it1 for v2 in it2 ...]`` (``loops``: (target, iterable)
        pairs, a target a name or a tuple of names)."""
        generators = [gast.comprehension(target=name(v, True) if isinstance(v, str) else v,
                                         iter=it, ifs=[], is_async=0) for v, it in loops]
        return name(self.comprehension(gast.ListComp(elt=elt, generators=generators), s))

    def counted_loop(self, s) -> bool:
        """``for i in itertools.count(start, step):`` as ``c = start; while True: i = c; c = c +
        step; ...``: the values Python's count gives (by repeated addition), the loop ended by its
        ``break`` or ``return``; True if so, else False (nothing emitted)."""
        it = s.iter
        bounds = self.count_bounds(it) if self.endless_callee(it) is itertools.count else None
        if bounds is None:
            return False
        start, step = (self.atom(b, s) for b in bounds)  # (count() reads them once)
        counter = self.namer.fresh("c")
        self.resolver.locals.add(counter)
        self.emit(assign(counter, start), s)
        head = [gast.Assign(targets=[s.target], value=name(counter), type_comment=None),
                assign(counter, gast.BinOp(left=name(counter), op=gast.Add(), right=step))]
        loop = gast.While(test=const(True), body=[located(st, s) for st in head] + s.body,
                          orelse=[])
        loop.ad_break_flag = getattr(s, "ad_break_flag", None)
        self.stmt_While(located(loop, s))
        return True

    def zip_parts(self, args, strict, s):
        """(length, k -> item) of each iterable of ``zip(*args)`` (``strict``: its keyword, or
        none): ``itertools.count(...)`` with no length, read by position (not in a strict zip,
        which raises where the others end); refused when every one is endless."""
        plain = not any(k.value.value for k in strict)
        parts = [(None, counts) if plain and (counts := self.counted_items(a)) is not None
                 else self.iteration(a, s) for a in args]
        if all(length is None for length, _ in parts):
            self.refuse_endless(args[0])
        return parts

    def count_bounds(self, it):
        """(start, step) of the call ``it`` of ``itertools.count``, or None when its arguments are
        not plain (``*args``, a keyword other than ``start`` and ``step``)."""
        given = dict(zip(("start", "step"), it.args))
        if len(it.args) > 2 or any(isinstance(a, gast.Starred) for a in it.args) \
                or any(k.arg not in ("start", "step") or k.arg in given for k in it.keywords):
            return None
        given.update((k.arg, k.value) for k in it.keywords)
        return given.get("start", const(0)), given.get("step", const(1))

    def counted_items(self, it):
        """For ``itertools.count(a, b)`` given int constants (a part of ``zip``): the function
        k -> ``a + k * b`` of its k-th count; else None (floats are counted by repeated
        addition, which ``a + k * b`` may not give to the last bit)."""
        bounds = self.count_bounds(it) if self.endless_callee(it) is itertools.count else None
        if bounds is None or not all(isinstance(b, gast.Constant) and type(b.value) is int
                                     for b in bounds):
            return None
        start, step = bounds
        return lambda k: gast.BinOp(left=const(start.value), op=gast.Add(), right=gast.BinOp(
            left=k, op=gast.Mult(), right=const(step.value)))

    def endless_callee(self, it):
        """What the call ``it`` calls when it makes an endless iterator: ``itertools.count``,
        ``itertools.cycle``, ``itertools.repeat`` without a count, or a generator function of
        the user's that yields in a ``while True`` it never leaves; else None."""
        if not isinstance(it, gast.Call):
            return None
        fn = self.resolver.resolve(it.func)
        held = getattr(it.func, "value", None)
        if fn is MISSING and isinstance(held, gast.Name) and held.id in self.object_classes:
            fn = inspect.getattr_static(self.object_classes[held.id], it.func.attr, None)
        if fn is itertools.count or fn is itertools.cycle or (
                fn is itertools.repeat and len(it.args) < 2
                and not any(k.arg == "times" for k in it.keywords)):
            return fn
        return fn if inspect.isgeneratorfunction(fn) and _yields_forever(fn) else None

    def refuse_endless(self, it):
        """Refuse listing the items of ``it`` (what a loop over it or unpacking it would do) when
        it is an endless iterator (``endless_callee``): listing them would never end."""
        fn = self.endless_callee(it)
        if fn is None:
            return
        what = "itertools.%s(...)" % fn.__name__ if getattr(fn, "__module__", None) == "itertools" \
            else "the generator %s, which yields in a 'while True' loop it never leaves" \
            % fn.__name__
        raise self.loc.error(
            "going over an endless iterator, %s, is not supported: adcompiler lists what an "
            "iterator gives before the loop, which would never end" % what,
            it, hint=_ENDLESS_HINT)


def _yields_forever(fn) -> bool:
    """Whether the generator function ``fn`` has a ``while True`` loop that yields and that no
    ``break`` or ``return`` in it leaves (a ``break`` of a loop inside it does not)."""
    try:
        tree = parse_function(fn).tree
    except AdError:  # (no source: its calls are refused where they are compiled)
        return False
    for loop in walk(tree):
        if isinstance(loop, gast.While) and isinstance(loop.test, gast.Constant) \
                and loop.test.value and any(isinstance(n, (gast.Yield, gast.YieldFrom))
                                            for n in walk(loop)) and not _leaves(loop.body):
            return True
    return False


def _leaves(body) -> bool:
    """Whether ``body`` (a loop's) holds a ``return``, or a ``break`` not inside a nested loop."""
    for st in body:
        if isinstance(st, (gast.Return, gast.Break)):
            return True
        if isinstance(st, (gast.For, gast.While)):
            if any(isinstance(n, gast.Return) for n in walk(st)) or _leaves(st.orelse):
                return True
        elif isinstance(st, (gast.If, gast.With, gast.Try)):
            inner = [getattr(st, f, []) for f in ("body", "orelse", "finalbody")] + \
                [h.body for h in getattr(st, "handlers", [])]
            if any(_leaves(b) for b in inner):
                return True
    return False
