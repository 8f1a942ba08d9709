"""Objects held in the attributes of an object made in the function (``self.cell = Cell(w)``,
``self.layers = [Dense(), Dense()]``, or appended one by one in ``__init__``): the class every
store (and append) gave an attribute, so that what a later read of it gives is known to be an
object (or a list of objects) of that class, whose writing methods are inlined and what they
store stored back into the attribute (planning/entries.py); refused when another use may have
changed what it holds (``check_held_classes``).
"""
from __future__ import annotations

import inspect
import types

import gast

from .. import effects, runtime
from ..ir import assign, const, copy_tree, name, walk
from .classes import OPERATOR_NAMES
from .expressions import Renamer, index_value

# the most entries of a list of objects of different classes a loop over it is unrolled for
_UNROLLED = 32


class HeldObjects:
    """Classes of the objects attributes hold (a mixin of the ``Normalizer``)."""

    def hides_a_method(self, value, attr) -> bool:
        """Whether ``value.attr = v`` on an object of a known class stores an attribute named as
        a function of its class (``self.act = act`` next to ``def act``): Python then calls it,
        not the method."""
        cls = self.object_classes.get(getattr(value, "id", None))
        return cls is not None and isinstance(
            inspect.getattr_static(cls, attr, None),
            (types.FunctionType, staticmethod, classmethod))

    def note_held_class(self, obj, attr, value):
        """After ``obj.attr = value`` into an object made here: the class of the object (or of
        every object of the list) ``value`` is, when known (``self.layers = [Dense(), Dense()]``
        of ``Net.__init__``), so that what ``obj.attr`` later gives is known to be one; None
        once two stores disagree or one is not known."""
        if obj not in self.made_objects:
            return
        key, held = (obj, attr), None
        self.given_dicts[key] = self.given_dicts.get(key, True) and self.makes_a_dict(value)
        if isinstance(value, gast.Name) and self.held_names.get(value.id) == key:
            return  # (the list read from it, stored back: t = self.layers; t.append(d))
        if isinstance(value, gast.Name) and value.id in self.object_classes \
                and value.id not in self.caller_objects:
            held = self.object_classes[value.id]
        elif isinstance(value, gast.Name) and self.inline_all and value.id in self.list_classes:
            held = ("list", self.list_classes[value.id])  # (a list a builder made, inlined)
        elif isinstance(value, gast.Name) and self.inline_all \
                and isinstance(self.filled_classes.get(value.id), type):
            held = ("list", self.filled_classes[value.id])  # (self.layers = [L(..) for ..])
        elif isinstance(value, gast.Name):
            held = self.display_classes.get(value.id)
        self.held_classes[key] = _joined(self.held_classes.get(key, held), held)
        made = (self.object_classes.get(obj), attr)
        self.class_attributes[made] = _joined(self.class_attributes.get(made, held), held)

    def note_held_append(self, call):
        """After ``t.append(v)`` of a list ``t`` read from an attribute (``note_held_class``):
        that attribute's list holds ``v`` too."""
        func = call.func
        if isinstance(func, gast.Attribute) and func.attr == "append" and len(call.args) == 1 \
                and isinstance(func.value, gast.Name) and func.value.id in self.held_names:
            entry = call.args[0]
            added = ("list", self.object_classes[entry.id]) \
                if isinstance(entry, gast.Name) and entry.id in self.made_objects else None
            key = self.held_names[func.value.id]
            self.held_classes[key] = _joined(self.held_classes.get(key), added)

    def held_object_class(self, target, value) -> bool:
        """For ``target = obj.attr`` of an attribute whose class ``note_held_class`` knows:
        ``target`` is known to hold an object of it (its writing methods inlined, and what they
        store stored back into ``obj``: planning/entries.py), or a list of them; True if so."""
        if not (isinstance(value, gast.Attribute) and isinstance(value.value, gast.Name)):
            return False
        key = (value.value.id, value.attr)
        if key not in self.held_classes:
            return self.assumed_attribute_class(target, value)
        self.held_names[target] = key
        held = self.held_classes.get(key)
        if held is None or held == ("list", None) or target in self.object_classes \
                or target in self.list_classes:
            return False
        self.held_reads.setdefault((value.value.id, value.attr), self.out[-1])
        if isinstance(held, tuple) and held[0] == "seq":  # (known classes, one per position)
            self.positional[target] = held[1]
        elif isinstance(held, tuple):  # (a list of objects of one class)
            self.list_classes[target] = held[1]
            self.argument_lists.add(target)
        else:
            self.object_classes[target] = held
            self.entry_objects.add(target)
        return True

    def assumed_attribute_class(self, target, value) -> bool:
        """For ``target = b.pos`` of an object of a known class (an entry of a list of objects
        made here) whose ``pos`` every object of that class made here was given an object of one
        class (``class_attributes``): ``target`` holds one (its operators and methods are that
        class's), checked where it runs; True if so."""
        cls = self.object_classes.get(value.value.id)
        held = self.class_attributes.get((cls, value.attr)) if cls is not None else None
        if not isinstance(held, type) or target in self.object_classes \
                or target in self.bound_twice or self.bind_object is None:
            return False
        error = self.loc.error("%s.%s is differentiated as an object of class %s, as every %s "
                               "made here holds one there, but it is a %%s here"
                               % (value.value.id, value.attr, held.__name__, cls.__name__),
                               self.out[-1], hint="keep objects of one class in the attribute")
        self.emit(gast.Expr(value=gast.Call(
            func=name(self.helper("check_class", runtime.check_class)),
            args=[name(target), name(self.helper(held.__name__, held)),
                  name(self.helper("refusal", runtime.Refusal(error)))], keywords=[])),
            self.out[-1])
        self.object_classes[target] = held
        self.returned_objects.add(target)
        return True

    def receiver_first(self, node, s):
        """``Cls(a).run(x)``, or ``obj.attr.method(args)`` (or ``obj.attr(args)``) of an attribute
        whose class ``note_held_class`` knows: the call of the method of the object made (or
        read) into a name first, a method of an object of a known class (its writing methods
        inlined: ``self.cell.reset()``); ``node`` itself for other calls."""
        if isinstance(self.held_class(node.func, s), type):  # (self.readout(h): its __call__)
            return gast.Call(func=self.atom(node.func, s), args=node.args,
                             keywords=node.keywords)
        if not (isinstance(node.func, gast.Attribute) and (
                self.constructed_class(node.func.value) is not None
                or self.held_class(node.func.value, s) is not None
                or self.inline_all and self.entry_of_known_class(node.func.value))):
            return node
        receiver = self.atom(node.func.value, s)
        return gast.Call(func=gast.Attribute(value=receiver, attr=node.func.attr,
                                             ctx=gast.Load()), args=node.args,
                         keywords=node.keywords)

    def entry_of_known_class(self, node) -> bool:
        """Whether ``node`` is ``lst[i]`` of a list whose entries' class is known
        (``nodes[1].link(nodes[0])``: the entry read into a name first, its methods inlined)."""
        return isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) \
            and node.value.id in self.list_classes and not isinstance(node.slice, gast.Slice)

    def held_class(self, node, s):
        """For ``node`` ``obj.attr`` of an attribute whose class ``note_held_class`` knows: that
        class (or ``("list", cls)``); else None."""
        if not (isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name)):
            return None
        owner = self.expr(node.value, s)
        return self.held_classes.get((owner.id, node.attr)) \
            if isinstance(owner, gast.Name) else None

    def note_display_class(self, target, value):
        """After ``target = [a, b]``: ``("list", cls)`` when every entry is an object made here of
        the class ``cls`` (``[Dense(), Dense()]``)."""
        if isinstance(value, gast.List) and not value.elts:
            self.display_classes[target] = ("list", None)  # (objects of any class may follow)
        elif isinstance(value, gast.List) and all(
                isinstance(e, gast.Name) and e.id in self.made_objects for e in value.elts):
            classes = tuple(self.object_classes[e.id] for e in value.elts)
            if len(set(classes)) == 1:
                self.display_classes[target] = ("list", classes[0])
            elif len(classes) <= _UNROLLED:  # (Sequential([Linear(W), ReLU()]))
                self.display_classes[target] = ("seq", classes)
                if target not in self.bound_twice | self.growing | self.entries_stored:
                    self.positional[target] = classes

    def unrolled_loop(self, s) -> bool:
        """``for x in seq:`` (or ``reversed(seq)``) over a list of objects made here whose classes
        are known position by position (``self.layers`` of ``Sequential([Linear(W), ReLU()])``,
        or a local list made so), with no ``break`` or ``continue``: the body once per entry,
        ``x`` a new name bound to it each time, an object of that entry's class (its methods
        known, the writing ones inlined); True if so, else False (nothing emitted)."""
        it = s.iter
        if not isinstance(s.target, gast.Name) or getattr(s, "ad_break_flag", None) or any(
                isinstance(n, (gast.Break, gast.Continue)) for st in s.body for n in walk(st)):
            return False
        backwards = isinstance(it, gast.Call) and len(it.args) == 1 and not it.keywords \
            and self.resolver.resolve(it.func) is reversed  # (for layer in reversed(layers))
        if backwards:
            it = it.args[0]
        held = self.held_class(it, s)
        if not (isinstance(it, gast.Name) and it.id in self.positional) \
                and not (isinstance(held, tuple) and held[0] == "seq"):
            return False
        seq = self.atom(it, s)
        if getattr(seq, "id", None) not in self.positional:
            return False
        inside = sum(1 for st in s.body for n in walk(st) if isinstance(n, gast.Name)
                     and n.id == s.target.id and isinstance(n.ctx, gast.Load))
        classes = self.positional[seq.id]
        error = self.loc.error(
            "this loop is unrolled for the objects of classes %s, one each, the list was made "
            "with, but the list holds others where it runs" % ", ".join(
                c.__name__ for c in classes), s, hint="keep the list as it was made")
        self.emit(gast.Expr(value=gast.Call(
            func=name(self.helper("check_classes", runtime.check_classes)),
            args=[name(seq.id), gast.Tuple(elts=[name(self.helper(c.__name__, c))
                                                 for c in classes], ctx=gast.Load()),
                  name(self.helper("refusal", runtime.Refusal(error)))], keywords=[])), s)
        item = None
        order = list(enumerate(classes))
        for k, cls in reversed(order) if backwards else order:
            item = self.namer.fresh(s.target.id + "_")
            self.resolver.locals.add(item)
            self.emit(assign(item, gast.Subscript(value=name(seq.id), slice=const(k),
                                                  ctx=gast.Load())), s)
            self.object_classes[item] = cls
            self.entry_objects.add(item)
            for st in s.body:
                self.stmt(Renamer({s.target.id: item}).visit(copy_tree(st)))
        if item is not None and self.loads[s.target.id] > inside:  # (read after the loop)
            self.emit(assign(s.target.id, name(item)), s)
        return True

    def check_held_classes(self, body):
        """Refuse a class assumed for ``obj.attr`` (``held_object_class``) that a store later in
        the function, or another use of the list read from it or of ``obj`` (``held_use``), may
        have changed: its methods would not be those inlined."""
        for st in walk(gast.Module(body=body, type_ignores=[])):
            if isinstance(st, gast.stmt) and not isinstance(st, (gast.If, gast.For, gast.While)):
                for key in self.held_use(st):
                    self.held_classes[key] = None
        for key, read in self.dict_reads.items():
            if not self.given_dicts[key]:
                raise self.loc.error(
                    "%s.%s is read here as a dict, but is given something else later in the "
                    "function" % key, read, hint="keep a dict in the attribute")
        changed = sorted(k for k in self.held_reads if self.held_classes.get(k) is None)
        if changed:
            raise self.loc.error(
                "%s.%s holds objects of more than one class (or of one not known) here: its "
                "methods cannot be chosen where the code is generated" % changed[0],
                self.held_reads[changed[0]], hint="keep objects of one class in an attribute")

    def held_use(self, st) -> set:
        """The (object, attribute) pairs of ``held_classes`` the statement ``st`` may change
        other than as ``note_held_class`` and ``note_held_append`` follow: the list read from one
        used otherwise than by reading an entry or its length, appending to it or storing it
        back; the object given to a call that may write into it (not a method of its class, nor
        a function of the user's, that writes nothing)."""
        value = getattr(st, "value", None)
        out = set()
        for n in walk(st):
            key = self.held_names.get(n.id) if isinstance(n, gast.Name) \
                and isinstance(n.ctx, gast.Load) else None
            if key is not None and key in self.held_reads \
                    and isinstance(self.held_classes.get(key), tuple) and not (
                    (isinstance(value, gast.Subscript) and value.value is n
                     and not isinstance(value.slice, gast.Slice))
                    or (isinstance(value, gast.Call) and value.args and value.args[0] is n
                        and self.resolver.resolve(value.func) in (
                            len, runtime.check_by_position, runtime.check_classes))
                    or (isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute)
                        and value.func.value is n and value.func.attr == "append")
                    or (value is n and isinstance(st, gast.Assign)
                        and isinstance(st.targets[0], gast.Attribute)
                        and (getattr(st.targets[0].value, "id", None),
                             st.targets[0].attr) == key)):
                out.add(key)
        if isinstance(value, gast.Call):
            func, owners = value.func, {k[0] for k in self.held_reads}
            given = {a.id for a in value.args if isinstance(a, gast.Name)} & owners
            fn = self.resolver.resolve(func) if given else None
            if isinstance(fn, types.FunctionType) and not value.keywords \
                    and not any(isinstance(a, gast.Starred) for a in value.args):
                # (a function of the user's reading the object, evaluate(net, X): what it may
                # write into)
                written = effects.written_parameters(fn, nested=True)
                given = {a.id for a, p in zip(value.args, fn.__code__.co_varnames)
                         if isinstance(a, gast.Name) and a.id in given and p in written}
            if isinstance(func, gast.Attribute) and getattr(func.value, "id", None) in owners:
                fn = inspect.getattr_static(self.object_classes.get(func.value.id), func.attr,
                                            None)
                if not isinstance(fn, types.FunctionType) \
                        or effects.written_parameters(fn, nested=True):
                    given.add(func.value.id)
            out |= {k for k in self.held_reads if k[0] in given}
        return out


