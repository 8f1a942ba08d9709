"""What a called user function does to the objects it is given, read from its source: which of its
parameters it may write into (``u[i] = 0``, ``u -= u.mean()``, ``u.append(v)``, ``np.copyto(u, v)``,
``out=u``, or through another function it passes them to), and which it may return as they are
(``return u``, ``return u.T``). Conservative: a name bound to a view of a parameter counts as the
parameter. A caller's planning uses this to refuse, or to record values before, writes it cannot
see in its own code."""
from __future__ import annotations

import copy
import inspect
import sys
import types

import gast
import numpy as np

from .errors import AdError
from .parse import is_library_function, parse_function
from .resolve import MISSING, Resolver, local_names

# methods that change the object they are called on (lists, dicts, sets, arrays)
WRITING_METHODS = frozenset((
    "append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse", "update",
    "setdefault", "popitem", "add", "discard", "fill", "resize", "itemset", "put", "partition",
    "setfield", "byteswap", "__setitem__", "__iadd__", "__isub__", "__imul__", "__itruediv__"))
# (methods changing a list, dict or set itself, not the objects it holds)
_CONTAINER_METHODS = frozenset(("append", "extend", "insert", "remove", "pop", "clear", "sort",
                                "reverse", "update", "setdefault", "popitem", "add", "discard"))
# array methods and attributes whose result shares the object's memory
_VIEW_METHODS = frozenset(("reshape", "ravel", "transpose", "view", "squeeze", "swapaxes",
                           "diagonal", "T", "real", "imag", "flat"))
# NumPy functions that write into their first argument
_WRITING_FUNCTIONS = (np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.random.shuffle,
                      np.put_along_axis)
_VIEW_FUNCTIONS = (np.reshape, np.ravel, np.transpose, np.squeeze, np.asarray, np.asanyarray,
                   np.atleast_1d, np.atleast_2d, np.atleast_3d, np.expand_dims, np.swapaxes,
                   np.moveaxis, np.broadcast_to, np.diagonal, np.diag, np.real, np.imag)

# array attributes holding values of their own, never the array's memory
_METADATA = frozenset(("shape", "ndim", "size", "dtype", "itemsize", "nbytes", "strides"))
# functions that set or delete an attribute of their first argument
_ATTRIBUTE_SETTERS = (setattr, delattr, object.__setattr__, object.__delattr__)
# code object -> (written, written only by ``x op= v``, returned, written only by ``p.attr = v``)
_CACHE: dict = {}


def written_parameters(fn, numbers=frozenset(), nested=False) -> frozenset:
    """Names of ``fn``'s parameters whose objects a call of ``fn`` may change; ``numbers``:
    parameters known to receive numbers (``x += 1`` rebinds those, changing no object). With
    ``nested``, also those given to a method of a class of ``fn``'s module that writes into
    its object or arguments (``self.d.set(w)``, whatever ``self.d`` is): for a call that runs
    as it is, not differentiated (compiled, a callee's writes are its own, and found there)."""
    written, augmented, _, _ = _effects(fn, nested=nested)
    return written | (augmented - set(numbers))


def writes_first_argument(fn) -> bool:
    """Whether a library function writes into its first argument (``np.copyto``, ``np.add.at``)."""
    return _is_one_of(fn, _WRITING_FUNCTIONS) or (getattr(fn, "__name__", None) == "at" and
                                                   isinstance(getattr(fn, "__self__", None),
                                                              np.ufunc))


def writes_outside(fn) -> bool:
    """Whether ``fn``'s own code writes into an object it does not make or take as a parameter:
    a name of its closure or module (``STORE['w'] = v``, ``hist.append(v)``), or one it declares
    ``global``/``nonlocal``."""
    fn = getattr(fn, "__func__", fn)
    try:
        tree = parse_function(fn).tree
    except AdError:  # (a function of the user's with no source to read: it may)
        return getattr(fn, "__code__", None) is not None and not is_library_function(fn)
    own = local_names(tree)
    for node in gast.walk(tree):
        if isinstance(node, (gast.Global, gast.Nonlocal)):
            return True
        targets = node.targets if isinstance(node, gast.Assign) else \
            [node.target] if isinstance(node, gast.AugAssign) else []
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr in WRITING_METHODS:
            targets = [node.func]
        for t in targets:
            while isinstance(t, (gast.Subscript, gast.Attribute)):
                t = t.value
                if isinstance(t, gast.Name) and t.id not in own:
                    return True
    return False


