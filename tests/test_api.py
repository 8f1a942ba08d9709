"""The public API: forms of grad, wrt handling, types and dtypes, value_and_grad, the cache,
errors, and the caller's data staying untouched."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import adcompiler as ad
from adcompiler import api


def xy(x, y):
    return x * (x + y) ** 2


def arr_fn(w, b):
    return np.sum(np.tanh(w * b) * w)


def returns_vector(x):
    return x ** 2


def int_arg(x, n):
    return x * n


def mutates_arg(x):
    x[0] = 5.0
    return np.sum(x * x)


def keyword_call(x, scale=2.0):
    return x * scale * x


def test_decorator_forms_and_wrt_kinds():
    @ad.grad
    def f(x):
        return x * x * 3.0
    assert f(2.0) == 12.0

    @ad.grad(wrt="y")
    def h(x, y):
        return x * y * y
    assert h(2.0, 3.0) == 12.0
    assert ad.grad(xy, wrt="y")(3.0, -1.0) == 12.0
    assert ad.grad(xy, wrt=-1)(3.0, -1.0) == 12.0
    assert ad.grad(xy, wrt=("y", 0))(3.0, -1.0) == (12.0, 16.0)
    assert ad.grad(xy, wrt=[0])(3.0, -1.0) == (16.0,)


def test_gradient_types_follow_arguments():
    g = ad.grad(xy)(3.0, -1.0)
    assert type(g) is float
    w = np.linspace(-1, 1, 6).reshape(2, 3)
    dw, db = ad.grad(arr_fn, wrt=(0, 1))(w, 0.5)
    assert isinstance(dw, np.ndarray) and dw.shape == (2, 3) and dw.dtype == np.float64
    assert type(db) is float
    w32 = w.astype(np.float32)
    dw32 = ad.grad(arr_fn)(w32, np.float32(0.5))
    assert dw32.dtype == np.float32 and dw32.shape == (2, 3)
    np.testing.assert_allclose(dw32, ad.grad(arr_fn)(w, 0.5), rtol=1e-5)


def test_int_arguments_pass_through_and_keywords():
    assert ad.grad(int_arg)(1.5, 3) == 3.0
    assert ad.grad(keyword_call)(2.0) == 8.0
    assert ad.grad(keyword_call)(2.0, scale=3.0) == 12.0
    assert ad.grad(keyword_call)(x=2.0, scale=1.0) == 4.0


def test_value_and_grad_runs_once():
    calls = []

    def spy(x):
        calls.append(x)
        return x

    def f(x):
        y = spy(x) * 2.0
        return y * y
    value, grad = ad.value_and_grad(f)(3.0)
    assert value == 36.0 and grad == 24.0
    assert len(calls) == 1


def test_cache_does_no_second_generation():
    def fresh(x):
        return np.sum(np.exp(-x) * x)
    x = np.ones(4)
    before = api.STATS["generated"]
    ad.grad(fresh)(x)
    assert api.STATS["generated"] == before + 1
    ad.grad(fresh)(x)
    ad.grad(fresh)(x + 1.0)
    assert api.STATS["generated"] == before + 1, "same function, wrt and argument kinds: cached"
    ad.grad(fresh)(x.astype(np.float32))
    assert api.STATS["generated"] == before + 2, "a new dtype gets specialised code"


def test_redefined_function_gets_new_code(tmp_path):
    src = tmp_path / "cell.py"
    src.write_text("def f(x):\n    return x * x\n")
    ns = {}
    exec(compile(src.read_text(), str(src), "exec"), ns)
    assert ad.grad(ns["f"])(3.0) == 6.0
    src.write_text("def f(x):\n    return x * x * x\n")
    import linecache
    linecache.checkcache(str(src))
    exec(compile(src.read_text(), str(src), "exec"), ns)
    assert ad.grad(ns["f"])(3.0) == 27.0


def test_caller_arrays_written_as_by_the_plain_call():
    """f writes into its argument: so does the forward computation inside the gradient (the
    caller sees what the plain call does), and the gradient is that of the running function."""
    x, plain = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])
    mutates_arg(plain)
    g = ad.grad(mutates_arg)(x)
    np.testing.assert_array_equal(x, plain)
    np.testing.assert_allclose(g, [0.0, 4.0, 6.0])


def _error(fn):
    with pytest.raises(ad.AdError) as info:
        fn()
    return str(info.value)


def test_misuse_errors_name_the_offending_value():
    msg = _error(lambda: ad.grad(xy, wrt=5)(1.0, 2.0))
    assert "wrt=5" in msg and "xy" in msg
    msg = _error(lambda: ad.grad(xy, wrt="z")(1.0, 2.0))
    assert "'z'" in msg and "x, y" in msg
    msg = _error(lambda: ad.grad(returns_vector)(np.ones(3)))
    assert "scalar" in msg and "vjp" in msg and "(3,)" in msg
    msg = _error(lambda: ad.grad(int_arg, wrt=1)(1.0, 3))
    assert "'n'" in msg and "3" in msg
    msg = _error(lambda: ad.grad(returns_vector)(np.ones(3) * 1j))
    assert "complex" in msg
    out, pullback = ad.vjp(returns_vector, np.ones(3))
    msg = _error(lambda: pullback(np.ones(4)))
    assert "(4,)" in msg and "(3,)" in msg


def test_unsupported_code_points_at_user_line(tmp_path):
    path = tmp_path / "user_mod.py"
    path.write_text(textwrap.dedent("""\
        import numpy as np

        def f(x):
            y = [x * 2.0, 1.0]
            del y[::2]
            return y[0]
        """))
    sys.path.insert(0, str(tmp_path))
    try:
        import user_mod
        msg = _error(lambda: ad.grad(user_mod.f)(1.0))
    finally:
        sys.path.remove(str(tmp_path))
    assert "in f:" in msg and str(path) in msg and "line 5" in msg
    assert "del" in msg and "^" in msg and "fix:" in msg


def test_function_without_rule_is_an_error():
    def uses_frexp(x):
        return np.frexp(x)[0] * x  # a C ufunc with no rule

    def uses_polyfit(x):
        return np.polyfit(x, x ** 2, 1)[0] * 2.0  # NumPy code in Python: not traced into either
    msg = _error(lambda: ad.grad(uses_frexp)(np.array([2.5])))
    assert "frexp" in msg and "defvjp" in msg and "line" in msg
    msg = _error(lambda: ad.grad(uses_polyfit)(np.array([2.5, 1.0, 0.5])))
    assert "polyfit" in msg and "defvjp" in msg


def test_no_source_is_an_error():
    ns = {}
    exec("def made(x):\n    return x * x\n", ns)
    msg = _error(lambda: ad.grad(ns["made"])(1.0))
    assert "no source" in msg and "made" in msg


def test_stop_gradient():
    def stopped(x):
        return x * ad.stop_gradient(x)
    assert ad.grad(stopped)(3.0) == 3.0


def _load(path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_source_specialised_for_example_arguments():
    def cube_sum(x, y):
        return np.sum(x ** 3) + y

    generic = ad.source(cube_sum, wrt=(0, 1))
    floats = ad.source(cube_sum, wrt=(0, 1), args=(2.0, 1.0))
    arrays = ad.source(cube_sum, wrt=(0, 1), args=(np.ones(3), 1.0))
    assert floats != generic and "scalar_seed" in generic and "scalar_seed" not in floats
    assert "cast_like(dx, x)" in generic and arrays != floats  # an array gradient keeps its dtype and shape:
    assert "dx = x ** 2\n    dx *= f64_3" in arrays and "cast_like(dx" not in arrays  # known here (a new float64 array)
    split = ad.source(cube_sum, wrt=0, mode="split", args=(np.ones(3), 1.0))
    assert "def cube_sum_forward" in split and "def cube_sum_backward" in split
    assert "def cube_sum_jvp" in ad.source(cube_sum, mode="forward", args=(2.0, 1.0))
    # (a gradient function's source is for its own wrt)
    assert ad.source(ad.grad(cube_sum, wrt=(0, 1))) == generic
    assert ad.source(ad.grad(cube_sum, wrt=(0, 1)), wrt=0) == ad.source(cube_sum)


def test_cli_dump_check_and_errors(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text("import numpy as np\n\ndef f(x, y):\n    return x * (x + y) ** 2\n")
    run = lambda *a: subprocess.run([sys.executable, "-m", "adcompiler", *a], capture_output=True, text=True)
    r = run("dump", "%s:f" % path, "--wrt", "x,y")
    assert r.returncode == 0 and "def df(x, y):" in r.stdout and "dx" in r.stdout
    r = run("dump", "%s:f" % path, "--stage", "normalized")
    assert r.returncode == 0 and "t1 = x + y" in r.stdout
    r = run("dump", "%s:f" % path, "--mode", "forward")
    assert r.returncode == 0 and "def f_jvp" in r.stdout
    r = run("dump", "%s:f" % path, "--mode", "split")
    assert r.returncode == 0 and "def f_forward" in r.stdout and "def f_backward" in r.stdout
    r = run("dump", "%s:f" % path, "--wrt", "x,y", "--at", "x=3.0,y=-1.0")
    assert r.returncode == 0 and r.stdout == ad.source(_load(path).f, wrt=(0, 1), args=(3.0, -1.0))
    assert "unbroadcast" not in r.stdout and "unbroadcast" in ad.source(_load(path).f, wrt=(0, 1))
    r = run("check", "%s:f" % path, "--at", "x=3.0,y=-1.0", "--wrt", "x,y")
    assert r.returncode == 0 and "16" in r.stdout and "12" in r.stdout and "finite differences" in r.stdout
    for bad in (["dump", "%s:nope" % path], ["dump", "missing.py:f"], ["dump", "nocolon"],
                ["check", "%s:f" % path, "--at", "x=1.0"], [], ["dump"], ["dump", "%s:f" % path, "--mode", "bogus"]):
        r = run(*bad)
        assert r.returncode != 0 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, bad


def test_redefined_callee_regenerates(tmp_path):
    """A notebook re-runs the cell defining a helper: the caller's cached gradient must follow."""
    src = tmp_path / "notebook_cells.py"
    src.write_text("import numpy as np\n\ndef helper(x):\n    return x * x\n\n"
                   "def f(x):\n    return helper(x) + 1.0\n")
    ns = {}
    exec(compile(src.read_text(), str(src), "exec"), ns)
    df = ad.grad(ns["f"])
    assert df(3.0) == 6.0
    x = np.array([1.0, 2.0])
    out, pullback = ad.vjp(ns["f"], x)
    np.testing.assert_allclose(pullback(np.ones(2))[0], 2 * x)
    src.write_text(src.read_text() + "\ndef helper(x):\n    return x * x * x\n")
    import linecache
    linecache.checkcache(str(src))
    exec(compile(src.read_text(), str(src), "exec"), ns)  # the cell defining helper runs again
    assert df(3.0) == 27.0, "the gradient follows the redefined helper"
    out, pullback = ad.vjp(ns["f"], x)
    np.testing.assert_allclose(pullback(np.ones(2))[0], 3 * x ** 2)
    assert ad.jvp(ns["f"], (3.0,), (1.0,))[1] == 27.0
    assert "helper_at_compile" in df.source


