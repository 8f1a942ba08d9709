"""Attributes of objects of known classes whose reads and stores run code of the class: a
@property's getter and setter written in Python, called (differentiated through its source), and
a store that runs other code (``__setattr__``, a data descriptor other than a slot)."""
from __future__ import annotations

import inspect
import types

import gast

from ..ir import name


class Properties:
    """Reads and stores of attributes with code (a mixin of the ``Normalizer``)."""

    def attribute_value(self, value, attr, s):
        """``value.attr`` (an atom's): a call of the getter when it is a @property of the class of
        an object argument or of an object made here (differentiated through its source)."""
        getter = self.property_getter(value, attr)
        if getter is not None:
            return self.call(gast.Call(func=name(self.helper(getter.__name__, getter)),
                                       args=[value], keywords=[]), s)
        return gast.Attribute(value=value, attr=attr, ctx=gast.Load())

    def property_getter(self, value, attr):
        """The getter function of ``value.attr`` when ``value`` is an object argument or an object
        made here and ``attr`` a property of its class written in Python; else None."""
        return self._property_function(value, attr, "fget")

    def property_setter(self, value, attr):
        """The setter function of ``value.attr = v`` (see ``property_getter``)."""
        return self._property_function(value, attr, "fset")

    def store_runs_code(self, value, attr) -> bool:
        """Whether ``value.attr = v`` on an object of a known class runs code other than a plain
        store and a property's Python setter: ``__setattr__`` or another data descriptor."""
        if not (isinstance(value, gast.Name) and value.id in self.object_classes):
            return False
        cls = self.object_classes[value.id]
        found = inspect.getattr_static(cls, attr, None)
        return cls.__setattr__ is not object.__setattr__ or (
            hasattr(type(found), "__set__")  # (a __slots__ entry: a plain store)
            and not isinstance(found, (property, types.MemberDescriptorType)))

    def _property_function(self, value, attr, which):
        cls = self.object_classes.get(value.id) or self.namedtuples.get(value.id) \
            if isinstance(value, gast.Name) else None
        if cls is None:
            return None
        found = inspect.getattr_static(cls, attr, None)
        fn = getattr(found, which, None) if isinstance(found, property) else None
        return fn if isinstance(fn, types.FunctionType) else None
