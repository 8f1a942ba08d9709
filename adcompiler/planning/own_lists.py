"""Lists an object makes for itself (``self.cache = []`` in ``__init__``): when the attributes a
list was read from only ever hold such lists, and the lists are only read, changed by their own
methods or handed to NumPy, no other name the object holds is that list or holds it
(``own_fresh_list``, asked by ``ListSharing.holders_reading_after``)."""
from __future__ import annotations

import gast

from ..ir import children, target_of, walk


def own_fresh_list(aliasing, holder, attrs, same) -> bool:
    """Whether the attributes ``attrs`` of the object ``holder`` only ever hold lists made
    here (``self.cache = []``) that every statement only reads entries of, calls a list
    method of, hands to ``len`` or a NumPy function, or binds another name to (which is
    held to the same): then no other name the object holds is that list or holds it."""
    if None in attrs:
        return False

    def at_attr(node):
        return isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name) \
            and node.value.id == holder and node.attr in attrs
    read = {target_of(st)[0] for st in aliasing.layout.simple  # (t = obj.cache)
            if isinstance(st, gast.Assign) and at_attr(st.value)}
    names, stores = set(same) | read, set()
    for st in aliasing.layout.simple:
        if isinstance(st, gast.Assign) and at_attr(st.targets[0]):
            value = st.value  # (a new list, or one read from there: obj.cache = t)
            if isinstance(value, gast.Name) and (value.id in read
                                                 or aliasing.fresh_list(value.id)):
                names.add(value.id)
            elif not isinstance(value, gast.List):
                return False
            stores.add(id(st))
    grown = bool(stores)
    statements = aliasing.layout.simple + [n for n in walk(aliasing.fdef)
                                       if isinstance(n, (gast.For, gast.If, gast.While))]
    while grown:
        grown = False
        for st in statements:
            if id(st) in stores:
                continue
            for n, parent in _loads_with_parents(st, names):
                if isinstance(parent, gast.Assign) and parent.value is n \
                        and isinstance(parent.targets[0], gast.Name):
                    grown = grown or parent.targets[0].id not in names
                    names.add(parent.targets[0].id)
                elif not _reads_only_entries(aliasing, n, parent):
                    return False
    return bool(stores)

def _reads_only_entries(aliasing, n, parent) -> bool:
    """Whether the load ``n`` of a list, under ``parent``, reads the list without putting it
    anywhere: its entries (``lst[i]``, ``for v in lst``), a list method's receiver, an
    argument of ``len`` or of a NumPy function (a new array), or a test."""
    if isinstance(parent, gast.Subscript) and parent.value is n:
        return True
    if isinstance(parent, gast.Attribute) and parent.value is n:
        return parent.attr in _LIST_METHODS
    if isinstance(parent, gast.Call) and n in parent.args:
        callee = aliasing.ctx.resolver.resolve(parent.func)
        return callee is len or getattr(callee, "__module__", "").split(".")[0] == "numpy"
    return isinstance(parent, (gast.For, gast.If, gast.While)) \
        and n is getattr(parent, "iter", getattr(parent, "test", None))


_LIST_METHODS = ("append", "pop", "extend", "insert", "clear", "index", "count", "reverse")


def _loads_with_parents(st, names):
    """``(node, parent)`` for every load of a name in ``names`` in statement ``st`` (not in the
    statements it holds)."""
    stack = [(c, st) for c in children(st) if not isinstance(c, gast.stmt)]
    while stack:
        node, parent = stack.pop()
        if isinstance(node, gast.Name) and node.id in names and isinstance(node.ctx, gast.Load):
            yield node, parent
        stack.extend((c, node) for c in children(node))
