"""``match`` statements as people write them to choose an activation, a loss or a layer: values,
``|``, captures, sequences with ``*rest``, mappings, classes with ``__match_args__`` and keyword
sub-patterns, builtin classes, guards, and ``return``/``continue`` inside cases; differentiated
on the case taken, against finite differences in every mode, and chosen as the plain call
chooses."""
from dataclasses import dataclass

import numpy as np
import pytest
from conftest import check_all_modes

import adcompiler as ad


@dataclass
class Scaled:
    factor: float
    shift: float = 0.0


def activation(x, kind):
    match kind:
        case "relu":
            return np.maximum(x, 0.0)
        case "tanh" | "th":
            return np.tanh(x)
        case ("power", k):
            return x ** k
        case ["sum", *rest] if len(rest) > 1:
            return x * sum(rest)
        case {"name": "softplus", "beta": beta}:
            return np.log1p(np.exp(beta * x)) / beta
        case Scaled(f, shift=s):
            return x * f + s
        case ("scale", float(c)) | ("scale", int(c)) | ["times", c]:
            return x * c
        case float() | int():
            return x * kind
        case None:
            return x * 0.5
        case _:
            return -x


def loss(x, kind):
    return np.sum(activation(x, kind) ** 2)


KINDS = ["relu", "tanh", "th", ("power", 3), ["sum", 1.0, 2.0], ["sum", 2.0], ("scale", 2),
         ["times", 1.5], ("scale", "no"),
         {"name": "softplus", "beta": 2.0}, Scaled(1.5, shift=0.2), 2.5, 3, None, "other"]


@pytest.mark.parametrize("kind", KINDS, ids=repr)
def test_the_case_taken_is_differentiated(kind):
    x = np.array([0.5, -1.2, 0.3])
    assert ad.value_and_grad(loss)(x, kind)[0] == pytest.approx(loss(x, kind))
    check_all_modes(loss, [x, kind])


def total(x, steps):
    out = 0.0
    for step in steps:
        match step:
            case ("skip", _):
                continue
            case ("stop", _):
                break
            case ("add", w):
                out = out + np.sum(x * w)
            case (op, w):
                raise ValueError("unknown step %s" % op)
    return out


def test_continue_break_and_raise_inside_cases():
    x = np.array([0.4, 1.1])
    steps = [("add", 2.0), ("skip", 0), ("add", -1.5), ("stop", 0), ("add", 9.0)]
    check_all_modes(total, [x, steps])
    with pytest.raises(ValueError, match="unknown step mul"):
        ad.grad(total)(x, [("mul", 1.0)])


def keeps_the_rest(x, opts):
    match opts:
        case {"scale": k, **rest}:
            return x * k + sum(rest.values())
    return x


def test_the_rest_of_a_mapping_pattern_is_a_dict_of_the_other_entries():
    x = np.array([0.5, 1.5])
    check_all_modes(lambda x, k, s: np.sum(keeps_the_rest(x, {"scale": k, "shift": s})),
                    [x, 2.0, 0.3], wrt=(0, 1, 2))
