"""Walk every rule table: each differentiable entry is checked against central finite
differences (reverse mode), against directional finite differences (forward mode), and with
float32 inputs (float32 gradients). Non-differentiable entries give zero gradients."""
import importlib.util

import numpy as np
import pytest
from conftest import fd_grad
from rule_cases import CASES, sp

import adcompiler as ad
from adcompiler import rules

WRAPPED = {}


def _import_source(path, name, source):
    """Write ``source`` to ``path`` (so its functions have source) and import it as ``name``."""
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _module(tmp_path_factory):
    """Write one function per case to a module and import it."""
    path = tmp_path_factory.mktemp("rulecases") / "rule_case_functions.py"
    lines = ["import collections", "import copy", "import math", "import numpy as np",
             "PAIR = collections.namedtuple('PAIR', 'a b')", "try:", "    import scipy.special as sp",
             "    import scipy.stats as st", "    import scipy.linalg as sla", "    import scipy.signal as sig",
             "    import scipy.spatial.distance as ssd",
             "except ImportError:",
             "    pass", ""]
    for i, case in enumerate(CASES):
        params = ", ".join(case.args)
        lines += ["def case_%d(%s):" % (i, params), "    out = %s" % case.expr,
                  "    return np.sum(np.asarray(out) * np.asarray(out)) * 0.5", ""]
    return _import_source(path, "rule_case_functions", "\n".join(lines))


@pytest.fixture(scope="module")
def functions(tmp_path_factory):
    return _module(tmp_path_factory)


def _draw(case, seed):
    rng = np.random.RandomState(seed)
    return [spec.draw(rng) for spec in case.args.values()]


def _ids():
    return ["%d:%s" % (i, c.expr) for i, c in enumerate(CASES)]


@pytest.mark.parametrize("index", range(len(CASES)), ids=_ids())
def test_reverse_rule_matches_finite_differences(functions, index):
    case = CASES[index]
    fn = getattr(functions, "case_%d" % index)
    names = list(case.args)
    wrt = tuple(names.index(w) for w in case.wrt)
    for seed in (0, 1):
        args = _draw(case, seed)
        grads = ad.grad(fn, wrt=wrt)(*args)
        for pos, g in zip(wrt, grads):
            want = fd_grad(fn, args, pos)
            np.testing.assert_allclose(np.asarray(g, dtype=float), want, rtol=2e-5, atol=2e-6,
                                       err_msg="%s w.r.t. %s" % (case.expr, names[pos]))
            assert np.shape(g) == np.shape(args[pos])


@pytest.mark.parametrize("index", range(len(CASES)), ids=_ids())
def test_forward_rule_matches_finite_differences(functions, index):
    case = CASES[index]
    fn = getattr(functions, "case_%d" % index)
    names = list(case.args)
    args = _draw(case, 2)
    rng = np.random.RandomState(5)
    tangents = [rng.randn(*np.shape(a)) if np.ndim(a) else float(rng.randn()) if n in case.wrt else
                (np.zeros_like(a) if np.ndim(a) else 0.0) for n, a in zip(names, args)]
    tangents = [t if n in case.wrt else (np.zeros_like(a) if np.ndim(a) else 0.0)
                for n, t, a in zip(names, tangents, args)]
    if not case.forward:  # documented gap: forward mode raises instead of guessing
        with pytest.raises(ad.AdError, match="not supported"):
            ad.jvp(fn, args, tangents)
        return
    _, t = ad.jvp(fn, args, tangents)
    eps = 1e-6
    hi = [a + eps * t_ for a, t_ in zip(args, tangents)]
    lo = [a - eps * t_ for a, t_ in zip(args, tangents)]
    want = (fn(*hi) - fn(*lo)) / (2 * eps)
    assert float(t) == pytest.approx(want, rel=2e-5, abs=2e-6), case.expr


