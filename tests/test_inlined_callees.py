"""Module-level functions of the user's that write into an argument they are given, or that are
given a lambda or nested def of the caller, are inlined where they are called, so the write is one
the derivative follows and the closure reads the caller's variables (they were refused)."""
import numpy as np
import pytest
from conftest import check_all_modes, check_like_plain

import adcompiler as ad
from adcompiler.api import clear_cache


def normalize_(v, eps=1e-3):
    v -= v.mean()
    if np.all(v == 0):
        return v  # (an early return)
    v /= np.sqrt(np.mean(v ** 2) + eps)
    return v


def clamp_(x, lo=-0.5, hi=0.5):
    x[x < lo] = lo
    x[x > hi] = hi


def scale_rows_(m, w):
    for i in range(m.shape[0]):
        m[i] *= w[i]


def twice(x):
    a = normalize_(x * 2.0)
    b = normalize_(np.sin(x), eps=0.1)  # (a second call: its own names)
    return np.sum(a * b) + np.sum(a ** 2)


def clamps_a_copy(x):
    h = np.tanh(x) * 2.0
    clamp_(h, hi=0.8)
    return np.sum(h ** 3)


def scales_the_callers_array(m, w):
    scale_rows_(m, w)  # (m is the caller's: written as the plain call writes it)
    return np.sum(m ** 2) + np.sum(w)


def test_writing_helpers_are_differentiated_where_they_are_called():
    rng = np.random.RandomState(0)
    x = rng.randn(5)
    check_all_modes(twice, [x])
    check_all_modes(clamps_a_copy, [x])
    check_like_plain(scales_the_callers_array, [rng.randn(3, 4), rng.randn(3)], wrt=(0, 1))


def shadowed_(u):
    u *= SCALE  # (a module-level name the caller below has as a local)
    return u


SCALE = 2.0


def shadows_the_helpers_global(x):
    SCALE = 3.0  # noqa: N806
    y = shadowed_(x * 1.0)
    return np.sum(y) * SCALE


def recursive_(u, n):
    if n > 0:
        u *= 0.5
        recursive_(u, n - 1)
    return u


def calls_a_recursive_writer(x):
    return np.sum(recursive_(x * 1.0, 2))


def test_helpers_that_cannot_be_inlined_are_refused_as_before():
    x = np.array([0.5, -1.0, 2.0])
    for fn in (shadows_the_helpers_global, calls_a_recursive_writer):
        with pytest.raises(ad.AdError, match="writes into its argument"):
            ad.grad(fn)(x)


def returns_early_or_scales(x, c):
    y = x * 2.0
    if c > 0:
        return y  # (y is the result here; the write below never runs with it)
    y /= np.sum(y ** 2)
    return y


def test_an_alias_made_in_one_arm_of_an_if_is_not_one_in_the_other():
    x = np.array([0.5, -1.0, 2.0])
    for c in (1.0, -1.0):
        check_all_modes(lambda x: np.sum(returns_early_or_scales(x, c) ** 2), [x])


