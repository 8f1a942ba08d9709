"""The classes of the user's objects that names hold, read from the code: the one class whose
objects every ``return`` of a function makes (``returned_class``: ``return Vec(...)``), and the
class of a name bound more than once, to such objects only (``rebound_classes``: ``pos = pos +
vel * dt`` in a loop, ``pos`` first ``Vec(x, y)``), so that its operators and methods are that
class's; and namedtuples of a known class made (``Cls(a, b)``, ``Cls(*xs)``, ``Cls._make(xs)``),
changed (``b._replace(f=v)``) and read as dicts (``b._asdict()``), as the calls of a helper with
a rule and displays.
"""
from __future__ import annotations

import builtins
import dataclasses
import inspect
import types

import gast

from .. import effects, runtime
from ..errors import AdError
from ..ir import const, copy_tree, name, walk
from ..parse import is_user_function, parse_function
from ..resolve import local_names
from ..rules.helpers.records import as_namedtuple, fields_dict


class ReturnedObjects:
    """Names of objects of a known class that calls return (a mixin of the ``Normalizer``)."""

    def factory(self, value):
        """The parsed function of the user's ``value`` calls when its one ``return``, last, makes
        an object of a class whose ``__init__`` can be inlined (``def make_lowpass(k): return
        Biquad(k, k, k - 1)``) and it can be inlined itself: the object is then made here;
        else None."""
        if not isinstance(value, gast.Call) or not self.is_global(value.func) \
                or self.bind_object is None or self.generated:
            return None
        fn = self.resolver.resolve(value.func)
        holder = self.constructor_holder(value, fn)
        if holder is not None:  # (Gauss.standard() of a classmethod: cls is Gauss)
            fn = fn.__func__
        elif not isinstance(fn, types.FunctionType) or isinstance(fn, type):
            return None
        parsed = self.inlinable(fn, value, value.args, always=True)
        if parsed is None:
            return None
        if holder is not None:
            parsed = self.class_bound(parsed, holder)
            if parsed is None:
                return None
        body = parsed.tree.body
        returns = [n for st in body for n in walk(st) if isinstance(n, gast.Return)]
        last = body[-1] if body else None
        if returns != [last] or not isinstance(last.value, gast.Call) \
                or not isinstance(last.value.func, gast.Name):
            return None
        cls = fn.__globals__.get(last.value.func.id)
        return parsed if isinstance(cls, type) and self.defined_here(cls) \
            and last.value.func.id not in local_names(parsed.tree) else None

    def constructor_holder(self, value, fn):
        """For ``Cls.make(args)`` calling a classmethod of ``Cls``, a class of the user's named
        by a global name: that name; else None."""
        func = value.func
        if isinstance(fn, types.MethodType) and isinstance(fn.__self__, type) \
                and isinstance(fn.__func__, types.FunctionType) \
                and isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and self.resolver.resolve(func.value) is fn.__self__:
            return func.value.id
        return None

    @staticmethod
    def class_bound(parsed, holder):
        """The classmethod ``parsed`` with its first parameter (``cls``) read as the global name
        ``holder`` of its class and no longer a parameter; None when it rebinds ``cls``."""
        tree = parsed.tree
        first = (tree.args.posonlyargs + tree.args.args)[:1]
        if not first or any(isinstance(n, gast.Name) and n.id == first[0].id
                            and not isinstance(n.ctx, gast.Load)
                            for st in tree.body for n in walk(st)):
            return None
        tree = copy_tree(tree, {first[0].id: holder})
        if tree.args.posonlyargs:
            tree.args.posonlyargs = tree.args.posonlyargs[1:]
        else:
            tree.args.args = tree.args.args[1:]
        return dataclasses.replace(parsed, tree=tree)

    def note_result_class(self, target, value):
        """After ``target = value`` (flattened; ``target`` bound once): when ``value`` calls a
        function or a method of an object of a known class whose every ``return`` makes an object
        of one plain class of the user's (``return Vec(self.x + o.x, ...)``, ``return self``),
        ``target`` is known to hold one (its operators and methods are then that class's)."""
        self.note_display_class(target, value)
        self.check_returned_list(target, value)
        if self.held_object_class(target, value):
            return
        if isinstance(value, gast.Name) and value.id in self.object_classes \
                and target not in self.bound_twice and target not in self.object_classes:
            self.object_classes[target] = self.object_classes[value.id]  # (model = est)
            self.returned_objects.add(target)
            return
        if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) \
                and value.value.id in self.list_classes and target not in self.bound_twice \
                and not isinstance(value.slice, gast.Slice):
            self.object_classes[target] = self.list_classes[value.value.id]  # (vs[i]: a Vec)
            if value.value.id not in self.argument_lists:
                self.returned_objects.add(target)
            else:
                self.entry_objects.add(target)
            # (else an entry of a list argument: its methods are inlined as an object
            # argument's, and what they store into it is stored back into the list, see
            # planning/objects.py)
            return
        if not isinstance(value, gast.Call) or target in self.bound_twice \
                or self.bind_object is None:
            return
        func, receiver = value.func, None
        args = [self.object_classes.get(a.id) if isinstance(a, gast.Name) else None
                for a in value.args]
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.value.id in self.object_classes:
            receiver = self.object_classes[func.value.id]
            fn = inspect.getattr_static(receiver, func.attr, None)
            fn = fn.__func__ if isinstance(fn, staticmethod) else fn
        else:
            fn = self.resolver.resolve(func)
            if args and args[0] is not None \
                    and "." in getattr(fn, "__qualname__", ""):  # (Vec_mul(v, k): Vec.__mul__)
                receiver, args = args[0], args[1:]
        cls = returned_class(fn, receiver, arg_classes=args)
        if cls is not None:
            self.object_classes[target] = cls
            self.returned_objects.add(target)
        made = self.resolver.resolve(value.args[0]) if fn is as_namedtuple and value.args \
            else returned_class(fn, receiver, _namedtuple_class)
        if _namedtuple_class(made):  # (b = Belief(m, c), or a function returning one)
            self.namedtuples[target] = made

    def check_returned_list(self, target, value):
        """After ``F = forces(pos)``, a list of objects of one class known by the called
        function's code (``element_classes``): checked to be one where it runs, as the code that
        follows is right for that class only."""
        cls = self.list_classes.get(target)
        if cls is None or not isinstance(value, gast.Call) or self.bind_object is None:
            return
        error = self.loc.error("%s is differentiated as a list of objects of class %s, as the "
                               "function called makes it, but it holds others where it runs"
                               % (target, cls.__name__), self.out[-1],
                               hint="keep the entries of one class")
        self.emit(gast.Expr(value=gast.Call(
            func=name(self.helper("check_entry_classes", runtime.check_entry_classes)),
            args=[gast.Tuple(elts=[name(target)], ctx=gast.Load()),
                  gast.Tuple(elts=[name(self.helper(cls.__name__, cls))], ctx=gast.Load()),
                  name(self.helper("refusal", runtime.Refusal(error)))], keywords=[])),
            self.out[-1])

    def namedtuple_made(self, node, s):
        """``Cls(a, b=v)`` of a namedtuple class (``typing.NamedTuple``,
        ``collections.namedtuple``): ``as_namedtuple(Cls, (a, v))``, its arguments bound to the
        fields in order (defaults too), a call with a rule (``Cls(*values)`` and
        ``Cls._make(values)``: ``as_namedtuple(Cls, tuple(values))``); None for other calls."""
        func = node.func
        made = isinstance(func, gast.Attribute) and func.attr == "_make" and len(node.args) == 1 \
            and not node.keywords  # (Cls._make(values))
        cls = self.resolver.resolve(func.value if made else func) \
            if self.is_global(func.value if made else func) else None
        if not (isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")
                and hasattr(cls, "_make")) or self.bind_object is None \
                or any(k.arg is None for k in node.keywords):
            return None
        helper = self.helper("as_namedtuple", as_namedtuple)
        starred = len(node.args) == 1 and isinstance(node.args[0], gast.Starred) \
            and not node.keywords  # (Cls(*values))
        if made or starred:  # (its fields in order: a sequence of as many values)
            values = node.args[0].value if starred else node.args[0]
            entries = gast.Call(func=name(self.helper("tuple", tuple)), args=[values], keywords=[])
            return gast.Call(func=name(helper), args=[
                func.value if made else func, self.atom(entries, s)], keywords=[])
        if any(isinstance(a, gast.Starred) for a in node.args):
            return None
        given = dict(zip(cls._fields, node.args))
        for k in node.keywords:
            if k.arg not in cls._fields or k.arg in given:
                raise self.loc.error("%s() got an unexpected or repeated argument %r"
                                     % (cls.__name__, k.arg), node)
            given[k.arg] = k.value
        if len(node.args) > len(cls._fields):
            raise self.loc.error("too many arguments for %s()" % cls.__name__, node)
        defaults = getattr(cls, "_field_defaults", {})
        missing = [f for f in cls._fields if f not in given and f not in defaults]
        if missing:
            raise self.loc.error("%s() is missing the field %r" % (cls.__name__, missing[0]), node)
        values = [self.atom(given[f], s) if f in given else self.atom(
            gast.Constant(value=defaults[f], kind=None), s) for f in cls._fields]
        return gast.Call(func=name(helper), args=[node.func, self.atom(
            gast.Tuple(elts=values, ctx=gast.Load()), s)], keywords=[])

    def namedtuple_replaced(self, node):
        """``b._replace(field=v)`` for ``b`` a namedtuple of a known class: the call of the class
        with ``b``'s other fields (made as ``namedtuple_made`` makes it); else None."""
        func = node.func
        if not (isinstance(func, gast.Attribute) and func.attr == "_replace" and not node.args
                and self.namedtuple_class(func.value) is not None
                and all(k.arg is not None for k in node.keywords)):
            return None
        cls = self.namedtuple_class(func.value)
        changed = {k.arg: k.value for k in node.keywords}
        unknown = sorted(set(changed) - set(cls._fields))
        if unknown:
            raise self.loc.error("%s._replace() got an unexpected field %r"
                                 % (cls.__name__, unknown[0]), node)
        return gast.Call(func=name(self.helper(cls.__name__, cls)), args=[], keywords=[
            gast.keyword(arg=f, value=changed.get(f) or gast.Attribute(
                value=func.value, attr=f, ctx=gast.Load())) for f in cls._fields])

    def namedtuple_class(self, node):
        """The namedtuple class of the name ``node``: one bound here to a namedtuple of a known
        class, or a module-level namedtuple (``P0 = P(1.0, 2.0)``); else None."""
        if not isinstance(node, gast.Name):
            return None
        if node.id in self.namedtuples:
            return self.namedtuples[node.id]
        value = self.resolver.resolve(node) if self.is_global(node) else None
        return type(value) if _namedtuple_class(type(value)) else None

    def namedtuple_as_dict(self, node, s):
        """``b._asdict()``: the dict display of its fields for a namedtuple of a known class
        (``{'a': b.a, 'b': b.b}``), else ``fields_dict(b)``, checked to be a namedtuple's where
        it runs; None for an object of a class of the user's, or another call."""
        func = node.func
        if not (isinstance(func, gast.Attribute) and func.attr == "_asdict" and not node.args
                and not node.keywords):
            return None
        receiver = func.value
        made = self.resolver.resolve(receiver.func) \
            if isinstance(receiver, gast.Call) and self.is_global(receiver.func) else None
        cls = made if _namedtuple_class(made) else self.namedtuple_class(receiver)
        if cls is None:
            if isinstance(receiver, gast.Name) and receiver.id in self.object_classes:
                return None  # (an object of a class of the user's: its own method)
            # (a namedtuple of a class known when it runs, such as an argument: checked there)
            return gast.Call(func=name(self.helper("fields_dict", fields_dict)),
                             args=[self.atom(receiver, s)], keywords=[])
        if isinstance(receiver, gast.Call):  # (P(a, b)._asdict())
            receiver = self.atom(receiver, s)
        return self.display(gast.Dict(
            keys=[gast.Constant(value=f, kind=None) for f in cls._fields],
            values=[gast.Attribute(value=copy_tree(receiver), attr=f, ctx=gast.Load())
                    for f in cls._fields]), s)

    def returned_object_method(self, node):
        """``v.method(args)`` for ``v`` an object a called function returned (see
        ``note_result_class``), a namedtuple of a known class, or an entry of a list of objects
        of one class whose method writes into nothing: the call of its class's function,
        ``Vec.method(v, args)`` (differentiated through its source like any function of the
        user's); else None."""
        func = node.func
        if not (isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name)
                and func.value.id in self.returned_objects | self.entry_objects
                | set(self.namedtuples)):
            return None
        cls = self.object_classes.get(func.value.id) or self.namedtuples[func.value.id]
        fn = inspect.getattr_static(cls, func.attr, None)
        static = isinstance(fn, staticmethod)
        fn = fn.__func__ if static else fn
        if not isinstance(fn, types.FunctionType) or (
                func.value.id in self.entry_objects
                and effects.written_parameters(fn, nested=True)) or (
                self.inline_all and func.value.id in self.object_classes):
            # (an entry's method writing into it is inlined, and every method when attributes
            # are followed by identity: writing_method)
            return None
        label = self.helper("%s_%s" % (cls.__name__, fn.__name__.strip("_")), fn)  # (Vec_add)
        call = gast.Call(func=name(label), args=([] if static else [func.value]) + node.args,
                         keywords=node.keywords)
        call.ad_not_inlined = True  # (the object is held elsewhere: its writes are the callee's)
        return call


    def known_isinstance(self, node):
        """For ``isinstance(v, C)`` with ``v`` a name holding an object of a known class (an
        object argument, one made here or returned by a call; see ``object_classes``) and ``C`` a
        global class or tuple of classes: the constant whether ``v``'s class is one of ``C``'s
        (a method such as ``__add__`` picking how to read its operand: ``o.a if isinstance(o,
        V) else o``); else None."""
        if not (isinstance(node, gast.Call) and len(node.args) == 2 and not node.keywords
                and self.is_global(node.func) and self.resolver.resolve(node.func) is isinstance
                and isinstance(node.args[0], gast.Name)
                and node.args[0].id in self.object_classes and self.is_global(node.args[1])):
            return None
        kinds = self.resolver.resolve(node.args[1])
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        if not all(isinstance(k, type) for k in kinds):
            return None
        return const(issubclass(self.object_classes[node.args[0].id], kinds))

    def picked_arm(self, node):
        """The arm of ``a if isinstance(o, C) else b`` Python picks for ``o`` of a known class
        (the other may not run on it: ``o.a`` of a number); else ``node``."""
        known = self.known_isinstance(node.test) if isinstance(node, gast.IfExp) else None
        return node if known is None else node.body if known.value else node.orelse

    def receiver_class_call(self, node):
        """``type(v)(args)`` or ``v.__class__(args)`` for ``v`` an object of a known class: the
        call of that class (an object made here, ``Vec(args)``); else None."""
        func = node.func
        if isinstance(func, gast.Call) and len(func.args) == 1 and not func.keywords \
                and self.resolver.resolve(func.func) is type:
            held = func.args[0]
        elif isinstance(func, gast.Attribute) and func.attr == "__class__":
            held = func.value
        else:
            return None
        cls = self.object_classes.get(held.id) if isinstance(held, gast.Name) else None
        if cls is None:
            return None
        return gast.Call(func=name(self.helper(cls.__name__, cls)), args=node.args,
                         keywords=node.keywords)

