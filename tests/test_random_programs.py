"""Randomly generated straight-line and looping programs (seeded, so failures reproduce), each
checked against central finite differences in reverse and forward mode. They exercise the
optimiser, broadcasting, uniform adjoints and the tape in combinations nobody wrote by hand."""
import importlib.util
import os

import numpy as np
import pytest
from conftest import fd_grad

import adcompiler as ad

UNARY = ["np.sin({})", "np.tanh({})", "np.exp(0.3 * {})", "({}) ** 2", "np.cos({}) * 0.5", "-({})",
         "np.sqrt(({}) ** 2 + 1.0)", "np.maximum({}, 0.1)"]
BINARY = ["({}) + ({})", "({}) - ({})", "({}) * ({})", "({}) / (1.5 + ({}) ** 2)"]
REDUCE = ["np.sum({}, axis=0)", "np.mean({}, axis=1, keepdims=True)", "np.max({}, axis=1)",
          "np.sum({}, axis=1)[:, None]", "({})[0]", "({})[:, 1:]  * 1.0 + ({})[:, :1]"]


def make_program(seed):
    """Source of ``def f(a, b, c)``: a (3, 4) and b (4,) and c a float, with named intermediates."""
    rng = np.random.RandomState(seed)
    names = ["a", "b", "c"]
    lines = []
    loop = rng.rand() < 0.4
    for k in range(rng.randint(3, 8)):
        kind = rng.rand()
        x, y = rng.choice(names), rng.choice(names)
        if kind < 0.35:
            expr = rng.choice(UNARY).format(x)
        elif kind < 0.8:
            expr = rng.choice(BINARY).format(x, y)
        else:
            expr = "np.where({} > 0, {}, 0.5 * ({}))".format(x, y, x)
        lines.append("    v%d = %s" % (k, expr))
        names.append("v%d" % k)
    if rng.rand() < 0.5:  # a branch on a data value
        x, y = rng.choice(names), rng.choice(names)
        lines.append("    if np.sum(%s) > 0.0:\n        w = %s * 2.0\n    else:\n        w = np.sin(%s)" % (x, y, x))
        names.append("w")
    if rng.rand() < 0.4:  # an element written in place
        x, y = rng.choice(names[3:] or ["a"]), rng.choice(names)
        lines.append("    z = np.zeros((3, 4)) + %s\n    z[1] = z[1] * np.mean(%s)\n    z[:, 0] += 1.0" % (x, y))
        names.append("z")
    if rng.rand() < 0.3:  # a while loop with a data-independent trip count and a helper call
        x = rng.choice(names)
        lines.append("    q = %s\n    n = 0\n    while n < 2:\n        q = helper(q, c)\n        n += 1" % x)
        names.append("q")
    body = "\n".join(lines)
    last = names[-1]
    out = rng.choice(REDUCE).format(*(["(a + {})".format(last)] * 2)) if rng.rand() < 0.5 else "a * " + last
    src = ("import numpy as np\n\ndef helper(u, k):\n    return np.tanh(u * k) + u * 0.5\n\n"
           "def f(a, b, c):\n" + body + "\n    r = %s\n" % out)
    if loop:
        src += "    s = 0.0\n    for i in range(3):\n        s = s * 0.5 + np.sum(np.tanh(r * (i + 1))) * c\n        r = r * 0.9\n    return s\n"
    else:
        src += "    return np.sum(r * r)\n"
    return src


COUNT = int(os.environ.get("ADCOMPILER_RANDOM_PROGRAMS", 60))


def load(tmp_path, name, src):
    """Import ``src`` from a file (so its functions have source) and return the module."""
    path = tmp_path / (name + ".py")
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_both_modes(fn, args, tangents, src):
    """Reverse-mode gradients against central differences, the jvp along ``tangents`` against a
    directional difference, and the Hessian-vector product (forward mode over the generated
    gradient) against a directional difference of the gradient."""
    every = tuple(range(len(args)))
    grads = ad.grad(fn, wrt=every)(*args)
    for pos, g in enumerate(grads):
        np.testing.assert_allclose(np.asarray(g, dtype=float), fd_grad(fn, args, pos), rtol=2e-4, atol=2e-5,
                                   err_msg="argument %d\n%s" % (pos, src))
    _, t = ad.jvp(fn, args, tangents)
    eps = 1e-6
    hi = fn(*[a + eps * d for a, d in zip(args, tangents)])
    lo = fn(*[a - eps * d for a, d in zip(args, tangents)])
    assert float(t) == pytest.approx((hi - lo) / (2 * eps), rel=2e-4, abs=2e-5), src
    _, hvp = ad.jvp(ad.grad(fn, wrt=every), args, tangents)
    eps = 1e-5
    hi = ad.grad(fn, wrt=every)(*[a + eps * d for a, d in zip(args, tangents)])
    lo = ad.grad(fn, wrt=every)(*[a - eps * d for a, d in zip(args, tangents)])
    for pos in every:
        np.testing.assert_allclose(np.asarray(hvp[pos], dtype=float), (np.asarray(hi[pos]) - lo[pos]) / (2 * eps),
                                   rtol=1e-3, atol=1e-4, err_msg="Hessian-vector product, argument %d\n%s" % (pos, src))


