"""What the planner knows of the objects a function reads (the ``KnownObjects`` mixin of
``CallPlans``): module-level objects, object arguments of a known class and objects made here,
the class's function behind a method of an object argument, and the class of the entries of
lists of objects given to a function of the user's."""
from __future__ import annotations

import inspect
import types

import gast

from .. import runtime
from ..arguments import plain_object
from ..ir import name
from ..parse import is_library_function
from ..resolve import MISSING


class KnownObjects:
    """Objects by name (reads the planner's ``layout``, ``params``, ``bound_once``, ``ctx`` and
    ``aliasing``, whose ``array_guards`` it adds to)."""

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

    def checked_entry_classes(self, s, plan):
        """The call's lists of objects of one class known here (``pos = [Vec(..) for ..]``):
        the callee is told the class (``plan.entry_classes``: its operators and methods are that
        class's), checked where the call runs (its code is right for that class only)."""
        lists = {p: node.id for p, node in plan.bound.items() if isinstance(node, gast.Name)
                 and node.id in self.ctx.list_classes}
        if not lists or id(s) in self.aliasing.array_guards:
            return
        plan.entry_classes = {p: self.ctx.list_classes[n] for p, n in lists.items()}
        plan.entry_attributes = {p: tuple(sorted(
            (a, c) for (k, a), c in self.ctx.class_attributes.items() if k is cls))
            for p, cls in plan.entry_classes.items()}
        error = self.loc.error("%s was generated for lists of objects of classes %s, but a list "
                               "passed to it holds others where it runs" % (
                                   plan.callee, ", ".join(sorted({c.__name__ for c in
                                                                  plan.entry_classes.values()}))),
                               s, hint="keep the entries of one class, as the function makes them")
        self.aliasing.array_guards[id(s)] = ("check_entry_classes", [
            gast.Tuple(elts=[name(n) for n in lists.values()], ctx=gast.Load()),
            gast.Tuple(elts=[name(self.ctx.bind(c.__name__, c))
                             for c in plan.entry_classes.values()], ctx=gast.Load())], error)

    def module_object_call(self, s, call, target, named):
        """``MODEL.predict(X)`` or ``LAYER(x)`` of a module-level object of the user's: the
        subroutine of its class's function, the object its first argument, whose attributes'
        derivatives then follow the call; else None."""
        func = call.func
        receiver = func.value if isinstance(func, gast.Attribute) else func
        if not (isinstance(target, types.MethodType)
                and isinstance(target.__func__, types.FunctionType)
                and isinstance(receiver, gast.Name) and plain_object(target.__self__)
                and self.ctx.resolver.resolve(receiver) is target.__self__):
            return None
        args = [receiver] + list(call.args)
        plan = self.subroutine_plan(s, gast.Call(func=func, args=args, keywords=call.keywords),
                                    target.__func__)
        plan.call_args = args
        plan.guard = (func, named)
        return plan
