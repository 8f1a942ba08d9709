"""What the planner knows of the objects a function reads (the ``KnownObjects`` mixin of
``CallPlans``): module-level objects, object arguments of a known class and objects made here,
and the class's function behind a method of an object argument."""
from __future__ import annotations

import inspect
import types

import gast

from .. import runtime
from ..ir import name
from ..parse import is_library_function
from ..resolve import MISSING


class KnownObjects:
    """Objects by name (reads the planner's ``layout``, ``params``, ``bound_once`` and ``ctx``)."""

    def is_module_object(self, var) -> bool:
        """Whether ``var`` names a module-level object (not a local, not an argument)."""
        return var not in self.layout.binds and var not in self.params \
            and var not in self.ctx.temps and self.ctx.resolver.resolve(name(var)) is not MISSING

    def is_known_object(self, node) -> bool:
        """Whether ``node`` names an object argument of a known class, or an object made here
        (bound once, to ``new_object(Cls)``): never an array (``cell.size`` is its own)."""
        return self.known_class(node) is not None

    def known_class(self, node):
        """The class of the object argument or object made here ``node`` names (see
        ``is_known_object``), else None."""
        if not isinstance(node, gast.Name):
            return None
        if node.id in self.ctx.arg_classes and node.id not in self.layout.binds:
            return self.ctx.arg_classes[node.id]
        made = self.bound_once.get(node.id)
        if made is not None and isinstance(made.value, gast.Call) \
                and self.ctx.resolver.resolve(made.value.func) is runtime.new_object:
            cls = self.ctx.resolver.resolve(made.value.args[0])
            return cls if isinstance(cls, type) else object
        return None

    def argument_method(self, func):
        """The plain function (or staticmethod) behind ``obj.name`` when ``obj`` is an object
        argument of a known class that the body never rebinds; else None."""
        if isinstance(func, gast.Name):  # calling the object itself
            obj, attr = func, "__call__"
        elif isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
            obj, attr = func.value, func.attr
        else:
            return None
        cls = self.ctx.arg_classes.get(obj.id)
        if cls is None or obj.id in self.layout.binds:
            return None
        method = inspect.getattr_static(cls, attr, None)
        if isinstance(method, types.FunctionType) and not is_library_function(method):
            return method
        if isinstance(method, staticmethod) and isinstance(method.__func__, types.FunctionType):
            return method
        return None
