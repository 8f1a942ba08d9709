"""Adjoint helpers of individual NumPy rules (the ones too long for a one-line template). Each
takes the result's adjoint ``g`` (possibly the scalar zero 0.0) and returns the adjoint of one
argument, in that argument's shape."""
from __future__ import annotations

import numpy as np

from ..errors import COMPLEX_HINT, COMPLEX_UNSUPPORTED, AdError, error_at
from ..runtime import (
    container_adjoint,
    dense,
    dmatmul_left,
    dmatmul_right,
    element,
    expand_like,
    unbroadcast,
    unreduce,
)

_float = float
_INF = float("inf")


def _zero(g):
    return g.__class__ is _float and not g


def dpow_base(g, x, y):
    """Adjoint of ``x`` in ``x ** y`` for a variable exponent: zero where ``y`` is 0 (``x ** -1``
    would be inf, or an error for floats, at x = 0: polynomials written ``c[i] * x ** i``), where
    ``g`` is 0 (a zero tangent contributes nothing) and at x = 0 for y < 1, where the derivative
    is infinite and taken as 0 (see ``nonzero_or_inf``)."""
    if np.ndim(y) == 0 and np.ndim(g) == 0:
        if y == 0 or not g:
            return 0.0 * g
        if np.ndim(x) == 0:
            return g * y * x ** (y - 1) if x != 0 or y >= 1 else 0.0 * g * x
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((y == 0) | (g == 0), 0.0, g * y * _power_or_zero(x, y - 1.0))


def _power_or_zero(x, p):
    """``x ** p``, and 0 where x is 0 and p < 0: a derivative of a power that is infinite there."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((x == 0) & (p < 0), 0.0, np.power(x, p))


def _where_nonzero(factor, value):
    """``value`` where ``factor`` is non-zero, else 0 (``value`` may be nan or inf there)."""
    if np.ndim(factor) == 0:
        return value() if factor != 0 else 0.0 * factor
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(factor == 0, 0.0, value())


def dpow_base_jvp(v, x, y, t_v, t_x, t_y):
    """Tangent of ``dpow_base(v, x, y)`` (forward mode over gradient code)."""
    out = dpow_base(t_v, x, y)
    if not _zero(t_x):
        out = out + _where_nonzero(y * (y - 1), lambda: v * t_x * y * (y - 1) * _power_or_zero(x, y - 2.0))
    if not _zero(t_y):
        out = out + _where_nonzero(t_y * x, lambda: t_y * v * np.power(x, y - 1.0) * (1.0 + y * np.log(x)))
    return out


def dpow_base_x_back(g, v, x, y):
    """Adjoint of ``x`` in ``dpow_base(v, x, y)`` (reverse over gradient code)."""
    return _where_nonzero(y * (y - 1), lambda: g * v * y * (y - 1) * _power_or_zero(x, y - 2.0))


def dpow_base_y_back(g, v, x, y):
    """Adjoint of ``y`` in ``dpow_base(v, x, y)`` (reverse over gradient code)."""
    return _where_nonzero(g * v * x, lambda: g * v * np.power(x, y - 1.0) * (1.0 + y * np.log(x)))


def dpow_exponent_x_back(g, v, out, x):
    """Adjoint of ``x`` in ``dpow_exponent(v, out, x)`` (reverse over gradient code)."""
    return _where_nonzero(v, lambda: g * v * out / nonzero_or_inf(x))


def dpow_exponent_jvp(v, ans, x, t_v, t_ans, t_x):
    """Tangent of ``dpow_exponent(v, ans, x)``."""
    out = dpow_exponent(t_v, ans, x)
    if not _zero(t_ans):
        out = out + dpow_exponent(v * t_ans, 1.0, x)
    if not _zero(t_x):
        out = out + _where_nonzero(v, lambda: v * ans * t_x / nonzero_or_inf(x))
    return out


def dpow_exponent(g, ans, x):
    """Adjoint of ``y`` in ``x ** y``, ``g * ans * log(x)``, with JAX's convention at a zero base:
    0 there (``x ** y`` is 0 or 1 near it for y >= 0; NaN where the result is infinite); and zero
    where ``g`` is zero, so an exponent with a zero tangent (a loop counter in forward-over-reverse)
    never meets log(x < 0)."""
    if g.__class__ is _float and not g:
        return g
    if np.ndim(g) == 0 and np.ndim(x) == 0:
        return g * ans * (np.log(x) if x != 0 else 0.0) if g else 0.0 * g
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(g == 0, 0.0, g * ans * np.log(np.where(x == 0, 1.0, x)))


def result_dtype(a, dtype):
    """The dtype of ``np.full_like(a, ..., dtype)``: ``dtype``, or ``a``'s when it is None."""
    if dtype is not None:
        return dtype
    return a.dtype if isinstance(a, np.ndarray) else np.asarray(a).dtype


def real_adjoint(g, x, site):
    """``g``, for a function whose rule is written for real ``x`` (abs, real, imag, conj, angle:
    not holomorphic). A complex ``x`` is an AdError at the call ``site`` (complex values inside
    differentiated code are not supported yet), never a silently wrong derivative."""
    if (x.dtype.kind == "c") if x.__class__ is np.ndarray else isinstance(x, (complex, np.complexfloating)):
        raise error_at(site, "its derivative is written for real values, and this one is complex: "
                       + COMPLEX_UNSUPPORTED, hint=COMPLEX_HINT)
    return g


def logsumexp_back(g, a, b, ans, axis=None, keepdims=False, wrt=0):
    """Adjoint of ``a`` (``wrt`` 0) or of the weights ``b`` (1) in
    ``scipy.special.logsumexp(a, axis, b, keepdims)``: ``g * b * exp(a - ans)`` and
    ``g * exp(a - ans)``, over the shape ``a`` and ``b`` broadcast to (``b`` None: weights 1)."""
    if _zero(g):
        return g
    full = a if b is None else np.broadcast_to(a, np.broadcast_shapes(np.shape(a), np.shape(b)))
    share = unreduce(g, full, axis, keepdims) * np.exp(full - unreduce(ans, full, axis, keepdims))
    if wrt == 1:
        return unbroadcast(share, b)
    return unbroadcast(share if b is None else share * b, a)


def logsumexp_jvp(a, b, ans, t_a, t_b, axis=None, keepdims=False):
    """Tangent of ``scipy.special.logsumexp(a, axis, b, keepdims)``: the sum along ``axis`` of
    ``exp(a - ans) * (b * t_a + t_b)``."""
    full = a if b is None else np.broadcast_to(a, np.broadcast_shapes(np.shape(a), np.shape(b)))
    weighted = t_a if b is None else b * t_a
    return np.sum(np.exp(full - unreduce(ans, full, axis, keepdims)) * (weighted + t_b), axis=axis,
                  keepdims=keepdims)


def cumsum_back(g, a, axis=None):
    """Adjoint of ``np.cumsum(a, axis)``: a reversed cumulative sum."""
    if _zero(g):
        return g
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(np.ravel(g)))), np.shape(a))
    out = np.flip(np.cumsum(np.flip(g, axis), axis), axis)
    return out if np.ndim(a) else np.reshape(out, ())  # (np.cumsum(a number, axis=0) has shape (1,))


def cumprod_back(g, ans, a, axis=None):
    """Adjoint of ``np.cumprod(a, axis)``: for each entry, the products of the entries before it
    times the adjoints of the products it is in, divided by nothing (right where entries are 0)."""
    if _zero(g):
        return g
    if np.all(a):  # (the short form)
        if axis is None:
            return np.reshape(cumsum_back(np.ravel(g * ans), np.ravel(a), 0) / np.ravel(a), np.shape(a))
        return cumsum_back(g * ans, a, axis) / a
    moved, back = _first_axis(np.asarray(a, dtype=float), axis)
    gm = np.broadcast_to(g, moved.shape) if axis is None else _first_axis(np.broadcast_to(g, np.shape(a)), axis)[0]
    before = _exclusive_cumprod(moved)
    later = np.empty_like(moved)  # later[j] = g[j] + a[j+1] * later[j+1]
    later[-1] = gm[-1]
    for j in range(len(moved) - 2, -1, -1):
        later[j] = gm[j] + moved[j + 1] * later[j + 1]
    return back(before * later)


