"""Forward mode at the API: ``jvp`` (tangent code generated per function, positions and
argument kinds, and cached) and the Jacobian columns built from it, from one run of batched
tangent code on one-hot tangents where the function allows it, else one jvp per element.
``_differentiable_positions`` and ``_structure`` say which arguments vjp and jvp differentiate
and what shape a value (or a nest of them) has."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .. import arguments, compiler, runtime
from ..batched import Unbatchable
from ..callables import as_function
from ..errors import AdError, AdTypeError
from ..parse import unwrap
from ..runtime import CalleeRedefined
from .caches import _BATCHED, _JVPS, STATS, clear_cache
from .derived import _defaults_after, _params, _private, _target


def _differentiable_positions(args) -> tuple[int, ...]:
    """Positions of the arguments vjp and jvp differentiate: floats, float arrays, containers and
    complex numbers and arrays, plain objects (unknown types are refused by
    ``arguments.check``)."""
    out = []
    for i, a in enumerate(args):
        k = arguments.kind_of(a)
        if (
            k == "float"
            or (k == "scalar" and isinstance(a, np.floating))
            or k == arguments.COMPLEX
            or (
                isinstance(k, tuple)
                and (
                    (k[0] == "array" and k[2][1] in "fc")
                    or k[0] == compiler.CONTAINER
                    or (k[0] == "object" and arguments.plain_object(a))
                )
            )
        ):
            out.append(i)
    return tuple(out)


def _structure(value):
    """Shape of an array or scalar; nested for tuples, lists and dicts."""
    if isinstance(value, (tuple, list)):
        return tuple(_structure(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _structure(v))
                     for k, v in sorted(value.items(), key=lambda kv: repr(kv[0])))
    return np.shape(value)


def _jvp_function(fn, args, positions):
    target = _target(fn, args)
    kinds = tuple(map(arguments.kind_of, args))
    table = _JVPS.setdefault(unwrap(target), {})
    compiled = table.get((positions, kinds))
    if compiled is None:
        compiled = compiler.build_jvp(target, positions, kinds)
        STATS["generated"] += 1
        table[(positions, kinds)] = compiled
    return compiled.fn


def jvp(fn: Callable, primals: Sequence, tangents: Sequence, has_aux: bool = False
        ) -> tuple[Any, Any]:
    """Forward mode: ``(fn(*primals), tangent of the output along tangents)``, ``primals`` and
    ``tangents`` each a tuple or list with one entry per argument (JAX's ``jvp``). The tangent
    code is generated as its own function (``ad.source(fn, mode="forward")`` prints it). A
    tangent of None (or 0.0) is the zero tangent of its argument, whatever the argument's
    structure. ``has_aux=True``: ``fn`` returns ``(value, aux)``; the result is ``(value,
    tangent of value, aux)``."""
    fn = as_function(fn, "jvp")
    name = getattr(fn, "__qualname__", "f")
    for what, given in (("primals", primals), ("tangents", tangents)):
        if not isinstance(given, (tuple, list)):
            raise AdTypeError("jvp(f, primals, tangents): the %s must be a tuple or list with one "
                              "entry per argument, not %s" % (what, type(given).__name__),
                              function=name, hint="jvp(f, (x,), (v,)) for one argument")
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise AdTypeError("jvp needs one tangent per primal: got %d primals and %d tangents"
                          % (len(primals), len(tangents)), function=name)
    if has_aux:
        out, tangent = jvp(fn, primals, tangents)
        _check_pair(out, name)
        return out[0], tangent[0], out[1]
    # (the parameters left out run with their defaults, held fixed: a model given as one)
    defaults = _defaults_after(fn, len(primals))
    primals, tangents = primals + defaults, tangents + (None,) * len(defaults)
    # an argument whose tangent is None is held fixed: the code is generated without its tangent
    positions = tuple(p for p in _differentiable_positions(primals) if tangents[p] is not None)
    params = _params(fn)
    arguments.check(name, params, primals, positions)
    arguments.check(name, ["the tangent of %s" % p for p in params] + ["a tangent"] * len(tangents),
                    tangents, ())
    # 0.0 stands for the zero tangent of an argument of any structure
    tangents = tuple(runtime.cast_like(0.0, a) if i in positions
                     and (t is None or (t.__class__ is float and not t))
                     else t for i, (a, t) in enumerate(zip(primals, tangents)))
    for p in positions:
        if arguments.is_complex_kind(arguments.kind_of(tangents[p])) \
                and not arguments.is_complex_kind(arguments.kind_of(primals[p])):
            raise AdError("the tangent of %s is complex, the argument is real (tangent: %r)"
                          % (params[p] if p < len(params) else "argument %d" % p, tangents[p]),
                          function=name,
                          hint="pass a real tangent, or a complex argument (docs/complex.md)")
        if _structure(tangents[p]) != _structure(primals[p]):
            raise AdError("the tangent of argument %d has shape %s, the argument has shape %s "
                          "(tangent: %r)"
                          % (p, _structure(tangents[p]), _structure(primals[p]), tangents[p]),
                          function=name)
    directions = tuple(tangents[p] for p in positions)
    try:
        return _jvp_function(fn, primals, positions)(directions, *primals)
    except CalleeRedefined:
        clear_cache()
        return _jvp_function(fn, primals, positions)(directions, *primals)


def _check_pair(out, name):
    """An ``AdTypeError`` unless ``out``, the result of a function differentiated with
    ``has_aux=True``, is a pair ``(value, aux)``."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise AdTypeError("has_aux=True: %s must return a pair (value, aux), but it returned %s"
                          % (name, type(out).__name__), function=name,
                          hint="return (loss, aux), or drop has_aux")


