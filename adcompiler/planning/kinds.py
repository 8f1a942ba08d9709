"""Kind inference: which values are floats, NumPy scalars, arrays of a known rank, shapes,
lists, tuples or dicts (the ``kind`` of ``analysis.scalar_kinds``), from the value each statement
computes, with the tables of NumPy functions whose result kind is known."""
from __future__ import annotations

import types

import gast
import numpy as np

from .. import rules, runtime
from ..analysis import (
    BOTTOM,
    CONTAINER,
    FLOAT,
    SCALAR,
    array_kind,
    broadcast_kind,
    is_container,
    rank,
)
from ..errors import AdError
from ..ir import target_of
from ..normalize.classes import returns_namedtuples
from ..normalize.dicts import returns_dicts, returns_lists
from ..parse import is_user_function, parse_function
from ..resolve import MISSING
from ..rules.helpers.containers import merged_dict
from ..rules.helpers.records import as_namedtuple


def kind_of(node, kinds):
    """The kind of an operand: a number constant is FLOAT, a name has its kind in ``kinds``."""
    if isinstance(node, gast.Constant):
        return FLOAT if isinstance(node.value, (int, float, bool)) else None
    if isinstance(node, gast.Name):
        return kinds.get(node.id)
    return None


def kind_of_value(s, kinds, resolver, layout):
    """The kind (FLOAT, SCALAR, array rank or None) of the value a statement computes (see
    analysis.scalar_kinds). ``resolver`` resolves module-level names; ``layout`` is the
    function's (for a tuple display bound once, a shape)."""
    value = s.value

    def of(node):
        return kind_of(node, kinds)
    if isinstance(value, (gast.Name, gast.Constant)):
        return of(value)
    if isinstance(value, gast.Tuple):  # (immutable: its entries keep their kinds)
        return ("tuple_of", tuple(of(e) for e in value.elts))
    if isinstance(value, (gast.List, gast.Dict)):
        return CONTAINER
    if isinstance(value, gast.BinOp):
        left, right = of(value.left), of(value.right)
        if is_container(left) or is_container(right):
            # (lists: + concatenates, * by a number repeats; with an array, NumPy converts the
            # list and the result is an array of a rank not known here)
            if (isinstance(value.op, gast.Add) and is_container(left) and is_container(right)) \
                    or (isinstance(value.op, gast.Mult) and FLOAT in (left, right)):
                return CONTAINER
            if isinstance(value.op, gast.Add) and None in (left, right) \
                    and isinstance(value.left if left is None else value.right, gast.Name):
                # (a list and a value of no known kind: a concatenation, which generated code
                # checks the value is a list or tuple for, see concatenated_unknown)
                return CONTAINER
            # (the other side's kind not known yet: ``new = coeffs + [0.0]; coeffs = new`` in a
            # loop, where coeffs is the list before it and new the one it makes)
            return BOTTOM if BOTTOM in (left, right) else None
        if isinstance(value.op, gast.MatMult):
            return _matmul_kind(of(value.left), of(value.right))
        return broadcast_kind(of(value.left), of(value.right))
    if isinstance(value, gast.UnaryOp):
        return of(value.operand)
    if isinstance(value, gast.Compare):
        return broadcast_kind(of(value.left), of(value.comparators[0]))
    if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name):
        return _subscript_kind(value, kinds.get(value.value.id), of)
    if isinstance(value, gast.Attribute):
        obj = resolver.resolve(value)
        if obj is MISSING:
            return _attribute_kind(value, of)
        # (a module's number: math.pi, np.e, np.inf)
        if isinstance(resolver.resolve(value.value), types.ModuleType) \
                and isinstance(obj, (int, float, np.integer, np.floating)):
            return FLOAT
    if isinstance(value, gast.Call):
        obj = resolver.resolve(value.func)
        if obj is MISSING:
            return _method_call_kind(value, of, layout)
        return _function_call_kind(obj, value, of, layout)
    return None


def _subscript_kind(value, base, of):
    """Kind of ``x[index]`` (``value``) for ``x`` of kind ``base``."""
    if base == SHAPE:
        return FLOAT  # an entry of a shape tuple
    if is_container(base) and isinstance(value.slice, gast.Slice):
        return CONTAINER
    if isinstance(base, tuple) and base[0] == "tuple_of":  # an entry of a tuple of known kinds
        i = value.slice.value if isinstance(value.slice, gast.Constant) else None
        return base[1][i] if isinstance(i, int) and -len(base[1]) <= i < len(base[1]) else None
    return _index_kind(base, value.slice, of)


