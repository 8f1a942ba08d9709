"""Derivative rules for ``scipy.stats`` distributions (only when the user's code has imported
scipy.stats: SciPy is not a dependency). An entry is keyed by the bound method
(``scipy.stats.norm.logpdf``: equal, though not identical, at each access).

A continuous family is described once, by its standardised log-density's derivative ``H`` in
``Z = (x - loc) / scale`` and by the derivative of the log-density in each shape parameter; the
entries of its methods follow from those:

- ``logpdf``: ``x``: ``g * H / scale``, ``loc``: ``-g * H / scale``, ``scale``:
  ``-g * (1 + Z * H) / scale``; ``pdf``: the same times ``ans``;
- ``cdf``/``sf``: ``x`` gets ``+-g * pdf``, ``loc`` the opposite, ``scale`` ``-+g * Z * pdf``;
  ``logcdf``/``logsf``: the same with ``pdf / ans`` (as ``exp(logpdf - ans)``). A shape
  parameter of a distribution function has no closed-form derivative: a value depending on
  ``wrt`` passed to it is an AdError.

Discrete families (``poisson``, ``binom``, ``nbinom``) are differentiated in their continuous
parameters; ``k``, ``loc`` and binom's ``n`` are integers (zero gradient).
"""
import re

import scipy.stats as st

from .core import Table

table = Table("scipy.stats")
E = table.elementwise

_Z = "((x - loc) / scale)"


def _expand(template: str, pdf: str = "") -> str:
    template = re.sub(r"\b_MILLS\(([^()]*)\)", _mills_ratio, template)
    return re.sub(r"\bPDF\b", pdf, re.sub(r"\bZ\b", _Z, template))


def _mills_ratio(match) -> str:
    """phi(u) / Phi(u), from logarithms (the normal's density over its distribution function)."""
    u = match.group(1)
    return "np.exp(-0.5 * (%s) ** 2 - 0.5 * np.log(2.0 * np.pi) - sp.log_ndtr(%s))" % (u, u)


def _continuous(dist, shapes: str, h: str, shape_logpdf: dict):
    """The logpdf/pdf/cdf/logcdf/sf/logsf entries of a location-scale family ``dist`` with shape
    parameters ``shapes`` ("df", "a, b" or ""). ``h``: d logpdf / dZ of the standard density;
    ``shape_logpdf``: shape parameter -> d logpdf / d shape."""
    name = dist.name
    names = [s.strip() for s in shapes.split(",") if s.strip()]
    params = "x, %sloc=0.0, scale=1.0" % "".join(s + ", " for s in names)
    call = "x, %sloc, scale" % "".join(s + ", " for s in names)
    x_logpdf = "(%s) / scale" % h
    scale_logpdf = "-(1.0 + Z * (%s)) / scale" % h
    for method, factor in (("logpdf", "g"), ("pdf", "g * ans")):
        vjps = ["%s * %s" % (factor, x_logpdf)] + \
               ["%s * (%s)" % (factor, shape_logpdf[s]) for s in names] + \
               ["-%s * %s" % (factor, x_logpdf), "%s * %s" % (factor, scale_logpdf)]
        E(getattr(dist, method), params, *map(_expand, vjps),
          name="scipy.stats.%s.%s" % (name, method))
    pdf = "st.%s.pdf(%s)" % (name, call)
    ratio = "np.exp(st.%s.logpdf(%s) - ans)" % (name, call)
    for method, density, sign in (("cdf", pdf, ""), ("logcdf", ratio, ""), ("sf", pdf, "-"),
                                  ("logsf", ratio, "-")):
        flip = "" if sign else "-"
        vjps = ["%sg * PDF" % sign] + [None] * len(names) + ["%sg * PDF" % flip,
                                                              "%sg * PDF * Z" % flip]
        E(getattr(dist, method), params,
          *[None if v is None else _expand(v, density) for v in vjps],
          name="scipy.stats.%s.%s" % (name, method))


# (H: the standard log-density's derivative in Z; then each shape parameter's)
_continuous(st.norm, "", "-Z", {})
_continuous(st.t, "df", "-(df + 1.0) * Z / (df + Z ** 2)",
            {"df": "0.5 * (sp.psi((df + 1.0) / 2.0) - sp.psi(df / 2.0) - 1.0 / df"
                   " - np.log1p(Z ** 2 / df) + (df + 1.0) * Z ** 2 / (df * (df + Z ** 2)))"})
