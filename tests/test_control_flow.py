"""Loops, branches, while, break/continue/early return; each against finite differences on
inputs that take every branch and run zero, one and many iterations."""
import numpy as np
import pytest
from conftest import assert_grad, check_all_modes

import adcompiler as ad


def power_loop(x, n):
    y = 1.0
    for i in range(n):
        y = y * x
    return y


def range_variants(x, a, b, s):
    y = x
    for i in range(a, b, s):
        y = y * np.sin(x + i) + i * x
    return y


def arange_loop(x, n):
    acc = 0.0
    for i in np.arange(n):
        acc = acc + x ** 2 * i
    return acc


def rows_loop(w):
    total = 0.0
    for row in w:
        total = total + np.sum(row * row) * row[0]
    return total


def list_loop(x):
    acc = x
    for c in [1.0, 2.0, 3.0]:
        acc = acc * c + np.cos(acc)
    return acc


def enumerate_zip(x, y):
    acc = 0.0
    for i, (a, b) in enumerate(zip(x, y)):
        acc = acc + i * a * b
    return acc


def branchy(x):
    if x > 0:
        y = x * 3.0
    elif x > -1:
        y = x * x
    else:
        y = -x
    return y


def element_condition(a):
    s = 0.0
    for i in range(len(a)):
        if a[i] > 0.5:
            s = s + a[i] ** 2
        else:
            s = s - np.sin(a[i])
    return s


def while_newton(x):
    y = 1.0
    i = 0
    while abs(y * y - x) > 1e-12 and i < 50:
        y = y - (y * y - x) / (2.0 * y)
        i += 1
    return y


def while_halve(x):
    i = 0
    while i < 4:
        x = x * 0.5 + np.sin(x)
        i += 1
    return x


def data_dependent_while(x):
    y = x
    while y < 10.0:
        y = y * 1.5 + 0.1
    return y


def break_loop(x, limit):
    y = x
    for i in range(10):
        y = y * 1.3
        if y > limit:
            break
        y = y + 0.1
    return y


def continue_loop(a):
    s = 0.0
    for i in range(len(a)):
        if a[i] < 0:
            continue
        s = s + a[i] * a[i]
    return s


def early_return_loop(a):
    s = 0.0
    for i in range(len(a)):
        s = s + a[i] * s + a[i]
        if s > 2.0:
            return s * 10.0
    return s


def early_return_branch(x):
    if x > 1.0:
        return x * x
    y = np.exp(x)
    return y + x


def nested_triangular(x):
    r, c = x.shape
    s = 0.0
    for i in np.arange(r):
        for j in np.arange(i, c):
            s = s + x[i, j]
    return s


def nested_data_dependent(x):
    s = 0.0
    for i in range(3):
        j = 0
        while j < i + 1:
            s = s + x * s + np.sin(x * j)
            j += 1
    return s


def running_max_logsumexp(a):
    largest = a[0]
    for i in range(1, len(a)):
        if a[i] > largest:
            largest = a[i]
    result = 0.0
    for i in range(len(a)):
        result += np.exp(a[i] - largest)
    return np.log(result) + largest


def fill_with_conditional_add(d):
    n = d.shape[0]
    S = np.zeros((n, n))
    for i in range(n):
        S[i, 2] = 1.0 * d[i]
        if d[i] > 0:
            S[i, i] += d[i]
    return np.sum(S * S)


def chained_increments(x, y):
    a = x * y
    b = a
    a += x
    b += a
    c = a * b
    a += c
    return a * b + c


def self_overwrite(x):
    x = np.sum(x * x)
    x = x * 2.0
    return x


def user_named_like_adjoints(x, dx, t1):
    d = x * dx
    dd = d + t1
    return dd * x


def test_for_range_power():
    for n in (0, 1, 4):
        assert ad.grad(power_loop)(1.5, n) == pytest.approx(n * 1.5 ** (n - 1) if n else 0.0)


@pytest.mark.parametrize("a,b,s", [(0, 0, 1), (0, 1, 1), (0, 5, 1), (2, 9, 3), (5, -2, -2), (-3, 3, 2)])
def test_range_start_stop_step(a, b, s):
    assert_grad(range_variants, [0.7, a, b, s])


def test_arange_rows_list_enumerate_zip(rng):
    assert_grad(arange_loop, [0.3, 5])
    assert_grad(rows_loop, [rng.randn(4, 3)])
    assert_grad(rows_loop, [rng.randn(1, 3)])
    assert_grad(list_loop, [0.4])
    assert_grad(enumerate_zip, [rng.randn(4), rng.randn(4)], wrt=(0, 1))
    assert_grad(enumerate_zip, [rng.randn(4), rng.randn(3)], wrt=(0, 1))


@pytest.mark.parametrize("x", [2.0, -0.5, -3.0])
def test_if_elif_else(x):
    assert_grad(branchy, [x])


