"""Dataclasses made inside the differentiated function, as modern code writes small containers
of parameters and layers: fields from positional and keyword arguments, defaults and
``default_factory``, ``__post_init__`` deriving attributes, methods and ``__call__``,
``dataclasses.replace``, ``asdict`` and ``astuple``; each against finite differences in every
mode."""
import dataclasses
from dataclasses import dataclass, field, replace

import numpy as np
import pytest
from conftest import check_all_modes

import adcompiler as ad


@dataclass
class Dense:
    W: np.ndarray
    b: np.ndarray
    scale: float = 1.0
    history: list = field(default_factory=list)

    def __call__(self, x):
        out = np.tanh(x @ self.W + self.b) * self.scale
        return out


@dataclass
class Gaussian:
    mean: np.ndarray
    log_std: np.ndarray

    def __post_init__(self):
        self.std = np.exp(self.log_std)
        self.var = self.std ** 2

    def log_prob(self, x):
        z = (x - self.mean) / self.std
        return -0.5 * np.sum(z ** 2) - np.sum(np.log(self.std))


def two_layers(W1, b1, W2, x):
    first = Dense(W1, b1, scale=2.0)
    second = Dense(W2, b=np.zeros(W2.shape[1]))
    return np.sum(second(first(x)) ** 2)


def likelihood(mean, log_std, x):
    g = Gaussian(mean, log_std=log_std)
    return g.log_prob(x) + np.sum(g.var)


def replaced_scale(W, b, x):
    layer = Dense(W, b)
    wider = replace(layer, scale=0.5)
    return np.sum(layer(x)) + np.sum(wider(x) ** 2)


X = np.array([[1.0, 2.0], [-0.5, 0.3]])


def test_a_dataclass_with_defaults_made_inside():
    W1 = np.array([[0.5, -0.2], [0.1, 0.3]])
    W2 = np.array([[0.4], [-0.7]])
    check_all_modes(two_layers, [W1, np.array([0.1, -0.1]), W2, X], wrt=(0, 1, 2))


def test_post_init_derives_attributes_and_methods_read_them():
    check_all_modes(likelihood, [np.array([0.2, -0.1]), np.array([0.3, -0.4]), X],
                    wrt=(0, 1))


def test_dataclasses_replace_makes_a_new_object_with_the_changes():
    W = np.array([[0.5, -0.2], [0.1, 0.3]])
    check_all_modes(replaced_scale, [W, np.array([0.1, -0.1]), X], wrt=(0, 1))


def missing_field(W):
    layer = Dense(W)
    return np.sum(layer.W)


def test_a_missing_field_is_an_error_at_its_line():
    with pytest.raises(ad.AdError, match="missing argument 'b' for Dense"):
        ad.grad(missing_field)(np.ones((2, 2)))


@dataclasses.dataclass
class Weights:
    w: np.ndarray
    b: float


def as_dict_and_tuple(w):
    p = Weights(w * 2.0, 0.5)
    d = dataclasses.asdict(p)
    t = dataclasses.astuple(p)
    d["w"][0] = 7.0  # (a deep copy: p.w keeps its value)
    return sum(np.sum(np.asarray(v) ** 2) for v in d.values()) + np.sum(t[0] * p.w) * t[1]


def test_asdict_and_astuple_of_a_dataclass_made_here():
    # found by trial 13 (p1037): dataclasses.asdict / astuple were library functions with no rule
    check_all_modes(as_dict_and_tuple, [np.array([1.0, 2.0])])
