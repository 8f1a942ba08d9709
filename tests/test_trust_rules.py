"""Issue 14 ("Trust"), the rule-level classes: a gradient is right or an AdError names the call,
the construct and what to do instead. Arguments a rule would ignore, dtype changes, powers at
zero, np.r_/np.c_ and other subscripts that compute from their index, complex values inside
differentiated code, and np.vectorize with NumPy's other higher-order functions."""
import importlib.util
import textwrap

import numpy as np
import pytest
from conftest import check_all_modes, fd_grad

import adcompiler as ad
from adcompiler import rules
from adcompiler.rules.core import Table

SOURCE = '''
import math
import numpy as np
try:
    import scipy.special as sp
except ImportError:  # (SciPy is an optional extra: the tests of its rules are skipped)
    sp = None


def square(t):
    return t ** 2


def scaled_sine(a, b):
    return a * np.sin(b)


class Table:
    def __getitem__(self, k):
        return k * 2.0


TABLE = Table()
W = np.array([1.0 + 2.0j, 3.0])
VSQUARE = np.vectorize(square)
VSCALED = np.vectorize(scaled_sine)
VINT = np.vectorize(square, otypes=[int])
VFLOAT = np.vectorize(square, otypes=[np.float64])
VEXCLUDED = np.vectorize(scaled_sine, excluded={1})
VSIGNATURE = np.vectorize(np.dot, signature="(n),(n)->()")


def pair(t):
    return t, 2.0 * t


VPAIR = np.vectorize(pair)
'''


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    """A module of the functions these tests differentiate (adcompiler reads source)."""
    path = tmp_path_factory.mktemp("trust") / "trust_functions.py"
    path.write_text(SOURCE + "\n".join(textwrap.dedent(body) for body in FUNCTIONS.values()))
    spec = importlib.util.spec_from_file_location("trust_functions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FUNCTIONS = {}


def define(src):
    """Register the source of a function for the module ``m``; returns its name."""
    name = src.split("def ", 1)[1].split("(", 1)[0]
    FUNCTIONS[name] = src
    return name


def refused(call, *words):
    """The AdError ``call()`` raises; it names each of ``words`` and a file and line."""
    with pytest.raises(ad.AdError) as info:
        call()
    text = str(info.value)
    for w in words:
        assert w in text, (w, text)
    assert "line" in text, text
    return info.value


X3 = np.array([0.5, -1.2, 2.0])
M23 = np.array([[0.5, -1.2, 2.0], [0.3, 1.1, -0.7]])

# ---------------------------------------------------------------------------------------------
# 1. Arguments a rule does not handle


def _tables():
    if importlib.util.find_spec("scipy") is not None:
        rules.load_scipy_rules()
    return list(rules.TABLES) + [rules.methods.table]


def test_every_rule_parameter_is_read_differentiable_or_declared():
    """Walk every table: each parameter of each entry is read by the templates of every mode,
    differentiable, declared (zero=, harmless=, only=, the dtype), or accepted only at its
    default (Rule.unhandled), which every such parameter has."""
    seen = 0
    for table in _tables():
        for rule in table.rules.values():
            if rule.nondiff or rule.refusal:
                continue
            declared = set(rule.diff) | set(rule.zero) | set(rule.harmless) | set(rule.only) | {"dtype"}
            for p in rule.signature.params:
                seen += 1
                handled = p in declared or rule.read_in_every_mode(p)
                assert handled or p in rule.unhandled, (rule.name, p)
                if p in rule.unhandled:
                    assert p in rule.signature.defaults, "%s: %r is never accepted" % (rule.name, p)
            for p in rule.harmless:
                assert not rule.read_in_every_mode(p), (rule.name, p)
    assert seen > 300
    # what the derivatives ignore today, so accepted only at the default: out= of reductions,
    # np.array's ndmin=, np.linspace's retstep=, np.astype's device=
    unhandled = {p for table in _tables() for rule in table.rules.values() if not rule.nondiff
                 for p in rule.unhandled}
    assert unhandled <= {"out", "ndmin", "retstep", "device"}


def test_table_declarations_are_checked():
    table = Table("test")
    with pytest.raises(ValueError, match="not one of its parameters"):
        table.define(np.reshape, "a, shape", "np.reshape(g, np.shape(a))", linear=True, harmless=("order",))
    with pytest.raises(ValueError, match="need not be declared harmless"):
        table.define(np.squeeze, "a, axis=None", "np.squeeze(g, axis)", linear=True, harmless=("axis",))
    with pytest.raises(ValueError, match="default of 'order'"):
        table.define(np.ravel, "a, order='C'", "np.ravel(g, order)", linear=True, only=dict(order=("F",)))
    with pytest.raises(ValueError, match="may not be called site"):
        table.define(np.ravel, "a, site", "g", linear=True)
    with pytest.raises(ValueError, match="numpy.sin: its derivative template reads 'unbroadcas'"):
        table.define(np.sin, "x", "unbroadcas(g * np.cos(x), x)")  # (a misspelled helper)
    with pytest.raises(ValueError, match="reads 'y'"):
        table.elementwise(np.cos, "x", "-g * np.sin(y)")
    table.define(np.tan, "x", "g / np.cos(x) ** 2", jvp="t_x / np.cos(x) ** 2")  # (t_x: x's tangent)


UNHANDLED = {
    "np.sum(x, out=np.zeros(()))": "np.sum: the argument out=",
    "np.mean(x, axis=0, out=np.zeros(3))": "np.mean: the argument out=",
    "np.sum(x, where=x > 0.0)": "np.sum: the argument where=",
    "np.max(x, initial=-10.0)": "np.max: the argument initial=",
    "np.sum(np.reshape(x, (3, 2), order='A') * np.arange(6.0).reshape(3, 2))": "order='A'",
    "np.sum(np.ravel(x, 'K') * np.arange(6.0))": "order='K'",
    "np.sum(x.reshape(3, 2, order=ORDER) * np.arange(6.0).reshape(3, 2))": "order=ORDER",
    "np.sum(np.array(x, ndmin=3))": "np.array: the argument ndmin=3",
    "sp.logsumexp(x, return_sign=True)[0]": "return_sign=True",
    "np.exp(x, casting='unsafe').sum()": "np.exp: the argument casting=",
}


@pytest.mark.parametrize("expr", sorted(UNHANDLED))
def test_an_argument_the_rule_does_not_handle_is_refused(tmp_path, expr):
    """Never silently ignored: reverse and forward mode name the function and the argument."""
    if "sp." in expr:
        pytest.importorskip("scipy")
    path = tmp_path / "unhandled_case.py"
    imports = "import numpy as np\nimport scipy.special as sp\n" if "sp." in expr else "import numpy as np\n\n"
    path.write_text(imports + "ORDER = 'A'\n\n\ndef f(x):\n    return %s\n" % expr)
    spec = importlib.util.spec_from_file_location("unhandled_%d" % abs(hash(expr)), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x = M23.copy()
    err = refused(lambda: ad.grad(module.f)(x), "not handled by its derivative rule", UNHANDLED[expr])
    assert "unhandled_case.py, line 7" in str(err)
    refused(lambda: ad.jvp(module.f, (x,), (np.ones_like(x),)), UNHANDLED[expr])


define('''
def unhandled_without_gradient(x, c):
    return np.sum(c, where=c > 0.0) * np.sum(np.reshape(c, (3, 2), order='A')) * x
''')


def test_an_unhandled_argument_is_fine_where_no_gradient_flows(m):
    c = M23.copy()
    want = np.sum(c[c > 0]) * np.sum(c)
    assert ad.grad(m.unhandled_without_gradient)(1.5, c) == pytest.approx(want)


define('''
def logsumexp_weights(x, w):
    return sp.logsumexp(x, b=w)
''')
define('''
def logsumexp_broadcast_weights(x, w):
    return np.sum(sp.logsumexp(x, axis=1, b=w, keepdims=True) * x)
''')


def test_logsumexp_weights(m):
    """b is differentiated (not ignored): w * exp(x) / sum(w * exp(x)) w.r.t. x, exp(x) / sum(...) w.r.t. w."""
    pytest.importorskip("scipy")
    w = np.array([0.5, 2.0, 1.0])
    x = X3.copy()
    p = w * np.exp(x) / np.sum(w * np.exp(x))
    gx, gw = ad.grad(m.logsumexp_weights, wrt=(0, 1))(x, w)
    np.testing.assert_allclose(gx, p)
    np.testing.assert_allclose(gw, p / w)
    check_all_modes(m.logsumexp_weights, [x, w], wrt=0)
    check_all_modes(m.logsumexp_weights, [x, w], wrt=1)
    check_all_modes(m.logsumexp_broadcast_weights, [M23.copy(), np.array([[0.5], [2.0]])], wrt=(0, 1),
                    second_order=False)
    check_all_modes(m.logsumexp_broadcast_weights, [M23.copy(), np.array([[0.5], [2.0]])], wrt=1)


define('''
def reshape_fortran(x):
    return np.sum(np.reshape(x, (3, 2), order='F') ** 2 * np.arange(6.0).reshape(3, 2))
''')
define('''
def ravel_fortran(x):
    return np.sum(x.ravel('F') ** 3 * np.arange(6.0))
''')


@pytest.mark.parametrize("name", ["reshape_fortran", "ravel_fortran"])
def test_fortran_order(m, name):
    check_all_modes(getattr(m, name), [M23.copy()])


# ---------------------------------------------------------------------------------------------
# 2. dtype changes

define('''
def cast_to(x, dtype):
    return np.sum(x.astype(dtype) * x ** 2)
''')
define('''
def cast_like(x, y):
    return np.sum(np.asarray(x, dtype=y.dtype) * x) + np.sum(x, dtype=y.dtype)
''')
define('''
def full_like_of(x, a):
    return np.sum(np.full_like(a, x[0]) * x)
''')


@pytest.mark.parametrize("dtype, passes", [(np.int32, False), (bool, False), (np.uint8, False), (np.float32, True),
                                           (float, True), ("float64", True), (None, True)])
def test_a_dtype_known_at_run_time_is_decided_there(m, dtype, passes):
    """A cast to int or bool has a zero derivative, to a float dtype the identity's."""
    x = np.array([1.5, 2.7, 0.4])
    cast = x.astype(dtype)
    want = cast * 2 * x + (x ** 2 if passes else 0.0)
    np.testing.assert_allclose(ad.grad(m.cast_to)(x, dtype), want, rtol=1e-6)
    t = np.array([0.3, -1.0, 2.0])
    np.testing.assert_allclose(ad.jvp(m.cast_to, (x, dtype), (t, None))[1], np.dot(want, t), rtol=1e-6)
    hessian = np.diag(2 * cast + (4 * x if passes else 0.0))
    np.testing.assert_allclose(ad.hessian(m.cast_to)(x, dtype), hessian, rtol=1e-6)
    np.testing.assert_allclose(ad.hessian(m.cast_to, mode="reverse")(x, dtype), hessian, rtol=1e-6)


@pytest.mark.parametrize("like", [np.arange(3), np.ones(3, bool), np.ones(3, np.float32), np.ones(3)])
def test_a_dtype_taken_from_another_array(m, like):
    x = np.array([1.5, 2.7, 0.4])
    floating = like.dtype.kind == "f"
    np.testing.assert_allclose(ad.grad(m.cast_like)(x, like), (2 * x if floating else x.astype(like.dtype)) + floating,
                               rtol=1e-6)
    full = np.full_like(like, x[0]).astype(float)
    np.testing.assert_allclose(ad.grad(m.full_like_of)(x, like), full + np.r_[np.sum(x) * floating, 0.0, 0.0],
                               rtol=1e-6)
    if like.dtype != np.float32:  # (a float32 value moves by less than its precision under a finite-difference step)
        check_all_modes(m.cast_like, [x, like])
        check_all_modes(m.full_like_of, [x, like])


def test_a_complex_dtype_known_only_at_run_time_is_refused(m):
    x = np.array([1.5, 2.7, 0.4])
    refused(lambda: ad.grad(m.cast_to)(x, complex), "x.astype", "complex128", "not supported yet")
    for run in (lambda: ad.grad(m.cast_like)(x, np.ones(3, complex)),  # (y.dtype)
                lambda: ad.jvp(m.cast_like, (x, np.ones(3, complex)), (x, np.zeros(3)))):
        with pytest.raises(ad.AdError, match="complex"):
            run()


define('''
def up_cast(x):
    return np.sum(x.astype(np.float64) ** 2) + np.sum(np.asarray(x, dtype='float64') * x)
''')
define('''
def down_cast(x):
    return np.sum(x.astype(np.float32) ** 2) + np.sum(x, dtype=np.float32)
''')


def test_float32_and_float64_round_trips(m):
    """The rule applies for a float dtype; the gradient comes back in the argument's dtype."""
    x32 = np.array([0.5, -1.25, 2.0], dtype=np.float32)
    g = ad.grad(m.up_cast)(x32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 4 * x32)
    x64 = x32.astype(np.float64)
    g = ad.grad(m.down_cast)(x64)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, 2 * x64 + 1, rtol=1e-6)
    np.testing.assert_allclose(ad.jvp(m.down_cast, (x64,), (np.ones(3),))[1], np.sum(2 * x64 + 1), rtol=1e-6)
    np.testing.assert_allclose(ad.hessian(m.down_cast)(x64), 2 * np.eye(3), rtol=1e-6)


define('''
def scalar_types(x):
    return np.float32(x) * x + np.int64(x) * x + np.bool_(x) * x + float(x) * x + int(x) * x
''')


def test_scalar_type_constructors(m):
    x = 1.75
    assert ad.grad(m.scalar_types)(x) == pytest.approx(2 * np.float32(x) + 2 * x + 3)
    assert ad.jvp(m.scalar_types, (x,), (1.0,))[1] == pytest.approx(2 * np.float32(x) + 2 * x + 3)


# ---------------------------------------------------------------------------------------------
# 3. Powers at zero (JAX's conventions)

define('''
def zero_base(y):
    return np.sum(np.power(0.0, y)) + np.sum(0.0 ** y) + np.sum(np.float_power(0.0, y))
''')
define('''
def zero_base_scalar(y):
    return pow(0.0, y) + math.pow(0.0, y) + 0.0 ** y
''')
define('''
def variable_base(b, y):
    return np.sum(b ** y) + np.sum(np.power(b, y)) + np.sum(np.float_power(b, y))
''')
define('''
def power_of(x, y):
    return np.sum(x ** y)
''')


def test_power_of_a_zero_base_wrt_the_exponent(m):
    """d/dy 0 ** y is 0 where the result is finite (JAX: log(0) taken as 0), NaN where it is infinite."""
    y = np.array([2.0, 0.5, 0.0, 1.0])
    np.testing.assert_array_equal(ad.grad(m.zero_base)(y), np.zeros(4))
    np.testing.assert_array_equal(ad.jvp(m.zero_base, (y,), (np.ones(4),))[1], 0.0)
    np.testing.assert_array_equal(ad.hessian(m.zero_base)(y), np.zeros((4, 4)))
    for value in (2.0, 0.5, 0.0):
        assert ad.grad(m.zero_base_scalar)(value) == 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.isnan(ad.grad(m.zero_base)(np.array([-1.0])))[0]
    b = np.zeros(4)
    np.testing.assert_array_equal(ad.grad(m.variable_base, wrt=1)(b, y), np.zeros(4))
    check_all_modes(m.variable_base, [np.array([0.0, 0.7, 1.3]), np.array([1.5, 2.0, 0.5])], wrt=1)


def test_power_of_a_zero_base_wrt_the_base():
    """d/dx x ** y at x = 0, as JAX and autograd where it is finite: y * 0 ** (y - 1): 1 for y = 1,
    0 for y = 2, 0 for y = 0 (not 0 * inf); infinite for y = 0.5, taken as 0 (nonzero_or_inf)."""
    x = np.zeros(4)
    y = np.array([1.0, 2.0, 0.5, 0.0])
    f = lambda x, y: np.sum(x ** y)  # noqa: E731
    np.testing.assert_array_equal(ad.grad(f)(x, y), [1.0, 0.0, 0.0, 0.0])
    for exponent, want in ((1.0, 1.0), (2.0, 0.0), (0.0, 0.0), (0.5, 0.0), (1.0 / 3.0, 0.0)):
        assert ad.grad(lambda x: np.sum(x ** exponent))(np.zeros(2)).tolist() == [want, want]
        assert ad.grad(lambda x: x ** exponent)(0.0) == want


def test_spread_and_norm_at_a_constant_input_have_gradient_zero():
    """np.std (and the norm) of a constant input: the subgradient 0 (JAX and autograd: NaN), in
    every mode; away from it, finite differences."""
    f = lambda x: np.std(x) + np.linalg.norm(x - np.mean(x)) + np.std(x, axis=0, ddof=1).sum()  # noqa: E731
    for x in (np.ones((3, 2)), np.full((3, 2), -2.5)):
        np.testing.assert_array_equal(ad.grad(f)(x), np.zeros((3, 2)))
        assert ad.jvp(f, (x,), (np.ones((3, 2)),))[1] == 0.0
    check_all_modes(f, [np.array([[0.3, -1.0], [1.2, 0.4], [-0.5, 0.9]])])


define("""
def sqrt_of_relu(x):
    return np.sum(np.sqrt(np.maximum(x, 0.0)) + np.cbrt(np.maximum(x, 0.0)) + np.maximum(x, 0.0) ** 0.5)
""")
define("""
def angle_of_clipped_cosine(x):
    c = np.clip(x, -1.0, 1.0)
    return np.sum(np.arccos(c) + 2.0 * np.arcsin(c) + np.arccosh(np.maximum(x + 2.0, 1.0)))
""")
define("""
def norm_of_masked(x):
    g = x * np.array([0.0, 0.0, 0.0])
    return np.sqrt(np.sum(g ** 2)) + np.sum(np.arctan2(g, g)) + np.linalg.norm(g, 3) + np.sum(x)
""")
define("""
def float_kinks(x):
    r = max(x, 0.0)
    c = min(max(x, -1.0), 1.0)
    return math.sqrt(r) + r ** 0.5 + math.acos(c) + math.asin(c) + math.atan2(0.0 * x, 0.0 * x) + (x - x) ** (x * x)
""")
define("""
def power_of_underflow(x):
    p = np.exp(-1000.0 * x)
    return np.sum(p ** p + (np.max(x) - x) ** 0.5)
""")


@pytest.mark.parametrize("name, points", [
    ("sqrt_of_relu", [np.array([-0.5, 0.3, 2.0]), np.array([[-1.0], [0.7]])]),
    ("angle_of_clipped_cosine", [np.array([-1.5, 0.3, 2.0, -2.5]), np.array([[1.2, -0.4]])]),
    ("norm_of_masked", [np.array([-0.5, 0.3, 2.0])]),
    ("power_of_underflow", [np.array([0.3, 2.0]), np.array([4.0])]),
])
def test_infinite_derivative_at_a_finite_value_is_zero(m, name, points):
    """sqrt, cbrt and x ** 0.5 at 0, arcsin and arccos at 1, arccosh at 1, arctan2 at (0, 0), a
    p-norm at 0, 0 ** 0.5 and 0 ** 0 with a variable exponent: the derivative there is infinite or
    0 / 0, taken as 0, so a locally constant input (a ReLU, a clip, a mask, an underflow) gives
    the gradient finite differences see in every mode and order, not NaN (inf * 0)."""
    for x in points:
        with np.errstate(divide="raise", invalid="raise"):
            check_all_modes(getattr(m, name), [x])


@pytest.mark.parametrize("x", [-0.4, 1.4, 0.3])
def test_infinite_derivative_of_floats_is_zero(m, x):
    """The same on Python floats, where 1 / 0 is a ZeroDivisionError, not inf."""
    check_all_modes(m.float_kinks, [x])


# ---------------------------------------------------------------------------------------------
# 4. np.r_, np.c_ and other subscripts whose "index" is data

define('''
def rows(x):
    return np.sum(np.r_[x, 2.0 * x, 1.5] ** 2 * np.arange(7.0))
''')
define('''
def rows_2d(x):
    return np.sum(np.r_[x, x * x] ** 3)
''')
define('''
def columns(x):
    return np.sum(np.c_[x, 2.0 * x] ** 2 * np.arange(6.0).reshape(3, 2))
''')
define('''
def columns_2d(x, y):
    return np.sum(np.c_[y, x, np.sin(x)] ** 3)
''')
define('''
def one_row(x):
    return np.sum(np.r_[x] ** 2)
''')


@pytest.mark.parametrize("name, args", [("rows", [X3]), ("rows_2d", [M23]), ("columns", [X3]), ("one_row", [X3]),
                                        ("columns_2d", [X3, M23.T])])
def test_r_and_c(m, name, args):
    fn = getattr(m, name)
    check_all_modes(fn, [a.copy() for a in args])
    np.testing.assert_allclose(ad.hessian(fn, mode="reverse")(*args), ad.hessian(fn)(*args), rtol=1e-12, atol=1e-12)


def test_r_and_c_values_and_dtypes_are_numpys(m):
    """The normal form calls np.r_ / np.c_ itself: the same values and dtypes (Python numbers
    beside a float32 array stay float32)."""
    from adcompiler.runtime import c_items, r_items
    x32 = X3.astype(np.float32)
    for items in ([x32, 1.5], [x32, x32], [2.0, 3]):
        assert r_items(items).dtype == np.r_[tuple(items)].dtype
        np.testing.assert_array_equal(r_items(items), np.r_[tuple(items)])
    np.testing.assert_array_equal(c_items([x32, M23.T]), np.c_[x32, M23.T])
    assert "r_items([" not in ad.normalize(m.rows)  # a list display, then the call
    assert "r_items(" in ad.normalize(m.rows)


define('''
def rows_with_a_slice(x):
    return np.sum(np.r_[0:3, x] ** 2)
''')
define('''
def rows_with_a_linspace(x):
    return np.sum(np.r_[0:1:2j, x] ** 2 * np.arange(5.0))
''')
define('''
def rows_with_a_directive(x):
    return np.sum(np.r_['0', x, x] ** 2)
''')
define('''
def slice_object(x):
    return np.sum(np.arange(5.0)[np.s_[1:4]] * x)
''')
define('''
def open_grid(x):
    return np.sum(np.ogrid[0:x])
''')
define('''
def item_of_table(x):
    return TABLE[x]
''')
define('''
def item_of_argument(x, table):
    return table[x]
''')
define('''
def make_table():
    return Table()


def item_known_at_run_time(x, maker):
    table = maker()
    return table[x] + x
''')
define('''
def item_of_an_object_made_here(x):
    table = Table()
    return table[x] + x
''')


def test_slices_in_r_and_c_are_ranges(m):
    # (start:stop:step is np.arange, start:stop:n*1j np.linspace: data, as the arrays beside)
    check_all_modes(m.rows_with_a_slice, [X3.copy()])
    check_all_modes(m.rows_with_a_linspace, [X3.copy()])
    np.testing.assert_allclose(ad.grad(m.rows_with_a_linspace)(X3), 2 * X3 * np.arange(2.0, 5.0))


@pytest.mark.parametrize("name, what", [("rows_with_a_directive", "np.r_[...]: a RClass"),
                                        ("open_grid", "np.ogrid[...]"), ("item_of_table", "TABLE[...]: a Table")])
def test_a_subscript_computing_from_a_differentiated_index_is_refused(m, name, what):
    fn = getattr(m, name)
    x = 3.0 if name in ("open_grid", "item_of_table") else X3.copy()
    refused(lambda: ad.grad(fn)(x), what, "computes a value from an index that depends on the differentiated")
    refused(lambda: ad.jvp(fn, (x,), (np.ones_like(x) if np.ndim(x) else 1.0,)), what)


def test_subscripts_of_other_objects(m):
    assert ad.grad(m.slice_object)(2.0) == pytest.approx(6.0)  # (np.s_[1:4] does not depend on x)
    # (an object argument's own __getitem__ is a method call, differentiated: k * 2.0)
    assert ad.grad(m.item_of_argument)(3.0, m.TABLE) == pytest.approx(2.0)
    # (an object made here of a class of the function's file: its own __getitem__ too)
    assert ad.grad(m.item_of_an_object_made_here)(3.0) == pytest.approx(3.0)
    from adcompiler.runtime import subscript_check
    site = ("table[...]", "f", "trust_functions.py", 1, 4)
    for base, index in ((m.TABLE, (3, "a", slice(1, 2))), ({0.5: 1.0}, (0.5,)), (np.ones(3), (np.float64(1.0),))):
        subscript_check(base, index, site)  # an int index (no gradient to lose), or a base that selects
    for index in ((3.0,), (np.array([0.5]),), (slice(0, 2.5),), ((1, 2.0),)):
        with pytest.raises(ad.AdError, match="a Table is not an array"):
            subscript_check(m.TABLE, index, site)
    # a base whose type only the run time knows is checked there (runtime.subscript_check)
    refused(lambda: ad.grad(m.item_known_at_run_time)(3.0, m.make_table), "table[...]: a Table is not an array")
    refused(lambda: ad.jvp(m.item_known_at_run_time, (3.0, m.make_table), (1.0, None)), "a Table is not an array")
    assert ad.grad(m.item_known_at_run_time)(0.5, lambda: {0.5: 2.0}) == 1.0  # (a dict's key selects)
    assert ad.grad(m.item_of_argument, wrt=0)(0.5, {0.5: 2.5}) == 0.0  # a dict's key selects: zero


# ---------------------------------------------------------------------------------------------
# 5. Complex values inside differentiated code

define('''
def complex_literal(x):
    return np.real(np.sum(x * 1j * x))
''')
define('''
def complex_from_exp(x):
    c = np.exp(1j * x)
    return np.sum(np.real(c))
''')
define('''
def complex_module_constant(x):
    return np.sum(np.real(W * x))
''')
define('''
def complex_builtin(x):
    return complex(x, 1.0).real
''')
define('''
def complex_constructor(x):
    return np.real(np.complex128(x) * x)
''')
define('''
def complex_asarray(x):
    return np.sum(np.real(np.asarray(x, dtype=np.complex128)))
''')
define('''
def complex_constant_not_differentiated(x, theta):
    c = np.exp(1j * theta)
    return np.sum(np.abs(c) * x) + np.real(c) * np.sum(x)
''')


@pytest.mark.parametrize("name", ["complex_literal", "complex_from_exp", "complex_module_constant",
                                  "complex_builtin", "complex_constructor", "complex_asarray"])
def test_complex_values_that_depend_on_wrt_are_differentiated(m, name):
    """(Refused until complex support: now JAX's convention, docs/complex.md; a real argument's
    gradient is real, and so is its Hessian.)"""
    fn = getattr(m, name)
    x = 1.5 if name in ("complex_builtin", "complex_constructor") else X3.copy()
    x = X3[:2].copy() if name == "complex_module_constant" else x  # (W has two entries)
    check_all_modes(fn, [x])


def test_complex_values_that_do_not_depend_on_wrt_are_fine(m):
    theta = 0.3
    g = ad.grad(m.complex_constant_not_differentiated)(X3.copy(), theta)
    np.testing.assert_allclose(g, np.ones(3) * (1.0 + np.cos(theta)))


define('''
def abs_of(x, z):
    return np.sum(np.abs(x * z))
''')
define('''
def builtin_abs_of(x, z):
    return np.sum(abs(x * z))
''')
define('''
def real_of(x, z):
    return np.sum(np.real(x * z))
''')
define('''
def imag_of(x, z):
    return np.sum(np.imag(x * z))
''')
define('''
def conj_of(x, z):
    return np.sum(np.real(np.conj(x * z)))
''')
define('''
def angle_of(x, z):
    return np.sum(np.angle(x * z))
''')
define('''
def real_attribute(x, z):
    return np.sum((x * z).real)
''')
define('''
def imag_attribute(x, z):
    return np.sum((x * z).imag)
''')
NON_HOLOMORPHIC = ["abs_of", "builtin_abs_of", "real_of", "imag_of", "conj_of", "angle_of", "real_attribute",
                   "imag_attribute"]


define('''
def complex_data():
    return np.array([1.0 + 2.0j, -0.5j, 3.0])
''')
for _name in NON_HOLOMORPHIC:
    define("def %s_of_data(x):\n    return %s(x, complex_data())\n" % (_name, _name))


@pytest.mark.parametrize("name", NON_HOLOMORPHIC)
def test_non_holomorphic_rules_on_complex_values_made_by_a_function_called(m, name):
    """A complex value reaching abs, real, imag, conj or angle, computed by a function that is
    not differentiated (its code makes complex values: the caller uses the rules for complex
    values), in reverse and forward mode."""
    check_all_modes(getattr(m, name + "_of_data"), [X3.copy()])


@pytest.mark.parametrize("name", NON_HOLOMORPHIC)
def test_non_holomorphic_rules_on_real_values(m, name):
    args = [X3.copy(), np.array([1.5, -0.5, 3.0])]
    check_all_modes(getattr(m, name), args)
    np.testing.assert_allclose(ad.hessian(getattr(m, name), mode="reverse")(*args), ad.hessian(getattr(m, name))(*args),
                               atol=1e-12)


# ---------------------------------------------------------------------------------------------
# 6. np.vectorize and NumPy's other higher-order functions

define('''
def vectorized_module_level(x):
    return np.sum(VSQUARE(x) * np.arange(3.0))
''')
define('''
def vectorized_here(x, y):
    g = np.vectorize(scaled_sine)
    return np.sum(g(x, y) ** 2)
''')
define('''
def vectorized_broadcast(x, y):
    return np.sum(VSCALED(x, y) ** 2)
''')
define('''
def vectorized_at_run_time(x, fns):
    return np.sum(fns[0](x) * x)
''')
define('''
def vectorized_float_otype(x):
    return np.sum(VFLOAT(x) * x)
''')
define('''
def vectorized_int_otype(x):
    return np.sum(VINT(x) * x)
''')


@pytest.mark.parametrize("name, args", [("vectorized_module_level", [X3]), ("vectorized_here", [X3, M23.T[:, :1]]),
                                        ("vectorized_broadcast", [M23, X3]), ("vectorized_float_otype", [X3])])
def test_vectorize_is_differentiated_elementwise(m, name, args):
    check_all_modes(getattr(m, name), [a.copy() for a in args], wrt=tuple(range(len(args))) if len(args) > 1 else 0,
                    second_order=False)
    check_all_modes(getattr(m, name), [a.copy() for a in args])


def test_vectorize_values_and_dtypes_are_numpys(m):
    x = np.array([1.2, 2.7, -0.4])
    assert ad.value_and_grad(m.vectorized_int_otype)(x)[0] == m.vectorized_int_otype(x)
    np.testing.assert_allclose(ad.grad(m.vectorized_int_otype)(x), m.VINT(x))  # (an int result: zero through it)
    np.testing.assert_allclose(ad.grad(m.vectorized_at_run_time)(x, [m.VSQUARE]), 3 * x ** 2)
    value, grad = ad.value_and_grad(lambda x: m.VSQUARE(x) * 1.0)(1.5)
    assert value == 2.25 and grad == 3.0


define('''
def vectorized_excluded(x):
    return np.sum(VEXCLUDED(x, 2.0))
''')
define('''
def vectorized_signature(x):
    return np.sum(VSIGNATURE(x, x))
''')
define('''
def vectorized_pair(x):
    return np.sum(VPAIR(x)[0])
''')
define('''
def from_python_function(x):
    return np.sum(np.frompyfunc(square, 1, 1)(x))
''')
define('''
def along_axis(x):
    return np.sum(np.apply_along_axis(square, 0, x))
''')
define('''
def piecewise(x):
    conditions = [x < 0, x >= 0]  # (lists not written in the call: refused)
    return np.sum(np.piecewise(x, conditions, [square, square]))
''')
define('''
def piecewise_written_out(x):
    return np.sum(np.piecewise(x, [x < -1, x > 1], [
        lambda t: -t,  # (one lambda per line: Python 3.10 finds a lambda's source by its line)
        2.0,
        lambda t: t ** 3]) * np.arange(3.0)) + np.sum(np.piecewise(x * 2, [x > 0], [square]))
''')


def test_piecewise_with_its_lists_written_out(m):
    # (NumPy's own steps: zeros, then each function on the entries its condition picks)
    check_all_modes(m.piecewise_written_out, [np.array([-1.5, 0.3, 1.7])])


@pytest.mark.parametrize("name, words", [
    ("vectorized_excluded", ["np.vectorize(scaled_sine) with excluded="]),
    ("vectorized_signature", ["np.vectorize(dot) with signature="]),
    ("vectorized_pair", ["np.vectorize(pair)", "several values"]),
    ("from_python_function", ["np.frompyfunc"]),
    ("along_axis", ["np.apply_along_axis", "does not trace into NumPy"]),
    ("piecewise", ["np.piecewise", "does not trace into NumPy"])])
def test_higher_order_functions_are_refused(m, name, words):
    fn = getattr(m, name)
    with pytest.raises(ad.AdError) as info:
        ad.grad(fn)(X3.copy())
    for w in words:
        assert w in str(info.value)
    with pytest.raises(ad.AdError):
        ad.jvp(fn, (X3.copy(),), (np.ones(3),))


def qr_of(x):
    q, r = np.linalg.qr(x)
    return np.sum(q[:, 0] * np.arange(2.0)) + np.sum(r ** 2)


def test_qr_of_a_wide_matrix_is_refused_where_it_runs():
    """A tall or square matrix's QR is differentiated; a wide one's R is not square and its
    factors are not unique functions of the matrix: an AdError, in either mode."""
    tall = np.array([[1.0, 0.3], [0.2, 2.0], [0.5, -0.4]])
    np.testing.assert_allclose(ad.grad(qr_of)(tall[:2]), fd_grad(qr_of, [tall[:2]], 0), rtol=1e-6)
    with pytest.raises(ad.AdError, match="np.linalg.qr of a matrix with more columns than rows"):
        ad.grad(qr_of)(tall.T.copy())
    with pytest.raises(ad.AdError, match="np.linalg.qr of a matrix with more columns than rows"):
        ad.jvp(qr_of, (tall.T.copy(),), (np.ones((2, 3)),))


def padded(x, mode):
    return np.sum(np.pad(x, (1, 2), mode=mode) ** 2)


def padded_by_maximum(x):
    return np.sum(np.pad(x, (1, 2), mode="maximum") ** 2)


@pytest.mark.parametrize("fn, args", [(padded, ("maximum",)), (padded, ("linear_ramp",)),
                                      (padded_by_maximum, ())])
def test_a_pad_mode_without_a_derivative_is_refused_where_it_runs(fn, args):
    """np.pad's modes that copy entries are differentiated, given as constants or known only at
    run time; the others (which compute new values) are an AdError in either mode."""
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(ad.grad(padded)(x, "reflect"), fd_grad(padded, [x, "reflect"], 0),
                               rtol=1e-6)
    with pytest.raises(ad.AdError, match="np.pad is written for the modes"):
        ad.grad(fn)(x, *args)
    with pytest.raises(ad.AdError, match="np.pad is written for the modes"):
        ad.jvp(fn, (x, *args), (np.ones(3),) + (None,) * len(args))


define("""
def softplus(x):
    return math.log1p(math.exp(x))


def student_t_normaliser(x):
    nu = 2.0 + softplus(x)
    return math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2)
""")


def test_second_derivative_of_lgamma_of_a_helpers_result(m):
    # (lgamma's derivative, digamma, did x += 1.0: differentiated again with x of unknown kind,
    # it was refused as a write into its argument)
    gradient = ad.grad(m.student_t_normaliser)
    want = (gradient(0.7 + 1e-5) - gradient(0.7 - 1e-5)) / 2e-5
    assert ad.hessian(m.student_t_normaliser)(0.7) == pytest.approx(want, rel=1e-6)
    check_all_modes(m.student_t_normaliser, [0.7])