def jvp_of_jvp(fn, primals, tangents, t_primals, t_tangents):
    """The tangent of ``jvp(fn, primals, tangents)[1]`` when its primals move along ``t_primals``
    and its tangents along ``t_tangents`` (None or 0.0: not moving): forward mode over the
    generated tangent code of ``fn``, which is linear in the tangents. Derivatives of any order
    of a function that calls a gradient function come down to this."""
    positions = tuple(p for p in _differentiable_positions(primals) if tangents[p] is not None)
    run = _jvp_function(fn, primals, positions)
    directions = tuple(_zero_if_none(tangents[p], primals[p]) for p in positions)
    moved = tuple(_zero_if_none(t_tangents[p], primals[p]) for p in positions)
    out = jvp(run, (directions,) + tuple(primals), (moved,) + tuple(t_primals))
    return out[1][1]


def _zero_if_none(t, like):
    return runtime.cast_like(0.0, like) if t is None or (t.__class__ is float and not t) else t


def real_jacobian(value, fn):
    """``value``, an entry of a Jacobian as a float array; an AdError if it is complex (the
    Jacobian of a complex function is not one real matrix: use vjp/jvp, docs/complex.md)."""
    if np.iscomplexobj(value):
        raise AdError("the Jacobian or Hessian of a function with complex arguments or results is "
                      "not supported yet", function=getattr(fn, "__qualname__", "f"),
                      hint="use ad.vjp and ad.jvp, which take complex values (docs/complex.md)")
    return np.asarray(value, dtype=float)