def returned_parameters(fn) -> frozenset:
    """Names of ``fn``'s parameters whose objects (or views of them) ``fn`` may return."""
    return _effects(fn)[2]


def returned_objects(fn) -> frozenset:
    """Names of ``fn``'s parameters whose objects themselves ``fn`` may return, alone or in a
    display (``return self``, ``return self, loss``), not a part of theirs (``return
    self.x[-1]``). A call's result may be any object it is given."""
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return frozenset()
    if code not in _WHOLE:
        try:
            tree = parse_function(fn).tree
        except AdError:
            return frozenset()
        args = tree.args
        params = [a.id for a in args.posonlyargs + args.args + args.kwonlyargs
                  + [args.vararg, args.kwarg] if a is not None]
        _WHOLE[code] = frozenset(params)  # (while it is read: a recursive call may return any)
        held = {p: {p} for p in params}
        cls = _defining_class(fn)
        if cls is not None and params:
            held[_METHODS] = (cls, params[0])
        changed = True
        while changed:  # (names bound to them, or to displays holding them)
            changed = False
            for node in gast.walk(tree):
                if isinstance(node, gast.FunctionDef) and node is not tree:
                    # (a nested def holds what it reads: o.reader(k) returns a closure over o)
                    found = _closure_roots(node, held)
                    targets = [gast.Name(id=node.name, ctx=gast.Store(), annotation=None,
                                         type_comment=None)]
                elif isinstance(node, (gast.Assign, gast.For, gast.comprehension)):
                    found = _whole(node.value if isinstance(node, gast.Assign) else node.iter,
                                   held)
                    targets = node.targets if isinstance(node, gast.Assign) else [node.target]
                else:
                    continue
                for n in (n for t in targets for n in gast.walk(t) if isinstance(n, gast.Name)):
                    if not found <= held.get(n.id, set()):
                        held[n.id] = held.get(n.id, set()) | found
                        changed = True
        _WHOLE[code] = frozenset().union(*(
            _whole(node.value, held) for node in gast.walk(tree)
            if isinstance(node, gast.Return) and node.value is not None))
    return _WHOLE[code]


_WHOLE: dict = {}  # (code object -> returned_objects)


def _whole(node, held) -> set:
    """The parameters whose objects themselves ``node``'s value may be or hold (``held``: name
    -> such parameters): an attribute or an element of an object is a part of it, not it."""
    if isinstance(node, gast.Name):
        return set(held.get(node.id, ()))
    if isinstance(node, (gast.Attribute, gast.Constant, gast.Compare, gast.JoinedStr)):
        return set()
    if isinstance(node, gast.Subscript):  # (an entry of a display holding them: pair[0])
        return _whole(node.value, held)
    if isinstance(node, gast.Call):
        known = _method_returns(node, held)
        if known is not None:  # (self.kinetic() of a method of the class: its own returns)
            return known
        # (a call may return an object it is given, a method the object it is called on; not
        # an object it is given a part of: len(self.m))
        parts = node.args + [k.value for k in node.keywords] + (
            [node.func.value] if isinstance(node.func, gast.Attribute) else [])
        return set().union(set(), *(_whole(p, held) for p in parts))
    if isinstance(node, (gast.Tuple, gast.List, gast.Set, gast.Dict, gast.BinOp, gast.UnaryOp,
                         gast.IfExp, gast.BoolOp, gast.Starred)):
        return set().union(set(), *(_whole(p, held) for p in gast.iter_child_nodes(node)
                                    if isinstance(p, gast.expr)))
    # (anything else, a lambda or a comprehension: every object it reads)
    return set().union(set(), *(held.get(n.id, set()) for n in gast.walk(node)
                                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)))


