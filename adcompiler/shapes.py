"""Pass 6b: shapes, dtypes and ownership known at generation time. Code specialised for its
arguments knows which axes of its array arguments have equal lengths and which have length 1
(part of the argument kinds: ``arguments.dims_of``), their dtypes, and follows them through
elementwise operations, keepdims reductions, matrix products, ``.T`` and ``x[i]``, and around
loops (what every pass of a loop's body keeps of a value's shape: ``shape_loops``), and through
the tape (a value popped has the shape it was pushed with). The runtime's shape helpers then
resolve here instead of at every call:

- ``unbroadcast(g, x)`` is ``g`` when ``g`` has the shape of ``x``;
- ``shape_of(a, b)`` is ``a`` when ``a`` has the broadcast shape;
- ``cast_like(g, x)`` is ``g`` when ``g`` is an array this code created, of ``x``'s shape and dtype;
- ``distinct((a, b))`` is ``(a, b)`` when ``a`` and ``b`` were created by different operations;
- ``y * expand_like(s, x)`` is ``y * s`` for a Python number ``s`` when ``y`` has ``x``'s shape;
- a number combined with a float array (``w * 3``, ``np.maximum(x, 0)``) becomes a 0-d array of
  the array's dtype bound once (``w * f64_3``): the same result, without NumPy converting a
  Python number at every call (a third of the cost of an operation on a small array).

Only what is certain is used: a name bound in a branch is unknown after it, one bound in a loop
is known only as the loop keeps it, and any operation not listed gives an unknown value.
"""
from __future__ import annotations

import itertools
import math

import gast
import numpy as np

from . import rules
from .ir import name, walk
from .shape_calls import HelperShapes
from .shape_loops import LoopShapes
from .shape_values import (
    F32,
    F64,
    FLOAT_DTYPES,
    PY,
    SHAPE_TUPLE,
    UNKNOWN,
    Value,
    broadcast_shape,
    float_dtype,
    join,
    lengths,
    product,
)
from .tape_entries import plain_tape, popped, pushed

__all__ = ["FLOAT_DTYPES", "ResolveShapes", "constants_as_numbers"]

_ELEMENTWISE = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow)
# (not ``**``: ``x ** 2`` has a fast path)
_WITH_ARRAY_CONSTANT = (gast.Add, gast.Sub, gast.Mult, gast.Div)
_LIMITS = {F32: (2 ** 24, 3e38), F64: (2 ** 53, float("inf"))}
_CONSTANTS: dict = {}  # (dtype string, number, its sign) -> (name, read-only 0-d array)
_NUMBERS: dict = {}  # id of such an array -> the number (the arrays live as long as the module)


def _is_one(node) -> bool:
    return isinstance(node, gast.Constant) and type(node.value) in (int, float) and node.value == 1

