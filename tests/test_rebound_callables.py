"""A function with a derivative rule called through a name or an attribute that is bound to
another function later (``ACTIVATION = np.tanh``, then ``np.sin`` in a sweep over activations; a
closure's variable; ``model.act`` of a bound method; ``CFG.act`` of a module-level object; a
helper reading the global): the generated code checks on entry that the name still denotes the
function it was generated for, and is generated again when not, never applying the old
function's derivative to the new one's values (trial 14)."""
import numpy as np
import pytest
from conftest import fd_grad

import adcompiler as ad

ACTIVATION = np.tanh


def loss(w):
    return np.sum(ACTIVATION(w) ** 2)


def helper(z):
    return ACTIVATION(z) * z


def loss_through_helper(w):
    return np.sum(helper(w) ** 2)


class Model:
    def __init__(self, act):
        self.act = act

    def loss(self, w):
        return np.sum(self.act(w) ** 2)


class Config:
    act = np.tanh


CONFIG = Config()


def loss_of_config(w):
    return np.sum(CONFIG.act(w) * w)


W = np.array([0.5, -1.0, 2.0])
ACTIVATIONS = (np.tanh, np.sin, np.arctan, np.exp)


def _check(fn, setter):
    grad, hessian = ad.grad(fn), ad.hessian(fn)
    for act in ACTIVATIONS:
        setter(act)
        want = fd_grad(fn, [W.copy()], 0)
        np.testing.assert_allclose(grad(W.copy()), want, rtol=1e-6, atol=1e-8)
        _, tangent = ad.jvp(fn, (W.copy(),), (np.ones(3),))
        assert tangent == pytest.approx(want.sum(), rel=1e-6)
        _, pullback = ad.vjp(fn, W.copy())
        np.testing.assert_allclose(pullback(1.0)[0], want, rtol=1e-6, atol=1e-8)
        h = hessian(W.copy())
        want_h = np.stack([fd_grad(lambda v, k=k: ad.grad(fn)(v)[k], [W.copy()], 0)
                           for k in range(3)])
        np.testing.assert_allclose(h, want_h, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn", [loss, loss_through_helper])
def test_a_global_alias_bound_again(fn):
    global ACTIVATION
    try:
        _check(fn, lambda act: globals().__setitem__("ACTIVATION", act))
    finally:
        ACTIVATION = np.tanh


def test_a_closure_variable_bound_again():
    act = np.tanh

    def f(w):
        return np.sum(act(w) ** 2)

    def set_act(new):
        nonlocal act
        act = new
    _check(f, set_act)


def test_an_attribute_of_the_object_of_a_bound_method():
    model = Model(np.tanh)
    _check(model.loss, lambda act: setattr(model, "act", act))


def test_an_attribute_of_a_module_level_object():
    try:
        _check(loss_of_config, lambda act: setattr(CONFIG, "act", act))
    finally:
        CONFIG.act = np.tanh


def test_a_function_under_its_own_name_is_not_checked():
    # (np.sin, exp of `from numpy import exp`: no check on entry)
    source = ad.source(loss)
    assert "callee_redefined('ACTIVATION')" in source
    assert "callee_redefined" not in ad.source(lambda w: np.sum(np.sin(w)))
