"""has_aux, hvp, linearize, elementwise_grad, vmap and check_grads: each against what it is
defined to be (the plain call, grad, hessian, jvp, finite differences)."""
import functools

import numpy as np
import pytest
from conftest import fd_grad

import adcompiler as ad

X = np.array([0.3, -0.7, 1.2])
V = np.array([1.0, 0.5, -2.0])
CALLS = []


def loss_with_metrics(w, x):
    CALLS.append(1)
    pred = np.tanh(x @ w)
    loss = np.mean(pred ** 2)
    return loss, {"pred": pred, "n": len(x), "name": "mse"}


def loss_only(w, x):
    return np.mean(np.tanh(x @ w) ** 2)


def sine_cubed(x):
    return np.sum(np.sin(x) * x ** 3)


def scaled(x, y):
    return np.sum(np.tanh(x) * y) * y


def test_has_aux_differentiates_the_value_and_passes_aux_through():
    w, x = np.array([0.3, -0.2]), np.arange(8.0).reshape(4, 2) / 8
    CALLS.clear()
    g, aux = ad.grad(loss_with_metrics, has_aux=True)(w, x)
    assert len(CALLS) == 1  # (the function runs once)
    np.testing.assert_allclose(g, ad.grad(loss_only)(w, x))
    np.testing.assert_allclose(aux["pred"], np.tanh(x @ w))
    assert aux["n"] == 4 and aux["name"] == "mse"
    CALLS.clear()
    (value, aux), (gw, gx) = ad.value_and_grad(loss_with_metrics, wrt=("w", "x"), has_aux=True)(w, x)
    assert len(CALLS) == 1 and value == pytest.approx(loss_only(w, x))
    np.testing.assert_allclose(gx, fd_grad(loss_only, [w, x], 1), atol=1e-8)
    np.testing.assert_allclose(gw, fd_grad(loss_only, [w, x], 0), atol=1e-8)


def test_has_aux_as_a_decorator_and_its_misuse():
    @ad.grad(has_aux=True, wrt="y")
    def tagged(x, y):
        return np.sum(x * y), "tag"
    g, tag = tagged(np.ones(2), np.array([3.0, 4.0]))
    np.testing.assert_allclose(g, np.ones(2))
    assert tag == "tag"
    with pytest.raises(ad.AdError, match="must return a pair"):
        ad.grad(sine_cubed, has_aux=True)(X)


def test_hvp_is_the_hessian_times_the_vector():
    np.testing.assert_allclose(ad.hvp(sine_cubed)(X, V), ad.hessian(sine_cubed)(X) @ V)
    y = 0.7  # (other arguments held fixed; the vector comes last)
    want = ad.hessian(scaled)(X, y) @ V
    np.testing.assert_allclose(ad.hvp(scaled)(X, y, V), want)


def test_linearize():
    out, tangent_of = ad.linearize(sine_cubed, X)
    assert out == pytest.approx(sine_cubed(X))
    assert tangent_of(V) == pytest.approx(ad.grad(sine_cubed)(X) @ V)
    assert tangent_of(2 * V) == pytest.approx(2 * tangent_of(V))


def test_elementwise_grad():
    np.testing.assert_allclose(ad.elementwise_grad(np.tanh)(X), 1 - np.tanh(X) ** 2)
    np.testing.assert_allclose(ad.elementwise_grad(lambda x: x ** 3)(X), 3 * X ** 2)


def pair_of(a, b):
    return a * b, np.sum(a)