def _attribute_kind(value, of):
    """Kind of ``x.attr`` (``value``) on a local value ``x``: its shape, ndim, size or ``.T``."""
    if value.attr == "shape":
        return SHAPE
    if value.attr in ("ndim", "size"):
        return FLOAT
    if value.attr == "T":
        return of(value.value)
    return None


def _method_call_kind(value, of, layout):
    """Kind of a call (``value``) of a callable not known when generating code: an array's or a
    container's method (``x.sum(axis=0)``, ``d.items()``)."""
    if (isinstance(value.func, gast.Attribute) and value.func.attr in _CONTAINER_METHODS
            and is_container(of(value.func.value))):
        return CONTAINER
    if isinstance(value.func, gast.Attribute) \
            and getattr(rules.lookup_method(value.func.attr), "reduction", None):
        return _reduced_kind(of(value.func.value), value.args, value.keywords)  # x.sum(axis=0)
    if isinstance(value.func, gast.Attribute) and value.func.attr == "tolist":
        return CONTAINER  # (nested lists; a number for a 0-d array, which adds like one)
    if isinstance(value.func, gast.Attribute) and value.func.attr in ("ravel", "flatten"):
        return array_kind(1) if of(value.func.value) not in (None, FLOAT) else None
    if isinstance(value.func, gast.Attribute) and value.func.attr == "transpose":
        return of(value.func.value)
    if isinstance(value.func, gast.Attribute) and value.func.attr in ("copy", "astype") \
            and (rank(of(value.func.value)) or 0) >= 1:
        return of(value.func.value)  # (an array's copy, in its dtype or another)
    if isinstance(value.func, gast.Attribute) and value.func.attr == "dot" \
            and len(value.args) == 1 \
            and all((rank(of(v)) or 3) <= 2 for v in (value.func.value, value.args[0])):
        # (a.dot(b), at most 2-D: a @ b)
        return _matmul_kind(of(value.func.value), of(value.args[0]))
    if isinstance(value.func, gast.Attribute) and value.func.attr == "reshape" and value.args:
        return _reshaped_kind(tuple_display(value.args[0], layout) if len(value.args) == 1 else
                              gast.Tuple(elts=list(value.args), ctx=gast.Load()))
    return None


def _function_call_kind(obj, value, of, layout):
    """Kind of a call (``value``) of ``obj``, a function known when generating code: NumPy's
    creators, reshapes, reductions and products, elementwise functions with a rule, the
    runtime's helpers."""
    if not _hashable(obj):
        return None  # (np.poly1d and other callables the tables below cannot hold)
    if obj in _CONTAINER_BUILDERS or getattr(rules.lookup(obj), "container", False) \
            or _returns_containers(obj):  # (state = init(w); b = predict(b) making a namedtuple)
        return CONTAINER
    primal = getattr(obj, "__adcompiler_primal__", None)
    if _returns_containers(primal):  # (its forward half, in gradient code differentiated again)
        return ("tuple_of", (CONTAINER, None))
    if obj in _CREATORS and value.args:  # np.zeros(3), np.ones((2, 3)), np.full(shape, v)
        return _reshaped_kind(tuple_display(value.args[0], layout), of)
    if obj in _CREATORS_LIKE and value.args and rank(of(value.args[0])) \
            and of(value.args[0]) != FLOAT:
        return of(value.args[0])  # np.zeros_like(x)
    if obj is np.ravel:
        return array_kind(1)
    if obj is np.einsum and value.args and isinstance(value.args[0], gast.Constant) \
            and isinstance(value.args[0].value, str) and "." not in value.args[0].value:
        return array_kind(_einsum_rank(value.args[0].value))
    if obj in _ARRAY_COPIES and len(value.args) == 1 and (rank(of(value.args[0])) or 0) >= 1 \
            and all(k.arg in ("dtype", "copy", "order") for k in value.keywords):
        return of(value.args[0])  # (np.array(x) of an array x: an array of its rank)
    if obj is np.transpose and value.args:
        return of(value.args[0])
    if obj is np.reshape and len(value.args) == 2:
        return _reshaped_kind(tuple_display(value.args[1], layout))
    rule = rules.lookup(obj)
    if rule is not None and rule.reduction and value.args:
        return _reduced_kind(of(value.args[0]), value.args[1:], value.keywords)  # np.sum(x, axis)
    mod = getattr(obj, "__module__", None)
    if obj is runtime.unbroadcast and len(value.args) == 2:  # gradient code's helpers
        return _unbroadcast_kind(of(value.args[0]), of(value.args[1]))
    if obj in (runtime.shape_of, runtime.above) and value.args:
        return broadcast_kind(*[of(a) for a in value.args])
    if rule is not None and rule.like is not None \
            and len(value.args) > rule.signature.params.index(rule.like):  # (the runtime's helpers)
        return of(value.args[rule.signature.params.index(rule.like)])
    if obj is runtime.sum_product:
        return SCALAR
    if obj in (runtime.keep_dtype, runtime.in_place) and len(value.args) == 2 \
            and is_container(of(value.args[1])):
        return CONTAINER  # (lst += [v]: a list; a NumPy result is of x's dtype, a kind unknown)
    if (obj is min or obj is max) and len(value.args) > 1 and not value.keywords \
            and all(of(a) in (FLOAT, SCALAR) for a in value.args):
        # (one of the Python numbers it is given; or one of the shape-() values)
        return FLOAT if all(of(a) == FLOAT for a in value.args) else SCALAR
    if mod == "math" or obj in (len, int, float, round, abs, bool, runtime.reduced_size):
        if obj is abs or obj is round:
            return of(value.args[0]) if value.args else None
        return FLOAT
    if rule is not None and rule.product == "matmul" and len(value.args) == 2:
        return _matmul_kind(of(value.args[0]), of(value.args[1]))
    if rule is not None and rule.elementwise and value.args and not value.keywords:
        kind = broadcast_kind(*[of(a) for a in value.args])
        return SCALAR if kind == FLOAT else kind  # NumPy returns NumPy scalars
    return None


