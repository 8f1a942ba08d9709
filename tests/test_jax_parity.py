"""The API as JAX's documentation uses it (issue 19): ``grad``/``value_and_grad`` with
``has_aux``, ``hvp``, ``linearize``, ``vmap``, ``elementwise_grad``, ``check_grads``, keyword
arguments, ``vjp`` (with ``wrt`` and ``has_aux``), ``jvp``, ``jacobian``/``hessian`` and their
structured outputs, ``df.source``, ``--version``.

Each case below calls adcompiler on NumPy code the way the JAX docs call JAX on the same maths
written with ``jax.numpy``, and yields ``Check``s: adcompiler's result, a reference (central
finite differences or an exact value), and how JAX computes it. ``test_against_reference`` runs
without JAX (what CI asserts); ``test_same_as_jax`` compares with JAX to 1e-10 in float64 and is
skipped when JAX is not installed (an optional test dependency: ``pip install jax``)."""
from __future__ import annotations

import functools
import importlib.metadata
import os
import subprocess
import sys
from typing import Any, Callable, NamedTuple

import numpy as np
import pytest

import adcompiler as ad

try:  # (optional: the JAX side of each check)
    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads as jax_check_grads
    jax.config.update("jax_enable_x64", True)
except ImportError:
    jax = jnp = jax_check_grads = None


class Check(NamedTuple):
    label: str
    got: Any                    # adcompiler's result (a value, or a tuple/list/dict of values)
    reference: Any              # finite differences or the exact value, same structure
    jax: Callable | None        # () -> JAX's result, same structure (None: no JAX counterpart)
    rtol: float = 1e-6
    atol: float = 1e-8


def assert_same(got, want, rtol, atol, where="result"):
    """``got`` has ``want``'s structure (tuple, list, dict) and its values to the tolerances."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), (where, got, want)
        for k in want:
            assert_same(got[k], want[k], rtol, atol, "%s[%r]" % (where, k))
    elif isinstance(want, (tuple, list)):
        assert isinstance(got, tuple if isinstance(want, tuple) else list), (where, got, want)
        assert len(got) == len(want), (where, got, want)
        for k, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, rtol, atol, "%s[%d]" % (where, k))
    else:
        assert np.shape(got) == np.shape(want), (where, np.shape(got), np.shape(want))
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=rtol, atol=atol,
                                   err_msg=where)


def fd_directional(f, args, tangents, eps=1e-6):
    """Central finite differences of ``f`` (any output structure) along ``tangents``."""
    plus = f(*[a + eps * t for a, t in zip(args, tangents)])
    minus = f(*[a - eps * t for a, t in zip(args, tangents)])
    return tree_map(lambda p, m: (np.asarray(p) - np.asarray(m)) / (2 * eps), plus, minus)


def fd_jacobian(f, args, i, eps=1e-6):
    """Central finite differences of ``f`` w.r.t. argument ``i``: ``out.shape + arg.shape`` (for
    each output of a tuple, list or dict output)."""
    x = np.asarray(args[i], dtype=float)
    columns = []
    for idx in np.ndindex(x.shape):
        t = np.zeros_like(x)
        t[idx] = 1.0
        tangents = [0.0 * np.asarray(a) for a in args]
        tangents[i] = t if x.shape else 1.0
        columns.append(fd_directional(f, args, tangents, eps))
    return tree_map(lambda *cols: np.stack(cols, axis=-1).reshape(np.shape(cols[0]) + x.shape),
                    *columns)


def tree_map(how, *values):
    """``how`` applied to the leaves of ``values`` (of one structure: tuples, lists, dicts)."""
    first = values[0]
    if isinstance(first, dict):
        return {k: tree_map(how, *[v[k] for v in values]) for k in first}
    if isinstance(first, (tuple, list)):
        return type(first)(tree_map(how, *[v[k] for v in values]) for k in range(len(first)))
    return how(*values)


# ---------------------------------------------------------------- the functions, twice

W = np.array([0.4, -0.3, 0.8])
B = 0.1
XS = np.array([[0.5, -1.2, 0.3], [1.1, 0.4, -0.7], [-0.2, 0.9, 1.5], [0.3, 0.3, -0.4]])
YS = np.array([0.2, -0.5, 1.0, 0.1])
X = np.array([0.3, -0.7, 1.2])
V = np.array([1.0, 0.5, -2.0])


def loss_and_metrics(params, xs, ys):
    """A model's loss with its metrics (JAX docs: ``return loss, aux``)."""
    pred = np.tanh(xs @ params["w"] + params["b"])
    err = pred - ys
    loss = np.mean(err ** 2)
    return loss, {"pred": pred, "max_err": np.max(np.abs(err))}