# entries whose second derivatives are refused, by mode (what the AdError says)
SECOND_ORDER_GAPS = {
    "np.interp(x, np.array(": dict(reverse="interp_fp_back has no derivative w.r.t. its argument 'x'"),
    "np.interp(x, np.cumsum(": dict(reverse="interp_(fp|xp)_back has no derivative w.r.t. its argument 'x'"),
    # (u and vh of a full SVD of a non-square matrix, which its gradient code computes)
    "np.linalg.svd(x)[1]": dict.fromkeys(("forward", "reverse"), "of a non-square matrix is not supported"),
}


@pytest.mark.parametrize("index", range(len(CASES)), ids=_ids())
def test_second_order_rule_matches_finite_differences_of_the_gradient(functions, index):
    """Hessian-vector products of every entry, forward over reverse (``jvp`` of the generated
    gradient) and reverse over reverse (``vjp`` of it), against central differences of the
    gradient (checked against finite differences of the function above)."""
    case = CASES[index]
    fn = getattr(functions, "case_%d" % index)
    pos = list(case.args).index(case.wrt[0])
    args = _draw(case, 3)
    rng = np.random.RandomState(7)
    t = rng.randn(*np.shape(args[pos])) if np.ndim(args[pos]) else float(rng.randn())
    gradient = ad.grad(fn, wrt=pos)
    eps = 1e-5
    hi, lo = list(args), list(args)
    hi[pos], lo[pos] = args[pos] + eps * t, args[pos] - eps * t
    want = (np.asarray(gradient(*hi)) - np.asarray(gradient(*lo))) / (2 * eps)
    tangents = [t if i == pos else (np.zeros_like(a) if np.ndim(a) else 0.0) for i, a in enumerate(args)]
    gap = next((why for expr, why in SECOND_ORDER_GAPS.items() if expr in case.expr), None)
    for mode in ("forward", "reverse"):
        if gap is not None and mode in gap:  # (a documented gap: an AdError, never a guess)
            with pytest.raises(ad.AdError, match=gap[mode]):
                ad.jvp(gradient, args, tangents) if mode == "forward" else ad.vjp(gradient, *args)[1](t)
            continue
        if mode == "forward" and case.forward:
            hvp = ad.jvp(gradient, args, tangents)[1]
        elif mode == "reverse":
            hvp = ad.vjp(gradient, *args)[1](t)[pos]
        else:
            continue
        np.testing.assert_allclose(np.asarray(hvp, dtype=float), want, rtol=1e-4, atol=1e-5,
                                   err_msg="%s (%s over reverse)" % (case.expr, mode))


@pytest.mark.parametrize("index", [i for i, c in enumerate(CASES) if any(np.ndim(s.draw(
    np.random.RandomState(0))) for s in c.args.values()) and "math." not in c.expr], ids=lambda i: CASES[i].expr)
def test_float32_in_float32_out(functions, index):
    case = CASES[index]
    fn = getattr(functions, "case_%d" % index)
    names = list(case.args)
    args = [np.asarray(a, dtype=np.float32) if np.ndim(a) else a for a in _draw(case, 0)]
    wrt = tuple(names.index(w) for w in case.wrt)
    grads = ad.grad(fn, wrt=wrt)(*args)
    want = ad.grad(fn, wrt=wrt)(*[np.asarray(a, dtype=np.float64) if np.ndim(a) else a for a in args])
    for pos, g, w in zip(wrt, grads, want):
        if np.ndim(args[pos]):
            assert g.dtype == np.float32, case.expr
            np.testing.assert_allclose(g, w, rtol=2e-2, atol=2e-3)


def _entry_names(case):
    return case.fn if isinstance(case.fn, str) else case.fn


def test_every_differentiable_entry_has_a_case():
    covered = {id(c.fn) if not isinstance(c.fn, str) else c.fn for c in CASES}
    # (np.add.reduce is a new bound method at each access: equal, not identical)
    bound = [c.fn for c in CASES if getattr(c.fn, "__self__", None) is not None and not isinstance(c.fn, str)]
    missing = []
    if sp is not None:
        rules.load_scipy_rules()
    optional = tuple(getattr(rules, name).table for _, name in rules.OPTIONAL
                     if getattr(rules, name) is not None)
    for table in rules.TABLES[:4] + optional:
        for key, rule in table.rules.items():
            if rule.diff and id(rule.fn) not in covered and not any(rule.fn == b for b in bound):
                missing.append(rule.name)
    for key, rule in rules.methods.table.rules.items():
        if rule.diff and key not in covered:
            missing.append("method " + key)
    assert not missing, "rules without a test case: %s" % ", ".join(missing)
    numpy_entries = len(rules.numpy_rules.table.rules) + len(rules.linalg_rules.table.rules)
    assert numpy_entries >= 150, numpy_entries


