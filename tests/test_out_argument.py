"""Calls made for their effect that are stores the derivative follows (they were refused):
``f(..., out=u)`` for NumPy ufuncs and ``np.clip`` (with NumPy's checks of ``out``),
``np.copyto``, ``np.put``, ``np.fill_diagonal``, ``setattr``; and messages (logging), which
change nothing."""
import logging

import numpy as np
import pytest
from conftest import check_all_modes, check_like_plain

import adcompiler as ad


def clipped_in_place(x):
    u = x * 2.0
    np.clip(u, -1.0, 1.0, out=u)
    return np.sum(u ** 2)


def result_is_the_out_array(x):
    u = x * 2.0
    v = np.exp(u, out=u)  # (v is u)
    v += 1.0  # (so u changes too)
    return np.sum(u * x)


def chained_updates(x, w):
    u = x * 1.0
    np.multiply(u, w, out=u)
    np.add(u, x, out=(u,))
    np.tanh(u, out=u)
    return np.sum(u ** 2)


def into_a_fresh_buffer(x):
    u = np.empty_like(x)
    np.sin(x, out=u)
    return np.sum(u * x)


def broadcast_into_a_bigger_out(x, row):
    u = np.zeros_like(x)
    np.multiply(row, 2.0, out=u)  # (row is broadcast to u's shape)
    return np.sum(u * x)


def time_stepping(x, v):
    state = x.copy()
    for _ in range(3):
        np.add(state, 0.1 * np.sin(state) * v, out=state)
        np.clip(state, -0.8, 0.8, out=state)
    return np.sum(state ** 2)


def into_a_view(x):
    u = x * 1.0
    head = u[:2]
    np.square(head, out=head)  # (u changes through its view)
    return np.sum(u * x)


def into_the_argument(x):
    np.multiply(x, 1.5, out=x)  # (the caller's array is written, as by the plain call)
    return np.sum(x ** 2)


@pytest.mark.parametrize("fn", [clipped_in_place, result_is_the_out_array, into_a_fresh_buffer,
                                into_a_view])
@pytest.mark.parametrize("shape", [(4,), (2, 3)])
def test_out_of_one_argument(fn, shape):
    x = np.random.RandomState(1).uniform(-0.9, 0.9, size=shape)
    check_like_plain(fn, [x])


def test_out_of_two_arguments_and_a_loop():
    rng = np.random.RandomState(2)
    x, w = rng.uniform(-0.9, 0.9, size=(2, 3)), rng.uniform(-1.0, 1.0, size=3)
    check_like_plain(chained_updates, [x, w], wrt=(0, 1))
    check_like_plain(broadcast_into_a_bigger_out, [x, w], wrt=(0, 1))
    check_like_plain(time_stepping, [rng.uniform(-0.5, 0.5, 4), rng.uniform(-1, 1, 4)], wrt=(0, 1))


def test_out_is_the_callers_array():
    x = np.array([0.3, -0.2, 0.6])
    check_like_plain(into_the_argument, [x])


def test_the_generated_code_writes_into_the_out_array():
    g = ad.grad(clipped_in_place)
    g(np.array([0.2, 0.9]))
    assert "u[...] = " in g.source and "out=" not in g.source


def into_an_int_array(x):
    u = np.zeros(3, dtype=int)
    np.multiply(x, 2.0, out=u)
    return np.sum(u * x)


def test_an_out_array_of_another_kind_is_the_plain_calls_error():
    x = np.array([0.3, -0.2, 0.6])
    with pytest.raises(TypeError, match="same_kind"):
        into_an_int_array(x)
    with pytest.raises(TypeError, match="same_kind"):
        ad.grad(into_an_int_array)(x)


def into_a_list(x):
    u = [0.0, 0.0]
    np.sin(x, out=u)
    return x[0]


def test_out_of_another_form_keeps_the_refusal_or_error():
    x = np.array([0.3, -0.2])
    with pytest.raises(TypeError):
        into_a_list(x)
    with pytest.raises((TypeError, ad.AdError)):
        ad.grad(into_a_list)(x)