def _unbroadcast_kind(adjoint, operand):
    """Kind of ``unbroadcast(adjoint, operand)``, an adjoint summed down to its operand's shape:
    the operand's kind, but a lower-rank adjoint comes back as it is."""
    if rank(adjoint) is None or rank(operand) is None:
        return None
    return operand if rank(adjoint) >= rank(operand) else adjoint


def _einsum_rank(subscripts: str) -> int:
    """The rank of ``np.einsum(subscripts, ...)``'s result: its output's letters (without
    ``->``, the letters that appear once)."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        return len(subscripts.split("->")[1])
    letters = subscripts.replace(",", "")
    return sum(1 for c in set(letters) if letters.count(c) == 1)


def tuple_display(node, layout):
    """The tuple display a name is bound to once (``t4 = (3, 2)``: a shape), else the node."""
    if isinstance(node, gast.Name) and len(layout.binds.get(node.id, ())) == 1:
        for s in layout.simple:
            if target_of(s)[0] == node.id and isinstance(s, gast.Assign) \
                    and isinstance(s.value, gast.Tuple):
                return s.value
    return node


def callee_kinds(plan, kinds, arg_classes, layout, resolver, returned=None,
                 containers=None, dicts=()) -> tuple:
    """Kinds of a user function's positional arguments at a call: an object argument passes on
    its class, so the callee resolves the methods it calls on it (``self.forward(x)``), and so
    does a name of objects of one class (``returned``: see ``normalize.classes``); a
    module-level dict or set, that it is one (the callee iterates over its keys or items), and
    so does a dict or list argument passed on (``containers``: parameter -> its kind) and a
    name every binding of which makes a dict (``dicts``)."""
    def kind(p):
        node = plan.bound.get(p)
        if p in plan.entry_classes:  # (a list of objects of one class made here)
            attributes = plan.entry_attributes.get(p)
            return (CONTAINER, "list", ("object", plan.entry_classes[p])) \
                + ((attributes,) if attributes else ())
        if isinstance(node, gast.Name) and node.id in dicts:
            return (CONTAINER, "dict")
        if isinstance(node, gast.Name) and node.id in arg_classes and node.id not in layout.binds:
            return ("object", arg_classes[node.id])
        if isinstance(node, gast.Name) and node.id in (containers or {}) \
                and node.id not in layout.binds and containers[node.id][1] != "tuple":
            # (the class of a list's entries, while nothing else is put into it)
            return containers[node.id][:2] if node.id in layout.mutates \
                else containers[node.id]
        if isinstance(node, gast.Name) and node.id in (returned or {}):
            return ("object", returned[node.id])
        if isinstance(node, gast.Name) and kinds.get(node.id) in (None, CONTAINER) \
                and _entry_of_module_dicts(node.id, layout, resolver):
            return (CONTAINER, "dict")
        if isinstance(node, gast.Name) and node.id not in kinds:
            value = resolver.resolve(node)
            if isinstance(value, dict):
                return (CONTAINER, "dict")
            if isinstance(value, (set, frozenset)):
                return ("object", type(value))
            if isinstance(value, types.ModuleType):  # (normalize(x, xp=np))
                return ("module", value)
        return kind_of(node, kinds) if node is not None else _default_kind(plan.fn, p)
    return tuple(kind(p) for p in plan.positional)


def _default_kind(fn, param):
    """The kind of the number or module parameter ``param`` of ``fn`` defaults to (a call
    leaving it out runs with it: ``np.zeros(n + 1)`` of ``n=5`` is 1-D, ``xp.max(z, axis=1)`` of
    ``xp=np`` is NumPy's), else None."""
    fn = getattr(fn, "__func__", fn)
    code, defaults = getattr(fn, "__code__", None), getattr(fn, "__defaults__", None) or ()
    names = code.co_varnames[:code.co_argcount] if code is not None else ()
    at = names.index(param) - (len(names) - len(defaults)) if param in names else -1
    value = defaults[at] if 0 <= at < len(defaults) else \
        (getattr(fn, "__kwdefaults__", None) or {}).get(param)
    if isinstance(value, types.ModuleType):
        return ("module", value)
    return FLOAT if value.__class__ in (int, float, bool) else None


def _entry_of_module_dicts(var, layout, resolver) -> bool:
    """Whether ``var`` is bound once, to an entry of a module-level dict or list all of whose
    entries are dicts (``REGIONS[region]``)."""
    bound = layout.bindings(var)
    value = bound[0].value if len(bound) == 1 and isinstance(bound[0], gast.Assign) else None
    if not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)
            and value.value.id not in resolver.locals):
        return False
    held = resolver.resolve(value.value)
    entries = held.values() if isinstance(held, dict) else held \
        if isinstance(held, (list, tuple)) else ()
    return bool(entries) and all(e.__class__ is dict for e in entries)