NONDIFF_USES = [
    "np.floor(x) * x", "np.ceil(x) + x", "np.round(x) * x", "np.sign(x) * x", "x[np.argmax(x)] * 2.0",
    "np.sort(x)[np.argsort(x)] * 0.0 + x", "np.shape(x)[0] * x", "np.size(x) * x", "np.ndim(x) * x",
    "np.zeros_like(x) + x", "np.ones(3) * x", "np.arange(3) * x", "(x > 0) * x", "np.where(np.isnan(x), 0.0, x)",
    "np.floor_divide(x, 1.0) * x", "x // 1.0 * x", "math.floor(x[0]) * x", "len(x) * x", "int(x[0] > 0) * x",
    "np.full_like(x, 2.0) * x",
]


@pytest.mark.parametrize("expr", NONDIFF_USES)
def test_non_differentiable_functions_give_zero_gradient(tmp_path, expr):
    module = _import_source(tmp_path / "nondiff_case.py", "nondiff_case_%d" % abs(hash(expr)),
                            "import math\nimport numpy as np\n\ndef f(x):\n    return np.sum(%s)\n" % expr)
    x = np.array([0.3, 1.7, -1.2])
    np.testing.assert_allclose(ad.grad(module.f)(x), fd_grad(module.f, [x], 0), atol=1e-6)


def test_supported_docs_are_current():
    import os
    import sys
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    sys.path.insert(0, os.path.join(root, "tools"))
    try:
        import gen_supported
    finally:
        sys.path.pop(0)
    with open(os.path.join(root, "docs", "supported.md")) as fh:
        text = fh.read()
    if sp is None:
        pytest.skip("docs/supported.md lists SciPy's rules too: SciPy is not installed")
    if "with Python %d.%d;" % sys.version_info[:2] not in text:
        pytest.skip("docs/supported.md was generated with another Python (version-specific math entries)")
    assert text == gen_supported.render(), "docs/supported.md is stale: run python tools/gen_supported.py"


def scaled_by(x, scale):
    return x * scale


def test_value_passed_to_a_parameter_without_a_derivative_is_an_error(tmp_path, monkeypatch):
    """A rule parameter with no vjp never silently drops the gradient of the value passed to it."""
    from adcompiler.rules.core import Table
    table = Table("test")
    table.define(scaled_by, "x, scale", "g * scale", linear=True)
    monkeypatch.setattr(rules, "TABLES", rules.TABLES + (table,))
    module = _import_source(tmp_path / "ignored_operand.py", "ignored_operand",
                            "from test_rules import scaled_by\n\ndef f(x, s):\n    return scaled_by(x, s * 2.0)\n")
    assert ad.grad(module.f)(1.5, 3.0) == 6.0   # only x depends on wrt: fine
    with pytest.raises(ad.AdError, match=r"scaled_by has no derivative w.r.t. its argument 'scale'") as info:
        ad.grad(module.f, wrt=1)(1.5, 3.0)
    assert "ignored_operand.py, line 4" in str(info.value)
    with pytest.raises(ad.AdError, match="no derivative w.r.t. its argument 'scale'"):
        ad.jvp(module.f, (1.5, 3.0), (0.0, 1.0))


@pytest.mark.parametrize("expr", ["np.unique(x)", "np.random.permutation(x)", "np.arange(x[0], 3.0)"])
def test_functions_without_a_gradient_refuse_values_that_depend_on_wrt(tmp_path, expr):
    module = _import_source(tmp_path / "without_gradient_case.py", "without_gradient_%d" % abs(hash(expr)),
                            "import numpy as np\n\ndef f(x):\n    return np.sum(%s ** 2)\n" % expr)
    with pytest.raises(ad.AdError, match="has no derivative"):
        ad.grad(module.f)(np.array([0.3, 1.7, -1.2]))


