"""``jacobian`` and ``hessian``: whole derivative matrices built from the generated vjp and jvp
code, on a batch of one-hot cotangents or tangents where the code allows it (batched forward
mode, over the backward function for reverse mode), else one pullback per output element or
one jvp per input element."""
from __future__ import annotations

import functools
import re
import weakref
from typing import Callable

import numpy as np

from .. import arguments, compiler
from ..batched import Unbatchable
from ..callables import as_function
from ..errors import AdError, AdTypeError
from ..parse import define, unwrap
from ..runtime import CalleeRedefined
from .caches import _BATCHED, STATS, FastPaths
from .derived import (
    Wrt,
    _array_key,
    _as_called,
    _as_derived,
    _by_position,
    _check_differentiable,
    _params,
    _positions,
    _private,
    _target,
)
from .gradients import grad
from .pullbacks import _pullback, _split
from .tangents import (
    _at,
    _batched_code,
    _batched_columns,
    _forward_jacobian,
    _rebuilt,
    _structured,
    _tree_leaves,
    _zero_cotangent,
    real_jacobian,
)


def jacobian(fn: Callable, wrt: Wrt = 0, mode: str = "reverse", *, argnums: Wrt | None = None
             ) -> Callable:
    """The Jacobian of ``fn`` w.r.t. ``wrt``, shape ``out.shape + arg.shape`` (JAX's ``jacrev``
    and ``jacfwd``; ``argnums`` is another name for ``wrt``). For an output that is a tuple, list
    or dict, the Jacobian of each entry in that structure (with a tuple ``wrt``: a tuple of
    Jacobians in each place, as JAX's).
    Keyword arguments of a call are passed to ``fn`` and not differentiated.
    ``mode="reverse"`` builds it from vjps (one backward pass on a batch of one-hot cotangents
    when the code allows it, else one per output element), ``mode="forward"`` from jvps
    (likewise batched, else one per input element). The Jacobian of a gradient
    (``ad.jacobian(ad.grad(f))``, a Hessian) is always forward mode over the generated
    gradient."""
    if mode not in ("reverse", "forward"):
        raise AdError("unknown jacobian mode %r: use 'reverse' or 'forward'" % (mode,))
    wrt = _wrt_or_argnums(wrt, argnums, "jacobian")
    fn = as_function(fn, "jacobian")

    @functools.wraps(fn)
    def jac(*args, **keywords):
        args = _by_position(fn, args, keywords)
        if hasattr(fn, "__adcompiler_jacobian__"):  # jacobian(jacobian(f)): see _as_source
            return jacobian(_as_source(fn.__adcompiler_jacobian__, args), wrt, mode)(*args)
        positions, many = _positions(_as_called(fn, len(args)), wrt)
        _check_differentiable(_as_called(fn, len(args)), args, positions)
        _check_stacked(_as_called(fn, len(args)), args, positions)
        for p in positions:  # (a complex argument: no one real matrix)
            real_jacobian(args[p], fn) if np.iscomplexobj(args[p]) else None
        # (a gradient's Jacobian: forward over reverse)
        if mode == "reverse" and _as_derived(fn) is None:
            batched = _batched_reverse_jacobian(fn, args, positions)
            if batched is not None:
                return _as_result(batched, many)
            out, pullback = _pullback(fn, _private(args), positions)
            if _structured(out):
                result = _structured_rows(pullback, out, args, positions, fn)
            else:
                real_jacobian(out, fn)
                result = _rows_by_pullback(pullback, np.shape(out), args, positions)
        else:
            result = [_forward_jacobian(fn, args, p, structured=True) for p in positions]
        return _as_result(result, many)
    jac.__adcompiler_jacobian__ = (fn, wrt)
    return jac


def _wrt_or_argnums(wrt, argnums, api):
    """``wrt``, or ``argnums`` (JAX's name for it) when that is given instead."""
    if argnums is None:
        return wrt
    if not (isinstance(wrt, int) and not isinstance(wrt, bool) and wrt == 0):
        raise AdTypeError("%s: give wrt or argnums (the same thing, JAX's name), not both"
                          % api)
    return argnums


def _as_result(result, many):
    """The Jacobians w.r.t. each position (arrays, or structures of arrays for a structured
    output) as returned: a float for a 0-d one; with a tuple ``wrt``, a tuple of them, or for a
    structured output the output's structure with a tuple in each place (JAX's order)."""
    def scalar(r):
        return r if np.ndim(r) else float(r)
    first = result[0]
    if not isinstance(first, (tuple, list, dict)):
        result = [scalar(r) for r in result]
        return tuple(result) if many else result[0]
    return _rebuilt(first, {path: tuple(scalar(_at(r, path)) for r in result) if many
                            else scalar(leaf) for path, leaf in _tree_leaves(first)})


