"""SPEC section 7: exact values from the lecture material."""
import numpy as np
import pytest

import adcompiler as ad

T_C = np.array([0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0])
T_U = np.array([35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4])


def xy(x, y):
    return x * (x + y) ** 2


def three(x1, x2, x3):
    return 6 * (x1 + x2 ** 2 * x3)


def poly(x):
    return 2 * x ** 3 - 6 * x ** 2 + x + 1


def bowl(x, y):
    return 2 * x ** 2 + 3 * y ** 2


def lecture(x1, x2):
    return x1 * (x1 + x2)


def model(t_u, w, b):
    return w * t_u + b


def loss_fn(w, b, t_u, t_c):
    t_p = model(t_u, w, b)
    return np.mean((t_p - t_c) ** 2)


def loss_params(params, t_u, t_c):
    t_p = model(t_u, params[0], params[1])
    squared_diffs = (t_p - t_c) ** 2
    return np.mean(squared_diffs)


def sin_sum(w, b):
    return np.sum(np.sin(w * 3 + b))


def test_scalar_seeds():
    assert ad.grad(xy)(3.0, -1.0) == 16.0
    assert ad.grad(xy, wrt=1)(3.0, -1.0) == 12.0
    assert ad.grad(three, wrt=(0, 1, 2))(1.0, 2.0, 3.0) == (6.0, 72.0, 24.0)
    assert ad.grad(poly)(2.0) == 1.0
    assert ad.grad(bowl, wrt=("x", "y"))(4.0, 5.0) == (16.0, 30.0)
    assert ad.grad(lecture, wrt=(0, 1))(2.0, 3.0) == (7.0, 2.0)


def test_linear_regression_gradient():
    dw, db = ad.grad(loss_fn, wrt=(0, 1))(1.0, 0.0, T_U, T_C)
    assert dw == pytest.approx(4517.2969, rel=1e-6) and db == pytest.approx(82.6, rel=1e-9)
    g = ad.grad(loss_params)(np.array([1.0, 0.0]), T_U, T_C)
    np.testing.assert_allclose(g, [4517.29636364, 82.6], rtol=1e-9)


def test_linear_regression_training():
    dloss = ad.grad(loss_params)
    params = np.array([1.0, 0.0])
    t_un = 0.1 * T_U
    for _ in range(5000):
        params = params - 1e-2 * dloss(params, t_un, T_C)
    np.testing.assert_allclose(params, [5.3671, -17.3012], atol=1e-4)
    assert loss_params(params, t_un, T_C) == pytest.approx(2.927647, abs=1e-6)


def test_sin_gradient_is_3cos4w():
    w = np.linspace(0, 2 * np.pi, 25)
    dw, db = ad.grad(sin_sum, wrt=(0, 1))(w, w.copy())
    np.testing.assert_allclose(dw, 3 * np.cos(4 * w), atol=1e-12)
    np.testing.assert_allclose(dw[:4], [3.0, 1.5, -1.5, -3.0], atol=1e-12)
    np.testing.assert_allclose(db, np.cos(4 * w), atol=1e-12)


@pytest.mark.parametrize("shape_a, shape_b, out", [((4,), (1, 4), (1, 4)), ((4,), (4, 1), (4, 4)),
                                                   ((3,), (4, 1), (4, 3)), ((2, 3), (5, 1, 3), (5, 2, 3))])
def test_broadcasting_shapes(shape_a, shape_b, out):
    def f(a, b):
        return np.sum((a + b) * a * b)
    a = np.random.RandomState(0).randn(*shape_a)
    b = np.random.RandomState(1).randn(*shape_b)
    assert (a + b).shape == out
    da, db = ad.grad(f, wrt=(0, 1))(a, b)
    assert da.shape == shape_a and db.shape == shape_b
    from conftest import fd_grad
    np.testing.assert_allclose(da, fd_grad(f, [a, b], 0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(db, fd_grad(f, [a, b], 1), rtol=1e-6, atol=1e-7)


def test_broadcasting_error_is_numpy_error():
    def f(a, b):
        return np.sum(a + b)
    with pytest.raises(ValueError):
        ad.grad(f)(np.ones(3), np.ones((1, 4)))
