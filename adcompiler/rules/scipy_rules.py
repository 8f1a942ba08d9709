"""Derivative rules for ``scipy.special`` (only when SciPy is installed: it is not a dependency)."""
import scipy.special as sp

from .complex_rules import holds_for_complex
from .core import Table

table = Table("scipy.special")
E, D = table.elementwise, table.define

E(sp.expit, "x", "g * ans * (1.0 - ans)")
E(sp.logit, "x", "g / (x * (1.0 - x))")
E(sp.log_expit, "x", "g / (1.0 + np.exp(x))")
E(sp.erf, "x", "g * (2.0 / np.sqrt(np.pi)) * np.exp(-x * x)")
E(sp.erfc, "x", "-g * (2.0 / np.sqrt(np.pi)) * np.exp(-x * x)")
holds_for_complex(sp.erf, sp.erfc)  # (entire functions: the same derivative for complex z)
E(sp.gammaln, "x", "g * digamma_array(x)")
# (xlogy(0, y) is 0 for every y: no derivative there, even at y = 0, where x / y is 0 / 0)
E(sp.xlogy, "x, y", "g * np.log(np.where(x != 0, y, 1.0))", "g * x / np.where(x == 0, 1.0, y)")
E(sp.xlog1py, "x, y", "g * np.log1p(np.where(x != 0, y, 0.0))",
  "g * x / np.where(x == 0, 1.0, 1.0 + y)")
E(sp.entr, "x", "-g * (np.log(x) + 1.0)")
E(sp.huber, "delta, r", "g * np.where(np.abs(r) <= delta, 0.0, np.abs(r) - delta)",
  "g * np.clip(r, -delta, delta)")
E(sp.pseudo_huber, "delta, r",
  "g * (2.0 * delta * (np.sqrt(1.0 + (r / delta) ** 2) - 1.0)"
  " - r ** 2 / (delta * np.sqrt(1.0 + (r / delta) ** 2)))",
  "g * r / np.sqrt(1.0 + (r / delta) ** 2)")
E(sp.rel_entr, "x, y", "g * (np.log(x / y) + 1.0)", "-g * x / y")
E(sp.kl_div, "x, y", "g * np.log(x / y)", "g * (1.0 - x / y)")
# -- gamma and its relatives (real arguments; an integer order n gets no gradient)
E(sp.gamma, "x", "g * ans * sp.psi(x)")
E(sp.rgamma, "x", "-g * ans * sp.psi(x)")
table.nondiff(sp.gammasgn)
E(sp.multigammaln, "a, d",
  "g * np.sum(sp.psi(np.expand_dims(a, -1) - np.arange(d) / 2.0), axis=-1)", None)
E(sp.loggamma, "x", "g * sp.psi(x)")
for _f in (sp.psi, sp.digamma):  # (two names, one function in recent SciPy)
    if _f not in table.rules:
        E(_f, "x", "g * sp.polygamma(1, x)")
E(sp.polygamma, "n, x", None, "g * sp.polygamma(n + 1, x)")
E(sp.beta, "a, b", "g * ans * (sp.psi(a) - sp.psi(a + b))", "g * ans * (sp.psi(b) - sp.psi(a + b))")
E(sp.betaln, "a, b", "g * (sp.psi(a) - sp.psi(a + b))", "g * (sp.psi(b) - sp.psi(a + b))")
E(sp.betainc, "a, b, x", None, None,
  "g * np.exp((a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x) - sp.betaln(a, b))")