def _structured_rows(pullback, out, args, positions, fn):
    """For an output that is a tuple, list or dict: the Jacobian of each entry w.r.t.
    ``positions``, one pullback per element of each entry (its one-hot cotangent, zeros for the
    other entries); one structure like ``out`` per position."""
    zero = _zero_cotangent(out)
    blocks = [{} for _ in positions]
    for path, leaf in _tree_leaves(out):
        real_jacobian(leaf, fn)

        def entry_pullback(cotangent, path=path):
            return pullback(_rebuilt(zero, {path: cotangent}))
        rows = _rows_by_pullback(entry_pullback, np.shape(leaf), args, positions)
        for k, block in enumerate(rows):
            blocks[k][path] = block
    return [_rebuilt(out, b) for b in blocks]


def _check_stacked(fn, args, positions):
    """A Jacobian's (or Hessian's) columns w.r.t. a list or tuple argument are those of the array
    its entries stack into, with tangents of that array's shape (a namedtuple's: of its class):
    an ``AdError`` for a container that is no such array (a dict, entries of different shapes, an
    entry that is itself a namedtuple, a dict or an object)."""
    params = _params(fn)
    for i in positions:
        value = args[i]
        if isinstance(value, (float, int, np.ndarray, np.generic)):
            continue
        if isinstance(value, (list, tuple)) and _stacks(value):
            continue
        raise AdError("the Jacobian or Hessian w.r.t. %r, a %s, is not supported: its entries do "
                      "not stack into one float array" % (params[i], type(value).__name__),
                      function=fn.__qualname__,
                      hint="pass the values as one array (np.stack or np.concatenate them, and "
                           "take them apart inside the function), or take the gradient, which "
                           "has the argument's structure")


def _stacks(value) -> bool:
    """Whether a list or tuple holds floats, arrays or plain lists and tuples of them that stack
    into one float array (entries of one shape)."""
    def plain(v):
        if isinstance(v, (list, tuple)):
            return type(v) in (list, tuple) and all(map(plain, v))
        return isinstance(v, (float, int, np.ndarray, np.generic))
    if not all(map(plain, value)):
        return False
    try:
        return np.asarray(value, dtype=float).ndim > 0
    except (ValueError, TypeError):
        return False


_SOURCES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # inner fn -> {key: fn}


def _as_source(inner, args):
    """For ``jacobian(jacobian(f))``: the inner Jacobian at arguments like ``args`` as a Python
    function the compiler differentiates, one generated gradient per output element of ``f``
    (``row_i = grad(lambda *a: ravel(f(*a))[i])``) stacked and reshaped; cached per ``f``, ``wrt``
    and shapes."""
    fn, wrt = inner
    params = _params(fn)
    (pos,), many = _positions(fn, wrt)
    if many or len(args) != len(params):
        raise AdError("the Jacobian of a Jacobian needs the inner one w.r.t. one argument, with "
                      "every argument passed by position", function=fn.__qualname__)
    out = fn(*_private(args))
    shape = np.shape(out) + np.shape(args[pos])
    key = (pos, shape, tuple(np.shape(a) for a in args))
    made = _SOURCES.setdefault(unwrap(fn), {})
    if key not in made:
        names = ", ".join(params)
        rows = {}
        for i in range(max(1, np.size(out))):
            component = define("def component_%d(%s):\n    return np.ravel(fn(%s))[%d]\n"
                               % (i, names, names, i), "component_%d" % i, {"np": np, "fn": fn},
                               "<jacobian of %s: output %d>" % (fn.__qualname__, i))
            rows["row%d" % i] = grad(component, wrt=pos)
        stacked = ", ".join("%s(%s)" % (r, names) for r in rows)
        label = "jacobian_of_" + re.sub(r"\W", "", fn.__name__)  # (<lambda>: lambda)
        made[key] = define("def %s(%s):\n    return np.reshape(np.stack([%s]), "
                           "shape)\n" % (label, names, stacked),
                           label, {"np": np, "shape": shape, **rows},
                           "<jacobian of %s>" % fn.__qualname__)
    return made[key]


def _batched_reverse_jacobian(fn, args, positions):
    """Jacobians w.r.t. ``positions`` from one run of the backward pass on a batch of one-hot
    cotangents (batched forward mode over the generated backward function, which is linear in
    its cotangent), or None when it cannot run on a batch."""
    pair, differentiable = _split(fn, args, positions)
    if any(not isinstance(args[p], np.ndarray) for p in positions):
        return None
    try:
        out, saved = pair.forward(*_private(args))
    except CalleeRedefined:
        return None  # the row loop regenerates the code
    if not isinstance(out, np.ndarray) or out.dtype.kind != "f":
        return None
    kinds = ((arguments.TUPLE_OF, tuple(map(arguments.kind_of, saved))), arguments.kind_of(out))
    table = _BATCHED.setdefault(unwrap(pair.backward), {})
    if kinds not in table:
        try:
            table[kinds] = compiler.build_jvp(pair.backward, (1,), kinds, batched=True).fn
            STATS["generated"] += 1
        except Unbatchable:
            table[kinds] = None
    run = table[kinds]
    if run is None:
        return None
    m = out.size
    try:
        _, tangents = run((np.eye(m, dtype=float).reshape((m,) + out.shape),), saved,
                          np.zeros_like(out))
    except (ValueError, IndexError, TypeError):
        return None
    result = []
    for p in positions:
        t = tangents[differentiable.index(p)] if isinstance(tangents, tuple) else None
        shape = np.shape(args[p])
        if np.shape(t) != (m,) + shape:
            if t is None or (np.ndim(t) and np.any(t)):
                return None
            t = np.zeros((m,) + shape)
        result.append(np.reshape(np.asarray(t, dtype=float), out.shape + shape))
    return result


