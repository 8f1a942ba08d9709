"""Derivative rules for ``np.fft`` (entries of the NumPy table). Every transform is linear (the
real ones over the reals), so its tangent is the transform of the tangent; its adjoint, in JAX's
convention for complex values (docs/complex.md), is its transpose (``helpers/fourier.py``).
``n``/``s``, ``axis``/``axes`` and ``norm`` are read by every template; ``out=`` is refused."""
import numpy as np

from .numpy_rules import table

D = table.define
_ONE = "a, n=None, axis=-1, norm=None, out=None"
_TWO = "a, s=None, axes=(-2, -1), norm=None, out=None"
_ANY = "a, s=None, axes=None, norm=None, out=None"

D(np.fft.fft, _ONE, "fft_back(g, a, n, axis, norm)", linear=True)
D(np.fft.ifft, _ONE, "fft_back(g, a, n, axis, norm, True)", linear=True)
D(np.fft.rfft, _ONE, "rfft_back(g, a, n, axis, norm)", linear=True)
D(np.fft.irfft, _ONE, "irfft_back(g, a, n, axis, norm)", linear=True)
D(np.fft.hfft, _ONE, "hfft_back(g, a, n, axis, norm)", linear=True)
D(np.fft.ihfft, _ONE, "ihfft_back(g, a, n, axis, norm)", linear=True)
D(np.fft.fft2, _TWO, "fft_back(g, a, s, axes, norm)", linear=True)
D(np.fft.ifft2, _TWO, "fft_back(g, a, s, axes, norm, True)", linear=True)
D(np.fft.rfft2, _TWO, "rfft_back(g, a, s, axes, norm)", linear=True)
D(np.fft.irfft2, _TWO, "irfft_back(g, a, s, axes, norm)", linear=True)
D(np.fft.fftn, _ANY, "fft_back(g, a, s, axes, norm)", linear=True)
D(np.fft.ifftn, _ANY, "fft_back(g, a, s, axes, norm, True)", linear=True)
D(np.fft.rfftn, _ANY, "rfft_back(g, a, s, axes, norm)", linear=True)
D(np.fft.irfftn, _ANY, "irfft_back(g, a, s, axes, norm)", linear=True)
# (a permutation: each is the other's adjoint)
D(np.fft.fftshift, "x, axes=None", "np.fft.ifftshift(g, axes)", linear=True)
D(np.fft.ifftshift, "x, axes=None", "np.fft.fftshift(g, axes)", linear=True)