@pytest.mark.parametrize("seed", range(COUNT))
def test_random_program(tmp_path, seed):
    src = make_program(seed)
    f = load(tmp_path, "random_program_%d" % seed, src).f
    rng = np.random.RandomState(1000 + seed)
    args = [rng.randn(3, 4), rng.randn(4), float(rng.randn())]
    with np.errstate(all="ignore"):
        if not np.isfinite(f(*args)):
            pytest.skip("this random program overflows at these inputs")
        check_both_modes(f, args, [rng.randn(3, 4), rng.randn(4), float(rng.randn())], src)


LOOP_STEPS = [
    "h = np.tanh(h @ W + x[{i}])",
    "h = h * 0.9 + np.sin(x[{i}]) * h[0]",
    "acc = acc + np.sum(h * x[{i}])",
    "acc = acc * 0.5 + np.max(h)",
    "h = np.where(h > 0, h, 0.1 * h) + acc * 0.01",
]


def make_loop_program(seed):
    """``def g(W, x, h0)``: an RNN-like loop over the rows of x (5, 3) with W (3, 3)."""
    rng = np.random.RandomState(seed)
    steps = [rng.choice(LOOP_STEPS) for _ in range(rng.randint(1, 4))]
    inner = "\n".join("        " + st.format(i="t") for st in steps)
    extra = ""
    if rng.rand() < 0.4:
        extra += "        if np.sum(h) > 3.0:\n            break\n"
    if rng.rand() < 0.4:
        extra += "        for j in range(t % 2 + 1):\n            acc = acc + np.sum(h[j:]) * 0.1\n"
    return ("import numpy as np\n\ndef g(W, x, h0):\n    h = h0\n    acc = 0.0\n"
            "    for t in range(x.shape[0]):\n" + inner + "\n" + extra +
            "    return np.sum(h ** 2) + acc + np.sum(np.mean(W @ W.T, axis=0))\n")


@pytest.mark.parametrize("seed", range(COUNT))
def test_random_loop_program(tmp_path, seed):
    src = make_loop_program(seed)
    g = load(tmp_path, "random_loop_%d" % seed, src).g
    rng = np.random.RandomState(2000 + seed)
    args = [rng.randn(3, 3) * 0.5, rng.randn(5, 3), rng.randn(3) * 0.5]
    check_both_modes(g, args, [rng.randn(3, 3), rng.randn(5, 3), rng.randn(3)], src)


FILL_STEPS = [
    "out[i] = x[i] * s + math.sin(s)",
    "out[i] += x[i - 1] * x[i] if i > 0 else x[i]",
    "s = s + math.tanh(x[i]) * 0.5",
    "rows.append(x * (x[i] * s))",
    "s = s * 0.8 + x[i] ** 2",
]


def make_fill_program(seed):
    """``def k(x, s0)`` over a vector x (6,) and a float s0: arrays and lists filled in a loop."""
    rng = np.random.RandomState(seed)
    steps = [rng.choice(FILL_STEPS) for _ in range(rng.randint(2, 5))]
    body = "\n".join("        " + st for st in steps)
    guard = ""
    if rng.rand() < 0.3:
        guard += "        if x[i] < -1.5:\n            continue\n"
    if rng.rand() < 0.3:
        guard += "        if s > 4.0:\n            return s + np.sum(out)\n"
    return ("import math\nimport numpy as np\n\ndef k(x, s0):\n    out = np.zeros(x.shape[0])\n"
            "    rows = [x * 0.0]\n    s = s0\n    for i in range(x.shape[0]):\n" + guard + body + "\n"
            "    return np.sum(out ** 2) + s + np.sum(np.stack(rows) ** 2)\n")


@pytest.mark.parametrize("seed", range(COUNT))
def test_random_fill_program(tmp_path, seed):
    src = make_fill_program(seed)
    k = load(tmp_path, "random_fill_%d" % seed, src).k
    rng = np.random.RandomState(3000 + seed)
    args = [rng.randn(6), float(rng.randn())]
    check_both_modes(k, args, [rng.randn(6), float(rng.randn())], src)