# (w.r.t. x only: the derivative in the shape parameter a has no closed form here)
E(sp.gammainc, "a, x", None, "g * np.exp(-x + (a - 1.0) * np.log(x) - sp.gammaln(a))")
E(sp.gammaincc, "a, x", None, "-g * np.exp(-x + (a - 1.0) * np.log(x) - sp.gammaln(a))")
E(sp.zeta, "x, q", None, "-g * x * sp.zeta(x + 1.0, q)")
# -- error functions and the normal distribution
E(sp.erfinv, "x", "g * (np.sqrt(np.pi) / 2.0) * np.exp(ans ** 2)")
E(sp.erfcinv, "x", "-g * (np.sqrt(np.pi) / 2.0) * np.exp(ans ** 2)")
E(sp.erfcx, "x", "g * (2.0 * x * ans - 2.0 / np.sqrt(np.pi))")
E(sp.ndtr, "x", "g * np.exp(-0.5 * x ** 2) / np.sqrt(2.0 * np.pi)")
E(sp.ndtri, "x", "g * np.sqrt(2.0 * np.pi) * np.exp(0.5 * ans ** 2)")
E(sp.log_ndtr, "x", "g * np.exp(-0.5 * x ** 2 - ans) / np.sqrt(2.0 * np.pi)")
# -- Bessel functions (w.r.t. x; the order gets no gradient)
E(sp.j0, "x", "-g * sp.j1(x)")
E(sp.j1, "x", "g * 0.5 * (sp.j0(x) - sp.jv(2, x))")
E(sp.jv, "v, x", None, "g * 0.5 * (sp.jv(v - 1, x) - sp.jv(v + 1, x))")
if sp.jn is not sp.jv:
    E(sp.jn, "n, x", None, "g * 0.5 * (sp.jv(n - 1, x) - sp.jv(n + 1, x))")
E(sp.y0, "x", "-g * sp.y1(x)")
E(sp.y1, "x", "g * 0.5 * (sp.y0(x) - sp.yv(2, x))")
E(sp.yv, "v, x", None, "g * 0.5 * (sp.yv(v - 1, x) - sp.yv(v + 1, x))")
E(sp.yn, "n, x", None, "g * 0.5 * (sp.yv(n - 1, x) - sp.yv(n + 1, x))")
E(sp.iv, "v, x", None, "g * 0.5 * (sp.iv(v - 1, x) + sp.iv(v + 1, x))")
E(sp.ive, "v, x", None, "g * (0.5 * (sp.ive(v - 1, x) + sp.ive(v + 1, x)) - np.sign(x) * ans)")
E(sp.i0, "x", "g * sp.i1(x)")
E(sp.i1, "x", "g * 0.5 * (sp.i0(x) + sp.iv(2, x))")
E(sp.i0e, "x", "g * (sp.i1e(x) - np.sign(x) * ans)")
E(sp.i1e, "x", "g * (0.5 * (sp.i0e(x) + sp.ive(2, x)) - np.sign(x) * ans)")
E(sp.kv, "v, x", None, "-g * 0.5 * (sp.kv(v - 1, x) + sp.kv(v + 1, x))")
E(sp.kve, "v, x", None, "g * (ans - 0.5 * (sp.kve(v - 1, x) + sp.kve(v + 1, x)))")
if hasattr(sp, "softplus"):  # SciPy >= 1.15
    E(sp.softplus, "x", "g / (1.0 + np.exp(-x))")
# (without weights, the common case, in runtime helpers that have rules of their own, so gradient
# code can be differentiated again in reverse mode; the test folds away when b is not given)
D(sp.logsumexp, "a, axis=None, b=None, keepdims=False, return_sign=False",
  "unreduce(g, a, axis, keepdims) * np.exp(a - unreduce(ans, a, axis, keepdims)) if b is None "
  "else logsumexp_back(g, a, b, ans, axis, keepdims, 0)",
  b="logsumexp_back(g, a, b, ans, axis, keepdims, 1)",
  jvp="np.sum(np.exp(a - unreduce(ans, a, axis, keepdims)) * t_a, axis=axis, keepdims=keepdims) "
      "if b is None "
      "else logsumexp_jvp(a, b, ans, t_a, t_b, axis, keepdims)", only=dict(return_sign=(False,)))
D(sp.softmax, "x, axis=None", "ans * (g - np.sum(g * ans, axis=axis, keepdims=True))",
  jvp="ans * (t_x - np.sum(t_x * ans, axis=axis, keepdims=True))")
D(sp.log_softmax, "x, axis=None", "g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True)",
  jvp="t_x - np.sum(np.exp(ans) * t_x, axis=axis, keepdims=True)")