def _first_axis(x, axis):
    """(``x`` with ``axis`` first, or raveled for None; the function putting a result back)."""
    if axis is None:
        return np.ravel(x), lambda y: np.reshape(y, np.shape(x))
    return np.moveaxis(x, axis, 0), lambda y: np.moveaxis(y, 0, axis)


def _exclusive_cumprod(x):
    """Products of the entries before each one along the first axis (1 for the first)."""
    return np.cumprod(np.concatenate([np.ones_like(x[:1]), x[:-1]]), axis=0)


def _dual_cumprod(x, t):
    """Cumulative products along the first axis of ``x + e t`` (e * e = 0): values and tangents,
    computed without dividing by entries (which may be 0)."""
    p, dp = np.empty_like(x), np.empty_like(x)
    p[0], dp[0] = x[0], t[0]
    for j in range(1, len(x)):
        p[j] = p[j - 1] * x[j]
        dp[j] = dp[j - 1] * x[j] + p[j - 1] * t[j]
    return p, dp


def diff_back(g, a, n=1, axis=-1):
    """Adjoint of ``np.diff(a, n, axis)``."""
    if _zero(g):
        return g
    for _ in range(n):
        shape = list(np.shape(g))
        shape[axis] = 1
        pad = np.zeros(shape)
        g = np.concatenate([pad, g], axis) - np.concatenate([g, pad], axis)
    return g


def trace_back(g, a, offset=0, axis1=0, axis2=1):
    """Adjoint of ``np.trace``: ``g`` on the (offset) diagonal."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    a = np.asarray(a)
    eye = np.eye(a.shape[axis1], a.shape[axis2], k=offset)
    eye = np.moveaxis(eye.reshape(eye.shape + (1,) * (a.ndim - 2)), (0, 1), (axis1, axis2))
    return eye * np.expand_dims(np.asarray(g), (axis1, axis2)) if a.ndim > 2 else eye * g


def diag_back(g, v, k=0):
    """Adjoint of ``np.diag(v, k)`` (builds a matrix from a vector, or takes a diagonal)."""
    if _zero(g):
        return g
    if np.ndim(v) == 1:
        return np.diag(g, k)
    out = np.zeros(np.shape(v))
    i = np.arange(len(g))
    out[i + max(-k, 0), i + max(k, 0)] = g
    return out


def diagonal_back(g, a, offset=0, axis1=0, axis2=1):
    """Adjoint of ``np.diagonal``."""
    if _zero(g):
        return g
    out = np.zeros(np.shape(a))
    view = np.diagonal(out, offset, axis1, axis2)
    view.setflags(write=True)
    view[...] = g
    return out


def vstack_back(g, tup):
    """Adjoint of ``np.vstack(tup)``."""
    if _zero(g):
        return _pieces_like(g, tup)
    sizes = np.cumsum([np.atleast_2d(t).shape[0] for t in tup])[:-1]
    return _pieces_like([np.reshape(p, np.shape(t)) for p, t in zip(np.split(g, sizes, axis=0), tup)], tup)


def hstack_back(g, tup):
    """Adjoint of ``np.hstack(tup)``."""
    if _zero(g):
        return _pieces_like(g, tup)
    axis = 0 if np.ndim(tup[0]) == 1 else 1
    sizes = np.cumsum([np.shape(np.atleast_1d(t))[axis] for t in tup])[:-1]
    return _pieces_like([np.reshape(p, np.shape(t)) for p, t in zip(np.split(g, sizes, axis=axis), tup)], tup)


def r_items_back(g, items):
    """Adjoints of the items of ``np.r_[items]``: pieces along the first axis (a number or a 0-d
    array took one row)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    return _concatenated_back(g, items, 0, [np.shape(i)[0] if np.ndim(i) else 1 for i in items])


