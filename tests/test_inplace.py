"""Elementwise results built in one buffer (adcompiler/inplace.py): the generated code computes
``np.cos(w * 3 + b)`` as ``y = w * f64_3; y += b; np.cos(y, out=y)`` when the shapes and dtypes
are known to allow it. Every case checks the bits against unoptimised code, finite differences,
that arguments are never written, and that such code is differentiated again correctly."""
import numpy as np
import pytest
from conftest import assert_grad, check_all_modes, check_like_plain

import adcompiler as ad


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


def dead_names(x, y):
    e = np.sin(x) * y
    p = e * 2.0 + 1.0  # (e is read by nothing after this: p is written into e's array)
    return np.sum(p * y)


def read_again(x, y):
    q = np.tanh(y + x)
    r = q * 2.0 + np.sum(q, axis=0, keepdims=True)  # (q read by the second step: not reused)
    return np.sum(r * y)


def e_kept(x):
    e = np.sin(x)
    p = e * 3.0
    return np.sum(p + e)  # (e read after p: not reused)


def across_a_loop(x, y):
    e = np.exp(x * 0.5)
    total = 0.0
    for i in range(3):
        p = e / (1.0 + i)  # (e made outside the loop: read again next time round)
        total = total + np.sum(p * y)
    return total


def test_a_dead_name_lends_its_array(rng):
    x, y = rng.randn(5), rng.randn(5)
    src = ad.source(dead_names, wrt=(0, 1), args=(x, y))
    assert "p = np.multiply(e, f64_2, out=e)\n    p += f64_1" in src, src
    assert "out=q" not in ad.source(read_again, wrt=(0, 1), args=(x, y))
    assert "out=e" not in ad.source(e_kept, args=(x,)) and "p = e / t2" in ad.source(across_a_loop, args=(x, y))
    for fn in (dead_names, read_again, e_kept, across_a_loop):
        args = (x, y) if fn is not e_kept else (x,)
        wrt = (0, 1) if len(args) == 2 else 0
        got = ad.grad(fn, wrt=wrt)(*args)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(ad.grad(fn, wrt=wrt, optimize=False)(*args)))
        assert_grad(fn, args, wrt=wrt)


def rows_scaled_in_a_buffer(X):
    result = np.zeros((2, 3))
    y = X * result[0]           # (a view of the buffer, read before it is written)
    for item in result:         # (each row a view: item += 2.0 writes into result)
        item += 2.0
    B = result[:1]
    B *= 3.0                    # (a view of a view)
    z = X * result[1] + X * result[0]
    return np.sum(y + z) + np.sum(result)


def test_in_place_writes_through_views_of_values_without_derivative_run_as_written():
    """The buffer and the values written into it do not depend on X: its rows and slices are
    written in place as Python does (they were refused), and the backward pass reads what
    ``y`` saw before the writes."""
    X = np.array([0.5, -1.0, 2.0])
    value, g = ad.value_and_grad(rows_scaled_in_a_buffer)(X)
    assert value == pytest.approx(rows_scaled_in_a_buffer(X))
    np.testing.assert_allclose(g, np.full(3, 0.0 + 2.0 + 6.0))
    check_all_modes(rows_scaled_in_a_buffer, [X])


def view_of_an_argument_written(X, A):
    B = A[:2]
    B *= 3.0
    A.T[0] = 1.0
    return np.sum(X * A)


def test_writes_through_views_of_an_argument_not_differentiated_reach_the_caller():
    X, A = np.ones(3), np.arange(9.0).reshape(3, 3)
    plain = A.copy()
    view_of_an_argument_written(X, plain)
    inside = A.copy()
    g = ad.grad(view_of_an_argument_written)(X, inside)
    np.testing.assert_array_equal(inside, plain)   # (the same side effect on the caller's array)
    np.testing.assert_allclose(g, plain.sum(axis=0))


def view_of_the_differentiated_argument_written(X):
    v = X[:2]
    v *= 3.0
    return np.sum(X ** 2)


def test_a_write_through_a_view_of_a_differentiated_array_changes_it():
    check_like_plain(view_of_the_differentiated_argument_written, [np.array([0.5, -1.0, 2.0])])
