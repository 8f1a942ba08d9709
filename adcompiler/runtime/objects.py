"""Objects and their attributes in differentiated code: an object's adjoint or tangent is a dict
of per-attribute entries (``add_attribute``, ``attribute``, ``with_attribute``...), values left
in attributes that the derivative does not follow (the ``_UNFOLLOWED`` registry, refused by
``check_followed``), the checks that an attribute's or an entry's array or list is held by
nothing else of its object or container (``attribute_alone``, ``entry_alone``), that a list
holds the objects a loop was unrolled for (``check_classes``), that ``super()`` goes where it
was resolved (``check_super_order``), and the
functions a user's lambda makes (``make_function``). The registry is state kept across calls,
so it lives here, with the only functions that touch it."""
from __future__ import annotations

import types

import numpy as np

from ._base import _effectful, _float, _Named, _ndarray
from .adjoints import add
from .checks import _roots


def add_attribute(d, attr, g):
    """Adjoint of a simple object after reading ``obj.attr``: a dict of per-attribute adjoints
    (a namedtuple's adjoint by position already: ``g`` added at the field's position)."""
    fields = getattr(d, "_fields", None)
    if fields is not None:
        out = _Named(fields, d)
        at = fields.index(attr)
        out[at] = add(out[at], g)
        return out
    out = {} if d.__class__ is _float else dict(d)
    out[attr] = add(out.get(attr, 0.0), g)
    return out


def attribute(t, attr):
    """Attribute ``attr`` of a tangent object (0.0: the zero tangent; a namedtuple's tangent
    may be a list that knows its fields, see ``_Named``)."""
    if t.__class__ is _float:
        return t
    if isinstance(t, dict):
        return t.get(attr, 0.0)
    if t.__class__ is _Named:
        return t[t._fields.index(attr)]
    return getattr(t, attr)


def without_attribute(d, attr):
    """An object's adjoint or tangent without its entry for ``attr``: the value ``obj.attr = v``
    overwrote (its adjoint went to ``v``)."""
    if d.__class__ is _float:
        return d
    out = _attribute_entries(d)
    out.pop(attr, None)
    return out


def with_attribute(t, attr, v):
    """An object's tangent after ``obj.attr = v``, ``v`` holding the value's tangent."""
    out = {} if t.__class__ is _float else _attribute_entries(t)
    out[attr] = v
    return out


def _attribute_entries(t):
    """A copy of an object's adjoint or tangent as a dict of per-attribute entries (the API gives
    one as an object of the argument's class)."""
    return dict(t) if isinstance(t, dict) else dict(vars(t))


# (id(obj), attribute) -> (obj, value): what differentiated code left in an object's attribute when
# its function returned, a value that depends on the arguments being differentiated: its caller
# does not receive that value's derivative, so differentiated code may not read it (check_followed)
_UNFOLLOWED: dict = {}


@_effectful
def unfollowed(obj, attr):
    """Record, as a function returns, the value it stored in ``obj.attr`` (see
    ``check_followed``)."""
    if hasattr(obj, attr):
        _UNFOLLOWED[id(obj), attr] = (obj, getattr(obj, attr))


def new_object(cls):
    """An object of the user's class ``cls`` before its ``__init__`` runs (``obj = Cls(args)``
    inside a differentiated function: the ``__init__`` is inlined after this)."""
    return cls.__new__(cls)


def make_function(made, defaults):
    """The function a user's lambda makes: ``made`` is its code object and the globals of its
    module, ``defaults`` its default values (see ``Normalizer.lambda_value``)."""
    return types.FunctionType(made[0], made[1], "<lambda>", defaults or None)


@_effectful
def fresh_computation():
    """Forget what earlier computations stored (called as a gradient computation starts)."""
    if _UNFOLLOWED:
        _UNFOLLOWED.clear()