def c_items_back(g, items):
    """Adjoints of the items of ``np.c_[items]``: pieces along the last axis (a number or a vector
    took one column)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    return _concatenated_back(g, items, -1, [np.shape(i)[-1] if np.ndim(i) >= 2 else 1 for i in items])


def dense_items(g, items):
    """The adjoints ``g`` of ``items`` as arrays of their shapes (0.0, a zero adjoint, as zeros)."""
    if _zero(g):
        return [np.zeros(np.shape(i)) for i in items]
    return [np.zeros(np.shape(i)) if _zero(p) else p for p, i in zip(g, items)]


def _concatenated_back(g, items, axis, sizes):
    if _zero(g):
        return [g] * len(items)
    bounds = np.cumsum(sizes)[:-1]
    return [np.reshape(p, np.shape(i)) for p, i in zip(np.split(g, bounds, axis=axis), items)]


def split_back(g, ary, indices_or_sections, axis=0):
    """Adjoint of ``np.split`` / ``np.array_split``: the pieces' adjoints joined (zeros where a
    piece got none)."""
    if _zero(g):
        return g
    pieces = np.array_split(np.zeros(np.shape(ary)), indices_or_sections, axis=axis)
    parts = [z if _zero(q) else np.broadcast_to(q, z.shape) for q, z in zip(g, pieces)]
    return np.concatenate(parts, axis=axis)


def tile_back(g, a, reps):
    """Adjoint of ``np.tile(a, reps)``: sum the tiles."""
    if _zero(g):
        return g
    shape = np.shape(a)
    reps = (reps,) if np.isscalar(reps) else tuple(reps)
    nd = max(len(shape), len(reps))
    shape = (1,) * (nd - len(shape)) + tuple(shape)
    reps = (1,) * (nd - len(reps)) + reps
    split = []
    for r, n in zip(reps, shape):
        split += [r, n]
    summed = np.sum(np.reshape(g, split), axis=tuple(range(0, 2 * nd, 2)))
    return np.reshape(summed, np.shape(a))


def repeat_back(g, a, repeats, axis=None):
    """Adjoint of ``np.repeat(a, repeats, axis)``."""
    if _zero(g):
        return g
    if axis is None:
        flat = np.ravel(a)
        idx = np.repeat(np.arange(flat.size), repeats)
        out = np.zeros(flat.size)
        np.add.at(out, idx, np.ravel(g))
        return np.reshape(out, np.shape(a))
    n = np.shape(a)[axis]
    idx = np.repeat(np.arange(n), repeats)
    out = np.zeros(np.shape(a))
    np.add.at(np.moveaxis(out, axis, 0), idx, np.moveaxis(g, axis, 0))
    return out


def roll_back(g, shift, axis=None):
    """Adjoint of ``np.roll(a, shift, axis)``."""
    if _zero(g):
        return g
    back = -np.asarray(shift) if not np.isscalar(shift) else -shift
    return np.roll(g, tuple(back) if np.ndim(back) else back, axis)


def others_product(a, axis=None):
    """For each entry of ``a``, the product of the other entries it is reduced with along
    ``axis`` (all of them for None): the derivative of ``np.prod``, also where entries are 0
    (``ans / a`` is 0 / 0 there), from products of the entries before and after each one."""
    a = np.asarray(a)
    if a.size == 0:
        return np.ones_like(a)  # (no entries: nothing to differentiate)
    axes = tuple(range(a.ndim)) if axis is None else ((axis,) if np.ndim(axis) == 0 else tuple(axis))
    axes = tuple(ax % a.ndim for ax in axes) if a.ndim else ()
    rest = [ax for ax in range(a.ndim) if ax not in axes]
    moved = np.transpose(a, rest + list(axes))
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), dtype=flat.dtype)
    before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.transpose((before * after).reshape(moved.shape), np.argsort(rest + list(axes)))


def others_product_jvp(a, t, axis=None):
    """Tangent of ``others_product(a, axis)`` along ``t`` (and, the Jacobian being symmetric, its
    adjoint for the adjoint ``t``): from the tangents of the products before and after each entry."""
    if _zero(t):
        return t
    a = np.asarray(a, dtype=float)
    t = np.broadcast_to(t, a.shape)
    if a.size == 0:
        return np.zeros_like(a)
    axes = tuple(range(a.ndim)) if axis is None else ((axis,) if np.ndim(axis) == 0 else tuple(axis))
    axes = tuple(ax % a.ndim for ax in axes) if a.ndim else ()
    rest = [ax for ax in range(a.ndim) if ax not in axes]
    order = rest + list(axes)

    def flat(x):
        moved = np.transpose(x, order)
        return np.moveaxis(moved.reshape(moved.shape[:len(rest)] + (-1,)), -1, 0), moved.shape
    fa, shape = flat(a)
    ft, _ = flat(t)
    ones, zeros = np.ones_like(fa[:1]), np.zeros_like(fa[:1])
    before, dbefore = _dual_cumprod(np.concatenate([ones, fa[:-1]]), np.concatenate([zeros, ft[:-1]]))
    after, dafter = _dual_cumprod(np.concatenate([ones, fa[:0:-1]]), np.concatenate([zeros, ft[:0:-1]]))
    out = dbefore * after[::-1] + before * dafter[::-1]
    return np.transpose(np.moveaxis(out, 0, -1).reshape(shape), np.argsort(order))


def nonzero_or_one(a):
    """``a`` with its zeros replaced by 1: the divisor of a derivative such as hypot's ``x / ans``,
    which is then 0 where ``ans`` (and ``x``) is 0, the subgradient there, not 0 / 0."""
    if a.__class__ is np.ndarray:
        return np.where(a == 0, 1.0, a).astype(a.dtype, copy=False)
    return a if a else a.__class__(1.0)


def nonzero_or_inf(a):
    """``a`` with its zeros replaced by inf: the divisor of a derivative that is infinite where the
    function's value is finite (sqrt and cbrt at 0, ``x ** 0.5`` at 0, arcsin at 1), which is then
    taken as 0 there, the subgradient, as for hypot and norm at 0. A locally constant input then
    gives gradient 0 (``np.sqrt(np.maximum(x, 0))`` for x < 0, ``np.arccos(np.clip(c, -1, 1))`` for
    c > 1), not the NaN of inf * 0. Without zeros, ``a`` itself: no copy on the hot path."""
    if a.__class__ is np.ndarray:
        if (np.count_nonzero(a) == a.size) if a.size < 4096 else a.all():  # (the faster test at each size)
            return a
        return np.where(a == 0, np.inf, a).astype(a.dtype, copy=False)
    return a if a else _INF


def _unsupported(message, hint):
    """The AdError a helper raises for a case its rule does not cover (seen only at run time)."""
    return AdError(message, hint=hint)


def pad_back(g, array, pad_width, mode="constant"):
    """Adjoint of constant-mode ``np.pad``: the centre of ``g``."""
    if mode != "constant":
        raise _unsupported("the gradient of np.pad is supported for mode='constant' only, not %r" % (mode,),
                           "pad with mode='constant', or build the padding with np.concatenate")
    if _zero(g):
        return g
    widths = np.broadcast_to(np.asarray(pad_width), (np.ndim(array), 2))
    index = tuple(slice(int(lo), int(g.shape[i] - hi)) for i, (lo, hi) in enumerate(widths))
    return g[index]


def take_back(g, a, indices, axis=None):
    """Adjoint of ``np.take(a, indices, axis)`` (repeated indices add up)."""
    out = np.zeros(np.shape(a))
    if _zero(g):
        return out
    if axis is None:
        flat = out.reshape(-1)
        np.add.at(flat, indices, g)
        return flat.reshape(np.shape(a))
    np.add.at(np.moveaxis(out, axis, 0), indices, np.moveaxis(np.asarray(g), axis, 0) if np.ndim(indices)
              else np.asarray(g))
    return out


def take_along_axis_back(g, arr, indices, axis):
    """Adjoint of ``np.take_along_axis``."""
    out = np.zeros(np.shape(arr))
    if _zero(g):
        return out
    arr_shape = np.shape(arr)
    axis = axis % len(arr_shape)
    grids = np.ogrid[tuple(slice(n) for n in np.shape(indices))]
    index = tuple(indices if i == axis else (grids[i] if np.shape(indices)[i] == arr_shape[i] else grids[i] * 0)
                  for i in range(len(arr_shape)))
    np.add.at(out, index, np.broadcast_to(g, np.shape(indices)))
    return out


def sort_back(g, a, axis=-1):
    """Adjoint of ``np.sort``: route ``g`` back through the sorting permutation."""
    if _zero(g):
        return g
    order = np.argsort(a, axis=axis)
    out = np.zeros(np.shape(a))
    np.put_along_axis(out, order, g, axis=axis)
    return out


def _explicit_ellipsis(subscripts, operands):
    """Spell ``...`` in einsum subscripts out as letters the subscripts do not use."""
    spec = subscripts.replace(" ", "")
    if "..." not in spec:
        return spec
    inputs, _, output = spec.partition("->")
    inputs = inputs.split(",")
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in spec]
    widest = max(np.ndim(o) - len(s.replace("...", "")) for s, o in zip(inputs, operands) if "..." in s)
    letters = "".join(free[:widest])
    spelled = [s.replace("...", letters[widest - (np.ndim(o) - len(s.replace("...", ""))):]) for s, o in
               zip(inputs, operands)]
    if "->" in spec:
        out = output.replace("...", letters)
    else:
        joined = "".join(s.replace("...", "") for s in inputs)
        out = letters + "".join(sorted(c for c in set(joined) if joined.count(c) == 1))
    return ",".join(spelled) + "->" + out


def einsum_back(g, subscripts, operands):
    """Adjoints of every operand of ``np.einsum(subscripts, *operands)`` (explicit or implicit
    output, ``...`` included)."""
    spec = _explicit_ellipsis(subscripts, operands)
    if "->" in spec:
        inputs, output = spec.split("->")
    else:
        inputs = spec
        letters = inputs.replace(",", "")
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    inputs = inputs.split(",")
    grads = []
    for i, sub in enumerate(inputs):
        if _zero(g):
            grads.append(g)
            continue
        others = [s for j, s in enumerate(inputs) if j != i]
        ops = [o for j, o in enumerate(operands) if j != i]
        # letters of this operand that appear nowhere else were summed away: broadcast them back
        present = set(output).union(*others) if others else set(output)
        kept = "".join(c for c in dict.fromkeys(sub) if c in present)
        out = np.einsum(",".join([output] + others) + "->" + kept, g, *ops)
        if kept != sub:
            full = np.einsum(kept + "->" + kept, out)
            target = "".join(dict.fromkeys(sub))
            expand = np.reshape(full, [np.shape(operands[i])[sub.index(c)] if c in kept else 1 for c in target])
            out = np.broadcast_to(np.moveaxis(expand, range(len(target)), range(len(target))),
                                  [np.shape(operands[i])[sub.index(c)] for c in target])
            if target != sub:  # repeated letters (a diagonal): scatter onto it
                base = np.zeros(np.shape(operands[i]))
                view = np.einsum(sub + "->" + target, base)
                view.setflags(write=True)
                view[...] = out
                out = base
        if np.shape(out) != np.shape(operands[i]):  # (an axis of size 1 einsum broadcast: summed back)
            out = unbroadcast(np.asarray(out), operands[i])
        grads.append(np.asarray(out))
    return tuple(grads)


def tensordot_back(g, a, b, axes=2, which=0):
    """Adjoint of ``np.tensordot(a, b, axes)`` w.r.t. ``a`` (which=0) or ``b`` (which=1)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    nda, ndb = np.ndim(a), np.ndim(b)
    if isinstance(axes, (int, np.integer)):
        a_axes, b_axes = list(range(nda - axes, nda)), list(range(axes))
    else:
        a_axes, b_axes = [list(np.atleast_1d(x)) for x in axes]
        a_axes = [x % nda for x in a_axes]
        b_axes = [x % ndb for x in b_axes]
    a_free = [i for i in range(nda) if i not in a_axes]
    b_free = [i for i in range(ndb) if i not in b_axes]
    g = np.asarray(g)
    if which == 0:
        out = np.tensordot(g, b, axes=(list(range(len(a_free), g.ndim)), b_free))
        order = a_free + a_axes
    else:
        out = np.tensordot(a, g, axes=(a_free, list(range(len(a_free)))))
        order = b_axes + b_free
    return np.transpose(out, np.argsort(order))


