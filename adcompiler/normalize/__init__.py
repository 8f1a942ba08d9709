"""Pass 3: normalise a parsed function to three-address code (the IR of every later pass).

After this pass
- every statement performs one operation on names and constants (``t1 = x + y``,
  ``t2 = np.sin(t1)``, ``y[i] = t3``), calls keep their (resolved) callee expression;
- control flow is structured: ``if``/``for``/``while`` only; ``break``, ``continue`` and early
  ``return`` are lowered to flags, the only ``break`` left is ``if <flag>: break`` as the last
  statement of a loop body, and the function ends with its single ``return <name>``;
- ``for`` loops run over ``range(...)``; other iterables become index loops;
- augmented assignment is spelled out (``x += y`` -> ``x = x + y``).

The pass's steps, one module each: ``jumps`` (jump lowering), ``namespaces`` (``xp = np``
aliases), then the ``Normalizer`` (``normalizer``, with its ``statements``, ``stores``,
``loops``, ``expressions`` and ``calls``, and the steps of calls: ``callees``, ``inlining``,
``local_functions``, ``higher_order``); ``normalize_function`` is the pass's interface.
"""
from __future__ import annotations

import gast

from ..errors import Location
from ..ir import walk
from ..naming import Namer
from ..resolve import Resolver
from .attempts import extract_attempts
from .classes import rebound_classes
from .defaultdicts import rewrite_defaultdicts
from .dicts import dict_names
from .frozen import thaw_frozen_distributions
from .generators import yielded_as_list
from .jumps import lower_jumps
from .list_classes import element_classes
from .lists import sure_lists
from .matches import lower_matches
from .namespaces import resolve_aliases
from .normalizer import Normalizer
from .outer_names import rewrite_outer_names
from .sequences import OTHER, SEQUENCE, kind_of_object, local_kinds
from .tables import rewrite_table_stores


def normalize_function(fdef: gast.FunctionDef, resolver: Resolver, namer: Namer, loc: Location,
                       dict_params=frozenset(), bind=None, number_params=frozenset(),
                       generated=False, object_classes=None, list_params=frozenset(),
                       sequence_params=None, module_params=None,
                       list_classes=None, inline_all=False, attribute_classes=None,
                       namedtuple_params=None) -> tuple[gast.FunctionDef, set]:
    """Return the three-address form of ``fdef`` and the set of temporaries it introduced.
    ``dict_params``: parameters known to be dicts (``for k in d`` iterates over their keys);
    ``bind(preferred_name, obj)``: the generated code's name for a runtime helper it calls;
    ``number_params``: parameters known to hold numbers (``x += 1`` rebinds them);
    ``object_classes``: parameter -> class of an object argument (its writing methods inlined);
    ``list_params``: parameters known to be lists;
    ``sequence_params``: parameters known to be lists, tuples or arrays (iterated by position;
    None: the arguments' kinds are not known, and the code is for reading: every parameter is
    taken for a sequence); ``module_params``: parameter -> the module it is given (``xp=np``);
    ``list_classes``: parameter -> the class of every entry of a list argument;
    ``attribute_classes``: (class, attribute) -> the class of what such entries hold there;
    ``namedtuple_params``: parameter -> the namedtuple class of its argument; ``inline_all``:
    every call of the user's that can be inlined is."""
    fdef = yielded_as_list(fdef, namer, loc)
    norm = Normalizer(resolver, namer, loc)
    norm.bind_object = bind
    if bind is not None:
        fdef.body = lower_matches(fdef.body, namer, resolver, norm.helper, loc)
    lowered = lower_jumps(fdef, namer)
    lowered = extract_attempts(fdef, lowered, resolver, namer, loc, bind and norm.helper, generated)
    rewrite_outer_names(lowered, resolver, norm.helper, loc)
    rewrite_defaultdicts(lowered, resolver.resolve)
    resolver.locals |= {n.id for stmt in lowered for n in walk(stmt)
                        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    norm.growing = _growing(lowered)
    norm.generated, norm.inline_all = generated, inline_all
    norm.class_attributes.update(attribute_classes or {})
    if bind is not None:
        resolve_aliases(lowered, resolver, norm.helper, module_params or {})
        thaw_frozen_distributions(lowered, resolver, namer.fresh)
    stores = [n.id for st in lowered for n in walk(st)
              if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)]
    _learn_parameters(norm, stores, dict_params, object_classes, namedtuple_params)
    norm.sure_lists = _lists_and_tables(norm, lowered, list_params, bind is not None
                                        and not generated)
    norm.maybe_dicts, norm.sure_dicts = dict_names(lowered, resolver, dict_params,
                                                   params_of(fdef))
    norm.iterables = local_kinds(lowered, resolver, _param_kinds(
        fdef.args, sequence_params, dict_params, object_classes or {}))
    params = params_of(fdef)
    norm.bound_twice = params | _bound_twice(lowered, resolver, inline_all)
    norm.learn_later_values(lowered)
    _learn_rebound_objects(norm, lowered, params, object_classes or {})
    _learn_argument_lists(norm, lowered, list_classes or {}, stores)
    norm.caller_objects, norm.parameters = params - set(number_params), params
    norm.note_uses(lowered)
    norm.read_attributes_through_aliases(lowered)
    body = norm.block(lowered)
    norm.check_held_classes(body)
    out = gast.FunctionDef(name=fdef.name, args=fdef.args, body=body, decorator_list=[],
                           returns=None, type_comment=None, type_params=[])
    _note_classes(gast.copy_location(out, fdef), norm, params)
    resolver.locals |= norm.temps
    return out, norm.temps


