"""Shapes followed through matrix products and around loops (adcompiler/shapes.py), the axes of
the arguments named by their lengths (``arguments.dims_of``), and tape entries kept only for
their shape dropped (adcompiler/tape_entries.py). Each case checks the gradients in every mode
against finite differences, and calls with other lengths (a length 1, lengths that happen to
be equal) get code of their own that is right too."""
import numpy as np
import pytest
from conftest import assert_grad, check_all_modes

import adcompiler as ad
from adcompiler.arguments import dims_of, kinds_of


def rnn(W, U, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t])
    return np.sum(h * h)


def rnn_dot(W, U, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(np.dot(W, h) + np.dot(U, xs[t]))  # (adjoints ddot_left/right)
    return np.sum(h * h)


def rnn_args(rng, hidden=4, steps=6, n_in=3):
    return (rng.randn(hidden, hidden) * 0.4, rng.randn(hidden, n_in) * 0.4,
            rng.randn(steps, n_in), rng.randn(hidden) * 0.1)


def test_axes_are_named_by_their_lengths():
    lengths: dict = {}
    assert dims_of((5, 3), lengths) == ("n0", "n1")
    assert dims_of((3, 1, 5), lengths) == ("n1", 1, "n0")
    kinds = kinds_of((np.ones((2, 7)), np.ones(7), 1.5, np.ones(()), np.ones(1)))
    assert kinds[0][3] == ("n0", "n1") and kinds[1][3] == ("n1",) and kinds[4][3] == (1,)
    assert kinds[2] == "float" and len(kinds[3]) == 3  # (a 0-d array: no axes to name)


@pytest.mark.parametrize("fn", [rnn, rnn_dot])
def test_a_recurrent_loop_reads_like_the_hand_written_gradient(rng, fn):
    args = rnn_args(rng)
    src = ad.source(fn, wrt=(0, 1), args=args)
    for helper in ("unbroadcast", "cast_like", "distinct", "expand_like", "unreduce"):
        assert helper not in src, src
    assert "tape.append((t3, t5))" not in src and "t3, t5 = tape.pop()" not in src, src
    check_all_modes(fn, args, wrt=(0, 1))


@pytest.mark.parametrize("fn", [rnn, rnn_dot])
@pytest.mark.parametrize("hidden, steps, n_in", [(1, 3, 2), (3, 3, 3), (2, 1, 1), (3, 4, 1)])
def test_lengths_equal_by_chance_or_one_get_their_own_right_code(rng, fn, hidden, steps, n_in):
    grad = ad.grad(fn, wrt=(0, 1, 3))
    grad(*rnn_args(rng))  # (code for distinct lengths first)
    args = rnn_args(rng, hidden, steps, n_in)
    for got, want, a in zip(grad(*args), assert_grad(fn, args, wrt=(0, 1, 3)), args[:2] + args[3:]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
        assert got.shape == a.shape


def growing(h0, x, n):
    h = h0
    for _ in range(n):
        h = np.tanh(h + x)  # (h0 of one entry: h has x's shape from the first pass on)
    return np.sum(h)


def test_a_shape_that_changes_in_the_first_pass_is_not_assumed(rng):
    for h0, x in [(rng.randn(1), rng.randn(4)), (rng.randn(4), rng.randn(1)),
                  (rng.randn(1, 3), rng.randn(2, 3)), (rng.randn(4), rng.randn(4))]:
        check_all_modes(growing, (h0 * 0.3, x * 0.3, 3), wrt=(0, 1))
    src = ad.source(growing, wrt=(0, 1), args=(rng.randn(1), rng.randn(4), 3))
    assert "unbroadcast" in src, src


def alternating(a, b, n):
    h = a
    for k in range(n):
        if k % 2:
            h = h * b  # (b is a row: h becomes a matrix in some passes only)
        else:
            h = np.sin(h)
    return np.sum(h * h)


def test_a_shape_changed_in_a_branch_of_the_loop_is_not_assumed(rng):
    check_all_modes(alternating, (rng.randn(3, 1), rng.randn(1, 4), 3), wrt=(0, 1))
    check_all_modes(alternating, (rng.randn(3, 4), rng.randn(3, 4), 4), wrt=(0, 1))


def transposed(W, X, n):
    H = X
    for _ in range(n):
        H = np.tanh(H @ W.T) + np.dot(H, W)[0]  # (a row of the product: broadcast down)
    return np.sum(H ** 2)


@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (1, 3)])
def test_products_transposes_and_rows(rng, shape):
    check_all_modes(transposed, (rng.randn(3, 3) * 0.3, rng.randn(*shape) * 0.5, 2))


