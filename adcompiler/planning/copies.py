"""Subscripts that copy: an array indexed by an array or a list of indices (advanced indexing)
makes a new array, never a view, so what it binds shares no memory with the array (the
``CopyingIndices`` mixin of ``Aliasing``, which ``Views.views_made_by`` asks)."""
from __future__ import annotations

import gast
import numpy as np

from ..analysis import FLOAT, SCALAR
from ..ir import name
from .kinds import kind_of


class CopyingIndices:
    """Which subscripts copy (a mixin of ``Aliasing``, whose state it reads: ``layout``,
    ``kinds``, ``params``, ``ctx``, ``loc``; it adds to ``array_guards``)."""

    def copying_index(self, s) -> bool:
        """Whether ``s`` binds a subscript of a NumPy array by one array or list of indices
        (advanced indexing: a new array, never a view): a name bound only to list displays or
        to arrays, or a module-level list or array (``u[PROBES]``). Checked where it runs when
        not known here (one check: a base not ``numpy_made``, or a module's index, which a
        tuple or a slice replacing it would make a view)."""
        decided = self.__dict__.setdefault("_copying", {})
        if id(s) not in decided:
            decided[id(s)] = self._copying_index(s)
        return decided[id(s)]

    def _copying_index(self, s) -> bool:
        base, index = s.value.value, s.value.slice
        if not (isinstance(base, gast.Name) and isinstance(index, gast.Name)) \
                or id(s) in self.array_guards:
            return False
        if index.id in self.layout.binds or index.id in self.params:
            held = self.kinds.get(index.id)
            if not (isinstance(held, tuple) and held[0] == "array" or self.indices_made(index.id)
                    or _LISTS_INDEX_ADVANCED and self.list_made(index.id)):
                return False
            if not self.numpy_made(base.id):
                self.array_guards[id(s)] = ("check_array", [name(base.id)], self.loc.error(
                    "%s[%s] was differentiated as a copy of an array's entries, but %r is not "
                    "an array here" % (base.id, index.id, base.id), s,
                    hint="make it an array: np.asarray(%s)" % base.id))
            return True
        found = self.ctx.resolver.resolve(index)
        check = "check_list" if isinstance(found, list) and _LISTS_INDEX_ADVANCED \
            else "check_array" if isinstance(found, np.ndarray) and found.ndim > 0 else None
        if check is None or not self.numpy_made(base.id):
            return False
        self.array_guards[id(s)] = (check, [name(index.id)], self.loc.error(
            "%s[%s] was differentiated as a copy of entries, for %r was a module-level %s when "
            "the gradient was generated, and is %s now" % (
                base.id, index.id, index.id, type(found).__name__,
                "%s" if check == "check_list" else "not one"), s,
            hint="keep %s a %s, or pass it as an argument" % (index.id, type(found).__name__)))
        return True

    def indices_made(self, var) -> bool:
        """Whether every binding of ``var`` makes an array of indices (``np.arange(2, 7)``,
        ``np.argsort(v)``; never a 0-d one, which would index like a number)."""
        bindings = self.layout.bindings(var)
        return var not in self.params and bool(bindings) \
            and len(bindings) == len(self.layout.binds[var]) and all(
                isinstance(b, gast.Assign) and isinstance(b.value, gast.Call)
                and any(self.ctx.resolver.resolve(b.value.func) is f for f in _INDEX_ARRAYS)
                for b in bindings)

    def list_made(self, var, seen=()) -> bool:
        """Whether every binding of ``var`` is a list display or comprehension, or a name bound
        so (``idx = t4`` of ``rec, idx = [], [2, 4]``)."""
        bindings = self.layout.bindings(var)
        return var not in self.params and var not in seen and bool(bindings) \
            and len(bindings) == len(self.layout.binds[var]) and all(
                isinstance(b, gast.Assign) and (
                    isinstance(b.value, (gast.List, gast.ListComp))
                    or isinstance(b.value, gast.Name) and self.list_made(b.value.id, seen + (var,)))
                for b in bindings)

    def numpy_made(self, var) -> bool:
        """Whether ``var`` holds a NumPy array or scalar wherever it is read: its kind says so, or
        every binding of it is a call of NumPy's, a copy of such a value, arithmetic between such
        values and numbers, or another such name (names handed around a loop hold what their
        other bindings made: the largest set so closed)."""
        lay = self.layout
        cached = getattr(self, "_numpy_names", None)
        if cached is None or cached[0] != len(lay.simple):
            found = {n for n in lay.binds if n not in self.params
                     and len(lay.bindings(n)) == len(lay.binds[n])
                     and all(isinstance(b, gast.Assign) for b in lay.bindings(n))}
            while True:
                kept = {n for n in found if all(self._numpy_value(b.value, found)
                                                for b in lay.bindings(n))}
                if kept == found:
                    break
                found = kept
            self._numpy_names = cached = (len(lay.simple), found)
        kind = self.kinds.get(var)
        return isinstance(kind, tuple) and kind[0] == "array" or kind == SCALAR \
            or var in cached[1]

    def _numpy_value(self, value, names) -> bool:
        """Whether ``value`` makes a NumPy array or scalar, given the names ``names`` that do."""
        def made(node):
            if not isinstance(node, gast.Name):
                return False
            kind = self.kinds.get(node.id)
            if node.id in names or isinstance(kind, tuple) and kind[0] == "array":
                return True
            found = self.ctx.resolver.resolve(node) if node.id not in self.layout.binds \
                and node.id not in self.params else None  # (XS of the module)
            return isinstance(found, np.ndarray) and found.dtype != object
        if isinstance(value, gast.BinOp):
            sides = (value.left, value.right)
            return all(made(v) or kind_of(v, self.kinds) == FLOAT for v in sides) \
                and any(made(v) for v in sides)
        if isinstance(value, gast.UnaryOp):
            return made(value.operand)
        if not isinstance(value, gast.Call):
            return made(value)
        func = value.func
        if isinstance(func, gast.Attribute) and func.attr == "copy" and not value.args:
            return made(func.value)
        fn = self.ctx.resolver.resolve(func)
        return isinstance(fn, np.ufunc) or getattr(fn, "__module__", None) == "numpy" \
            and fn is not np.array and fn is not np.asarray


# (NumPy >= 1.23 reads a list index as an index array, always: before, a list holding a slice
# was a tuple of indices, which may make a view)
_LISTS_INDEX_ADVANCED = tuple(int(p) for p in np.__version__.split(".")[:2]) >= (1, 23)
# (functions whose result is an array of indices of rank 1 or more)
_INDEX_ARRAYS = (np.arange, np.argsort, np.flatnonzero, np.nonzero, np.argwhere)
