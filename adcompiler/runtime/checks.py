"""Checks generated code makes at run time, and what it raises when one fails: an ``AdError``
prepared when the code was generated (``Refusal``), the receiver of an array method, the seed of
``grad`` (``scalar_seed``), float indices into non-containers, run-time dtypes, and a callee
rebound since the code was generated (``CalleeRedefined``). They are apart from the hot path:
they compute no derivative, and raise with a message for the user."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import AdError, AdTypeError, error_at
from ._base import _effectful, _is_plain_object, _ndarray


class Refusal:
    """An AdError prepared when code is generated (function, file, line, fix), raised by generated
    code when a check it can only make at run time fails; ``%s`` in the message takes the detail."""

    __slots__ = ("error",)

    def __init__(self, error):
        self.error = error

    def __call__(self, detail=None):
        e = self.error
        return AdError(e.message if detail is None else e.message % detail,
                       function=e.function, filename=e.filename, lineno=e.lineno, col=e.col,
                       hint=e.hint)


@_effectful
def refused(refusal):
    """Raise ``refusal``'s AdError: a call that cannot be differentiated, reached in a branch or
    a loop (it is refused when it runs: a branch that is not taken never refuses)."""
    raise refusal()


@_effectful
def attempt_started():
    """True: the test of the ``if`` holding the body of a ``try`` whose handler goes on; the
    generated handler sets it False (see ``normalize.attempts``). Effectful, so no pass takes it
    for the constant it starts as."""
    return True


@_effectful
def no_exception():
    """None: the exception a ``try`` caught before it is caught (see ``attempt_started``)."""
    return None


@_effectful
def refused_if_inexact(values, refusal):
    """Raise ``refusal`` if one of ``values`` (operands given to a parameter without a
    derivative) holds floats: an integer carries no derivative, a float would lose one."""
    if any(map(_inexact, values)):
        raise refusal()


@_effectful
def refused_if_moving(tangents, refusal):
    """Raise ``refusal`` if one of ``tangents`` (of operands given to a parameter without a
    derivative) is not zero: the derivative along it would be lost."""
    for t in tangents:
        if np.any(t):
            raise refusal()


_RECEIVERS = (np.generic, float, int, complex, list, tuple, dict)
_SEQUENCES = (Sequence, _ndarray, np.flatiter)  # (indexed by position: list, tuple, x.flat ...)


@_effectful
def check_by_position(items, refusal):
    """Raise ``refusal`` (naming the type) unless indexing ``items`` by position gives what
    iterating over it gives: a loop over a value of no kind known when its code was generated,
    which reads it by position, meets a set, a dict or an iterator."""
    if not isinstance(items, _SEQUENCES):
        raise refusal(type(items).__name__)


@_effectful
def check_unpacking(items, count, refusal, at_least=False):
    """Python's ValueError when ``a, b = items`` gets other than ``count`` values (fewer, with a
    starred target: ``at_least``); ``refusal`` (naming the type) when reading ``items`` by
    position, as the targets are bound, is not what iterating over it gives (a set, a dict)."""
    kind = items.__class__
    if kind is not tuple and kind is not list and kind is not _ndarray \
            and not isinstance(items, _SEQUENCES):
        raise refusal(kind.__name__)
    n = len(items)
    if n != count and not (at_least and n > count):
        raise ValueError("not enough values to unpack (expected %s%d, got %d)"
                         % ("at least " if at_least else "", count, n) if n < count
                         else "too many values to unpack (expected %d)" % count)


@_effectful
def check_dict_attribute(obj, attr, refusal):
    """Raise ``refusal`` (naming the type) unless ``obj.attr`` is a dict, as its class's code
    makes it (see ``planning.kinds.held_dict``)."""
    value = getattr(obj, attr)
    if value.__class__ is not dict:
        raise refusal(type(value).__name__)


@_effectful
def check_number(value, refusal):
    """Raise ``refusal`` (naming the type) unless ``value`` is a number: ``k * v`` of an object
    ``v`` of the user's class is ``v.__rmul__(k)`` then (an array would make an array of
    objects)."""
    kind = value.__class__
    if kind is not float and kind is not int and not isinstance(value, np.generic):
        raise refusal(kind.__name__)


@_effectful
def check_array(value, refusal):
    """Raise ``refusal`` unless ``value`` is an array (code planned for a value of no known kind
    that is right for an array only)."""
    if value.__class__ is not _ndarray:
        raise refusal()


@_effectful
def check_list(value, refusal):
    """Raise ``refusal`` unless ``value`` is a list (``value.append(v)``, differentiated as a
    list's method)."""
    if value.__class__ is not list:
        raise refusal("a %s" % type(value).__name__)


@_effectful
def check_row(table, index, refusal, column=None):
    """Raise ``refusal`` unless ``table[index]`` is a list that no other entry of ``table`` is
    (``table[i][j] = v`` is differentiated as a new row stored at ``i``), and for ``table[i][j]
    op= v`` (``column`` j) unless the entry is a number (``op=`` changes an array in place)."""
    row = table[index]
    if row.__class__ is not list:
        raise refusal("a %s" % type(row).__name__)
    if sum(r is row for r in table) > 1:
        raise refusal("a list that other rows of the table are too")
    if column is not None and row[column].__class__ is _ndarray:
        raise refusal("a list holding an array at %r, which op= changes in place" % (column,))


def strict_length(*lengths):
    """The common length of ``zip(..., strict=True)``'s arguments; Python's ValueError if they
    differ (raised before the loop runs, where Python raises after the shorter one ends)."""
    for i, n in enumerate(lengths[1:], 2):
        if n != lengths[0]:
            raise ValueError("zip() argument %d is %s than argument 1"
                             % (i, "shorter" if n < lengths[0] else "longer"))
    return lengths[0]


# (a list or tuple beside an array is NumPy's operand; a string carries no derivative)
_NUMERIC = (float, int, complex, np.generic, str, list, tuple)


@_effectful
def check_numeric(values, refusal):
    """Raise ``refusal`` unless each of ``values`` is an array, a number, a string, a list or a
    tuple (the operands of an operator differentiated as arithmetic)."""
    for v in values:
        if v.__class__ is not _ndarray and not isinstance(v, _NUMERIC):
            raise refusal("a %s" % type(v).__name__)


@_effectful
def check_arithmetic(values, refusal):
    """``check_numeric`` of the operands of ``+`` or ``*``, where a list or tuple with no array
    (nor NumPy float) beside it is concatenated or repeated, not NumPy's arithmetic."""
    check_numeric(values, refusal)
    if any(v.__class__ is list or v.__class__ is tuple for v in values) and not any(
            v.__class__ is _ndarray or isinstance(v, (np.floating, np.complexfloating))
            for v in values):
        raise refusal("a list or tuple with no array beside it (+ concatenates, * repeats)")


@_effectful
def check_sequence(value, refusal):
    """Raise ``refusal`` unless ``value`` is a list or a tuple (``value + [v]``, differentiated as
    a concatenation: an array would add the entries)."""
    if value.__class__ is not list and value.__class__ is not tuple:
        raise refusal("a %s" % type(value).__name__)


@_effectful
def check_poppable(value, refusal):
    """Raise ``refusal`` unless ``value`` is a list or a dict (``value.pop(i)``, differentiated as
    their method)."""
    if value.__class__ is not list and value.__class__ is not dict:
        raise refusal("a %s" % type(value).__name__)


@_effectful
def refused_if_array(value, refusal):
    """Raise ``refusal`` if ``value`` is an array (an entry ``d[k] += v`` changes in place; a
    number entry is replaced)."""
    if value.__class__ is _ndarray:
        raise refusal()


@_effectful
def refused_unless_number(value, refusal):
    """Raise ``refusal`` unless ``value`` is a number (``x += v`` rebinds a number, and changes
    an array or a list in place)."""
    if value.__class__ not in _SCALARS and not isinstance(value, np.generic):
        raise refusal()


@_effectful
def check_receiver(value, refusal):
    """Raise ``refusal`` unless ``value`` is an array, a number or a container (what the
    array-method rule applied to ``value.method(...)`` is right for; not a namedtuple, whose
    ``.mean`` may be a field)."""
    if value.__class__ is not _ndarray and (not isinstance(value, _RECEIVERS)
                                            or hasattr(value, "_fields")):
        raise refusal("a %s" % type(value).__name__)


_FLOAT_SCALARS = frozenset([float, np.float64, np.float32, np.float16, np.longdouble])


@_effectful
def scalar_seed(value, function):
    """The seed adjoint of the result of ``grad``: 1.0 for a real float scalar, ones for a float
    array of size 1 (a sum with ``keepdims=True``, a 0-d array); an AdError for anything else
    (an array of several values, a bool, an int, a complex number, None)."""
    if value.__class__ in _FLOAT_SCALARS:
        return 1.0
    if value.__class__ is _ndarray and value.size == 1 and value.dtype.kind == "f":
        return np.ones(value.shape, value.dtype)
    if np.ndim(value) and np.size(value) != 1:
        hint = "use ad.vjp(f, x) with a cotangent, or ad.jacobian(f)"
    elif np.iscomplexobj(value):
        hint = ("differentiate a real quantity (np.real(z), np.abs(z) ** 2, ...), or use ad.vjp "
                "or ad.jvp, which take complex outputs (docs/complex.md)")
    else:
        hint = ("return the float quantity to differentiate (a bool, int or None output has no "
                "gradient)")
    raise AdTypeError("grad needs a real float scalar output (a float, a NumPy float or a float "
                      "array of size 1), but %s returned %s" % (function, _describe(value)),
                      function=function, hint=hint)


def real_result(value, function):
    """``value``, returned by ``function``, which computes with complex values, to a caller
    compiled for real values: an AdError if it is complex (the caller's rules would treat it as
    real, docs/complex.md)."""
    if np.iscomplexobj(value) if value.__class__ is _ndarray else isinstance(
            value, (complex, np.complexfloating)):
        raise AdError("%s returns a complex value to a caller whose code was generated for real "
                      "values" % function, function=function,
                      hint="compute the complex value in the caller, or pass it a complex "
                           "argument (docs/complex.md)")
    return value


def _describe(value):
    if isinstance(value, np.ndarray):
        return "an array of shape %s and dtype %s" % (value.shape, value.dtype)
    text = repr(value)
    return "%s (%s)" % (text if len(text) <= 40 else text[:37] + "...", type(value).__name__)


# their [index] selects, computes nothing
SELECTING = (_ndarray, list, tuple, dict, range, str, bytes)


@_effectful
def subscript_check(base, index, site):
    """Raise an AdError at ``site`` if ``base`` is not an array, list, tuple or dict and the
    values of ``index`` (a tuple of them), which depend on the differentiated arguments, are
    floats: ``base`` computes its items from them, and they would get no gradient."""
    if isinstance(base, SELECTING) or not any(map(_inexact, index)):
        return
    raise error_at(site, "a %s is not an array, list, tuple or dict: its [...] computes a value "
                         "from an index that depends on the differentiated arguments, which would "
                         "get no gradient" % type(base).__name__,
                   hint="compute the value with functions that have derivative rules "
                        "(np.concatenate, np.column_stack, np.where, ...) or methods of your own")


def _inexact(value) -> bool:
    """Whether an index holds float or complex values (a slice's bounds, a tuple's entries)."""
    if isinstance(value, (float, complex, np.inexact)):
        return True
    if isinstance(value, _ndarray):
        return value.dtype.kind in "fc"
    if isinstance(value, slice):
        return any(map(_inexact, (value.start, value.stop, value.step)))
    if isinstance(value, (tuple, list)):
        return any(map(_inexact, value))
    return False


def dtype_gate(v, dtype, site):
    """The derivative ``v`` (an adjoint or a tangent) of a call whose result dtype is known only at
    run time: ``v`` for a float dtype (its real part if complex; None: the operand's own), zero
    for an int or bool one (the cast is piecewise constant); any other dtype (complex) is an
    AdError at the call ``site``."""
    if dtype is None:
        return v
    kind = np.dtype(dtype).kind
    if kind == "f":  # (of a complex operand: its real part, docs/complex.md)
        return np.real(v) if np.iscomplexobj(v) else v
    if kind in "iub":
        return np.zeros_like(v) if v.__class__ is _ndarray else 0.0
    raise error_at(site, "the cast to dtype %s: %s" % (
                       np.dtype(dtype).name, "a complex dtype known only at run time is not "
                       "supported yet (write it in the code)" if kind == "c" else
                       "only float, int and bool dtypes are differentiated"),
                   hint="compute in a float dtype")


class CalleeRedefined(Exception):
    """Raised by generated code whose callee was rebound since it was generated (caught by
    adcompiler, which generates the code again)."""


@_effectful
def callee_redefined(name):
    raise CalleeRedefined(name)


@_effectful
def check_distinct(written, rebound, names, refusal, *args):
    """Raise ``refusal`` when an argument the function writes into (positions ``written``) is
    another argument, shares its memory, holds it or is held by it (an entry, an attribute): the
    write changes the other argument too, which the derivative does not follow (``f(d, d)``,
    ``f(net, net.params)``). One whose attributes are only bound again (positions ``rebound``:
    ``m.W = v``) changes nothing it holds: only another argument being it or holding it counts."""
    mine = [(i, {id(args[i]): [args[i]]} if i in rebound else _roots(args[i]))
            for i in written if args[i].__class__ not in _NUMBERS]
    if not any(roots for _, roots in mine):
        return  # (numbers only, or nothing found: nothing shared)
    theirs = [None if a.__class__ in _NUMBERS else _roots(a) for a in args]
    for i, roots in mine:
        for j, other in enumerate(theirs):
            if j != i and other:
                common = roots.keys() & other.keys()
                if common and any(any(_overlap(a, b) for a in roots[k] for b in other[k])
                                  if roots[k][0].__class__ is _ndarray else True
                                  for k in common):
                    raise refusal("%r and %r" % (names[i], names[j]))


_SCALARS = frozenset([float, int, bool, complex])
# (values _roots finds nothing in)
_NUMBERS = frozenset([float, int, bool, complex, str, type(None)])


def _roots(value) -> dict:
    """{id of an object: [the arrays viewing it, or the object]} for ``value`` and what it holds
    one level down, when they are arrays (by the array owning their memory), containers or
    objects (numbers are values: two equal ones are never the same thing written into)."""
    if value.__class__ is _ndarray:  # (the common case, first)
        root = value
        while root.base.__class__ is _ndarray:
            root = root.base
        return {id(root): [value]}
    found = [value]
    if value.__class__ is list or value.__class__ is tuple:
        found += value
    elif value.__class__ is dict:
        found += value.values()
    elif _is_plain_object(value):
        found += vars(value).values()
    out = {}
    for v in found:
        if v.__class__ is _ndarray:
            root = v
            while root.base.__class__ is _ndarray:
                root = root.base
            out.setdefault(id(root), []).append(v)
        elif v.__class__ in (list, dict, set) or _is_plain_object(v):
            out[id(v)] = [v]
    return out


_TOO_HARD = getattr(np, "exceptions", np).TooHardError


def _overlap(a, b) -> bool:
    """Whether the arrays ``a`` and ``b`` share an element (when that is too long to find out:
    whether their memory bounds overlap)."""
    try:
        return bool(np.shares_memory(a, b, max_work=1000))
    except _TOO_HARD:
        return True
