"""The fast paths of cached calls (issue "Speed II", small calls and higher order): what they skip
is decided by what they check, and they are forgotten with the caches."""
import numpy as np
import pytest

import adcompiler as ad
from adcompiler import api


def layer(params, x):
    return np.sum(np.maximum(0.0, x @ params["W"] + params["b"]) ** 2)


def energy(x):
    return np.sum(np.sin(x) * x ** 2) + np.sum(x) ** 2


def energy_hessian(x):
    s, c = np.sin(x), np.cos(x)
    return np.diag(-x * x * s + 4.0 * x * c + 2.0 * s) + 2.0


def _params():
    rng = np.random.RandomState(0)
    return {"W": rng.randn(3, 2), "b": rng.randn(2)}, rng.randn(4, 3)


@pytest.mark.parametrize("entry, match", [
    (np.array([1.0 + 1.0j, 0.0]), "complex"),
    (np.asmatrix(np.ones((1, 2))), "np.matrix"),
])
def test_a_dict_entry_of_an_unknown_kind_is_refused_after_the_code_is_cached(entry, match):
    params, x = _params()
    g = ad.grad(layer)
    g(params, x)
    g(params, x)  # (the dispatcher's fast path for a dict argument)
    with pytest.raises(ad.AdError, match=match):
        g({"W": params["W"], "b": entry}, x)
    assert set(g(params, x)) == {"W", "b"}


def test_the_dispatcher_follows_the_kinds_of_calls_as_they_change():
    g = ad.grad(lambda x, y: np.sum(x * y) if np.ndim(x) else x * y)
    x = np.arange(3.0)
    for _ in range(2):
        assert g(2.0, 3.0) == 3.0
        np.testing.assert_array_equal(g(x, 2 * x), 2 * x)
        np.testing.assert_array_equal(g(x[:2], x[:2] + 1.0), x[:2] + 1.0)
        np.testing.assert_array_equal(g(x.astype(np.float32), x), x)
        assert g(2.0, 3.0) == 3.0
        assert g(x, 2 * x).dtype == np.float64


def test_a_cleared_cache_generates_the_code_of_a_remembered_kind_again():
    def cube(x):
        return x * x * x
    g = ad.grad(cube)
    assert g(2.0) == 12.0
    before = api.STATS["generated"]
    assert g(2.0) == 12.0 and api.STATS["generated"] == before
    ad.api.clear_cache()
    assert g(2.0) == 12.0 and api.STATS["generated"] == before + 1


def test_hessian_reuses_its_code_and_gradient_functions(monkeypatch):
    h = ad.hessian(energy)
    x = np.linspace(-1.0, 1.0, 5)
    np.testing.assert_allclose(h(x), energy_hessian(x), rtol=1e-10, atol=1e-12)
    before = api.STATS["generated"]
    made = []
    monkeypatch.setattr(api.jacobians, "grad", lambda *a, **k: made.append(a) or ad.grad(*a, **k))
    for _ in range(3):
        np.testing.assert_allclose(h(x + 0.5), energy_hessian(x + 0.5), rtol=1e-10, atol=1e-12)
    assert api.STATS["generated"] == before
    assert not made, "no new grad(f) per call"
    ad.api.clear_cache()
    np.testing.assert_allclose(h(x), energy_hessian(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h(x[:3]), energy_hessian(x[:3]), rtol=1e-10, atol=1e-12)


def test_hessian_fast_path_keeps_the_caller_arrays():
    def writes(x):
        x *= 2.0
        return np.sum(x ** 3)
    h = ad.hessian(writes)
    x = np.array([1.0, 2.0])
    for _ in range(3):
        np.testing.assert_allclose(h(x), np.diag(48.0 * x))
        np.testing.assert_array_equal(x, [1.0, 2.0])


def test_hvp_fast_path_matches_the_hessian_and_follows_shapes():
    hvp = ad.hvp(energy)
    rng = np.random.RandomState(1)
    for n in (4, 4, 6, 4):
        x, v = rng.randn(n), rng.randn(n)
        np.testing.assert_allclose(hvp(x, v), energy_hessian(x) @ v, rtol=1e-10, atol=1e-12)
    with pytest.raises(ad.AdError, match="shape"):
        hvp(rng.randn(4), rng.randn(3))
    ad.api.clear_cache()
    np.testing.assert_allclose(hvp(x, v), energy_hessian(x) @ v, rtol=1e-10, atol=1e-12)


def test_the_dispatcher_follows_shapes_beside_a_dict():
    g = ad.grad(layer)
    params, x = _params()
    for rows in (4, 2, 4, 1):
        got = g(params, x[:rows])
        fd = ad.grad(layer, optimize=False)(params, x[:rows])
        for k in params:
            np.testing.assert_allclose(got[k], fd[k])
    with pytest.raises(ad.AdError, match="complex"):
        g({"W": params["W"], "b": params["b"] * 1j}, x)


def _pair_product(p, x):
    a, b = p
    return np.sum(a * b * x)


@pytest.mark.parametrize("first", [(1.0, 2.0), (np.ones(2), 2.0), (np.float32(1.0), 2.0)])
def test_a_tuple_of_other_entry_kinds_runs_the_code_for_them(first):
    """A tuple's argument kind holds its entries' kinds: a call with a tuple whose entries differ
    from the first call's (the dispatcher keys tuples by their class) runs the code generated for
    the new entries, never the first call's (which gave wrong gradients silently)."""
    g = ad.grad(_pair_product)
    x = np.ones(2)
    g(first, x)
    cases = [((np.ones(2), 3 * np.ones(2)), (3 * np.ones(2), np.ones(2))),
             ((np.ones(2), np.float32(2.0)), (np.full(2, 2.0), np.float32(2.0))),
             ((1.0, 2.0), (4.0, 2.0))]
    for _ in range(2):
        for p, want in cases:
            got = g(p, x)
            for a, b in zip(got, want):
                np.testing.assert_allclose(a, b)
                assert np.shape(a) == np.shape(b) and type(a) is type(b)
        with pytest.raises(ValueError, match="too many values to unpack"):  # (as the plain call)
            g((np.ones(2), 3 * np.ones(2), 5.0), x)