def accumulate(W, xs):
    grads = np.zeros_like(W)
    total = 0.0
    for t in range(xs.shape[0]):
        v = W @ xs[t]
        grads += np.outer(v, xs[t])
        total = total + np.sum(v ** 2)
    return total + np.sum(grads * W)


def test_arrays_updated_in_place_in_a_loop(rng):
    check_all_modes(accumulate, (rng.randn(3, 4) * 0.5, rng.randn(5, 4)))
    check_all_modes(accumulate, (rng.randn(4, 4) * 0.5, rng.randn(1, 4)))


def test_an_exported_gradient_takes_any_lengths(rng, tmp_path):
    def f(x, y):
        return np.sum(x * y)
    path = tmp_path / "exported.py"
    ad.export(f, str(path), args=(rng.randn(3), rng.randn(3)))  # (equal lengths in the example)
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    x, y = rng.randn(1), rng.randn(3)
    got = namespace["df"](x, y)
    assert got.shape == (1,)
    np.testing.assert_allclose(got, [np.sum(y)])


def rnn_layer(x, h0, Wx, Wh, b):
    """A course's RNN layer: the time loop writes a hidden-state buffer made from ``x.shape``."""
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    prev = h0
    for t in range(T):
        prev = np.tanh(x[:, t, :] @ Wx + prev @ Wh + b)
        h[:, t, :] = prev
    return np.sum(h * h)


def rnn_layer_args(rng, N=3, T=4, D=2, H=5):
    return (rng.randn(N, T, D), rng.randn(N, H) * 0.3, rng.randn(D, H) * 0.4,
            rng.randn(H, H) * 0.4, rng.randn(H) * 0.1)


def test_a_layer_writing_a_hidden_state_buffer_reads_like_the_hand_written_gradient(rng):
    args = rnn_layer_args(rng)
    src = ad.source(rnn_layer, wrt=(0, 1, 2, 3, 4), args=args)
    # (slices x[:, t, :], np.zeros of x.shape's lengths, the adjoint dprev that is 0.0 before the
    # backward loop and an array after: all known, so only the bias's adjoint is summed)
    assert src.count("unbroadcast") == 1 and "unbroadcast(dt8, b)" in src, src
    assert "stored_derivative" not in src and src.count("tape.append") == 3, src
    check_all_modes(rnn_layer, args, wrt=(0, 1, 2, 3, 4))


@pytest.mark.parametrize("N, T, D, H", [(1, 3, 2, 2), (2, 2, 2, 2), (3, 1, 1, 3), (2, 3, 4, 1),
                                        (2, 0, 3, 4)])
def test_a_hidden_state_buffer_with_lengths_equal_one_or_zero_steps(rng, N, T, D, H):
    grad = ad.grad(rnn_layer, wrt=(0, 1, 2, 3, 4))
    grad(*rnn_layer_args(rng))  # (code for distinct lengths first)
    args = rnn_layer_args(rng, N, T, D, H)
    want = assert_grad(rnn_layer, args, wrt=(0, 1, 2, 3, 4))
    for got, expected, a in zip(grad(*args), want, args):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
        assert got.shape == a.shape and got.dtype == a.dtype


def summed(w, xs, n):
    total = 0.0  # (a number before the loop, an array in it: its shape comes from the other operand)
    for t in range(n):
        total = total + xs[t] * w
    return np.sum(np.sin(total)) + np.sum(total * w)


@pytest.mark.parametrize("n", [0, 1, 3])
@pytest.mark.parametrize("shapes", [((4,), (3, 4)), ((2, 1), (3, 2, 4)), ((1,), (3, 2))])
def test_a_sum_started_at_zero_before_a_loop(rng, n, shapes):
    args = (rng.randn(*shapes[0]), rng.randn(*shapes[1]), n)
    check_all_modes(summed, args, wrt=(0, 1))
    got = ad.grad(summed, wrt=(0, 1))(*args)
    assert [g.shape for g in got] == [a.shape for a in args[:2]]


def twice(W, x, n):
    h = x
    for _ in range(n):
        h = np.sin(h) * 0.9  # (the two loops push entries of the same names)
    h = W @ h
    for _ in range(n):
        h = np.sin(h) * 0.9
    return np.sum(h ** 2)


def test_loops_whose_tape_entries_have_the_same_names(rng):
    check_all_modes(twice, (rng.randn(3, 3), rng.randn(3), 3), wrt=(0, 1))