def test_conditions_on_array_elements(rng):
    for a in (rng.rand(6), np.array([0.1, 0.9, 0.2]), np.array([]).reshape(0)):
        assert_grad(element_condition, [a])


def test_while_loops():
    for x in (2.0, 0.5, 9.0):
        assert ad.grad(while_newton)(x) == pytest.approx(0.5 / np.sqrt(x), rel=1e-7)
    assert_grad(while_halve, [0.3])
    for x in (0.5, 3.0, 12.0):  # many, some and zero iterations
        assert_grad(data_dependent_while, [x])


def test_break_continue_early_return(rng):
    for x, limit in ((1.0, 2.0), (1.0, 1e9), (5.0, 1.0)):
        assert_grad(break_loop, [x, limit])
    assert_grad(continue_loop, [np.array([0.5, -1.0, 2.0, -0.3, 1.5])])
    for a in (np.array([0.1, 0.2, 0.3]), np.array([0.5, 1.1, 3.0, 0.1])):
        assert_grad(early_return_loop, [a])
    for x in (2.0, 0.3):
        assert_grad(early_return_branch, [x])


def test_nested_loops(rng):
    assert_grad(nested_triangular, [rng.randn(3, 4)])
    assert_grad(nested_triangular, [rng.randn(4, 2)])
    assert_grad(nested_data_dependent, [0.3])


def test_tangent_regressions(rng):
    # running maximum in a loop (all-zero gradient in earlier tools)
    a = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(ad.grad(running_max_logsumexp)(a), np.exp(a) / np.sum(np.exp(a)), rtol=1e-12)
    assert_grad(running_max_logsumexp, [rng.randn(7)])
    # array filled in a loop with a conditional += (undefined adjoint in earlier tools)
    for d in (np.array([1.0, -2.0, 3.0]), rng.randn(5)):
        assert_grad(fill_with_conditional_add, [d])
    # triangular double loop over np.arange (crashed in earlier tools)
    assert_grad(nested_triangular, [rng.randn(3, 3)])
    # chain of += on scalar intermediates read again later (wrong partials in earlier tools)
    assert_grad(chained_increments, [0.7, -1.3], wrt=(0, 1))


def test_overwrites_and_adjoint_like_names(rng):
    assert_grad(self_overwrite, [rng.randn(3)])
    assert_grad(user_named_like_adjoints, [0.5, 2.0, -1.0], wrt=(0, 1, 2))


def test_loops_leave_arguments_untouched(rng):
    d = rng.randn(4)
    before = d.copy()
    ad.grad(fill_with_conditional_add)(d)
    np.testing.assert_array_equal(d, before)


def for_else(x):
    s = 0.0
    for v in x:
        if v > 2.0:
            break
        s = s + v ** 2
    else:
        s = s * 2.0
    return s


def while_else(x):
    i = 0
    s = 0.0
    while i < len(x):
        s = s + x[i] * s + x[i]
        if s > 5.0:
            break
        i += 1
    else:
        return s * 3.0
    return s


def nested_for_else(m):
    total = 0.0
    for row in m:
        for v in row:
            if v < -1.0:
                break
            total = total + v ** 2
        else:
            total = total + np.sum(row)
            continue
        total = total * 0.5
    return total


@pytest.mark.parametrize("fn, x", [
    (for_else, [0.5, 1.0, 3.0]), (for_else, [0.5, 1.0, 1.5]), (while_else, [0.5, 1.0, 1.5]),
    (while_else, [2.5, 1.0, 1.5]), (nested_for_else, [[0.5, -1.5, 2.0], [0.3, 0.2, 0.1], [-2.0, 1.0, 1.0]])])
def test_loop_else_runs_unless_the_loop_broke(fn, x):
    x = np.array(x)
    assert_grad(fn, [x])
    _, t = ad.jvp(fn, (x,), (np.ones_like(x),))
    assert t == pytest.approx(float(np.sum(ad.grad(fn)(x))), rel=1e-9)


def continues_in_nested_ifs(x, values):
    """Two ``continue`` in nested ``if``s: lowered to a flag that the second guard's branch sets
    again, so its decision is kept in a name of its own, recorded at every iteration."""
    s = 0.0
    for v in values:
        if v > 0:
            if v > 2:
                continue
        if v < -1:
            if v < -2:
                continue
        s += x * x * v
    return s


@pytest.mark.parametrize("values", [[1.0, 3.0, -3.0], [-3.0, 1.0, 0.5], [1.0, 1.5, 3.0]])
def test_a_guard_whose_branch_sets_its_flag_again_is_recorded_each_iteration(values):
    check_all_modes(continues_in_nested_ifs, [3.0, values])
    want = sum(2 * 3.0 * v for v in values if not (v > 2 or v < -2))
    assert ad.grad(continues_in_nested_ifs)(3.0, values) == pytest.approx(want)