def _learn_parameters(norm, stores, dict_params, object_classes, namedtuples):
    """The dicts, objects and namedtuples of known classes the arguments are, of the parameters
    the function does not bind again (``stores``: the names it binds)."""
    norm.dict_params = set(dict_params) - set(stores)
    norm.object_classes = {p: c for p, c in (object_classes or {}).items() if p not in stores}
    norm.namedtuples.update({p: c for p, c in (namedtuples or {}).items() if p not in stores})


def _note_classes(out, norm, params):
    """What planning takes from the normal form on the function ``out``: the classes of the
    objects and namedtuples made here and calls return, and of the entries of lists of objects
    made here and of the objects their attributes hold (callees given them are told the
    classes), and the names sure to hold dicts."""
    out.ad_returned_classes = {n: c for n, c in norm.object_classes.items() if n not in params}
    out.ad_inlined_globals = dict(norm.inlined_globals)
    out.ad_list_classes = {n: c for n, c in norm.list_classes.items() if n not in params}
    out.ad_namedtuples = {n: c for n, c in norm.namedtuples.items() if n not in params}
    out.ad_class_attributes = {k: c for k, c in norm.class_attributes.items()
                               if isinstance(c, type)}
    out.ad_sure_dicts = set(norm.sure_dicts) - params


def _bound_twice(body, resolver, same_list_loops=False) -> set:
    """Names ``body`` binds more than once, but not those only ever bound as the counter of
    loops over ``range`` (no other value's), nor, with ``same_list_loops``, those only ever bound
    as the variable of loops over one list (``for p in ps:`` twice: an entry of ``ps`` each
    time)."""
    counters = {id(loop.target) for st in body for loop in walk(st) if isinstance(loop, gast.For)
                and isinstance(loop.target, gast.Name) and isinstance(loop.iter, gast.Call)
                and resolver.resolve(loop.iter.func) is range}
    # (a comprehension's variables are its own: ``sum(p.e() for p in ps)`` binds no ``p`` here)
    inner = {id(n) for st in body for c in walk(st) if isinstance(c, gast.comprehension)
             for n in walk(c.target) if isinstance(n, gast.Name)}
    stores = [n.id for st in body for n in walk(st) if isinstance(n, gast.Name)
              and isinstance(n.ctx, gast.Store) and id(n) not in inner]
    other_stores = [n.id for st in body for n in walk(st)
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
                    and id(n) not in counters and id(n) not in inner]
    twice = {n for n in stores if stores.count(n) > 1 and n in other_stores}
    if same_list_loops:
        loops = [loop for st in body for loop in walk(st) if isinstance(loop, gast.For)]
        for n in list(twice):
            iterated = {loop.iter.id for loop in loops if isinstance(loop.target, gast.Name)
                        and loop.target.id == n and isinstance(loop.iter, gast.Name)}
            if len(iterated) == 1 and sum(isinstance(loop.target, gast.Name)
                                          and loop.target.id == n for loop in loops) \
                    == stores.count(n):
                twice.discard(n)
    return twice