def test_vmap_maps_arguments_and_stacks_results():
    xs = np.stack([X, V, X * 2])
    per_example = ad.vmap(ad.grad(sine_cubed))(xs)
    np.testing.assert_allclose(per_example, np.stack([ad.grad(sine_cubed)(x) for x in xs]))
    b = np.array([2.0, 3.0])
    np.testing.assert_allclose(ad.vmap(lambda a, c: a * c, in_axes=(0, None))(np.ones((3, 2)), b),
                               np.tile(b, (3, 1)))
    cols = ad.vmap(np.sum, in_axes=1)(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(cols, [3.0, 5.0, 7.0])
    prods, sums = ad.vmap(pair_of, in_axes=(1, 1), out_axes=(1, 0))(np.ones((2, 3)), np.ones((2, 3)))
    assert prods.shape == (2, 3) and sums.shape == (3,)


def test_vmap_misuse_is_an_aderror():
    with pytest.raises(ad.AdError, match="different sizes"):
        ad.vmap(pair_of)(np.ones(3), np.ones(4))
    with pytest.raises(ad.AdError, match="in_axes"):
        ad.vmap(pair_of, in_axes=[{"a": 0}, 0])(np.ones(3), np.ones(3))
    with pytest.raises(ad.AdError, match="no argument is mapped"):
        ad.vmap(pair_of, in_axes=None)(np.ones(3), np.ones(3))


def test_check_grads_passes_right_derivatives_and_catches_a_wrong_rule():
    ad.check_grads(sine_cubed, (X,), order=2)
    ad.check_grads(scaled, (X, 0.7), order=2)

    def half_rule(x):
        return np.sum(x ** 2)
    ad.defvjp(half_rule, lambda g, ans, x: (g * x,))  # (the derivative is 2x)
    with pytest.raises(AssertionError, match="reverse mode"):
        ad.check_grads(half_rule, (X,), order=1, modes=("rev",))


def pair_and_dict(params, scale):
    return np.tanh(params["w"]) * scale, np.sum(params["b"][0] * params["b"][1] ** 2) * scale


def test_check_grads_of_structured_arguments_and_outputs():
    params = {"w": np.array([0.2, -0.4, 1.1]), "b": [np.array([0.5, 1.5]), 0.8]}
    ad.check_grads(pair_and_dict, (params, 1.3), order=2)
    ad.check_grads(pair_and_dict, (params, 1.3), order=1, modes=("fwd",))

    def wrong_second_output(params, scale):
        w, b = params["w"], params["b"]
        return np.sin(w), stop_gradient_twice(b[1]) * scale
    with pytest.raises(AssertionError, match="mode"):
        ad.check_grads(wrong_second_output, (params, 1.3), order=1)
    with pytest.raises(ad.AdError, match="not floats"):
        ad.check_grads(lambda x: len(x), ([1.0, 2.0],), order=1)


def stop_gradient_twice(b):
    return ad.stop_gradient(b) * b


def vector_field(x, c):
    return np.tanh(x) * x[0] * c + x ** 3


def test_jacobian_of_a_jacobian():
    x, c = np.array([0.3, -0.2, 0.5]), 1.5
    for inner_mode in ("reverse", "forward"):
        for outer_mode in ("reverse", "forward"):
            second = ad.jacobian(ad.jacobian(vector_field, mode=inner_mode), mode=outer_mode)(x, c)
            inner = ad.jacobian(vector_field)
            want = np.stack([fd_grad(lambda x_, c_, i=i, j=j: inner(x_, c_)[i, j], [x, c], 0)
                             for i in range(3) for j in range(3)]).reshape(3, 3, 3)
            np.testing.assert_allclose(second, want, atol=1e-6)
    # (its Jacobian w.r.t. another argument)
    dc = ad.jacobian(ad.jacobian(vector_field), wrt=1)(x, c)
    np.testing.assert_allclose(dc, ad.jacobian(lambda x_: np.tanh(x_) * x_[0])(x), atol=1e-12)


def test_third_derivatives_through_nested_jacobians():
    third = ad.jacobian(ad.hessian(sine_cubed))(X)
    hessian = ad.hessian(sine_cubed)
    n = len(X)
    want = np.stack([fd_grad(lambda v, i=i, j=j: hessian(v)[i, j], [X], 0)
                     for i in range(n) for j in range(n)]).reshape(n, n, n)
    np.testing.assert_allclose(third, want, rtol=1e-5, atol=1e-5)
    third = ad.grad(ad.grad(ad.grad(lambda t: np.sin(t) * t ** 3)))(0.7)
    t = 0.7
    assert third == pytest.approx(-np.cos(t) * t ** 3 - 9 * np.sin(t) * t ** 2 + 18 * np.cos(t) * t
                                  + 6 * np.sin(t))


def lorenz(x, rho=28.0, beta=8.0 / 3.0):
    return np.array([10.0 * (x[1] - x[0]), x[0] * (rho - x[2]) - x[1], x[0] * x[1] - beta * x[2]])


def test_jacobian_and_hessian_take_keyword_arguments_as_grad_does():
    x = np.array([1.0, 2.0, 3.0])
    for mode in ("reverse", "forward"):
        got = ad.jacobian(lorenz, mode=mode)(x, beta=1.0)
        want = np.stack([fd_grad(lambda x_, i=i: lorenz(x_, 28.0, 1.0)[i], [x], 0) for i in range(3)])
        np.testing.assert_allclose(got, want, atol=1e-6)
    np.testing.assert_allclose(ad.hessian(scaled)(X, y=0.7), ad.hessian(scaled)(X, 0.7))
    with pytest.raises(ad.AdError, match="'gamma' is not a positional parameter"):
        ad.jacobian(lorenz)(x, gamma=1.0)


def test_vjp_wrt_returns_the_cotangents_asked_for():
    w, x = np.array([0.3, -0.2]), np.arange(6.0).reshape(3, 2) / 6
    _, every = ad.vjp(loss_only, w, x)
    _, one = ad.vjp(loss_only, w, x, wrt="w")
    _, two = ad.vjp(loss_only, w, x, wrt=(1, 0))
    np.testing.assert_allclose(one(1.0), every(1.0)[0])
    np.testing.assert_allclose(two(1.0)[0], every(1.0)[1])
    np.testing.assert_allclose(two(1.0)[1], every(1.0)[0])


def test_command_line_version():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "adcompiler", "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith("adcompiler ")


def test_source_is_the_code_the_last_new_kind_of_call_runs():
    def cubed(x):
        return np.sum(x ** 3)
    df = ad.grad(cubed)
    assert df.source == df.source_generic  # (before any call)
    df(X)
    assert df.source != df.source_generic and "def dcubed" in df.source
    assert df.source == ad.source(cubed, args=(X,))


def squared_gradient_norm(x):
    g = ad.grad(sine_weighted)(x)
    return np.sum(g ** 2) + np.sum(np.cos(g))


def sine_weighted(x):
    return np.sum(np.sin(x) * x ** 2)


def test_third_derivatives_through_a_gradient_called_inside():
    # a function calling a gradient, differentiated twice: the gradient call's Hessian-vector
    # product is differentiated again (forward mode over its generated tangent code)
    x = np.array([0.3, -0.7, 1.1])
    ad.check_grads(squared_gradient_norm, (x,), order=2)
    ad.check_grads(sine_weighted, (x,), order=3)
    hessian = ad.hessian(squared_gradient_norm)(x)
    gradient = ad.grad(squared_gradient_norm)
    want = np.stack([fd_grad(lambda v, i=i: gradient(v)[i], [x], 0) for i in range(3)])
    np.testing.assert_allclose(hessian, want, rtol=1e-5, atol=1e-6)
    # one order more is refused, not guessed
    with pytest.raises(ad.AdError, match="not supported"):
        ad.check_grads(squared_gradient_norm, (x,), order=3)


def cubic_weighted(x, c):
    return np.sum(np.sin(x) * c * x ** 2)


VALUE_AND_GRADIENT = ad.value_and_grad(cubic_weighted)


def uses_value_and_gradient(x, c):
    value, gradient = VALUE_AND_GRADIENT(x, c)
    return value * 2.0 + np.sum(gradient ** 2)


def test_a_value_and_grad_function_called_inside():
    # its vjp: the value's cotangent times the gradient plus the gradient's Hessian product
    x, c = np.array([0.3, -0.7, 1.1]), 1.3
    same = lambda x, c: cubic_weighted(x, c) * 2.0 + np.sum(ad.grad(cubic_weighted)(x, c) ** 2)  # noqa: E731
    for wrt in (0, 1):
        np.testing.assert_allclose(ad.grad(uses_value_and_gradient, wrt=wrt)(x, c),
                                   fd_grad(same, [x, c], wrt), rtol=1e-6, atol=1e-6)
    ad.check_grads(uses_value_and_gradient, (x, c), order=2)


def closes_over_x_lambda(x):
    return x * ad.grad(lambda y: x * y)(2.0)


def closes_over_x_def(x):
    def inner(y):
        return np.exp(y) * np.tanh(x[0])
    df = ad.grad(inner)
    return df(x[1])


def called_where_made(x):
    def inner(y):
        return np.exp(y) * np.tanh(x[0])
    return ad.grad(inner)(x[1])


def closes_over_x_partial(x):
    return ad.grad(functools.partial(cubic_weighted, c=x[0]))(x[1:])[0]


def takes_x_as_argument(x):
    return x * ad.grad(lambda y, x: x * y, wrt=0)(2.0, x)


def closes_over_a_constant(x):
    k = 3.0 * 2
    return x * ad.grad(lambda y: k * y ** 2)(x)


def test_a_gradient_of_a_closure_over_the_differentiated_values():
    # the derivative through what the closure reads is a mixed second derivative: it was dropped
    # (grad of x * grad(lambda y: x * y)(2.0) gave x, not 2 x: autograd's test_enclosing_scope_ref).
    # A nested def or lambda is differentiated with the values it reads as arguments of its own
    assert ad.grad(closes_over_x_lambda)(1.5) == pytest.approx(3.0)
    ad.check_grads(closes_over_x_lambda, (1.5,), order=2)
    x = X[:2]
    want = [np.exp(x[1]) * (1 - np.tanh(x[0]) ** 2), np.exp(x[1]) * np.tanh(x[0])]
    np.testing.assert_allclose(ad.grad(called_where_made)(x), want, rtol=1e-12)
    ad.check_grads(called_where_made, (x,), order=2)
    # a gradient kept in a name, or of a partial, is refused, with what to do instead
    for fn, arg in ((closes_over_x_def, x), (closes_over_x_partial, X)):
        with pytest.raises(ad.AdError, match="closure over them") as caught:
            ad.grad(fn)(arg)
        assert "wrt=" in str(caught.value) and "test_api_transforms.py" in str(caught.value)
    # what the message suggests: the value as an argument
    assert ad.grad(takes_x_as_argument)(1.5) == 3.0
    ad.check_grads(takes_x_as_argument, (1.5,), order=2)
    # a closure over values that do not depend on them is differentiated
    assert ad.grad(closes_over_a_constant)(1.5) == pytest.approx(6 * 2 * 1.5 * 2)


JACOBIAN_OF_SINE = ad.jacobian(lambda x: np.sin(x) * x[0])


def sums_a_jacobian(x):
    return np.sum(np.sin(JACOBIAN_OF_SINE(x)))


def test_jacobian_and_hessian_results_called_inside_are_refused_clearly():
    # functools.wraps names them after the function they transform: they were traced as if
    # they were it, and failed inside adcompiler's own code
    with pytest.raises(ad.AdError, match="made by adcompiler's jac"):
        ad.grad(sums_a_jacobian)(X[:2])
    # jacobian(jacobian(...)) of a lambda: a generated function named after it
    assert ad.jacobian(ad.jacobian(lambda x: np.sin(np.outer(x, x))))(X[:2]).shape == (2, 2, 2, 2)


def test_holomorphic_grad_is_the_complex_derivative():
    z = 0.3 + 0.4j
    assert ad.grad(lambda z: z * (1.0 + 0.2j), holomorphic=True)(1.0 + 0j) == 1.0 + 0.2j
    assert ad.grad(lambda z: z ** 2, holomorphic=True)(1j) == 2j
    f = lambda z: np.sin(z) * z ** 2  # noqa: E731
    want = np.cos(z) * z ** 2 + 2 * z * np.sin(z)
    np.testing.assert_allclose(ad.grad(f, holomorphic=True)(z), want, rtol=1e-12)
    value, gradient = ad.value_and_grad(f, holomorphic=True)(z)
    assert value == f(z) and gradient == pytest.approx(want)
    # (along both real directions: f(z + h) - f(z - h) over 2h, and over 2ih)
    h = 1e-6
    for step in (h, 1j * h):
        np.testing.assert_allclose((f(z + step) - f(z - step)) / (2 * step), want, rtol=1e-8)
    # arrays of size 1, several arguments, has_aux
    zz = np.array([0.3 + 0.1j])
    np.testing.assert_allclose(ad.grad(lambda z: np.sum(np.exp(z)), holomorphic=True)(zz),
                               np.exp(zz))
    w = np.array([0.1 + 1j, 2.0 + 0j])
    gradient, aux = ad.grad(lambda w: (np.exp(w[0]) * w[1], "aux"), holomorphic=True,
                            has_aux=True)(w)
    np.testing.assert_allclose(gradient, [np.exp(w[0]) * w[1], np.exp(w[0])])
    assert aux == "aux"


def test_holomorphic_grad_refuses_real_arguments_and_outputs_with_a_type_error():
    with pytest.raises(TypeError, match="complex arguments"):
        ad.grad(lambda z: z ** 2, holomorphic=True)(0.3)
    with pytest.raises(ad.AdTypeError, match="complex scalar output"):
        ad.grad(lambda z: np.abs(z) ** 2, holomorphic=True)(0.3 + 0j)


def test_grad_of_an_output_that_is_not_a_real_scalar_is_a_type_error():
    # (as JAX and autograd raise: code catching TypeError catches it; it is an AdError too)
    complex_valued = lambda x: x * (1.0 + 0.2j)  # noqa: E731
    a_bool = lambda x: x > 1.0  # noqa: E731
    close = lambda x: np.allclose(x, x * 3.0 / 3.0)  # noqa: E731
    an_array = lambda x: x * 2.0  # noqa: E731
    for f, x in ((complex_valued, 1.0), (a_bool, 2.0), (close, X), (an_array, X)):
        with pytest.raises(TypeError, match="real float scalar output") as caught:
            ad.grad(f)(x)
        assert isinstance(caught.value, ad.AdError)
