"""List and generator idioms from realistic-program trial 16 that were refused: ``L2 = L[:]``
(a list's copy) taken for a view of ``L`` once one of them was changed, ``del L[i]``, and a
generator with an early ``return`` (refused naming the internal ``yielded`` and ``retval``).
Each is checked in every mode against finite differences, with the arguments changed as by the
plain call; what stays refused names the construct."""
import numpy as np
import pytest
from conftest import check_all_modes

import adcompiler as ad

X = np.array([0.3, 1.2, 0.5])
X2 = np.array([0.5, -1.2, 0.25])


# -- a slice of a list is a new list ---------------------------------------------------------------

def copy_by_slice_then_changed(x):  # realistic program 16, refuse_lists_copy_del_slice f1
    L = [x[0], x[1], x[2]]
    L2 = L[:]
    L2[0] = L2[0] * 3
    return L[0] * L2[0] + L[2]


def part_of_a_list_stored_into_and_appended(x):
    L = [x[0], x[1], x[2]]
    L2 = L[1:]
    L2[0] = L2[0] * 3
    L2.append(x[0] ** 2)
    return L[0] * L2[0] + L[2] + L2[-1] * L[1]


def strided_slice_of_a_comprehension(x):
    L = [v * 2.0 for v in x]
    L2 = L[::2]
    L2[1] = L2[1] * L2[0]
    L2.pop(0)
    L[0] = L[1] * 0.5
    return L[0] * L2[0] + np.sin(L[2])


def copy_of_a_list_argument(x, L):
    L2 = L[:]
    L2[0] = L2[0] * x[0]
    L2.append(x[1])
    return L[0] * L2[0] + L2[-1] * x[2]


def slice_of_an_array_stays_a_view(x):
    y = x * 2.0
    z = y[:]
    z[0] = z[1] * 3.0
    return np.sum(y * x)


@pytest.mark.parametrize("fn", [copy_by_slice_then_changed,
                                part_of_a_list_stored_into_and_appended,
                                strided_slice_of_a_comprehension,
                                slice_of_an_array_stays_a_view])
@pytest.mark.parametrize("x", [X, X2])
def test_slice_of_a_list_is_a_copy(fn, x):
    check_all_modes(fn, (x,))


def test_slice_of_a_list_argument_leaves_it_as_the_plain_call_does():
    check_all_modes(copy_of_a_list_argument, (X, [1.5, 2.5]))
    given = [1.5, 2.5]
    value, grad = ad.value_and_grad(copy_of_a_list_argument)(X, given)
    assert given == [1.5, 2.5]
    assert value == pytest.approx(copy_of_a_list_argument(X, [1.5, 2.5]))


def array_entry_written_through_the_copy(x):
    L = [x * 1.0, x * 2.0]
    L2 = L[:]
    t = L2[0]
    t[0] = t[1] * 5.0  # (the array L[0] holds too)
    return np.sum(L[0] * x)


def inner_list_appended_through_the_copy(x):
    r0, r1 = [x[0]], [x[1]]
    L = [r0, r1]
    L2 = L[1:]
    L2[0].append(x[2] * 2)  # (the list r1 and L[1] are)
    return sum(r1) * x[0] + sum(L[1])


def test_a_copy_shares_its_entries():
    with pytest.raises(ad.AdError, match=r"writing into 't', which may be a view of"):
        ad.grad(array_entry_written_through_the_copy)(X)
    with pytest.raises(ad.AdError, match=r"changing the list L2\[0\] changes 'L', 'r1' too"):
        ad.grad(inner_list_appended_through_the_copy)(X)


# -- del of an entry -------------------------------------------------------------------------------

def del_of_an_entry(x):  # realistic program 16, refuse_lists_copy_del_slice f2
    L = [x[0], x[1], x[2]]
    del L[1]
    return L[0] * L[1]


def del_of_several_entries_and_a_slice(x):
    L = [x[0] * 2, x[1], x[2], x[0] * x[1]]
    del L[-1], L[0]
    del L[1:]
    L.append(x[2] ** 2)
    return L[0] * L[1]


def del_of_a_dict_entry(x):
    d = {"a": x[0], "b": x[1] * 3}
    del d["a"]
    return d["b"] * x[2] + len(d)


def del_in_a_loop(x):
    L = [x[0], x[1], x[2]]
    while len(L) > 1:
        del L[0]
        L[0] = L[0] * x[0]
    return L[0] * x[1]


@pytest.mark.parametrize("fn", [del_of_an_entry, del_of_several_entries_and_a_slice,
                                del_of_a_dict_entry, del_in_a_loop])
@pytest.mark.parametrize("x", [X, X2])
def test_del_of_an_entry(fn, x):
    check_all_modes(fn, (x,))


