"""Custom derivative rules and stop_gradient.

1. A rule that saves memory: ``unit(v)`` normalises rows; its vjp needs only the output (the
   rows' norms are recomputed from it), so nothing else is kept for the backward pass.
2. A straight-through estimator: rounding in the forward pass, the identity's gradient in the
   backward pass, written with ``ad.stop_gradient``.
Run: python examples/custom_rules.py
"""
import numpy as np

import adcompiler as ad


def unit(v):
    """Rows of ``v`` scaled to length 1."""
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def unit_vjp(g, ans, v):
    # d(v/|v|) = (I - u u^T) dv / |v|: |v| is recovered from v itself, the direction from ans
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return ((g - ans * np.sum(g * ans, axis=-1, keepdims=True)) / norms,)


def unit_jvp(ans, args, tangents):
    (v,), (t,) = args, tangents
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return (t - ans * np.sum(t * ans, axis=-1, keepdims=True)) / norms


ad.defvjp(unit, unit_vjp)
ad.defjvp(unit, unit_jvp)


def alignment(v, target):
    return np.sum(unit(v) * target)


def quantized_loss(w, x):
    # forward: weights rounded to multiples of 0.25; backward: as if not rounded
    w_q = w + ad.stop_gradient(np.round(w * 4.0) / 4.0 - w)
    return np.sum((x @ w_q - 1.0) ** 2)


def main():
    rng = np.random.RandomState(0)
    v, target = rng.randn(4, 3), rng.randn(4, 3)
    ad.check_grads(alignment, (v, target), order=1)  # both modes against finite differences
    first_row = ad.grad(alignment)(v, target)[0]
    print("alignment gradient (custom rule), first row:", np.round(first_row, 6))
    print("the generated code calls the rule by name:")
    print("\n".join(line for line in ad.source(alignment).splitlines() if "unit" in line))
    w, x = rng.randn(3), rng.randn(5, 3)
    g = ad.grad(quantized_loss)(w, x)
    w_q = np.round(w * 4.0) / 4.0
    np.testing.assert_allclose(g, 2 * x.T @ (x @ w_q - 1.0))  # the straight-through gradient
    print("straight-through gradient:", np.round(g, 6))


if __name__ == "__main__":
    main()
