"""Lists in the normal form: which names of a function hold lists only (``sure_lists``);
``lst.append(v)`` and ``lst.pop()`` are differentiated as a list's methods, which generated code
checks where the name may hold anything else (a class of the user's with an ``append``, a
deque); ``lst.extend(items)`` is spelled as appends (the ``ListMethods`` of the ``Normalizer``)."""
from __future__ import annotations

import types

import gast
import numpy as np

from .. import runtime
from ..ir import LIST_MUTATORS, const, copy_tree, name, walk


class ListMethods:
    """The ``Normalizer``'s list methods (a mixin): ``extend`` as appends, and the checks that
    ``append`` and ``pop`` are a list's."""

    def extension(self, s) -> bool:
        """``lst.extend(items)`` of a local list, and ``lst.insert(i, v)``, ``lst.reverse()`` and
        ``lst.sort(...)`` of a name that holds lists only, spelled with ``append`` and ``pop``,
        what the derivative follows (the list stays the same object, as in the plain call):
        ``extend`` appends each item of a copy of ``items`` taken first (``lst.extend(lst)``
        doubles the list); the others take a copy of the entries, pop them all, and append them
        in their new order. False for any other statement."""
        call = s.value
        if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute)
                and call.func.attr in _REFILLED and isinstance(call.func.value, gast.Name)
                and call.func.value.id in self.resolver.locals
                and not any(isinstance(a, gast.Starred) for a in call.args)
                and all(k.arg is not None for k in call.keywords)):
            return False
        lst, method = call.func.value.id, call.func.attr
        if method == "extend" and len(call.args) == 1 and not call.keywords:
            self._append_each(lst, call.args[0], s)
            return True
        if lst not in self.sure_lists:  # (an array's sort, an object's insert: not a list's)
            return self.array_sort(s, lst, call)
        if method == "sort" and not call.args and {k.arg for k in call.keywords} <= {"key",
                                                                                     "reverse"}:
            self._refill(lst, lambda items: gast.Call(func=name(self._builtin("sorted")),
                                                      args=[items], keywords=call.keywords), s)
            return True
        if method == "reverse" and not call.args and not call.keywords:
            self._refill(lst, lambda items: gast.Subscript(
                value=items, slice=gast.Slice(lower=None, upper=None, step=const(-1)),
                ctx=gast.Load()), s)
            return True
        if method == "insert" and len(call.args) == 2 and not call.keywords:
            at = self.atom(call.args[0], s)  # (Python reads the index, then the value)
            value = self.atom(call.args[1], s)
            self._refill(lst, lambda items: _inserted(items, at, value), s)
            return True
        return False

    def array_sort(self, s, lst, call) -> bool:
        """``x.sort()`` (``axis=``, ``kind=``) of a name that is no list: the array sorted in
        place, ``x[...] = np.sort(x)``, checked to be an array where it runs (a list's sort
        takes other keywords); False for any other call."""
        if call.func.attr != "sort" or call.args \
                or not {k.arg for k in call.keywords} <= {"axis", "kind"}:
            return False
        error = self.loc.error("%s.sort() is differentiated as an array's sort, but %s is %%s "
                               "here" % (lst, lst), s,
                               hint="write %s = sorted(%s) for a list" % (lst, lst))
        check = gast.Call(func=name(self.helper("check_array", runtime.check_array)),
                          args=[name(lst), name(self.helper("refusal", runtime.Refusal(error)))],
                          keywords=[])
        self.emit(gast.Expr(value=check), s)
        value = gast.Call(func=name(self.helper("sort", np.sort)), args=[name(lst)],
                          keywords=call.keywords)
        self.stmt(gast.copy_location(gast.Assign(
            targets=[gast.Subscript(value=name(lst), slice=const(Ellipsis), ctx=gast.Store())],
            value=value, type_comment=None), s))
        return True

    def attribute_list_append(self, s) -> bool:
        """``obj.items.append(v)`` on an object of a known class (an argument, one made here, an
        entry of a list argument), or ``d['hist'].append(v)`` on a name holding dicts or lists
        only: the list read into a name, appended to and stored back (``t = obj.items;
        t.append(v); obj.items = t``, the same list at run time), so the derivative follows
        what the list holds as it follows an attribute store; False (nothing emitted) for any
        other statement."""
        call = s.value
        func = getattr(call, "func", None)
        if not (isinstance(call, gast.Call) and isinstance(func, gast.Attribute)
                and func.attr == "append" and len(call.args) == 1 and not call.keywords
                and isinstance(func.value, (gast.Attribute, gast.Subscript, gast.Call))
                and not isinstance(call.args[0], gast.Starred)):
            return False
        receiver = func.value
        if isinstance(receiver, gast.Call):
            # (d.setdefault(k, []).append(v) of a name holding dicts only: the entry stored
            # when missing, then d[k] appended to as above)
            method = receiver.func
            if not (isinstance(method, gast.Attribute) and method.attr == "setdefault"
                    and isinstance(method.value, gast.Name) and method.value.id in self.sure_dicts):
                return False
            receiver = self.set_default(receiver, s)
            if receiver is None:
                return False
        held = self.held_container(receiver, s)
        if held is None:
            return False
        value = self.atom(call.args[0], s)
        appended = gast.Call(func=gast.Attribute(value=name(held[0]), attr="append",
                                                 ctx=gast.Load()), args=[value], keywords=[])
        self.emit(gast.Expr(value=appended), s)
        self.note_held_append(appended)
        self.stored_back(held, s)
        return True

    def slice_of_a_list(self, target, value, s) -> bool:
        """``lst[a:b] = items`` of a name that holds lists only: its entries refilled (see
        ``extension``) with ``entries[:a] + list(items) + entries[b:]``; False for any other
        store."""
        index = target.slice
        if not (isinstance(target.value, gast.Name) and target.value.id in self.sure_lists
                and isinstance(index, gast.Slice) and index.step is None):
            return False
        lower = self.atom(index.lower, s) if index.lower is not None else None
        upper = self.atom(index.upper, s) if index.upper is not None else None
        given = gast.Call(func=name(self._builtin("list")), args=[value], keywords=[])

        def spliced(items):
            head = gast.BinOp(left=_part(items, None, const(0) if lower is None else lower),
                              op=gast.Add(), right=given)
            if upper is None:
                return head
            return gast.BinOp(left=head, op=gast.Add(), right=_part(items, upper, None))
        self._refill(target.value.id, spliced, s)
        return True

    def deletion(self, target, s):
        """``del lst[i]`` as ``lst.pop(i)`` (a list's or a dict's, checked where it runs unless
        ``lst`` holds lists or dicts only), ``del lst[a:b]`` of a name that holds lists only as
        ``lst[a:b] = []``; any other ``del`` of an element or attribute is refused."""
        owner = getattr(target, "value", None)
        if isinstance(target, gast.Subscript) and isinstance(owner, gast.Name) \
                and owner.id not in self.object_classes and not self.has_item_methods(owner):
            if not isinstance(target.slice, gast.Slice):
                pop = gast.Call(func=gast.Attribute(value=name(owner.id), attr="pop",
                                                    ctx=gast.Load()),
                                args=[target.slice], keywords=[])
                pop.ad_deleted = True  # (named as the 'del' it is in a refusal)
                self.stmt(gast.copy_location(gast.Expr(value=pop), s))
                return
            if target.slice.step is None and self.slice_of_a_list(
                    target, gast.List(elts=[], ctx=gast.Load()), s):
                return
        self.unsupported(target, "'del' of %s" % gast.unparse(target).strip(),
                         "build a new list, array or dict without it instead")

    def _refill(self, lst, reordered, s):
        """Pop every entry of ``lst`` and append those of ``reordered(copy of the entries)``."""
        items = self.namer.fresh("items")
        self.resolver.locals.add(items)
        self.stmt(gast.copy_location(gast.Assign(
            targets=[name(items, True)],
            value=gast.Call(func=name(self._builtin("list")), args=[name(lst)], keywords=[]),
            type_comment=None), s))
        pop = gast.Expr(value=gast.Call(func=gast.Attribute(value=name(lst), attr="pop",
                                                            ctx=gast.Load()),
                                        args=[], keywords=[]))
        count = gast.Call(func=name(self._builtin("range")), args=[gast.Call(
            func=name(self._builtin("len")), args=[name(items)], keywords=[])], keywords=[])
        self.stmt(gast.copy_location(gast.For(target=name(self.namer.fresh("_"), True),
                                              iter=count, body=[pop], orelse=[],
                                              type_comment=None), s))
        self._append_each(lst, reordered(name(items)), s)

    def _append_each(self, lst, items, s):
        """``for item in list(items): lst.append(item)``."""
        item = self.namer.fresh("item")
        self.resolver.locals.add(item)
        copied = gast.Call(func=name(self._builtin("list")), args=[items], keywords=[])
        append = gast.Expr(value=gast.Call(func=gast.Attribute(
            value=name(lst), attr="append", ctx=gast.Load()),
            args=[name(item)], keywords=[]))
        loop = gast.For(target=name(item, True), iter=copied, body=[append], orelse=[],
                        type_comment=None)
        self.stmt(gast.copy_location(loop, s))

    def check_list_receiver(self, node, func, s):
        """``lst.append(v)`` and ``lst.pop()`` (``func``, flattened from the call ``node``) are
        differentiated as a list's methods (``pop`` as a dict's too): where ``lst`` may be
        something else (not a name bound to new lists only, nor a list argument), generated code
        checks first that it is not (``check_list``, ``check_poppable``), and refuses a deque or an
        object with a method of that name."""
        if self.generated or self.bind_object is None \
                or not (isinstance(func, gast.Attribute) and func.attr in LIST_MUTATORS
                        and isinstance(func.value, gast.Name)) \
                or func.value.id in self.sure_lists \
                or isinstance(self.resolver.resolve(func.value), types.ModuleType) \
                or (func.attr == "pop" and func.value.id in self.sure_dicts):
            return
        receiver = gast.unparse(node.func.value).strip()
        kind = "a list's" if func.attr == "append" else "a list's or a dict's"
        if getattr(node, "ad_deleted", False):
            called, hint = ("del %s[...]" % receiver, "pop"), \
                "make %s a list or a dict, or build a new one without the entry" % receiver
        else:
            called, hint = ("%s.%s(...)" % (receiver, func.attr), "method"), \
                "make %s a list, or call your object's method under another name than append " \
                "or pop" % receiver
        error = self.loc.error("%s is differentiated as %s %s, but %s is %%s here"
                               % (called[0], kind, called[1], receiver), s, hint=hint)
        helper = ("check_list", runtime.check_list) if func.attr == "append" \
            else ("check_poppable", runtime.check_poppable)
        check = gast.Call(func=name(self.helper(*helper)),
                          args=[name(func.value.id),
                                name(self.helper("refusal", runtime.Refusal(error)))],
                          keywords=[])
        self.emit(gast.Expr(value=check), s)