def jloss_and_metrics(params, xs, ys):
    pred = jnp.tanh(xs @ params["w"] + params["b"])
    err = pred - ys
    loss = jnp.mean(err ** 2)
    return loss, {"pred": pred, "max_err": jnp.max(jnp.abs(err))}


def loss_of(params, xs, ys):
    return loss_and_metrics(params, xs, ys)[0]


def point_loss(w, x, y):
    return (np.tanh(x @ w) - y) ** 2


def jpoint_loss(w, x, y):
    return (jnp.tanh(x @ w) - y) ** 2


def sine_cubed(x):
    return np.sum(np.sin(x) * x ** 3)


def jsine_cubed(x):
    return jnp.sum(jnp.sin(x) * x ** 3)


def sine_cubed_hessian_diagonal(x):  # (exact: the Hessian is diagonal)
    return -np.sin(x) * x ** 3 + 6 * np.cos(x) * x ** 2 + 6 * np.sin(x) * x


def rosenbrock(x, y, scale=100.0):
    return np.sum(scale * (y - x ** 2) ** 2 + (1.0 - x) ** 2)


def jrosenbrock(x, y, scale=100.0):
    return jnp.sum(scale * (y - x ** 2) ** 2 + (1.0 - x) ** 2)


def lorenz(x, rho=28.0, beta=8.0 / 3.0):
    return np.array([10.0 * (x[1] - x[0]), x[0] * (rho - x[2]) - x[1], x[0] * x[1] - beta * x[2]])


def jlorenz(x, rho=28.0, beta=8.0 / 3.0):
    return jnp.array([10.0 * (x[1] - x[0]), x[0] * (rho - x[2]) - x[1],
                      x[0] * x[1] - beta * x[2]])


def polar(r, theta):
    return np.array([r * np.cos(theta), r * np.sin(theta)])


def jpolar(r, theta):
    return jnp.array([r * jnp.cos(theta), r * jnp.sin(theta)])


def field(x, y):
    return np.sin(x) * y[0] + x ** 2, np.sum(x) * y


def jfield(x, y):
    return jnp.sin(x) * y[0] + x ** 2, jnp.sum(x) * y


def named_field(x, y):
    return {"wave": np.sin(x) * y[0], "total": np.sum(x) * y}


def jnamed_field(x, y):
    return {"wave": jnp.sin(x) * y[0], "total": jnp.sum(x) * y}


def softplus(x, beta=1.0):
    return np.log1p(np.exp(beta * x)) / beta


def jsoftplus(x, beta=1.0):
    return jnp.log1p(jnp.exp(beta * x)) / beta


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


PARAMS = {"w": W, "b": B}


# ---------------------------------------------------------------- the cases


def case_grad_has_aux():
    # JAX docs: grads, aux = jax.grad(loss, has_aux=True)(params, x, y)
    grads, aux = ad.grad(loss_and_metrics, has_aux=True)(PARAMS, XS, YS)
    _, want_aux = loss_and_metrics(PARAMS, XS, YS)
    yield Check("grad has_aux: gradient of the loss w.r.t. a dict of parameters", grads,
                {"w": fd_jacobian(lambda w: loss_of({"w": w, "b": B}, XS, YS), [W], 0),
                 "b": fd_jacobian(lambda b: loss_of({"w": W, "b": b}, XS, YS), [B], 0)},
                lambda: jax.grad(jloss_and_metrics, has_aux=True)(PARAMS, XS, YS)[0])
    yield Check("grad has_aux: the aux, passed through", aux, want_aux,
                lambda: jax.grad(jloss_and_metrics, has_aux=True)(PARAMS, XS, YS)[1], 1e-12, 0)
    # argnums as a tuple: a tuple of gradients (and argnums, JAX's name for wrt)
    (gx, gy), _ = ad.grad(loss_and_metrics, argnums=(1, 2), has_aux=True)(PARAMS, XS, YS)
    yield Check("grad has_aux argnums=(1, 2)", (gx, gy),
                (fd_jacobian(lambda xs: loss_of(PARAMS, xs, YS), [XS], 0),
                 fd_jacobian(lambda ys: loss_of(PARAMS, XS, ys), [YS], 0)),
                lambda: jax.grad(jloss_and_metrics, argnums=(1, 2), has_aux=True)(
                    PARAMS, XS, YS)[0])


