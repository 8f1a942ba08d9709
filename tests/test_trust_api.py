"""Trust at the API: what ad.grad and the other transforms accept as the function, which arguments
and outputs they accept, and the refusals (an ad.AdError naming the object and what to do) for
everything else. Right values are checked against exact formulas or central finite differences."""
import functools
import math

import numpy as np
import pytest
from conftest import fd_grad

import adcompiler as ad

pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")


def refusal(thunk, *words):
    """The AdError ``thunk()`` raises; its message names every one of ``words``."""
    with pytest.raises(ad.AdError) as info:
        thunk()
    message = str(info.value)
    for w in words:
        assert w in message, (w, message)
    return message


# ---- 1. the function: callables without source, partials, callable objects, methods ----------

def test_numpy_ufunc_and_math_function_through_their_rules():
    assert ad.grad(np.sin)(1.0) == pytest.approx(math.cos(1.0), rel=1e-15)
    assert ad.grad(math.exp)(1.0) == pytest.approx(math.e, rel=1e-15)
    assert ad.grad(math.log)(2.0) == pytest.approx(0.5, rel=1e-15)
    assert ad.grad(np.hypot, wrt=(0, 1))(3.0, 4.0) == pytest.approx((0.6, 0.8), rel=1e-15)
    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(ad.grad(np.sum)(x), np.ones(3))
    np.testing.assert_allclose(ad.grad(np.linalg.norm)(x), x / np.linalg.norm(x), rtol=1e-14)
    np.testing.assert_allclose(ad.jacobian(np.tanh)(x), np.diag(1 - np.tanh(x) ** 2), rtol=1e-14)
    out, t = ad.jvp(np.sin, (x,), (np.ones(3),))
    np.testing.assert_allclose(out, np.sin(x))
    np.testing.assert_allclose(t, np.cos(x), rtol=1e-14)
    out, pullback = ad.vjp(np.exp, x)
    np.testing.assert_allclose(pullback(np.array([1.0, 2.0, 3.0]))[0], np.exp(x) * [1.0, 2.0, 3.0], rtol=1e-14)
    assert ad.hessian(math.exp)(1.0) == pytest.approx(math.e, rel=1e-12)
    assert ad.hessian(np.sin)(0.5) == pytest.approx(-math.sin(0.5), rel=1e-12)
    assert ad.grad(ad.grad(np.cos))(0.5) == pytest.approx(-math.cos(0.5), rel=1e-12)
    assert ad.grad(np.floor)(1.5) == 0.0  # non-differentiable by the table: zero, explicitly


def test_the_generated_wrapper_is_readable_source():
    text = ad.source(np.sin)
    assert "np.sin(x)" in text and "np.cos(x)" in text
    assert "math.exp(x)" in ad.source(math.exp)
    text = ad.source(functools.partial(two, y=2.0))
    assert "def dpartial_two(x, *, y=default_y, z=default_z):" in text and "two_backward(" in text


def two(x, y, z=1.0):
    return x * y ** 2 * z


def test_partial_binds_its_arguments():
    assert ad.grad(functools.partial(two, y=2.0))(3.0) == 4.0 * 1.0
    p = functools.partial(two, 3.0)  # remaining: (y, z=1.0)
    assert ad.grad(p)(2.0) == 12.0
    assert ad.grad(p, wrt=(0, 1))(2.0, 5.0) == (60.0, 12.0)
    assert ad.grad(p, wrt="z")(2.0, 5.0) == 12.0
    kw = functools.partial(two, y=2.0)  # remaining: (x, *, y=2.0, z=1.0): keywords still apply
    assert ad.grad(kw)(3.0, y=3.0) == 9.0
    assert ad.grad(kw)(3.0, z=2.0) == 8.0
    assert ad.value_and_grad(functools.partial(two, z=2.0), wrt="y")(1.0, 3.0) == (18.0, 12.0)
    refusal(lambda: ad.grad(kw, wrt="y")(3.0), "wrt='y'", "x")  # y is keyword-only in the partial


def configured(x, a=1.0, **config):
    return np.sum(config.get("scale", 1.0) * x ** 2 * a) + config.get("shift", 0.0)