@pytest.mark.parametrize("helper, again, want", [
    ("def helper(u):\n    u *= 2.0\n    return u\n", "u *= 3.0", 3.0),  # (writes: inlined)
    ("class Scale:\n    def __init__(self, c):\n        self.c = c * 2.0\n",
     "self.c = c * 3.0", 3.0)])
def test_a_redefined_inlined_callee_or_class_regenerates(tmp_path, helper, again, want):
    """Callees the generated code inlines (a helper writing into its argument, a class's
    ``__init__``) are checked on entry as called ones are: redefined, the code is made again
    (it once kept the old one: a silent wrong gradient)."""
    src = tmp_path / "inlined_cells.py"
    body = "    y = x * 1.0\n    return np.sum(helper(y))\n" if "def helper" in helper else \
        "    return np.sum(x * Scale(1.0).c)\n"
    src.write_text("import numpy as np\n\n" + helper + "\n\ndef f(x):\n" + body)
    ns = {}
    exec(compile(src.read_text(), str(src), "exec"), ns)
    df = ad.grad(ns["f"])
    np.testing.assert_allclose(df(np.ones(2)), [2.0, 2.0])
    src.write_text(src.read_text() + "\n" + helper.replace(
        "u *= 2.0" if "def helper" in helper else "self.c = c * 2.0", again))
    import linecache
    linecache.checkcache(str(src))
    exec(compile(src.read_text(), str(src), "exec"), ns)
    np.testing.assert_allclose(df(np.ones(2)), [want, want])
    np.testing.assert_allclose(ad.jvp(ns["f"], (np.ones(2),), (np.ones(2),))[1], 2 * want)


def shared_adjoint(x, y):
    return np.sum(np.sin(x + y))


def test_gradients_returned_together_are_distinct_arrays():
    dx, dy = ad.grad(shared_adjoint, wrt=(0, 1))(np.ones(3), np.ones(3))
    assert dx is not dy
    dx[0] = 100.0
    assert dy[0] != 100.0


def test_pullback_cotangents_are_distinct_arrays():
    _, pullback = ad.vjp(shared_adjoint, np.ones(3), np.ones(3))
    dx, dy = pullback(1.0)
    assert dx is not dy


def _sine_energy(x):
    return np.sum(np.sin(x) ** 2)


def test_the_source_of_a_hessian_or_jacobian_is_refused_with_what_to_print():
    # (it said "wrt=0 is out of range: ... takes 0 positional argument(s)", of the wrapper)
    for transform in (ad.hessian, ad.jacobian):
        with pytest.raises(ad.AdError, match="runs several") as caught:
            ad.source(transform(_sine_energy))
        assert "ad.source(f)" in str(caught.value)
    assert "def d_sine_energy(x)" in ad.source(_sine_energy)
