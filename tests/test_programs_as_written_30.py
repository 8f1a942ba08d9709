"""Refusals and wrong values found by new realistic programs (session 30), one class each: an
object's list of its own, made in ``__init__``, does not share memory with the dict the object
was built from; a bound method of a differentiated object handed to a solver. Each is checked
in every mode against finite differences, and a variant where the sharing is real is refused or
right, never wrong."""
import numpy as np
import pytest
from conftest import check_all_modes, fd_grad

import adcompiler as ad


class Cell:
    def __init__(self, params):
        self.params = params
        self.cache = []

    def step(self, x):
        y = np.tanh(x * self.params["w"] + self.params["b"])
        self.cache.append(y)
        return y


def cached_cell(params, xs):
    cell = Cell(params)
    h = 0.0
    for t in range(xs.shape[0]):
        h = cell.step(xs[t] + 0.5 * h)
    stacked = np.stack(cell.cache)  # (the cache read after the loop, as a backward pass would)
    return np.sum(stacked ** 2) + np.sum(h * params["v"]) + len(cell.cache)


def cached_cell_once(params, x):
    cell = Cell(params)
    h = cell.step(x)
    return np.sum(h * params["v"])  # (the dict read after the object's list changed)


def params_and_inputs(rng, n=3):
    return {"w": rng.randn(n) * 0.5, "b": rng.randn(n) * 0.1, "v": rng.randn(n)}, rng.randn(4, n)


def test_an_objects_own_list_is_not_the_dict_it_was_built_from(rng):
    params, xs = params_and_inputs(rng)
    for fn, args in [(cached_cell, (params, xs)), (cached_cell_once, (params, xs[0]))]:
        got = ad.grad(fn)(*args)
        for key in params:
            np.testing.assert_allclose(got[key], fd_grad(lambda w, k=key: fn(
                {**params, k: w}, args[1]), [params[key]], 0), rtol=1e-6, atol=1e-9)
    check_all_modes(lambda w, b, v, x: cached_cell_once({"w": w, "b": b, "v": v}, x),
                    (params["w"], params["b"], params["v"], xs[0]), wrt=(0, 1, 2))


def cache_put_in_the_dict(params, x):
    cell = Cell(params)
    params["history"] = cell.cache  # (now the dict holds the object's list)
    h = cell.step(x)
    return np.sum(h * params["v"]) + np.sum(params["history"][0])


def test_an_objects_list_put_into_the_dict_is_still_followed_or_refused(rng):
    params, xs = params_and_inputs(rng)
    def plain(w):
        return cache_put_in_the_dict({"w": w, "b": params["b"], "v": params["v"]}, xs[0])
    try:
        got = ad.grad(cache_put_in_the_dict)(dict(params), xs[0])
    except ad.AdError as e:
        assert "params" in str(e), e
        return
    np.testing.assert_allclose(got["w"], fd_grad(plain, [params["w"]], 0), rtol=1e-6)


class Decay:
    def __init__(self, k):
        self.k = k
        self.calls = 0

    def rhs(self, y, t=0.0):
        self.calls += 1
        return -self.k * y + 0.1 * np.sin(y + t)


def euler(f, y0, h=0.1, n=8):
    y = y0
    for i in range(n):
        y = y + h * f(y, i * h)
    return y


def rk4(f, y0, h=0.1, n=5):
    y = y0
    for _ in range(n):
        k1 = f(y)
        k2 = f(y + 0.5 * h * k1)
        k3 = f(y + 0.5 * h * k2)
        k4 = f(y + h * k3)
        y = y + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


def solved_by_euler(model, y0):
    return np.sum(euler(model.rhs, y0) ** 2)


def solved_by_rk4_keyword(model, y0):
    return np.sum(rk4(f=model.rhs, y0=y0))


def bound_to_a_name(model, y0):
    f = model.rhs
    y = y0
    for _ in range(4):
        y = y + 0.2 * f(y)
    return np.sum(y)


def made_inside(k, y0):
    model = Decay(k)
    return solved_by_euler(model, y0) + np.sum(model.k)