def test_partial_keywords_that_the_function_takes_in_its_kwargs():
    # (the partial's signature does not show them: they were once dropped, a silent wrong value)
    x = np.array([1.0, -2.0])
    p = functools.partial(configured, scale=3.0, a=2.0)
    np.testing.assert_allclose(ad.grad(p)(x), 12.0 * x)
    np.testing.assert_allclose(ad.grad(p)(x, scale=0.5), 2.0 * x)  # (overridden at the call)
    value, g = ad.value_and_grad(p)(x, shift=5.0)
    assert value == p(x, shift=5.0) == 35.0
    np.testing.assert_allclose(g, 12.0 * x)
    out, t = ad.jvp(p, (x,), (np.ones(2),))
    assert (out, t) == (30.0, -12.0)
    np.testing.assert_allclose(ad.hessian(functools.partial(configured, scale=2.0))(x),
                               4.0 * np.eye(2))
    method = functools.partial(Quadratic(2.0).keywords, w=np.array([2.0, 3.0]))
    np.testing.assert_allclose(ad.grad(method)(x), [4.0, 6.0])
    refusal(lambda: ad.grad(functools.partial(configured, **{"not a name": 1.0}))(x),
            "not a name", "binds the keyword")


def test_nested_partials_and_partials_of_rules():
    inner = functools.partial(two, 3.0)
    inner.note = "kept as a partial of a partial"  # (not flattened by functools)
    outer = functools.partial(inner, 2.0)
    assert ad.grad(outer)(5.0) == 12.0
    x = np.array([3.0, 4.0])
    np.testing.assert_allclose(ad.grad(functools.partial(np.linalg.norm, ord=2))(x), x / 5.0)
    np.testing.assert_allclose(ad.jacobian(functools.partial(np.sum, axis=0))(np.ones((2, 3))),
                               np.stack([np.eye(3), np.eye(3)], axis=1))


class Quadratic:
    def __init__(self, w):
        self.w = w

    def __call__(self, x):
        return self.w * x ** 2

    def scaled(self, x):
        return self.w * np.sum(x ** 3)

    def keywords(self, x, **extra):
        return self.w * np.sum(x * extra["w"])

    @property
    def w2(self):
        return self.w ** 2


class Decorated:
    k = 3.0

    @ad.grad
    @staticmethod
    def cube(x):
        return x ** 3

    @ad.grad
    @classmethod
    def square(cls, x):
        return cls.k * x ** 2


def test_callable_objects_methods_staticmethods_and_classmethods():
    assert ad.grad(Quadratic(3.0))(2.0) == 12.0
    x = np.array([1.0, -2.0])
    np.testing.assert_allclose(ad.grad(Quadratic(2.0).scaled)(x), 6.0 * x ** 2)
    assert Decorated.cube(2.0) == 12.0 and Decorated().cube(2.0) == 12.0
    assert Decorated.square(2.0) == 12.0 and Decorated().square(2.0) == 12.0
    assert ad.grad(Decorated.__dict__["cube"].derived.fn)(2.0) == 12.0


@pytest.mark.parametrize("fn, words", [
    (Quadratic.w2, ["ad.grad(Quadratic.w2)", "property", "Quadratic.w2.fget"]),
    (42, ["ad.grad(42)", "not a function"]),
    ("f", ["ad.grad('f')", "str", "not a function"]),
    (None, ["ad.grad(None)", "not a function"]),
    (Quadratic, ["Quadratic is a class"]),
    (np.vectorize(np.sin), ["vectorize object", "no derivative rule and no Python source", "ad.defvjp"]),
    (np.frexp, ["numpy.frexp", "no derivative rule", "ad.defvjp"]),
])
def test_what_is_not_a_differentiable_function_is_refused(fn, words):
    refusal(lambda: ad.grad(fn)(1.0), *words)


def square(t):
    return t ** 2


def calls_poly1d(x):
    g = np.poly1d([1.0, 2.0, 3.0])
    return np.sum(g(x))


def test_a_library_callable_object_inside_the_function_is_refused_not_traced():
    refusal(lambda: ad.grad(calls_poly1d)(np.array([0.5, -1.0])), "poly1d", "no derivative rule")


def test_every_transform_refuses_the_same_way():
    for name in ("grad", "value_and_grad", "jacobian", "hessian"):
        refusal(lambda: getattr(ad, name)(Quadratic.w2), "ad.%s(Quadratic.w2)" % name, "property")
    refusal(lambda: ad.vjp(42, 1.0), "ad.vjp(42)")
    refusal(lambda: ad.jvp("f", (1.0,), (1.0,)), "ad.jvp('f')")
    refusal(lambda: ad.source(np.frexp), "ad.source(numpy.frexp)")


def test_decorator_form_still_works_without_a_function():
    @ad.grad(wrt="y")
    def h(x, y):
        return x * y * y
    assert h(2.0, 3.0) == 12.0