STRUCT_STEPS = [
    "u, v = pair(u, p['w'])",
    "u = u + sum(np.sin(u * q) for q in (0.5, 1.5))",
    "u = scale(u) * p['b']",
    "u = np.stack([u[j] * p['w'] for j in range(2)]).sum(axis=0)",
    "u = block(u, p['w'])",
    "v = v + np.sum(u) * p['b']",
    "u = looped(u, p['w'])",
]


def make_struct_program(seed):
    """``def m(p, x)`` with p = {'w': (3,), 'b': float} and x (3,)."""
    rng = np.random.RandomState(seed)
    steps = [rng.choice(STRUCT_STEPS) for _ in range(rng.randint(2, 6))]
    body = "\n".join("    " + st for st in steps)
    return ("import numpy as np\nimport adcompiler as ad\n\n"
            "def pair(a, w):\n    return a * w + 0.1, np.sum(np.tanh(a))\n\n"
            "@ad.checkpoint\ndef block(a, w):\n    return np.tanh(a * w) + a\n\n"
            "def looped(a, w):\n    for j in range(2):\n        a = np.tanh(a * w) + np.sum(a ** 2) * 0.1\n"
            "    return a\n\n"
            "def m(p, x):\n    factor = p['b'] * 0.5\n"
            "    def scale(t):\n        return t * factor + 0.2\n"
            "    u = x\n    v = 0.0\n" + body + "\n    return np.sum(u ** 2) + v * v\n")


@pytest.mark.parametrize("seed", range(COUNT))
def test_random_structured_program(tmp_path, seed):
    src = make_struct_program(seed)
    m = load(tmp_path, "random_struct_%d" % seed, src).m
    rng = np.random.RandomState(4000 + seed)
    p = {"w": rng.randn(3) * 0.7, "b": float(rng.randn()) * 0.7}
    x = rng.randn(3)
    gp, gx = ad.grad(m, wrt=(0, 1))(p, x)
    np.testing.assert_allclose(gx, fd_grad(m, [p, x], 1), rtol=2e-4, atol=2e-5, err_msg=src)
    np.testing.assert_allclose(gp["w"], fd_grad(lambda w: m(dict(p, w=w), x), [p["w"]], 0), rtol=2e-4, atol=2e-5,
                               err_msg=src)
    assert gp["b"] == pytest.approx(fd_grad(lambda b: m(dict(p, b=b), x), [p["b"]], 0), rel=2e-4, abs=2e-5), src
    t = rng.randn(3)
    _, tan = ad.jvp(m, (p, x), ({"w": np.zeros(3), "b": 0.0}, t))
    eps = 1e-6
    assert float(tan) == pytest.approx((m(p, x + eps * t) - m(p, x - eps * t)) / (2 * eps), rel=2e-4, abs=2e-5), src
    grad_x = ad.grad(m, wrt=1)
    _, hvp = ad.jvp(grad_x, (p, x), (None, t))   # forward over the generated gradient (tapes, subroutines)
    eps = 1e-5
    np.testing.assert_allclose(hvp, (grad_x(p, x + eps * t) - grad_x(p, x - eps * t)) / (2 * eps), rtol=1e-3,
                               atol=1e-4, err_msg="Hessian-vector product\n" + src)


@pytest.mark.parametrize("seed", range(COUNT))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_optimised_code_gives_the_bits_of_unoptimised_code(tmp_path, seed, dtype):
    """Every optimisation (shapes and dtypes resolved at generation time, constants as 0-d arrays,
    results built in place, ...) computes the same operations on the same values: the gradients
    are bit for bit those of the plain generated code, of the argument's dtype, and the
    arguments are left as they were."""
    src = make_program(seed)
    f = load(tmp_path, "bits_program_%d" % seed, src).f
    rng = np.random.RandomState(2000 + seed)
    args = [rng.randn(3, 4).astype(dtype), rng.randn(4).astype(dtype), float(rng.randn())]
    before = [np.copy(a) for a in args]
    with np.errstate(all="ignore"):
        got = ad.grad(f, wrt=(0, 1, 2))(*args)
        plain = ad.grad(f, wrt=(0, 1, 2), optimize=False)(*args)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)
    for g, p, a in zip(got, plain, args):
        assert type(g) is type(a) and np.shape(g) == np.shape(a) and np.asarray(g).dtype == np.asarray(a).dtype, src
        np.testing.assert_array_equal(g, p, err_msg=src)
