"""Complex values in every mode, in JAX's convention (docs/complex.md): for a real ``f`` of a
complex ``z = x + iy``, ``grad(f)(z)`` is ``df/dx - i df/dy``; ``vjp``'s pullback is the
transpose of the jvp for the pairing ``Re(sum(a * b))``. Each case of ``complex_cases`` is
checked against central finite differences along the real and the imaginary directions; the
refusals (complex output of ``grad``, rules written for real values only, second derivatives)
are AdErrors."""
import importlib.util

import numpy as np
import pytest
from complex_cases import CASES

import adcompiler as ad

EPS = 1e-6
# (x.astype(float) of a complex x warns, as NumPy does)
pytestmark = pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")


@pytest.fixture(scope="module")
def functions(tmp_path_factory):
    """One function per case, in a module with source."""
    path = tmp_path_factory.mktemp("complexcases") / "complex_case_functions.py"
    lines = ["import numpy as np", "try:", "    import scipy.special as sp",
             "    import scipy.linalg as sla", "except ImportError:",
             "    pass", ""]
    for i, case in enumerate(CASES):
        lines += ["def case_%d(%s):" % (i, ", ".join(case.args)), "    out = %s" % case.expr,
                  "    return np.sum(out) if np.ndim(out) and %r else out" % case.real, ""]
    path.write_text("\n".join(lines))
    spec = importlib.util.spec_from_file_location("complex_case_functions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _draw(case, seed):
    rng = np.random.RandomState(seed)
    return [spec.draw(rng) for spec in case.args.values()]


def _direction(value, rng):
    """A random tangent of ``value``'s type (complex for a complex value)."""
    t = rng.randn(*np.shape(value))
    if np.iscomplexobj(value):
        t = t + 1j * rng.randn(*np.shape(value))
    return t if np.ndim(value) else (complex(t) if np.iscomplexobj(value) else float(t))


def _directional(fn, args, pos, t):
    """Central finite difference of ``fn`` at ``args`` along ``t`` in argument ``pos``."""
    hi, lo = list(args), list(args)
    hi[pos], lo[pos] = args[pos] + EPS * t, args[pos] - EPS * t
    return (np.asarray(fn(*hi)) - np.asarray(fn(*lo))) / (2 * EPS)


def _fd_gradient(fn, args, pos):
    """JAX's gradient by finite differences: d/dRe - i d/dIm for a complex argument."""
    x = np.asarray(args[pos])
    out = np.zeros(x.shape, dtype=x.dtype)
    for idx in np.ndindex(x.shape):
        unit = np.zeros(x.shape)
        unit[idx] = 1.0
        unit = unit if x.shape else float(unit)
        out[idx] = _directional(fn, args, pos, unit)
        if np.iscomplexobj(x):
            out[idx] -= 1j * _directional(fn, args, pos, 1j * unit)
    return out


def _ids():
    return ["%d:%s" % (i, c.expr[:50]) for i, c in enumerate(CASES)]


def _check_type(g, arg):
    """A gradient has its argument's type, shape and dtype."""
    if isinstance(arg, np.ndarray):
        assert isinstance(g, np.ndarray) and g.shape == arg.shape and g.dtype == arg.dtype
    else:
        assert type(g) is type(arg), (type(g), type(arg))


@pytest.mark.parametrize("index", range(len(CASES)), ids=_ids())
def test_reverse_mode_matches_finite_differences(functions, index):
    """grad (real outputs) or the pullback of a complex cotangent (complex outputs): the
    gradient by finite differences, or the transpose of the finite-difference jvp."""
    case, fn = CASES[index], getattr(functions, "case_%d" % index)
    positions = tuple(range(len(case.args)))
    for seed in (0, 1):
        args = _draw(case, seed)
        rng = np.random.RandomState(seed + 10)
        if case.real:
            grads = ad.grad(fn, wrt=positions)(*args)
            for pos, g in zip(positions, grads):
                np.testing.assert_allclose(g, _fd_gradient(fn, args, pos), rtol=1e-5, atol=1e-6,
                                           err_msg=case.expr)
                _check_type(g, args[pos])
            continue
        out, pullback = ad.vjp(fn, *args)
        cotangent = _direction(out, rng)
        grads = pullback(cotangent)
        for pos, g in zip(positions, grads):
            t = _direction(args[pos], rng)
            want = np.real(np.sum(cotangent * _directional(fn, args, pos, t)))
            assert np.real(np.sum(g * t)) == pytest.approx(want, rel=1e-5, abs=1e-6), case.expr
            _check_type(g, args[pos])


@pytest.mark.parametrize("index", range(len(CASES)), ids=_ids())
def test_forward_mode_matches_finite_differences(functions, index):
    case, fn = CASES[index], getattr(functions, "case_%d" % index)
    args = _draw(case, 2)
    rng = np.random.RandomState(3)
    tangents = [_direction(a, rng) for a in args]
    out, t_out = ad.jvp(fn, args, tangents)
    want = sum(_directional(fn, args, pos, t) for pos, t in enumerate(tangents))
    np.testing.assert_allclose(t_out, want, rtol=1e-5, atol=1e-6, err_msg=case.expr)
    np.testing.assert_allclose(out, fn(*args), rtol=1e-12)


@pytest.mark.parametrize("index", [i for i, c in enumerate(CASES) if c.real
                                   and any(s.shape for s in c.args.values())], ids=lambda i: CASES[i].expr[:50])
def test_single_precision_in_single_precision_out(functions, index):
    """complex64 and float32 arguments give gradients of their dtype, close to the double
    precision ones."""
    case, fn = CASES[index], getattr(functions, "case_%d" % index)
    args = _draw(case, 0)
    small = [a.astype(np.complex64 if np.iscomplexobj(a) else np.float32)
             if isinstance(a, np.ndarray) else a for a in args]
    positions = tuple(range(len(args)))
    for g, want, a in zip(ad.grad(fn, wrt=positions)(*small), ad.grad(fn, wrt=positions)(*args),
                          small):
        _check_type(g, a)
        np.testing.assert_allclose(g, want, rtol=2e-3, atol=2e-3)


def test_the_convention_is_jaxs():
    """JAX's documented example: grad of x**2 + y**2 at 3 + 4i is 6 - 8i (the conjugate of the
    direction of steepest ascent), and holomorphic functions differentiate as over the reals."""
    assert ad.grad(lambda z: np.real(z) ** 2 + np.imag(z) ** 2)(3.0 + 4.0j) == 6.0 - 8.0j
    z = np.array([1.0 + 2.0j, -0.5 + 0.1j])
    _, pullback = ad.vjp(np.sin, z)
    np.testing.assert_allclose(pullback(np.ones(2, dtype=complex))[0], np.cos(z))
    _, tangent = ad.jvp(np.exp, (z,), (np.full(2, 1j),))
    np.testing.assert_allclose(tangent, 1j * np.exp(z))


def complex_output(z):
    return np.sum(z * z)


def uses_sign(z):
    return np.sum(np.abs(np.sign(z) * z))


def uses_a_real_rule(z):
    return np.sum(np.abs(np.maximum(z, 0.0)))


def real_rule_on_real_values(x):
    y = np.maximum(x, 0.0) * (1.0 + 2.0j)
    return np.sum(np.abs(y) ** 2)


def spectral_norm(z):
    return np.linalg.norm(z, 2)


def through_a_list(zs):
    return np.sum(np.abs(zs[0]))


@pytest.mark.parametrize("fn, args, match", [
    (complex_output, (np.array([1.0 + 1.0j]),), "grad needs a real float scalar output(.|\n)*ad.vjp"),
    (uses_sign, (np.array([1.0 + 1.0j]),), "varies with a complex one"),
    (uses_a_real_rule, (np.array([1.0 + 1.0j]),), "written for real values"),
    (spectral_norm, (np.eye(2) * (1.0 + 1.0j),), "of a complex matrix is not supported"),
    (through_a_list, ([np.array([1.0 + 1.0j])],), "complex values inside a container"),
])
def test_what_is_not_supported_is_refused(fn, args, match):
    with pytest.raises(ad.AdError, match=match):
        ad.grad(fn)(*args)


def test_a_rule_for_real_values_still_applies_to_real_values_in_complex_code():
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(ad.grad(real_rule_on_real_values)(x),
                               _fd_gradient(real_rule_on_real_values, [x], 0), atol=1e-6)


@pytest.mark.parametrize("index", [i for i, c in enumerate(CASES) if c.real], ids=lambda i: CASES[i].expr[:50])
def test_second_order_matches_finite_differences_of_the_gradient(functions, index):
    """The gradient differentiated again, forward over reverse (jvp of the gradient) and reverse
    over reverse (vjp of it, the transpose of that jvp), against central differences of the
    gradient along a direction of every argument's type."""
    case, fn = CASES[index], getattr(functions, "case_%d" % index)
    args = _draw(case, 4)
    rng = np.random.RandomState(5)
    gradient = ad.grad(fn, wrt=0)
    if "np.linalg.norm" in case.expr:  # (a documented gap: an AdError, never a guess)
        with pytest.raises(ad.AdError, match="second derivative of np.linalg.norm of complex"):
            ad.jvp(gradient, args, [_direction(args[0], rng)] + [None] * (len(args) - 1))
        return
    t = _direction(args[0], rng)
    want = _directional(gradient, args, 0, t)
    tangents = [t] + [None] * (len(args) - 1)
    np.testing.assert_allclose(ad.jvp(gradient, args, tangents)[1], want, rtol=1e-4, atol=1e-5,
                               err_msg=case.expr)
    cotangent = _direction(args[0], rng)
    back = ad.vjp(gradient, *args)[1](cotangent)[0]
    assert np.real(np.sum(back * t)) == pytest.approx(np.real(np.sum(cotangent * want)), rel=1e-4,
                                                      abs=1e-5), case.expr


def test_the_hessian_of_a_real_function_with_complex_intermediates():
    x = np.random.RandomState(0).randn(6)
    hessian = ad.hessian(power_spectrum_loss)(x)
    gradient = ad.grad(power_spectrum_loss)
    want = np.stack([_directional(gradient, [x], 0, e) for e in np.eye(6)], axis=-1)
    np.testing.assert_allclose(hessian, want, rtol=1e-5, atol=1e-5)


def test_a_complex_tangent_of_a_real_argument_is_refused():
    with pytest.raises(ad.AdError, match="the tangent of x is complex"):
        ad.jvp(np.sin, (np.ones(2),), (np.ones(2) * 1j,))


def _variance_of(z):
    return np.var(z) + np.linalg.norm(z)


def calls_a_function(z):
    return _variance_of(z * 2.0)


def test_a_called_function_gets_the_rules_for_complex_values():
    z = np.array([1.0 + 2.0j, -0.5 + 0.3j, 2.0 - 1.0j])
    np.testing.assert_allclose(ad.grad(calls_a_function)(z), _fd_gradient(calls_a_function, [z], 0),
                               atol=1e-6)
    _, t = ad.jvp(calls_a_function, (z,), (z,))
    assert t == pytest.approx(_directional(calls_a_function, [z], 0, z), rel=1e-6)


def power_spectrum_loss(x):
    spectrum = np.fft.rfft(x)
    power = np.abs(spectrum) ** 2
    return power.sum()


def test_the_power_spectrum_of_a_real_signal():
    """The typical use: real input, complex intermediate, real loss (Parseval: 2 x * (2N..))."""
    x = np.random.RandomState(0).randn(16)
    np.testing.assert_allclose(ad.grad(power_spectrum_loss)(x),
                               _fd_gradient(power_spectrum_loss, [x], 0), rtol=1e-6, atol=1e-6)
    t = np.random.RandomState(1).randn(16)
    _, tangent = ad.jvp(power_spectrum_loss, (x,), (t,))
    assert tangent == pytest.approx(_directional(power_spectrum_loss, [x], 0, t), rel=1e-6)
    assert ad.grad(power_spectrum_loss)(x).dtype == np.float64


def real_only(x):
    return np.sum(np.abs(x) * np.var(x))


def test_real_code_is_generated_as_before():
    """Complex support changes nothing in code computing with real values only."""
    source = ad.source(real_only)
    assert "real_operands" not in source and "conj" not in source


_TRANSFORMS = {  # name: (argument shape, complex argument, extra arguments)
    "fft": ((5,), True, "n=6"), "ifft": ((2, 5), True, "axis=0"), "rfft": ((5,), False, "n=4"),
    "irfft": ((4,), True, "n=7"), "hfft": ((4,), True, ""), "ihfft": ((6,), False, "n=5"),
    "fft2": ((3, 4), True, "s=(2, 5)"), "ifft2": ((3, 4), True, ""),
    "rfft2": ((3, 4), False, "s=(4, 3)"), "irfft2": ((3, 4), True, "axes=(1, 0)"),
    "fftn": ((2, 3, 2), True, "axes=(0, 2)"), "ifftn": ((2, 3), True, "s=(3, 2), axes=(0, 1)"),
    "rfftn": ((2, 3, 4), False, ""), "irfftn": ((3, 3), True, "s=(4, 4), axes=(0, 1)"),
    "fftshift": ((4, 3), True, "axes=0"), "ifftshift": ((5,), True, ""),
}


@pytest.fixture(scope="module")
def transforms(tmp_path_factory):
    """For each transform, ``f(x, norm)``: a real function of its result."""
    path = tmp_path_factory.mktemp("ffts") / "fft_functions.py"
    lines = ["import numpy as np", ""]
    for name, (_, _, extra) in _TRANSFORMS.items():
        call = "np.fft.%s(x%s%s)" % (name, ", " + extra if extra else "",
                                     "" if "shift" in name else ", norm=norm")
        lines += ["def %s(x, norm):" % name, "    out = %s" % call,
                  "    return np.sum(np.real(out) ** 3 + np.imag(out) * np.real(out))", ""]
    path.write_text("\n".join(lines))
    spec = importlib.util.spec_from_file_location("fft_functions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("norm", [None, "backward", "ortho", "forward"])
@pytest.mark.parametrize("name", list(_TRANSFORMS))
def test_every_transform_with_every_norm(transforms, name, norm):
    """grad and jvp of each np.fft function with n/s, axis/axes and each norm, against finite
    differences along the real and imaginary directions."""
    shape, is_complex, _ = _TRANSFORMS[name]
    rng = np.random.RandomState(0)
    x = rng.randn(*shape) + (1j * rng.randn(*shape) if is_complex else 0.0)
    fn = getattr(transforms, name)
    g = ad.grad(fn)(x, norm)
    np.testing.assert_allclose(g, _fd_gradient(fn, [x, norm], 0), rtol=1e-5, atol=1e-6)
    _check_type(g, x)
    t = _direction(x, rng)
    _, tangent = ad.jvp(fn, (x, norm), (t, None))
    assert tangent == pytest.approx(_directional(fn, [x, norm], 0, t), rel=1e-5, abs=1e-6)


def writes_into(x, buf):
    return np.sum(np.abs(np.fft.fft(x, out=buf)))


def test_an_fft_keyword_the_rule_does_not_handle_is_refused():
    with pytest.raises(ad.AdError, match="out"):
        ad.grad(writes_into)(np.ones(4), np.zeros(4, dtype=complex))


def test_check_grads_checks_complex_arguments_and_outputs():
    z = np.array([1.0 + 0.5j, -0.3 + 2.0j])
    ad.check_grads(lambda z: np.sin(z) * np.conj(z), [z], order=1)
    ad.check_grads(lambda z: np.abs(z) ** 3, [z], order=1)


def test_check_grads_finds_a_wrong_complex_rule():
    """A rule that conjugates where it should not is caught (the check is not vacuous)."""
    ad.defvjp(_twice, lambda g, ans, z: (np.conj(2.0 * g),))
    with pytest.raises(AssertionError, match="reverse mode"):
        ad.check_grads(_calls_twice, [np.array([1.0 + 0.5j])], order=1, modes=("rev",))


def _twice(z):
    return 2.0 * z


def _calls_twice(z):
    return _twice(z) * 1.0


def _makes_complex(x):
    return x * (1.0 + 2.0j)


def calls_a_complex_maker(x):
    return np.var(_makes_complex(x))


def calls_what_it_is_given(x, f):
    return np.var(f(x))


def test_a_function_returning_complex_values_makes_its_caller_complex():
    """The caller sees the complex value made in a function it calls (read from that function's
    code); one known only at run time that returns a complex value to code generated for real
    values is refused."""
    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(ad.grad(calls_a_complex_maker)(x),
                               _fd_gradient(calls_a_complex_maker, [x], 0), atol=1e-6)
    with pytest.raises(ad.AdError, match="returns a complex value to a caller whose code was"):
        ad.grad(calls_what_it_is_given)(x, _makes_complex)
    with pytest.raises(ad.AdError, match="returns a complex value to a caller whose code was"):
        ad.jvp(calls_what_it_is_given, (x, _makes_complex), (x, None))


def _transform_of(transform):
    def apply(x):
        return transform(x, 6)
    return apply


def test_a_function_held_in_a_closure_makes_its_caller_complex():
    """(autograd's test_fft: ``def fun(x): return fft_fun(x, n)``, fft_fun a closure variable.)"""
    spectrum = _transform_of(np.fft.rfft)

    def loss(x):
        return np.sum(np.abs(spectrum(x)) ** 2)
    x = np.random.RandomState(0).randn(5)
    np.testing.assert_allclose(ad.grad(loss)(x), _fd_gradient(loss, [x], 0), rtol=1e-6, atol=1e-6)


def _make_recursive():
    def countdown(x, k):
        return x if k == 0 else countdown(x, k - 1) * 1.5
    return countdown


def test_a_recursive_closure_is_read_once():
    """A function holding itself in its closure: the scan for complex values ends."""
    from adcompiler.planning.complex_values import _complex_object
    assert _complex_object(_make_recursive()) is False


def built_in_a_loop(z):
    out = np.zeros(3, dtype=complex)
    for i in range(3):
        out[i] = z[i] * z[(i + 1) % 3]
    out[1:] += z[:2] * 1j
    return np.sum(np.abs(out) ** 2) + np.abs(z[0]) + np.real(z[[0, 2]] @ z[[1, 1]])


def real_argument_in_a_loop(x):
    out = np.zeros(4, dtype=complex)
    for i in range(4):
        out[i] = x[i] * np.exp(1j * x[i])
    return np.sum(np.abs(out - 1.0) ** 2)


def branches_and_lists(z):
    s = 0.0
    zs = []
    for i in range(len(z)):
        if np.abs(z[i]) > 0.5:
            s = s + np.abs(z[i]) ** 2
        else:
            s = s + np.real(z[i])
        zs.append(z[i] * (i + 1.0))
    return s + np.abs(sum(zs)) + np.abs(np.stack(zs)).sum()


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("fn, is_complex", [(built_in_a_loop, True), (real_argument_in_a_loop, False),
                                            (branches_and_lists, True)])
def test_loops_writes_branches_and_lists(fn, is_complex):
    """Indexing, writes into arrays in a loop (the adjoint of a real array may be complex: its
    buffer is, without a ComplexWarning), branches, lists; in every mode and second order."""
    rng = np.random.RandomState(0)
    z = rng.randn(4) + (1j * rng.randn(4) if is_complex else 0.0)
    g = ad.grad(fn)(z)
    np.testing.assert_allclose(g, _fd_gradient(fn, [z], 0), rtol=1e-6, atol=1e-6)
    _check_type(g, z)
    t = _direction(z, rng)
    assert ad.jvp(fn, (z,), (t,))[1] == pytest.approx(_directional(fn, [z], 0, t), rel=1e-6)
    gradient = ad.grad(fn)
    np.testing.assert_allclose(ad.jvp(gradient, (z,), (t,))[1], _directional(gradient, [z], 0, t),
                               rtol=1e-4, atol=1e-5)


def _gradient_of_phase(z):
    return ad.grad(lambda u: np.sum(np.abs(np.real(u)) ** 1.4 + np.abs(np.imag(u)) ** 1.3))(z)


def calls_a_gradient(z):
    return _gradient_of_phase(z) * 2.0


def test_a_gradient_called_inside_a_function_of_complex_values():
    """(autograd's test_complex_separate_real_and_imaginary: grad(fun) called as a value.)"""
    z = np.array([0.3 + 0.4j, -1.2 + 0.1j])
    t = np.array([0.5 - 1.0j, 0.2 + 0.3j])
    _, tangent = ad.jvp(calls_a_gradient, (z,), (t,))
    np.testing.assert_allclose(tangent, _directional(calls_a_gradient, [z], 0, t), rtol=1e-5)


def _intensity(u):
    return np.abs(np.sin(u)) ** 2


def _total_intensity(z):
    return np.sum(_intensity(z))


def test_the_other_transforms_take_complex_values():
    """hvp, linearize, elementwise_grad and vmap follow the same convention."""
    z = np.array([1.0 + 2.0j, -0.5 + 0.3j, 2.0 - 1.0j])
    v = np.array([0.3 - 1.0j, 1.0 + 0.5j, -0.2 + 0.1j])
    gradient = ad.grad(_total_intensity)
    np.testing.assert_allclose(ad.hvp(_total_intensity)(z, v),
                               _directional(gradient, [z], 0, v), rtol=1e-5)
    assert ad.linearize(_total_intensity, z)[1](v) == pytest.approx(
        _directional(_total_intensity, [z], 0, v), rel=1e-6)
    np.testing.assert_allclose(ad.elementwise_grad(np.abs)(z), np.conj(z) / np.abs(z))
    np.testing.assert_allclose(ad.vmap(ad.grad(_intensity))(z), gradient(z))


_NOT_SYMMETRIC = np.array([[0.0, -1.0], [1.0, 0.5]])


def uses_complex_eigenvalues(x):
    """(np.linalg.eigvals of a constant matrix: complex constants.)"""
    w = np.linalg.eigvals(_NOT_SYMMETRIC)
    return np.var(x * w) + np.abs(np.sum(x * np.emath.sqrt(-2.0)))


def test_complex_constants_from_functions_without_a_rule():
    x = np.array([0.3, -1.2])
    np.testing.assert_allclose(ad.grad(uses_complex_eigenvalues)(x),
                               _fd_gradient(uses_complex_eigenvalues, [x], 0), atol=1e-6)


def square_root_entries(a):
    import scipy.linalg as sla
    return np.sum(np.abs(sla.sqrtm(a * (1.0 + 0.0j))) ** 2)


@pytest.mark.parametrize("a", [np.diag([-1.0, 2.0, 3.0]) + 0.5j * np.eye(3)[0],  # (off the cut)
                               np.diag([-1.0, 2.0, 3.0]) + 0j, -np.eye(3), np.diag([1.0, 2.0, 0.0])])
def test_sqrtm_is_differentiated_off_its_branch_cut_only(a):
    """The principal square root is holomorphic off the negative real axis: a complex matrix with
    an eigenvalue on it (or a real one with a repeated one there), or a singular one, is an
    AdError; elsewhere its gradient matches finite differences."""
    pytest.importorskip("scipy.linalg")
    if a[0, 0].imag:
        np.testing.assert_allclose(ad.grad(square_root_entries)(a),
                                   _fd_gradient(square_root_entries, [a], 0), atol=1e-6)
        return
    with pytest.raises(ad.AdError, match="sqrtm is not supported at a singular matrix, nor"):
        ad.grad(square_root_entries)(a)


def largest_eigenvalue(a):
    w = np.linalg.eig(a)[0]
    return np.real(w[np.argmax(np.real(w))])


def eigenvalue_sum(a):
    return np.sum(np.linalg.eigvalsh(a))


def first_singular_value(a):
    return np.linalg.svd(a, compute_uv=False)[0]


def test_spectral_derivatives_have_their_exact_values():
    """Exact values: an eigenvalue's gradient is u v^T / (u^T v) (left and right eigenvectors;
    for [[2, 1], [0, 3]] and its eigenvalue 3, [[0, 0], [1, 1]]); the sum of a Hermitian
    matrix's eigenvalues is the real part of its trace, read from the lower triangle and the
    diagonal (gradient: the identity, in JAX's convention); a singular value's is u v^H,
    conjugated (for diag(3, 1j), whose first singular value is 3: e_1 e_1^T)."""
    a = np.array([[2.0, 1.0], [0.0, 3.0]])
    np.testing.assert_allclose(ad.grad(largest_eigenvalue)(a), [[0.0, 0.0], [1.0, 1.0]],
                               atol=1e-12)
    np.testing.assert_allclose(ad.jvp(largest_eigenvalue, (a,), (np.eye(2),))[1], 1.0)
    h = np.array([[1.0, 5.0 + 2.0j], [0.5 - 1.0j, -2.0 + 3.0j]])
    np.testing.assert_allclose(ad.grad(eigenvalue_sum)(h), np.eye(2), atol=1e-12)
    d = np.diag([3.0, 1.0j])
    np.testing.assert_allclose(ad.grad(first_singular_value)(d), [[1.0, 0.0], [0.0, 0.0]],
                               atol=1e-12)