def case_value_and_grad_has_aux():
    # JAX docs: (loss, aux), grads = jax.value_and_grad(loss, has_aux=True)(params, x, y)
    (loss, aux), grads = ad.value_and_grad(loss_and_metrics, has_aux=True)(PARAMS, XS, YS)
    want_loss, want_aux = loss_and_metrics(PARAMS, XS, YS)

    def via_jax():
        (jl, ja), jg = jax.value_and_grad(jloss_and_metrics, has_aux=True)(PARAMS, XS, YS)
        return (jl, ja), jg
    yield Check("value_and_grad has_aux: ((loss, aux), grads)", ((loss, aux), grads),
                ((want_loss, want_aux),
                 {"w": fd_jacobian(lambda w: loss_of({"w": w, "b": B}, XS, YS), [W], 0),
                  "b": fd_jacobian(lambda b: loss_of({"w": W, "b": b}, XS, YS), [B], 0)}),
                via_jax)
    # without aux, w.r.t. the second argument by keyword-free argnums
    value, g = ad.value_and_grad(rosenbrock, argnums=1)(X, V)
    yield Check("value_and_grad argnums=1", (value, g),
                (rosenbrock(X, V), fd_jacobian(rosenbrock, [X, V], 1)),
                lambda: jax.value_and_grad(jrosenbrock, argnums=1)(X, V))


def case_hvp():
    # JAX's autodiff cookbook: def hvp(f, x, v): return jax.jvp(jax.grad(f), (x,), (v,))[1]
    yield Check("hvp(f)(x, v)", ad.hvp(sine_cubed)(X, V), sine_cubed_hessian_diagonal(X) * V,
                lambda: jax.jvp(jax.grad(jsine_cubed), (X,), (V,))[1], 1e-12, 1e-12)
    y = np.array([0.2, 0.4, -0.1])
    grad_y = ad.grad(rosenbrock, wrt=1)
    yield Check("hvp(f, wrt=1)(x, y, v): other arguments held fixed",
                ad.hvp(rosenbrock, wrt=1)(X, y, V),
                fd_directional(lambda y_: grad_y(X, y_), [y], [V]),
                lambda: jax.jvp(lambda y_: jax.grad(jrosenbrock, argnums=1)(X, y_), (y,),
                                (V,))[1])
    grad_x = ad.grad(rosenbrock)
    yield Check("hvp(f)(x, y, v, scale=...): keyword arguments held fixed",
                ad.hvp(rosenbrock)(X, y, V, scale=3.0),
                fd_directional(lambda x_: grad_x(x_, y, scale=3.0), [X], [V]),
                lambda: jax.jvp(lambda x_: jax.grad(jrosenbrock)(x_, y, scale=3.0), (X,),
                                (V,))[1])


def case_linearize():
    # JAX docs: y, f_jvp = jax.linearize(f, x); f_jvp(v)
    y, f_jvp = ad.linearize(sigmoid, X)
    yield Check("linearize: the value", y, sigmoid(X),
                lambda: jax.linearize(jax.nn.sigmoid, X)[0], 1e-12, 0)
    yield Check("linearize: f_jvp(v)", f_jvp(V), sigmoid(X) * (1 - sigmoid(X)) * V,
                lambda: jax.linearize(jax.nn.sigmoid, X)[1](V), 1e-12, 1e-14)
    yield Check("linearize: f_jvp is linear", f_jvp(2.0 * V - X), 2.0 * f_jvp(V) - f_jvp(X),
                lambda: jax.linearize(jax.nn.sigmoid, X)[1](2.0 * V - X), 1e-12, 1e-14)
    # several primals: one tangent per primal
    out, p_jvp = ad.linearize(polar, 2.0, 0.3)
    yield Check("linearize(f, r, theta): f_jvp(dr, dtheta)", (out, p_jvp(0.5, -1.0)),
                (polar(2.0, 0.3), fd_directional(polar, [2.0, 0.3], [0.5, -1.0])),
                lambda: (lambda o: (o[0], o[1](0.5, -1.0)))(jax.linearize(jpolar, 2.0, 0.3)))
    # has_aux: (y, f_jvp, aux)
    value, l_jvp, aux = ad.linearize(lambda p: loss_and_metrics(p, XS, YS), PARAMS,
                                     has_aux=True)
    direction = {"w": V, "b": 0.5}

    def via_jax():
        jv, jf, ja = jax.linearize(lambda p: jloss_and_metrics(p, XS, YS), PARAMS, has_aux=True)
        return jv, jf(direction), ja
    yield Check("linearize has_aux: (y, f_jvp, aux)", (value, l_jvp(direction), aux),
                (loss_of(PARAMS, XS, YS),
                 fd_directional(lambda w, b: loss_of({"w": w, "b": b}, XS, YS), [W, B],
                                [V, 0.5]),
                 loss_and_metrics(PARAMS, XS, YS)[1]), via_jax)


