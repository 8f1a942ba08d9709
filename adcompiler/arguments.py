"""Which argument values generated code can be trusted with. Generated code is NumPy code
specialised on argument kinds (``kind_of``); a value whose operators or functions may
not be NumPy's (an ndarray subclass such as ``np.matrix`` or a masked array, another library's
array) is refused with an ``AdError`` naming its type, never given a gradient that silently
ignores what it is; so is a complex value inside a container or an object (a complex argument
itself is differentiated: docs/complex.md). An argument differentiated w.r.t. must moreover be a
float, a complex number, an array of either, a list, tuple or dict of floats or float arrays, or
a plain object (of the user's own class) holding them."""
from __future__ import annotations

import sys
import types

import numpy as np

from .analysis import CONTAINER, FLOAT, SCALAR
from .errors import AdError
from .parse import LIBRARY_ROOTS

# (TUPLE_OF, kinds of the entries): the saved state of a split backward function
TUPLE_OF = "tuple_of"
# a complex number (Python's or NumPy's); also, last in the kinds a function is compiled for,
# the mark of a callee of code that computes with complex values (see is_complex_kind)
COMPLEX = "complex"


def is_complex_kind(kind) -> bool:
    """Whether an argument kind (``kind_of``) is a complex number's or a complex array's, or a
    tuple's holding one."""
    if kind == COMPLEX:
        return True
    if isinstance(kind, tuple) and kind[:2] == (CONTAINER, "tuple"):
        return any(is_complex_kind(k) for k in kind[2])
    return isinstance(kind, tuple) and kind[0] == "array" and len(kind) > 2 and "c" in kind[2]


def kind_of(value):
    """What generated code is specialised on: Python scalar, array rank and dtype, container."""
    cls = value.__class__
    if cls is float:
        return FLOAT
    if cls is int or cls is bool:
        return "int"
    if cls is np.ndarray:
        return ("array", value.ndim, value.dtype.str)
    if cls is complex or isinstance(value, np.complexfloating):
        return COMPLEX
    if isinstance(value, np.generic):
        return SCALAR
    if cls is tuple and len(value) <= 32:
        # (a tuple's entries are fixed: after ``W, b = params`` they have their kinds)
        return (CONTAINER, "tuple", tuple(kind_of(e) for e in value))
    if cls is list and value and _entries_class(value) is not None:
        # (particles of one class: the methods called on its entries are that class's)
        return (CONTAINER, "list", ("object", value[0].__class__))
    if isinstance(value, tuple) and hasattr(cls, "_fields"):  # (a namedtuple: its class too)
        return (CONTAINER, cls.__name__, cls)
    if isinstance(value, (list, tuple, dict)):
        return (CONTAINER, cls.__name__)
    if cls is types.ModuleType:  # (xp=np: calls through it are the module's functions)
        return ("module", value)
    return ("object", cls)  # the class: methods called on the argument are resolved through it


def _entries_class(entries):
    """The class of every entry of the list ``entries`` when it is one plain class of the user's
    (the first entry decides quickly for a list of arrays or numbers), else None."""
    cls = entries[0].__class__
    if cls in _LEAVES or cls is _ndarray or not plain_object(entries[0]) \
            or cls is types.SimpleNamespace:
        return None
    return cls if all(e.__class__ is cls for e in entries) else None


def list_entry_class(kind):
    """The class of a list argument's entries its kind names (``kind_of``), else None."""
    return kind[2][1] if isinstance(kind, tuple) and kind[:2] == (CONTAINER, "list") \
        and len(kind) > 2 else None


def entry_attributes(kinds) -> dict:
    """(class, attribute) -> class, from the kinds of list arguments that name them: each
    attribute of every entry of such a list holds an object of that class (the caller made
    them so: see ``check_class``)."""
    return {(kind[2][1], a): c for kind in kinds or () if isinstance(kind, tuple)
            and kind[:2] == (CONTAINER, "list") and len(kind) > 3 for a, c in kind[3]}


def with_default_kinds(fn, arg_kinds):
    """``arg_kinds`` (of the first positional arguments of a call), followed by the kinds of
    the numbers the next positional parameters default to: a call leaving them out runs with
    those (``simulate(k)`` of ``def simulate(k, n=5)``: ``np.zeros(n + 1)`` is 1-D)."""
    fn = getattr(fn, "__func__", fn)
    code, defaults = getattr(fn, "__code__", None), getattr(fn, "__defaults__", None)
    if arg_kinds is None or code is None or not defaults:
        return arg_kinds
    first = code.co_argcount - len(defaults)  # (the first parameter with a default)
    out = list(arg_kinds)
    for i in range(len(out), code.co_argcount):
        value = defaults[i - first] if i >= first else None
        if i < first or value.__class__ not in (int, float, bool):
            break
        out.append(kind_of(value))
    return tuple(out)


