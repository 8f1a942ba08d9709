"""A dict's keys carry no derivative, in forward mode too: ``list(d)``, ``tuple(d)``, ``sum(d)``,
``max(d)``, ``d.items()`` of a dict with number keys gave the keys' own values as their tangents
(``for k in d: d[k] += w * k`` had a wrong jvp and Hessian). And the idioms that group values
in a dict: ``collections.defaultdict`` made in the function and ``d.setdefault(k, []).append(v)``,
differentiated as the dict they build (a defaultdict that leaves the function, or whose missing
entries Python would store at another moment than the rewrite does, stays refused)."""
import collections
from collections import defaultdict

import numpy as np
import pytest
from conftest import check_all_modes

import adcompiler as ad

W = np.array([0.4, -0.3])
GROUP = [0, 1, 0, 2, 1]
V = np.array([0.4, -0.3, 0.8, 1.2, 0.1])


def number_keys(w):
    return {3: w[0], 5: w[1] ** 2, 1: w[0] * w[1]}


def loop_over_keys_updating_entries(w):
    d = {3: 0.0, 5: 0.0}
    d[3] += w[0]
    for k in d:
        d[k] += w[1] * k
    return sum(np.array(list(d.values())) * np.arange(len(d)))


def sum_and_extremes_of_keys(w):
    d = number_keys(w)
    best = max(d.items())  # (a pair: reverse mode crashed dividing it)
    return sum(d) * d[3] + max(d) * d[5] + min(d) + sum(tuple(d)) * w[1] + best[0] * best[1]


def pairs_of_items(w):
    d = number_keys(w)
    out = 0.0
    for k, v in d.items():
        out = out + k * v
    scaled = {k: v * k for k, v in d.items()}
    return out + sum(scaled.values()) + sum(k * v for k, v in sorted(d.items()))


@pytest.mark.parametrize("fn", [loop_over_keys_updating_entries, sum_and_extremes_of_keys,
                                pairs_of_items])
def test_the_keys_of_a_dict_have_no_tangent(fn):
    check_all_modes(fn, [W])
    # (forward mode of first order was wrong: the keys' values taken for tangents)
    for e in np.eye(2):
        h = 1e-6
        want = (fn(W + h * e) - fn(W - h * e)) / (2 * h)
        assert ad.jvp(fn, (W,), (e,))[1] == pytest.approx(want, rel=1e-6, abs=1e-8)
    assert np.allclose(ad.hessian(loop_over_keys_updating_entries)(W), 0.0)  # (it is linear)


def grouped_with_defaultdict(v):
    groups = defaultdict(list)
    for g, x in zip(GROUP, v):
        groups[g].append(x ** 2)
    return sum(np.log1p(sum(xs)) for xs in groups.values())


def grouped_with_setdefault(v):
    groups = {}
    for g, x in zip(GROUP, v):
        groups.setdefault(g, []).append(x ** 2)
    return sum(np.log1p(sum(xs)) for xs in groups.values())


def totals_with_defaultdict(v):
    totals = collections.defaultdict(float)
    for g, x in zip(GROUP, v):
        if x > 0:
            totals[g] += x ** 2
        elif totals[g] > -1.0:  # (a missing entry read in a test: stored before it)
            totals[g] -= x * 2.0
    first = totals[7]  # (stored as 0.0 here, as the plain call does)
    return sum(totals.values()) * len(totals) + first


def products_with_a_lambda_default(v):
    products = defaultdict(lambda: 0.5)
    for g, x in zip(GROUP, v):
        products[g] *= np.exp(x)
    out = 0.0
    for k, p in sorted(products.items()):
        out = out + k * p
    return out + products.get(9, 2.0)


def nested_defaultdict(v):
    table = defaultdict(dict)
    for i, (g, x) in enumerate(zip(GROUP, v)):
        table[g][i] = x ** 2
    return sum(sum(row.values()) * len(row) for row in table.values())


@pytest.mark.parametrize("fn", [grouped_with_defaultdict, grouped_with_setdefault,
                                totals_with_defaultdict, products_with_a_lambda_default,
                                nested_defaultdict])
def test_values_grouped_in_a_dict(fn):
    check_all_modes(fn, [V])


def defaultdict_returned(v):
    groups = defaultdict(list)
    for g, x in zip(GROUP, v):
        groups[g].append(x)
    return sum(sum(xs) for xs in groups.values()), groups


