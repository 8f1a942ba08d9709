"""The zero padding behind the adjoints of ``scipy.signal``'s convolutions: a result of mode
"same" or "valid" is a window of the full convolution, so its adjoint is first placed in a zero
array of the full shape (``pad_to_full``), then correlated with the other operand in mode
"valid"; ``crop_from_full`` takes the window back out (each is the other's adjoint)."""
from __future__ import annotations

import numpy as np

from ._base import _zero


def _window(a, v, mode, ceil):
    """The full convolution's shape and the slices of the window ``mode`` keeps ("same": centred
    as ``convolve`` does, or as ``correlate2d`` does with ``ceil``)."""
    sa, sv = np.shape(a), np.shape(v)
    full = tuple(p + q - 1 for p, q in zip(sa, sv))
    if mode == "full":
        return full, None
    if mode == "same":
        start = [q // 2 if ceil else (q - 1) // 2 for q in sv]
        size = sa
    else:  # "valid": the larger operand's shape less the smaller one's, plus 1
        start = [min(p, q) - 1 for p, q in zip(sa, sv)]
        size = [abs(p - q) + 1 for p, q in zip(sa, sv)]
    return full, tuple(slice(b, b + n) for b, n in zip(start, size))


def pad_to_full(g, a, v, mode, ceil=False):
    """``g``, the adjoint of a convolution of ``a`` and ``v`` in ``mode``, in a zero array of the
    full convolution's shape."""
    if _zero(g):
        return g
    full, window = _window(a, v, mode, ceil)
    if window is None:
        return g
    out = np.zeros(full, dtype=np.result_type(g, 0.0))
    out[window] = g
    return out


def crop_from_full(g, a, v, mode, ceil=False):
    """The window of ``g`` (full convolution shape) that ``mode`` keeps."""
    if _zero(g):
        return g
    window = _window(a, v, mode, ceil)[1]
    return g if window is None else g[window]