@_effectful
def check_followed(obj, attr, refusal, code_refusal=None):
    """Raise ``refusal`` when differentiated code reads ``obj.attr`` that a called function set to a
    value depending on the differentiated arguments (the derivative would not follow it), and
    ``code_refusal`` when reading it runs code of its class (a property's getter, a descriptor's
    ``__get__``), which a read of an object of a class not known when the code was generated is
    not differentiated through."""
    if _UNFOLLOWED:
        entry = _UNFOLLOWED.get((id(obj), attr))
        if entry is not None and entry[0] is obj and getattr(obj, attr, None) is entry[1]:
            raise refusal(())
    if code_refusal is not None:
        found = getattr(type(obj), attr, None)
        if found is not None and hasattr(type(found), "__get__") \
                and not isinstance(found, _PLAIN_CLASS_ATTRIBUTES) \
                and type(found).__name__ != "_tuplegetter":  # (a namedtuple's field: read)
            raise code_refusal(type(found).__name__)


@_effectful
def check_objects_followed(refusal, *values):
    """Raise ``refusal`` (naming the attribute) when one of ``values``, the objects given to a
    call that is not differentiated, holds a value a called function left in its attribute
    (see ``check_followed``)."""
    if _UNFOLLOWED:
        for value in values:
            for attr, held in getattr(value, "__dict__", {}).items():
                entry = _UNFOLLOWED.get((id(value), attr))
                if entry is not None and entry[0] is value and entry[1] is held:
                    raise refusal(attr)


# (what reading from a class gives without running code of the user's: its methods)
# (and a __slots__ entry, read as a plain attribute is)
_PLAIN_CLASS_ATTRIBUTES = (types.FunctionType, staticmethod, classmethod, types.BuiltinFunctionType,
                           types.MethodDescriptorType, types.WrapperDescriptorType,
                           types.MemberDescriptorType)


class OuterName:
    """A ``global`` or ``nonlocal`` variable of the user's function: its module namespace entry,
    or its closure cell."""
    __slots__ = ("name", "namespace", "cell")

    def __init__(self, name, namespace=None, cell=None):
        self.name, self.namespace, self.cell = name, namespace, cell


@_effectful
def outer_value(ref):
    """The value of the global or nonlocal variable ``ref`` now."""
    if ref.cell is not None:
        try:
            return ref.cell.cell_contents
        except ValueError:
            raise NameError("free variable %r referenced before assignment" % ref.name) from None
    try:
        return ref.namespace[ref.name]
    except KeyError:
        raise NameError("name %r is not defined" % ref.name) from None


@_effectful
def set_outer(ref, value):
    """Assign the global or nonlocal variable ``ref``, as the user's function does."""
    if ref.cell is not None:
        ref.cell.cell_contents = value
    else:
        ref.namespace[ref.name] = value


@_effectful
def check_classes(items, classes, refusal):
    """Raise ``refusal`` unless the list ``items`` holds, position by position, objects of exactly
    the ``classes`` (a loop over it was unrolled for them)."""
    if items.__class__ is not list or len(items) != len(classes) \
            or any(item.__class__ is not cls for item, cls in zip(items, classes)):
        raise refusal()


@_effectful
def check_number_or_array(value, refusal):
    """``check_number``, an array allowed too: ``X @ layer`` of a class setting
    ``__array_ufunc__ = None``, to which NumPy defers (Python then runs
    ``layer.__rmatmul__(X)``)."""
    kind = value.__class__
    if kind is not float and kind is not int and kind is not _ndarray \
            and not isinstance(value, np.generic):
        raise refusal(kind.__name__)


@_effectful
def check_class(value, cls, refusal):
    """Raise ``refusal`` (naming the type) unless ``value`` is an object of exactly ``cls`` (its
    operators and methods were generated as that class's)."""
    if value.__class__ is not cls:
        raise refusal(type(value).__name__)


@_effectful
def check_entry_classes(lists, classes, refusal):
    """Raise ``refusal`` unless each of ``lists`` is a list of objects of exactly its class in
    ``classes`` (a callee was generated for entries of that class: ``forces(pos)`` of ``pos =
    [Vec(..) for ..]``)."""
    for items, cls in zip(lists, classes):
        if items.__class__ is not list or any(item.__class__ is not cls for item in items):
            raise refusal()