def case_vmap():
    # JAX docs: per-example gradients, jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))
    per_example = ad.vmap(ad.grad(point_loss), in_axes=(None, 0, 0))(W, XS, YS)
    yield Check("vmap(grad(loss), in_axes=(None, 0, 0))", per_example,
                np.stack([fd_jacobian(point_loss, [W, x, y], 0) for x, y in zip(XS, YS)]),
                lambda: jax.vmap(jax.grad(jpoint_loss), in_axes=(None, 0, 0))(W, XS, YS))
    # JAX docs: matrix-vector products from a vector dot product
    M = XS
    yield Check("vmap(np.dot, in_axes=(0, None))", ad.vmap(np.dot, in_axes=(0, None))(M, X),
                M @ X, lambda: jax.vmap(jnp.dot, in_axes=(0, None))(M, X), 1e-12, 1e-14)
    # a negative axis, out_axes=1, and a list for in_axes (JAX: the same as a tuple)
    yield Check("vmap(in_axes=-1, out_axes=1)",
                ad.vmap(lambda c: np.outer(c, c), in_axes=-1, out_axes=1)(M),
                np.stack([np.outer(c, c) for c in M.T], axis=1),
                lambda: jax.vmap(lambda c: jnp.outer(c, c), in_axes=-1, out_axes=1)(M),
                1e-12, 0)
    yield Check("vmap(in_axes=[1, None])", ad.vmap(np.dot, in_axes=[1, None])(M, YS),
                M.T @ YS, lambda: jax.vmap(jnp.dot, in_axes=[1, None])(M, YS), 1e-12, 1e-14)
    # a tuple output with out_axes per output, None for one not mapped
    yield Check("vmap(out_axes=(0, None))",
                ad.vmap(lambda a, s: (a * s, s), in_axes=(0, None), out_axes=(0, None))(M, 2.0),
                (M * 2.0, 2.0),
                lambda: jax.vmap(lambda a, s: (a * s, s), in_axes=(0, None),
                                 out_axes=(0, None))(M, 2.0), 1e-12, 0)
    # a dict argument (every entry mapped, or in_axes per entry) and a dict output
    batch = {"x": XS, "y": YS}
    yield Check("vmap over a dict argument, dict output",
                ad.vmap(lambda b: {"loss": point_loss(W, b["x"], b["y"]), "x0": b["x"][0]})(batch),
                {"loss": np.array([point_loss(W, x, y) for x, y in zip(XS, YS)]),
                 "x0": XS[:, 0]},
                lambda: jax.vmap(lambda b: {"loss": jpoint_loss(W, b["x"], b["y"]),
                                            "x0": b["x"][0]})(batch), 1e-12, 1e-14)
    yield Check("vmap(in_axes=({'w': None, 'b': 0},))",
                ad.vmap(lambda p: np.tanh(XS @ p["w"] + p["b"]),
                        in_axes=({"w": None, "b": 0},))({"w": W, "b": YS}),
                np.stack([np.tanh(XS @ W + b) for b in YS]),
                lambda: jax.vmap(lambda p: jnp.tanh(XS @ p["w"] + p["b"]),
                                 in_axes=({"w": None, "b": 0},))({"w": W, "b": YS}), 1e-12, 0)
    # keyword arguments are mapped along axis 0 (JAX's rule)
    yield Check("vmap: keyword arguments mapped along axis 0",
                ad.vmap(lambda x, y: x * y)(XS, y=XS[::-1]), XS * XS[::-1],
                lambda: jax.vmap(lambda x, y: x * y)(XS, y=XS[::-1]), 1e-12, 0)
    # nested: an outer product; axis_size when nothing is mapped
    yield Check("vmap(vmap(f, (None, 0)), (0, None))",
                ad.vmap(ad.vmap(np.multiply, (None, 0)), (0, None))(X, YS), np.outer(X, YS),
                lambda: jax.vmap(jax.vmap(jnp.multiply, (None, 0)), (0, None))(X, YS), 1e-12, 0)
    yield Check("vmap(in_axes=None, axis_size=3)",
                ad.vmap(lambda a: a * 2.0, in_axes=None, axis_size=3)(X), np.tile(X * 2.0, (3, 1)),
                lambda: jax.vmap(lambda a: a * 2.0, in_axes=None, axis_size=3)(X), 1e-12, 0)