# ---- 4. outputs: a real float scalar, or an array of size 1 -----------------------------------

def keepdims_sum(x):
    return np.sum(x ** 2, keepdims=True)


def full_contraction(x):
    return np.tensordot(x, x, 2)


def last_entry(x):
    return x[-1:] * np.sum(x)


def test_outputs_of_size_one_are_scalars():
    x = np.array([[1.0, 2.0, -0.5], [0.3, -1.0, 2.0]])
    np.testing.assert_allclose(ad.grad(keepdims_sum)(x), 2 * x)
    np.testing.assert_allclose(ad.grad(full_contraction)(x), 2 * x)
    value, g = ad.value_and_grad(keepdims_sum)(x)
    assert value.shape == (1, 1) and value[0, 0] == pytest.approx(np.sum(x ** 2))
    v = np.array([0.5, 2.0, -1.0])
    np.testing.assert_allclose(ad.grad(last_entry)(v), fd_grad(last_entry, [v], 0), rtol=1e-7)
    np.testing.assert_allclose(ad.hessian(keepdims_sum)(v), 2 * np.eye(3))
    single = np.array([3.0])
    np.testing.assert_allclose(ad.grad(ad.grad(last_entry))(single), [2.0])


def returns_allclose(x):
    return np.allclose(x, 1.0)


def returns_comparison(x):
    return np.sum(x) > 0


def returns_int(x):
    return 3


def returns_none(x):
    x * 2.0


def returns_string(x):
    return "loss"


def returns_complex(x):
    return (x - 2.0) ** 0.5  # (a negative Python float to a fractional power is complex)


def returns_vector(x):
    return x ** 2


@pytest.mark.parametrize("fn, arg, shown", [
    (returns_allclose, np.array([0.5, 1.0]), "False (bool)"),
    (returns_comparison, np.array([0.5, 1.0]), "np.True_ (bool)"),
    (returns_int, 1.0, "3 (int)"),
    (returns_none, 1.0, "None (NoneType)"),
    (returns_string, 1.0, "'loss' (str)"),
    (returns_complex, 1.0, "(complex)"),
    (returns_vector, np.array([1.0, 2.0]), "an array of shape (2,)"),
])
def test_outputs_that_are_not_real_float_scalars_are_refused(fn, arg, shown):
    refusal(lambda: ad.grad(fn)(arg), "real float scalar output", fn.__name__, shown)
    refusal(lambda: ad.value_and_grad(fn)(arg), "real float scalar output", shown)


# ---- 2. arguments of a type the generated code does not know -------------------------------

def sum_of_squares(x):
    return np.sum(x ** 2)


def weighted(w, X, y):
    return np.sum((X @ w - y) ** 2)


def sum_of_list(xs, scale=1.0):
    return scale * sum(np.sum(x ** 2) for x in xs)


class Marked(np.ndarray):
    pass


class ArrayLike:
    """Another library's array, as NumPy sees it."""

    def __init__(self, data):
        self.data = np.asarray(data, dtype=float)

    def __array__(self, dtype=None, copy=None):
        return self.data


class Dispatching(ArrayLike):
    def __array_function__(self, func, types, args, kwargs):
        return NotImplemented


class Params:
    def __init__(self, w, b):
        self.w = w
        self.b = b


def params_loss(p, x):
    return np.sum((p.w * x + p.b) ** 2)


@pytest.mark.parametrize("value, words", [
    (np.array([1.0, 2.0]).view(Marked), ["x is a", "Marked", "subclass of np.ndarray", "np.asarray(x)"]),
    (np.asarray([[1.0, 2.0]]).view(np.matrix), ["x is a np.matrix", "matrix product", "np.asarray(x)"]),
    (np.ma.array([1.0, 2.0], mask=[0, 1]), ["x is a masked array", "mask", "np.ma.filled(x, 0.0)"]),
    (np.ma.array([1.0, 2.0]), ["masked array"]),
    (ArrayLike([1.0, 2.0]), ["x is a", "ArrayLike", "__array__", "np.asarray(x)"]),
    (Dispatching([1.0, 2.0]), ["Dispatching", "__array_function__"]),
])
def test_unknown_array_types_are_refused_in_every_mode(value, words):
    refusal(lambda: ad.grad(sum_of_squares)(value), "sum_of_squares", *words)
    refusal(lambda: ad.value_and_grad(sum_of_squares)(value), *words)
    refusal(lambda: ad.vjp(sum_of_squares, value), *words)
    refusal(lambda: ad.jvp(sum_of_squares, (value,), (np.ones(2),)), *words)
    refusal(lambda: ad.jacobian(sum_of_squares)(value), *words)
    refusal(lambda: ad.hessian(sum_of_squares)(value), *words)


