"""Derivative rules for ``scipy.special`` (only when SciPy is installed: it is not a dependency)."""
import scipy.special as sp

from .core import Table

table = Table("scipy.special")
E, D = table.elementwise, table.define

E(sp.expit, "x", "g * ans * (1.0 - ans)")
E(sp.logit, "x", "g / (x * (1.0 - x))")
E(sp.log_expit, "x", "g / (1.0 + np.exp(x))")
E(sp.erf, "x", "g * (2.0 / np.sqrt(np.pi)) * np.exp(-x * x)")
E(sp.erfc, "x", "-g * (2.0 / np.sqrt(np.pi)) * np.exp(-x * x)")
E(sp.gammaln, "x", "g * digamma_array(x)")
E(sp.xlogy, "x, y", "g * np.log(y) * (x != 0)", "g * x / y")
E(sp.xlog1py, "x, y", "g * np.log1p(y) * (x != 0)", "g * x / (1.0 + y)")
E(sp.entr, "x", "-g * (np.log(x) + 1.0)")
if hasattr(sp, "softplus"):  # SciPy >= 1.15
    E(sp.softplus, "x", "g / (1.0 + np.exp(-x))")
# (without weights, the common case, in runtime helpers that have rules of their own, so gradient
# code can be differentiated again in reverse mode; the test folds away when b is not given)
D(sp.logsumexp, "a, axis=None, b=None, keepdims=False, return_sign=False",
  "unreduce(g, a, axis, keepdims) * np.exp(a - unreduce(ans, a, axis, keepdims)) if b is None "
  "else logsumexp_back(g, a, b, ans, axis, keepdims, 0)", b="logsumexp_back(g, a, b, ans, axis, keepdims, 1)",
  jvp="np.sum(np.exp(a - unreduce(ans, a, axis, keepdims)) * t_a, axis=axis, keepdims=keepdims) if b is None "
      "else logsumexp_jvp(a, b, ans, t_a, t_b, axis, keepdims)", only=dict(return_sign=(False,)))
D(sp.softmax, "x, axis=None", "ans * (g - np.sum(g * ans, axis=axis, keepdims=True))",
  jvp="ans * (t_x - np.sum(t_x * ans, axis=axis, keepdims=True))")
D(sp.log_softmax, "x, axis=None", "g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True)",
  jvp="t_x - np.sum(np.exp(ans) * t_x, axis=axis, keepdims=True)")
