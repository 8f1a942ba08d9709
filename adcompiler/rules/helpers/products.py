"""Adjoints and tangents of products that contract axes: np.dot of any ranks (``ddot_left``,
``ddot_right``; matmul's are runtime's ``dmatmul_left`` / ``dmatmul_right``), einsum (explicit
or implicit output, ``...`` included), tensordot, inner, kron, cross,
``np.linalg.multi_dot``, and the runtime's ``sum_product`` (``sum_product_back``)."""
from __future__ import annotations

import numpy as np

from ...runtime import dmatmul_left, dmatmul_right, unbroadcast
from ._base import _zero


def sum_product_back(g, a, b):
    """Adjoint of ``sum_product(a, b)`` (``np.sum(a * b)``) w.r.t. ``a``: ``g * b`` over the
    product's shape (a number ``b`` too: seed 374812), summed back to ``a``'s."""
    if _zero(g):
        return g
    v = g * b
    shape = np.broadcast_shapes(np.shape(a), np.shape(b))
    if np.shape(v) != shape:
        v = np.broadcast_to(v, shape)
        if shape == np.shape(a):
            return v.copy()
    return unbroadcast(v, a)


def _explicit_ellipsis(subscripts, operands):
    """Spell ``...`` in einsum subscripts out as letters the subscripts do not use."""
    spec = subscripts.replace(" ", "")
    if "..." not in spec:
        return spec
    inputs, _, output = spec.partition("->")
    inputs = inputs.split(",")
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in spec]
    widest = max(np.ndim(o) - len(s.replace("...", "")) for s, o in zip(inputs, operands)
                 if "..." in s)
    letters = "".join(free[:widest])
    spelled = [s.replace("...", letters[widest - (np.ndim(o) - len(s.replace("...", ""))):])
               for s, o in
               zip(inputs, operands)]
    if "->" in spec:
        out = output.replace("...", letters)
    else:
        joined = "".join(s.replace("...", "") for s in inputs)
        out = letters + "".join(sorted(c for c in set(joined) if joined.count(c) == 1))
    return ",".join(spelled) + "->" + out


def _einsum_form(args):
    """(subscripts, positions of the operands in ``args``) of ``np.einsum(*args)``: the string
    form ``("ij,jk", a, b)`` or the sublist form ``(a, [0, 1], b, [1, 2], [0, 2])``."""
    if isinstance(args[0], str):
        return args[0], list(range(1, len(args)))

    def letters(sublist):
        return "".join("..." if k is Ellipsis else _SUBLIST_LETTERS[k] for k in sublist)
    where = list(range(0, len(args) - 1, 2))
    spec = ",".join(letters(args[i + 1]) for i in where)
    if len(args) % 2:
        spec += "->" + letters(args[-1])
    return spec, where


_SUBLIST_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def einsum_back(g, args):
    """Adjoints of ``np.einsum(*args)``'s arguments (0.0 for the subscripts), string or sublist
    form, explicit or implicit output, ``...`` included."""
    subscripts, where = _einsum_form(args)
    grads = [0.0] * len(args)
    for i, adjoint in zip(where, _einsum_adjoints(g, subscripts, [args[i] for i in where])):
        grads[i] = adjoint
    return tuple(grads)


def _einsum_adjoints(g, subscripts, operands):
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
            expand = np.reshape(full,
                                [np.shape(operands[i])[sub.index(c)] if c in kept else 1
                                 for c in target])
            out = np.broadcast_to(np.moveaxis(expand, range(len(target)), range(len(target))),
                                  [np.shape(operands[i])[sub.index(c)] for c in target])
            if target != sub:  # repeated letters (a diagonal): scatter onto it
                base = np.zeros(np.shape(operands[i]))
                view = np.einsum(sub + "->" + target, base)
                view.setflags(write=True)
                view[...] = out
                out = base
        # (an axis of size 1 einsum broadcast: summed back)
        if np.shape(out) != np.shape(operands[i]):
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
    # (the contracted axes come out in the other operand's axis order: a_axes[i] pairs with
    # b_axes[i], which need not be increasing)
    if which == 0:
        out = np.tensordot(g, b, axes=(list(range(len(a_free), g.ndim)), b_free))
        order = a_free + [a_axes[j] for j in np.argsort(b_axes, kind="stable")]
    else:
        out = np.tensordot(a, g, axes=(a_free, list(range(len(a_free)))))
        order = [b_axes[j] for j in np.argsort(a_axes, kind="stable")] + b_free
    return np.transpose(out, np.argsort(order))


def kron_back(g, a, b, which=0):
    """Adjoint of ``np.kron(a, b)`` (any ranks: the lower one gets leading axes of length 1,
    each axis of the result is an axis of ``a`` times one of ``b``)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    rank = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (rank - np.ndim(a)) + np.shape(a)
    sb = (1,) * (rank - np.ndim(b)) + np.shape(b)
    g = np.reshape(g, [n for pair in zip(sa, sb) for n in pair])  # (a0, b0, a1, b1, ...)
    if which == 0:
        out = np.tensordot(g, np.reshape(b, sb), (list(range(1, 2 * rank, 2)), list(range(rank))))
        return np.reshape(out, np.shape(a))
    out = np.tensordot(g, np.reshape(a, sa), (list(range(0, 2 * rank, 2)), list(range(rank))))
    return np.reshape(out, np.shape(b))


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


def _as_chain(arrays):
    """``multi_dot``'s operands as matrices (a first 1-D operand is a row, a last one a column)."""
    last = len(arrays) - 1
    return [np.reshape(x, (1, -1)) if i == 0 and np.ndim(x) == 1 else
            np.reshape(x, (-1, 1)) if i == last and np.ndim(x) == 1 else np.asarray(x)
            for i, x in enumerate(arrays)]


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


def einsum_jvp(args, t_first, t_rest):
    """Tangent of ``np.einsum(*args)`` (the tangents of ``args[0]`` and of the others, 0.0 or an
    empty tuple for none): one term per operand with a tangent."""
    subscripts, where = _einsum_form(args)
    operands = [args[i] for i in where]
    tangents = (t_first,) + (tuple(t_rest) if isinstance(t_rest, (tuple, list)) else ())
    total = 0.0
    for k, i in enumerate(where):
        if i < len(tangents) and not _zero(tangents[i]):
            ops = list(operands)
            ops[k] = tangents[i]
            total = total + np.einsum(subscripts, *ops)
    return total


def einsum_back_jvp(v, args, t_v, t_args):
    """Tangent of ``einsum_back(v, args)``: linear in ``v`` and in each operand other than the
    one whose adjoint it is."""
    out = list(einsum_back(t_v, args))
    _, where = _einsum_form(args)
    for i in where:
        if _zero(t_args) or _zero(t_args[i]):
            continue
        moved = list(args)
        moved[i] = t_args[i]
        out = [o if j == i else o + d for j, (o, d) in enumerate(zip(out, einsum_back(v, moved)))]
    return tuple(out)


def cross_back(g, a, b, which=0, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Adjoint of ``np.cross(a, b, axisa, axisb, axisc, axis)`` for 3-vectors (``axis`` sets
    all three): the vectors moved to the last axis, back where they were."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = np.moveaxis(a, axisa, -1), np.moveaxis(b, axisb, -1)
    g = np.moveaxis(g, axisc, -1)
    out = unbroadcast(np.cross(b, g) if which == 0 else np.cross(g, a), a if which == 0 else b)
    return np.moveaxis(out, -1, axisa if which == 0 else axisb)