def case_elementwise_grad():
    # autograd's elementwise_grad; in JAX: jax.vmap(jax.grad(f)) for a scalar f, or
    # jax.grad(lambda x: jnp.sum(f(x)))
    yield Check("elementwise_grad(np.tanh)", ad.elementwise_grad(np.tanh)(X), 1 - np.tanh(X) ** 2,
                lambda: jax.vmap(jax.grad(jnp.tanh))(X), 1e-12, 1e-14)
    yield Check("elementwise_grad(softplus)(x, beta=2.0)",
                ad.elementwise_grad(softplus)(X, beta=2.0), sigmoid(2.0 * X),
                lambda: jax.grad(lambda x: jnp.sum(jsoftplus(x, beta=2.0)))(X), 1e-12, 1e-14)
    yield Check("elementwise_grad(f, 1)", ad.elementwise_grad(np.multiply, 1)(X, V), X,
                lambda: jax.grad(lambda a, b: jnp.sum(a * b), 1)(X, V), 1e-12, 0)


def case_keywords():
    # JAX passes keyword arguments through, not differentiated:
    # jax.jacfwd(lorenz)(x, rho=28.0), jax.hessian(f)(x, y, scale=...), jax.grad(f)(x, ...)
    x = np.array([1.0, 2.0, 3.0])
    for mode, jax_jacobian in (("forward", "jacfwd"), ("reverse", "jacrev")):
        yield Check("jacobian(lorenz, mode=%r)(x, rho=28.0)" % mode,
                    ad.jacobian(lorenz, mode=mode)(x, rho=28.0),
                    np.array([[-10.0, 10.0, 0.0], [28.0 - x[2], -1.0, -x[0]],
                              [x[1], x[0], -8.0 / 3.0]]),
                    lambda j=jax_jacobian: getattr(jax, j)(jlorenz)(x, rho=28.0), 1e-12, 1e-12)
    yield Check("jacobian(lorenz)(x, beta=1.0, rho=10.0)",
                ad.jacobian(lorenz)(x, beta=1.0, rho=10.0),
                fd_jacobian(lambda x_: lorenz(x_, 10.0, 1.0), [x], 0),
                lambda: jax.jacrev(jlorenz)(x, beta=1.0, rho=10.0))
    y = np.array([0.2, 0.4, -0.1])
    yield Check("hessian(f)(x, y, scale=3.0)", ad.hessian(rosenbrock)(X, y, scale=3.0),
                np.diag(36.0 * X ** 2 - 12.0 * y + 2.0),
                lambda: jax.hessian(jrosenbrock)(X, y, scale=3.0), 1e-12, 1e-12)
    yield Check("hessian(f, argnums=(0, 1))(x, y, scale=3.0)",
                ad.hessian(rosenbrock, argnums=(0, 1))(X, y, scale=3.0),
                ((np.diag(36.0 * X ** 2 - 12.0 * y + 2.0), np.diag(-12.0 * X)),
                 (np.diag(-12.0 * X), np.diag(6.0 * np.ones(3)))),
                lambda: jax.hessian(jrosenbrock, argnums=(0, 1))(X, y, scale=3.0), 1e-12, 1e-12)
    yield Check("grad(f)(x, y, scale=3.0)", ad.grad(rosenbrock)(X, y, scale=3.0),
                fd_jacobian(lambda x_: rosenbrock(x_, y, 3.0), [X], 0),
                lambda: jax.grad(jrosenbrock)(X, y, scale=3.0))