def marked_kinds(args) -> tuple:
    """The kinds of the arguments of a callee known only at run time, marked COMPLEX (last) when
    it is given complex values: its caller computes with them (see compiler._marked)."""
    kinds = tuple(kind_of(a) for a in args)
    return kinds + (COMPLEX,) if any(is_complex_kind(k) for k in kinds) else kinds


def classes_of(params, kinds) -> dict:
    """Parameter -> class, for arguments that are plain objects (their methods are resolved)."""
    if kinds is None:
        return {}
    return {p: k[1] for p, k in zip(params, kinds) if isinstance(k, tuple) and k[0] == "object"}


def namedtuples_of(params, kinds) -> dict:
    """Parameter -> class, for arguments that are namedtuples (their methods and properties
    are resolved; they stay tuples)."""
    return {p: k[2] for p, k in zip(params, kinds or ()) if isinstance(k, tuple)
            and k[0] == CONTAINER and len(k) > 2 and isinstance(k[2], type)}


def modules_of(params, args, fn, kinds) -> dict:
    """Parameter -> module, for arguments that are modules (``xp=np``), given or left to a
    default; ``args``: the function's ``gast.arguments``, ``fn`` the function."""
    if kinds is None:
        return {}
    positional = [p.id for p in args.posonlyargs + args.args]
    fn = getattr(fn, "__func__", fn)
    defaults = dict(zip(positional[::-1], (getattr(fn, "__defaults__", None) or ())[::-1]))
    defaults.update(getattr(fn, "__kwdefaults__", None) or {})
    modules = {p: v for p, v in defaults.items() if isinstance(v, types.ModuleType)
               and p in params and params.index(p) >= len(kinds)}
    modules.update({p: k[1] for p, k in zip(params, kinds)
                    if isinstance(k, tuple) and k[0] == "module"})
    return modules


def is_array_kind(kind) -> bool:
    """Whether an argument kind (``kind_of``) is an ndarray's."""
    return isinstance(kind, tuple) and kind[0] == "array"


def kinds_of(args) -> tuple:
    """The kinds of a call's arguments; an array's also names each of its axes by which axes of
    the arguments have the same length (``dims_of``), so code can resolve broadcasting and
    follow shapes through products and loops."""
    kinds = [kind_of(a) for a in args]
    lengths: dict = {}
    for i, k in enumerate(kinds):
        if k.__class__ is tuple and k[0] == "array" and k[1]:
            kinds[i] = k + (dims_of(args[i].shape, lengths),)
    return tuple(kinds)


def dims_of(shape, lengths: dict) -> tuple:
    """A shape's axes as symbols: 1 for an axis of length 1 (it broadcasts), else ``"n<k>"``,
    the same symbol for the same length in ``lengths`` (shared by a call's arguments)."""
    return tuple(1 if n == 1 else lengths.setdefault(n, "n%d" % len(lengths)) for n in shape)


_PROTOCOLS = ("__array_function__", "__array_ufunc__", "__array_namespace__", "__array__")
_LEAVES = frozenset([float, int, bool, str, bytes, type(None)])


def check(function: str, params, args, differentiated, parts_only: bool = False) -> None:
    """Raise an ``AdError`` for the first argument (or part of a container or object argument)
    generated code cannot be trusted with. ``differentiated``: positions differentiated w.r.t.;
    ``parts_only``: check only the arguments for which ``has_parts`` (the others were checked when
    the code for their classes was generated)."""
    for i, value in enumerate(args):
        if parts_only and not has_parts(value):
            continue
        problem = _problem(value, i in differentiated, set(), top=True)
        if problem is not None:
            what, hint = problem(params[i] if i < len(params) else "argument %d" % i)
            raise AdError(what, function=function, hint=hint)


def plain_parts(value) -> bool:
    """Whether ``value`` is a list, tuple or dict holding only numbers, strings, None and
    real ndarrays: what ``check`` accepts, decided without walking further (False: ``check``
    decides)."""
    cls = value.__class__
    if cls is dict:
        value = value.values()
    elif cls is not list and cls is not tuple:
        return False
    for item in value:
        cls = item.__class__
        if cls is _ndarray:
            if item.dtype.kind == "c":
                return False
        elif cls not in _LEAVES:
            return False
    return True


_ndarray = np.ndarray


def has_parts(value) -> bool:
    """Whether ``value``'s class does not decide whether it can be trusted: a container or an
    object, whose contents may change from call to call."""
    cls = value.__class__
    return cls not in _LEAVES and cls is not np.ndarray and not isinstance(value, np.generic)