def test_unknown_types_are_refused_where_not_differentiated_and_inside_containers():
    w, X, y = np.array([0.5, -1.0]), np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 0.0])
    refusal(lambda: ad.grad(weighted)(w, np.asmatrix(X), y), "X is a np.matrix")
    refusal(lambda: ad.grad(weighted)(w, X, np.ma.array(y, mask=[1, 0])), "y is a masked array")
    refusal(lambda: ad.grad(weighted)(w, X.view(Marked), y), "X is a", "Marked")
    xs = [np.array([1.0, 2.0]), np.array([3.0])]
    np.testing.assert_allclose(ad.grad(sum_of_list)(xs)[1], [6.0])  # (code for lists, then:)
    refusal(lambda: ad.grad(sum_of_list)([xs[0], np.ma.array([3.0])]), "xs[1] is a masked array")
    refusal(lambda: ad.grad(sum_of_list)((xs[0], {"a": np.asmatrix(X)})), "xs[1]['a'] is a np.matrix")
    refusal(lambda: ad.grad(sum_of_list, wrt=1)(xs + [ArrayLike([1.0])], 2.0), "xs[2] is a", "ArrayLike")
    p, x = Params(np.array([1.0, 2.0]), 0.5), np.array([1.0, -1.0])
    g = ad.grad(params_loss)(p, x)
    np.testing.assert_allclose(g.w, 2 * (p.w * x + p.b) * x)
    refusal(lambda: ad.grad(params_loss)(Params(np.ma.array([1.0, 2.0]), 0.5), x), "p.w is a masked array")
    refusal(lambda: ad.grad(params_loss, wrt=1)(Params(p.w, np.asmatrix(x)), x), "p.b is a np.matrix")


def test_objects_of_library_classes_and_number_subclasses_are_not_differentiated():
    import decimal

    class Real(float):
        pass
    refusal(lambda: ad.grad(sum_of_squares)(decimal.Decimal("1.5")), "decimal.Decimal", "cannot differentiate w.r.t. x")
    refusal(lambda: ad.grad(sum_of_squares)(Real(1.5)), "Real", "cannot differentiate w.r.t. x")
    refusal(lambda: ad.grad(sum_of_squares)(np.int64(3)), "not differentiable")
    # not differentiated: they pass through as they are
    assert ad.grad(lambda x, rng: x * 2.0, wrt=0)(1.5, np.random.RandomState(0)) == 2.0


def dict_loss(p):
    return np.sum(p["w"] ** 2) + p["b"] ** 2


def test_plain_arguments_still_work():
    from types import SimpleNamespace
    x = np.array([1.0, -2.0])
    np.testing.assert_allclose(ad.grad(sum_of_squares)(x), 2 * x)
    assert ad.grad(sum_of_squares)(np.float64(1.5)) == 3.0
    assert ad.grad(sum_of_squares)(np.float32(1.5)) == np.float32(3.0)
    g = ad.grad(params_loss)(SimpleNamespace(w=1.0, b=0.5), x)
    assert g.w == pytest.approx(2 * np.sum((x + 0.5) * x))
    g = ad.grad(dict_loss)({"w": x, "b": 3.0, "name": "layer", "steps": 2})
    np.testing.assert_allclose(g["w"], 2 * x)
    assert g["b"] == 6.0


def test_dask_arrays_are_refused_until_supported():
    da = pytest.importorskip("dask.array")
    w, X, y = np.array([0.5, -1.0]), np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 0.0])
    message = refusal(lambda: ad.grad(weighted)(w, da.from_array(X), y), "X is a dask.array", "X.compute()")
    assert "__array" in message
    refusal(lambda: ad.grad(weighted)(da.from_array(w), X, y), "w is a dask.array")


# ---- 3. complex values: differentiated in every mode (docs/complex.md, tests/test_complex.py) --

def modulus(z):
    return np.abs(z)