_OPERATORS = OPERATOR_NAMES = {
    gast.Add: "add", gast.Sub: "sub", gast.Mult: "mul", gast.Div: "truediv",
    gast.MatMult: "matmul", gast.Pow: "pow", gast.BitOr: "or", gast.BitAnd: "and",
    gast.BitXor: "xor"}


def _plain_class(cls) -> bool:
    """A class of the user's whose call makes an object of exactly that class."""
    return isinstance(cls, type) and type(cls).__call__ is type.__call__ \
        and cls.__new__ is object.__new__ \
        and isinstance(inspect.getattr_static(cls, "__init__", None), types.FunctionType)


def returns_namedtuples(fn) -> bool:
    """Whether every ``return`` of the user's function ``fn`` makes a namedtuple of one class
    (``return Belief(m, c)``): its result is a container, read by position and by field."""
    cls = returned_class(fn, None, _namedtuple_class)
    return cls is not None


def _namedtuple_class(cls) -> bool:
    return isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")


_READING: set = set()  # (functions whose returns are being read: recursion reads nothing more)


def returned_class(fn, receiver, accept=_plain_class, arg_classes=()):
    """The one plain class of the user's whose objects every ``return`` of ``fn`` makes
    (``Cls(...)``, ``self`` or ``type(self)(...)`` for a method of ``receiver``, an operator or
    call on objects of known classes: ``s + k * dt``, a local name bound to such objects only),
    given the classes of its first positional arguments (``arg_classes``); else None."""
    bound_class = None
    if isinstance(fn, types.MethodType) and isinstance(fn.__self__, type):
        fn, bound_class = fn.__func__, fn.__self__  # (a classmethod: cls(...) makes that class)
    tree = readable_tree(fn)
    if tree is None:
        return None
    params = [a.id for a in tree.args.args]
    if bound_class is not None and params:
        params = params[1:]
        holder = tree.args.args[0].id
    this = params[0] if receiver is not None and params else None
    known = {p: c for p, c in zip(params[1:] if this else params, arg_classes) if c is not None}
    if this is not None:
        known[this] = receiver

    def resolve(node):
        if bound_class is not None and isinstance(node, gast.Name) and node.id == holder:
            return bound_class
        return _resolve_in(node, fn)
    found, local = set(), None
    for node in _own_nodes(tree.body):
        if not isinstance(node, gast.Return):
            continue
        value = node.value
        made = value.func if isinstance(value, gast.Call) else None
        if this is not None and (
                (isinstance(value, gast.Name) and value.id == this)
                or (isinstance(made, gast.Call) and isinstance(made.func, gast.Name)
                    and made.func.id == "type" and len(made.args) == 1
                    and isinstance(made.args[0], gast.Name) and made.args[0].id == this)
                or (isinstance(made, gast.Attribute) and made.attr == "__class__"
                    and isinstance(made.value, gast.Name) and made.value.id == this)):
            found.add(receiver)
            continue
        if accept is not _plain_class:  # (a namedtuple's class, called)
            cls = _resolve_in(made, fn) if made is not None else None
        else:
            _READING.add(fn)
            try:
                if local is None:
                    local = rebound_classes(tree.body, resolve, known, set(params))
                cls = _class_of(value, resolve, {**known, **local}) if value is not None else None
            finally:
                _READING.discard(fn)
        if not accept(cls):
            return None
        found.add(cls)
    return found.pop() if len(found) == 1 and accept(next(iter(found))) else None


