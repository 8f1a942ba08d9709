"""Gradients through einsum, a linear solve and a numerically stable logsumexp.

    python examples/linear_algebra.py
    adcompiler dump examples/linear_algebra.py:attention_loss --wrt q,k
"""
import numpy as np

import adcompiler as ad


def logsumexp(z, axis):
    m = np.max(z, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True)) + m


def attention_loss(q, k, a, b):
    scores = np.einsum("id,jd->ij", q, k)
    log_p = scores - logsumexp(scores, 1)
    x = np.linalg.solve(a, b)
    return -np.mean(log_p) + np.sum(x * x)


if __name__ == "__main__":
    rng = np.random.RandomState(0)
    q, k = rng.randn(4, 3), rng.randn(5, 3)
    a, b = rng.randn(3, 3) + 3 * np.eye(3), rng.randn(3)
    dq, dk, da = ad.grad(attention_loss, wrt=("q", "k", "a"))(q, k, a, b)
    print("d/dq:\n", dq)
    print("d/da:\n", da)
    print()
    print(ad.source(attention_loss, wrt=("q", "k", "a")))