def test_maximum_shares_ties_in_the_arguments_precision():
    """np.maximum / np.minimum: the larger (smaller) operand takes the adjoint, ties share it
    equally, and a float32 program's adjoint stays float32 (runtime.above)."""
    from adcompiler.runtime import above
    a = np.array([1.0, 2.0, 3.0, np.nan], dtype=np.float32)
    share = above(a, 2.0)
    assert share.dtype == np.float32 and share.tolist() == [0.0, 0.5, 1.0, 0.0]
    assert above(np.arange(3), 1).dtype == np.float64 and above(2.0, 2.0) == 0.5 and above(1, 2) == 0.0
    assert above(np.float32(3.0), 2.0) == 1.0
    relu = lambda x: np.sum(np.maximum(x, 0.0) * x) + np.sum(np.minimum(x, 1.0))
    for dtype in (np.float32, np.float64):
        x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0], dtype=dtype)
        got = ad.grad(relu)(x)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, [1.0, 1.0, 2.0, 2.5, 4.0])  # (x = 1: the minimum's tie gives 1/2)


@pytest.mark.skipif(sp is None, reason="SciPy is not installed")
@pytest.mark.parametrize("trans", [0, 1])
def test_a_transposed_solve_chosen_by_a_variable_is_differentiated_twice(trans):
    # (the adjoint solves with the other transpose: 1 - trans was not a constant the rule accepts)
    import scipy.linalg as sla
    rng = np.random.RandomState(3)
    a, b = rng.randn(3, 3) + 3.0 * np.eye(3), rng.randn(3)
    triangular = lambda a, b: np.sum(np.sin(sla.solve_triangular(a, b, trans=trans, lower=True)))  # noqa: E731
    factored = lambda a, b: np.sum(np.sin(sla.lu_solve(sla.lu_factor(a[::-1]), b, trans=trans)))  # noqa: E731
    for f in (triangular, factored):
        ad.check_grads(f, (a, b), order=2)
        np.testing.assert_allclose(ad.grad(f, wrt=(0, 1))(a, b)[1], fd_grad(f, [a, b], 1),
                                   rtol=1e-6, atol=1e-8)


def test_diff_with_its_ends_in_reverse_over_reverse_hessians():
    # (diff's adjoint w.r.t. an end has the end's shape: reverse mode over it expanded the
    # adjoint it gets to a's)
    f = lambda x, y: (np.sum(np.diff(x, prepend=0.5, append=y) ** 3)  # noqa: E731
                      + np.sum(np.diff(x, n=2, prepend=y[:1]) ** 2))
    x, y = np.array([0.3, -1.2, 0.8, 2.0]), np.array([0.1, 0.7])
    for wrt in (0, 1):
        np.testing.assert_allclose(ad.hessian(f, wrt=wrt, mode="reverse")(x, y),
                                   ad.hessian(f, wrt=wrt)(x, y), rtol=1e-10, atol=1e-12)


def test_full_svd_of_a_non_square_matrix_through_its_leading_columns():
    # (the extra columns of u and rows of vh are any orthonormal completion: their use is
    # refused; reverse mode through the leading ones is the reduced SVD's, as PyTorch's)
    rng = np.random.RandomState(4)
    f = lambda a: (np.sum(np.abs(np.linalg.svd(a)[0][:, 0]))  # noqa: E731
                   + np.sum(np.abs(np.linalg.svd(a)[2][0])))
    for a in (rng.randn(3, 4), rng.randn(4, 3)):
        np.testing.assert_allclose(ad.grad(f)(a), fd_grad(f, [a], 0), rtol=1e-6, atol=1e-8)
    extra = lambda a: np.sum(np.linalg.svd(a)[2][3] ** 2 * np.arange(4.0))  # noqa: E731
    with pytest.raises(ad.AdError, match="first min"):
        ad.grad(extra)(rng.randn(3, 4))
    with pytest.raises(ad.AdError, match="full_matrices=True"):
        ad.jvp(f, (rng.randn(3, 4),), (np.ones((3, 4)),))