def _problem(value, differentiated: bool, seen: set, top: bool = False, known=None):
    """None, or for what is wrong with ``value`` a function of the path where it was found
    (``xs[1]``, ``model.w``) giving (what is wrong, what to do). ``known``: ``value``'s kind is
    in the argument kinds (the argument itself, an entry of a tuple: see ``kind_of``)."""
    cls = value.__class__
    if cls in _LEAVES or (cls is np.ndarray and value.dtype.kind != "c"):
        return None
    if cls is complex or (isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind == "c"):
        if (top if known is None else known) and (
                cls is complex or cls is np.ndarray or isinstance(value, np.generic)):
            return None  # (its kind says it is complex: see docs/complex.md)
        return lambda path: (
            "%s is complex (%s): complex values inside a container or an object are not "
            "supported yet" % (path, _type_name(value)),
            "pass the complex array as an argument of its own")
    if isinstance(value, np.generic):
        return None
    if isinstance(value, np.ndarray):
        return lambda path: _subclass(value, path)
    if isinstance(value, (list, tuple, dict)):
        return _inside(value.items() if isinstance(value, dict) else enumerate(value), "%s[%r]",
                       value, differentiated, seen, (top if known is None else known)
                       and cls is tuple and len(value) <= 32)
    protocol = next((p for p in _PROTOCOLS if hasattr(cls, p)), None)
    if protocol is not None:
        return lambda path: (
            "%s is a %s, an array type other than np.ndarray (it defines %s): adcompiler generates "
            "NumPy code and does not support it yet" % (path, _type_name(value), protocol),
            "convert it with np.asarray(%s)%s" % (path, " (for a Dask array: %s.compute())" % path
                                                  if _root(cls) == "dask" else ""))
    if plain_object(value):
        hidden = _methods_of(cls).intersection(vars(value))
        if hidden:
            attr = sorted(hidden)[0]
            return lambda path: (
                "%s.%s is set on the object and hides the method %s of its class %s, which the "
                "generated code would call" % (path, attr, attr, cls.__name__),
                "give the attribute another name than the method's")
        return _inside(vars(value).items(), "%s.%s", value, differentiated, seen)
    if differentiated and top:  # (the argument itself: a part of an object may be anything else)
        return lambda path: (
            "cannot differentiate w.r.t. %s: it is a %s, not a float, a float array, a list, "
            "tuple or dict of them, "
            "or an object of your own class holding them" % (path, _type_name(value)),
            "pass the values to differentiate as floats or float arrays")
    return None


def _methods_of(cls) -> frozenset:
    """The names of the functions (methods, static and class methods, properties) ``cls`` and
    its bases define."""
    found = _METHODS.get(cls)
    if found is None:
        found = _METHODS[cls] = frozenset(
            name for klass in cls.__mro__ if klass is not object for name, v in vars(klass).items()
            if isinstance(v, (types.FunctionType, staticmethod, classmethod, property)))
    return found


_METHODS: dict = {}


def _inside(items, spelling, value, differentiated, seen, known=False):
    """The first problem among the entries of a container or the attributes of an object."""
    if id(value) in seen:
        return None
    seen.add(id(value))
    for key, item in items:
        cls = item.__class__
        # (the common case, inline)
        if cls in _LEAVES or (cls is np.ndarray and item.dtype.kind != "c"):
            continue
        problem = _problem(item, differentiated, seen, known=known)
        if problem is not None:
            return lambda path: problem(spelling % (path, key))
    return None


def _subclass(value, path):
    if isinstance(value, np.matrix):
        return ("%s is a np.matrix: its * is a matrix product and its results stay 2-D, which the "
                "derivative rules (written for np.ndarray) do not follow" % path,
                "pass np.asarray(%s) and write matrix products with @" % path)
    if isinstance(value, np.ma.MaskedArray):
        return ("%s is a masked array (np.ma.MaskedArray): the derivative rules do not know its "
                "mask" % path,
                "pass np.ma.filled(%s, 0.0) or %s.compressed(), or the mask as an argument of its "
                "own (np.where(mask, 0.0, x))" % (path, path))
    return ("%s is a %s, a subclass of np.ndarray: adcompiler does not know what it changes in "
            "NumPy's behaviour"
            % (path, _type_name(value)), "pass np.asarray(%s)" % path)


def plain_object(value) -> bool:
    """An instance of the user's own class (or a SimpleNamespace): the compiler gives gradients
    w.r.t. its attributes. Subclasses of numbers, and classes of libraries and of the standard
    library, are not plain."""
    cls = value.__class__
    if cls is types.SimpleNamespace:
        return True
    return (hasattr(value, "__dict__")
            and not isinstance(value, (type, types.ModuleType, types.FunctionType,
                                        types.MethodType, float, int,
                                       complex))
            and _root(cls) not in LIBRARY_ROOTS and _root(cls) not in sys.stdlib_module_names)


def _root(cls) -> str:
    return (getattr(cls, "__module__", None) or "").split(".")[0]


def _type_name(value) -> str:
    """``complex128 array``, ``complex``, ``MyArray`` (a class of the user's),
    ``dask.array.core.Array``."""
    if isinstance(value, (np.ndarray, np.generic)) and value.__class__.__module__ == "numpy":
        return "%s %s" % (value.dtype, "array" if isinstance(value, np.ndarray) else "scalar")
    cls = value.__class__
    return (
        cls.__qualname__
        if _root(cls) in ("builtins", "__main__", "")
        else "%s.%s" % (cls.__module__, cls.__qualname__)
    )
