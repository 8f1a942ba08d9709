"""Attributes of objects that several names, lists and other objects reach (springs holding the
particles a system steps, ``for p in ps: p.f = ...``): their adjoints (and tangents) are kept by
the object's identity, in a table the generated code makes for one computation (``{}``), not in
the names that reach the object. A table maps ``id(obj)`` to ``(obj, {attribute: value})``: the
object is held so that its id is not reused while the table lives."""
from __future__ import annotations

from ._base import _effectful, _is_plain_object
from .adjoints import add

_PLAIN_SETATTR = object.__setattr__


@_effectful
def add_attribute_adjoint(table, obj, attr, g):
    """Reading ``t = obj.attr``, backwards: ``dt`` adds into the adjoint of ``obj.attr``."""
    entry = table.get(id(obj))
    if entry is None:
        table[id(obj)] = (obj, {attr: g})
        return
    held = entry[1]
    held[attr] = add(held[attr], g) if attr in held else g


@_effectful
def take_attribute_adjoint(table, obj, attr):
    """Storing ``obj.attr = v``, backwards: the adjoint ``obj.attr`` had is ``v``'s, and the value
    stored over is no longer read (0.0 when nothing read it)."""
    entry = table.get(id(obj))
    if entry is None:
        return 0.0
    return entry[1].pop(attr, 0.0)


def attribute_tangent(table, obj, attr):
    """The tangent of ``obj.attr`` (0.0 when nothing with a tangent was stored there)."""
    entry = table.get(id(obj))
    if entry is None:
        return 0.0
    return entry[1].get(attr, 0.0)


@_effectful
def set_attribute_tangent(table, obj, attr, t):
    """Storing ``obj.attr = v``: its tangent is ``v``'s."""
    entry = table.get(id(obj))
    if entry is None:
        table[id(obj)] = (obj, {attr: t})
    else:
        entry[1][attr] = t


@_effectful
def check_plain_store(obj, attr, refusal):
    """Raise ``refusal`` when ``obj.attr = v`` runs code of the object's class (its own
    ``__setattr__``, or a descriptor's ``__set__``: a property's setter) instead of storing
    ``v`` in the object."""
    cls = type(obj)
    if cls.__setattr__ is not _PLAIN_SETATTR:
        raise refusal("its __setattr__")
    found = getattr(cls, attr, None)
    if found is not None and hasattr(type(found), "__set__") \
            and type(found).__name__ != "member_descriptor":  # (a __slots__ entry: a plain store)
        raise refusal("the __set__ of a %s" % type(found).__name__)


@_effectful
def check_no_objects(value, refusal):
    """Raise ``refusal`` when ``value`` (a result, or a differentiated argument) is or holds an
    object of the user's, whose attributes' derivatives the table keeps, not the value's own."""
    if _holds_object(value, set()):
        raise refusal()


def _holds_object(value, seen) -> bool:
    if id(value) in seen:
        return False
    seen.add(id(value))
    if isinstance(value, (list, tuple)):
        return any(_holds_object(v, seen) for v in value)
    if isinstance(value, dict):
        return any(_holds_object(v, seen) for v in value.values())
    return _is_plain_object(value) and not hasattr(value, "shape")