def _tree_leaves(value, path=()) -> list:
    """(path, leaf) of each leaf of ``value``: the entries of tuples, lists and dicts, nested
    (a dict's in its order); anything else is a leaf."""
    if isinstance(value, (tuple, list, dict)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return [pair for key, item in items for pair in _tree_leaves(item, path + (key,))]
    return [(path, value)]


def _at(value, path):
    """The entry of ``value`` at ``path`` (keys and indices, outermost first)."""
    for key in path:
        value = value[key]
    return value


def _rebuilt(value, leaves: dict, path=()):
    """``value`` with the entry at each path of ``leaves`` replaced (tuples, namedtuples, lists
    and dicts rebuilt around them)."""
    if path in leaves:
        return leaves[path]
    if isinstance(value, dict):
        return {k: _rebuilt(v, leaves, path + (k,)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_rebuilt(v, leaves, path + (k,)) for k, v in enumerate(value)]
        return value.__class__(*items) if hasattr(value, "_fields") else value.__class__(items)
    return value


def _structured(value) -> bool:
    """Whether a function's output is a tuple, list or dict: its Jacobian is then one per entry,
    in that structure (as JAX's)."""
    return isinstance(value, (tuple, list, dict))


def _zero_cotangent(value):
    """The zero cotangent of an output of any structure (0.0 for a number, zeros for an array)."""
    if isinstance(value, dict):
        return {k: _zero_cotangent(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return _rebuilt(value, {(k,): _zero_cotangent(v) for k, v in enumerate(value)})
    return np.zeros(np.shape(value)) if np.ndim(value) else 0.0


def _entry(tangent, path):
    """The entry of a structured output's tangent at ``path`` (0.0 when the tangent is 0.0,
    which stands for zeros of any structure)."""
    for key in path:
        if tangent.__class__ is float or tangent is None:
            return 0.0
        tangent = tangent[key]
    return tangent


def _forward_jacobian(fn, args, pos, structured=False):
    """Jacobian columns: from one run of batched tangent code (a batch of one-hot tangents) when
    the function allows it, else from one jvp per element of argument ``pos`` (tangent code w.r.t.
    that argument alone). ``structured``: for an output that is a tuple, list or dict, the
    Jacobian of each entry in that structure (JAX's ``jacfwd``); else the output is one array
    (a Hessian's gradient w.r.t. a list: the array it stacks into)."""
    x = real_jacobian(args[pos], fn) if np.iscomplexobj(args[pos]) else args[pos]
    named = hasattr(x, "_fields")  # (a namedtuple's tangent is one too: its code reads fields)
    if np.ndim(x) and not named:
        jac = _batched_jacobian(fn, args, pos, structured)
        if jac is not None:
            return jac
    run = _jvp_function(fn, args, (pos,))
    columns = []
    out = None
    for idx in np.ndindex(np.shape(x)):
        if np.ndim(x):
            tangent = np.zeros_like(x, dtype=float)
            tangent[idx] = 1.0
            tangent = type(x)(*tangent) if named else tangent
        else:
            tangent = 1.0
        out, t = run((tangent,), *_private(args))
        columns.append(t)
    if out is None:
        out = _target(fn, args)(*_private(args))
    # (each entry of a structured output: its columns stacked)
    leaves = _tree_leaves(out) if structured and _structured(out) else [((), out)]
    return _rebuilt(out, {path: _stacked_columns([_entry(t, path) for t in columns], leaf, x, fn)
                          for path, leaf in leaves})


def _stacked_columns(columns, out, x, fn):
    """The Jacobian of output ``out`` by ``x`` from its tangents along each one-hot tangent."""
    out_shape = np.shape(out)
    if not columns:
        return np.zeros(out_shape + np.shape(x))
    jac = np.stack([np.broadcast_to(real_jacobian(t, fn), out_shape) for t in columns], axis=-1)
    return np.reshape(jac, out_shape + np.shape(x))


def _batched_jacobian(fn, args, pos, structured=False):
    """The Jacobian w.r.t. array argument ``pos`` from one run of batched tangent code, or None
    when the function's tangent code cannot run on a batch."""
    run = _batched_code(fn, args, pos)
    return None if run is None else _batched_columns(run, fn, args, pos, structured)


def _batched_code(fn, args, pos):
    """The batched tangent code of ``fn`` w.r.t. argument ``pos`` for these arguments' kinds
    (generated once), or None when it cannot run on a batch."""
    target = _target(fn, args)
    kinds = tuple(map(arguments.kind_of, args))
    table = _BATCHED.setdefault(unwrap(target), {})
    if (pos, kinds) not in table:
        try:
            table[(pos, kinds)] = compiler.build_jvp(target, (pos,), kinds, batched=True).fn
            STATS["generated"] += 1
        except Unbatchable:
            table[(pos, kinds)] = None
    return table[(pos, kinds)]


def _batched_columns(run, fn, args, pos, structured=False):
    """The Jacobian w.r.t. array argument ``pos`` from one run of the batched tangent code
    ``run`` (``structured``: see ``_forward_jacobian``), or None when what it gives is not a
    batch of tangents."""
    x = np.asarray(args[pos])
    n = x.size
    try:
        out, t = run((np.eye(n, dtype=float).reshape((n,) + x.shape),), *_private(args))
    except (ValueError, IndexError, TypeError):
        # the column loop runs the function one tangent at a time (and reports real errors)
        return None
    if not (structured and _structured(out)):
        return _unbatched(out, t, x, fn)
    jacobians = {}
    for path, leaf in _tree_leaves(out):
        try:
            jacobians[path] = _unbatched(leaf, _entry(t, path), x, fn)
        except (KeyError, IndexError, TypeError, ValueError):  # (not the output's structure)
            return None
        if jacobians[path] is None:
            return None
    return _rebuilt(out, jacobians)


def _unbatched(out, t, x, fn):
    """The Jacobian of output ``out`` by ``x`` from its batch of tangents ``t`` (one per element
    of ``x``), or None when ``t`` is not such a batch."""
    n = x.size
    out_shape = np.shape(out)
    t = real_jacobian(t, fn)
    if t.shape != (n,) + out_shape:
        if t.ndim and np.any(t):
            return None  # not a batch of tangents: let the column loop decide
        t = np.zeros((n,) + out_shape)
    t = t.reshape((n,) + out_shape)  # (the batch axis last: np.moveaxis(t, 0, -1))
    return t.transpose(tuple(range(1, t.ndim)) + (0,)).reshape(out_shape + x.shape)
