"""In-place arithmetic as people write it: an alias that nobody reads after the update does not
stop differentiation (the temporary of ``d[i, y] -= 1``, the tuple a call returned and the function
unpacked, an element read, a copy), while an alias that is read later, returned, the caller's, or
seen by a nested function still makes the update an error, never a wrong value."""
import numpy as np
import pytest
from conftest import check_all_modes, check_like_plain

import adcompiler as ad


def softmax_loss_and_grad(x, y):
    """A fused loss-and-gradient function of course code: only the loss is differentiated."""
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    probs = np.exp(log_probs)
    n = x.shape[0]
    loss = -np.sum(log_probs[np.arange(n), y]) / n
    dx = probs.copy()
    dx[np.arange(n), y] -= 1
    dx /= n
    return loss, dx


def softmax_loss(x, y):
    loss, dx = softmax_loss_and_grad(x, y)
    return loss


def data_loss(w, x):
    t = np.tanh(x * w)
    return np.sum(t ** 2), 2.0 * t * (1.0 - t ** 2) * x


def regularised(w, x):
    loss, g = data_loss(w, x)
    loss += 0.5 * np.sum(w ** 2)
    return loss


def naive_softmax(W, X, y, reg):
    loss = 0.0
    num_train = X.shape[0]
    for i in range(num_train):
        scores = X[i].dot(W)
        scores -= np.max(scores)
        correct = scores[y[i]]
        loss += -correct + np.log(np.sum(np.exp(scores)))
    loss /= num_train
    loss += reg * np.sum(W * W)
    return loss


X43 = np.random.RandomState(0).randn(4, 3)
Y4 = np.array([0, 2, 1, 2])


def test_fused_loss_and_gradient_of_course_code():
    """The function's own hand-written gradient agrees with the generated one."""
    own = softmax_loss_and_grad(X43, Y4)[1]
    np.testing.assert_allclose(ad.grad(softmax_loss)(X43.copy(), Y4), own, rtol=1e-12, atol=1e-14)
    check_all_modes(softmax_loss, [X43, Y4])


def test_augmented_scalar_after_unpacking():
    check_all_modes(regularised, [np.array([0.3, -0.7]), np.array([1.5, 0.4])])


def test_element_read_then_in_place_in_a_loop():
    r = np.random.RandomState(1)
    W, X, y = r.randn(3, 4), r.randn(5, 3), np.array([0, 3, 1, 2, 1])
    s = X @ W
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(5), y] -= 1.0
    np.testing.assert_allclose(ad.grad(naive_softmax)(W.copy(), X, y, 0.1), X.T @ p / 5 + 0.2 * W, rtol=1e-10)
    check_all_modes(naive_softmax, [W, X, y, 0.1])


def alias_read_later(x):
    a = x * 2.0
    b = a
    a += 1.0
    return np.sum(b * x)


def alias_returned(x):
    a = np.sin(x)
    b = a[1:]
    a *= 2.0
    return b


def view_of_argument(x):
    y = x[1:]
    y += 1.0
    return np.sum(y * x[1:])


def alias_in_closure(x):
    a = x * 2.0
    b = a
    total = lambda: np.sum(b)  # noqa: E731
    a += 1.0
    return total() * np.sum(x)


@pytest.mark.parametrize("fn", [alias_read_later, view_of_argument, alias_in_closure])
def test_an_alias_that_is_still_seen_follows_the_write(fn):
    check_like_plain(fn, [np.array([0.5, -1.2, 2.0])])


def test_an_alias_returned_follows_the_write():
    x = np.array([0.5, -1.2, 2.0])
    out, pullback = ad.vjp(alias_returned, x)
    np.testing.assert_allclose(out, 2 * np.sin(x[1:]))
    np.testing.assert_allclose(pullback(np.array([1.0, -2.0]))[0], 2 * np.cos(x) * [0.0, 1.0, -2.0])


def scatter(x, w):
    out = np.zeros(4)
    idx = np.array([0, 2, 2, 3])
    before = out * 1.0
    np.add.at(out, idx, x * w)
    np.subtract.at(out, [1, 1], w)
    return np.sum(out ** 2) + np.sum(before * x)


def embedding_backward_style(W, ids):
    E = np.zeros((5, 3))
    np.add.at(E, ids, W)
    return np.sum(np.tanh(E))


def scatter_into_argument(acc, x):
    np.add.at(acc, [0, 0, 1], x)
    return np.sum(acc ** 2)


@pytest.mark.parametrize("wrt", [0, 1])
def test_scatter_add_with_repeated_indices(wrt):
    check_all_modes(scatter, [np.array([0.3, -0.8, 1.1, 0.5]), 0.7], wrt=wrt)
    W, ids = np.random.RandomState(0).randn(4, 3), np.array([1, 1, 4, 0])
    check_all_modes(embedding_backward_style, [W, ids])


def repeated_store(x):
    y = np.zeros(3)
    y[[0, 1, 0, 2]] = x * np.arange(1.0, 5.0)  # (y[0] keeps the third value)
    return np.sum(y ** 2 * np.array([1.0, 2.0, 3.0]))


def repeated_increment(theta):
    g = np.log(theta ** 2 + 1.0)
    g[[0, 0]] += theta  # (one increment kept, not two: NumPy reads both, then stores both)
    return np.sum(g ** 2)


def class_sums(values, labels):
    sums = np.ones((3, 2))
    for _ in range(2):
        sums[labels] += values
        sums[labels, 1] = values[:, 0] * sums[labels, 0]
    return np.sum(np.sin(sums))


def repeated_store_outputs(x):
    y = np.zeros(3)
    y[[0, 1, 0, 2]] = x * np.arange(1.0, 5.0)
    return np.sin(y)


