"""The IR's vocabulary: node builders, walkers, copy, the comment marker.

The IR of every pass after ``normalize`` is three-address code on ``gast`` nodes; this module holds
what the passes share to build it (``name``, ``const``, ``assign``, ``if_``, ``located``, ...),
to walk it (``walk``, ``children``, ``loads``, ``name_counts``, ``substitute_loads``,
``target_of``), to copy it (``copy_tree``, ``instantiate``) and the marker of a statement that
unparses to a comment (``COMMENT``). It sits at the bottom of the package: it imports no other
module of it.
"""
from __future__ import annotations

import gast

# the callee of a statement that unparses to a comment (``Context.comment``, codegen)
COMMENT = "__adcompiler_comment__"

ATOMS = (gast.Name, gast.Constant)


def located(node, like):
    """Give a generated node the user location of ``like`` (errors and comments point there)."""
    lineno = getattr(like, "lineno", None) if like is not None else None
    if lineno is not None:  # (0 or less: an inlined function above this one in its file)
        col = like.col_offset
        end, end_col = getattr(like, "end_lineno", None), getattr(like, "end_col_offset", None)
        for n in walk(node):  # (gast.copy_location, without its per-attribute lookups: a hot path)
            if "lineno" in n._attributes and getattr(n, "lineno", None) is None:
                n.lineno, n.col_offset, n.end_lineno, n.end_col_offset = lineno, col, end, end_col
    return node


def name(id_, store=False):
    return gast.Name(id=id_, ctx=gast.Store() if store else gast.Load(), annotation=None,
                     type_comment=None)


def const(value):
    return gast.Constant(value=value, kind=None)


def assign(target, value, like=None):
    if isinstance(target, str):
        target = name(target, store=True)
    return located(gast.Assign(targets=[target], value=value, type_comment=None), like)


def if_(test, body, orelse=(), like=None):
    return located(gast.If(test=test, body=list(body) or [gast.Pass()], orelse=list(orelse)), like)


def not_(id_):
    return gast.UnaryOp(op=gast.Not(), operand=name(id_))


def is_constant_default(node) -> bool:
    """Whether a parameter's default value is a constant: a literal (``-0.5`` too) or a tuple of
    them (``limits=(-1.0, 1.0)``: immutable, one object or a new one alike)."""
    if isinstance(node, gast.Tuple):
        return all(is_constant_default(e) for e in node.elts)
    return isinstance(getattr(node, "operand", node), gast.Constant)


def is_atom(node) -> bool:
    return isinstance(node, ATOMS)


_AST = gast.AST


_CHILD_FIELDS: dict = {}
_NOT_CHILDREN = frozenset(("ctx", "id", "attr", "arg", "type_comment", "kind", "is_async",
                           "conversion", "simple", "level", "module"))


def _child_fields(cls):
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = _CHILD_FIELDS[cls] = tuple(f for f in cls._fields if f not in _NOT_CHILDREN)
    return fields


def walk(node):
    """Every node under ``node`` except expression contexts (``Load``/``Store``), like
    ``gast.walk`` without its per-node generators: this runs on the hot path of code generation."""
    stack = [node]
    out = []
    while stack:
        n = stack.pop()
        out.append(n)
        for name_ in _CHILD_FIELDS.get(n.__class__) or _child_fields(n.__class__):
            v = getattr(n, name_, None)
            if v.__class__ is list:
                stack.extend(x for x in v if isinstance(x, _AST))
            elif isinstance(v, _AST):
                stack.append(v)
    return out


def children(node) -> list:
    """The nodes directly under ``node`` that ``walk`` descends into (``walk`` repeats this
    loop inline rather than call it: it runs for every node of code generation)."""
    out = []
    for name_ in _CHILD_FIELDS.get(node.__class__) or _child_fields(node.__class__):
        v = getattr(node, name_, None)
        if v.__class__ is list:
            out.extend(x for x in v if isinstance(x, _AST))
        elif isinstance(v, _AST):
            out.append(v)
    return out


def name_counts(node) -> tuple[dict, dict]:
    """(how often each name is bound, how often it is read) under ``node``: one pass that does
    not descend into names (the optimiser asks after every round)."""
    stores, loads_ = {}, {}
    stack = [node]
    name_cls, load_cls = gast.Name, gast.Load
    while stack:
        n = stack.pop()
        cls = n.__class__
        if cls is name_cls:
            table = loads_ if n.ctx.__class__ is load_cls else stores
            table[n.id] = table.get(n.id, 0) + 1
            continue
        if cls is gast.AugAssign and n.target.__class__ is name_cls:  # (x += v reads x too)
            loads_[n.target.id] = loads_.get(n.target.id, 0) + 1
        for name_ in _CHILD_FIELDS.get(cls) or _child_fields(cls):
            v = getattr(n, name_, None)
            if v.__class__ is list:
                stack.extend(x for x in v if isinstance(x, _AST))
            elif isinstance(v, _AST):
                stack.append(v)
    return stores, loads_