def del_in_a_list_argument(x, L):
    del L[0]
    return L[0] * x[0] + x[1]


def del_in_a_dict_argument(x, d):
    del d["a"]
    return d["b"] * x[0]


def test_del_changes_the_arguments_as_the_plain_call_does():
    given = [1.5, 2.5]
    value, grad = ad.value_and_grad(del_in_a_list_argument)(X, given)
    assert given == [2.5] and value == pytest.approx(2.5 * X[0] + X[1])
    np.testing.assert_allclose(grad, [2.5, 1.0, 0.0])
    given = {"a": 1.5, "b": 2.5}
    value, grad = ad.value_and_grad(del_in_a_dict_argument)(X, given)
    assert given == {"b": 2.5} and value == pytest.approx(2.5 * X[0])
    np.testing.assert_allclose(grad, [2.5, 0.0, 0.0])


def del_of_an_array_entry(x):
    y = x * 2.0
    del y[0]  # (NumPy raises ValueError)
    return np.sum(y)


def del_of_a_strided_slice(x):
    L = [x[0], x[1], x[2]]
    del L[::2]
    return L[0]


class _Box:
    def __init__(self, v):
        self.v = v


def del_of_an_attribute(x):
    b = _Box(x[0])
    del b.v
    return x[1]


def test_del_refusals_name_the_construct():
    with pytest.raises(ad.AdError, match=r"del y\[\.\.\.\] is differentiated as a list's or a "
                                         r"dict's pop, but y is a ndarray"):
        ad.grad(del_of_an_array_entry)(X)
    with pytest.raises(ad.AdError, match=r"'del' of L\[::2\] is not supported"):
        ad.grad(del_of_a_strided_slice)(X)
    with pytest.raises(ad.AdError, match=r"'del' of b\.v is not supported"):
        ad.grad(del_of_an_attribute)(X)


# -- generators and functions with an early return -------------------------------------------------

def _squares_until_large(x):  # realistic program 16, refuse_lists_copy_del_slice g
    for i in range(3):
        yield x[i] ** 2
        if x[i] > 0.4:
            return


def generator_with_early_return(x):
    return sum(_squares_until_large(x))


def _sines(x):
    i = 0
    while True:
        yield np.sin(x[i]) * x[0]
        i += 1
        if i >= len(x) - 1:
            return


def generator_returning_inside_while_true(x):
    return sum(v * v for v in _sines(x))


def _cubes(x, n):
    if n == 0:
        return
    yield x[0] * x[1]
    for v in x:
        if v < 0:
            return
        yield v ** 3


def generator_returning_after_a_condition(x):
    return sum(_cubes(x, 2)) + sum(_cubes(x, 0))


def _products(x):
    k = 0
    try:
        while True:
            for j in range(2):
                yield x[k] * x[j]
            k += 1
            if k == 2:
                return
    finally:
        k = -1


def generator_returning_from_nested_loops(x):
    total = 0.0
    for v in _products(x):
        total = total + v
    return total


def _first_doubled(x):
    out = []
    while True:
        out.append(x[len(out)] * 2.0)
        if len(out) == 2:
            return out


def list_returned_inside_while_true(x):
    r = _first_doubled(x)
    return r[0] * r[1]


def _doubled_until_large(x):
    out = [x[0]]
    for v in x:
        out.append(v * 2)
        if v > 1.0:
            return out
    return out


def list_returned_early_from_a_loop(x):
    return sum(_doubled_until_large(x)) * x[2]


@pytest.mark.parametrize("fn", [generator_with_early_return,
                                generator_returning_inside_while_true,
                                generator_returning_after_a_condition,
                                generator_returning_from_nested_loops,
                                list_returned_inside_while_true,
                                list_returned_early_from_a_loop])
@pytest.mark.parametrize("x", [X, X2])
def test_early_return_of_a_list(fn, x):
    check_all_modes(fn, (x,))


# -- a list returned in one branch and an array in the other (trial p024) ------------------------

def planar_rotation(t):
    c, s = np.cos(t), np.sin(t)
    return np.array([[c, -s], [s, c]])


def forward_kinematics(q, return_all=False):
    T = np.eye(2)
    frames = [T]
    for theta in q:
        T = T @ planar_rotation(theta)
        frames.append(T)  # (T is returned only when the list is not: never the list itself)
    if return_all:
        return frames
    return T


def arm_tip(q):
    frames = forward_kinematics(q, return_all=True)
    return frames[-1][1, 0] + 0.5 * frames[1][0, 1] + forward_kinematics(q)[0, 0]


def test_a_list_and_an_array_returned_in_other_branches_are_not_one_list(rng):
    check_all_modes(arm_tip, (rng.randn(3),))