_continuous(st.gamma, "a", "(a - 1.0) / Z - 1.0", {"a": "np.log(Z) - sp.psi(a)"})
_continuous(st.beta, "a, b", "(a - 1.0) / Z - (b - 1.0) / (1.0 - Z)",
            {"a": "np.log(Z) - sp.psi(a) + sp.psi(a + b)",
             "b": "np.log1p(-Z) - sp.psi(b) + sp.psi(a + b)"})
_continuous(st.chi2, "df", "(df / 2.0 - 1.0) / Z - 0.5",
            {"df": "0.5 * (np.log(Z / 2.0) - sp.psi(df / 2.0))"})
_continuous(st.expon, "", "-1.0 + 0.0 * Z", {})
_continuous(st.laplace, "", "-np.sign(Z)", {})
_continuous(st.cauchy, "", "-2.0 * Z / (1.0 + Z ** 2)", {})
_continuous(st.logistic, "", "-np.tanh(Z / 2.0)", {})
_continuous(st.halfnorm, "", "-Z", {})
_continuous(st.halfcauchy, "", "-2.0 * Z / (1.0 + Z ** 2)", {})
_continuous(st.rayleigh, "", "1.0 / Z - Z", {})
_continuous(st.gumbel_r, "", "np.expm1(-Z)", {})
_continuous(st.gumbel_l, "", "-np.expm1(Z)", {})
_continuous(st.uniform, "", "0.0 * Z", {})
_continuous(st.lognorm, "s", "-(1.0 + np.log(Z) / s ** 2) / Z",
            {"s": "(np.log(Z) ** 2 / s ** 2 - 1.0) / s"})
_continuous(st.invgamma, "a", "(1.0 / Z - a - 1.0) / Z", {"a": "-np.log(Z) - sp.psi(a)"})
_continuous(st.weibull_min, "c", "(c - 1.0) / Z - c * Z ** (c - 1.0)",
            {"c": "1.0 / c + np.log(Z) * (1.0 - Z ** c)"})
_continuous(st.pareto, "b", "-(b + 1.0) / Z", {"b": "1.0 / b - np.log(Z)"})
_continuous(st.skewnorm, "a", "-Z + a * _MILLS(a * Z)", {"a": "Z * _MILLS(a * Z)"})

# the normal quantile functions: ppf(q) = loc + scale * ndtri(q), isf(q) = ppf(1 - q)
_NDTRI_SLOPE = "scale * np.sqrt(2.0 * np.pi) * np.exp(0.5 * ((ans - loc) / scale) ** 2)"
E(st.norm.ppf, "q, loc=0.0, scale=1.0", "g * " + _NDTRI_SLOPE, "g", "g * (ans - loc) / scale",
  name="scipy.stats.norm.ppf")
E(st.norm.isf, "q, loc=0.0, scale=1.0", "-g * " + _NDTRI_SLOPE, "g", "g * (ans - loc) / scale",
  name="scipy.stats.norm.isf")


def _discrete(dist, params: str, logpmf: dict, cdf: dict, zero: tuple):
    """pmf/logpmf/cdf/logcdf/sf/logsf of a discrete family: ``logpmf`` (and ``cdf``) map a
    continuous parameter to d logpmf (to d cdf, written with ``PMF``: the pmf at ``floor(k)``)."""
    names = [p.strip().split("=")[0] for p in params.split(",")]
    at_floor = ", ".join("np.floor(k)" if p == "k" else p for p in names)
    pmf = "st.%s.pmf(%s)" % (dist.name, at_floor)
    for method, factor in (("logpmf", "g"), ("pmf", "g * ans")):
        E(getattr(dist, method), params,
          *[None if p not in logpmf else "%s * (%s)" % (factor, logpmf[p]) for p in names],
          zero=zero, name="scipy.stats.%s.%s" % (dist.name, method))
    for method, factor in (("cdf", "g"), ("sf", "-g"), ("logcdf", "g * np.exp(-ans)"),
                           ("logsf", "-g * np.exp(-ans)")):
        E(getattr(dist, method), params,
          *[None if p not in cdf else "%s * (%s)" % (factor, re.sub(r"\bPMF\b", pmf, cdf[p]))
            for p in names],
          zero=zero, name="scipy.stats.%s.%s" % (dist.name, method))