def test_a_store_through_repeated_indices_differentiates_the_value_numpy_kept():
    # the campaign's most frequent refusal: an element named twice by a fancy index keeps one
    # of its values (NumPy's own store of positions says which), and only that one has a
    # derivative
    x = np.array([0.3, 0.5, 0.7, 1.1])
    check_all_modes(repeated_store, [x])
    np.testing.assert_allclose(ad.grad(repeated_store)(x), [0.0, 16 * 0.5, 18 * 0.7, 96 * 1.1],
                               rtol=1e-12)
    check_all_modes(repeated_increment, [np.array([0.7])])
    check_all_modes(repeated_increment, [np.array([0.7, -0.3])])
    labels = np.array([0, 1, 1, 2])
    check_all_modes(class_sums, [np.random.RandomState(1).randn(4, 2), labels])
    jacobian = ad.jacobian(repeated_store_outputs)(x)
    np.testing.assert_allclose(ad.jacobian(repeated_store_outputs, mode="forward")(x), jacobian,
                               rtol=1e-12)
    np.testing.assert_allclose(jacobian[0], [0.0, 0.0, 3 * np.cos(2.1), 0.0], rtol=1e-12)


def test_scatter_add_into_an_argument_changes_it_as_the_plain_call():
    acc, x = np.array([1.0, 2.0]), np.array([0.5, -1.0, 3.0])
    plain_acc = acc.copy()
    want = scatter_into_argument(plain_acc, x)
    got_acc = acc.copy()
    value, grad = ad.value_and_grad(scatter_into_argument, wrt=1)(got_acc, x)
    assert value == want and np.array_equal(got_acc, plain_acc)
    np.testing.assert_allclose(grad, [2 * plain_acc[0], 2 * plain_acc[0], 2 * plain_acc[1]], rtol=1e-12)


def gray_scott(F, U0, V0):
    U, V = U0.copy(), V0.copy()
    for _ in range(3):
        Uc, Vc = U[1:-1], V[1:-1]  # (views, bound again each step, never read after the writes)
        uvv = Uc * Vc * Vc
        dU = U[:-2] + U[2:] - 2 * Uc - uvv + F * (1 - Uc)
        dV = V[:-2] + V[2:] - 2 * Vc + uvv - F * Vc
        U[1:-1] += 0.1 * dU
        V[1:-1] += 0.1 * dV
    return np.sum(V ** 2) + np.sum(U * V)


def swaps_by_unpacking(x):
    a, b = x[0], x[1] * 2.0
    a, b = b, a  # (both values first)
    u, v = b * a, a
    w = [1.0, 2.0]
    w[0], c = a * 3.0, w[0]
    return a * 3.0 + b + u * v + w[0] * c


def test_unpacking_a_display_binds_each_name_to_its_value():
    """``Uc, Vc = U[1:-1], V[1:-1]`` binds each name to its view (no tuple holding them, which
    was refused as a view read after the write), and ``a, b = b, a`` swaps."""
    U0, V0 = np.array([1.0, 0.5, 0.2, 0.7, 1.0]), np.array([0.0, 0.3, 0.4, 0.1, 0.0])
    for wrt in (0, 1, 2):
        check_all_modes(gray_scott, [0.3, U0, V0], wrt=wrt)
    check_all_modes(swaps_by_unpacking, [np.array([0.5, 1.5])])
    assert " = (" not in ad.source(swaps_by_unpacking)  # (no tuple is built)


# -- optimiser state read from a dict and updated in place, more than once -----------------------

def momentum_steps(w0, lr):
    w = w0.copy()
    velocity = {"w": np.zeros_like(w)}
    for _ in range(3):
        g = 2 * w + np.sin(w)
        v = velocity["w"]
        v *= 0.8  # (two in-place updates of the entry's array: the dict sees both)
        v += g
        w -= lr * v
    return np.sum(w ** 2) + np.sum(velocity["w"])


def adam_steps(w0, lr):
    w = w0.copy()
    state = {"w": {"m": np.zeros_like(w), "v": np.zeros_like(w), "t": 0}}
    for _ in range(3):
        g = 2 * w + np.sin(w)
        s = state["w"]  # (a dict read from a dict: its entries are stored into)
        s["t"] += 1
        s["m"] = 0.9 * s["m"] + 0.1 * g
        s["v"] = 0.99 * s["v"] + 0.01 * g * g
        m_hat = s["m"] / (1 - 0.9 ** s["t"])
        v_hat = s["v"] / (1 - 0.99 ** s["t"])
        w = w - lr * m_hat / (np.sqrt(v_hat) + 1e-8)
    return np.sum(w ** 2) + np.sum(state["w"]["m"])


@pytest.mark.parametrize("fn", [momentum_steps, adam_steps])
def test_optimiser_state_in_a_dict_updated_through_a_name(fn, rng):
    check_all_modes(fn, (rng.randn(4), 0.1), wrt=(0, 1))


def number_entry(w, start):
    d = {"k": start}
    v = d["k"]
    v *= 2.0  # (a number is bound again: the entry keeps its value, as in Python)
    v += 1.0
    return np.sum(w * d["k"]) + np.sum(w * v)


def test_an_entry_updated_twice_through_a_name_as_python_does(rng):
    w = rng.randn(3)
    start = np.ones(3)  # (an array: both updates write into it, as they do in the plain call)
    np.testing.assert_allclose(ad.grad(number_entry)(w, start), np.full(3, 6.0))
    np.testing.assert_allclose(start, np.full(3, 3.0))
    # (a number: the name is bound again, the entry keeps 1.5)
    np.testing.assert_allclose(ad.grad(number_entry)(w, 1.5), np.full(3, 1.5 + 4.0))
