"""Fit a robust (Student-t) linear regression by gradient descent: a likelihood written with
scipy.stats, its gradient from adcompiler with the fit's metrics passed through (has_aux), the
derivatives checked against finite differences (check_grads), and per-example gradients (vmap).
Needs SciPy.

    python examples/robust_regression.py
"""
import numpy as np
from scipy import stats

import adcompiler as ad

RNG = np.random.RandomState(0)
X = RNG.randn(60, 2)
Y = X @ np.array([1.5, -0.7]) + 0.3 + 0.2 * RNG.standard_t(2.0, size=60)  # heavy-tailed noise


def negative_log_likelihood(params, x, y):
    """Student-t errors with a fitted scale and degrees of freedom (both kept positive through
    their logarithms); returns the loss and, as aux, the fitted scale and the largest residual."""
    w, b, log_scale, log_df = params[:2], params[2], params[3], params[4]
    residual = y - (x @ w + b)
    noise = stats.t(np.exp(log_df), 0.0, np.exp(log_scale))  # (a frozen distribution)
    loss = -np.mean(noise.logpdf(residual))
    return loss, {"scale": np.exp(log_scale), "worst": np.max(np.abs(residual))}


def point_loss(params, x, y):
    """The loss of one example, for per-example gradients."""
    w, b = params[:2], params[2]
    return -stats.t.logpdf(y - (x @ w + b), np.exp(params[4]), 0.0, np.exp(params[3]))


if __name__ == "__main__":
    params = np.array([0.0, 0.0, 0.0, 0.0, 1.0])
    ad.check_grads(lambda p: negative_log_likelihood(p, X, Y)[0], (params,), order=2)
    print("check_grads: reverse and forward mode, first and second order, agree with finite "
          "differences")
    step = ad.value_and_grad(negative_log_likelihood, has_aux=True)
    for it in range(301):
        (loss, metrics), g = step(params, X, Y)
        params = params - 0.05 * g
        if it % 100 == 0:
            print("step %3d  loss %.4f  scale %.3f  worst residual %.3f"
                  % (it, loss, metrics["scale"], metrics["worst"]))
    print("fitted w, b:", np.round(params[:3], 3), "(the data were made with 1.5, -0.7, 0.3)")
    per_example = ad.vmap(ad.grad(point_loss), in_axes=(None, 0, 0))(params, X[:4], Y[:4])
    print("per-example gradients of the first 4 points:\n", np.round(per_example, 3))
    print()
    print("the generated gradient of one example's loss:")
    print(ad.source(point_loss, args=(params, X[0], Y[0])))
