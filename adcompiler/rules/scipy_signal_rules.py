"""Derivative rules for ``scipy.signal``'s convolutions (only when the user's code has imported
scipy.signal: SciPy is not a dependency). Each is bilinear in its two operands (the tangent is
derived); the adjoint of one operand is the result's adjoint, padded to the full convolution's
shape, convolved in mode "valid" with the other operand (flipped for a convolution, as it is
for a correlation). ``method`` changes only the rounding; ``convolve2d``/``correlate2d`` are
handled with zero padding only (``boundary="fill"``, ``fillvalue=0``)."""
import scipy.signal as sig

from .core import Table

table = Table("scipy.signal")
P = table.product
_PAD = "pad_to_full(g, in1, in2, mode%s)"
_FILL = dict(boundary=("fill",), fillvalue=(0,))

for _fn, _flat, _params, _extra, _ceil in (
        (sig.convolve, True, "in1, in2, mode='full', method='auto'", {}, ""),
        (sig.convolve2d, True, "in1, in2, mode='full', boundary='fill', fillvalue=0", _FILL, ""),
        (sig.correlate, False, "in1, in2, mode='full', method='auto'", {}, ""),
        (sig.correlate2d, False, "in1, in2, mode='full', boundary='fill', fillvalue=0", _FILL,
         ", True")):
    _pad = _PAD % _ceil
    if _flat:  # a convolution: the other operand flipped
        _left = "sig.convolve(%s, np.flip(in2), 'valid')" % _pad
        _right = "sig.convolve(%s, np.flip(in1), 'valid')" % _pad
    else:  # a correlation: a convolution with in2 flipped
        _left = "sig.convolve(%s, in2, 'valid')" % _pad
        _right = "np.flip(sig.convolve(%s, np.flip(in1), 'valid'))" % _pad
    P(_fn, _params, _left, _right, "sig.%s" % _fn.__name__,
      harmless=("method",) if "method" in _params else (), only=_extra)