def _array_constant(number, dtype: str):
    """(preferred name, read-only 0-d array of ``dtype``) for a Python number, or None when
    converting it could differ from NumPy's conversion at run time (huge values)."""
    exact_ints, largest = _LIMITS[dtype]
    if isinstance(number, int) and abs(number) > exact_ints or not abs(number) <= largest:
        return None
    value = float(number)
    # (3 and 3.0 are one constant, 0.0 and -0.0 two)
    key = (dtype, value, math.copysign(1.0, value))
    if key not in _CONSTANTS:
        text = repr(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
        text = text.replace("-", "neg").replace(".", "_").replace("+", "")
        array = np.array(value, dtype=FLOAT_DTYPES[dtype])
        array.flags.writeable = False
        _CONSTANTS[key] = ("f%d_%s" % (8 * array.itemsize, text if len(text) <= 8 else "c"), array)
        _NUMBERS[id(array)] = value
    return _CONSTANTS[key]


def constants_as_numbers(tree, cells: dict) -> None:
    """In generated code read back to be differentiated again, the closure's 0-d array constants
    become the numbers they stand for (they are constants to every pass)."""
    numbers = {n: _NUMBERS[id(c.cell_contents)] for n, c in cells.items()
               if id(getattr(c, "cell_contents", None)) in _NUMBERS}
    if not numbers:
        return
    for node in walk(tree):
        for field, value in gast.iter_fields(node):
            if (
                isinstance(value, gast.Name)
                and value.id in numbers
                and isinstance(value.ctx, gast.Load)
            ):
                setattr(node, field, gast.Constant(value=numbers[value.id], kind=None))
            elif isinstance(value, list):
                value[:] = [gast.Constant(value=numbers[v.id], kind=None)
                            if isinstance(v, gast.Name) and v.id in numbers
                            and isinstance(v.ctx, gast.Load) else v
                            for v in value]


class ResolveShapes(LoopShapes, HelperShapes):
    """The pass over one generated function; ``arg_shape(name)`` gives a parameter's (shape
    class, dtype) or None, ``callee(call)`` the object a call calls."""

    def __init__(self, arg_shape, callee, bind, constants=None, tape=None):
        self.arg_shape, self.callee, self.bind, self.tape = arg_shape, callee, bind, tape
        self.taped: dict = {}  # name -> what its pushes on the tape held (None: not known)
        # name -> Value of a bound 0-d constant
        self.constants = constants if constants is not None else {}
        self.fresh = itertools.count(1)
        self._values: dict = {}  # id of an expression node -> (node, its Value)
        self.primal = False  # whether the statement evaluated is the user's
        self.dry = False  # whether the body of a loop is run only to learn what it keeps
        self.walked: dict = {}  # id of a statement -> (it, names it binds, whether it exits early)

    def run(self, fdef) -> None:
        if not plain_tape(fdef, self.tape):
            self.tape = None
        env = {}
        for a in fdef.args.posonlyargs + fdef.args.args:
            known = self.arg_shape(a.id)
            if known is not None:
                env[a.id] = (
                    Value(*known) if known[0] != PY else Value(PY, known[1], node=name(a.id))
                )
        self.block(fdef.body, env)

    def is_range(self, node) -> bool:
        """Whether ``node`` is ``range(...)`` or ``reversed(range(...))`` (its items are ints)."""
        if isinstance(node, gast.Call) and self.callee(node) is reversed and len(node.args) == 1:
            node = node.args[0]
        return isinstance(node, gast.Call) and self.callee(node) is range

    def assigned(self, st, block):
        """Statements to put in place of ``st`` (an assignment to a name just evaluated, the last of
        ``block``, its block so far), or None."""
        return None

    def block(self, stmts, env):
        out = []
        for st in stmts:
            out.append(st)
            # (the user's own statements keep their semantics)
            self.primal = getattr(st, "ad_primal", False)
            if isinstance(st, (gast.For, gast.While)):
                self.loop(st, env)
            elif isinstance(st, gast.If):
                st.test = self.expr(st.test, env)[0]
                for v in self.binds(st):  # (what a branch binds is unknown after it)
                    env.pop(v, None)
                self.block(st.body, dict(env))
                self.block(st.orelse, dict(env))
            elif self.tape is not None and popped(st, self.tape):
                for v in popped(st, self.tape):
                    env.pop(v, None)
                    if self.taped.get(v) is not None:
                        env[v] = self.taped[v]
            elif isinstance(st, gast.Assign):
                st.value, value = self.expr(st.value, env)
                target = st.targets[0]
                if isinstance(target, gast.Name):
                    if value.shape == PY and value.node is None:
                        value = Value(PY, value.dtype, node=name(target.id), length=value.length)
                    env[target.id] = value
                    if not self.dry:
                        out[-1:] = self.assigned(st, out) or out[-1:]
                else:  # (x[i] = v: x keeps its shape, dtype and identity)
                    for n in walk(target):
                        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                            env.pop(n.id, None)
            elif isinstance(st, gast.AugAssign):
                st.value, value = self.expr(st.value, env)
                if isinstance(st.target, gast.Name):
                    old = env.get(st.target.id, UNKNOWN)
                    if old.ident is None or join(old.shape, value.shape) != old.shape:
                        env.pop(st.target.id, None)  # (an array updated in place keeps the rest)
            elif isinstance(st, (gast.Return, gast.Expr)) and st.value is not None:
                if not self.dry and self.tape is not None and pushed(st, self.tape):
                    self.push(pushed(st, self.tape), env)
                st.value = self.expr(st.value, env)[0]
            else:
                for n in walk(st):
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                        env.pop(n.id, None)
        stmts[:] = out
    # -- expressions: (possibly simplified node, Value) -----------------------------------------

    def expr(self, node, env):
        new, value = self.evaluate(node, env)
        if self.dry:  # (a dry run rewrites nothing)
            return node, value
        self._values[id(new)] = (new, value)
        return new, value

    def value_of(self, node) -> Value:
        """The Value an expression node evaluated to (for passes built on this one)."""
        known = self._values.get(id(node))
        return known[1] if known is not None and known[0] is node else UNKNOWN

    def evaluate(self, node, env):
        if isinstance(node, gast.Name):
            return node, env.get(node.id) or self.constants.get(node.id, UNKNOWN)
        if isinstance(node, gast.Constant):
            number = isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
            return node, Value(PY, type(node.value).__name__, node=node) if number else UNKNOWN
        if isinstance(node, gast.BinOp):
            return self.binop(node, env)
        if isinstance(node, gast.UnaryOp):
            node.operand, operand = self.expr(node.operand, env)
            if isinstance(node.op, (gast.USub, gast.UAdd)):
                return node, self.elementwise(operand, op=node.op)
            return node, UNKNOWN
        if isinstance(node, gast.Subscript):
            node.value, base = self.expr(node.value, env)
            node.slice, index = self.expr(node.slice, env)
            if base.shape == SHAPE_TUPLE and isinstance(node.slice, gast.Constant):
                k = node.slice.value  # (an entry of a shape: the length of that axis)
                known = isinstance(k, int) and -len(base.parts) <= k < len(base.parts)
                return node, Value(PY, "int", length=base.parts[k].length if known else None)
            if isinstance(base.shape, tuple):  # (rows, columns: views)
                shape = self.indexed(base.shape, node.slice, index)
                return node, Value(shape, base.dtype) if shape is not None else UNKNOWN
            return node, UNKNOWN
        if (
            isinstance(node, gast.Attribute)
            and isinstance(node.value, gast.Name)
            and node.value.id in env
        ):
            if node.attr in ("ndim", "size"):
                return node, Value(PY, "int")
            known = env[node.value.id]
            if node.attr == "T" and isinstance(known.shape, tuple):
                return node, Value(known.shape[::-1], known.dtype)  # (a view)
            if node.attr == "shape":
                axes = known.shape if isinstance(known.shape, tuple) else ()
                return node, Value(SHAPE_TUPLE, parts=[Value(PY, "int", length=a) for a in axes])
            return node, UNKNOWN
        if isinstance(node, gast.Tuple):
            pairs = [self.expr(e, env) for e in node.elts]
            node.elts = [n for n, _ in pairs]
            return node, Value(parts=[v for _, v in pairs])
        if isinstance(node, gast.Call):
            return self.call(node, env)
        for field in ("value", "left", "operand"):  # other expressions: simplify inside only
            if isinstance(getattr(node, field, None), gast.expr):
                setattr(node, field, self.expr(getattr(node, field), env)[0])
        return node, UNKNOWN

    def binop(self, node, env):
        """``a op b``: elementwise for + - * / **, with a number next to a float array bound once
        as a 0-d array of its dtype (``as_array``), and ``1.0 * y`` for a float ``y`` just ``y``."""
        node.left, left = self.expr(node.left, env)
        node.right, right = self.expr(node.right, env)
        if isinstance(node.op, gast.MatMult):
            return node, product(left, right, next(self.fresh))
        if not isinstance(node.op, _ELEMENTWISE):
            return node, UNKNOWN
        left_node, left = self.unexpand(node.left, left, right, env)
        right_node, right = self.unexpand(node.right, right, left, env)
        if not self.dry:
            node.left, node.right = left_node, right_node
        for one, (other, value) in ((node.left, (node.right, right)),
                                    (node.right, (node.left, left))):
            if isinstance(node.op, gast.Mult) and _is_one(one) and not self.primal \
                    and value.shape == PY and value.dtype == "float":
                # (the optimiser could not tell. An array stays a product: a new array, never an
                # argument handed back as a gradient)
                return other, value
        if isinstance(node.op, _WITH_ARRAY_CONSTANT):
            node.left, node.right = (self.as_array(node.left, right),
                                     self.as_array(node.right, left))
        return node, self.elementwise(left, right, op=node.op)

    def elementwise(self, *operands, op=None):
        """The Value of an elementwise operation ``op`` (a ufunc's when None: NumPy scalars from
        Python numbers, not known here)."""
        zeros = [o.zero_or for o in operands if o.zero_or is not None]
        if zeros:  # (what the operation makes of 0 has to be what it makes of the array)
            number = self.elementwise(*(Value(PY, "int") if o.zero_or is not None else o
                                        for o in operands), op=op)
            return number if isinstance(number.shape, tuple) and all(
                join(z.shape, number.shape) == number.shape
                and float_dtype(z.dtype, number.dtype) == number.dtype for z in zeros) else UNKNOWN
        shape = broadcast_shape(operands)
        if shape is None or (shape == PY and op is None):
            return UNKNOWN
        # Python arithmetic: an int stays an int except in ``/`` (``**``: a float's is a
        if shape == PY:
            # float -- or complex, refused where it may be --, else unknown)
            types = {o.dtype for o in operands}
            if isinstance(op, gast.Pow):
                return Value(PY, "float" if operands[0].dtype == "float" and None not in types
                             else None)
            number = "float" if "float" in types or isinstance(op, gast.Div) else "int"
            return Value(PY, None if None in types else number)
        return Value(shape, float_dtype(*(o.dtype if o.shape != PY else PY for o in operands)),
                     next(self.fresh))

    def as_array(self, node, other):
        """A number ``node`` combined with an array of value ``other``: a 0-d array constant of its
        float dtype (one object for all calls), else ``node``."""
        if self.dry or not (isinstance(node, gast.Constant) and isinstance(node.value, (int, float))
                and not isinstance(node.value, bool) and other.dtype in FLOAT_DTYPES
                and isinstance(other.shape, tuple)):
            return node
        constant = _array_constant(node.value, other.dtype)
        if constant is None:
            return node
        bound = self.bind(*constant)
        self.constants[bound] = Value(PY, "float")
        return name(bound)

    def unexpand(self, node, value, other, env):
        """``y * e`` with ``e = expand_like(s, x)``, ``s`` a Python number and ``y`` of ``x``'s
        shape and dtype: ``y * s`` (no full array of ``s``)."""
        inner = value.expanded
        if inner is None or other.shape != value.shape or other.dtype != value.dtype:
            return node, value
        holder = inner.node
        if isinstance(holder, gast.Name) and env.get(holder.id) is not inner:
            return node, value  # the name no longer holds the number
        return (gast.Constant(value=holder.value, kind=None) if isinstance(holder, gast.Constant)
                else name(holder.id)), inner

    def call(self, node, env):
        pairs = [self.expr(a, env) for a in node.args]
        node.args, args = [n for n, _ in pairs], [v for _, v in pairs]
        for k in node.keywords:
            k.value = self.expr(k.value, env)[0]
        func = node.func
        if (
            isinstance(func, gast.Attribute)
            and isinstance(func.value, gast.Name)
            and func.value.id in env
        ):
            # a method of a known array
            if getattr(rules.lookup_method(func.attr), "reduction", None):
                return node, self.reduction(env[func.value.id], node.keywords, node.args)
            return node, UNKNOWN
        obj = self.callee(node)
        if obj is len:
            return node, Value(PY, "int")
        if obj in _FILLED and len(args) == 1 and not node.keywords \
                and lengths(args[0]) is not None:
            return node, Value(lengths(args[0]), F64, next(self.fresh))  # (a new float array)
        if (obj is np.matmul or obj is np.dot) and len(args) == 2 and not node.keywords \
                and all(isinstance(a.shape, tuple) and len(a.shape) <= 2 for a in args):
            return node, product(*args, next(self.fresh))
        if (
            isinstance(obj, np.ufunc)
            and obj.signature is None
            and obj.nout == 1
            and len(args) == obj.nin
            and not node.keywords
        ):  # (elementwise: not a gufunc such as np.matmul)
            if obj.nin == 2 and obj not in (np.power, np.float_power):
                node.args = [self.as_array(node.args[0], args[1]),
                             self.as_array(node.args[1], args[0])]
            return node, self.elementwise(*args)
        return self.runtime_call(obj, node, args)


#: Arrays of float64 made from a shape.
_FILLED = (np.zeros, np.ones, np.empty)
