"""Adjoints of functions that move or select entries without arithmetic on them: transpose,
swapaxes, moveaxis, tile, repeat, roll, pad, take, take_along_axis, sort, the diagonal
(trace, diag, diagonal), meshgrid, and the elements two arrays share after a write into one
(``overlap_keep``, ``overlap_take``, ``overlap_give``). Joining and splitting arrays is in
``joins``."""
from __future__ import annotations

import numpy as np

from ...errors import error_at
from ._base import _float, _zero


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


def pad_mode(mode, where):
    """``mode``, after checking that np.pad's derivative covers it (an AdError at the call
    ``where`` if not): its value may be known only at run time (``mode=kwargs["mode"]``)."""
    if not isinstance(mode, str) or mode not in ("constant", "edge", "reflect", "symmetric",
                                                 "wrap"):
        raise error_at(where, "the derivative of np.pad is written for the modes 'constant', "
                       "'edge', 'reflect', 'symmetric' and 'wrap', not %r" % (mode,),
                       hint="pad with one of those modes, or build the padding with "
                            "np.concatenate")
    return mode


def pad_back(g, array, pad_width, mode="constant"):
    """Adjoint of ``np.pad`` (for a mode ``pad_mode`` accepts): the centre of ``g`` for mode
    'constant'; for the modes that copy entries ('edge', 'reflect', 'symmetric', 'wrap'), ``g``
    added back to the entries each padded one copies (found by padding their flat indices the
    same way)."""
    if _zero(g):
        return g
    if mode != "constant":
        return scatter_back(g, np.pad(np.reshape(np.arange(np.size(array)), np.shape(array)),
                                      pad_width, mode), array)
    widths = np.broadcast_to(np.asarray(pad_width), (np.ndim(array), 2))
    index = tuple(slice(int(lo), int(g.shape[i] - hi)) for i, (lo, hi) in enumerate(widths))
    return g[index]


def scatter_back(g, index, x):
    """``g``'s entries added up at the flat positions of ``x`` that ``index`` (of ``g``'s shape)
    gives; negative indices (inserted entries) are left out: the adjoint of a function that
    copies ``x``'s entries to where ``index`` says."""
    if _zero(g):
        return g
    index = np.asarray(index)
    g = np.ravel(np.broadcast_to(g, index.shape))  # (g may be a number standing for an array)
    index = np.ravel(index)
    kept = index >= 0
    out = np.zeros(np.size(x), dtype=np.result_type(g, float))
    np.add.at(out, index[kept], g[kept])
    return np.reshape(out, np.shape(x))


def take_back(g, a, indices, axis=None):
    """Adjoint of ``np.take(a, indices, axis)`` (repeated indices add up)."""
    out = np.zeros(np.shape(a))
    if _zero(g):
        return out
    if axis is None:
        flat = out.reshape(-1)
        np.add.at(flat, indices, g)
        return flat.reshape(np.shape(a))
    np.add.at(np.moveaxis(out, axis, 0), indices, np.moveaxis(np.asarray(g), axis, 0)
              if np.ndim(indices)
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
    index = tuple(indices if i == axis
                  else (grids[i] if np.shape(indices)[i] == arr_shape[i] else grids[i] * 0)
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


def meshgrid_back(g, xi, indexing):
    """Adjoints of ``np.meshgrid(*xi, indexing)``: each output summed over every axis but its
    own."""
    if _zero(g):
        return [g] * len(xi)
    axes = list(range(len(xi)))
    if indexing == "xy" and len(xi) > 1:
        axes[0], axes[1] = 1, 0
    return [gi if _zero(gi)
            else np.reshape(np.sum(gi, axis=tuple(a for a in range(np.ndim(gi)) if a != ax)),
                             np.shape(x)) for gi, x, ax in zip(g, xi, axes)]


def meshgrid_jvp(xi, t_xi, indexing):
    """Tangent of ``np.meshgrid(*xi, indexing)``: the meshgrid of the tangents."""
    return np.meshgrid(*[np.zeros(np.shape(x)) if _zero(t) else t for x, t in zip(xi, t_xi)],
                       indexing=indexing)


def swap_back(g, axis1, axis2):
    return np.swapaxes(g, axis1, axis2) if not _zero(g) else g


def partition_back(g, a, kth, axis=-1, forward=False):
    """Adjoint of ``np.partition(a, kth, axis)`` (``forward``: its tangent): ``g`` routed back
    through the permutation ``np.argpartition`` gives (flattened for ``axis=None``)."""
    if _zero(g):
        return g
    order = np.argpartition(a, kth, axis=axis)
    if axis is None:
        flat = np.ravel(g)
        if forward:
            return flat[order]
        out = np.zeros(np.size(a))
        out[order] = flat
        return np.reshape(out, np.shape(a))
    if forward:
        return np.take_along_axis(g, order, axis)
    out = np.zeros(np.shape(a))
    np.put_along_axis(out, order, g, axis=axis)
    return out


def rollaxis_back(g, a, axis, start=0):
    """Adjoint of ``np.rollaxis(a, axis, start)``: the axis moved back."""
    if _zero(g):
        return g
    n = np.ndim(a)
    axis, start = axis % n, start + n if start < 0 else start
    return np.moveaxis(g, start if start <= axis else start - 1, axis)


def moveaxis_back(g, source, destination):
    return np.moveaxis(g, destination, source) if not _zero(g) else g


def transpose_back(g, axes):
    """Adjoint of ``np.transpose(x, axes)``: transpose by the inverse permutation."""
    if g.__class__ is _float:
        return g
    if axes is None or axes == ():
        return np.transpose(g)
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = axes[0]
    return np.transpose(g, np.argsort(axes))


# ``y = synced(y, x, where)`` after a write into x: y's elements at where.inner are x's at
# where.outer, the others y's own. The three maps are linear; take and give transpose each other.
# (Like every adjoint helper, they give the 0.0 standing for zeros only for a 0.0 ``g``.)
def overlap_keep(g, where):
    """``g`` (of y's shape, or a number standing for it) with the elements x supplies zeroed."""
    if _zero(g) or not where.inner.size:
        return g
    out = np.array(np.broadcast_to(g, where.y_shape), order="C")  # (reshape(-1) is then a view)
    out.reshape(-1)[where.inner] = 0
    return out


def overlap_take(g, where):
    """The part of ``g`` (of y's shape) that belongs to x's elements, in x's shape (0.0, the zero
    of any structure, when x is no array: a number or a dict; zeros when y is none)."""
    if where.x_dtype is None:
        return 0.0
    if _zero(g):
        return g
    return _moved(g, where.y_shape, where.inner, where.x_shape, where.outer, where.x_dtype)


def overlap_give(g, where):
    """``g`` (of x's shape) placed at the elements of y that x supplies, in y's shape (0.0 when
    one of them is no array)."""
    if where.x_dtype is None or not where.y_array:
        return 0.0
    if _zero(g):
        return g
    return _moved(g, where.x_shape, where.outer, where.y_shape, where.inner, np.float64)


def _moved(g, shape, at, new_shape, new_at, dtype):
    """A zero array of ``new_shape`` plus ``g``'s flat entries ``at`` (g of ``shape``, or a
    number standing for it) at the flat positions ``new_at``; of ``g``'s dtype, else ``dtype``."""
    g = np.broadcast_to(g, shape)
    out = np.zeros(new_shape, dtype=g.dtype if g.dtype.kind in "fc" else dtype)
    if at.size:
        np.add.at(out.reshape(-1), new_at, g.reshape(-1)[at])
    return out
