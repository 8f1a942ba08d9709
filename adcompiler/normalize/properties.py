"""Attributes of objects of known classes whose reads and stores run code of the class: a
@property's getter and setter written in Python, called (differentiated through its source), and
a store that runs other code (``__setattr__``, a data descriptor other than a slot); and names
bound to a plain attribute (``s = self.state``), read as the attribute itself."""
from __future__ import annotations

import collections
import inspect
import types

import gast
import numpy as np

from ..ir import name, walk
from ..parse import is_user_function
from ..resolve import MISSING


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

    def read_attributes_through_aliases(self, body) -> None:
        """``s = obj.state``, a statement of ``body`` binding ``s`` once, ``obj`` an object of a
        known class never bound in ``body`` and ``state`` a plain attribute: each later read of
        ``s`` reads ``obj.state`` (the same dict or list: nothing in ``body`` stores an attribute
        of that name or calls a function of the user's that could), so ``s['t'] += 1`` is a store
        into the object's dict, which the derivative follows (an optimiser's state)."""
        nodes = [n for st in body for n in walk(st)]
        stored = collections.Counter(n.id for n in nodes if isinstance(n, gast.Name)
                                     and not isinstance(n.ctx, gast.Load))
        changed = {n.attr for n in nodes if isinstance(n, gast.Attribute)
                   and not isinstance(n.ctx, gast.Load)}
        if any(self.may_rebind_attributes(n) for n in nodes if isinstance(n, gast.Call)):
            return
        aliases = {}
        for k, st in enumerate(body):
            if not isinstance(st, gast.Assign):
                continue
            pairs = zip(st.targets[0].elts, st.value.elts) \
                if isinstance(st.targets[0], gast.Tuple) and isinstance(st.value, gast.Tuple) \
                and len(st.targets[0].elts) == len(st.value.elts) \
                else [(st.targets[0], st.value)]  # (s, h = self.state, self.h)
            for target, value in pairs:
                if isinstance(target, gast.Name) and stored[target.id] == 1 \
                        and isinstance(value, gast.Attribute) \
                        and isinstance(value.value, gast.Name) and not stored[value.value.id] \
                        and value.value.id in self.object_classes \
                        and value.attr not in changed \
                        and self.plain_attribute(value.value, value.attr):
                    aliases[target.id] = (k, value)
        for alias, (k, value) in aliases.items():
            for st in body[k + 1:]:
                _AliasReads(alias, value).visit(st)

    def may_rebind_attributes(self, call) -> bool:
        """Whether ``call`` may run code of the user's (a function, a method, a class)."""
        func = call.func
        if isinstance(func, gast.Name) and func.id in self.local_fns:
            return True
        obj = self.resolver.resolve(func)
        if obj is MISSING:  # (a method of a local value: of an object of the user's, maybe)
            return not (isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name)
                        and (func.value.id in self.sure_dicts | self.sure_lists
                             or (func.value.id not in self.object_classes
                                 and hasattr(np.ndarray, func.attr))))
        return is_user_function(obj) or (isinstance(obj, type)
                                         and obj.__module__ not in ("builtins", "numpy"))

    def plain_attribute(self, value, attr) -> bool:
        """Whether reading ``value.attr`` runs no code of its class (no property, descriptor or
        ``__getattr__``/``__getattribute__`` of its own)."""
        cls = self.object_classes[value.id]
        found = inspect.getattr_static(cls, attr, None)
        return cls.__getattribute__ is object.__getattribute__ \
            and not hasattr(cls, "__getattr__") and not hasattr(type(found), "__get__")


class _AliasReads(gast.NodeTransformer):
    """Reads of ``alias`` made reads of the attribute ``value`` (a copy each)."""

    def __init__(self, alias, value):
        self.alias, self.value = alias, value

    def visit_Name(self, node):
        if node.id == self.alias and isinstance(node.ctx, gast.Load):
            return gast.copy_location(gast.Attribute(value=name(self.value.value.id),
                                                     attr=self.value.attr, ctx=gast.Load()), node)
        return node