_METHODS = "<class>"  # (the key of ``held`` giving the class a method is read from, and self)


def _defining_class(fn):
    """The class whose plain method ``fn`` is (``Osc.energy``), when no subclass of it defines
    another method of a name it may call on ``self``; else None."""
    parts = fn.__qualname__.split(".")
    cls = fn.__globals__.get(parts[0]) if len(parts) == 2 else None
    if not isinstance(cls, type) or inspect.getattr_static(cls, parts[1], None) is not fn:
        return None
    return None if _subclasses(cls) else cls


def _subclasses(cls) -> list:
    found, todo = [], list(type.__subclasses__(cls))
    while todo:
        sub = todo.pop()
        found.append(sub)
        todo.extend(type.__subclasses__(sub))
    return found


def _method_returns(call, held):
    """For ``self.m(args)`` in a method of a class known (``held[_METHODS]``): the parameters
    whose objects ``m`` may return, through its own returns; else None."""
    cls, me = held.get(_METHODS, (None, None))
    func = call.func
    if cls is None or not (isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name)
                           and func.value.id == me) \
            or any(isinstance(a, gast.Starred) for a in call.args) \
            or any(k.arg is None for k in call.keywords):
        return None
    method = inspect.getattr_static(cls, func.attr, None)
    if not isinstance(method, types.FunctionType):
        return None
    returned = returned_objects(method)
    names = method.__code__.co_varnames[:method.__code__.co_argcount]
    given = dict(zip(names, [func.value] + list(call.args)))
    given.update({k.arg: k.value for k in call.keywords})
    return set().union(set(), *(_whole(v, held) for p, v in given.items() if p in returned))


def attribute_parameters(fn) -> frozenset:
    """Names of ``fn``'s parameters that ``fn`` changes only by binding attributes of theirs
    (``self.x = x``: no array or list they hold is written into)."""
    return _effects(fn)[3]