_REFILLED = ("extend", "sort", "reverse", "insert")


def _inserted(items, at, value):
    """``items[:at] + [value] + items[at:]`` (``list.insert``'s result)."""
    head = gast.BinOp(left=_part(items, None, at), op=gast.Add(),
                      right=gast.List(elts=[value], ctx=gast.Load()))
    return gast.BinOp(left=head, op=gast.Add(), right=_part(items, at, None))


def _part(items, lower, upper):
    """``items[lower:upper]``."""
    return gast.Subscript(value=copy_tree(items), slice=gast.Slice(
        lower=copy_tree(lower), upper=copy_tree(upper), step=None), ctx=gast.Load())


def sure_lists(body, resolve, list_params=frozenset()) -> set:
    """The names of ``body`` (statements) bound only to new lists (a display or comprehension,
    ``list(...)``, ``sorted(...)``, a concatenation or repetition of a list, a copy of such a
    name), or parameters in ``list_params`` (known to be given lists) that no statement binds
    otherwise. ``resolve``: a callee expression -> the object it names."""
    bindings: dict = {p: [gast.List(elts=[], ctx=gast.Load())] for p in list_params}
    handled, stores = set(), []
    for node in (n for s in body for n in walk(s)):
        if isinstance(node, gast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], gast.Name):
            bindings.setdefault(node.targets[0].id, []).append(node.value)
            handled.add(id(node.targets[0]))
        elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name) \
                and isinstance(node.op, (gast.Add, gast.Mult)):
            handled.add(id(node.target))  # (lst += [v], lst *= 2: still the list)
        elif isinstance(node, gast.Name) and not isinstance(node.ctx, gast.Load):
            stores.append(node)
    other = {n.id for n in stores if id(n) not in handled}  # (loop targets, unpacking, del)
    sure, grown = set(), True
    while grown:
        grown = False
        for target, values in bindings.items():
            if target not in sure and target not in other \
                    and all(_makes_list(v, resolve, sure) for v in values):
                sure.add(target)
                grown = True
    return sure


def _makes_list(value, resolve, lists) -> bool:
    if isinstance(value, (gast.List, gast.ListComp)):
        return True
    if isinstance(value, gast.Name):
        return value.id in lists
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add):
        # (an array + a list is an array)
        return _makes_list(value.left, resolve, lists) and _makes_list(value.right, resolve, lists)
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult):  # ([0.0] * 3)
        return any(_makes_list(a, resolve, lists) and isinstance(b, gast.Constant)
                   and type(b.value) is int for a, b in ((value.left, value.right),
                                                          (value.right, value.left)))
    if isinstance(value, gast.Subscript) and isinstance(value.slice, gast.Slice):
        return _makes_list(value.value, resolve, lists)  # (a slice of a list: a new list)
    if isinstance(value, gast.Call):
        if any(resolve(value.func) is f for f in (list, sorted)):
            return True
        func = value.func
        return isinstance(func, gast.Attribute) and func.attr == "copy" and not value.args \
            and isinstance(func.value, gast.Name) and func.value.id in lists
    return False