def case_vjp():
    # JAX docs: y, f_vjp = jax.vjp(f, x, y); f_vjp(ct) is a tuple, one cotangent per primal
    ct = np.array([1.0, -2.0])
    out, f_vjp = ad.vjp(polar, 2.0, 0.3)
    yield Check("vjp(f, r, theta): (out, f_vjp(ct)), a tuple", (out, f_vjp(ct)),
                (polar(2.0, 0.3), tuple(ct @ fd_jacobian(polar, [2.0, 0.3], i) for i in (0, 1))),
                lambda: (lambda o: (o[0], o[1](ct)))(jax.vjp(jpolar, 2.0, 0.3)))
    _, one = ad.vjp(sine_cubed, X)
    yield Check("vjp(f, x): f_vjp(1.0) is a 1-tuple", one(1.0),
                (fd_jacobian(sine_cubed, [X], 0),), lambda: jax.vjp(jsine_cubed, X)[1](1.0))
    # wrt (adcompiler's): only the cotangents asked for (JAX: close over the others)
    _, theta_only = ad.vjp(polar, 2.0, 0.3, wrt=1)
    yield Check("vjp(f, r, theta, wrt=1)", theta_only(ct),
                ct @ fd_jacobian(polar, [2.0, 0.3], 1),
                lambda: jax.vjp(lambda t: jpolar(2.0, t), 0.3)[1](ct)[0])
    _, both = ad.vjp(polar, 2.0, 0.3, wrt=("theta", "r"))
    yield Check("vjp(f, r, theta, wrt=('theta', 'r'))", both(ct),
                (ct @ fd_jacobian(polar, [2.0, 0.3], 1), ct @ fd_jacobian(polar, [2.0, 0.3], 0)),
                lambda: jax.vjp(jpolar, 2.0, 0.3)[1](ct)[::-1])
    # structured outputs: a cotangent of the same structure
    ct_field = (np.array([1.0, 0.5, -1.0]), np.array([2.0, -1.0]))
    yv = np.array([0.5, 2.0])
    _, field_vjp = ad.vjp(field, X, yv)
    want = tuple(sum(c @ j for c, j in zip(ct_field, fd_jacobian(field, [X, yv], i)))
                 for i in (0, 1))
    yield Check("vjp of a tuple output", field_vjp(ct_field), want,
                lambda: jax.vjp(jfield, X, yv)[1](ct_field))
    # has_aux: (out, f_vjp, aux)
    loss, l_vjp, aux = ad.vjp(lambda p: loss_and_metrics(p, XS, YS), PARAMS, has_aux=True)

    def via_jax():
        jl, jf, ja = jax.vjp(lambda p: jloss_and_metrics(p, XS, YS), PARAMS, has_aux=True)
        return jl, jf(2.0), ja
    yield Check("vjp has_aux: (out, f_vjp, aux)", (loss, l_vjp(2.0), aux),
                (loss_of(PARAMS, XS, YS),
                 ({"w": 2.0 * fd_jacobian(lambda w: loss_of({"w": w, "b": B}, XS, YS), [W], 0),
                   "b": 2.0 * fd_jacobian(lambda b: loss_of({"w": W, "b": b}, XS, YS), [B], 0)},),
                 loss_and_metrics(PARAMS, XS, YS)[1]), via_jax)


def case_jvp():
    # JAX docs: y, y_dot = jax.jvp(f, (x,), (v,))
    yield Check("jvp(f, (x,), (v,))", ad.jvp(sigmoid, (X,), (V,)),
                (sigmoid(X), sigmoid(X) * (1 - sigmoid(X)) * V),
                lambda: jax.jvp(jax.nn.sigmoid, (X,), (V,)), 1e-12, 1e-14)
    yv, dy = np.array([0.5, 2.0]), np.array([1.0, -1.0])
    yield Check("jvp of a dict output", ad.jvp(named_field, (X, yv), (V, dy)),
                (named_field(X, yv), fd_directional(named_field, [X, yv], [V, dy])),
                lambda: jax.jvp(jnamed_field, (X, yv), (V, dy)))
    yield Check("jvp has_aux: (y, y_dot, aux)",
                ad.jvp(lambda w: loss_and_metrics({"w": w, "b": B}, XS, YS), (W,), (V,),
                       has_aux=True),
                (loss_of(PARAMS, XS, YS),
                 fd_directional(lambda w: loss_of({"w": w, "b": B}, XS, YS), [W], [V]),
                 loss_and_metrics(PARAMS, XS, YS)[1]),
                lambda: jax.jvp(lambda w: jloss_and_metrics({"w": w, "b": B}, XS, YS), (W,),
                                (V,), has_aux=True))


