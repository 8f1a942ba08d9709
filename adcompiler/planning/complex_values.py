"""Whether a function may compute with complex values (``makes_complex``): then the compiler
applies the rules for complex values (``rules/complex_rules.py``, docs/complex.md) to every call
in it. Code that computes with real values only keeps the real rules, and its generated source
is the same as without complex support."""
from __future__ import annotations

import builtins
import re
import sys
import types

import gast
import numpy as np

from ..arguments import COMPLEX
from ..ir import const, name, walk
from ..parse import LIBRARY_ROOTS
from ..resolve import MISSING

# callables whose results are complex for real arguments
_MAKERS = (builtins.complex, np.complex64, np.complex128, np.clongdouble, np.fft.fft,
           np.fft.ifft, np.fft.rfft, np.fft.ihfft, np.fft.fft2, np.fft.ifft2, np.fft.rfft2,
           np.fft.fftn, np.fft.ifftn, np.fft.rfftn, np.fft.hfft, np.fft.irfft, np.fft.irfft2,
           np.fft.irfftn)
# and those that may give complex values without a derivative rule (their results are constants
# where the code is differentiated: complex constants)
_CONSTANT_MAKERS = (np.linalg.eig, np.linalg.eigvals, np.roots,
                    *(getattr(np.emath, n) for n in ("sqrt", "log", "log2", "log10", "logn",
                                                     "power", "arccos", "arcsin", "arctanh")))


def makes_complex(fdef, resolver) -> bool:
    """Whether ``fdef`` (normal form) reads a complex number: a literal (``1j``), a module-level
    complex constant or array, a call of a function that makes complex values from real ones
    (``complex``, ``np.complex128``, the FFTs: the inverse real ones take complex values), a
    complex dtype (``dtype=complex``, ``x.astype("complex64")``), or a function of the user's
    that may return complex values (``_code_makes_complex``)."""
    for node in walk(fdef):
        if isinstance(node, gast.Constant):
            if isinstance(node.value, complex):
                return True
        elif isinstance(node, (gast.Name, gast.Attribute)) and isinstance(node.ctx, gast.Load):
            if _complex_object(resolver.resolve(node)):
                return True
        elif isinstance(node, gast.keyword) and node.arg == "dtype" \
                and _complex_dtype_text(node.value):
            return True
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr == "astype" and node.args \
                and _complex_dtype_text(node.args[0]):
            return True
    return False


def _complex_object(value) -> bool:
    if value is MISSING:
        return False
    if _users(value):  # (a function it calls: see _code_makes_complex)
        return _function_makes_complex(value, set())
    if isinstance(value, (complex, np.complexfloating)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "c"
    if isinstance(value, type) and issubclass(value, np.complexfloating):
        return True
    try:
        return any(value is f for f in _MAKERS + _CONSTANT_MAKERS)
    except TypeError:
        return False


# names whose use may make complex values (complex, np.complex128, np.fft's transforms, np.emath,
# np.linalg.eig)
_MAKER_NAMES = frozenset(["complex", "complex64", "complex128", "clongdouble", "cdouble",
                          "csingle", "fft", "emath", "scimath", "eig", "eigvals"]
                         + [f.__name__ for f in _MAKERS])


def _code_makes_complex(code, namespace: dict, seen: set) -> bool:
    """Whether a function called (its ``code`` and module ``namespace``) may make complex values,
    read from its compiled code: a complex constant, a complex dtype named by a string, a name
    of ``_MAKER_NAMES``, a module-level complex value, or a function of its module that does
    (its results reach the caller, whose rules must then be those for complex values)."""
    if code in seen or len(seen) > 50:
        return False
    seen.add(code)
    for c in _constants(code.co_consts):
        if isinstance(c, complex) or (isinstance(c, str) and _complex_name(c)):
            return True
        if isinstance(c, types.CodeType) and _code_makes_complex(c, namespace, seen):
            return True
    for n in code.co_names:
        value = namespace.get(n, MISSING)
        if n in _MAKER_NAMES or (not _users(value) and _complex_object(value)):
            return True
        if _users(value) and _function_makes_complex(value, seen):
            return True
    return False


def _function_makes_complex(fn, seen: set) -> bool:
    """``_code_makes_complex`` of a function of the user's, the values its closure holds
    included (``def fun(x): return fft_fun(x, n)`` with ``fft_fun = np.fft.fft``)."""
    if fn in seen:  # (a recursive function holds itself in its closure)
        return False
    seen.add(fn)
    if _code_makes_complex(fn.__code__, fn.__globals__, seen):
        return True
    for cell in fn.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:  # (a cell not bound yet)
            continue
        if (_function_makes_complex(value, seen) if _users(value) else _complex_object(value)):
            return True
    return False


def _constants(values):
    """The constants of a code object, those of the tuples it holds (a folded list literal)
    included."""
    for c in values:
        if isinstance(c, (tuple, frozenset)):
            yield from _constants(c)
        else:
            yield c


def _users(value) -> bool:
    """A Python function of the user's (not of a library, the standard one or adcompiler)."""
    if not isinstance(value, types.FunctionType):
        return False
    root = (getattr(value, "__module__", None) or "").split(".")[0]
    return root not in LIBRARY_ROOTS and root not in sys.stdlib_module_names \
        and root != "adcompiler"


def _complex_name(text: str) -> bool:
    """Whether ``text`` names a complex dtype ("complex128", "c8", "<c16", "D")."""
    return re.fullmatch(r"[<>=|]?(complex(64|128|256)?|c(8|16|32)|[FDG])", text) is not None


def _complex_dtype_text(node) -> bool:
    """A string constant naming a complex dtype (``"complex128"``, ``"c8"``)."""
    return isinstance(node, gast.Constant) and isinstance(node.value, str) \
        and _complex_name(node.value)


def checked_result(value, ctx, arg_kinds, label: str):
    """``value``, the result a function compiled as a callee returns to its caller, through
    ``real_result`` (an AdError for a complex value) when this function computes with complex
    values and its caller does not (no COMPLEX mark last in its kinds: see ``compiler._marked``):
    the caller's rules are those for real values."""
    if not ctx.complex_mode or (arg_kinds and arg_kinds[-1] == COMPLEX):
        return value
    return gast.Call(func=name(ctx.helper("real_result")), args=[value, const(label)],
                     keywords=[])