def _growing(body) -> set:
    """The names of the lists ``body`` may grow (``xs.append(v)``, ``xs += ys``)."""
    return {n.func.value.id for st in body for n in walk(st) if isinstance(n, gast.Call)
            and isinstance(n.func, gast.Attribute) and n.func.attr in ("append", "extend", "insert")
            and isinstance(n.func.value, gast.Name)} | \
        {n.target.id for st in body for n in walk(st) if isinstance(n, gast.AugAssign)
         and isinstance(n.target, gast.Name) and isinstance(n.op, gast.Add)}


def _learn_argument_lists(norm, body, list_classes, stores):
    """The classes of the entries of list arguments ``body`` puts nothing into (``list_classes``:
    parameter -> class; ``stores``: the names ``body`` binds), and of lists it makes once of
    new objects of one class (``ps = [P(x) for x in xs]``): their entries' methods are
    inlined."""
    for p, cls in list_classes.items():
        if p not in stores and p not in norm.growing and not _stored_into(body, p):
            norm.list_classes.setdefault(p, cls)
            norm.argument_lists.add(p)
    for lst in norm.list_classes:
        if stores.count(lst) == 1 and lst not in norm.growing and not _stored_into(body, lst) \
                and lst not in norm.bound_twice:
            norm.argument_lists.add(lst)


def _stored_into(body, lst) -> bool:
    """Whether ``body`` stores into an entry of the list ``lst`` (``lst[i] = v``)."""
    return any(isinstance(n, gast.Subscript) and isinstance(n.ctx, gast.Store)
               and isinstance(n.value, gast.Name) and n.value.id == lst
               for st in body for n in walk(st))


def _learn_rebound_objects(norm, body, params, argument_classes):
    """Names bound more than once, always to objects of one class of the user's (``pos = pos +
    vel * dt``: that class's operators and methods; see ``classes``); a parameter too, given an
    object of that class (``argument_classes``: parameter -> the class of its argument)."""
    found = rebound_classes(body, norm.resolver.resolve, norm.object_classes, params,
                            argument_classes)
    for n, cls in found.items():
        if n in norm.bound_twice:
            norm.object_classes[n] = cls
            norm.returned_objects.add(n)
    norm.list_classes = element_classes(body, norm.resolver.resolve,
                                        {**found, **norm.object_classes})


def _lists_and_tables(norm, body, list_params, rewrite) -> set:
    """The names of ``body`` bound to new lists only (``sure_lists``), after the entry stores of
    tables among them are rewritten (when ``rewrite``: see ``tables``)."""
    resolver = norm.resolver
    lists = sure_lists(body, resolver.resolve, list_params)
    if rewrite:
        bound, rows = rewrite_table_stores(body, lists, norm.helper, norm.namer, norm.loc,
                                           resolver.resolve)
        resolver.locals |= bound
        lists |= rows
    return lists


def _param_kinds(args, sequences, dicts, classes) -> dict:
    """Parameter (of ``args``, a def's) -> whether its argument is a sequence
    (``sequences.SEQUENCE``: ``*args`` is a tuple), known to be something else (``OTHER``: a
    dict, ``**kwargs``, a set, an iterator) or not known (None)."""
    kinds = {p.id: SEQUENCE if sequences is None or p.id in sequences else OTHER
             if p.id in dicts else kind_of_object(classes[p.id]) if p.id in classes else None
             for p in args.posonlyargs + args.args + args.kwonlyargs}
    if args.vararg is not None:
        kinds[args.vararg.id] = SEQUENCE
    if args.kwarg is not None:
        kinds[args.kwarg.id] = OTHER
    return kinds


def params_of(fdef) -> set:
    args = fdef.args
    return {p.id for p in args.posonlyargs + args.args + args.kwonlyargs
            + [args.vararg, args.kwarg] if p is not None}