def case_jacobians():
    # JAX's jacrev/jacfwd/hessian: out.shape + arg.shape; argnums tuple -> tuple; a tuple or
    # dict output -> a Jacobian per output, in its structure
    yv = np.array([0.5, 2.0])
    for mode, jax_jacobian in (("reverse", "jacrev"), ("forward", "jacfwd")):
        yield Check("jacobian(f, argnums=(0, 1), mode=%r) of a tuple output" % mode,
                    ad.jacobian(field, argnums=(0, 1), mode=mode)(X, yv),
                    tuple((a, b) for a, b in zip(fd_jacobian(field, [X, yv], 0),
                                                 fd_jacobian(field, [X, yv], 1))),
                    lambda j=jax_jacobian: getattr(jax, j)(jfield, argnums=(0, 1))(X, yv))
        yield Check("jacobian(f, mode=%r) of a dict output" % mode,
                    ad.jacobian(named_field, mode=mode)(X, yv),
                    fd_jacobian(named_field, [X, yv], 0),
                    lambda j=jax_jacobian: getattr(jax, j)(jnamed_field)(X, yv))
        yield Check("jacobian(f, 1, mode=%r) w.r.t. a float" % mode,
                    ad.jacobian(polar, 1, mode=mode)(2.0, 0.3),
                    fd_jacobian(polar, [2.0, 0.3], 1),
                    lambda j=jax_jacobian: getattr(jax, j)(jpolar, 1)(2.0, 0.3))
    yield Check("hessian(f)", ad.hessian(sine_cubed)(X), np.diag(sine_cubed_hessian_diagonal(X)),
                lambda: jax.hessian(jsine_cubed)(X), 1e-12, 1e-12)
    yield Check("jacobian(grad(f, argnums=(0, 1)))",
                ad.jacobian(ad.grad(rosenbrock, argnums=(0, 1)))(X, V),
                (np.diag(1200.0 * X ** 2 - 400.0 * V + 2.0), np.diag(-400.0 * X)),
                lambda: jax.jacfwd(jax.grad(jrosenbrock, argnums=(0, 1)))(X, V), 1e-12, 1e-10)


CASES = [case_grad_has_aux, case_value_and_grad_has_aux, case_hvp, case_linearize, case_vmap,
         case_elementwise_grad, case_keywords, case_vjp, case_jvp, case_jacobians]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__[5:])
def test_against_reference(case):
    """adcompiler against finite differences or exact values (runs without JAX)."""
    for check in case():
        assert_same(check.got, check.reference, check.rtol, check.atol, check.label)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__[5:])
def test_same_as_jax(case):
    """adcompiler against JAX on the same maths, to 1e-10 in float64."""
    pytest.importorskip("jax")
    for check in case():
        if check.jax is not None:
            assert_same(check.got, check.jax(), 1e-10, 1e-10, check.label)


# ---------------------------------------------------------------- check_grads


def bad_square(x):
    return np.sum(x ** 2)


ad.defvjp(bad_square, lambda g, ans, x: (g * x,))  # (wrong: the derivative is 2x)


def test_check_grads_as_in_jax():
    # JAX docs: check_grads(f, (x,), order=2, modes=["fwd", "rev"]) returns None or raises
    assert ad.check_grads(sine_cubed, (X,), order=2, modes=["fwd", "rev"]) is None
    assert ad.check_grads(rosenbrock, (X, V), 2) is None
    assert ad.check_grads(loss_and_metrics, (PARAMS, XS, YS), order=1) is None
    assert ad.check_grads(sigmoid, [X], 1, atol=None, rtol=None, eps=None) is None
    with pytest.raises(AssertionError):
        ad.check_grads(bad_square, (X,), order=1, modes=("rev",))
    if jax_check_grads is not None:
        assert jax_check_grads(jsine_cubed, (X,), order=2, modes=["fwd", "rev"]) is None

        @jax.custom_vjp
        def jbad_square(x):
            return jnp.sum(x ** 2)
        jbad_square.defvjp(lambda x: (jnp.sum(x ** 2), x), lambda x, g: (g * x,))
        with pytest.raises(AssertionError):
            jax_check_grads(jbad_square, (X,), order=1, modes=("rev",))


# ---------------------------------------------------------------- errors JAX users catch