_K = "(k - loc)"
_discrete(st.poisson, "k, mu, loc=0", {"mu": "%s / mu - 1.0" % _K}, {"mu": "-PMF"},
          ("k", "loc"))
_discrete(st.binom, "k, n, p, loc=0", {"p": "{0} / p - (n - {0}) / (1.0 - p)".format(_K)},
          {"p": "-n * st.binom.pmf(np.floor(k), n - 1, p, loc)"}, ("k", "n", "loc"))
_discrete(st.nbinom, "k, n, p, loc=0",
          {"n": "sp.psi({0} + n) - sp.psi(n) + np.log(p)".format(_K),
           "p": "n / p - {0} / (1.0 - p)".format(_K)},
          {"p": "np.exp((n - 1.0) * np.log(p) + np.floor({0}) * np.log1p(-p)"
                " - sp.betaln(n, np.floor({0}) + 1.0))".format(_K)}, ("k", "loc"))

# multivariate_normal.logpdf = -(d log 2 pi + log det cov + (x - mean) cov^-1 (x - mean)) / 2, one
# value per point (the last axis of x): A = cov^-1 (x - mean) per point (the pseudo-inverse for a
# singular cov with allow_singular, whose derivative w.r.t. cov is refused where it runs); its
# layout is checked first (mvn_checked: the templates are written for a (d, d) cov and a (d,)
# mean); cov's adjoint lies on the lower triangle, which SciPy reads.
_A = "mvn_solve(cov, x - mean, allow_singular)"
for _method, _g in (("logpdf", "g"), ("pdf", "g * ans")):
    _checked = "mvn_checked(%s, x, mean, cov, site)" % _g
    _GA = "np.expand_dims(%s, -1) * %s" % (_checked, _A)  # (each point's adjoint times its A)
    table.define(
        getattr(st.multivariate_normal, _method), "x, mean, cov, allow_singular=False",
        "-" + _GA, mean="unbroadcast(%s, mean)" % _GA,
        cov="mvn_cov_back(%s, %s, cov, allow_singular, site)" % (_checked, _A),
        jvp="mvn_checked(%s, x, mean, cov, site) * np.reshape(np.sum({A} * (t_mean - t_x), "
            "axis=-1) + mvn_cov_jvp({A}, cov, t_cov, allow_singular, site), np.shape(ans))"
            .replace("{A}", _A) % ("1.0" if _method == "logpdf" else "ans"),
        name="scipy.stats.multivariate_normal." + _method, arrays=True)
# entropy = (d (log 2 pi + 1) + log det cov) / 2 (the mean gives none)
table.define(st.multivariate_normal.entropy, "mean=None, cov=1",
             cov="mvn_entropy_back(g, cov, site)", jvp="mvn_entropy_jvp(cov, t_cov, site)",
             zero=("mean",),
             name="scipy.stats.multivariate_normal.entropy", arrays=True)

# dirichlet.logpdf = sum((alpha - 1) log x) + gammaln(sum(alpha)) - sum(gammaln(alpha)), for one
# point x with every component (dirichlet_checked)
_DIRICHLET_X = "(alpha - 1.0) / x"
_DIRICHLET_ALPHA = "(np.log(x) - sp.psi(alpha) + sp.psi(np.sum(alpha)))"
for _method, _g in (("logpdf", "g"), ("pdf", "g * ans")):
    _G = "dirichlet_checked(%s, x, alpha, site)" % _g
    table.define(getattr(st.dirichlet, _method), "x, alpha", "%s * %s" % (_G, _DIRICHLET_X),
                 alpha="%s * %s" % (_G, _DIRICHLET_ALPHA),
                 jvp="dirichlet_checked(%s, x, alpha, site) * np.sum(%s * t_x + %s * t_alpha)"
                     % ("1.0" if _method == "logpdf" else "ans", _DIRICHLET_X, _DIRICHLET_ALPHA),
                 name="scipy.stats.dirichlet." + _method, arrays=True)
