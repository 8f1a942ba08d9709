"""Composites differentiated as a whole (adcompiler/fusion.py): the log of a softmax and the
sigmoid, written the ways people write them. Each is checked against finite differences, for the
code it produces, and for the cases where the rewrite must not apply (or must not drop the shift's
gradient)."""
import numpy as np
import pytest
from conftest import assert_grad, check_all_modes, fd_grad

import adcompiler as ad


def xent(logits, onehot):
    m = np.max(logits, axis=1, keepdims=True)
    e = np.exp(logits - m)
    p = e / np.sum(e, axis=1, keepdims=True)
    return -np.sum(onehot * np.log(p)) / logits.shape[0]


def xent_methods(logits, onehot):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return -np.mean(np.sum(onehot * np.log(p), axis=-1))


def xent_unshifted(logits, onehot):
    e = np.exp(logits)
    p = e / np.sum(e, axis=1, keepdims=True)
    return -np.sum(onehot * np.log(p))


def log_softmax_1d(x, w):
    e = np.exp(x - np.max(x))
    p = e / np.sum(e)
    return np.dot(w, np.log(p))


def xent_shift_along_columns(logits, onehot):
    m = np.max(logits, axis=0, keepdims=True)  # softmax along rows, shift along columns: matters
    e = np.exp(logits - m)
    p = e / np.sum(e, axis=1, keepdims=True)
    return -np.sum(onehot * np.log(p))


def xent_shift_of_other(logits, onehot, other):
    m = np.max(other, axis=1, keepdims=True)  # a shift by another array's maximum
    e = np.exp(logits - m)
    p = e / np.sum(e, axis=1, keepdims=True)
    return -np.sum(onehot * np.log(p)) + np.sum(m ** 2)


def xent_and_more(logits, onehot):
    m = np.max(logits, axis=1, keepdims=True)
    e = np.exp(logits - m)
    s = np.sum(e, axis=1, keepdims=True)
    p = e / s
    # p, e, s and m also used elsewhere: those uses keep their own derivatives
    return -np.sum(onehot * np.log(p)) + np.sum(p ** 2) + np.sum(np.log(s) + m) + 0.1 * np.sum(e)


def xent_rebound(logits, onehot):
    m = np.max(logits, axis=1, keepdims=True)
    e = np.exp(logits - m)
    logits = logits * 2.0
    p = e / np.sum(e, axis=1, keepdims=True)
    return -np.sum(onehot * np.log(p)) + np.sum(logits)


def xent_in_loop(W, xs, ys):
    total = 0.0
    for i in range(len(xs)):
        logits = xs[i] @ W
        m = np.max(logits, axis=1, keepdims=True)
        e = np.exp(logits - m)
        p = e / np.sum(e, axis=1, keepdims=True)
        total = total - np.sum(ys[i] * np.log(p))
    return total


def entropy(logits):
    m = np.max(logits, axis=1, keepdims=True)
    e = np.exp(logits - m)
    p = e / np.sum(e, axis=1, keepdims=True)
    return -np.sum(p * np.log(p))


def not_a_softmax(x, y):
    e = np.exp(x)
    p = e / np.sum(y, axis=1, keepdims=True)  # divided by another array's sum
    return np.sum(np.log(p))


def sum_without_keepdims(x):
    e = np.exp(x)
    p = e / np.sum(e, axis=0)  # broadcasts along the last axis: not a softmax for 2-D x
    return np.sum(np.log(p) * np.arange(x.shape[1]))


def targets(rng, n, k):
    return np.eye(k)[rng.randint(0, k, n)]


@pytest.mark.parametrize("fn", [xent, xent_methods, xent_unshifted, xent_shift_along_columns, xent_and_more,
                                xent_rebound, entropy])
@pytest.mark.parametrize("shape", [(6, 5), (1, 3), (4, 1)])
def test_log_softmax_gradients(rng, fn, shape):
    logits = 3.0 * rng.randn(*shape)
    args = (logits,) if fn is entropy else (logits, targets(rng, *shape))
    assert_grad(fn, args)
    if fn is not entropy:
        assert_grad(fn, (logits, rng.rand(*shape)))  # soft targets: rows need not sum to one


def test_log_softmax_is_fused_and_the_shift_gets_no_code(rng):
    logits, onehot = rng.randn(6, 5), targets(rng, 6, 5)
    for fn in (xent, xent_methods):
        src = ad.source(fn, args=(logits, onehot))
        assert "log_softmax" in src and "unreduce_extreme" not in src and "np.log" not in src.split("#")[0], src
    src = ad.source(xent_shift_along_columns, args=(logits, onehot))
    assert "unreduce_extreme" in src, src  # that shift is not constant along the softmax's axis


def test_a_rebound_input_is_not_fused_past(rng):
    logits, onehot = rng.randn(6, 5), targets(rng, 6, 5)
    assert "log_softmax" not in ad.source(xent_rebound, args=(logits, onehot))


def test_one_dimensional_log_softmax(rng):
    for n in (1, 4, 7):
        assert_grad(log_softmax_1d, (rng.randn(n), rng.randn(n)), wrt=(0, 1))
    assert "log_softmax" in ad.source(log_softmax_1d, args=(rng.randn(4), rng.randn(4)))


def test_shift_by_another_array_keeps_its_gradient(rng):
    logits, onehot, other = rng.randn(6, 5), targets(rng, 6, 5), rng.randn(6, 5)
    assert_grad(xent_shift_of_other, (logits, onehot, other), wrt=(0, 2))