def kron_back(g, a, b, which=0):
    """Adjoint of ``np.kron(a, b)`` for 1-D or 2-D operands."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    g = np.reshape(g, (a.shape[0], b.shape[0], a.shape[1], b.shape[1])) if np.ndim(g) == 2 else \
        np.reshape(g, (1, 1, a.shape[1], b.shape[1]))
    if which == 0:
        return np.einsum("ikjl,kl->ij", g, b)
    return np.einsum("ikjl,ij->kl", g, a)


def inner_back(g, a, b, which=0):
    """Adjoint of ``np.inner(a, b)`` (contracts the last axes)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * (b if which == 0 else a), a if which == 0 else b)
    return tensordot_back(g, a, b, axes=([-1], [-1]), which=which)


def ddot_left(g, a, b):
    """Adjoint of ``a`` in ``np.dot(a, b)`` (any ranks)."""
    if _zero(g):
        return g
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return dmatmul_left(g, a, b)
    return tensordot_back(g, a, b, ([np.ndim(a) - 1], [max(np.ndim(b) - 2, 0)]), 0)


def ddot_right(g, a, b):
    """Adjoint of ``b`` in ``np.dot(a, b)`` (any ranks)."""
    if _zero(g):
        return g
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return dmatmul_right(g, a, b)
    return tensordot_back(g, a, b, ([np.ndim(a) - 1], [max(np.ndim(b) - 2, 0)]), 1)


def _lower(grad):
    """A gradient w.r.t. a matrix of which NumPy reads only the lower triangle (eigh, cholesky)."""
    return np.tril(grad + np.swapaxes(grad, -1, -2), -1) + np.diag(np.diagonal(grad))


def _sym_lower(t):
    """The symmetric matrix NumPy's eigh/cholesky actually see for the input (tangent) ``t``."""
    return np.tril(t) + np.swapaxes(np.tril(t, -1), -1, -2)


def slogdet_back(g, a):
    """Adjoint of ``np.linalg.slogdet(a)`` w.r.t. ``a`` (only the log-determinant carries one)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    glog = g[1] if isinstance(g, (tuple, list)) else 0.0
    return np.asarray(glog)[..., None, None] * np.swapaxes(np.linalg.inv(a), -1, -2)


def cholesky_back(g, ans):
    """Adjoint of ``L = np.linalg.cholesky(A)`` (symmetric result, the usual Murray formula)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    L = ans
    phi = L.T @ g
    phi = np.tril(phi) - 0.5 * np.diag(np.diag(phi))
    inv = np.linalg.inv(L)
    s = inv.T @ phi @ inv
    return _lower(0.5 * (s + s.T))


def eigh_back(g, ans):
    """Adjoint of ``w, v = np.linalg.eigh(a)`` (distinct eigenvalues for the eigenvector part)."""
    w, v = ans
    gw, gv = (g if isinstance(g, (tuple, list)) else (0.0, 0.0))
    inner = np.diag(np.zeros(len(w)) + gw)
    if not _zero(gv):
        diff = w[None, :] - w[:, None] + np.diag(np.full(len(w), np.inf))  # no division on the diagonal
        inner = inner + (v.T @ gv) / diff
    out = v @ inner @ v.T
    return _lower(0.5 * (out + out.T))


def pinv_back(g, a, ans):
    """Adjoint of ``P = np.linalg.pinv(A)`` (A of full rank, so P is differentiable there)."""
    if _zero(g):
        return g
    p, gt = ans, np.swapaxes(g, -1, -2)
    m, n = np.shape(a)[-2:]
    return (-p.T @ g @ p.T + (np.eye(m) - a @ p) @ gt @ p @ p.T + p.T @ p @ gt @ (np.eye(n) - p @ a))


def pinv_jvp(a, ans, t):
    """Tangent of ``np.linalg.pinv(A)`` along ``t`` (A of full rank)."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    p, tt = ans, np.swapaxes(t, -1, -2)
    m, n = np.shape(a)[-2:]
    return -p @ t @ p + p @ p.T @ tt @ (np.eye(m) - a @ p) + (np.eye(n) - p @ a) @ tt @ p.T @ p


def _as_chain(arrays):
    """``multi_dot``'s operands as matrices (a first 1-D operand is a row, a last one a column)."""
    mats = [np.asarray(x) for x in arrays]
    mats[0] = mats[0].reshape(1, -1) if mats[0].ndim == 1 else mats[0]
    mats[-1] = mats[-1].reshape(-1, 1) if mats[-1].ndim == 1 else mats[-1]
    return mats


def multi_dot_back(g, arrays):
    """Adjoints of every operand of ``np.linalg.multi_dot(arrays)``."""
    if _zero(g):
        return [g] * len(arrays)
    mats = _as_chain(arrays)
    g = np.reshape(g, (mats[0].shape[0], mats[-1].shape[1]))
    out = []
    for i in range(len(mats)):
        left = np.eye(mats[0].shape[0])
        for m in mats[:i]:
            left = left @ m
        right = np.eye(mats[-1].shape[1])
        for m in reversed(mats[i + 1:]):
            right = m @ right
        out.append(np.reshape(left.T @ g @ right.T, np.shape(arrays[i])))
    return out


def multi_dot_jvp(arrays, t_arrays):
    """Tangent of ``np.linalg.multi_dot(arrays)``: one term per operand with a tangent."""
    tangents = [0.0] * len(arrays) if _zero(t_arrays) else t_arrays
    total = 0.0
    for i, t in enumerate(tangents):
        if not _zero(t):
            ops = list(arrays)
            ops[i] = t
            total = total + np.linalg.multi_dot(ops)
    return total


def eigvalsh_back(g, a):
    """Adjoint of ``np.linalg.eigvalsh(a)``."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    _, v = np.linalg.eigh(a)
    return _lower(v @ np.diag(g) @ v.T)


def cholesky_jvp(ans, t):
    """Tangent of ``L = np.linalg.cholesky(A)`` along ``t``."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    L = ans
    inv = np.linalg.inv(L)
    x = inv @ _sym_lower(t) @ inv.T
    return L @ (np.tril(x) - 0.5 * np.diag(np.diag(x)))


def eigh_jvp(ans, t):
    """Tangents ``(dw, dv)`` of ``w, v = np.linalg.eigh(A)`` along ``t`` (distinct eigenvalues)."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    w, v = ans
    m = v.T @ _sym_lower(t) @ v
    diff = w[None, :] - w[:, None] + np.diag(np.full(len(w), np.inf))
    return np.diag(m).copy(), v @ (m / diff)


def eigvalsh_jvp(a, t):
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    _, v = np.linalg.eigh(a)
    return np.diag(v.T @ _sym_lower(t) @ v).copy()


def svdvals_jvp(a, t):
    """Tangent of the singular values of ``a`` along ``t``."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    return np.einsum("...ij,...ik,...kj->...j", u, t, np.swapaxes(vt, -1, -2))


def svd_jvp(a, t, compute_uv=True):
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    if compute_uv:
        raise _unsupported("forward mode through np.linalg.svd with compute_uv=True is not supported",
                           "use compute_uv=False for the singular values")
    return svdvals_jvp(a, t)