@_effectful
def check_super_order(obj, cls, refusal):
    """Raise ``refusal`` unless the classes after ``cls`` in the order of ``obj``'s class are
    those after it in its own (``super()`` in a method of ``cls`` was resolved with that one)."""
    order = obj.__class__.__mro__
    if cls not in order or order[order.index(cls) + 1:] != cls.__mro__[1:]:
        raise refusal()


@_effectful
def attribute_alone(obj, attr, refusal):
    """Raise ``refusal`` if an attribute of ``obj`` other than ``attr`` holds an array that may
    share memory with the one ``obj.attr`` holds (``obj.attr += v`` changes that array in
    place), or the list or dict it holds (``obj.attr.append(v)``)."""
    value = getattr(obj, attr)
    if value.__class__ is list or value.__class__ is dict:  # (obj.items.append(v))
        if any(other is value for key, other in vars(obj).items() if key != attr):
            raise refusal()
        return
    if value.__class__ is not _ndarray:
        return
    for key, other in getattr(obj, "__dict__", {}).items():
        if key != attr and other.__class__ is _ndarray and np.may_share_memory(other, value):
            raise refusal()


@_effectful
def entry_alone(container, key, refusal):
    """Raise ``refusal`` if an entry of ``container`` other than ``container[key]``, or a list,
    tuple or dict such an entry is, holds the list or dict ``container[key]`` holds
    (``d['hist'].append(v)`` changes it in place)."""
    value = container[key]
    if container.__class__ is dict:
        others = [v for k, v in container.items() if k != key]
    else:
        at = key % len(container)
        others = [v for k, v in enumerate(container) if k != at]
    for other in others:
        inner = other.values() if other.__class__ is dict else \
            other if other.__class__ in (list, tuple) else ()
        if other is value or any(v is value for v in inner):
            raise refusal()


@_effectful
def held_entry_alone(obj, attr, key, refusal):
    """``entry_alone`` for the entry ``key`` of the list or dict ``obj.attr``, which no other
    attribute of ``obj`` may hold either (``self.history['I'].append(v)``)."""
    attribute_alone(obj, attr, refusal)
    entry_alone(getattr(obj, attr), key, refusal)


@_effectful
def check_entries_distinct(holder, updated, refusal, *others):
    """Raise ``refusal`` when the list or dict ``holder``, whose entries the function stores
    attributes into, holds one object (not a number or a string) at two places, or when the
    array of an attribute ``updated`` in place (``p.vel += v``) of one of its entries is held by
    another attribute of an entry or by one of the ``others`` arguments: a change made through
    one would be seen through the other, which the derivative does not follow."""
    seen = set()
    entries = list(holder.values()) if holder.__class__ is dict else holder
    for entry in entries:
        if entry.__class__ not in _VALUES:
            if id(entry) in seen:
                raise refusal("holds one object at two places, and the function stores "
                              "attributes into its entries")
            seen.add(id(entry))
    if not updated:
        return
    held, mine = {}, []
    for entry in entries:
        for key, value in getattr(entry, "__dict__", {}).items():
            if value.__class__ is _ndarray or value.__class__ in _CHANGING:
                root = id(_base_of(value)) if value.__class__ is _ndarray else id(value)
                held[root] = held.get(root, 0) + 1
                if key in updated:
                    mine.append(root)
    for other in others:
        for root in _roots(other):
            held[root] = held.get(root, 0) + 1
    if any(held[root] > 1 for root in mine):
        raise refusal("has an entry whose %s (an array or list changed in place here) is also "
                      "held by another attribute or argument" % " or ".join(
                          map(repr, sorted(updated))))


def _base_of(array):
    """The array owning ``array``'s memory."""
    while array.base.__class__ is _ndarray:
        array = array.base
    return array


_VALUES = frozenset([float, int, bool, complex, str, type(None)])
_CHANGING = frozenset([list, dict])  # (an entry's list appended to: held by one entry only)
