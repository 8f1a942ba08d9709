"""Pass 6c: an elementwise result built in one buffer. ``y = np.cos(w * 3 + b)`` allocates three
arrays; when shapes.py knows that each step has the shape and float dtype of the step it consumes,
the first array is the only one:

    y = w * f64_3
    y += b
    np.cos(y, out=y)

The same ufuncs on the same values (the same bits), without a new array per operation (for small
arrays a third of an operation's cost, for large ones a pass over fresh memory). Only the
assigned name holds the buffer, and the expression does not read that name, so no other value
sees the writes. Generated code read back to be differentiated again gets its assignments back
(``read_back``).
"""
from __future__ import annotations

import gast
import numpy as np

from .ir import name, name_counts, walk
from .shapes import FLOAT_DTYPES, ResolveShapes

_UFUNC_OF = {gast.Add: np.add, gast.Sub: np.subtract, gast.Mult: np.multiply,
             gast.Div: np.true_divide,
             gast.Pow: np.power}
_COMMUTATIVE = (gast.Add, gast.Mult)


class ReuseBuffers(ResolveShapes):
    """Runs over the final gradient code (shapes are known as in ResolveShapes, which has
    already simplified it) and splits assignments of elementwise chains into in-place steps. The
    first step may also write into a name that nothing reads afterwards: one bound just before in
    the same block to an array computed there, and read only by this statement
    (``p = np.divide(e, e.sum(axis=1, keepdims=True), out=e)``)."""

    def run(self, fdef) -> None:
        self.stores, self.loads = name_counts(fdef)
        self.made_in = {}  # name -> the block (list) where an assignment gave it a new array
        super().run(fdef)

    def assigned(self, st, block):
        target = st.targets[0].id
        reads = [n.id for n in walk(st.value) if isinstance(n, gast.Name)]
        if (
            isinstance(st.value, (gast.BinOp, gast.Call))
            and self.value_of(st.value).ident is not None
        ):
            self.made_in[target] = block
        if target in reads:
            return None  # (the buffer would change under a read of the old value)
        self.dead = {n for n in reads if self.made_in.get(n) is block and self.stores.get(n) == 1
                     and self.loads.get(n) == reads.count(n)}
        steps, node = [], st.value
        while (k := self.spine(node)) is not None:
            steps.append((node, k))
            node = self.operands(node)[k]
        if not steps:
            return None
        if isinstance(node, gast.Name):  # (the first step writes into that name's array)
            outer, k = steps.pop()
            if reads.count(node.id) != sum(isinstance(n, gast.Name) and n.id == node.id
                                           for n in walk(outer)):
                return None  # (a later step would read it after the write)
            node = self.ufunc_call(outer, self.operands(outer), node.id)
        first = gast.Assign(targets=[name(target, store=True)], value=node, type_comment=None)
        out = [first] + [self.in_place(outer, k, target) for outer, k in reversed(steps)]
        for new in out:
            gast.copy_location(new, st)
        return out

    def operands(self, node):
        """The operands of an elementwise operation that can write its result into one of them."""
        if isinstance(node, gast.BinOp) and type(node.op) in _UFUNC_OF:
            return [node.left, node.right]
        if isinstance(node, gast.Call) and not node.keywords:
            obj = self.callee(node)
            if (
                isinstance(obj, np.ufunc)
                and obj.signature is None
                and obj.nout == 1
                and obj.nin == len(node.args)
            ):
                return node.args
        return None

    def spine(self, node):
        """The position of the operand of ``node`` whose buffer can take ``node``'s result: an
        array computed by an operation right there (no name holds it) or held by a dead name, of
        the result's shape and float dtype; None if there is none."""
        operands = self.operands(node)
        if operands is None:
            return None
        result = self.value_of(node)
        for k, operand in enumerate(operands):
            value = self.value_of(operand)
            owned = isinstance(operand, (gast.BinOp, gast.UnaryOp, gast.Call)) or \
                (isinstance(operand, gast.Name) and operand.id in self.dead)
            if (
                isinstance(node, gast.BinOp)
                and isinstance(node.op, gast.Pow)
                and (k or isinstance(operand, gast.Name))
            ):
                continue  # (only ``y **= 2`` keeps NumPy's fast path for squares)
            if (
                owned
                and value.ident is not None
                and isinstance(value.shape, tuple)
                and value.shape == result.shape
                and value.dtype == result.dtype
                and value.dtype in FLOAT_DTYPES
            ):
                return k
        return None

    def ufunc_call(self, node, args, out):
        """``node`` as a call of its ufunc on ``args`` with ``out=out``."""
        if isinstance(node, gast.BinOp):
            func = gast.Attribute(value=name(self.bind("np", np)),
                                  attr=_UFUNC_OF[type(node.op)].__name__,
                                  ctx=gast.Load())
        else:
            func = node.func
        return gast.Call(func=func, args=list(args),
                         keywords=[gast.keyword(arg="out", value=name(out))])

    def in_place(self, node, k, target):
        """``node`` computed into ``target``, which holds its operand ``k``."""
        if isinstance(node, gast.BinOp) and (k == 0 or isinstance(node.op, _COMMUTATIVE)):
            other = node.right if k == 0 else node.left
            return gast.AugAssign(target=name(target, store=True), op=node.op, value=other)
        args = list(self.operands(node))  # (a - y: np.subtract(a, y, out=y))
        args[k] = name(target)
        return gast.Expr(value=self.ufunc_call(node, args, target))


def read_back(tree) -> None:
    """In generated code read back to be differentiated again, ``f(..., out=y)`` as a statement
    becomes ``y = f(...)`` and ``p = f(..., out=e)`` becomes ``p = f(...)`` (the buffers are the
    code's own, and nothing reads ``e`` after that), so code built in place is differentiated
    like any other."""
    for node in walk(tree):
        for field in ("body", "orelse"):
            stmts = getattr(node, field, None)
            if not isinstance(stmts, list):
                continue
            for i, st in enumerate(stmts):
                call = st.value if isinstance(st, (gast.Expr, gast.Assign)) else None
                if not (isinstance(call, gast.Call) and len(call.keywords) == 1
                        and call.keywords[0].arg == "out"
                        and isinstance(call.keywords[0].value, gast.Name)):
                    continue
                buffer = call.keywords[0].value.id
                call.keywords = []
                if isinstance(st, gast.Expr):
                    stmts[i] = gast.copy_location(
                        gast.Assign(targets=[name(buffer, gast.Store())], value=call,
                                    type_comment=None), st)