def keys_counted_before_an_entry_is_stored(v):
    totals = defaultdict(lambda: 1.0)
    for g, x in zip(GROUP, v):
        totals[g] *= x
    # (the plain call sums before totals[7] is stored: storing it first would add 1.0)
    return sum(totals.values()) + totals[7]


def test_a_defaultdict_the_rewrite_cannot_keep_is_refused():
    with pytest.raises(ad.AdError):
        ad.grad(lambda v: defaultdict_returned(v)[0])(V)
    with pytest.raises(ad.AdError, match="defaultdict"):
        ad.grad(keys_counted_before_an_entry_is_stored)(V)
    assert keys_counted_before_an_entry_is_stored(V) == pytest.approx(
        0.4 * 0.8 + -0.3 * 0.1 + 1.2 + 1.0)


def a_view_kept_before_an_entry_is_stored(x):
    totals = defaultdict(float)
    totals[1] += x
    keys = totals.keys()  # (a live view: it shows totals[5] once Python stores it)
    return len(keys) * x + totals[5]


def a_key_read_from_the_dict(x):
    counts = defaultdict(int)
    counts[counts[5]] += 1
    return x * len(counts)


def test_what_the_defaultdict_rewrite_cannot_keep():
    # (the rewrite stores a missing entry before its statement: a view kept in a name saw it
    # early, and d[d[5]] read d[5] before it was stored; review of session 25)
    with pytest.raises(ad.AdError, match="view of its keys"):
        ad.grad(a_view_kept_before_an_entry_is_stored)(0.7)
    assert ad.value_and_grad(a_key_read_from_the_dict)(0.7) == pytest.approx((1.4, 2.0))


def zipped_keys(x):
    d = dict(zip([x, 2.0], [3.0, x]))
    return sum(d) + sum(d.values())


def test_keys_that_may_depend_on_wrt_are_refused():
    # (a key has no derivative: they were read as constants; review of session 25)
    for run in (lambda: ad.grad(zipped_keys)(0.7), lambda: ad.jvp(zipped_keys, (0.7,), (1.0,))):
        with pytest.raises(ad.AdError, match="floating-point keys"):
            run()


# -- an OrderedDict made and used in the function is the dict it builds --------------------------

def ordered_layers(W1, W2, x):
    layers = collections.OrderedDict()
    layers["fc1"] = W1
    layers["fc2"] = W2
    h = x
    for name, W in layers.items():
        h = np.tanh(h @ W) if name != "fc2" else h @ W
    return np.sum(h ** 2) + len(layers)


def test_an_ordered_dict_kept_in_the_function(rng):
    check_all_modes(ordered_layers, (rng.randn(3, 4) * 0.5, rng.randn(4, 2) * 0.5, rng.randn(5, 3)),
                    wrt=(0, 1))


def ordered_and_returned(w):
    d = collections.OrderedDict()
    d["w"] = w * 2
    d.move_to_end("w")
    return np.sum(d["w"])


def test_an_ordered_dict_used_as_one_stays_refused(rng):
    with pytest.raises(ad.AdError, match="move_to_end"):  # (not made a dict: refused as before)
        ad.grad(ordered_and_returned)(rng.randn(3))


# -- defaults copied and updated, results kept in a dict of lists (trial p022) -------------------

SIR_DEFAULTS = {"beta": 0.3, "gamma": 0.1, "I0": 5.0}


def sir_run(params, days=4, **overrides):
    p = dict(SIR_DEFAULTS)
    p.update(params)
    p.update(overrides)  # (the extra keywords: a dict, empty here)
    susceptible, infected = 100.0 - p["I0"], p["I0"]
    results = {"S": [], "I": []}
    for _ in range(days):
        new = p["beta"] * susceptible * infected / 100.0
        susceptible, infected = susceptible - new, infected + new - p["gamma"] * infected
        results["S"].append(susceptible)
        results["I"].append(infected)  # (the dict is returned after the loop: it holds them then)
    return results


def sir_loss(beta, gamma):
    res = sir_run({"beta": beta}, gamma=gamma)
    other = sir_run({"beta": beta})
    return np.sum(np.array(res["I"]) ** 2) / 100.0 + other["S"][-1]


def test_updated_defaults_and_a_returned_dict_of_lists():
    check_all_modes(sir_loss, (0.5, 0.2), wrt=(0, 1))