def into_a_subscript(x):
    u = np.zeros((2, 2))
    np.sin(x, out=u[0])
    return np.sum(u * 2.0)


def into_a_slice(x):
    a = np.zeros(4)
    np.add(x, 1.0, out=a[1:])
    b = np.zeros((2, 4))
    np.copyto(b[1, :3], x * 2.0)
    returned = np.multiply(x, x, out=b[0, 1:])
    return np.sum(a ** 2) + np.sum(b * np.arange(8.0).reshape(2, 4)) + returned[0]


def into_an_entry(x):
    u = np.zeros((2, 2))
    np.sin(x[0], out=u[0, 0])  # (a number: NumPy's TypeError)
    return np.sum(u)


def test_out_into_a_part_of_a_local_array():
    # (out=a[1:] and np.copyto(a[1:], x) were refused as calls that discard their result;
    # trial 15)
    check_all_modes(into_a_subscript, [np.array([0.3, -0.2])])
    check_all_modes(into_a_slice, [np.array([0.3, -0.2, 0.7])])
    with pytest.raises(TypeError):
        into_an_entry(np.array([0.3, -0.2]))
    with pytest.raises(TypeError):
        ad.grad(into_an_entry)(np.array([0.3, -0.2]))
    check_all_modes(clipped_in_place, [np.array([0.1, -0.7, 0.4])])


def copied_into(x, w):
    u = np.zeros((2, 3))
    returned = np.copyto(u, x * w)  # (w broadcast over the rows; copyto returns None)
    return np.sum(np.sin(u) * x) + (0.0 if returned is None else 1.0)


def test_copyto_is_a_store():
    rng = np.random.RandomState(5)
    check_like_plain(copied_into, [rng.randn(2, 3), rng.randn(3)], wrt=(0, 1))
    g = ad.grad(copied_into)
    g(rng.randn(2, 3), rng.randn(3))
    assert "u[...] = " in g.source


def put_values(x):
    a = np.zeros(4)
    np.put(a, [0, 2], x[:2] * 3.0)  # (a.flat[[0, 2]] = ...)
    return np.sum(a * x)


def fill_the_diagonal(x):
    A = np.outer(x, x)
    np.fill_diagonal(A, x[0] ** 2)  # (one value)
    B = np.outer(x, x)
    np.fill_diagonal(B, x * 2.0)  # (one per entry)
    return np.sum(A * A) + np.sum(B ** 3)


class Box:
    def __init__(self, w):
        self.w = w


def set_by_name(box, x):
    setattr(box, "w", box.w * x)
    return np.sum(box.w ** 2)


def logged(x):
    y = np.sum(x ** 2)
    LOG.debug("loss %s", y)  # (messages change nothing: not refused as calls for their effect)
    logging.info("loss %.3f", y)
    return y


LOG = logging.getLogger("adcompiler-tests")


@pytest.mark.parametrize("fn", [put_values, fill_the_diagonal, logged])
def test_calls_made_for_their_effect_that_are_stores(fn):
    check_like_plain(fn, [np.array([0.3, -0.7, 0.45, 0.2])])


def test_setattr_with_a_constant_name_is_an_attribute_store():
    x = np.array([0.3, -0.7, 0.45, 0.2])
    box, plain = Box(np.arange(1.0, 5.0)), Box(np.arange(1.0, 5.0))
    value, grad = ad.value_and_grad(set_by_name, wrt=1)(box, x)
    assert value == pytest.approx(set_by_name(plain, x))
    np.testing.assert_array_equal(box.w, plain.w)
    np.testing.assert_allclose(grad, 2 * np.arange(1.0, 5.0) ** 2 * x)


def fill_cyclically(x):
    A = np.outer(x, x)
    np.fill_diagonal(A, x[:2])  # (two values for four entries: NumPy repeats them)
    return np.sum(A)


def test_a_cyclic_fill_is_refused():
    with pytest.raises(ad.AdError, match="repeats them"):
        ad.grad(fill_cyclically)(np.array([0.3, -0.7, 0.45, 0.2]))
