"""Derivative rules for NumPy. ``g``: adjoint of the result, ``ans``: the result."""
import numpy as np

from .core import Table

table = Table("numpy")
E, D, N = table.elementwise, table.define, table.nondiff

# -- arithmetic ufuncs
E(np.add, "x1, x2", "g", "g")
E(np.subtract, "x1, x2", "g", "-g")
E(np.multiply, "x1, x2", "g * x2", "x1 * g")
E(np.divide, "x1, x2", "g / x2", "-g * ans / x2")
E(np.true_divide, "x1, x2", "g / x2", "-g * ans / x2")
E(np.power, "x1, x2", "g * x2 * x1 ** (x2 - 1)", "g * ans * np.log(x1)")
E(np.negative, "x", "-g")
E(np.positive, "x", "g")
E(np.square, "x", "g * 2.0 * x")
E(np.reciprocal, "x", "-g * ans ** 2")
E(np.sqrt, "x", "g * 0.5 / ans")
E(np.cbrt, "x", "g / (3.0 * ans ** 2)")
E(np.absolute, "x", "g * np.sign(x)")
E(np.fabs, "x", "g * np.sign(x)")
# -- exponentials and logarithms
E(np.exp, "x", "g * ans")
E(np.exp2, "x", "g * ans * np.log(2.0)")
E(np.expm1, "x", "g * (ans + 1.0)")
E(np.log, "x", "g / x")
E(np.log2, "x", "g / (x * np.log(2.0))")
E(np.log10, "x", "g / (x * np.log(10.0))")
E(np.log1p, "x", "g / (1.0 + x)")
E(np.logaddexp, "x1, x2", "g * np.exp(x1 - ans)", "g * np.exp(x2 - ans)")
# -- trigonometric and hyperbolic
E(np.sin, "x", "g * np.cos(x)")
E(np.cos, "x", "-g * np.sin(x)")
E(np.tan, "x", "g / np.cos(x) ** 2")
E(np.arcsin, "x", "g / np.sqrt(1.0 - x ** 2)")
E(np.arccos, "x", "-g / np.sqrt(1.0 - x ** 2)")
E(np.arctan, "x", "g / (1.0 + x ** 2)")
E(np.arctan2, "x1, x2", "g * x2 / (x1 ** 2 + x2 ** 2)", "-g * x1 / (x1 ** 2 + x2 ** 2)")
E(np.hypot, "x1, x2", "g * x1 / ans", "g * x2 / ans")
E(np.sinh, "x", "g * np.cosh(x)")
E(np.cosh, "x", "g * np.sinh(x)")
E(np.tanh, "x", "g * (1.0 - ans ** 2)")
E(np.arcsinh, "x", "g / np.sqrt(x ** 2 + 1.0)")
E(np.arccosh, "x", "g / np.sqrt(x ** 2 - 1.0)")
E(np.arctanh, "x", "g / (1.0 - x ** 2)")
# -- selection (ties split the gradient evenly)
E(np.maximum, "x1, x2", "g * ((x1 > x2) + 0.5 * (x1 == x2))", "g * ((x2 > x1) + 0.5 * (x1 == x2))")
E(np.minimum, "x1, x2", "g * ((x1 < x2) + 0.5 * (x1 == x2))", "g * ((x2 < x1) + 0.5 * (x1 == x2))")
E(np.where, "condition, x, y", None, "np.where(condition, g, 0.0)", "np.where(condition, 0.0, g)")
E(np.clip, "a, a_min, a_max", "g * inside(a, a_min, a_max)")

# -- reductions
D(np.sum, "a, axis=None, dtype=None, out=None, keepdims=False", "unreduce(g, a, axis, keepdims)", linear=True)
D(np.mean, "a, axis=None, dtype=None, out=None, keepdims=False",
  "unreduce(g, a, axis, keepdims) / reduced_size(a, axis)", linear=True)
D(np.prod, "a, axis=None, dtype=None, out=None, keepdims=False", "unreduce(g * ans, a, axis, keepdims) / a",
  jvp="ans * np.sum(t_a / a, axis=axis, keepdims=keepdims)")