def hessian(fn: Callable, wrt: Wrt = 0, mode: str = "forward", *,
            argnums: Wrt | None = None) -> Callable:
    """Second derivatives of scalar ``fn``, shape ``arg.shape + arg.shape`` (for a tuple ``wrt``, a
    tuple of rows of blocks ``H[a][b]`` of shape ``arg_a.shape + arg_b.shape``), JAX's
    ``hessian`` (``argnums`` is another name for ``wrt``). Keyword arguments of a call are
    passed to ``fn`` and not differentiated.

    ``mode="forward"`` runs forward mode over the generated gradient code (forward-over-reverse:
    Hessian-vector products, on a batch of one-hot tangents where the code allows it).
    ``mode="reverse"`` runs reverse mode over it (reverse-over-reverse: the generated gradient,
    tape operations included, differentiated again in split motion; one backward pass per row)."""
    if mode not in ("forward", "reverse"):
        raise AdError("unknown hessian mode %r: use 'forward' or 'reverse'" % (mode,))
    wrt = _wrt_or_argnums(wrt, argnums, "hessian")
    fn = as_function(fn, "hessian")
    gradients = {}  # position -> grad(fn, wrt=position): its code and dispatch made once
    # (_array_key of float array arguments -> the batched tangent code of each block, for calls
    # seen before: their classes, shapes and dtypes decide every check below)
    fast = FastPaths()

    @functools.wraps(fn)
    def hess(*args, **keywords):
        args = _by_position(fn, args, keywords)
        blocks = _by_batched_code(fast.get(_array_key(args)), args)
        if blocks is not None:
            return blocks
        positions, many = _positions(_as_called(fn, len(args)), wrt)
        _check_differentiable(_as_called(fn, len(args)), args, positions)
        _check_stacked(_as_called(fn, len(args)), args, positions)
        for p in positions:  # (a complex argument: no one real matrix)
            real_jacobian(args[p], fn) if np.iscomplexobj(args[p]) else None
        rows = [gradients.get(a) or gradients.setdefault(a, grad(fn, wrt=a)) for a in positions]
        blocks = [_hessian_rows(g, args, positions, mode) for g in rows]
        if mode == "forward" and not keywords and all(a.__class__ is np.ndarray
                                                      and a.dtype.kind == "f" for a in args):
            runs = [[(_batched_code(g, args, b), g, b) for b in positions] for g in rows]
            if all(run[0] is not None for row in runs for run in row):
                fast[_array_key(args)] = (runs, many)
        return _as_blocks(blocks, many)
    if not isinstance(wrt, (tuple, list)):
        hess.__adcompiler_jacobian__ = (grad(fn, wrt=wrt), wrt)  # (the Jacobian of the gradient)
    return hess


def _as_blocks(blocks, many):
    blocks = [[b if np.ndim(b) else float(b) for b in row] for row in blocks]
    return tuple(tuple(row) for row in blocks) if many else blocks[0][0]


def _by_batched_code(known, args):
    """A Hessian from the batched tangent code of each block (``known``: what a call with
    arguments of these classes, shapes and dtypes found), or None (unknown, or not a batch)."""
    if known is None:
        return None
    runs, many = known
    try:
        blocks = [[_batched_columns(run, g, args, b) for run, g, b in row] for row in runs]
    except CalleeRedefined:
        return None  # (the general path generates the code again)
    if any(b is None for row in blocks for b in row):
        return None
    return _as_blocks(blocks, many)


def _hessian_rows(g, args, positions, mode):
    """The blocks ``d(df/d arg_a) / d arg_b`` for every ``b`` in ``positions``, ``g`` being
    ``grad(f, wrt=a)`` (the checks of ``jacobian(g, wrt=b)`` were made by ``hessian``)."""
    if mode == "forward":
        return [_forward_jacobian(g, args, b) for b in positions]
    gradient, pullback = _pullback(_target(g, args), _private(args), positions)
    return _rows_by_pullback(pullback, np.shape(gradient), args, positions)


def _rows_by_pullback(pullback, out_shape, args, positions):
    """Jacobian blocks w.r.t. ``positions`` from one pullback call per output element (one-hot
    cotangents), each of shape ``out_shape + arg.shape``."""
    rows = {p: [] for p in positions}
    for idx in np.ndindex(out_shape):
        seed = np.zeros(out_shape)
        seed[idx] = 1.0
        parts = pullback(seed if out_shape else 1.0)
        for p in positions:
            rows[p].append(real_jacobian(parts[p], pullback))
    return [np.reshape(np.array(rows[p]), out_shape + np.shape(args[p])) for p in positions]
