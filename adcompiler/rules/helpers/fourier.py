"""Adjoints of ``np.fft``'s transforms, in JAX's convention for complex values (see
docs/complex.md): the adjoint of a linear map is its plain transpose, never its conjugate
transpose. The discrete Fourier matrix is symmetric, so the transpose of ``fft`` along an axis
is ``fft`` itself with the same ``norm`` (and ``ifft``'s is ``ifft``); what remains is the
padding or cropping ``n``/``s`` did, undone, and for the real transforms the half spectrum:
``rfft`` keeps the first ``n // 2 + 1`` entries (its transpose pads them back with zeros), and
``irfft`` reads each entry but the first (and the last, for an even ``n``) twice, through its
conjugate mirror, and the imaginary part of those one or two not at all. ``hfft`` and ``ihfft``
are ``irfft`` and ``rfft`` of a conjugate, with the scaling of the other direction. A ``g`` of
0.0 (a zero adjoint) is returned as it is."""
from __future__ import annotations

import numpy as np

from ._base import _zero

_SWAPPED = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def _axes_and_sizes(x, s, axes):
    """NumPy's axes and transform lengths: ``axes`` (all of ``x``'s, or the last ``len(s)``
    ones when only ``s`` is given), and ``s`` or the lengths of ``x`` along them. The 1-D
    functions pass their ``n`` and ``axis`` as ``s`` and ``axes``."""
    ndim = np.ndim(x)
    if s is not None and np.ndim(s) == 0:
        s = [s]
    if axes is None:
        axes = range(ndim) if s is None else range(ndim - len(s), ndim)
    axes = [a % ndim for a in np.atleast_1d(axes).tolist()] if ndim else []
    sizes = list(s) if s is not None else [np.shape(x)[a] for a in axes]
    return axes, sizes


def resize_axes(a, axes, sizes):
    """``a`` cropped or padded with zeros at the end of each axis in ``axes`` to the length in
    ``sizes``: what ``n``/``s`` do to an FFT's input, and (being its own transpose's
    counterpart) what undoes it in the adjoint."""
    for axis, size in zip(axes, sizes):
        have = a.shape[axis]
        if have > size:
            a = np.take(a, np.arange(size), axis=axis)
        elif have < size:
            pad = [(0, 0)] * a.ndim
            pad[axis] = (0, size - have)
            a = np.pad(a, pad)
    return a


def _twice_mirrored(h, axis, n):
    """``h`` with the entries ``irfft`` of length ``n`` reads through their conjugate mirror as
    well doubled: all but the first, and the last for an even ``n``."""
    weights = np.full(h.shape[axis], 2.0)
    weights[0] = 1.0
    if n % 2 == 0 and h.shape[axis] > n // 2:
        weights[n // 2] = 1.0
    shape = [1] * h.ndim
    shape[axis] = -1
    return h * weights.reshape(shape)


def fft_back(g, x, s, axes, norm, inverse=False):
    """Adjoint of ``x`` in ``fftn(x, s, axes, norm)`` (``ifftn`` when ``inverse``; ``fft``,
    ``fft2`` and theirs likewise): the same transform of ``g``, cropped or padded back to
    ``x``'s lengths."""
    if _zero(g):
        return g
    axes, _ = _axes_and_sizes(x, s, axes)
    transform = np.fft.ifftn if inverse else np.fft.fftn
    out = transform(g, axes=axes, norm=norm) if axes else np.asarray(g, dtype=complex)
    return resize_axes(out, axes, [np.shape(x)[a] for a in axes])


def rfft_back(g, x, s, axes, norm):
    """Adjoint of the real ``x`` in ``rfftn(x, s, axes, norm)``: the half spectrum ``g`` padded
    with zeros to the full last length, transformed as ``fftn``'s adjoint is, and its real part
    (``x`` is real)."""
    if _zero(g):
        return g
    axes, sizes = _axes_and_sizes(x, s, axes)
    full = resize_axes(np.asarray(g), axes[-1:], sizes[-1:])
    return np.real(resize_axes(np.fft.fftn(full, axes=axes, norm=norm), axes,
                               [np.shape(x)[a] for a in axes]))


def irfft_back(g, c, s, axes, norm):
    """Adjoint of ``c`` in ``irfftn(c, s, axes, norm)``: ``ifftn`` of ``g`` (of its real part:
    the result is real) over the output's lengths, cut to the half spectrum, with the entries
    read twice doubled, cropped or padded back to ``c``'s lengths."""
    if _zero(g):
        return g
    g = np.real(g)  # (the result is real: what counts of its adjoint, see docs/complex.md)
    axes, sizes = _axes_and_sizes(c, s, axes)
    if s is None:  # (the output's last length: 2 (m - 1) for m entries)
        sizes[-1] = 2 * (np.shape(c)[axes[-1]] - 1)
    h = np.fft.ifftn(g, axes=axes, norm=norm)
    h = _twice_mirrored(resize_axes(h, axes[-1:], [sizes[-1] // 2 + 1]), axes[-1], sizes[-1])
    return resize_axes(h, axes, [np.shape(c)[a] for a in axes])


def hfft_back(g, a, n, axis, norm):
    """Adjoint of ``a`` in ``hfft(a, n, axis, norm)``, which is ``irfft(conj(a), n, axis)`` with
    the scaling of the other direction: the conjugate of ``irfft``'s adjoint."""
    if _zero(g):
        return g
    return np.conj(irfft_back(g, a, n, axis, _SWAPPED[norm]))


def ihfft_back(g, x, n, axis, norm):
    """Adjoint of the real ``x`` in ``ihfft(x, n, axis, norm)``, ``conj(rfft(x, n, axis))`` with
    the scaling of the other direction: ``rfft``'s adjoint of the conjugate of ``g``."""
    if _zero(g):
        return g
    return rfft_back(np.conj(g), x, n, axis, _SWAPPED[norm])


# the transforms again: each is the adjoint of the adjoint above of the same name (for gradient
# code differentiated again; ``x`` gives the lengths where ``s`` is None)
def fft_again(g, x, s, axes, norm, inverse=False):
    """The transpose of ``fft_back``: the transform itself, of ``g`` (``x``'s shape)."""
    if _zero(g):
        return g
    axes, sizes = _axes_and_sizes(x, s, axes)
    return (np.fft.ifftn if inverse else np.fft.fftn)(g, s=sizes, axes=axes, norm=norm)


def rfft_again(g, x, s, axes, norm):
    """The transpose of ``rfft_back``: ``rfftn`` of ``g``'s real part."""
    if _zero(g):
        return g
    axes, sizes = _axes_and_sizes(x, s, axes)
    return np.fft.rfftn(np.real(g), s=sizes, axes=axes, norm=norm)


def irfft_again(g, c, s, axes, norm):
    """The transpose of ``irfft_back``: ``irfftn`` of ``g`` (``c``'s shape)."""
    if _zero(g):
        return g
    axes, sizes = _axes_and_sizes(c, s, axes)
    if s is None:
        sizes[-1] = 2 * (np.shape(c)[axes[-1]] - 1)
    return np.fft.irfftn(g, s=sizes, axes=axes, norm=norm)


def hfft_again(g, a, n, axis, norm):
    """The transpose of ``hfft_back``: ``hfft`` of ``g``."""
    return g if _zero(g) else np.fft.hfft(g, n, axis, norm)


def ihfft_again(g, x, n, axis, norm):
    """The transpose of ``ihfft_back``: ``ihfft`` of ``g``'s real part."""
    return g if _zero(g) else np.fft.ihfft(np.real(g), n, axis, norm)