def drop_dtype_keeping(layout, kinds, resolver):
    """``x = keep_dtype(x, t)`` (normalize's ``x op= v``) is ``x = t`` for a name that holds a
    number."""
    for s in layout.simple:
        value = getattr(s, "value", None)
        if isinstance(value, gast.Call) and len(value.args) == 2 \
                and isinstance(value.args[0], gast.Name) and kinds.get(value.args[0].id) == FLOAT \
                and resolver.resolve(value.func) is runtime.keep_dtype:
            s.value = value.args[1]


# calls whose result is a list, tuple or dict
_CONTAINER_BUILDERS = (list, tuple, dict, zip, enumerate, sorted, reversed, divmod, np.split,
                       np.array_split, np.hsplit, np.vsplit, np.dsplit, np.meshgrid,
                       np.linalg.slogdet, np.linalg.eigh, np.linalg.qr, merged_dict,
                       as_namedtuple)
_CONTAINER_METHODS = ("items", "values", "keys", "copy")
_CREATORS = (np.zeros, np.ones, np.empty, np.full)
_ARRAY_COPIES = (np.array, np.asarray, np.asanyarray, np.copy, np.ascontiguousarray)
_CREATORS_LIKE = (np.zeros_like, np.ones_like, np.empty_like, np.full_like)

def held_dict(cls, attr) -> bool:
    """Whether the methods of the user's class ``cls`` (and its bases) store only dicts into
    ``self.attr``, at least once (``self.running = {"mean": ...}``): read from an object of the
    class, it is a dict (checked where it is read: see ``check_dict_attribute``)."""
    key = (cls, attr)
    if key not in _HELD_DICTS:
        found = []
        for klass in getattr(cls, "__mro__", ())[:-1]:
            for fn in vars(klass).values():
                if is_user_function(fn):
                    found += _stores_into_self(fn, attr)
        _HELD_DICTS[key] = bool(found) and all(
            isinstance(v, gast.Dict) or (isinstance(v, gast.Call) and isinstance(v.func, gast.Name)
                                         and v.func.id == "dict") for v in found)
    return _HELD_DICTS[key]