ERRORS = [
    ("grad of a non-scalar output", lambda: ad.grad(np.sin)(X),
     lambda: jax.grad(jnp.sin)(X)),
    ("has_aux without a pair", lambda: ad.grad(sine_cubed, has_aux=True)(X),
     lambda: jax.grad(jsine_cubed, has_aux=True)(X)),
    ("jvp with bare arrays for primals", lambda: ad.jvp(sine_cubed, X, V),
     lambda: jax.jvp(jsine_cubed, X, V)),
    ("jvp with fewer tangents than primals", lambda: ad.jvp(polar, (2.0, 0.3), (1.0,)),
     lambda: jax.jvp(jpolar, (2.0, 0.3), (1.0,))),
    ("linearized function with fewer tangents", lambda: ad.linearize(polar, 2.0, 0.3)[1](1.0),
     lambda: jax.linearize(jpolar, 2.0, 0.3)[1](1.0)),
    ("vmap with in_axes of the wrong type", lambda: ad.vmap(np.sin, in_axes="x")(X),
     lambda: jax.vmap(jnp.sin, in_axes="x")(X)),
    ("check_grads with a bare array for args", lambda: ad.check_grads(sine_cubed, X, 1),
     lambda: jax_check_grads(jsine_cubed, X, 1)),
]


@pytest.mark.parametrize("what, ours, theirs", ERRORS, ids=[e[0] for e in ERRORS])
def test_type_errors_as_in_jax(what, ours, theirs):
    """Where JAX raises TypeError, so does adcompiler (AdTypeError: an AdError and a TypeError)."""
    with pytest.raises(TypeError) as caught:
        ours()
    assert isinstance(caught.value, ad.AdError)
    if jax is not None:
        with pytest.raises(TypeError):
            theirs()


def test_vmap_misuse_is_an_aderror():
    # (JAX raises ValueError for these; adcompiler an AdError naming the argument)
    with pytest.raises(ad.AdError, match="argument 0 along axis 0, but it has rank 0"):
        ad.vmap(np.sin)(2.0)
    with pytest.raises(ad.AdError, match="argument 0 has 4; argument 1 has 3"):
        ad.vmap(np.multiply)(YS, X)
    with pytest.raises(ad.AdError, match="1 entries for 2 positional arguments"):
        ad.vmap(np.multiply, in_axes=(0,))(X, X)
    with pytest.raises(ad.AdError, match="does not match the structure"):
        ad.vmap(lambda p: p["a"], in_axes=({"b": 0},))({"a": X})
    with pytest.raises(ad.AdError, match="out_axes None for the output, which differs"):
        ad.vmap(np.sin, out_axes=None)(X)
    with pytest.raises(ad.AdError, match="size 0"):
        ad.vmap(np.sin)(np.ones((0, 2)))
    with pytest.raises(ad.AdTypeError, match="wrt or argnums"):
        ad.grad(rosenbrock, 1, argnums=1)


# ---------------------------------------------------------------- df.source, --version


def test_source_is_the_last_specialisation_and_source_generic_the_generic_code():
    def cubed_sum(x):
        return np.sum(x ** 3)
    df = ad.grad(cubed_sum)
    assert df.source == df.source_generic == ad.source(cubed_sum)  # (before any call)
    df(X)
    assert df.source == ad.source(cubed_sum, args=(X,)) != df.source_generic
    df(0.5)
    assert df.source == ad.source(cubed_sum, args=(0.5,))
    assert df.source_generic == ad.source(cubed_sum)


@pytest.mark.parametrize("command", [
    [os.path.join(os.path.dirname(sys.executable), "adcompiler"), "--version"],
    [sys.executable, "-m", "adcompiler", "--version"],
], ids=["console script", "python -m"])
def test_version(command):
    if not os.path.exists(command[0]):
        pytest.skip("the console script is not installed beside this Python")
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "adcompiler " + importlib.metadata.version("adcompiler")
    assert importlib.metadata.version("adcompiler") == ad.__version__


def test_functools_partial_as_in_jax_docs():
    # JAX docs: @functools.partial(jax.vmap, in_axes=(None, 0)) as a decorator
    @functools.partial(ad.vmap, in_axes=(None, 0))
    def predict(w, x):
        return np.tanh(x @ w)
    np.testing.assert_allclose(predict(W, XS), np.tanh(XS @ W), rtol=1e-12)