@pytest.mark.parametrize("fn", [solved_by_euler, solved_by_rk4_keyword, bound_to_a_name])
def test_a_bound_method_handed_to_a_solver(rng, fn):
    k, y0 = rng.rand(3) + 0.5, rng.randn(3)
    model = Decay(k.copy())
    plain_model = Decay(k.copy())
    value, (g_model, g_y0) = ad.value_and_grad(fn, wrt=(0, 1))(model, y0)
    assert value == fn(plain_model, y0) and model.calls == plain_model.calls  # (its side effect)
    np.testing.assert_allclose(g_model.k, fd_grad(lambda k_: fn(Decay(k_), y0), [k], 0),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(g_y0, fd_grad(lambda y: fn(Decay(k), y), [y0], 0),
                               rtol=1e-6, atol=1e-9)


def test_a_bound_method_of_an_object_made_inside(rng):
    check_all_modes(made_inside, (rng.rand(3) + 0.5, rng.randn(3)), wrt=(0, 1))


def rebound_after_binding(model, y0):
    f = model.rhs
    model = Decay(2.0 * model.k)  # (f is still bound to the first object)
    return np.sum(f(y0) + model.rhs(y0))


def test_a_bound_method_whose_name_is_rebound_is_right_or_refused(rng):
    k, y0 = rng.rand(3) + 0.5, rng.randn(3)
    try:
        got = ad.grad(rebound_after_binding)(Decay(k), y0)
    except ad.AdError as e:
        assert "rhs" in str(e) or "model" in str(e), e
        return
    np.testing.assert_allclose(got.k, fd_grad(lambda k_: rebound_after_binding(Decay(k_), y0),
                                              [k], 0), rtol=1e-6)


class Integrator:
    def __init__(self, h, n):
        self.h, self.n = h, n

    def __call__(self, f, y0):
        return self.run(f, y0)

    def run(self, f, y0):
        y = y0
        for _ in range(self.n):
            y = y + self.h * f(y)
        return y


def through_a_callable_object(model, y0, integrator):
    return np.sum(integrator(model.rhs, y0) ** 2) + np.sum(integrator.run(model.rhs, y0))


def test_a_bound_method_handed_to_a_callable_object_or_its_method(rng):
    k, y0 = rng.rand(3) + 0.5, rng.randn(3)
    g_model, g_y0 = ad.grad(through_a_callable_object, wrt=(0, 1))(Decay(k), y0, Integrator(0.1, 4))
    def plain(k_, y):
        return through_a_callable_object(Decay(k_), y, Integrator(0.1, 4))
    np.testing.assert_allclose(g_model.k, fd_grad(plain, [k, y0], 0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(g_y0, fd_grad(plain, [k, y0], 1), rtol=1e-6, atol=1e-9)


def clipped(x, lo):
    return np.sum(np.clip(x, min=lo, max=0.8) ** 2) + np.sum(np.clip(x, -0.2, 0.5) * x)


def clipped_mixing_spellings(x):
    return np.sum(np.clip(x, -0.2, max=0.5))  # (NumPy raises: a_min by position, max by name)


@pytest.mark.skipif(np.lib.NumpyVersion(np.__version__) < "2.1.0", reason="min=/max= of NumPy 2.1")
def test_clip_with_the_keywords_of_numpy_2_1(rng):
    check_all_modes(clipped, (np.array([-1.0, -0.3, 0.1, 0.6, 1.2]), -0.5), wrt=(0, 1))
    with pytest.raises(ad.AdError, match="np.clip"):
        ad.grad(clipped_mixing_spellings)(np.array([-1.0, 0.1, 1.2]))


# -- decorators: a wrapper that does more than forward the call is code of its own ----------------

import functools  # noqa: E402

CALLS = {"n": 0}


def counted(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        CALLS["n"] += 1
        return fn(*args, **kwargs)
    return wrapper


def scaled_by_default(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        kwargs.setdefault("scale", 3.0)
        return fn(*args, **kwargs)
    return wrapper


def first_clipped(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        args = (np.clip(args[0], -0.5, 0.5),) + args[1:]
        return fn(*args, **kwargs)
    return wrapper


class Times:
    def __init__(self, fn, factor=10.0):
        functools.update_wrapper(self, fn)
        self.fn, self.factor = fn, factor

    def __call__(self, *args, **kwargs):
        return self.factor * self.fn(*args, **kwargs)


def weighted_square(x, y, scale=1.0):
    return scale * np.sum(x ** 2 * y)


# (as `@counted` above a def would make them)
counted_loss, defaulted_loss = counted(weighted_square), scaled_by_default(weighted_square)
clipped_loss, times_loss = first_clipped(weighted_square), Times(weighted_square)


def calls_decorated(x, y):
    return counted_loss(x, y) + defaulted_loss(x, y) + clipped_loss(x, y) + times_loss(x, y)


@pytest.mark.parametrize("fn", [counted_loss, defaulted_loss, clipped_loss, times_loss,
                                calls_decorated])
def test_a_decorators_wrapper_runs_as_in_the_plain_call(rng, fn):
    x, y = rng.uniform(-0.4, 0.4, 3) + np.array([0.0, 0.0, 0.9]), rng.randn(3)
    CALLS["n"] = 0
    plain = fn(x, y)
    calls = CALLS["n"]
    CALLS["n"] = 0
    value, (gx, gy) = ad.value_and_grad(fn, wrt=(0, 1))(x, y)
    assert value == pytest.approx(plain, rel=1e-14) and CALLS["n"] == calls  # (its counter too)
    np.testing.assert_allclose(gx, fd_grad(fn, [x, y], 0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gy, fd_grad(fn, [x, y], 1), rtol=1e-6, atol=1e-9)
    check_all_modes(fn, (x, y), wrt=(0, 1))


def test_a_decorated_function_is_differentiated_by_its_parameters_names(rng):
    x, y = rng.randn(3), rng.randn(3)
    np.testing.assert_allclose(ad.grad(counted_loss, wrt="y")(x, y), x ** 2)
    assert ad.grad(counted_loss, wrt="scale")(x, y, 2.0) == pytest.approx(np.sum(x ** 2 * y))
    # (a wrapper that only passes its arguments on takes keywords as the function it wraps)
    np.testing.assert_allclose(ad.grad(counted_loss)(x, y, scale=2.0), 4.0 * x * y)
    np.testing.assert_allclose(ad.grad(functools.partial(defaulted_loss, scale=2.0))(x, y),
                               4.0 * x * y)
    with pytest.raises(ad.AdError, match="functools.partial"):
        ad.grad(defaulted_loss)(x, y, scale=2.0)  # (would reach the wrapper by position)


def passes_through(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


@passes_through
def passed_through(x):
    return np.sum(np.sin(x))


@functools.lru_cache(maxsize=None)
def cached_constant(n):
    return float(n) ** 0.5


def uses_cached(x):
    return np.sum(x) * cached_constant(4)


def test_wrappers_that_only_forward_are_seen_through(rng):
    x = rng.randn(3)
    assert "def dpassed_through(x)" in ad.source(passed_through)  # (its own parameters)
    np.testing.assert_allclose(ad.grad(passed_through)(x), np.cos(x))
    np.testing.assert_allclose(ad.grad(uses_cached)(x), 2.0 * np.ones(3))


class Holder:
    """A callable object forwarding to a function it holds, arguments unpacked."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args, **kwargs):
        return 2.0 * self.fn(*args, **kwargs)


def _product(x, y, scale=1.0):
    return scale * np.sum(np.sin(x) * y)


HELD = Holder(_product)


def calls_a_holder(x, y):
    return HELD(x, y) + HELD(y, x, scale=0.5)


def test_forward_mode_through_a_held_callable_with_unpacked_arguments(rng):
    # (the tangents of x and y once reached the held function as those of the object and x: a
    # silent wrong jvp, the gradient right)
    check_all_modes(calls_a_holder, (rng.randn(3), rng.randn(3)), wrt=(0, 1))


class Sized:
    def __init__(self, w, n):
        self.w, self.n = w, n


def per_item(layer):
    return np.sum(layer.w ** 2) / layer.n


def test_an_int_attribute_of_an_object_gets_a_zero_in_its_gradient(rng):
    # (it held the argument's own value: a step along the gradient moved it)
    w = rng.randn(3)
    g = ad.grad(per_item)(Sized(w, 4))
    assert g.n == 0 and g.n.__class__ is int
    np.testing.assert_allclose(g.w, 2.0 * w / 4)
    _, t = ad.jvp(per_item, (Sized(w, 4),), (g,))
    assert t == pytest.approx(np.sum(g.w * g.w))


def solve_by_keywords(f, y0, h=0.1, n=4):
    y = y0
    for i in range(n):
        y = y + h * f(y=y, t=i * h)  # (the method's own parameter names)
    return y


def handed_and_called_by_keywords(model, y0):
    return np.sum(solve_by_keywords(model.rhs, y0) ** 2)


def test_a_bound_method_handed_on_and_called_by_its_keywords(rng):
    k, y0 = rng.rand(3) + 0.5, rng.randn(3)
    g_model, g_y0 = ad.grad(handed_and_called_by_keywords, wrt=(0, 1))(Decay(k), y0)
    def plain(k_, y):
        return handed_and_called_by_keywords(Decay(k_), y)
    np.testing.assert_allclose(g_model.k, fd_grad(plain, [k, y0], 0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(g_y0, fd_grad(plain, [k, y0], 1), rtol=1e-6, atol=1e-9)