@pytest.mark.parametrize("z", [np.array([3.0 + 4.0j]), 1.0 + 2.0j, np.complex128(1.0 + 1.0j)])
def test_complex_arguments_in_every_mode(z):
    """grad, value_and_grad and vjp give conj(z) / |z| (JAX's convention), jvp the directional
    derivative Re(conj(z) t) / |z|; the Jacobian and Hessian are refused."""
    want = np.conj(z) / np.abs(z)
    np.testing.assert_allclose(ad.grad(modulus)(z), want)
    np.testing.assert_allclose(ad.value_and_grad(modulus)(z)[1], want)
    np.testing.assert_allclose(ad.vjp(modulus, z)[1](np.ones_like(modulus(z)))[0], want)
    np.testing.assert_allclose(ad.jvp(modulus, (z,), (1j * z,))[1], 0.0, atol=1e-12)  # (|z| along iz)
    np.testing.assert_allclose(ad.jvp(modulus, (z,), (z,))[1], np.abs(z))
    for mode in ("reverse", "forward"):  # (a Python complex: it does not stack into an array)
        refusal(lambda: ad.jacobian(modulus, mode=mode)(z), "complex", "not supported")
    refusal(lambda: ad.hessian(modulus)(z), "complex", "not supported")


def test_complex_values_not_differentiated_cotangents_and_tangents():
    """A complex argument held fixed is a complex value in the code (here the output becomes
    complex: grad refuses it); complex values inside containers, and complex tangents of real
    arguments, are refused; a complex cotangent is the pullback's linear input."""
    x = np.array([1.0, 2.0])
    refusal(lambda: ad.grad(weighted)(x, np.eye(2), np.array([1.0j, 0.0])),
            "grad needs a real float scalar output", "complex")
    refusal(lambda: ad.grad(sum_of_list)([x, 1j]), "xs[1] is complex")
    out, pullback = ad.vjp(np.sin, x)
    np.testing.assert_allclose(pullback(np.array([1.0 + 1.0j, 0.0]))[0], [np.cos(1.0), 0.0])
    refusal(lambda: ad.jvp(np.sin, (x,), (np.array([1.0j, 0.0]),)), "the tangent of x is complex")


# ---- 6. code that reads the function's local variables implicitly --------------------------

def by_eval(x):
    return eval("x * 2.0")


def by_locals(x):
    values = locals()
    return values["x"] * 2.0


def by_vars(x):
    return vars()["x"] * 3.0


def by_exec(x):
    out = []
    exec("out.append(x * 2.0)")
    return out[0]


def by_compile(x):
    return eval(compile("x * 2.0", "<expr>", "eval"))


def by_frame(x):
    import sys
    return sys._getframe().f_locals["x"] * 2.0


LOG = []


def logs_locals(x):
    LOG.append(sorted(locals()))  # (not differentiated: its result does not reach the output)
    return x * 2.0


def vars_of_object(x, obj):
    return x * len(vars(obj))


@pytest.mark.parametrize("fn, construct", [
    (by_eval, "eval(...)"), (by_locals, "locals(...)"), (by_vars, "vars(...)"), (by_exec, "exec(...)"),
    (by_compile, "eval(...)"), (by_frame, "sys._getframe(...)"),
])
def test_eval_exec_locals_and_vars_are_refused(fn, construct):
    message = refusal(lambda: ad.grad(fn)(1.5), "in %s" % fn.__name__, construct, "line", "eval('x * 2.0')")
    assert "reads the function's local variables" in message or "may change a value in place" in message
    refusal(lambda: ad.jvp(fn, (1.5,), (1.0,)), "in %s" % fn.__name__)
    refusal(lambda: ad.vjp(fn, 1.5), "in %s" % fn.__name__)


def test_reading_locals_where_no_gradient_flows_is_allowed():
    LOG.clear()
    assert ad.grad(logs_locals)(1.5) == 2.0 and LOG
    assert ad.grad(vars_of_object)(1.5, Params(1.0, 2.0)) == 2.0


# ---- 5. a source file edited after import -----------------------------------------------------

MODULE = '''\
from __future__ import annotations

import numpy as np

SCALE = 2.0


def decorate(fn):
    return fn


def make_closure(a):
    b = a * 2.0

    def inner(x):
        """A docstring
        on two lines."""
        def deeper(y: float) -> float:
            return y * a + b
        return deeper(x) ** 2
    return inner


class Base:
    def __init__(self, w):
        self.__w = w

    def loss(self, x):
        return self.__w * x ** 2

    def weight(self):
        return 1.0


class Child(Base):
    """A method using super()."""

    def loss(self, x):
        """Twice the base loss.

        (An indented docstring.)
        """
        k = super().weight()
        return 2.0 * k * x ** 2 + f"{x:.2f}".count("0") * 0.0


@decorate
def with_defaults(x, scale=SCALE, *, power=3):
    total = 0.0
    for k in range(power):
        total = total + scale * x ** k
    return total


def outer(c):
    class Local:
        def method(self, x):
            return c * x ** 2
    return Local()


SQUARE, CUBE = (lambda x: x ** 2), (lambda y: y ** 3)


def f(x):
    return x ** 2
'''