def readable_tree(fn):
    """The parsed tree of the user's function ``fn`` whose returns may be read now (not one being
    read: recursion reads nothing more); else None."""
    if not isinstance(fn, types.FunctionType) or not is_user_function(fn) or fn in _READING:
        return None
    try:
        return parse_function(fn).tree
    except AdError:
        return None


def _own_nodes(body):
    """The nodes of ``body``, not those of functions or classes defined in it."""
    for st in body:
        if isinstance(st, (gast.FunctionDef, gast.ClassDef, gast.Lambda)):
            continue
        yield st
        for child in gast.iter_child_nodes(st):
            if not isinstance(child, (gast.FunctionDef, gast.ClassDef, gast.Lambda)):
                yield from _own_nodes([child])


def _resolve_in(node, fn):
    """The object ``node`` (a name or attribute chain) denotes in ``fn``'s module."""
    if isinstance(node, gast.Name):
        return fn.__globals__.get(node.id, getattr(builtins, node.id, None))
    if isinstance(node, gast.Attribute):
        base = _resolve_in(node.value, fn)
        return getattr(base, node.attr, None) if base is not None else None
    return None


def rebound_classes(body, resolve, known, params, param_classes=None) -> dict:
    """Name -> class for each name ``body`` binds more than once whose every binding is an object
    of that one plain class of the user's: made there (``Vec(x, y)``), or returned by an
    operator, a method or a function whose returns are (``returned_class``), on names of known
    classes (``known``: object arguments, objects made here; these names themselves, found
    together to a fixed point; not ``params``, whose first value is the caller's, unless
    ``param_classes`` gives its class: ``q = q * dq`` of an argument ``q`` of that class)."""
    param_classes = param_classes or {}
    values, seen = {}, set()
    for node in (n for st in body for n in walk(st)):
        if isinstance(node, gast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], gast.Name):
            values.setdefault(node.targets[0].id, []).append(node.value)
            seen.add(id(node.targets[0]))
        elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
            values.setdefault(node.target.id, []).append(
                gast.BinOp(left=gast.Name(id=node.target.id, ctx=gast.Load(), annotation=None,
                                          type_comment=None), op=node.op, right=node.value))
            seen.add(id(node.target))
        elif isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store) \
                and id(node) not in seen:
            values.setdefault(node.id, []).append(None)  # (bound otherwise: a loop, unpacking)
    found = {}
    candidates = {n: v for n, v in values.items() if None not in v
                  and (n not in params or n in param_classes)}
    for _ in range(len(candidates) + 1):
        before = dict(found)
        for n, exprs in candidates.items():
            classes = {_class_of(e, resolve, {**known, **found}) for e in exprs} - {None}
            classes |= {param_classes[n]} if n in param_classes else set()
            if len(classes) == 1:
                found[n] = classes.pop()
        if found == before:
            break
    for _ in range(len(found) + 1):  # (every binding, with every class found: or none)
        wrong = [n for n in found if any(_class_of(e, resolve, {**known, **found}) is not found[n]
                                         for e in candidates[n])
                 or param_classes.get(n, found[n]) is not found[n]]
        for n in wrong:
            del found[n]
        if not wrong:
            break
    return found