def _effects(fn, active=(), nested=False):
    """``(written, written only by x op= v, returned)`` for ``fn``, cached by code object;
    ``active``: the code objects being read further up (a recursive call finds nothing more);
    ``nested``: see ``written_parameters``."""
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    nothing = (frozenset(), frozenset(), frozenset(), frozenset())
    if code is None:
        return nothing
    # (a decorator's wrapper has every wrapped function's code: its closure tells them apart)
    key = (code, nested, tuple(map(_cell_id, fn.__closure__ or ())))
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    if code in active:  # (recursion: what is found so far)
        return nothing
    try:
        parsed = parse_function(fn)
    except AdError:
        if is_library_function(fn):  # (a library's writing functions are listed: _WRITING_...)
            return nothing
        # (no source to read: it may write into, and return, any argument)
        every = frozenset(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
        return every, frozenset(), every, frozenset()
    result = _read_effects(parsed, tuple(active) + (code,), nested)
    _CACHE[key] = result
    return result


def _cell_id(cell):
    try:
        return id(cell.cell_contents)
    except ValueError:  # (an empty cell: a name bound later)
        return None


def _read_effects(parsed, active, nested) -> tuple:
    """The effects of a parsed function, read from its assignments, calls and returns."""
    tree = parsed.tree
    args = tree.args
    params = [a.id for a in args.posonlyargs + args.args + args.kwonlyargs
              + [args.vararg, args.kwarg] if a is not None]
    resolver = Resolver(parsed)
    holders = _holders(tree, params, resolver)
    identities = _holders(tree, params, resolver, entries=False)
    fresh = fresh_lists(tree.body, params, resolver.resolve)
    written, augmented, returned = set(), set(), set()
    rebound = set()  # (parameters an attribute of which a plain ``p.attr = v`` binds)
    deep = set()  # (parameters written into otherwise)

    def roots(node):  # the parameters a node's object may be (through names bound to views)
        return _roots(node, holders, resolver)

    def identity(node):  # the same, a list's entries not counted (``ys = [y0]`` is no y0)
        return _roots(node, identities, resolver, entries=False)

    for node in gast.walk(tree):
        if isinstance(node, (gast.Assign, gast.AugAssign, gast.AnnAssign, gast.Delete)):
            targets = (
                node.targets if isinstance(node, (gast.Assign, gast.Delete)) else [node.target]
            )
            for t in targets:
                for part in (t.elts if isinstance(t, (gast.Tuple, gast.List)) else [t]):
                    if isinstance(node, gast.Assign) and isinstance(part, gast.Subscript) \
                            and isinstance(part.value, gast.Name) and part.value.id in fresh:
                        continue  # (an entry of a new list replaced; += changes the entry)
                    if isinstance(part, (gast.Subscript, gast.Attribute)):
                        found = roots(part)
                        written |= found
                        if isinstance(node, gast.Assign) and isinstance(part, gast.Attribute) \
                                and isinstance(part.value, gast.Name) \
                                and part.value.id in params:
                            rebound.add(part.value.id)
                        else:
                            deep |= found
                    elif isinstance(node, gast.AugAssign):
                        # (x op= v writes into an array or list x, rebinds a number)
                        augmented |= roots(part)
        elif isinstance(node, gast.Call):
            found = _call_writes(node, roots, identity, resolver, active, nested)
            written |= found
            deep |= found
        elif isinstance(node, gast.Return) and node.value is not None:
            for part in (node.value.elts if isinstance(node.value, (gast.Tuple, gast.List))
                         else [node.value]):
                returned |= roots(part)
    return (frozenset(written), frozenset(augmented - written), frozenset(returned),
            frozenset(rebound - deep - augmented))


def fresh_lists(body, params, resolve, concatenations=True) -> set:
    """Names whose every binding in ``body`` makes a new list (``list(x)``, ``[a, b]``, or a
    temporary holding one that nothing else reads; with ``concatenations``, ``a + b`` too, a new
    sequence or array): a store ``name[i] = v`` replaces an entry and writes into no object the
    function was given. A parameter counts when a top-level statement rebinds it so before any
    such store (``args = list(args)``)."""
    bindings, other, reads = {}, set(), {}
    for node in (n for st in body for n in gast.walk(st)):
        if isinstance(node, gast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], gast.Name):
            bindings.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, (gast.For, gast.comprehension, gast.AugAssign, gast.AnnAssign,
                               gast.NamedExpr, gast.With, gast.Assign)):
            targets = getattr(node, "targets", None) or [getattr(node, "target", None)]
            other |= {n.id for t in targets if t is not None for n in gast.walk(t)
                      if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        elif isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            reads[node.id] = reads.get(node.id, 0) + 1
    fresh, changed = set(), True
    while changed:
        changed = False
        for n, values in bindings.items():
            if n not in fresh and n not in other and all(
                    isinstance(v, gast.List)
                    or (isinstance(v, gast.Call) and resolve(v.func) is list)
                    # (a concatenation makes a new sequence: args[:k] + (x,) + args[k + 1:])
                    or (concatenations and isinstance(v, gast.BinOp)
                        and isinstance(v.op, gast.Add))
                    or (isinstance(v, gast.Name) and v.id in fresh and reads[v.id] == 1)
                    for v in values):
                fresh.add(n)
                changed = True

    def first(test):
        return next((i for i, st in enumerate(body) if any(test(n) for n in gast.walk(st))),
                    len(body))
    for p in set(params) & fresh:
        rebound = next((i for i, st in enumerate(body) if isinstance(st, gast.Assign)
                        and isinstance(st.targets[0], gast.Name) and st.targets[0].id == p),
                       len(body))
        stored = first(lambda n: isinstance(n, gast.Subscript) and isinstance(n.ctx, gast.Store)
                       and isinstance(n.value, gast.Name) and n.value.id == p)
        if rebound >= stored:
            fresh.discard(p)
    return fresh


def _call_writes(node, roots, identity, resolver, active, nested) -> set:
    """The parameters a call may write into: the object of a writing method, the first argument
    of a writing NumPy function or ``ufunc.at``, ``out=``, and the arguments a user function
    called writes into (``roots``: the parameters an operand's object may be; ``identity``: the
    parameters it may be itself, for a method changing a list, dict or set)."""
    written = set()
    func = node.func
    callee = resolver.resolve(func)
    if isinstance(func, gast.Attribute) and func.attr in WRITING_METHODS:
        written |= (identity if func.attr in _CONTAINER_METHODS else roots)(func.value)
    elif (isinstance(func, gast.Attribute) or nested and isinstance(func, gast.Name)) \
            and callee is MISSING:
        # (self._set(w): a method of this method's class; with nested, self.d.set(w) too, of an
        # object whose class is not known here: any class of this module's with a method of
        # that name, which writes into its object or its arguments; and layer(x), any __call__)
        attr, receiver = (func.attr, func.value) if isinstance(func, gast.Attribute) \
            else ("__call__", func)
        own = _own_method(func, resolver) if receiver is not func else None
        found = ([own] if own is not None else []) + (
            _methods_named(attr, resolver)
            if nested and (receiver is func or not _reading_method(attr)) else [])
        for method in found:
            inner_written, inner_augmented, _, _ = _effects(method, active, nested)
            names = _callee_params(method)
            if names and names[0] in inner_written | inner_augmented:
                written |= roots(receiver)
            for a, p in zip(node.args, names[1:]):
                if p in inner_written | inner_augmented:
                    written |= roots(a)
    if node.args and (_is_one_of(callee, _WRITING_FUNCTIONS + _ATTRIBUTE_SETTERS) or
                      (isinstance(func, gast.Attribute) and func.attr == "at"
                       and isinstance(resolver.resolve(func.value), np.ufunc))):
        written |= roots(node.args[0])
    for k in node.keywords:
        if k.arg == "out":
            written |= roots(k.value)
    if isinstance(callee, types.FunctionType) and getattr(callee, "__code__", None) is not None:
        inner_written, inner_augmented, _, _ = _effects(callee, active, nested)
        inner = inner_written | inner_augmented
        if inner:
            names = _callee_params(callee)
            for a, p in zip(node.args, names):
                if p in inner:
                    written |= roots(a)
            for k in node.keywords:
                if k.arg in inner:
                    written |= roots(k.value)
    return written


def _own_method(func, resolver):
    """The function ``self.name`` calls in a method (``func``: that attribute, ``self`` the
    method's first parameter) of a class of the user's found by its qualified name; else
    None."""
    fn = getattr(resolver.parsed, "fn", None)
    fn = getattr(fn, "__func__", fn)
    args = resolver.parsed.tree.args
    first = (args.posonlyargs + args.args)[:1]
    if not (isinstance(func.value, gast.Name) and first and first[0].id == func.value.id):
        return None
    path = getattr(fn, "__qualname__", "").split(".")[:-1]
    owner = sys.modules.get(getattr(fn, "__module__", None))
    for part in path if path and "<locals>" not in path else ():
        owner = getattr(owner, part, None)
    if not isinstance(owner, type) or not path or "<locals>" in path:
        return None
    method = inspect.getattr_static(owner, func.attr, None)
    return method if isinstance(method, types.FunctionType) \
        and not is_library_function(method) else None


def _methods_named(attr, resolver) -> list:
    """The functions of the user's named ``attr`` of the classes in the namespace of the module
    of the function ``resolver`` reads (``self.d.set(w)``: ``Dense.set``, whatever ``self.d``
    is)."""
    fn = getattr(resolver.parsed, "fn", None)
    module = sys.modules.get(getattr(getattr(fn, "__func__", fn), "__module__", None))
    found = []
    for value in list(vars(module).values()) if module is not None else ():
        if isinstance(value, type):
            method = inspect.getattr_static(value, attr, None)
            if isinstance(method, types.FunctionType) and not is_library_function(method):
                found.append(method)
    return found


def _reading_method(attr) -> bool:
    """Whether ``attr`` is a method of arrays, NumPy numbers or Python's containers, numbers
    and strings that writes into nothing (``x.sum()``, ``d.get(k)``, ``s.format(v)``)."""
    return attr not in WRITING_METHODS and any(hasattr(t, attr) for t in _READ_TYPES)


_READ_TYPES = (np.ndarray, np.generic, list, dict, tuple, str, set, int, float, complex)


def _roots(node, holders, resolver, entries=True) -> set:
    """The names of ``holders`` whose objects (or views of them) ``node``'s object may be: through
    subscripts, attributes, view methods and functions, either branch of a conditional expression,
    either operand of ``and``/``or``, the entries of a display (seeds 815053, 858600) unless not
    ``entries`` (a method changing the list ``[y0]`` writes into no ``y0``)."""
    while isinstance(node, (gast.Subscript, gast.Attribute, gast.Starred)):
        if isinstance(node, gast.Attribute) and node.attr in _METADATA \
                and _library_code(resolver):
            # (a library's a.shape is a tuple of its own: np.asarray(a.shape)[0] = 1 in
            # scipy's logsumexp; a class of the user's may hold an array as .shape)
            return set()
        node = node.value
    if isinstance(node, gast.IfExp):
        return _roots(node.body, holders, resolver, entries) \
            | _roots(node.orelse, holders, resolver, entries)
    if entries and isinstance(node, gast.Lambda):  # (a closure: it holds what it reads)
        return _closure_roots(node, holders)
    if isinstance(node, gast.BoolOp) or (entries and isinstance(node, (gast.Tuple, gast.List))):
        parts = node.values if isinstance(node, gast.BoolOp) else node.elts
        return set().union(set(), *(_roots(p, holders, resolver, entries) for p in parts))
    if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
            and (node.func.attr in _VIEW_METHODS or not hasattr(np.ndarray, node.func.attr)):
        # (a view, or what a method of the object's class returns: model.parameters(), d.get(k)
        # may be objects the receiver holds)
        return _roots(node.func.value, holders, resolver, entries)
    if isinstance(node, gast.Call) and node.args \
            and _is_one_of(resolver.resolve(node.func), _VIEW_FUNCTIONS + (getattr, vars)):
        return _roots(node.args[0], holders, resolver, entries)  # (getattr(self, 'W')[0] = v)
    return holders.get(node.id, set()) if isinstance(node, gast.Name) else set()


def _library_code(resolver) -> bool:
    """Whether the function ``resolver`` resolves names of is a library's (SciPy's)."""
    found = getattr(resolver, "library_code", None)
    if found is None:
        found = resolver.library_code = is_library_function(resolver.parsed.fn)
    return found


def _copied_on_entry(tree, params, resolver) -> set:
    """The parameters the function first rebinds to a copy of themselves (``q = q.copy()``, as
    the first statement naming ``q``, not in a branch or loop): what it writes afterwards is the
    copy."""
    # (an entry written: x.copy() of a list copies the list, not the arrays it holds)
    entries = {n.value.id for n in gast.walk(tree) if isinstance(n, gast.Subscript)
               and isinstance(n.ctx, gast.Store) and isinstance(n.value, gast.Name)}
    copied, seen = set(), set()
    for st in tree.body:
        names = {n.id for n in gast.walk(st) if isinstance(n, gast.Name)}
        if isinstance(st, gast.Assign) and len(st.targets) == 1 \
                and isinstance(st.targets[0], gast.Name) and st.targets[0].id in params \
                and st.targets[0].id not in seen \
                and _copy_of(st.value, st.targets[0].id, resolver, st.targets[0].id in entries):
            copied.add(st.targets[0].id)
        seen |= names
    return copied


def _copy_of(value, var, resolver, entries_written) -> bool:
    """Whether ``value`` is a new copy of the name ``var`` and what it holds: ``np.copy(var)``,
    ``np.array(var)``, ``copy.deepcopy(var)``, ``var.astype(t)``, or ``var.copy()`` (of an
    array, unless ``entries_written``: of a list, its entries are the caller's)."""
    if not isinstance(value, gast.Call) or value.keywords and not (
            isinstance(value.func, gast.Attribute) and value.func.attr == "astype"):
        return False
    func = value.func
    if isinstance(func, gast.Attribute) and func.attr in ("copy", "astype") \
            and isinstance(func.value, gast.Name) and func.value.id == var \
            and len(value.args) == (func.attr == "astype"):
        return not any(k.arg == "copy" for k in value.keywords) \
            and (func.attr == "astype" or not entries_written)
    fn = resolver.resolve(func)
    return len(value.args) == 1 and isinstance(value.args[0], gast.Name) \
        and value.args[0].id == var and any(fn is f for f in (np.copy, np.array, copy.deepcopy))


def _holders(tree, params, resolver, entries=True) -> dict:
    """Name -> the parameters whose object (or a view of it) the name may hold: each parameter
    itself, and names bound to a parameter, an element or slice of it, or a view of it (or, with
    ``entries``, a display holding one; ``a, b = x, y`` binds a to x, b to y)."""
    copied = _copied_on_entry(tree, params, resolver)
    holders = {p: set() if p in copied else {p} for p in params}

    changed = True
    while changed:
        changed = False
        for node in gast.walk(tree):
            if isinstance(node, gast.Assign):
                pairs = []
                for t in node.targets:
                    if isinstance(t, (gast.Tuple, gast.List)) \
                            and isinstance(node.value, (gast.Tuple, gast.List)) \
                            and len(t.elts) == len(node.value.elts) \
                            and not any(isinstance(e, gast.Starred) for e in t.elts):
                        pairs += list(zip(t.elts, node.value.elts))
                    else:
                        source = _roots(node.value, holders, resolver, entries)
                        pairs += [(n, source) for n in (
                            t.elts if isinstance(t, (gast.Tuple, gast.List)) else [t])]
                for n, value in pairs:
                    source = value if isinstance(value, set) \
                        else _roots(value, holders, resolver, entries)
                    if isinstance(n, gast.Name) and not source <= holders.get(n.id, set()):
                        holders[n.id] = holders.get(n.id, set()) | source
                        changed = True
            elif isinstance(node, (gast.For, gast.comprehension)):
                # (the rows of an array are views of it, the entries of a list its objects:
                # ``for n in self.neurons``, ``for layer, g in zip(self.layers, grads)``)
                source = _iterated_roots(node.iter, holders, resolver, entries)
                for n in gast.walk(node.target):
                    if isinstance(n, gast.Name) and not source <= holders.get(n.id, set()):
                        holders[n.id] = holders.get(n.id, set()) | source
                        changed = True
            elif entries and isinstance(node, gast.FunctionDef) and node is not tree:
                # (a nested def holds what it reads: returned, it is the caller's closure)
                source = _closure_roots(node, holders)
                if not source <= holders.get(node.name, set()):
                    holders[node.name] = holders.get(node.name, set()) | source
                    changed = True
    return holders


_ITERATORS = (zip, enumerate, reversed, sorted, list, tuple, iter)


def _iterated_roots(node, holders, resolver, entries) -> set:
    """The parameters whose objects what a loop over ``node`` binds may be (see ``_roots``):
    those of ``node``, or of the arguments of ``zip``, ``enumerate`` and the like."""
    if isinstance(node, gast.Call) and _is_one_of(resolver.resolve(node.func), _ITERATORS):
        return set().union(set(), *(_iterated_roots(a, holders, resolver, entries)
                                    for a in node.args))
    if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
            and node.func.attr in ("items", "values"):  # (for name, layer in self.layers.items())
        return _iterated_roots(node.func.value, holders, resolver, entries)
    return _roots(node, holders, resolver, entries)


def _closure_roots(fn, holders) -> set:
    """The parameters whose objects the nested def or lambda ``fn`` may read (and so hold)."""
    return set().union(set(), *(holders.get(n.id, set()) for n in gast.walk(fn)
                                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)))


def _callee_params(fn) -> list:
    code = fn.__code__
    return list(code.co_varnames[:code.co_argcount])


def _is_one_of(obj, objects) -> bool:
    return any(obj is o for o in objects)