def load_module(tmp_path, name, text):
    import importlib.util
    import sys
    path = tmp_path / (name + ".py")
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module, path


def edit(path, old, new):
    import os
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    stat = os.stat(path)
    os.utime(path, (stat.st_atime + 5, stat.st_mtime + 5))  # (the same second: linecache must notice)


def test_unedited_sources_are_never_refused(tmp_path):
    m, _ = load_module(tmp_path, "unedited_module", MODULE)
    inner = m.make_closure(1.5)  # inner(x) = (1.5 x + 3) ** 2
    assert ad.grad(inner)(1.0) == pytest.approx(2 * 4.5 * 1.5)
    assert "__w" in ad.normalize(m.Base(3.0).loss)  # (a name mangled in its class)
    # (super() read through its __class__ cell: the base's method, called with self -- one
    # returning an expression is inlined, its self bound to ours)
    assert "weight_self = self" in ad.normalize(m.Child(3.0).loss)
    assert ad.grad(m.with_defaults)(2.0) == pytest.approx(2.0 * (1 + 2 * 2.0))
    assert ad.grad(m.outer(5.0).method)(1.0) == 10.0
    assert ad.grad(m.SQUARE)(3.0) == 6.0 and ad.grad(m.CUBE)(2.0) == 12.0
    assert ad.hessian(m.f)(1.0) == 2.0 and ad.grad(ad.grad(m.f))(1.0) == 2.0


def test_functions_defined_in_notebook_cells_are_not_refused():
    import linecache
    cell = "def cell_fn(x):\n    return x ** 3\n\nTWICE = lambda x: 2 * x ** 2\n"
    filename = "<ipython-input-7-0123456789ab>"
    linecache.cache[filename] = (len(cell), None, cell.splitlines(True), filename)
    namespace = {}
    exec(compile(cell, filename, "exec"), namespace)
    assert ad.grad(namespace["cell_fn"])(2.0) == 12.0
    assert ad.grad(namespace["TWICE"])(2.0) == 8.0


@pytest.mark.parametrize("target, old, new", [
    (lambda m: m.f, "return x ** 2\n", "return x ** 3\n"),
    (lambda m: m.make_closure(1.5), "return deeper(x) ** 2", "return deeper(x) ** 3"),
    (lambda m: m.make_closure(1.5), "return y * a + b", "return y * a - b"),
    (lambda m: m.Child(3.0).loss, "return 2.0 * k", "return 3.0 * k"),
    (lambda m: m.Base(3.0).loss, "self.__w * x ** 2", "self.__w * x ** 3"),
    (lambda m: m.with_defaults, "scale * x ** k", "scale * x ** (k + 1)"),
    (lambda m: m.outer(5.0).method, "return c * x ** 2", "return c * x ** 4"),
    (lambda m: m.SQUARE, "(lambda x: x ** 2)", "(lambda x: x ** 4)"),
    (lambda m: m.CUBE, "(lambda y: y ** 3)", "(lambda y: y ** 4)"),
    (lambda m: m.f, "\n\nclass Base:", "\n\ndef other(x):\n    return x\n\n\nclass Base:"),  # (lines moved)
])
def test_a_source_edited_after_import_is_refused(tmp_path, target, old, new):
    m, path = load_module(tmp_path, "edited_module_%d" % abs(hash(old + new)), MODULE)
    fn = target(m)
    edit(path, old, new)
    refusal(lambda: ad.normalize(fn), "changed after it was imported", str(path), "importlib.reload")
    refusal(lambda: ad.grad(fn)(1.0), "changed after it was imported")


def test_edits_that_do_not_change_the_code_are_not_refused(tmp_path):
    m, path = load_module(tmp_path, "commented_module", MODULE)
    edit(path, "def f(x):\n    return x ** 2\n", "def f(x):\n    # squared\n    return  x**2   # (spacing)\n")
    assert ad.grad(m.f)(3.0) == 6.0
    edit(path, "b = a * 2.0\n", "b = a * 2.0  # (a comment)\n")
    edit(path, "    return y * a + b", "    return (y * a\n                    + b)")  # (the last line of a function)
    assert ad.grad(m.make_closure(1.5))(1.0) == pytest.approx(2 * 4.5 * 1.5)
