"""Optimisations that change what generated code computes: each is checked for the code it
produces and for the gradients (against finite differences), broadcasting included."""
import numpy as np
import pytest
from conftest import assert_grad, fd_grad

import adcompiler as ad
from adcompiler import runtime


def weighted_sum(x, y):
    return np.sum(x * y)


def log_likelihood(logits, onehot):
    m = np.max(logits, axis=1, keepdims=True)
    p = np.exp(logits - m)
    p = p / np.sum(p, axis=1, keepdims=True)
    return -np.sum(onehot * np.log(p)) / logits.shape[0]


def mean_of_outer(x, y):
    return np.mean(np.tanh(x)[:, None] * (2.0 * y[None, :] + 1.0))


def forward_lines(src):
    return src.split("#")[0]


def test_a_product_read_only_for_its_shape_is_not_computed(rng):
    x, y = rng.randn(4, 3), rng.randn(4, 3)
    src = ad.source(weighted_sum, wrt=(0, 1), args=(x, y))
    assert "x * y" not in forward_lines(src), src
    assert_grad(weighted_sum, (x, y), wrt=(0, 1))


@pytest.mark.parametrize("shapes", [((4, 3), (4, 3)), ((4, 1), (1, 3)), ((3,), (4, 3)), ((4, 3), ()), ((), ())])
def test_shape_stand_ins_under_broadcasting(rng, shapes):
    args = tuple(rng.randn(*s) if s else float(rng.randn()) for s in shapes)
    assert_grad(weighted_sum, args, wrt=(0, 1))
    assert_grad(mean_of_outer, (np.ravel(args[0]), np.ravel(args[1])), wrt=(0, 1))


def test_a_log_read_only_for_its_shape_is_not_computed(rng):
    logits, onehot = rng.randn(6, 5), np.eye(5)[rng.randint(0, 5, 6)]
    src = ad.source(log_likelihood, wrt=0, args=(logits, onehot))
    assert "np.log" not in forward_lines(src), src
    assert_grad(log_likelihood, (logits, onehot))
    # a soft target whose rows do not sum to one: the general gradient, not (p - onehot) / n
    soft = rng.rand(6, 5)
    assert_grad(log_likelihood, (logits, soft))
    assert_grad(log_likelihood, (logits, onehot[:1]))  # targets broadcast over the batch


def test_value_and_grad_still_computes_the_value(rng):
    x, y = rng.randn(4, 3), rng.randn(3)
    value, (dx, dy) = ad.value_and_grad(weighted_sum, wrt=(0, 1))(x, y)
    assert value == pytest.approx(np.sum(x * y))
    np.testing.assert_allclose(dy, fd_grad(weighted_sum, (x, y), 1), rtol=1e-6)


def test_lists_are_never_taken_for_arrays():
    def concatenated(xs, ys):
        return np.sum(np.array(xs + ys) ** 2) + np.sum(xs + ys)

    got = ad.grad(concatenated, wrt=(0, 1))([1.0, 2.0], [3.0])
    assert got == ([3.0, 5.0], [7.0])


def test_second_derivatives_through_shape_stand_ins(rng):
    x, y = rng.randn(3, 1), rng.randn(1, 4)

    def f(x, y):
        return np.sum(np.sin(x) * y) ** 2

    for mode in ("forward", "reverse"):
        h = ad.hessian(f, wrt=0, mode=mode)(x, y)
        want = np.stack([fd_grad(lambda x_, y_: ad.grad(f)(x_, y_).ravel()[i], (x, y), 0) for i in range(3)])
        want = want.reshape(h.shape)
        np.testing.assert_allclose(h, want, rtol=1e-5, atol=1e-6)


def test_shape_of_returns_an_operand_when_one_has_the_full_shape():
    a, b, c = np.ones((4, 3)), np.ones(3), np.ones((4, 1))
    assert runtime.shape_of(a, b) is a and runtime.shape_of(b, a) is a
    stand_in = runtime.shape_of(b, c)
    assert np.shape(stand_in) == (4, 3) and np.size(stand_in) == 12 and np.ndim(stand_in) == 2
    assert runtime.unreduce(2.0, stand_in).shape == (4, 3)
    assert runtime.unbroadcast(np.ones((4, 3)), stand_in).shape == (4, 3)


def test_signs_and_divisors_are_applied_after_the_sum(rng):
    def ratio(x, y):
        return np.sum((x - y) / y)

    x, y = rng.randn(5, 4), rng.rand(4) + 1.0
    src = ad.source(ratio, wrt=(0, 1), args=(x, y))
    # (t2's shape is known from the arguments' lengths: the seed is the number 1.0 itself)
    assert "-(unbroadcast(f64_1 * t2, y) / y)" in src and "dy - unbroadcast(dt1, y)" in src, src
    assert_grad(ratio, (x, y), wrt=(0, 1))
    assert_grad(ratio, (rng.randn(4), rng.rand(5, 4) + 1.0), wrt=(0, 1))


def test_small_broadcasts_are_fresh_arrays_and_large_ones_views():
    small = runtime.unreduce(np.ones((2, 1)), np.zeros((2, 3)), 1, True)
    assert small.shape == (2, 3) and small.flags.owndata
    big = runtime.unreduce(1.0, np.zeros((100, 100)))
    assert big.shape == (100, 100) and not big.flags.writeable
    assert runtime.expand_like(np.float32(2.0), np.zeros(3)).dtype == np.float32


def newton_sqrt(x):
    y = x
    i = 0
    while i < 20 and abs(y * y - x) > 1e-12 * x:
        y = 0.5 * (y + x / y)
        i += 1
    return y


def damped_until(x, limit):
    y = x
    steps = 0
    while y > limit or steps < 2:
        steps += 1
        if steps % 3 == 0:
            continue            # the tape entry below is skipped on some iterations
        y = 0.7 * y + 0.1 * np.sin(y)
    return y * x


def two_loops(x):
    y = x
    while y < 10.0:
        y = y * 1.5 + 0.1
    z = y
    while z > 1.0:
        z = z * 0.5 + np.cos(z) * 0.1
    return z * y


def test_a_while_loop_reads_like_a_hand_written_one():
    """The loop test is evaluated in the while statement, and the backward loop reads the tape in
    reverse: no counter, no pops."""
    src = ad.source(newton_sqrt, args=(7.0,))
    assert "while i < 20 and abs(y * y - x) > 1e-12 * x:" in src, src
    assert "in reversed(tape):" in src and "n_iter" not in src and ".pop()" not in src, src
    for x in (0.3, 2.0, 7.0, 1e4):
        assert ad.grad(newton_sqrt)(x) == pytest.approx(0.5 / np.sqrt(x), rel=1e-9)
        for mode in ("forward", "reverse"):
            assert ad.hessian(newton_sqrt, mode=mode)(x) == pytest.approx(-0.25 * x ** -1.5, rel=1e-6)


@pytest.mark.parametrize("fn, args", [(damped_until, (5.0, 0.5)), (damped_until, (0.2, 0.5)), (two_loops, (0.7,)),
                                      (two_loops, (30.0,))])
def test_tapes_of_loops_that_skip_or_share(fn, args):
    assert_grad(fn, args, wrt=0)
    g = ad.grad(fn)
    eps = 1e-5
    hi, lo = (args[0] + eps,) + args[1:], (args[0] - eps,) + args[1:]
    for mode in ("forward", "reverse"):
        assert ad.hessian(fn, mode=mode)(*args) == pytest.approx((g(*hi) - g(*lo)) / (2 * eps), rel=1e-4, abs=1e-7)