def _class_of(expr, resolve, classes):
    """The class of the object ``expr`` makes or returns, by ``classes`` of names (and of the
    entries of lists: ``vs[]``); else None."""
    if isinstance(expr, gast.Name):
        return classes.get(expr.id)
    if isinstance(expr, gast.Subscript) and isinstance(expr.value, gast.Name) \
            and not isinstance(expr.slice, gast.Slice):
        return classes.get(expr.value.id + "[]")
    if isinstance(expr, gast.Call):
        func = expr.func
        args = [_class_of(a, resolve, classes) for a in expr.args]
        made = resolve(func)
        if _plain_class(made):
            return made
        if isinstance(func, gast.Attribute):
            receiver = _class_of(func.value, resolve, classes)
            if receiver is not None:
                return returned_class(inspect.getattr_static(receiver, func.attr, None),
                                      receiver, arg_classes=args)
        return returned_class(made, None, arg_classes=args) \
            if isinstance(made, types.FunctionType) else None
    if isinstance(expr, gast.BinOp) and type(expr.op) in _OPERATORS:
        verb = _OPERATORS[type(expr.op)]
        left = _class_of(expr.left, resolve, classes)
        right = _class_of(expr.right, resolve, classes)
        if left is not None:
            return returned_class(inspect.getattr_static(left, "__%s__" % verb, None), left,
                                  arg_classes=[right])
        if right is not None and isinstance(expr.left, gast.Constant):
            return returned_class(inspect.getattr_static(right, "__r%s__" % verb, None), right,
                                  arg_classes=[None])
    if isinstance(expr, gast.IfExp):  # (F[i] + f if i > 0 else F[i])
        arms = {_class_of(e, resolve, classes) for e in (expr.body, expr.orelse)}
        return arms.pop() if len(arms) == 1 else None
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        operand = _class_of(expr.operand, resolve, classes)
        if operand is not None:
            return returned_class(inspect.getattr_static(operand, "__neg__", None), operand)
    return None