for _f in (np.max, np.amax, np.min, np.amin):
    D(_f, "a, axis=None, out=None, keepdims=False", "unreduce_extreme(g, ans, a, axis, keepdims)",
      jvp="np.sum(unreduce_extreme(1.0, ans, a, axis, keepdims) * t_a, axis=axis, keepdims=keepdims)")
D(np.var, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
  "unreduce(g, a, axis, keepdims) * 2.0 * (a - np.mean(a, axis=axis, keepdims=True)) / (reduced_size(a, axis) - ddof)",
  jvp="np.sum(2.0 * (a - np.mean(a, axis=axis, keepdims=True)) * t_a, axis=axis, keepdims=keepdims) / (reduced_size(a, axis) - ddof)")
D(np.std, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
  "unreduce(g / ans, a, axis, keepdims) * (a - np.mean(a, axis=axis, keepdims=True)) / (reduced_size(a, axis) - ddof)",
  jvp="np.sum((a - np.mean(a, axis=axis, keepdims=True)) * t_a, axis=axis, keepdims=keepdims) / ((reduced_size(a, axis) - ddof) * ans)")

# -- products
D(np.dot, "a, b", "ddot_left(g, a, b)", b="ddot_right(g, a, b)", jvp="np.dot(t_a, b) + np.dot(a, t_b)")
D(np.matmul, "x1, x2", "dmatmul_left(g, x1, x2)", x2="dmatmul_right(g, x1, x2)", jvp="t_x1 @ x2 + x1 @ t_x2")
D(np.outer, "a, b", "np.reshape(np.dot(g, np.ravel(b)), np.shape(a))",
  b="np.reshape(np.dot(np.ravel(a), g), np.shape(b))", jvp="np.outer(t_a, b) + np.outer(a, t_b)")

# -- shapes
D(np.reshape, "a, shape=None, order='C'", "np.reshape(g, np.shape(a))", linear=True)
D(np.ravel, "a, order='C'", "np.reshape(g, np.shape(a))", linear=True)
D(np.squeeze, "a, axis=None", "np.reshape(g, np.shape(a))", linear=True)
D(np.expand_dims, "a, axis", "np.reshape(g, np.shape(a))", linear=True)
D(np.transpose, "a, axes=None", "transpose_back(g, axes)", linear=True)
D(np.concatenate, "arrays, axis=0", "split_like(g, arrays, axis)", linear=True)
D(np.stack, "arrays, axis=0", "unstack(g, arrays, axis)", linear=True)
D(np.array, "object, dtype=None", "g", linear=True)
D(np.asarray, "a, dtype=None", "g", linear=True)

# -- linear algebra
D(np.linalg.det, "a", "(g * ans)[..., None, None] * np.swapaxes(np.linalg.inv(a), -1, -2)",
  jvp="ans * np.trace(np.linalg.solve(a, t_a), axis1=-2, axis2=-1)")
D(np.linalg.inv, "a", "-np.swapaxes(ans, -1, -2) @ g @ np.swapaxes(ans, -1, -2)", jvp="-ans @ t_a @ ans")
D(np.linalg.solve, "a, b", "dsolve_a(g, a, ans)", b="np.linalg.solve(np.swapaxes(a, -1, -2), g)",
  jvp="np.linalg.solve(a, t_b - t_a @ ans)")
D(np.linalg.norm, "x, ord=None, axis=None, keepdims=False", "dnorm(g, ans, x, ord, axis, keepdims)")

# -- no gradient
N(np.sign, np.floor, np.ceil, np.round, np.rint, np.trunc, np.fix, np.argmax, np.argmin, np.argsort,
  np.shape, np.size, np.ndim, np.zeros, np.ones, np.empty, np.zeros_like, np.ones_like, np.empty_like,
  np.full, np.arange, np.linspace, np.eye, np.identity, np.isnan, np.isinf, np.isfinite,
  np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
  np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.floor_divide, np.mod, np.remainder,
  np.nonzero, np.count_nonzero, np.all, np.any, np.searchsorted, np.unique)