_HELD_DICTS: dict = {}


def _stores_into_self(fn, attr) -> list:
    """The values ``fn`` (a method) stores into ``self.attr``; [None] for other ways it binds it."""
    try:
        tree = parse_function(fn).tree
    except AdError:
        return [None]
    if not tree.args.args:
        return []
    this = tree.args.args[0].id
    out = []
    for node in gast.walk(tree):
        targets = node.targets if isinstance(node, gast.Assign) else \
            [node.target] if isinstance(node, (gast.AugAssign, gast.AnnAssign)) else []
        for t in targets:
            for n in gast.walk(t):
                if isinstance(n, gast.Attribute) and n.attr == attr \
                        and isinstance(n.value, gast.Name) and n.value.id == this \
                        and isinstance(n.ctx, gast.Store):
                    out.append(node.value if isinstance(node, gast.Assign) and t is n else None)
    return out


def _returns_containers(fn) -> bool:
    """Whether ``fn`` is a function of the user's that returns dicts, namedtuples or new
    lists."""
    return is_user_function(fn) and (returns_dicts(fn) or returns_namedtuples(fn)
                                     or returns_lists(fn))


def _hashable(obj) -> bool:
    try:
        hash(obj)
    except TypeError:
        return False
    return True


def _reshaped_kind(shape, of=None):
    """Kind of a reshape to a constant ``shape`` (an int or a tuple display of them), or to a
    number (``of``: the kind of a name, ``np.zeros(n + 1)``)."""
    if isinstance(shape, gast.Name) and of is not None and of(shape) == FLOAT:
        return array_kind(1)
    if isinstance(shape, gast.Constant):
        return array_kind(len(shape.value)) if isinstance(shape.value, tuple) else array_kind(1)
    if isinstance(shape, gast.Tuple):
        return array_kind(len(shape.elts))
    return None


def _reduced_kind(kind, args, keywords):
    """Kind of a reduction (sum, mean, max, ...) of a value of ``kind`` over a constant ``axis``
    (the first further positional argument or the keyword) with a constant ``keepdims``."""
    given = dict(zip(("axis",), args))
    given.update({k.arg: k.value for k in keywords if k.arg in ("axis", "keepdims")})
    axis, keepdims = given.get("axis", gast.Constant(value=None, kind=None)), given.get("keepdims")
    if not isinstance(axis, gast.Constant) \
            or (keepdims is not None and not isinstance(keepdims, gast.Constant)):
        return None
    if axis.value is None and not (keepdims is not None and keepdims.value):
        return SCALAR  # every axis
    r = rank(kind)
    if r is None or kind == FLOAT:
        return None
    if keepdims is not None and keepdims.value:
        return kind
    removed = len(axis.value) if isinstance(axis.value, tuple) else 1
    return array_kind(r - removed) if r >= removed else None


SHAPE = "shape"


def _matmul_kind(a, b):
    """Kind of ``a @ b`` from the operands' ranks (1-D operands drop a dimension)."""
    if BOTTOM in (a, b):
        return BOTTOM
    ra, rb = rank(a), rank(b)
    if ra is None or rb is None or ra == 0 or rb == 0:
        return None
    if ra == 1 and rb == 1:
        return SCALAR
    if ra == 1 or rb == 1:
        return array_kind(max(ra, rb) - 1)
    return array_kind(max(ra, rb))


def _index_kind(base, index, of):
    """Kind of ``x[index]`` for an array ``x``: integer indices drop a dimension, None adds one."""
    if base == BOTTOM:
        return BOTTOM
    n = rank(base)
    if n is None or base in (FLOAT,):
        return None
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    for part in parts:
        if isinstance(part, gast.Slice):
            continue
        if isinstance(part, gast.Constant) and part.value is None:
            n += 1
        elif (isinstance(part, gast.Constant) and isinstance(part.value, int)
              and not isinstance(part.value, bool)) \
                or (isinstance(part, gast.Name) and of(part) == FLOAT):
            n -= 1
        elif isinstance(part, gast.Name) and of(part) == BOTTOM:
            return BOTTOM  # (the index's kind is not known yet)
        else:
            return None  # fancy, boolean or Ellipsis indexing
    return array_kind(n) if n >= 0 else None