def matrix_power_jvp(a, t, n):
    """Tangent of ``np.linalg.matrix_power(a, n)`` for n >= 0."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    powers = [np.eye(np.shape(a)[0])]
    for _ in range(n - 1):
        powers.append(powers[-1] @ a)
    return sum((powers[k] @ t @ powers[n - 1 - k] for k in range(n)), np.zeros(np.shape(a)))


def einsum_jvp(subscripts, operands, tangents):
    """Tangent of ``np.einsum(subscripts, *operands)``: one term per operand with a tangent."""
    total = 0.0
    for i, t in enumerate(tangents):
        if not _zero(t):
            ops = list(operands)
            ops[i] = t
            total = total + np.einsum(subscripts, *ops)
    return total


def select_jvp(ans, args, tangents):
    """Tangent of builtin ``max``/``min``: the selected argument's tangent."""
    if _zero(tangents):
        return tangents
    parts = dselect(1.0, ans, args)
    weights = parts[0] if len(args) == 1 else parts
    items = tangents[0] if len(args) == 1 else tangents
    if _zero(items):  # (the one iterable's tangent is the 0.0 of its zeros)
        return items
    return sum(w * t for w, t in zip(weights, items) if w)


def prod_jvp(start, iterable, tangents):
    """Tangent of ``math.prod(iterable, start=start)`` along the factors' tangents."""
    if _zero(tangents):
        return tangents
    return sum(t * o for t, o in zip(tangents, _others_products(start, list(iterable))) if not _zero(t))


def _others_products(start, factors):
    """``start`` times the product of the factors other than each one (from the products before
    and after it: right where factors are 0)."""
    before, after = [start], [1.0]
    for v in factors[:-1]:
        before.append(before[-1] * v)
    for v in factors[:0:-1]:
        after.append(after[-1] * v)
    return [b * a for b, a in zip(before, reversed(after))]


def dist_jvp(ans, p, q, tp, tq):
    """Tangent of ``math.dist(p, q)``."""
    tp = [0.0] * len(p) if _zero(tp) else tp
    tq = [0.0] * len(q) if _zero(tq) else tq
    return sum((a - b) * (s - r) for a, b, s, r in zip(p, q, tp, tq)) / nonzero_or_inf(ans)


def svdvals_back(g, a):
    """Adjoint of the singular values of ``a``: ``u diag(g) v^T``."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    return u @ (np.asarray(g)[..., :, None] * vt)


def svd_back(g, a, compute_uv=True):
    """Adjoint of ``np.linalg.svd``: singular values only (the adjoints of u and vh must be zero)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    if not compute_uv:
        return svdvals_back(g, a)
    gu, gs, gvt = g if isinstance(g, (tuple, list)) else (0.0, 0.0, 0.0)
    if np.any(gu) or np.any(gvt):  # (zeros, as container_adjoint fills unused entries, are fine)
        raise _unsupported("the gradient of np.linalg.svd through u or vh is not supported",
                           "use the singular values (compute_uv=False)")
    return svdvals_back(gs, a)


def nan_mask(x):
    """1.0 where ``x`` is finite."""
    return np.isfinite(x).astype(float)


def average_back(g, a, axis=None, weights=None):
    """Adjoint of ``np.average(a, axis, weights)`` w.r.t. ``a``."""
    if _zero(g):
        return g
    if axis is not None:
        g = np.expand_dims(g, axis)
    if weights is None:
        size = np.size(a) if axis is None else np.shape(a)[axis]
        return np.broadcast_to(g / size, np.shape(a))
    w = np.asarray(weights)
    if axis is not None and w.ndim == 1:
        shape = [1] * np.ndim(a)
        shape[axis] = -1
        w = w.reshape(shape)
    return g * w / np.sum(w, axis=axis, keepdims=axis is not None)


def average_weights_back(g, ans, a, axis=None, weights=None, forward=False):
    """Adjoint of ``np.average(a, axis, weights)`` w.r.t. ``weights`` (``forward``: its tangent
    term, ``g`` being the tangent of the weights)."""
    if _zero(g) or weights is None:
        return 0.0 if forward else g
    w = np.asarray(weights)
    if axis is None:
        share = (np.asarray(a) - ans) / np.sum(w)
        return np.sum(g * share) if forward else g * share
    axis = axis % np.ndim(a)
    along = w.ndim == 1 and np.ndim(a) > 1  # 1-D weights along ``axis``
    if along:
        shape = [1] * np.ndim(a)
        shape[axis] = -1
        w = w.reshape(shape)
    share = (a - np.expand_dims(ans, axis)) / np.sum(w, axis=axis, keepdims=True)
    if forward:
        return np.sum((g.reshape(w.shape) if along else g) * share, axis=axis)
    full = np.expand_dims(g, axis) * share
    if along:
        return np.sum(full, axis=tuple(i for i in range(np.ndim(a)) if i != axis))
    return full


def _linspace_weights(num, endpoint, end, ndim):
    t = np.arange(num) / (num - 1 if endpoint else num) if num > 1 else np.zeros(num)
    return (t if end else 1.0 - t).reshape((num,) + (1,) * ndim)