def test_patterns_that_are_not_softmax(rng):
    x = rng.rand(4, 3) + 0.5
    assert_grad(not_a_softmax, (x, rng.rand(4, 3) + 0.5), wrt=(0, 1))
    assert "log_softmax" not in ad.source(not_a_softmax, args=(x, x))
    sq = rng.randn(3, 3)
    assert_grad(sum_without_keepdims, (sq,))
    assert "log_softmax" not in ad.source(sum_without_keepdims, args=(sq,))


def test_inside_a_loop(rng):
    W = rng.randn(4, 3)
    xs, ys = rng.randn(3, 5, 4), np.stack([targets(rng, 5, 3) for _ in range(3)])
    assert_grad(xent_in_loop, (W, xs, ys))


def test_value_float32_and_modes(rng):
    logits, onehot = rng.randn(6, 5), targets(rng, 6, 5)
    value, g = ad.value_and_grad(xent)(logits, onehot)
    assert value == xent(logits, onehot)  # the same value, bit for bit
    g32 = ad.grad(xent)(logits.astype(np.float32), onehot.astype(np.float32))
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, g, rtol=1e-4, atol=1e-6)
    # forward mode uses the composite's tangent rule
    v = rng.randn(6, 5)
    _, tangent = ad.jvp(xent, (logits, onehot), (v, np.zeros_like(onehot)))
    assert tangent == pytest.approx(np.sum(g * v), rel=1e-9)
    # second derivatives: forward over reverse, against finite differences of the gradient
    H = ad.hessian(xent)(logits, onehot)
    grad = ad.grad(xent)
    for i, j in [(0, 0), (2, 3), (5, 4)]:
        want = fd_grad(lambda x: grad(x, onehot)[i, j], (logits,), 0)
        np.testing.assert_allclose(H[i, j], want, rtol=1e-5, atol=1e-7)
    # the gradient of the gradient, in reverse mode too
    gg = ad.grad(lambda x, y: np.sum(ad.grad(xent)(x, y) ** 2))(logits, onehot)
    np.testing.assert_allclose(gg, fd_grad(lambda x: np.sum(grad(x, onehot) ** 2), (logits,), 0), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("shape, axis", [((5,), -1), ((5,), 0), ((3, 4), 1), ((3, 4), -1), ((3, 4), 0),
                                         ((2, 3, 4), 2), ((2, 3, 4), 1), ((2, 5000), 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sum_keepdims_is_numpys_sum(rng, shape, axis, dtype):
    """The log-softmax rule's row sums: a product with ones along a short last axis."""
    from adcompiler.runtime import sum_keepdims
    a = rng.randn(*shape).astype(dtype)
    got, want = sum_keepdims(a, axis), np.sum(a, axis=axis, keepdims=True)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-12 if dtype == np.float64 else 1e-5, atol=1e-5)
    assert sum_keepdims(2.5, None) == 2.5 and sum_keepdims(np.arange(4), -1).tolist() == [6]


def test_reverse_over_reverse_hessian(rng):
    logits, onehot = rng.randn(3, 4), targets(rng, 3, 4)
    grad = ad.grad(xent)
    H = ad.hessian(xent, mode="reverse")(logits, onehot)
    for i, j in [(0, 0), (1, 3), (2, 2)]:
        np.testing.assert_allclose(H[i, j], fd_grad(lambda x: grad(x, onehot)[i, j], (logits,), 0), rtol=1e-5, atol=1e-7)


# -- the sigmoid written 1 / (1 + exp(-z)) --------------------------------------------------

def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def logistic_regression(w, X, y):
    p = sigmoid(X @ w)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def sigmoid_parts_reused(w, X):
    a = X @ w
    e = np.exp(-a)
    d = e + 1  # (the other order, an int one, and e and d read again: their own derivatives)
    s = 1 / d
    return np.sum(s * e) + np.sum(np.log(d)) + np.sum(s ** 3)


def sigmoid_of_a_rebound_name(w, X):
    a = X @ w
    n = -a
    a = a * 2.0  # (z is bound again before the quotient: not the sigmoid of this a)
    return np.sum(1.0 / (1.0 + np.exp(n)) * a)


def sigmoid_of_a_number(x, y):
    return 1.0 / (1.0 + np.exp(-x * y)) + x


@pytest.mark.parametrize("fn, fused", [(logistic_regression, 1), (sigmoid_parts_reused, 1),
                                       (sigmoid_of_a_rebound_name, 0)])
def test_a_sigmoid_written_out_is_differentiated_from_its_value(rng, fn, fused):
    X = rng.randn(6, 3)
    args = (rng.randn(3), X) + ((rng.rand(6) > 0.5).astype(float),) * (fn is logistic_regression)
    src = ad.source(fn, 0, args=args)
    assert src.count("logistic(") == 2 * fused, src  # (the call and its comment)
    check_all_modes(fn, args, wrt=(0, 1))


def test_a_sigmoid_of_numbers_and_float32(rng):
    check_all_modes(sigmoid_of_a_number, (0.3, -1.7), wrt=(0, 1))
    w32, X32 = rng.randn(3).astype(np.float32), rng.randn(6, 3).astype(np.float32)
    g = ad.grad(sigmoid_parts_reused)(w32, X32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, ad.grad(sigmoid_parts_reused)(w32.astype(float),
                                                                X32.astype(float)), rtol=1e-4)
