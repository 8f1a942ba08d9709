"""Namedtuples in the normal form: made from their fields' values (``as_namedtuple``: ``Cls(a,
b)``, ``Cls(*xs)``, ``Cls._make(xs)``) and read as a dict (``fields_dict``: ``b._asdict()``),
with their adjoints and tangents; and ``getattr(obj, name)`` of a name known when it runs. A
namedtuple's adjoint holds its fields' by position, or by field name (a dict) when they were
read by attribute."""
from __future__ import annotations

import numpy as np

from ...errors import AdError
from ...runtime import add_attribute, attribute, own
from ._base import _zero


def as_namedtuple(cls, values):
    """``Cls(a, b=v)`` of a namedtuple class in the normal form, its arguments bound to its fields
    in order: ``Cls._make(values)``."""
    return cls._make(values)


def as_namedtuple_back(g, cls, values):
    """Adjoint of ``values`` in ``as_namedtuple(cls, values)``: the fields' adjoints by position
    (``g`` a namedtuple's adjoint: by position, or by field name when read by attribute)."""
    if _zero(g):
        return 0.0
    return [g.get(f, 0.0) for f in cls._fields] if isinstance(g, dict) else list(g)


def as_namedtuple_jvp(cls, tangents):
    """Tangent of ``as_namedtuple(cls, values)``: the namedtuple of the values' tangents."""
    return 0.0 if _zero(tangents) else cls._make(tangents)


def fields_dict(b):
    """``b._asdict()`` of a namedtuple whose class is known only when it runs: the dict of its
    fields; anything else is refused (its ``_asdict`` is not a namedtuple's)."""
    if not (isinstance(b, tuple) and hasattr(b, "_fields")):
        raise AdError("b._asdict() is differentiated as a namedtuple's, but b is a %s here"
                      % type(b).__name__, hint="pass a namedtuple, or build the dict yourself")
    return dict(zip(b._fields, b))


def fields_dict_back(g, b):
    """Adjoint of ``b`` in ``fields_dict(b)``: the fields' adjoints by position."""
    if _zero(g):
        return 0.0
    return own([g.get(f, 0.0) for f in b._fields], b)  # (by position, its fields named)


def fields_dict_jvp(b, t_b):
    """Tangent of ``fields_dict(b)``: the dict of the fields' tangents."""
    if _zero(t_b):
        return 0.0
    if isinstance(t_b, dict):
        return {f: t_b.get(f, 0.0) for f in b._fields}
    return dict(zip(b._fields, t_b))


def getattr_back(g, obj, name):
    """Adjoint of ``obj`` in ``getattr(obj, name)`` (a name known when it runs): its attributes'
    adjoint, by name; an array's attribute (``x.T``) is refused (its adjoint is an array)."""
    if isinstance(obj, (np.ndarray, np.generic)):
        raise AdError("getattr(x, name) of an array's attribute with a name known only when it "
                      "runs is not differentiated", hint="write the attribute: x.T, x.real")
    return add_attribute(0.0, name, g)


def getattr_jvp(obj, t_obj, name):
    """Tangent of ``getattr(obj, name)``."""
    if isinstance(obj, (np.ndarray, np.generic)):
        getattr_back(0.0, obj, name)
    return attribute(t_obj, name)
