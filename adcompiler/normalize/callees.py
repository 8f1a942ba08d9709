"""The ``Normalizer``'s choice of the user's module-level code to inline at a call: a function
that writes into an argument it is given or is given a local function (``writing_callee``), a
method of an object argument or of an object made here (``writing_method``), and the
``__init__`` of a class whose object is made here (``construct``), each only when it can be
inlined (``inlinable``): a write inlined is one the derivative follows, as any write here; and
the code of such objects' classes that attribute reads and stores run (``@property`` getters and
setters, called; ``__setattr__`` and other descriptors, refused where they run).
"""
from __future__ import annotations

import inspect
import sys
import types

import gast
import numpy as np

from .. import effects, runtime
from ..custom import user_rules
from ..errors import AdError
from ..ir import assign, const, name, walk
from ..parse import parse_function
from ..resolve import MISSING, local_names
from .records import generated_init

# the method Python calls to convert an object (float(q): q.__float__())
_CONVERSIONS = {float: "__float__", int: "__int__", complex: "__complex__", round: "__round__",
                abs: "__abs__", next: "__next__"}

_SYMBOLS = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.FloorDiv: "//",
            gast.Mod: "%", gast.Pow: "**", gast.MatMult: "@", gast.BitOr: "|", gast.BitAnd: "&",
            gast.BitXor: "^"}

# the method Python calls for an arithmetic operator (and for the reflected operation)
_OPERATOR_METHODS = {gast.Add: "add", gast.Sub: "sub", gast.Mult: "mul", gast.Div: "truediv",
                     gast.FloorDiv: "floordiv", gast.Mod: "mod", gast.Pow: "pow",
                     gast.MatMult: "matmul", gast.USub: "neg", gast.UAdd: "pos",
                     gast.BitOr: "or", gast.BitAnd: "and", gast.BitXor: "xor"}