def substitute_loads(node, values: dict) -> bool:
    """Replace, in place, every load of a name in ``values`` under ``node`` by (a copy of) its
    Name or Constant value; True if anything changed. (A NodeTransformer is far slower here.)"""
    changed = False
    stack = [node]
    name_cls, load_cls = gast.Name, gast.Load
    while stack:
        n = stack.pop()
        for child in _CHILD_FIELDS.get(n.__class__) or _child_fields(n.__class__):
            v = getattr(n, child, None)
            if v.__class__ is list:
                for i, x in enumerate(v):
                    if x.__class__ is name_cls:
                        if x.ctx.__class__ is load_cls and x.id in values:
                            v[i] = _copy_atom(values[x.id])
                            changed = True
                    elif isinstance(x, _AST):
                        stack.append(x)
            elif v.__class__ is name_cls:
                if v.ctx.__class__ is load_cls and v.id in values:
                    setattr(n, child, _copy_atom(values[v.id]))
                    changed = True
            elif isinstance(v, _AST):
                stack.append(v)
    return changed


def _copy_atom(atom):
    if atom.__class__ is gast.Constant:
        return gast.Constant(value=atom.value, kind=None)
    return gast.Name(id=atom.id, ctx=gast.Load(), annotation=None, type_comment=None)


def loads(node) -> list[str]:
    """Names ``node`` reads (the target of ``x += v`` too)."""
    out = [n.id for n in walk(node) if n.__class__ is gast.Name and n.ctx.__class__ is gast.Load]
    augmented = node.__class__ is gast.AugAssign and node.target.__class__ is gast.Name
    return out + [node.target.id] if augmented else out


LIST_MUTATORS = ("append", "pop")


def rebuilt(node, like):
    """``node``, a branch or loop a transform rebuilt from ``like``, at ``like``'s location and in
    the ``try`` region it is in (``ad_try``: see ``codegen.wrap_try_regions``)."""
    located(node, like)
    if getattr(like, "ad_try", None) is not None:
        node.ad_try = like.ad_try
    return node


def in_region_of(nodes, like) -> None:
    """The statements generated for ``like`` (a call's forward half, its records), in the ``try``
    region ``like`` is in, so its handlers run as written when they raise."""
    handlers = getattr(like, "ad_try", None)
    if handlers is not None:
        for node in nodes:
            if getattr(node, "ad_try", None) is None:
                node.ad_try = handlers


def map_inner_blocks(stmt, block) -> None:
    """Replace each block of ``stmt`` (its body, ``else`` and ``finally`` blocks, its handlers'
    bodies) by ``block(that block)``; a nested def's or class's body is left as it is."""
    if isinstance(stmt, (gast.FunctionDef, gast.ClassDef)):
        return
    for field in ("body", "orelse", "finalbody"):
        if getattr(stmt, field, None):
            setattr(stmt, field, block(getattr(stmt, field)))
    for h in getattr(stmt, "handlers", None) or []:
        h.body = block(h.body)


def walk_statements(stmt):
    """``stmt`` and every statement nested in its blocks."""
    yield stmt
    for field in ("body", "orelse"):
        for inner in getattr(stmt, field, None) or []:
            yield from walk_statements(inner)


def list_method(stmt):
    """(list name, method, call) when ``stmt`` is ``lst.append(v)``, ``x = lst.pop()`` or
    ``x = lst.pop(i)`` (or a pop with its value discarded)."""
    call = stmt.value if isinstance(stmt, (gast.Expr, gast.Assign)) else None
    if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) \
            and isinstance(call.func.value, gast.Name) and call.func.attr in LIST_MUTATORS:
        if call.func.attr == "pop" and len(call.args) <= 1 and not call.keywords \
                and all(isinstance(a, (gast.Name, gast.Constant)) for a in call.args) \
                or (call.func.attr == "append" and isinstance(stmt, gast.Expr)):
            return call.func.value.id, call.func.attr, call
    return None


def target_of(stmt):
    """(rebound name or None, mutated name or None) of a simple statement. In-place helper calls
    (``add_at(d, i, g)``, ``v = take_adjoint(d, i)``) are marked ``ad_mutates`` by planning."""
    mutates = getattr(stmt, "ad_mutates", None)
    if mutates is not None:
        named = isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
        bound = stmt.targets[0].id if named else None
        return bound, mutates
    if isinstance(stmt, gast.Expr):
        method = list_method(stmt)
        return (None, method[0]) if method else (None, None)
    if isinstance(stmt, gast.Assign):
        t = stmt.targets[0]
        if isinstance(t, gast.Name):
            return t.id, None
        if isinstance(t, (gast.Subscript, gast.Attribute)) and isinstance(t.value, gast.Name):
            return None, t.value.id  # (obj.attr = v changes the object obj)
    return None, None



def copy_tree(node, mapping=None):
    """A fresh copy of an AST (much faster than copy.deepcopy); with ``mapping``, loads of the
    names it holds are replaced by (copies of) a node or by another name."""
    if isinstance(node, list):
        return [copy_tree(n, mapping) for n in node]
    if not isinstance(node, gast.AST):
        return node
    if mapping and isinstance(node, gast.Name) and node.id in mapping \
            and isinstance(node.ctx, gast.Load):
        repl = mapping[node.id]
        if isinstance(repl, str):
            return gast.Name(id=repl, ctx=gast.Load(), annotation=None, type_comment=None)
        return copy_tree(repl)
    new = node.__class__.__new__(node.__class__)
    for name_ in node._fields:
        setattr(new, name_, copy_tree(getattr(node, name_, None), mapping))
    for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
        if hasattr(node, attr):
            setattr(new, attr, getattr(node, attr))
    return new


def instantiate(template, mapping: dict):
    """Copy ``template`` replacing names: ``mapping`` maps a name to a node or a new name."""
    return copy_tree(template, mapping)