class HeldContainers:
    """Lists and dicts held in attributes and entries, written into in place (a mixin of the
    ``Normalizer``): read into a name, written, and given back to what holds them."""

    def held_container(self, node, s):
        """For ``x[k] = v`` whose ``x`` is ``obj.attr`` (a plain attribute of an object argument or
        an object made here) or ``d[key]`` (an entry of a name holding dicts or lists only):
        ``(name, store)``, the name ``x`` is read into and the store putting it back where it was,
        which ``stored_back`` emits after the write (the same object at run time, as in the plain
        call; the derivative follows the store: ``net.params['W1'] = W1``,
        ``state['m'][k] = v``), and the ``held_container`` of that holder when it is itself one
        (``self.history['I'].append(v)``, a dict the attribute of an object made here is only
        ever given: ``(name, store, outer)``). None for other targets."""
        if self.bind_object is None or self.generated:
            return None
        outer, inner = None, getattr(node, "value", None)
        if isinstance(node, gast.Subscript) and isinstance(inner, gast.Attribute) \
                and isinstance(inner.value, gast.Name) and self.held_dict(inner.value.id,
                                                                          inner.attr):
            outer = self.held_container(inner, s)
            node = gast.Subscript(value=name(outer[0]), slice=node.slice, ctx=node.ctx)
        if not isinstance(getattr(node, "value", None), gast.Name):
            return None
        holder = node.value.id
        if isinstance(node, gast.Attribute) and holder in self.object_classes \
                and self.property_getter(node.value, node.attr) is None \
                and not self.store_runs_code(node.value, node.attr):
            read = gast.Attribute(value=name(holder), attr=node.attr, ctx=gast.Load())
        elif isinstance(node, gast.Subscript) and holder in self.sure_dicts | self.sure_lists \
                and not isinstance(node.slice, (gast.Slice, gast.Tuple)):
            read = gast.Subscript(value=name(holder), slice=self.atom(node.slice, s),
                                  ctx=gast.Load())
        else:
            return None
        checked = outer is None and isinstance(read, gast.Attribute) \
            and self.checked_dict(holder, read.attr, s)
        base = self.temp()
        self.emit(assign(base, read), s)
        self.held_object_class(base, read)
        if checked:
            self.sure_dicts.add(base)
        back = copy_tree(read)
        back.ctx = gast.Store()
        return base, back, outer

    def stored_back(self, held, s):
        """The stores of ``held_container`` after the write into what it holds (the innermost
        holder's first)."""
        while held:
            self.out[-1].ad_written_back = held[1].value.id  # (the holder: see store_plan)
            self.emit(assign(held[1], name(held[0])), s)
            held = held[2]

    def makes_a_dict(self, value) -> bool:
        """Whether the atom ``value`` is a name holding dicts only, or a temporary bound to a
        dict display or comprehension just before (``self.history = {'I': []}``)."""
        if not isinstance(value, gast.Name) or value.id in self.parameters:
            return False  # (a caller's dict: what else holds its lists is not known here)
        if value.id in self.sure_dicts:
            return True
        if value.id not in self.temps and value.id not in self.spelled_as:
            return False  # (a temporary, or an inlined function's parameter, is bound once)
        return self.binds_a_dict(self.out, value.id)

    def binds_a_dict(self, stmts, var) -> bool:
        """Whether the last statement of ``stmts`` binding ``var`` binds it to a dict display or
        comprehension, None, or a name ``makes_a_dict`` (``if``: in both arms)."""
        for st in reversed(stmts):
            if isinstance(st, gast.If) and any(
                    isinstance(n, gast.Name) and n.id == var and isinstance(n.ctx, gast.Store)
                    for n in walk(st)):
                return self.binds_a_dict(st.body, var) and self.binds_a_dict(st.orelse, var)
            if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name) \
                    and st.targets[0].id == var:
                made = st.value  # (None: an arm not taken, else refused where it is read)
                return isinstance(made, (gast.Dict, gast.DictComp)) or (
                    isinstance(made, gast.Constant) and made.value is None) or (
                    isinstance(made, gast.Name) and made.id != var and self.makes_a_dict(made))
        return False

    def checked_dict(self, obj, attr, s) -> bool:
        """Before ``obj.attr`` is read as a dict (``held_dict``): the check that it is one where
        it runs, emitted; True if so."""
        if not self.held_dict(obj, attr):
            return False
        error = self.loc.error(
            "%s.%s is differentiated as a dict (this function stores only dicts there), but it "
            "is a %%s here" % (obj, attr), s,
            hint="store a dict there, or pass the value as an argument")
        self.emit(gast.Expr(value=gast.Call(
            func=name(self.helper("check_dict_attribute", runtime.check_dict_attribute)),
            args=[name(obj), const(attr), name(self.helper("refusal", runtime.Refusal(error)))],
            keywords=[])), s)
        self.dict_reads.setdefault((obj, attr), s)
        return True

    def held_dict(self, obj, attr) -> bool:
        """Whether ``obj.attr`` of an object made here was given dicts only so far (see
        ``check_held_classes`` for a later store of something else)."""
        return obj in self.made_objects and self.given_dicts.get((obj, attr), False)


    def item_update(self, s) -> bool:
        """``obj[k] op= v`` of an object ``item_set`` covers: as Python runs it, the item read
        (``__getitem__``), updated as a name's value is (in place for an array), and set back
        (``__setitem__``); False for other statements."""
        target = s.target
        if not (isinstance(target, gast.Subscript) and self.has_item_methods(target.value)):
            return False
        item = self.temp()
        self.stmt(gast.copy_location(gast.Assign(targets=[name(item, True)], value=gast.Subscript(
            value=target.value, slice=target.slice, ctx=gast.Load()), type_comment=None), s))
        self.stmt(gast.copy_location(gast.AugAssign(target=name(item, True), op=s.op,
                                                    value=s.value), s))
        self.item_set(target, name(item), s)
        return True

    def in_place_operator(self, s) -> bool:
        """``z op= w`` of an object of a class of the user's defining ``__iop__`` (``__iadd__``,
        ``__ior__``...): ``z = z.__iop__(w)``, as Python runs it (not ``z = z op w``); False
        for other statements."""
        target = s.target
        cls = self.object_classes.get(target.id) if isinstance(target, gast.Name) else None
        verb = OPERATOR_NAMES.get(type(s.op))
        method = "__i%s__" % verb
        if cls is None or verb is None \
                or not isinstance(inspect.getattr_static(cls, method, None), types.FunctionType):
            return False
        call = gast.Call(func=gast.Attribute(value=name(target.id), attr=method, ctx=gast.Load()),
                         args=[s.value], keywords=[])
        self.assign_to(target.id, call, s)
        return True

    def rewritten_update(self, s) -> bool:
        """``x op= v`` as Python runs it where that is not an arithmetic update: ``d |= e``
        (``d.update(e)``), ``obj[k] += v`` of a user's container class, ``z += w`` of a class
        with ``__iadd__``; True if so (refused: a list an object holds extended in place)."""
        return self.dict_update(s) or self.item_update(s) or self.in_place_operator(s) \
            or self.held_extension(s)

    def held_extension(self, s) -> bool:
        """Refuse ``obj.h[k] += [v]``: the list an object or a container holds, extended in place
        (its derivative is not followed there); False otherwise."""
        target = s.target
        if isinstance(target, gast.Subscript) and isinstance(s.value, (gast.List, gast.Tuple)) \
                and isinstance(target.value, (gast.Attribute, gast.Subscript)):
            self.unsupported(s, "extending a list held by an object or a container with += [...]",
                             "call its extend method: %s.extend(...)"
                             % gast.unparse(target).strip())
        return False

    def has_item_methods(self, obj) -> bool:
        """Whether ``obj`` is a name of an object of a class of the user's whose
        ``__getitem__`` and ``__setitem__`` are Python functions."""
        cls = self.object_classes.get(getattr(obj, "id", None)) \
            if isinstance(obj, gast.Name) else None
        return cls is not None and all(
            isinstance(inspect.getattr_static(cls, m, None), types.FunctionType)
            for m in ("__getitem__", "__setitem__"))

    def item_set(self, target, value, s) -> bool:
        """``obj[k] = v`` of an object of a class of the user's with a ``__getitem__`` and a
        ``__setitem__``: that method called (``obj.__setitem__(k, v)``, as Python does); False
        for other stores."""
        obj = target.value
        if not self.has_item_methods(obj):
            return False
        method = gast.Attribute(value=obj, attr="__setitem__", ctx=gast.Load())
        key = index_value(target.slice, name(self._builtin("slice")))
        self.stmt(gast.copy_location(gast.Expr(value=gast.Call(func=method, args=[key, value],
                                                               keywords=[])), s))
        return True


def _joined(known, added):
    """What an attribute holds once it was given ``known`` and then ``added`` (classes, or
    ``("list", cls)`` with ``cls`` None for an empty list): the one class, else None."""
    if isinstance(known, tuple) and isinstance(added, tuple) and None in (known[1], added[1]):
        return known if added[1] is None else added
    return known if known == added else None
