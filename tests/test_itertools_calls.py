"""``itertools`` iterators over differentiated values (``chain``, ``product``, ``pairwise``,
``combinations``, ``permutations``, ``combinations_with_replacement``), spelled out as lists the
derivative follows, against finite differences in every mode."""
import itertools

import numpy as np
import pytest
from conftest import check_all_modes

import adcompiler as ad


def chained(x):
    pts = list(itertools.chain([0.5], [x[0], x[1]], x[1:]))
    return sum(p ** 2 for p in pts)


def producted(x):
    return sum(a * b for a, b in itertools.product([x[0], x[1]], [1.0, 2.0])) \
        + sum(a * b * c for a, b, c in itertools.product(x[:2], repeat=3))


def paired(x):
    pts = [0.0, x[0], x[1], 3.0]
    return sum((b - a) ** 2 * b for a, b in itertools.pairwise(pts))


def combined(x):
    pts = [x[0], x[1], 2.0]
    total = sum(a * b for a, b in itertools.combinations(pts, 2))
    total += sum(a - b ** 2 for a, b in itertools.permutations(pts, 2))
    return total + sum(a * b for a, b in itertools.combinations_with_replacement(x, 2))


def rows_of_an_array(W):
    return sum(np.sum(r1 * r2) for r1, r2 in itertools.combinations(W, 2))


@pytest.mark.parametrize("fn, arg", [(chained, np.array([1.0, 2.0, -0.5])),
                                     (producted, np.array([1.0, 2.0])),
                                     (paired, np.array([0.7, 2.0])),
                                     (combined, np.array([1.0, 2.0])),
                                     (rows_of_an_array, np.arange(6.0).reshape(3, 2) * 0.3)])
def test_itertools_over_differentiated_values(fn, arg):
    check_all_modes(fn, [arg])


def starred_chain(x):
    parts = [[x[0]], [x[1]]]
    return sum(itertools.chain(*parts))


def test_a_starred_chain_is_refused():
    with pytest.raises(ad.AdError, match="itertools.chain"):
        ad.grad(starred_chain)(np.array([1.0, 2.0]))
