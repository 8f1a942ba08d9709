"""The ``Normalizer``'s stores: an augmented assignment spelled out (``x op= v`` on a name, an
element or an attribute, in place as Python does it for arrays and lists), and the stores into
names, elements, attributes and tuples every assignment ends in.
"""
from __future__ import annotations

import types

import gast
import numpy as np

from .. import runtime
from ..ir import assign, const, copy_tree, is_atom, name, walk
from ..resolve import MISSING


class Stores:
    """Store methods of the ``Normalizer`` (a mixin)."""

    def stmt_AugAssign(self, s):
        if self.rewritten_update(s):
            return
        target = self.through_flat(s.target)
        if isinstance(target, gast.Name):
            self.assign_to(target.id, gast.BinOp(left=name(target.id), op=s.op, right=s.value), s)
            last = self.out[-1]
            last.ad_augmented = True  # in place for an array: see Aliasing.check_in_place_updates
            if self.bind_object is None or self.generated:
                return  # (generated code: owned adjoints of one dtype)
            if target.id in self.caller_objects:
                # the argument may be the caller's array (or list): Python writes the result into
                # it, and so does generated code (``x = in_place(x, t1)``: the caller sees it)
                helper = self.helper("in_place", runtime.in_place)
                last.ad_mutates = target.id
            else:
                # an array keeps its dtype (a float32 x += float64 stays float32); a number is
                # rebound (planning drops the helper where the kind says a number)
                helper = self.helper("keep_dtype", runtime.keep_dtype)
            last.value = gast.Call(func=name(helper), args=[name(target.id), last.value],
                                   keywords=[])
            return
        if isinstance(target, gast.Subscript):
            held = self.held_container(target.value, s)
            base = held[0] if held else self.store_base(target.value, s)
            index = self.index(target.slice, s)
            old = self.temp()
            self.emit(assign(old, gast.Subscript(value=name(base), slice=index,
                                                 ctx=gast.Load())), s)
            new = self.atom(gast.BinOp(left=name(old), op=s.op, right=s.value), s)
            if self.bind_object is not None:
                # d[k] += v on a list or dict: Python changes the array d[k] itself (everything
                # holding it sees the change); on an array it is x[k] = x[k] + v
                written = self.temp()
                helper = self.helper("element_in_place", runtime.element_in_place)
                call = gast.Call(func=name(helper), args=[name(base), name(old), new], keywords=[])
                self.emit(assign(written, call), s)
                self.out[-1].ad_mutates, self.out[-1].ad_element_of = old, base
                new = name(written)
            element = gast.Subscript(value=name(base), slice=copy_tree(index), ctx=gast.Store())
            self.emit(assign(element, new), s)
            self.stored_back(held, s)
            return
        if isinstance(target, gast.Attribute):
            # obj.n += v: updated as a name's value would be (an array in place, ``in_place``:
            # anything holding it sees the change), then stored back
            obj, old = self.attribute_owner(target.value, s), self.temp()
            read = gast.Attribute(value=name(obj), attr=target.attr, ctx=gast.Load())
            self.emit(assign(old, read), s)
            self.caller_objects.add(old)
            self.stmt_AugAssign(gast.copy_location(gast.AugAssign(target=name(old, True), op=s.op,
                                                                  value=s.value), s))
            self.out[-1].ad_attribute_update = True
            if self.property_setter(name(obj), target.attr) is None:
                self.out[-1].ad_written_back = obj  # (the holder gets it back next: stored_back)
            self.store(gast.Attribute(value=name(obj), attr=target.attr, ctx=gast.Store()),
                       name(old), s)
            return
        self.unsupported(target, "augmented assignment to %s" % type(target).__name__.lower(),
                         "assign to a local name or an element of a local array")

    def store(self, target, value, s):
        """Store an atom into any assignment target (names, subscripts, tuples)."""
        if isinstance(target, gast.Name):
            # (m = c = m: m = m is nothing)
            if not (isinstance(value, gast.Name) and value.id == target.id):
                self.emit(assign(target.id, value), s)
        elif isinstance(target, gast.Subscript):
            if self.slice_of_a_list(target, value, s) or self.item_set(target, value, s):
                return
            target = self.through_flat(target, value)
            held = self.held_container(target.value, s)
            base = held[0] if held else self.store_base(target.value, s)
            index = self.index(target.slice, s)
            element = gast.Subscript(value=name(base), slice=index, ctx=gast.Store())
            self.emit(assign(element, value), s)
            self.stored_back(held, s)
        elif isinstance(target, gast.Attribute):
            obj = self.attribute_owner(target.value, s)
            setter = self.property_setter(name(obj), target.attr)
            if setter is not None:  # (layer.scale = v, a property: its setter, called)
                call = gast.Call(func=name(self.helper(setter.__name__, setter)),
                                 args=[name(obj), value], keywords=[])
                self.emit(gast.Expr(value=self.call(call, s)), s)
                return
            if self.hides_a_method(name(obj), target.attr):
                error = self.loc.error(
                    "storing into %s.%s hides the method %s of its class, which the generated "
                    "code would call" % (obj, target.attr, target.attr), s,
                    hint="give the attribute another name than the method's")
                self.emit(self.refusal_call(error), s)  # (where it runs: a branch not taken)
            if self.store_runs_code(name(obj), target.attr):
                error = self.loc.error(
                    "storing into %s.%s runs code of its class (a descriptor or __setattr__) "
                    "that the derivative would not follow" % (obj, target.attr), s,
                    hint="store into a plain attribute, or make it a property whose setter is "
                         "a Python function")
                self.emit(self.refusal_call(error), s)  # (where it runs: a branch not taken)
            attribute = gast.Attribute(value=name(obj), attr=target.attr, ctx=gast.Store())
            self.emit(gast.Assign(targets=[attribute], value=value, type_comment=None), s)
            self.note_held_class(obj, target.attr, value)
        elif isinstance(target, (gast.Tuple, gast.List)):
            self.store_unpacked(target, value, s)
        else:
            self.unsupported(target, "assignment to %s" % type(target).__name__.lower(),
                             "assign to a local name, tuple of names or an element of a local "
                             "array")

    def store_unpacked(self, target, value, s):
        """``a, *rest, b = value``: each target bound to its entry (``rest`` to a list)."""
        value = self.iterated_object(value, s) or value  # (x, y = v: v.__iter__'s items)
        starred = [i for i, e in enumerate(target.elts) if isinstance(e, gast.Starred)]
        if len(starred) > 1 \
                or (starred and not isinstance(target.elts[starred[0]].value, gast.Name)):
            self.unsupported(target, "this starred unpacking", "index the sequence explicitly")
        n = len(target.elts)
        self.check_unpacking(value, n - len(starred), bool(starred), s)
        for i, elt in enumerate(target.elts):
            if starred and i == starred[0]:  # a, *rest, b = seq: rest = list(seq[1:-1])
                after = n - 1 - i
                part = gast.Subscript(value=value, slice=gast.Slice(
                    lower=const(i), upper=const(-after) if after else None, step=None),
                    ctx=gast.Load())
                self.assign_to(elt.value.id, gast.Call(func=name(self._builtin("list")),
                                                       args=[part], keywords=[]), s)
                continue
            # after the star: from the end
            index = i if not starred or i < starred[0] else i - n
            item = gast.Subscript(value=value, slice=const(index), ctx=gast.Load())
            if isinstance(elt, gast.Name):
                self.emit(assign(elt.id, item), s)
            else:
                self.store(elt, self.atom(item, s), s)

    def check_unpacking(self, value, count, at_least, s):
        """Before ``a, b = value`` is bound entry by entry: Python's ValueError when ``value``
        does not have ``count`` entries, a refusal when it is not read by position (a set, a
        dict); not in generated code, which unpacks what it made."""
        if self.generated or not isinstance(value, gast.Name):
            return
        spelled = value.id.replace("%", "%%")
        error = self.loc.error(
            "unpacking %s reads it by position, which is right for a list, tuple or array, but "
            "it is a %%s when it runs" % spelled, s,
            hint="unpack list(%s), or sorted(%s) for a set" % (spelled, spelled))
        check = gast.Call(func=name(self.helper("check_unpacking", runtime.check_unpacking)),
                          args=[value, const(count),
                                name(self.helper("refusal", runtime.Refusal(error)))]
                          + ([const(True)] if at_least else []), keywords=[])
        self.emit(gast.Expr(value=check), s)

    def unpack_display(self, target, value, s) -> bool:
        """``a, b = e1, e2``: each value computed (in order, into a temporary where it is a name
        the targets bind: ``a, b = b, a``), then each target bound, as Python does, without the
        tuple (which would hold views of what the values are views of); False (nothing emitted)
        for other assignments."""
        nested = (gast.Tuple, gast.List)
        if not (isinstance(target, nested) and isinstance(value, nested)
                and len(target.elts) == len(value.elts)
                and not any(isinstance(e, gast.Starred) for e in target.elts + value.elts)):
            return False
        value = self.unpacked(target, value)
        bound = {n.id for t in target.elts for n in walk(t) if isinstance(n, gast.Name)}
        atoms = []
        for v in value.elts:
            a = self.atom(v, s)
            if isinstance(a, gast.Name) and a.id in bound:
                t = self.temp()
                self.emit(assign(t, a), s)
                a = name(t)
            atoms.append(a)
        for t, a in zip(target.elts, atoms):
            self.store(t, a, s)
        return True

    def assign_to(self, target: str, value, s):
        """``target = value`` with value flattened; a statement never reads its own target."""
        if isinstance(value, gast.Name) and value.id == target:
            return  # ``x = x`` changes nothing
        self.check_kept_lazy(target, value, s)
        if self.construct(target, value, s):
            return
        factory = self.factory(value)
        if factory is not None:  # (flt = make_lowpass(k) of return Biquad(k, k, k - 1))
            self.inline_function(factory, value, s, target=target)
            return
        if isinstance(value, (gast.Tuple, gast.List)) and any(
                isinstance(n, gast.Name) and n.id == target for n in walk(value)):
            self.emit(assign(target, self.atom(value, s)), s)
            return
        if isinstance(value, gast.BoolOp) and not any(
                isinstance(n, gast.Name) and n.id == target for n in walk(value)):
            self.boolop(value, s, target)
            return
        reads_target = any(isinstance(n, gast.Name) and n.id == target
                           and isinstance(n.ctx, gast.Load) for n in walk(value))
        if reads_target and not is_atom(value):
            flat = self.expr(value, s)
            if not is_atom(flat):
                t = self.temp()
                self.emit(assign(t, flat), s)
                flat = name(t)
            self.emit(assign(target, flat), s)
            return
        flat = self.expr(value, s)
        if isinstance(flat, gast.Name) and flat.id in self.local_fns:  # (g = f if c else h)
            self.local_fns[target] = self.local_fns[flat.id]
            return
        self.emit(assign(target, flat), s)
        self.note_result_class(target, flat)

    def attribute_owner(self, node, s) -> str:
        """The name of the object ``obj.attr = v`` stores into: a local one, or an object of a
        user's class the function reaches by name (a method's ``self``, a module-level model);
        never a module or a class."""
        value = self.atom(node, s)
        if isinstance(value, gast.Name) and value.id not in self.resolver.locals | self.temps:
            obj = self.resolver.resolve(value)
            if obj is MISSING or isinstance(obj, (type, types.ModuleType, types.FunctionType)) \
                    or not hasattr(obj, "__dict__"):
                what = "assigning an attribute of %r (%s)" % (value.id, type(obj).__name__)
                self.unsupported(node, what, "keep the value in a local variable or an object of "
                                             "your own class")
            return value.id
        return self.local_name(node, s)

    def through_flat(self, target, value=None):
        """``x.flat[i]`` as a store target is ``x[flat_index(x, i)]``: a write into ``x`` itself
        (the flat iterator is no array a write into could be followed through)."""
        flat = target.value if isinstance(target, gast.Subscript) else None
        if not (isinstance(flat, gast.Attribute) and flat.attr == "flat"
                and isinstance(flat.value, gast.Name) and not isinstance(target.slice, gast.Tuple)
                and self.resolver.resolve(flat) is MISSING):
            return target
        index = target.slice
        if isinstance(index, gast.Slice):
            parts = (index.lower, index.upper, index.step)
            index = gast.Call(func=name(self._builtin("slice")),
                              args=[p if p is not None else const(None) for p in parts],
                              keywords=[])
        args = [name(flat.value.id), index] + ([value] if value is not None else [])
        where = gast.Call(func=name(self.helper("flat_index", runtime.flat_index)), args=args,
                          keywords=[])
        return gast.copy_location(gast.Subscript(value=name(flat.value.id), slice=where,
                                                 ctx=gast.Store()), target)

    def store_base(self, node, s) -> str:
        """The name of the container or array ``x[k] = v`` writes into: a local one, or a
        module-level list, dict or array (a call counter, a cache; planning refuses a value that
        depends on wrt)."""
        value = self.atom(node, s)
        if isinstance(value, gast.Name) and value.id not in self.resolver.locals | self.temps \
                and isinstance(self.resolver.resolve(value), (list, dict, np.ndarray)):
            return value.id
        return self.local_name(node, s)

    def local_name(self, node, s) -> str:
        value = self.atom(node, s)
        if not isinstance(value, gast.Name) or value.id not in self.resolver.locals | self.temps:
            self.unsupported(node, "assigning into a non-local object",
                             "copy it into a local variable first")
        return value.id
