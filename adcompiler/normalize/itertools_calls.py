"""The ``Normalizer``'s ``itertools`` iterators over values (``chain``, ``product``,
``pairwise``, ``combinations``, ``permutations``, ``combinations_with_replacement``): the list of
what they give, made by a comprehension reading the items, so the derivatives of the items
reach what was read (the plain iterators are C code the compiler does not see). The positions of
``combinations`` and its kin are still the iterator's, over ``range``: no derivative flows
through positions.
"""
from __future__ import annotations

import itertools

import gast

from ..ir import name

_BY_POSITION = (itertools.combinations, itertools.permutations,
                itertools.combinations_with_replacement)
ITERTOOLS = (itertools.chain, itertools.product, itertools.pairwise) + _BY_POSITION


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

    def listed_items(self, node, s):
        """``list(node)`` in a name (iterated more than once, as the iterator reads it once)."""
        return self.atom(gast.Call(func=name(self._builtin("list")), args=[node], keywords=[]), s)

    def listed(self, elt, loops, s):
        """The name of ``[elt for v1 in it1 for v2 in it2 ...]`` (``loops``: (target, iterable)
        pairs, a target a name or a tuple of names)."""
        generators = [gast.comprehension(target=name(v, True) if isinstance(v, str) else v,
                                         iter=it, ifs=[], is_async=0) for v, it in loops]
        return name(self.comprehension(gast.ListComp(elt=elt, generators=generators), s))
