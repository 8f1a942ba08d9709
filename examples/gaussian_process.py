"""Fitting a Gaussian process's hyperparameters with scipy.optimize and adcompiler's gradient.

The negative log marginal likelihood is written as GP tutorials write it (an RBF kernel,
scipy.linalg's cho_factor / cho_solve, the log-determinant from the factor's diagonal), and
L-BFGS-B gets its exact gradient from adcompiler. Run: python examples/gaussian_process.py
(needs SciPy)
"""
import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import minimize

import adcompiler as ad


def negative_log_likelihood(log_params, X, y):
    lengthscale, amplitude, noise = np.exp(log_params)
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = amplitude ** 2 * np.exp(-0.5 * sq / lengthscale ** 2) + (noise ** 2 + 1e-8) * np.eye(len(X))
    factor = cho_factor(K, lower=True)
    alpha = cho_solve(factor, y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(factor[0]))) + 0.5 * len(X) * np.log(2 * np.pi)


def main():
    rng = np.random.RandomState(1)
    X = rng.uniform(-3, 3, size=(40, 1))
    y = np.sin(2.0 * X[:, 0]) + 0.1 * rng.randn(40)
    start = np.log(np.array([1.0, 1.0, 0.5]))
    gradient = ad.grad(negative_log_likelihood)
    eps = 1e-6
    numeric = [(negative_log_likelihood(start + eps * e, X, y)
                - negative_log_likelihood(start - eps * e, X, y)) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(gradient(start, X, y), numeric, rtol=1e-5)
    fit = minimize(negative_log_likelihood, start, args=(X, y), jac=gradient, method="L-BFGS-B")
    lengthscale, amplitude, noise = np.exp(fit.x)
    print("negative log likelihood: %.3f -> %.3f in %d iterations"
          % (negative_log_likelihood(start, X, y), fit.fun, fit.nit))
    print("lengthscale %.3f, amplitude %.3f, noise %.3f (the data's noise is 0.1)"
          % (lengthscale, amplitude, noise))
    assert fit.success and abs(noise - 0.1) < 0.05


if __name__ == "__main__":
    main()
