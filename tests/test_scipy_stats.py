"""scipy.stats in the programs people write: likelihoods of normal, Student-t, Poisson, probit and
Gaussian-mixture models, each differentiated in every mode against finite differences and
computing the plain call's value; frozen distributions; and what is refused (a frozen
distribution used otherwise than through its methods, sampling, layouts the rules are not
written for, a shape parameter without a derivative), with the fix."""
import numpy as np
import pytest
from conftest import check_all_modes, check_like_plain

import adcompiler as ad

st = pytest.importorskip("scipy.stats")
sp = pytest.importorskip("scipy.special")
norm, t_dist, poisson, mvn = st.norm, st.t, st.poisson, st.multivariate_normal

RNG = np.random.RandomState(11)
X = RNG.randn(8, 3)
Y = X @ np.array([0.5, -1.0, 2.0]) + 0.3 * RNG.randn(8)


def normal_nll(params, y):
    mu, log_sigma = params
    return -norm.logpdf(y, loc=mu, scale=np.exp(log_sigma)).sum()


def robust_regression(w, log_df, log_scale):
    residual = Y - X @ w
    return -np.sum(t_dist.logpdf(residual, np.exp(log_df), 0.0, np.exp(log_scale)))


def probit(w, labels):
    z = X @ w
    return -np.sum(labels * norm.logcdf(z) + (1.0 - labels) * norm.logsf(z))


def poisson_regression(w, counts):
    rate = np.exp(X @ w)
    return -np.sum(poisson.logpmf(counts, rate))


def mixture(means, log_weights, points):
    """Log-likelihood of a two-component Gaussian mixture, one mvn.logpdf per component."""
    cov = np.eye(2) * 0.5 + 0.1
    parts = []
    for k in range(2):
        parts.append(log_weights[k] + mvn.logpdf(points, means[k], cov))
    return np.sum(sp.logsumexp(np.stack(parts), axis=0))


def beta_posterior(ab, p):
    a, b = ab[0], ab[1]
    return np.sum(st.beta.logpdf(p, a, b)) + st.gamma.logpdf(a, 2.0) + st.gamma.logpdf(b, 2.0)


def test_normal_maximum_likelihood():
    y = np.array([0.5, 1.5, -0.3, 2.0, 0.7])
    check_like_plain(normal_nll, [np.array([0.1, 0.2]), y])
    mu, sigma = 0.1, np.exp(0.2)  # (closed form: -d/dmu = sum(y - mu) / sigma^2)
    np.testing.assert_allclose(ad.grad(normal_nll)(np.array([0.1, 0.2]), y)[0],
                               -np.sum(y - mu) / sigma ** 2, rtol=1e-12)


def test_student_t_regression_in_the_weights_and_the_degrees_of_freedom():
    check_all_modes(robust_regression, [np.array([0.4, -0.8, 1.5]), 1.2, -0.5], wrt=(0, 1, 2))


def test_probit_likelihood_through_logcdf_and_logsf():
    labels = (Y > 0).astype(float)
    check_like_plain(probit, [np.array([0.3, -0.2, 0.5]), labels])


def test_poisson_regression():
    counts = np.array([0.0, 1.0, 3.0, 2.0, 0.0, 5.0, 1.0, 2.0])
    check_like_plain(poisson_regression, [np.array([0.1, 0.2, -0.1]), counts])


def test_gaussian_mixture_of_multivariate_normals():
    points = RNG.randn(6, 2)
    check_all_modes(mixture, [np.array([[0.5, 0.0], [-0.5, 1.0]]), np.log([0.3, 0.7]), points],
                    wrt=(0, 1))


def test_beta_posterior_in_its_shape_parameters():
    check_all_modes(beta_posterior, [np.array([2.0, 3.0]), np.array([0.2, 0.5, 0.7])])


def frozen(mu, log_sigma, y):
    """A frozen distribution: its methods are the distribution's, with the frozen arguments."""
    d = norm(mu, np.exp(log_sigma))
    return np.sum(d.logpdf(y)) + d.cdf(0.3)


def frozen_in_one_expression(mean, y):
    return np.sum(mvn(mean, np.eye(2) * 0.5).logpdf(y))


def frozen_and_printed(mu, y):
    d = norm(mu, 1.0)
    print(d)
    return np.sum(d.logpdf(y))


def test_frozen_distributions():
    y = np.array([0.3, -1.0, 2.0])
    check_like_plain(frozen, [0.4, 0.2, y], wrt=(0, 1))
    check_all_modes(frozen_in_one_expression, [np.array([0.1, 0.2]), RNG.randn(3, 2)])


def sampled(mu):
    return np.sum(norm.rvs(mu, 1.0, size=3, random_state=0))


def scalar_covariance(x):
    return mvn.logpdf(x, np.zeros(3), 2.0)


def t_cdf_in_df(df, y):
    return np.sum(t_dist.cdf(y, df))


@pytest.mark.parametrize("fn, args, says", [
    (frozen_and_printed, (0.3, np.ones(3)), "norm.logpdf(x, loc, scale) rather than norm(loc, scale)"),
    (sampled, (0.3,), "library's function with no derivative rule"),
    (scalar_covariance, (np.ones(3),), "cov of shape (d, d)"),
    (t_cdf_in_df, (3.0, np.ones(3)), "df"),
])
def test_what_is_refused_says_what_to_do(fn, args, says):
    with pytest.raises(ad.AdError) as info:
        ad.grad(fn)(*args)
    assert says in str(info.value)
    assert "test_scipy_stats.py" in str(info.value)


def test_distributions_not_differentiated_still_run_on_constants():
    def uses_a_constant_cdf(x):
        return np.sum(x * t_dist.cdf(np.array([0.5, 1.0]), 3.0))
    np.testing.assert_allclose(ad.grad(uses_a_constant_cdf)(np.ones(2)),
                               t_dist.cdf(np.array([0.5, 1.0]), 3.0))


def singular_logpdf(x, mean, cov):
    return mvn.logpdf(x, mean, cov, allow_singular=True)


def test_a_singular_covariance_gives_gradients_along_its_support_and_refuses_its_own():
    """multivariate_normal with allow_singular=True and a singular covariance: the gradient
    w.r.t. x and mean is -cov^+ (x - mean) (0 along the null space, where the density has no
    support), to second order; w.r.t. the covariance, whose rank changes with it, an AdError."""
    cov = np.diag([1.0, 4.0, 0.0])
    x, mean = np.array([0.3, -0.5, 0.2]), np.array([0.1, 0.3, 0.2])
    np.testing.assert_allclose(ad.grad(singular_logpdf)(x, mean, cov), [-0.2, 0.2, 0.0],
                               atol=1e-12)
    np.testing.assert_allclose(ad.grad(singular_logpdf, wrt=1)(x, mean, cov), [0.2, -0.2, 0.0],
                               atol=1e-12)
    np.testing.assert_allclose(ad.hessian(singular_logpdf)(x, mean, cov),
                               -np.diag([1.0, 0.25, 0.0]), atol=1e-12)
    with pytest.raises(ad.AdError, match="w.r.t. a singular covariance is not defined"):
        ad.grad(singular_logpdf, wrt=2)(x, mean, cov)
    with pytest.raises(ad.AdError, match="w.r.t. a singular covariance is not defined"):
        ad.jvp(singular_logpdf, (x, mean, cov), (None, None, np.eye(3)))
    with pytest.raises(ad.AdError, match="w.r.t. a singular covariance is not defined"):
        ad.grad(lambda c: mvn.entropy(mean, c))(cov)