def rk4(fun, y0, t0, t1, n):
    h = (t1 - t0) / n
    y, t = y0, t0
    for _ in range(n):
        k1 = fun(t, y)
        k2 = fun(t + h / 2, y + h / 2 * k1)
        k3 = fun(t + h / 2, y + h / 2 * k2)
        k4 = fun(t + h, y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        t += h
    return y


def decay_by_a_lambda(k, y0):
    return np.sum(rk4(lambda t, y: -k * y + np.sin(t), y0, 0.0, 1.0, 8) ** 2)


def decay_by_a_nested_def(k, y0):
    def rhs(t, y):
        return -k * y * y0[0] + np.sin(t)  # (reads this function's k and y0)
    return np.sum(rk4(rhs, y0, 0.0, 1.0, 8) ** 2)


def euler(f, y, dt, steps=10):
    for _ in range(steps):
        y = y + dt * f(y)
    return y


def pendulum(theta0, g):
    y = euler(lambda y: np.array([y[1], -g * np.sin(y[0])]), np.array([theta0, 0.0]), 0.05)
    return y[0] ** 2 + y[1]


@pytest.mark.parametrize("fn, args", [
    (decay_by_a_lambda, [0.7, np.array([1.0, 0.5])]),
    (decay_by_a_nested_def, [0.7, np.array([1.0, 0.5])]),
    (pendulum, [0.4, 9.8]),
])
def test_a_function_given_a_lambda_or_nested_def_is_inlined(fn, args):
    # (an integrator given a closure over differentiated values: rk4(lambda t, y: -k * y, ...)
    # was refused, with advice, lambda t, y, k=k: ..., that was refused too)
    check_all_modes(fn, args, wrt=(0, 1))


class Oscillator:
    def __init__(self, x, v, k):
        self.x, self.v, self.k = x, v, k

    def step(self, dt):
        self.v = self.v - dt * self.k * self.x  # (rebinds the caller's object's attributes)
        self.x = self.x + dt * self.v

    def energy(self):
        return 0.5 * self.v ** 2 + 0.5 * self.k * self.x ** 2


def simulated(osc, dt):
    for _ in range(4):
        osc.step(dt)
    return np.sum(osc.energy() + osc.x)


class Logger:
    def __init__(self):
        self.history = []

    def log(self, value):
        self.history.append(float(value))


def logged(x, logger):
    y = np.sum(x ** 2)
    logger.log(y)
    return y * 2.0


def _oscillator():
    return Oscillator(np.array([1.0, 0.5]), np.array([0.0, 0.2]), 2.0)


def test_a_method_that_writes_into_its_object_argument_is_inlined():
    # (osc.step(dt), whose result is discarded, was refused: it may change osc)
    plain, inside = _oscillator(), _oscillator()
    value, (g_osc, g_dt) = ad.value_and_grad(simulated, wrt=(0, 1))(inside, 0.1)
    assert value == pytest.approx(simulated(plain, 0.1), rel=1e-12)
    np.testing.assert_array_equal(inside.x, plain.x)  # (the same side effects on the object)
    np.testing.assert_array_equal(inside.v, plain.v)
    eps = 1e-6
    assert g_dt == pytest.approx((simulated(_oscillator(), 0.1 + eps)
                                  - simulated(_oscillator(), 0.1 - eps)) / (2 * eps), rel=1e-6)
    for attr in ("x", "v"):
        for i in range(2):
            hi, lo = _oscillator(), _oscillator()
            getattr(hi, attr)[i] += eps
            getattr(lo, attr)[i] -= eps
            want = (simulated(hi, 0.1) - simulated(lo, 0.1)) / (2 * eps)
            assert getattr(g_osc, attr)[i] == pytest.approx(want, rel=1e-6, abs=1e-8)
    logger = Logger()
    value, grad = ad.value_and_grad(logged)(np.array([0.3, 0.4]), logger)
    assert logger.history == [pytest.approx(0.25)]
    np.testing.assert_allclose(grad, [1.2, 1.6])


# -- defaults read from module-level names (trial p001) -----------------------------------------

STIFFNESS = 1.0
LIMITS = (-2.0, 2.0)


class Bead:
    def __init__(self, pos):
        self.pos = pos
        self.acc = 0.0


def accelerate(beads, k=STIFFNESS, limits=LIMITS, *, damping=STIFFNESS / 2):
    for b in beads:
        b.acc = np.clip(-k * b.pos, *limits) - damping * b.pos


def bead_energy(x):
    beads = [Bead(x[0]), Bead(x[1] * 2)]
    accelerate(beads)  # (writes into the beads it is given: inlined, with k, limits, damping)
    return sum(b.acc * b.pos for b in beads)


def test_a_default_of_a_module_level_name_is_the_value_bound_at_the_definition(monkeypatch):
    x = np.array([0.5, -0.4])
    check_all_modes(bead_energy, (x,))
    want = ad.grad(bead_energy)(x)
    clear_cache()
    monkeypatch.setattr(__import__(__name__), "STIFFNESS", 5.0)  # (Python keeps k = 1.0)
    np.testing.assert_allclose(ad.grad(bead_energy)(x), want)
    np.testing.assert_allclose(want, [-3.0 * 0.5, -12.0 * -0.4])  # (acc = -1.5 pos)