class Callees:
    """Which calls of the user's functions, methods and classes are inlined (a mixin of the
    ``Normalizer``; ``inline_function`` of ``inlining`` inlines them)."""

    def operator_method(self, op, left, right, s):
        """``left op right`` (atoms; ``op left`` when ``right`` is None) when an operand is an
        object argument or an object made here: the call of the method of its class that Python
        runs, ``left.__mul__(right)`` (``left.__neg__()``), or ``right.__rmul__(left)`` for a
        number on the left, to be differentiated through its source; an AdError where it runs
        when that method is not one of the user's or may return NotImplemented (Python would
        then try the other operand). None for other operands."""
        objects = [a for a in (left, right)
                   if isinstance(a, gast.Name) and a.id in self.object_classes]
        if not objects or isinstance(op, gast.Not):  # (not v: its truth, no derivative)
            return None
        verb = _OPERATOR_METHODS.get(type(op))
        receiver, other, method = (left, right, "__%s__" % verb) if objects[0] is left \
            else (right, left, "__r%s__" % verb)
        fn = inspect.getattr_static(self.object_classes[receiver.id], method, None) \
            if verb else None
        number = isinstance(other, gast.Constant) and isinstance(other.value, (int, float))
        unknown = receiver is right and isinstance(other, gast.Name) \
            and other.id not in self.object_classes
        if not isinstance(fn, types.FunctionType) or "NotImplemented" in fn.__code__.co_names \
                or (receiver is right and not number and not unknown):
            error = self.loc.error("this operator on an object of class %s is not supported"
                                   % self.object_classes[receiver.id].__name__, s,
                                   hint="call a method of the class (v.dot(w)) instead of the "
                                        "operator")
            self.emit(self.refusal_call(error), s)  # (where it runs: it may be a branch not taken)
            return None
        if unknown and not number:  # (k * v: Python runs v.__rmul__(k) when k is a number)
            # (an array too when the class sets __array_ufunc__ = None: NumPy defers to it)
            deferred = inspect.getattr_static(self.object_classes[receiver.id],
                                              "__array_ufunc__", MISSING) is None
            error = self.loc.error(
                "%s %s an object of class %s is differentiated as %s.%s(%s), which Python runs "
                "when %s is a number%s, but it is a %%s here" % (
                    other.id, _SYMBOLS.get(type(op), "op"),
                    self.object_classes[receiver.id].__name__, receiver.id, method, other.id,
                    other.id, " or an array" if deferred else ""), s,
                hint="pass a number, or call the method of the class")
            checked = runtime.check_number_or_array if deferred else runtime.check_number
            check = gast.Call(func=name(self.helper(checked.__name__, checked)),
                              args=[other, name(self.helper("refusal", runtime.Refusal(error)))],
                              keywords=[])
            self.emit(gast.Expr(value=check), s)
        return gast.Call(func=gast.Attribute(value=receiver, attr=method, ctx=gast.Load()),
                         args=[] if right is None else [other], keywords=[])

    def conversion_method(self, node, s):
        """``float(q)``, ``round(q, n)``, ``abs(q)``, ``complex(q)``, ``int(q)``, ``next(q)`` of an
        object argument or an object made here: the call of the method of its class Python runs
        (``q.__float__()``), differentiated through its source; ``math.sqrt(q)`` or
        ``np.float64(q)``, which convert it with ``__float__`` first: the function of
        ``q.__float__()``; ``tuple(q)`` or ``list(q)``: of what ``q.__iter__`` gives. The call
        flattened (its arguments evaluated once, in order) for any other value of such a function;
        None for other calls."""
        if not node.args or isinstance(node.args[0], gast.Starred) or self.bind_object is None \
                or not self.is_global(node.func):
            return None
        fn = self.resolver.resolve(node.func)
        method = _CONVERSIONS.get(fn) if isinstance(fn, type) or fn in (round, abs) or (
            fn is next and len(node.args) == 1) else None  # (next(it) of an iterator class)
        converted = method is None and (getattr(fn, "__module__", None) == "math"
                                        or fn in (np.float64, np.float32))
        iterated = any(fn is f for f in (tuple, list, sum, sorted, min, max)) \
            and (len(node.args) == 1 or fn is sum) and not node.keywords and (
            (isinstance(node.args[0], gast.Name) and node.args[0].id in self.object_classes)
            or self.constructed_class(node.args[0]) is not None)
        if method is None and not converted and not iterated:
            return None
        args, keywords = self.flat_arguments(node, s)
        first = args[0]
        if iterated:  # (tuple(v), sum(v): of what v.__iter__ gives)
            args[0] = self.iterated_object(first, s) or first
            return gast.Call(func=node.func, args=args, keywords=keywords)
        method = "__float__" if converted else method
        cls = self.object_classes.get(getattr(first, "id", None))
        if cls is None or not isinstance(inspect.getattr_static(cls, method, None),
                                         types.FunctionType):
            return gast.Call(func=node.func, args=args, keywords=keywords)
        call = self.call(gast.Call(func=gast.Attribute(value=first, attr=method,
                                                       ctx=gast.Load()),
                                   args=[] if converted else args[1:], keywords=[]), s)
        if converted:
            return gast.Call(func=node.func, args=[self.atom(call, s)] + args[1:],
                             keywords=keywords)
        return call

    def iterated_object(self, value, s):
        """For ``value`` (an atom) an object argument or an object made here whose class has a
        method ``__iter__``: the list of what it yields (``list(v.__iter__())``), which
        unpacking and ``tuple(v)`` iterate; else None."""
        cls = self.object_classes.get(getattr(value, "id", None))
        method = inspect.getattr_static(cls, "__iter__", None) if cls is not None else None
        if not isinstance(method, types.FunctionType):
            return None
        call = gast.Call(func=gast.Attribute(value=value, attr="__iter__", ctx=gast.Load()),
                         args=[], keywords=[])
        return self.atom(gast.Call(func=name(self._builtin("list")), args=[call], keywords=[]),
                         s)

    def super_call(self, node, s):
        """``super(C, obj).name(args)`` (``super()`` in a method, see ``parse._as_in_class``): the
        call ``name(obj, args)`` of the function a class after ``C`` in ``C``'s order of bases
        defines, a function of the user's (inlined or differentiated through its source); None
        for other calls; None's constant for ``object.__init__``, which does nothing."""
        func = node.func
        if not (isinstance(func, gast.Attribute) and isinstance(func.value, gast.Call)
                and self.is_global(func.value.func)
                and self.resolver.resolve(func.value.func) is super
                and len(func.value.args) == 2 and not func.value.keywords):
            return None
        cls = self.resolver.resolve(func.value.args[0])
        if not isinstance(cls, type):
            return None
        # (the class after C in the order of the object's class: a mixin's next one, L1 of
        # class ElasticNet(L2, L1) for super() in L2)
        owner = self.object_classes.get(getattr(func.value.args[1], "id", None))
        order = owner.__mro__ if isinstance(owner, type) and issubclass(owner, cls) \
            else cls.__mro__
        if order is cls.__mro__ and _orders_differ(cls):  # (checked where it runs)
            error = self.loc.error(
                "super() in a method of %s was resolved for an object of %s or of a subclass "
                "putting the same classes after it, but this one's class puts others (multiple "
                "inheritance)" % (cls.__name__, cls.__name__), node,
                hint="call the method of the class you mean (Base.method(self, ...))")
            self.emit(gast.Expr(value=gast.Call(
                func=name(self.helper("check_super_order", runtime.check_super_order)),
                args=[self.atom(func.value.args[1], s), self.atom(func.value.args[0], s),
                      name(self.helper("refusal", runtime.Refusal(error)))], keywords=[])), s)
        after = order[order.index(cls) + 1:]
        found = next((vars(k)[func.attr] for k in after if func.attr in vars(k)), None)
        if found is object.__init__ and not node.args and not node.keywords:
            return const(None)  # (super().__init__() of a base without one: nothing to do)
        if not isinstance(found, types.FunctionType):
            return None
        return gast.Call(func=name(self.helper(found.__name__, found)),
                         args=[func.value.args[1]] + list(node.args), keywords=node.keywords)

    def writing_callee(self, call):
        """The parsed module-level function of the user's ``call`` calls when that function writes
        into an argument it is given (``u -= u.mean()``), or is given a lambda or nested def of
        this function (``passes_a_local_function``), and can be inlined: defined in this
        function's file and module, with none of its free names a local name here, no default
        that is not a constant, and no nested function, import, ``try`` or ``with`` (a write
        inlined is one the derivative follows, as any write here); else None."""
        if getattr(call, "ad_not_inlined", False):
            return None
        fn = self.resolver.resolve(call.func) if self.is_global(call.func) else MISSING
        return self.inlinable(fn, call, call.args, nested=True, always=self.inline_all,
                              expression=isinstance(call.func, gast.Name))

    def writing_method(self, call):
        """``writing_callee`` for a method of an object argument or an object made here
        (``osc.step(dt)``, whose ``self.x += ...`` writes into the object; ``cell(x)``, its
        ``__call__``): the plain function, defined in this function's file, with the object as
        its first argument; else None."""
        func = call.func
        if isinstance(func, gast.Name) and func.id in self.object_classes:
            receiver, attr = func, "__call__"
        elif isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.value.id in self.object_classes:
            receiver, attr = func.value, func.attr
        else:
            return None
        fn = inspect.getattr_static(self.object_classes[receiver.id], attr, None)
        return self.inlinable(fn, call, [receiver] + list(call.args), True, self.inline_all)

    def construct(self, target, value, s) -> bool:
        """``target = Cls(args)`` for a class of the user's defined in this function's file, whose
        ``__init__`` can be inlined (see ``writing_callee``), ``target`` bound once: the object is
        made (``new_object(Cls)``) and its ``__init__`` inlined with ``self`` renamed
        ``target``, so what it stores is this function's attribute stores, and the object's
        writing methods are inlined too. False (nothing emitted) for anything else."""
        if target in self.bound_twice:
            return False
        value = self.spread_into_init(value, s) or value  # (Cls(*coefs(k)))
        cls = self.constructed_class(value)
        if cls is None:
            return False
        if generated_init(cls):
            self.construct_dataclass(target, cls, value, s)
            return True
        call = gast.Call(func=value.func, args=[name(target)] + list(value.args),
                         keywords=value.keywords)
        made = gast.Call(func=name(self.helper("new_object", runtime.new_object)),
                         args=[value.func], keywords=[])
        self.emit(assign(target, made), s)
        self.object_classes[target] = cls
        self.made_objects.add(target)
        if cls.__init__ is not object.__init__:  # (a class without one: nothing to run)
            self.inline_function(self.inlinable(cls.__init__, call, call.args), call, s)
        return True

    def constructed_class(self, value):
        """The class ``value`` (a call) makes an object of, when ``construct`` can inline its
        ``__init__`` (a plain class of the user's, in this function's file); else None."""
        if not isinstance(value, gast.Call) or not self.is_global(value.func) \
                or self.bind_object is None:
            return None
        cls = self.resolver.resolve(value.func)
        if generated_init(cls):
            return cls
        init = inspect.getattr_static(cls, "__init__", None) if isinstance(cls, type) else None
        if type(cls).__call__ is not type.__call__ or cls.__new__ is not object.__new__:
            return None
        if init is object.__init__:  # (Dense() of a class without __init__)
            return cls if cls.__setattr__ is object.__setattr__ and not value.args \
                and not value.keywords and self.defined_here(cls) else None
        if not isinstance(init, types.FunctionType):
            return None
        call = gast.Call(func=value.func, args=[value.func] + list(value.args),
                         keywords=value.keywords)
        return cls if self.inlinable(init, call, call.args) is not None else None

    def defined_here(self, cls) -> bool:
        """Whether the class ``cls`` is defined in this function's module and file."""
        module = sys.modules.get(cls.__module__)
        if module is None:  # (a module loaded without import: the globals of its functions)
            functions = [f for f in vars(cls).values() if isinstance(f, types.FunctionType)]
            return bool(functions) and all(
                f.__globals__ is self.resolver.parsed.globals
                and f.__code__.co_filename == self.loc.filename for f in functions)
        try:
            return module.__dict__ is self.resolver.parsed.globals \
                and inspect.getfile(cls) == self.loc.filename
        except (AttributeError, TypeError):
            return False

    def inlinable(self, fn, call, args, nested=False, always=False, expression=False):
        """The parsed ``fn`` called with ``args`` when the call can be inlined (see
        ``writing_callee``), else None. ``nested``: a method, inlined also when it writes only
        through a method it calls (``for layer in self.layers: layer.set(w)``); ``always``:
        whether or not it writes; ``expression``: also when its body is one ``return`` (a
        module-level function called by its name: a method is checked as its class's where it is
        called, and is called)."""
        if not isinstance(fn, types.FunctionType) or self.generated \
                or fn.__globals__ is not self.resolver.parsed.globals \
                or fn.__code__.co_freevars not in ((), ("__class__",)) \
                or fn.__code__.co_filename != self.loc.filename \
                or any(isinstance(a, gast.Starred) for a in args) \
                or any(k.arg is None for k in call.keywords) \
                or fn.__qualname__ in self.inlining or any(user_rules(fn)):
            return None  # (a rule of the user's, ad.defvjp, is the function's derivative)
        wanted = always or effects.written_parameters(fn, nested=nested) \
            or self.passes_a_local_function(call)
        if not (wanted or (expression and _one_expression(fn))):
            return None
        try:
            parsed = parse_function(fn)
        except AdError:
            return None
        tree = parsed.tree
        args = tree.args
        if any(
                isinstance(n, (gast.FunctionDef, gast.Lambda, gast.ClassDef, gast.Import,
                               gast.ImportFrom, gast.Try, gast.With, gast.Global, gast.Nonlocal,
                               gast.Yield, gast.YieldFrom))
                for st in tree.body for n in walk(st)) \
                or literal_defaults(fn, args) is None:
            return None
        own = local_names(tree) | {a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
        # (a comprehension's variables are its own: [Lin(W) for W in Ws])
        own |= {n.id for st in tree.body for c in walk(st) if isinstance(c, gast.comprehension)
                for n in walk(c.target) if isinstance(n, gast.Name)}
        free = {n.id for st in tree.body for n in walk(st) if isinstance(n, gast.Name)} - own
        if free & (self.resolver.locals | self.temps):
            return None
        return parsed

    def passes_a_local_function(self, call) -> bool:
        """Whether ``call`` gives a lambda or a nested def of this function as an argument
        (``rk4(lambda t, y: -k * y, y0)``): inlined, the callee calls it as this function
        does, its free names this function's variables."""
        return any(isinstance(a, gast.Lambda)
                   or (isinstance(a, gast.Name) and a.id in self.local_fns)
                   for a in list(call.args) + [k.value for k in call.keywords])


def _orders_differ(cls) -> bool:
    """Whether some subclass of ``cls`` puts other classes after it in its method resolution
    order than ``cls`` does (``class ElasticNet(L2, L1)``: L1 after L2, not L2's base)."""
    subclasses, rest = [], list(cls.__subclasses__())
    while rest:
        sub = rest.pop()
        subclasses.append(sub)
        rest.extend(sub.__subclasses__())
    return any(sub.__mro__[sub.__mro__.index(cls) + 1:] != cls.__mro__[1:] for sub in subclasses)


_LITERALS = (int, float, bool, str, type(None))


def _one_expression(fn) -> bool:
    """Whether ``fn``'s body is ``return <expression>`` (``sigmoid``, ``relu``): inlined, its
    result's shape is known where it is used, and no call of generated code is made for it."""
    try:
        body = parse_function(fn).tree.body
    except AdError:
        return False
    if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant):
        body = body[1:]  # (a docstring)
    return len(body) == 1 and isinstance(body[0], gast.Return) and body[0].value is not None


def literal_defaults(fn, args):
    """``(defaults, kw_defaults)`` of the parsed ``args`` of ``fn``, as constants of the values
    Python bound when ``fn`` was defined (``k=K`` of a module-level ``K = 1.0``: 1.0, whatever
    ``K`` holds now), or None when one is not a number, string, None or a tuple of those."""
    def literal(value):
        if isinstance(value, tuple):
            parts = [literal(v) for v in value]
            return None if None in parts else gast.Tuple(elts=parts, ctx=gast.Load())
        return const(value) if value.__class__ in _LITERALS else None

    defaults = [literal(v) for v in fn.__defaults__ or ()]
    given = fn.__kwdefaults__ or {}
    kw_defaults = [literal(given[a.id]) if a.id in given else None for a in args.kwonlyargs]
    if None in defaults or any(d is None and a.id in given
                               for d, a in zip(kw_defaults, args.kwonlyargs)):
        return None
    return defaults, kw_defaults
