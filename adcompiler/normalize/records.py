"""The ``Normalizer``'s dataclasses: an object of a ``@dataclass`` of the user's made inside the
differentiated function (``layer = Layer(W, b, scale=2.0)``) is made as its generated
``__init__`` makes it, which has no source to inline: ``new_object(Layer)``, then each field
stored in the order of the fields (the call's value, or the field's default, or its
``default_factory()``), then ``__post_init__`` called. ``dataclasses.replace(obj, **changes)``
of such an object (or an object argument) is the call of its class with every field ``obj``
has and the changes, as ``replace`` does; ``dataclasses.asdict(obj)`` and ``astuple(obj)`` are
the displays of deep copies of its fields. A frozen dataclass, ``InitVar`` fields and a class
whose ``__init__`` is its own are left to the other paths.
"""
from __future__ import annotations

import copy
import dataclasses

import gast

from .. import runtime
from ..ir import assign, const, copy_tree, name


def generated_init(cls) -> bool:
    """Whether ``cls`` is a dataclass whose objects its generated ``__init__`` makes (not
    frozen, no ``InitVar``, no ``__init__`` of its own)."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        return False
    params = cls.__dataclass_params__
    init = vars(cls).get("__init__")
    return params.init and not params.frozen and getattr(init, "__code__", None) is not None \
        and init.__code__.co_filename == "<string>" and type(cls).__call__ is type.__call__ \
        and cls.__new__ is object.__new__ and "__slots__" not in vars(cls) \
        and not any(isinstance(f.type, dataclasses.InitVar)
                    for f in getattr(cls, "__dataclass_fields__", {}).values())


class Dataclasses:
    """Dataclass objects made here (a mixin of the ``Normalizer``)."""

    def construct_dataclass(self, target, cls, call, s):
        """``target = cls(args)`` for a dataclass ``cls`` (see ``generated_init``)."""
        fields = dataclasses.fields(cls)
        made = gast.Call(func=name(self.helper("new_object", runtime.new_object)),
                         args=[name(self.helper(cls.__name__, cls))], keywords=[])
        self.emit(assign(target, made), s)
        self.object_classes[target] = cls
        positional = [f for f in fields if f.init and not f.kw_only]
        if any(isinstance(a, gast.Starred) for a in call.args) \
                or any(k.arg is None for k in call.keywords):
            self.unsupported(call, "making a dataclass with *args or **kwargs unpacked",
                             "pass its fields one by one")
        if len(call.args) > len(positional):
            raise self.loc.error("too many arguments for %s()" % cls.__name__, call)
        given = {f.name: self.atom(a, s) for f, a in zip(positional, call.args)}
        for k in call.keywords:  # (evaluated in the order written, as Python does)
            if k.arg in given or k.arg not in {f.name for f in fields if f.init}:
                raise self.loc.error("unexpected or repeated keyword argument %r for %s()"
                                     % (k.arg, cls.__name__), call)
            given[k.arg] = self.atom(k.value, s)
        values = list(given.items())
        for f in fields:
            if f.name in given:
                continue
            if f.default is not dataclasses.MISSING:
                value = const(f.default) if isinstance(f.default, (int, float, str, bool,
                                                                   type(None))) \
                    else name(self.helper("%s_%s" % (cls.__name__, f.name), f.default))
            elif f.default_factory is list or f.default_factory is dict:  # (a new one: [], {})
                value = gast.List(elts=[], ctx=gast.Load()) if f.default_factory is list \
                    else gast.Dict(keys=[], values=[])
            elif f.default_factory is not dataclasses.MISSING:
                value = gast.Call(func=name(self.helper(
                    "%s_%s_factory" % (cls.__name__, f.name), f.default_factory)),
                    args=[], keywords=[])
            elif f.init:
                raise self.loc.error("missing argument %r for %s()" % (f.name, cls.__name__),
                                     call)
            else:
                continue
            values.append((f.name, value))
        order = [f.name for f in fields]
        for field_name, value in sorted(values, key=lambda v: order.index(v[0])):
            store = gast.Attribute(value=name(target), attr=field_name, ctx=gast.Store())
            self.store(store, self.atom(value, s), s)
        if hasattr(cls, "__post_init__"):
            post = gast.Call(func=gast.Attribute(value=name(target), attr="__post_init__",
                                                 ctx=gast.Load()), args=[], keywords=[])
            self.emit(gast.Expr(value=self.call(post, s)), s)

    def replaced(self, node):
        """``dataclasses.replace(obj, **changes)`` for ``obj`` an object of a known dataclass
        (see ``generated_init``): the call of its class with ``obj``'s fields and the changes;
        else None."""
        if self.resolver.resolve(node.func) is not dataclasses.replace or len(node.args) != 1 \
                or not isinstance(node.args[0], gast.Name) \
                or any(k.arg is None for k in node.keywords):
            return None
        cls = self.object_classes.get(node.args[0].id)
        if not generated_init(cls):
            return None
        changed = {k.arg for k in node.keywords}
        kept = [gast.keyword(arg=f.name, value=gast.Attribute(value=node.args[0], attr=f.name,
                                                              ctx=gast.Load()))
                for f in dataclasses.fields(cls) if f.init and f.name not in changed]
        return gast.Call(func=name(self.helper(cls.__name__, cls)), args=[],
                         keywords=kept + list(node.keywords))

    def fields_made(self, node, s):
        """``dataclasses.asdict(obj)`` / ``astuple(obj)`` for ``obj`` an object of a known
        dataclass: the dict or tuple display of deep copies of its fields (as the function makes
        them); else None."""
        fn = self.resolver.resolve(node.func)
        if fn not in (dataclasses.asdict, dataclasses.astuple) or len(node.args) != 1 \
                or node.keywords or not isinstance(node.args[0], gast.Name):
            return None
        cls = self.object_classes.get(node.args[0].id)
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            return None
        deep = name(self.helper("deepcopy", copy.deepcopy))
        values = [gast.Call(func=copy_tree(deep), args=[gast.Attribute(
            value=node.args[0], attr=f.name, ctx=gast.Load())], keywords=[])
            for f in dataclasses.fields(cls)]
        if fn is dataclasses.astuple:
            return self.display(gast.Tuple(elts=values, ctx=gast.Load()), s)
        return self.display(gast.Dict(keys=[gast.Constant(value=f.name, kind=None)
                                            for f in dataclasses.fields(cls)], values=values), s)
