"""Elementwise results built in one buffer (adcompiler/inplace.py): the generated code computes
``np.cos(w * 3 + b)`` as ``y = w * f64_3; y += b; np.cos(y, out=y)`` when the shapes and dtypes
are known to allow it. Every case checks the bits against unoptimised code, finite differences,
that arguments are never written, and that such code is differentiated again correctly."""
import numpy as np
import pytest

import adcompiler as ad
from conftest import assert_grad


def sin_sum(w, b):
    return np.sum(np.sin(w * 3 + b))


def chain(x, y):
    z = np.exp(x * y - 1.0) / 2 + np.sin(x)
    return np.sum(z * z) + np.sum(np.tanh(2.0 * x + y) ** 2)


def in_loop(x, y, n):
    total = 0.0
    for i in range(n):
        a = np.exp(x * 0.5 + y * i)
        total = total + np.sum(a * np.cos(a + 1.0))
    return total


def rebinds(x, y):
    x = np.cos(x * 2 + y)  # (the buffer would be x itself: not built in place)
    return np.sum(x * y)


def test_reads_as_a_numpy_programmer_writes_it(rng):
    src = ad.source(sin_sum, wrt=(0, 1), args=(rng.randn(25), rng.randn(25)))
    assert "dt2 = w * f64_3\n    dt2 += b\n    np.cos(dt2, out=dt2)\n" in src, src
    src = ad.source(rebinds, wrt=(0, 1), args=(rng.randn(4), rng.randn(4)))
    assert "out=x" not in src and "x +=" not in src, src


def _cases(rng):
    for shape in [(6,), (3, 4)]:
        for dtype in (np.float64, np.float32):
            yield chain, (rng.randn(*shape).astype(dtype), rng.randn(*shape).astype(dtype)), (0, 1)
            yield in_loop, (rng.randn(*shape).astype(dtype), rng.randn(*shape).astype(dtype), 3), (0, 1)
    yield chain, (rng.randn(4, 1), rng.randn(1, 3)), (0, 1)  # broadcast: steps change shape
    yield chain, (rng.randn(3, 4), rng.randn(4)), (0, 1)
    yield rebinds, (rng.randn(5), rng.randn(5)), (0, 1)


def test_same_bits_as_unoptimised_code_and_arguments_untouched(rng):
    for fn, args, wrt in _cases(rng):
        before = [np.copy(a) for a in args]
        got = ad.grad(fn, wrt=wrt)(*args)
        for a, b in zip(args, before):
            np.testing.assert_array_equal(a, b)
        plain = ad.grad(fn, wrt=wrt, optimize=False)(*args)
        for g, p, a in zip(got, plain, args):
            assert g.dtype == a.dtype and g.shape == a.shape
            np.testing.assert_array_equal(g, p)
        if args[0].dtype == np.float64:
            assert_grad(fn, args, wrt=wrt)
    assert "out=" in ad.source(chain, wrt=(0, 1), args=(rng.randn(6), rng.randn(6)))


def test_value_and_grad_and_vjp(rng):
    x, y = rng.randn(5), rng.randn(5)
    value, grads = ad.value_and_grad(chain, wrt=(0, 1))(x, y)
    assert value == pytest.approx(chain(x, y), rel=1e-14)
    out, pullback = ad.vjp(lambda x, y: np.cos(x * 3 + y) * 2, x, y)
    np.testing.assert_allclose(out, np.cos(x * 3 + y) * 2)
    v = rng.randn(5)
    dx, dy = pullback(v)
    np.testing.assert_allclose(dx, -6 * np.sin(x * 3 + y) * v)
    np.testing.assert_allclose(dy, -2 * np.sin(x * 3 + y) * v)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_code_built_in_place_is_differentiated_again(rng, mode):
    x, b = rng.randn(4), rng.randn(4)
    assert "out=" in ad.source(sin_sum, args=(x, b))
    want = np.diag(-9 * np.sin(3 * x + b))
    np.testing.assert_allclose(ad.hessian(sin_sum, mode=mode)(x, b), want, rtol=1e-10, atol=1e-12)
    second = ad.grad(lambda x, b: np.sum(ad.grad(sin_sum)(x, b)))
    np.testing.assert_allclose(second(x, b), np.diag(want), rtol=1e-10, atol=1e-12)
