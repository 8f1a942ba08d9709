"""Shapes of the runtime's helpers in generated code (the ``HelperShapes`` mixin of
``ResolveShapes``): the Value of a helper's result, and the operand in place of a call that would
return it unchanged (``unbroadcast(g, x)`` when ``g`` has ``x``'s shape, ``cast_like`` of a new
array of the argument's shape and dtype, ...)."""
from __future__ import annotations

import gast

from . import runtime
from .rules.helpers import products
from .shape_values import (
    F32,
    F64,
    FLOAT_DTYPES,
    PY,
    UNKNOWN,
    Value,
    broadcast_shape,
    float_dtype,
    indexed,
    reduced,
)


class HelperShapes:
    """Calls of runtime helpers and shape-reading methods for ``ResolveShapes`` (whose
    ``elementwise``, ``callee`` and ``fresh`` it uses)."""

    def runtime_call(self, obj, node, args):
        """``(node, value)`` of a call of ``obj`` on operands of values ``args``: for the runtime's
        helpers, the value of the result, and the operand in place of the call when the call
        would return it unchanged; any other callee's result is ``UNKNOWN``."""
        if obj is runtime.sum_keepdims and len(args) == 2:
            return node, self.summed_keepdims(args[0], node.args[1])
        if (obj is runtime.log_softmax or obj is runtime.logistic) and args:
            return node, self.elementwise(args[0])  # np.log(p), 1.0 / d
        if obj is runtime.unbroadcast and len(args) == 2:
            return _resolved_unbroadcast(node, *args)
        if obj is runtime.shape_of and args:
            return _resolved_shape_of(node, args)
        if obj is runtime.expand_like and len(args) == 2:
            return _resolved_expand_like(node, *args)
        if obj is runtime.keep_dtype and len(args) == 2:
            return _resolved_keep_dtype(node, *args)
        if obj is runtime.cast_like and len(args) == 2:
            return _resolved_cast_like(node, *args)
        if obj is runtime.distinct and len(node.args) == 1 and isinstance(node.args[0], gast.Tuple):
            return _resolved_distinct(node, args[0].parts)
        if obj in _OPERAND_ADJOINTS and len(args) == 3 \
                and all(isinstance(a.shape, tuple) for a in args):
            g, a, b = args  # (the adjoint of an operand has its shape)
            left = _OPERAND_ADJOINTS[obj]
            return node, Value(a.shape if left else b.shape,
                               float_dtype(g.dtype, b.dtype if left else a.dtype), next(self.fresh))
        if obj is runtime.take_adjoint and len(args) == 2 and args[0].shape == PY:
            return node, args[0]  # (a zero adjoint)
        if obj is runtime.take_adjoint and len(args) == 2 and isinstance(args[0].shape, tuple):
            shape = self.indexed(args[0].shape, node.args[1], args[1])  # (the adjoint of x[i]:
            return node, Value(shape, args[0].dtype, next(self.fresh)) if shape else UNKNOWN  # new)
        if obj is runtime.stored_derivative and len(args) == 2 and args[1].dtype in FLOAT_DTYPES:
            return node.args[0], args[0]  # (into a float array: as it is)
        if obj is runtime.own and len(args) == 2 and isinstance(args[1].shape, tuple) \
                and args[1].dtype in FLOAT_DTYPES and args[0].shape in (PY, args[1].shape):
            return node, Value(args[1].shape, args[1].dtype, next(self.fresh))  # (a new array)
        return node, UNKNOWN

    def indexed(self, shape, index, value):
        """The shape of ``x[index]`` (``index`` of Value ``value``) for ``x`` of ``shape``, or None:
        items ``:`` (or ``slice(None, None)``, as generated code spells it) and ints."""
        items, values = (index.elts, value.parts) if isinstance(index, gast.Tuple) \
            else ([index], [value])
        full = [(isinstance(i, gast.Slice) and i.lower is None and i.upper is None
                 and i.step is None)
                or (isinstance(i, gast.Call) and not i.keywords and self.callee(i) is slice
                    and all(isinstance(a, gast.Constant) and a.value is None for a in i.args))
                for i in items]
        return indexed(shape, full, values)

    def summed_keepdims(self, of, axis):
        """``sum_keepdims(x, k)`` for a literal ``k``: the shape of ``x`` reduced along ``k``."""
        if not (isinstance(axis, gast.Constant) and isinstance(axis.value, int)):
            return UNKNOWN
        return reduced(of, axis.value, next(self.fresh))

    def reduction(self, of, keywords, args):
        """``x.sum(axis=k, keepdims=True)``: the shape of ``x`` reduced along ``k``."""
        options = {k.arg: k.value for k in keywords}
        if args or set(options) != {"axis", "keepdims"} or of.shape in (None, PY):
            return UNKNOWN
        axis, keepdims = options["axis"], options["keepdims"]
        if not (isinstance(keepdims, gast.Constant) and keepdims.value is True
                and isinstance(axis, gast.Constant)
                and isinstance(axis.value, int)):
            return UNKNOWN
        return reduced(of, axis.value, next(self.fresh))