def linspace_back(g, bound, num, endpoint, end):
    """Adjoint of ``np.linspace(start, stop, num)`` w.r.t. start (``end`` 0) or stop (``end`` 1)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    return np.sum(g * _linspace_weights(num, endpoint, end, np.ndim(bound)), axis=0)


def linspace_jvp(t_start, t_stop, start, num, endpoint):
    """Tangent of ``np.linspace(start, stop, num)``."""
    t = 0.0
    for tangent, end in ((t_start, 0), (t_stop, 1)):
        if not _zero(tangent):
            t = t + tangent * _linspace_weights(num, endpoint, end, np.ndim(tangent))
    return t if not _zero(t) else np.zeros((num,) + np.shape(start))


def polyval_coeff_back(g, p, x, t_x=None):
    """Adjoint of ``np.polyval(p, x)`` w.r.t. the coefficients ``p``: the powers of ``x`` (with
    ``t_x``: the tangent of that adjoint along ``t_x``, from the powers' derivatives)."""
    if _zero(g) or (t_x is not None and _zero(t_x)):
        return 0.0
    exponents = np.arange(len(p) - 1, -1, -1)
    x = np.asarray(x)[..., None]
    if t_x is None:
        powers = x ** exponents
    else:
        powers = exponents * x ** np.maximum(exponents - 1, 0) * np.asarray(t_x)[..., None]
    return np.sum(np.reshape(g * np.ones(np.shape(x)[:-1]), np.shape(x)) * powers, axis=tuple(range(np.ndim(x) - 1)))


def convolve_back(g, a, v, mode, which):
    """Adjoint of ``np.convolve(a, v, mode)`` w.r.t. ``a`` (which=0) or ``v``: the full-mode
    adjoint (a valid correlation with the other operand) of ``g`` placed in the full output."""
    if _zero(g):
        return g
    n, m = len(a), len(v)
    full = np.zeros(n + m - 1, dtype=np.result_type(g, a, v))
    start = {"full": 0, "same": (min(n, m) - 1) // 2, "valid": min(n, m) - 1}[mode]  # g's place in full
    full[start:start + len(g)] = g
    return np.correlate(full, v if which == 0 else a, "valid")


def interp_slope(x, xp, fp):
    """d np.interp(x, xp, fp) / dx: the slope of the segment holding x (0 outside xp)."""
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    slope = (fp[i + 1] - fp[i]) / (xp[i + 1] - xp[i])
    return np.where((x < xp[0]) | (x > xp[-1]), 0.0, slope)


def interp_fp_back(g, x, xp, fp):
    """Adjoint of ``fp`` in ``np.interp(x, xp, fp)``: each x splits its adjoint between the two
    ends of its segment."""
    if _zero(g):
        return g
    x, g = np.ravel(x), np.ravel(g * np.ones(np.shape(x)))
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    t = np.clip((x - xp[i]) / (xp[i + 1] - xp[i]), 0.0, 1.0)
    out = np.zeros(np.shape(fp))
    np.add.at(out, i, g * (1.0 - t))
    np.add.at(out, i + 1, g * t)
    return out


def append_back(g, arr, values, axis, which):
    """Adjoint of ``np.append(arr, values, axis)`` w.r.t. ``arr`` (which=0) or ``values``."""
    if _zero(g):
        return g
    if axis is None:
        part = g[:np.size(arr)] if which == 0 else g[np.size(arr):]
    else:
        k = np.shape(arr)[axis]
        part = np.take(g, range(k) if which == 0 else range(k, np.shape(g)[axis]), axis=axis)
    return np.reshape(part, np.shape(arr if which == 0 else values))


def append_jvp(arr, values, t_arr, t_values, axis):
    """Tangent of ``np.append(arr, values, axis)`` (a zero tangent stands for zeros of its shape)."""
    return np.append(np.zeros(np.shape(arr)) if _zero(t_arr) else t_arr,
                     np.zeros(np.shape(values)) if _zero(t_values) else t_values, axis)


def trapezoid_back(g, y, x=None, dx=1.0, axis=-1):
    """Adjoint of ``y`` in ``np.trapezoid(y, x, dx, axis)``: half the neighbouring widths."""
    if _zero(g):
        return g
    y = np.asarray(y)
    n = y.shape[axis]
    widths = np.diff(x, axis=-1 if np.ndim(x) == 1 else axis) if x is not None else np.full(n - 1, dx)
    last = np.moveaxis(widths, axis, -1) if np.ndim(widths) > 1 else widths
    zero = np.zeros(np.shape(last)[:-1] + (1,))
    weights = 0.5 * (np.concatenate([last, zero], axis=-1) + np.concatenate([zero, last], axis=-1))
    if np.ndim(widths) == 1:
        shape = [1] * y.ndim
        shape[axis] = n
        return np.expand_dims(g, axis) * np.reshape(weights, shape)
    return np.expand_dims(g, axis) * np.moveaxis(weights, -1, axis)


def _trapezoid_point_weights(y, axis):
    """d area / d x_i for each sample point, with the sample axis last."""
    y = np.moveaxis(np.asarray(y), axis, -1)
    pairs = 0.5 * (y[..., 1:] + y[..., :-1])       # d area / d width of each interval
    weights = np.zeros(y.shape)
    weights[..., 1:] += pairs
    weights[..., :-1] -= pairs
    return weights


def trapezoid_x_back(g, y, x, axis=-1):
    """Adjoint of the sample points ``x`` in ``np.trapezoid(y, x, axis=axis)``."""
    if _zero(g) or x is None:
        return 0.0
    dx = np.expand_dims(g, -1) * _trapezoid_point_weights(y, axis)
    if np.ndim(x) == 1:
        return np.sum(dx.reshape(-1, dx.shape[-1]), axis=0)
    return unbroadcast(np.moveaxis(dx, -1, axis), x)


def trapezoid_x_jvp(y, x, t_x, axis=-1):
    """Tangent of ``np.trapezoid(y, x, axis=axis)`` along the sample points' tangent ``t_x``."""
    if _zero(t_x) or x is None:
        return 0.0
    t = t_x if np.ndim(t_x) == 1 else np.moveaxis(t_x, axis, -1)
    return np.sum(_trapezoid_point_weights(y, axis) * t, axis=-1)


def vander_slope(x, N=None, increasing=False):
    """d np.vander(x, N, increasing) / dx, column by column: p * x ** (p - 1)."""
    n = len(x) if N is None else N
    powers = np.arange(n) if increasing else np.arange(n - 1, -1, -1)
    return powers * np.asarray(x)[:, None] ** np.maximum(powers - 1, 0)


def median_back(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.median``: to the middle element, or split between the two middle ones."""
    if _zero(g):
        return g
    a = np.asarray(a)
    moved = np.moveaxis(a, axis, -1) if axis is not None else a.reshape(-1)
    n = moved.shape[-1]
    order = np.argsort(moved, axis=-1)
    weights = np.zeros(moved.shape)
    middle = [n // 2] if n % 2 else [n // 2 - 1, n // 2]
    for k in middle:
        np.put_along_axis(weights, order[..., k:k + 1], 1.0 / len(middle), axis=-1)
    if axis is None:
        return np.reshape(weights, a.shape) * g
    g = np.asarray(g)
    if not keepdims:
        g = np.expand_dims(g, axis)
    return np.moveaxis(weights, -1, axis) * g


def polyder_back(g, p, m=1):
    """Adjoint of ``np.polyder(p, m)``: each derivative scales coefficient k by its power."""
    if _zero(g):
        return g
    for size in range(len(p) - m + 1, len(p) + 1):
        g = np.append(np.asarray(g) * np.arange(size - 1, 0, -1), 0.0)
    return g


def einsum_back_jvp(v, subscripts, operands, t_v, t_operands):
    """Tangent of ``einsum_back(v, subscripts, operands)``: linear in ``v`` and in each operand
    other than the one whose adjoint it is."""
    out = einsum_back(t_v, subscripts, operands)
    tangents = [0.0] * len(operands) if _zero(t_operands) else t_operands
    for j, t in enumerate(tangents):
        if _zero(t):
            continue
        ops = list(operands)
        ops[j] = t
        out = [o if i == j else o + d for i, (o, d) in enumerate(zip(out, einsum_back(v, subscripts, ops)))]
    return out


def meshgrid_back(g, xi, indexing):
    """Adjoints of ``np.meshgrid(*xi, indexing)``: each output summed over every axis but its own."""
    if _zero(g):
        return [g] * len(xi)
    axes = list(range(len(xi)))
    if indexing == "xy" and len(xi) > 1:
        axes[0], axes[1] = 1, 0
    return [gi if _zero(gi) else np.reshape(np.sum(gi, axis=tuple(a for a in range(np.ndim(gi)) if a != ax)),
                                             np.shape(x)) for gi, x, ax in zip(g, xi, axes)]


def meshgrid_jvp(xi, t_xi, indexing):
    """Tangent of ``np.meshgrid(*xi, indexing)``: the meshgrid of the tangents."""
    return np.meshgrid(*[np.zeros(np.shape(x)) if _zero(t) else t for x, t in zip(xi, t_xi)], indexing=indexing)


def nanmean_back(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.nanmean``."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    mask = ~np.isnan(a)
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return g * mask / np.sum(mask, axis=axis, keepdims=True)


def cross_back(g, a, b, which=0):
    """Adjoint of ``np.cross(a, b)`` for 3-vectors."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    return unbroadcast(np.cross(b, g) if which == 0 else np.cross(g, a), a if which == 0 else b)


def sinc_back(g, x):
    """Adjoint of ``np.sinc(x) = sin(pi x) / (pi x)``."""
    x = np.asarray(x, dtype=float)
    px = np.pi * np.where(x == 0, 1.0, x)
    d = np.where(x == 0, 0.0, (np.cos(px) * px - np.sin(px)) / (px * np.where(x == 0, 1.0, x)))
    return g * d


def swap_back(g, axis1, axis2):
    return np.swapaxes(g, axis1, axis2) if not _zero(g) else g


def moveaxis_back(g, source, destination):
    return np.moveaxis(g, destination, source) if not _zero(g) else g


def mod_back(g, x1, x2):
    """Adjoint of ``x1 % x2`` w.r.t. ``x2``."""
    return -g * np.floor_divide(x1, x2)


def fmod_back(g, x1, x2):
    """Adjoint of ``np.fmod(x1, x2)`` w.r.t. ``x2``."""
    return -g * np.trunc(np.true_divide(x1, x2))


def cumsum_back_free(t, ans, a, axis=None):
    """Tangent of ``np.cumprod(a, axis)`` along ``t`` (right where entries of ``a`` are 0)."""
    if _zero(t):
        return t
    if np.all(a):  # (the short form)
        if axis is None:
            return ans * np.cumsum(np.ravel(t) / np.ravel(a))
        return ans * np.cumsum(t / a, axis)
    moved, back = _first_axis(np.asarray(a, dtype=float), axis)
    if axis is None:
        return _dual_cumprod(moved, np.ravel(np.broadcast_to(t, np.shape(a))))[1]
    return back(_dual_cumprod(moved, _first_axis(np.broadcast_to(t, np.shape(a)), axis)[0])[1])


def matrix_power_back(g, a, n):
    """Adjoint of ``np.linalg.matrix_power(a, n)`` for n >= 0."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    if n < 0:
        raise _unsupported("the gradient of matrix_power is supported for n >= 0",
                           "use np.linalg.inv and a non-negative power")
    powers = [np.eye(np.shape(a)[0])]
    for _ in range(n - 1):
        powers.append(powers[-1] @ a)
    out = np.zeros(np.shape(a))
    for k in range(n):
        out += powers[k].T @ g @ powers[n - 1 - k].T
    return out


def digamma(x):
    """The digamma function (derivative of log Gamma) for real x > 0 and non-integer x <= 0."""
    result = 0.0
    if x <= 0:  # reflection
        return digamma(1.0 - x) - np.pi / np.tan(np.pi * x)
    while x < 6.0:
        result -= 1.0 / x
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    return result + np.log(x) - 0.5 * inv - inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (
        1.0 / 240 - inv2 / 132))))


def digamma_array(x):
    """``digamma`` elementwise (scipy.special.gammaln's derivative on arrays)."""
    if np.ndim(x) == 0:
        return digamma(float(x))
    return np.vectorize(digamma, otypes=[float])(x)


def dist_back(g, ans, p, q, which=0):
    """Adjoint of ``math.dist(p, q)`` w.r.t. ``p`` (which=0) or ``q``."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    sign = 1.0 if which == 0 else -1.0
    return [sign * g * (a - b) / ans if ans else 0.0 for a, b in zip(p, q)]


def prod_back(g, iterable, start=1):
    """Adjoint of ``math.prod(iterable, start=start)``: ``g`` times the product of the others."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    return [g * o for o in _others_products(start, list(iterable))]


def sum_jvp(t_iterable, t_start):
    """Tangent of builtin ``sum(iterable, start)``."""
    return t_start if _zero(t_iterable) else sum(t_iterable, t_start)


def list_back(g, iterable):
    """Adjoint of ``list(iterable)`` / ``tuple(iterable)``: the same structure as ``iterable``."""
    if _zero(g) or isinstance(iterable, (list, tuple)) or not isinstance(iterable, np.ndarray):
        return g
    return np.stack([np.broadcast_to(p, np.shape(iterable)[1:]) for p in g])


def items_back(g, a):
    """Adjoint of ``d.items()`` (seen through ``list``): each value's adjoint goes to its key."""
    if _zero(g):
        return g
    return {k: (0.0 if _zero(p) else p[1]) for k, p in zip(a.keys(), g)}


def get_back(g, a, key):
    """Adjoint of ``d.get(key, default)`` w.r.t. the dict: ``g`` at ``key`` if it is there."""
    return container_adjoint(a, key, g) if key in a else 0.0


def own_back(g, v, x):
    """Adjoint of ``own(v, x)`` w.r.t. ``v``: a list adjoint (``own`` made a list for a list ``x``)
    goes back to the array ``v`` row by row (``v`` may be the 0.0 standing for a zero array shaped
    like ``np.asarray(x)``: the adjoint then has that shape)."""
    if isinstance(g, list) and (v.__class__ is np.ndarray or _zero(v)):
        if not g:
            return np.zeros(np.shape(v)) if v.__class__ is np.ndarray else 0.0
        rows = np.shape(v)[1:] if v.__class__ is np.ndarray else np.shape(x[0])
        return np.stack([np.broadcast_to(np.asarray(e, dtype=float), rows) for e in g])
    if isinstance(g, (list, tuple, dict)):
        return g  # (a container's entries are copied as they are)
    return unbroadcast(g, v)


def unless_zero(fn, g, *args, **kwargs):
    """``fn(g, *args)``, or ``g`` itself when it is the scalar 0.0 standing for a zero adjoint."""
    return g if _zero(g) else fn(g, *args, **kwargs)


def unbroadcast_back(g, v):
    """Adjoint of ``v`` in ``unbroadcast(v, x)``: ``g`` broadcast back to ``v``'s shape, or summed
    when ``v`` is smaller than ``x`` (a number standing for an array, gradient code's 0.0 for a zero
    adjoint, or a ``keepdims`` result such as shape (1, 1), which unbroadcast spreads over ``x``)."""
    if _zero(g):
        return g
    if np.ndim(v) >= np.ndim(g) and np.size(v) >= np.size(g):
        return expand_like(g, v)
    return unbroadcast(g, v)


def unreduce_back(g, v, x, axis=None, keepdims=False):
    """Adjoint of ``v`` in ``unreduce(v, x, axis, keepdims)``: ``g`` (which may be a scalar standing
    for a uniform array shaped like ``x``) summed back over ``axis``."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    if np.shape(g) != np.shape(x):  # (a float or NumPy scalar standing for it)
        g = np.broadcast_to(g, np.shape(x))
    if not np.ndim(v):  # (a number, maybe standing for a uniform array: it reached every entry)
        return np.sum(g)
    return np.reshape(np.sum(g, axis=axis, keepdims=keepdims), np.shape(v))


def element_back(g, v, i):
    """Adjoint of ``element(v, i)`` w.r.t. ``v`` (an adjoint, or 0.0 standing for a zero one)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    return 0.0 if v.__class__ is float else container_adjoint(v, i, g)


def cotangent_back(g, parts, i):
    """Adjoint of ``cotangent(parts, i)`` w.r.t. what a vjp rule returned (a bare value for a
    one-argument function)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    return container_adjoint(parts, i, g) if isinstance(parts, (tuple, list)) else g


def get_jvp(a, key, t_a, t_default):
    """Tangent of ``d.get(key, default)``."""
    return element(t_a, key) if key in a else t_default


def values_back(g, a):
    """Adjoint of ``d.values()`` (seen through ``list``)."""
    if _zero(g):
        return g
    return dict(zip(a.keys(), g))


def inside(a, lo, hi):
    """1.0 where ``lo <= a <= hi`` (None: no bound), else 0.0: the derivative of clip."""
    mask = True
    if lo is not None:
        mask = np.greater_equal(a, lo)
    if hi is not None:
        mask = np.logical_and(mask, np.less_equal(a, hi))
    return np.asarray(mask, dtype=float)


def transpose_back(g, axes):
    """Adjoint of ``np.transpose(x, axes)``: transpose by the inverse permutation."""
    if g.__class__ is _float:
        return g
    if axes is None or axes == ():
        return np.transpose(g)
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = axes[0]
    return np.transpose(g, np.argsort(axes))


def split_like(g, arrays, axis=0):
    """Adjoint of ``np.concatenate(arrays, axis)``: one piece of ``g`` per input."""
    if g.__class__ is _float:
        return _pieces_like(g, arrays)
    if axis is None:
        sizes = np.cumsum([np.size(a) for a in arrays])[:-1]
        return _pieces_like([np.reshape(p, np.shape(a)) for p, a in zip(np.split(g, sizes), arrays)], arrays)
    sizes = np.cumsum([np.shape(a)[axis] for a in arrays])[:-1]
    return _pieces_like(np.split(g, sizes, axis=axis), arrays)


def column_stack_back(g, tup):
    """Adjoint of ``np.column_stack(tup)``: 1-D entries were columns."""
    if _zero(g):
        return _pieces_like(g, tup)
    columns = [np.reshape(t, (len(t), -1)) if np.ndim(t) < 2 else t for t in tup]
    return _pieces_like([np.reshape(p, np.shape(t)) for p, t in zip(split_like(g, columns, 1), tup)], tup)


def _pieces_like(pieces, arrays):
    """The adjoint of a sequence argument from one adjoint per entry: a list, or an array when the
    sequence was an array (``np.concatenate(x)`` of an array ``x`` joins its rows); a zero
    ``pieces`` (0.0) stands for every entry's."""
    if pieces.__class__ is _float:
        return pieces if isinstance(arrays, np.ndarray) else [pieces] * len(arrays)
    if isinstance(arrays, np.ndarray):
        return np.stack([np.broadcast_to(p, np.shape(a)) for p, a in zip(pieces, arrays)]) if len(pieces) else \
            np.zeros(np.shape(arrays))
    return pieces


def join_pieces(g, arrays, axis=0):
    """Adjoint of ``split_like(v, arrays, axis)`` w.r.t. ``v``: the pieces joined again (a zero
    piece, 0.0, as zeros of its array's shape)."""
    pieces = [_piece(p, a) for p, a in zip(g, arrays)]
    if axis is None:
        return np.concatenate([np.ravel(p) for p in pieces])
    return np.concatenate(pieces, axis=axis)


def stack_pieces(g, arrays, axis=0):
    """Adjoint of ``unstack(v, arrays, axis)`` w.r.t. ``v``: the pieces stacked again."""
    return np.stack([_piece(p, a) for p, a in zip(g, arrays)], axis=axis)


def _piece(p, a):
    """An entry's adjoint as an array of the entry's shape (a number stands for a uniform one)."""
    if _zero(p):
        return np.zeros(np.shape(a))
    return p if np.shape(p) == np.shape(a) else np.broadcast_to(p, np.shape(a))


def unstack(g, arrays, axis=0):
    """Adjoint of ``np.stack(arrays, axis)``."""
    if g.__class__ is _float:
        return _pieces_like(g, arrays)
    return _pieces_like([np.take(g, i, axis=axis) for i in range(len(arrays))], arrays)


def dsolve_a(g, a, ans):
    """Adjoint of ``a`` in ``ans = np.linalg.solve(a, b)``."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    gb = np.linalg.solve(np.swapaxes(a, -1, -2), g)
    if np.ndim(ans) == np.ndim(a) - 1:
        return -gb[..., :, None] * ans[..., None, :]
    return -gb @ np.swapaxes(ans, -1, -2)


def dnorm(g, ans, x, ord=None, axis=None, keepdims=False):
    """Adjoint of ``np.linalg.norm`` for the 2-norm / Frobenius norm, the 1-norm and the max-norm of
    vectors."""
    if g.__class__ is _float and not g:
        return g
    x = np.asarray(x)
    if axis is not None and not keepdims:
        if np.ndim(g):
            g = np.expand_dims(g, axis)
        ans = np.expand_dims(ans, axis)
    vector = x.ndim == 1 or isinstance(axis, int) or (isinstance(axis, tuple) and len(axis) == 1)
    if ord is None or ord == "fro" or (ord == 2 and vector):
        return g * x / np.where(ans == 0, 1.0, ans)  # (at 0: the subgradient 0, not 0 / 0)
    if vector and ord == 1:
        return g * np.sign(x)
    if vector and ord == np.inf:
        hit = np.abs(x) == ans
        return g * np.sign(x) * hit / np.sum(hit, axis=axis, keepdims=True)
    if vector and ord not in (0, -np.inf) and ord is not None:
        return g * np.sign(x) * np.abs(x) ** (ord - 1) / nonzero_or_inf(ans ** (ord - 1))
    if not vector and axis is None and x.ndim == 2:
        if ord == "nuc":
            u, _, vt = np.linalg.svd(x, full_matrices=False)
            return g * (u @ vt)
        if ord in (2, -2):
            u, s, vt = np.linalg.svd(x, full_matrices=False)
            k = 0 if ord == 2 else len(s) - 1
            return g * np.outer(u[:, k], vt[k])
        if ord in (1, -1, np.inf, -np.inf):  # max / min absolute column (1) or row (inf) sum
            along = 0 if ord in (1, -1) else 1
            sums = np.sum(np.abs(x), axis=along)
            pick = np.argmax(sums) if ord > 0 else np.argmin(sums)
            out = np.zeros_like(x, dtype=float)
            if along == 0:
                out[:, pick] = np.sign(x[:, pick])
            else:
                out[pick, :] = np.sign(x[pick, :])
            return g * out
    raise AdError("the gradient of np.linalg.norm with ord=%r is not supported" % (ord,),
                  hint="use ord=None (2-norm / Frobenius), 1, inf, 'nuc' or 2 of a matrix")


def dselect(g, ans, args):
    """Adjoints of builtin ``max``/``min`` over ``args`` (or over ``args[0]`` if it is the only
    one): the selected element gets ``g``."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    items = args[0] if len(args) == 1 else args
    hit = [i for i, v in enumerate(items) if v == ans]
    parts = [0.0] * len(items)
    for i in hit:
        parts[i] = g / len(hit)
    if len(args) == 1 and isinstance(items, np.ndarray):  # max(x) over the entries of an array
        return (np.reshape(np.array(parts, dtype=float), np.shape(items)),)
    return (parts,) if len(args) == 1 else tuple(parts)


def sum_back(g, iterable):
    """Adjoint of builtin ``sum(iterable)``: ``g`` for every entry, summed back to the entry's
    shape where the entries broadcast (an array for an array)."""
    if isinstance(iterable, np.ndarray):
        return np.broadcast_to(g, np.shape(iterable)) if np.ndim(g) < np.ndim(iterable) else \
            np.stack([unbroadcast(g, e) for e in iterable]) if len(iterable) else np.zeros(np.shape(iterable))
    return [unbroadcast(g, e) for e in iterable]


def entries_sum(g):
    """Adjoint of ``sum_back(v, iterable)`` w.r.t. ``v``: the entries' adjoints added up."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    return np.sum(g, axis=0) if isinstance(g, np.ndarray) else sum(g)


def _sorted_order(iterable, reverse):
    return sorted(range(len(iterable)), key=lambda i: iterable[i], reverse=reverse)


def sorted_back(g, iterable, reverse=False):
    """Adjoint of ``sorted(iterable)``: each entry's adjoint goes back to where it came from."""
    if _zero(g):
        return g
    out = [0.0] * len(iterable)
    for position, i in enumerate(_sorted_order(iterable, reverse)):
        out[i] = g[position]
    return np.reshape(np.array(out, dtype=float), np.shape(iterable)) if isinstance(iterable, np.ndarray) else out


def sorted_jvp(iterable, t, reverse=False):
    """Tangent of ``sorted(iterable)``: the tangents in the sorted order."""
    return t if _zero(t) else [t[i] for i in _sorted_order(iterable, reverse)]


def concat_jvp(x, y, t_x, t_y):
    """Tangent of ``x + y`` for lists or tuples (a zero tangent stands for a list of zeros)."""
    return dense(t_x, x) + dense(t_y, y)


def sequence_repeat_back(g, x):
    """Adjoint of a list or tuple repeated (``x * n``): the sum of the copies' adjoints."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    n = len(x)
    return type(x)(sum(g[i::n]) for i in range(n)) if n else x


def _running_extreme_index(a, top, axis):
    """Where each entry of ``np.maximum.accumulate(a, axis)`` (or minimum) came from, as indices
    along ``axis`` (the latest position holding the running extreme)."""
    positions = np.arange(np.shape(a)[axis]).reshape((-1,) + (1,) * (np.ndim(a) - 1 - (axis % np.ndim(a))))
    return np.maximum.accumulate(np.where(np.asarray(a) == top, positions, 0), axis=axis)


def accumulate_extreme_back(g, a, top, axis=0):
    """Adjoint of ``np.maximum.accumulate`` / ``np.minimum.accumulate``: each result's adjoint goes
    to the entry that holds the running extreme there."""
    if _zero(g):
        return g
    out = np.zeros(np.shape(a))
    moved = np.moveaxis(out, axis, 0)
    index = np.moveaxis(_running_extreme_index(a, top, axis), axis, 0)
    rest = np.indices(index.shape)[1:]
    np.add.at(moved, (index,) + tuple(rest), np.moveaxis(np.broadcast_to(g, np.shape(a)), axis, 0))
    return out


def accumulate_extreme_jvp(t, a, top, axis=0):
    """Tangent of ``np.maximum.accumulate`` / ``np.minimum.accumulate`` (``top``: its result)."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    return np.take_along_axis(np.broadcast_to(t, np.shape(a)), _running_extreme_index(a, top, axis), axis=axis)