#: Adjoints of a matrix product's operand (``True``: the left one); each has its operand's shape.
_OPERAND_ADJOINTS = {runtime.dmatmul_left: True, runtime.dmatmul_right: False,
                     products.ddot_left: True, products.ddot_right: False}


def _resolved_unbroadcast(node, g, x):
    """``unbroadcast(g, x)``: ``g`` when it needs no summing to ``x``'s shape."""
    if g.shape is not None and (g.shape == x.shape or g.shape == PY):
        return node.args[0], g  # (a number comes back as it is)
    return node, UNKNOWN  # (x's shape, or g's when g has the lower rank)


def _resolved_shape_of(node, args):
    """``shape_of(a, b, ...)``: an operand named in the call that has the result's shape and
    dtype."""
    full = broadcast_shape(args)
    dtype = float_dtype(*(v.dtype if v.shape != PY else PY for v in args))
    for a, v in zip(node.args, args):
        if full is not None and v.shape == full and v.dtype == dtype and dtype is not None \
                and isinstance(a, gast.Name):
            return a, v
    return node, UNKNOWN


def _resolved_expand_like(node, v, x):
    """``expand_like(v, x)`` of a Python number ``v``: an array of ``x``'s shape that remembers
    ``v`` (for ``ResolveShapes.unexpand``)."""
    if v.shape == PY and x.shape not in (None, PY):
        # (expand_like keeps a float32 primal's precision; a Python float is float64 otherwise)
        dtype = (
            None
            if v.dtype != "float" or x.dtype is None
            else F32
            if x.dtype == F32
            else F64
        )
        return node, Value(x.shape, dtype, expanded=v)
    return node, UNKNOWN


def _resolved_keep_dtype(node, x, v):
    """``keep_dtype(x, v)``: ``v`` when no cast to ``x``'s dtype is needed."""
    if x.shape == PY or (x.dtype is not None and x.dtype == v.dtype):
        # (a number is rebound; an array of the same dtype needs no cast)
        return node.args[1], v
    return node, UNKNOWN


def _resolved_cast_like(node, g, x):
    """``cast_like(g, x)``: a float for a number ``x``; ``g`` when it already is a new array of
    ``x``'s shape and dtype."""
    if x.shape == PY:  # float(g)
        g_node = node.args[0]
        is_float = isinstance(g_node, gast.Constant) and isinstance(g_node.value, float)
        return (g_node if is_float else node), Value(PY, "float")
    if (
        g.ident is not None
        and x.shape not in (None, PY)
        and g.shape == x.shape
        and g.dtype == x.dtype
        and g.dtype is not None
    ):
        # an array this code made, already of the argument's shape and dtype
        return node.args[0], g
    return node, UNKNOWN


def _resolved_distinct(node, parts):
    """``distinct((a, b, ...))``: the tuple itself when its arrays come from different
    operations of this code (no array can stand in it twice)."""
    idents = [p.ident for p in parts if p.shape != PY]
    if all(i is not None for i in idents) and len(set(idents)) == len(idents):
        return node.args[0], UNKNOWN
    return node, UNKNOWN
