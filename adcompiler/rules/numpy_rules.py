"""Derivative rules for NumPy. ``g``: adjoint of the result, ``ans``: the result."""
import numpy as np

from .core import Table

table = Table("numpy")
E, D, N, R, P = table.elementwise, table.define, table.nondiff, table.reduction, table.product

# -- arithmetic ufuncs
E(np.add, "x1, x2", "g", "g")
E(np.subtract, "x1, x2", "g", "-g")
E(np.multiply, "x1, x2", "g * x2", "x1 * g")
E(np.divide, "x1, x2", "g / x2", "-g * ans / x2")
# (where a template would meet 0 * inf or log of a negative number: d/dx x ** 0 is 0 (JAX's
# convention), d/dy x ** y is 0 at x <= 0 (TensorFlow's: see log_base); the constant forms'
# tests fold away when the code is optimised)
E(
    np.power,
    "x1, x2",
    "dpow_base(g, x1, x2)",
    "dpow_exponent(g, ans, x1)",
    constant=(
        "g * x2 * x1 ** (x2 - 1) if x2 >= 1 else 0.0 * g if x2 == 0 else g * x2 / "
        "nonzero_or_inf(x1 ** (1 - x2))",
        "g * ans * np.log(x1) if x1 > 0 else g * ans * 0.0",
    ),
)
E(np.negative, "x", "-g")
E(np.positive, "x", "g")
E(np.square, "x", "g * 2.0 * x")
E(np.reciprocal, "x", "-g * ans ** 2")
E(np.sqrt, "x", "g * 0.5 / nonzero_or_inf(ans)")  # (at 0: 0, see nonzero_or_inf)
E(np.cbrt, "x", "g / nonzero_or_inf(3.0 * ans ** 2)")
# not holomorphic: the rules are for real values, a complex one is an error (real_adjoint)
E(np.absolute, "x", "real_adjoint(g, x, site) * np.sign(x)")
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
E(np.arcsin, "x", "g / nonzero_or_inf(np.sqrt(1.0 - x ** 2))")
E(np.arccos, "x", "-g / nonzero_or_inf(np.sqrt(1.0 - x ** 2))")
E(np.arctan, "x", "g / (1.0 + x ** 2)")
E(np.arctan2, "x1, x2", "g * x2 / nonzero_or_one(x1 ** 2 + x2 ** 2)",
  "-g * x1 / nonzero_or_one(x1 ** 2 + x2 ** 2)")
# (at 0: subgradient 0)
E(np.hypot, "x1, x2", "g * x1 / nonzero_or_one(ans)", "g * x2 / nonzero_or_one(ans)")
E(np.sinh, "x", "g * np.cosh(x)")
E(np.cosh, "x", "g * np.sinh(x)")
E(np.tanh, "x", "g * (1.0 - ans ** 2)")
E(np.arcsinh, "x", "g / np.sqrt(x ** 2 + 1.0)")
E(np.arccosh, "x", "g / nonzero_or_inf(np.sqrt(x ** 2 - 1.0))")
E(np.arctanh, "x", "g / (1.0 - x ** 2)")
# -- selection (ties split the gradient evenly)
E(np.maximum, "x1, x2", "g * above(x1, x2)", "g * above(x2, x1)")  # (ties share equally)
E(np.minimum, "x1, x2", "g * above(x2, x1)", "g * above(x1, x2)")
E(np.where, "condition, x=None, y=None", None, "np.where(condition, g, 0.0)",
  "np.where(condition, 0.0, g)", selects=True,
  zero=("condition",))  # (np.where(condition) alone gives indices: nothing to differentiate)
# (the conditions choose, as np.where's: no gradient through them)
D(np.select, "condlist, choicelist, default=0", None,
  choicelist="select_choices_back(g, condlist, choicelist)",
  default="select_default_back(g, condlist, default)",
  jvp="select_choices_jvp(condlist, t_choicelist, t_default)",
  zero=("condlist",))
E(np.clip, "a, a_min, a_max", "g * inside(a, a_min, a_max)", "g * np.less(a, a_min)",
  "g * np.greater(a, a_max)").signature.aliases.update(min="a_min", max="a_max")  # (NumPy 2.1)
E(np.fmax, "x1, x2", "g * above(x1, x2)", "g * above(x2, x1)")
E(np.fmin, "x1, x2", "g * above(x2, x1)", "g * above(x1, x2)")
E(np.nan_to_num, "x", "np.where(np.isfinite(x), g, 0.0)", selects=True)
E(np.sinc, "x", "sinc_back(g, x)")
E(np.deg2rad, "x", "g * (np.pi / 180.0)")
E(np.rad2deg, "x", "g * (180.0 / np.pi)")
E(np.degrees, "x", "g * (180.0 / np.pi)")
E(np.radians, "x", "g * (np.pi / 180.0)")
E(np.logaddexp2, "x1, x2", "g * np.exp2(x1 - ans)", "g * np.exp2(x2 - ans)")
E(np.float_power, "x1, x2", "dpow_base(g, x1, x2)", "dpow_exponent(g, ans, x1)")
E(np.copysign, "x1, x2", "g * np.sign(x1) * np.sign(ans)", None, zero=("x2",))
E(np.ldexp, "x1, x2", "g * np.ldexp(1.0, x2)", None, zero=("x2",))  # (x1 * 2 ** x2 for an int x2)
E(np.mod, "x1, x2", "g", "mod_back(g, x1, x2)")
E(np.fmod, "x1, x2", "g", "fmod_back(g, x1, x2)")
D(np.divmod, "x1, x2", "unbroadcast(element(g, 1), x1)",
  x2="unbroadcast(-element(g, 1) * np.floor_divide(x1, x2), x2)",
  jvp="(0.0, t_x1 - t_x2 * np.floor_divide(x1, x2))", container=True, arrays=True)
# (fractional, integral) parts: the integral one is piecewise constant
D(np.modf, "x", "element(g, 0)", jvp="(t_x, 0.0)", container=True, arrays=True)
E(np.conjugate, "x", "real_adjoint(g, x, site)")
E(np.real, "val", "real_adjoint(g, val, site)")
E(np.imag, "val", "real_adjoint(g, val, site) * 0.0")
# (0 or pi: zero derivative)
E(np.angle, "z, deg=False", "real_adjoint(g, z, site) * 0.0", harmless=("deg",))
for _scalar_type in (np.float64, np.float32, np.float16):
    E(_scalar_type, "x", "g")

# -- reductions
R(np.sum, "a, axis=None, dtype=None, out=None, keepdims=False", "unreduce(g, a, axis, keepdims)",
  method="sum")
R(np.mean, "a, axis=None, dtype=None, out=None, keepdims=False",
  "unreduce(g, a, axis, keepdims) / reduced_size(a, axis)", method="mean")
R(np.prod, "a, axis=None, dtype=None, out=None, keepdims=False",
  "unreduce(g, a, axis, keepdims) * others_product(a, axis)",
  jvp="np.sum(others_product(a, axis) * t_a, axis=axis, keepdims=keepdims)", method="prod")
# ufunc reductions (np.add.reduce, np.multiply.reduce, ...) reduce over axis 0 unless told otherwise
R(np.add.reduce, "a, axis=0, dtype=None, out=None, keepdims=False",
  "unreduce(g, a, axis, keepdims)",
  name="np.add.reduce")
R(np.multiply.reduce, "a, axis=0, dtype=None, out=None, keepdims=False",
  "unreduce(g, a, axis, keepdims) * others_product(a, axis)",
  jvp="np.sum(others_product(a, axis) * t_a, axis=axis, keepdims=keepdims)",
  name="np.multiply.reduce")
for _f, _name in ((np.maximum.reduce, "np.maximum.reduce"),
                  (np.minimum.reduce, "np.minimum.reduce")):
    R(_f, "a, axis=0, out=None, keepdims=False", "unreduce_extreme(g, ans, a, axis, keepdims)",
      jvp="np.sum(unreduce_extreme(1.0, ans, a, axis, keepdims) * t_a, axis=axis, "
          "keepdims=keepdims)", name=_name)
R(np.logaddexp.reduce, "a, axis=0, dtype=None, out=None, keepdims=False",
  "unreduce(g, a, axis, keepdims) * np.exp(a - unreduce(ans, a, axis, keepdims))",
  jvp="np.sum(np.exp(a - unreduce(ans, a, axis, keepdims)) * t_a, axis=axis, keepdims=keepdims)",
  name="np.logaddexp.reduce")
for _f, _name in ((np.maximum.accumulate, "np.maximum.accumulate"),
                  (np.minimum.accumulate, "np.minimum.accumulate")):
    D(_f, "a, axis=0, dtype=None, out=None", "accumulate_extreme_back(g, a, ans, axis)",
      jvp="accumulate_extreme_jvp(t_a, a, ans, axis)", name=_name)
# (np.nanmax ignores NaNs: a NaN never equals the extreme, so it gets no gradient; an entry that
# is not the extreme contributes nothing, even where its own derivative is not finite: selects)
for _f, _method in ((np.max, "max"), (np.amax, "max"), (np.min, "min"), (np.amin, "min"),
                    (np.nanmax, None),
                    (np.nanmin, None)):
    R(_f, "a, axis=None, out=None, keepdims=False", "unreduce_extreme(g, ans, a, axis, keepdims)",
      jvp="extreme_tangent(t_a, ans, a, axis, keepdims)", method=_method, selects=True)
R(np.var, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
  "unreduce(g, a, axis, keepdims) * 2.0 * (a - np.mean(a, axis=axis, keepdims=True)) / "
  "(reduced_size(a, axis) - ddof)",
  jvp="np.sum(2.0 * (a - np.mean(a, axis=axis, keepdims=True)) * t_a, axis=axis, "
      "keepdims=keepdims) / (reduced_size(a, axis) - ddof)",
  method="var")
# (at std 0, or a slice constant up to rounding: the subgradient 0)
R(np.std, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
  "unreduce(g / nonzero_or_one(ans), a, axis, keepdims) * deviations(a, axis) / "
  "(reduced_size(a, axis) - ddof)",
  jvp="np.sum(deviations(a, axis) * t_a, axis=axis, keepdims=keepdims) / "
      "((reduced_size(a, axis) - ddof) * nonzero_or_one(ans))",
  method="std")

D(np.cumsum, "a, axis=None, dtype=None, out=None", "cumsum_back(g, a, axis)", linear=True)
D(np.cumprod, "a, axis=None, dtype=None, out=None", "cumprod_back(g, ans, a, axis)",
  jvp="cumsum_back_free(t_a, ans, a, axis)")
D(np.ptp, "a, axis=None, out=None, keepdims=False",
  "unreduce_extreme(g, np.max(a, axis=axis, keepdims=keepdims), a, axis, keepdims)"
  " - unreduce_extreme(g, np.min(a, axis=axis, keepdims=keepdims), a, axis, keepdims)",
  jvp="np.sum((unreduce_extreme(1.0, np.max(a, axis=axis, keepdims=keepdims), a, axis, keepdims)"
      " - unreduce_extreme(1.0, np.min(a, axis=axis, keepdims=keepdims), a, axis, keepdims)) * t_a,"
      " axis=axis, keepdims=keepdims)")
D(np.average, "a, axis=None, weights=None", "average_back(g, a, axis, weights)",
  weights="average_weights_back(g, ans, a, axis, weights)",
  jvp="np.average(t_a, axis, weights) + average_weights_back(t_weights, ans, a, axis, weights, "
      "forward=True)")
# (a NaN entry contributes nothing, even through a derivative that is NaN there: selects)
D(np.nansum, "a, axis=None, dtype=None, out=None, keepdims=False",
  "unreduce(g, a, axis, keepdims) * ~np.isnan(a)",
  jvp="np.sum(np.where(np.isnan(a), 0.0, t_a), axis=axis, keepdims=keepdims)", selects=True)
D(np.nanmean, "a, axis=None, dtype=None, out=None, keepdims=False",
  "nanmean_back(g, a, axis, keepdims)",
  jvp="np.nanmean(np.where(np.isnan(a), np.nan, t_a), axis=axis, keepdims=keepdims)",
  selects=True)
# (the variance of the entries that are not NaN; a NaN entry gets no gradient)
R(np.nanvar, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
  "np.where(np.isnan(a), 0.0, unreduce(g, a, axis, keepdims) * 2.0 * (a - np.nanmean(a, axis=axis, "
  "keepdims=True)) / (np.sum(~np.isnan(a), axis=axis, keepdims=True) - ddof))",
  jvp="np.sum(np.where(np.isnan(a), 0.0, 2.0 * (a - np.nanmean(a, axis=axis, keepdims=True)) * "
      "t_a), axis=axis,"
      " keepdims=keepdims) / (np.sum(~np.isnan(a), axis=axis, keepdims=keepdims) - ddof)",
  selects=True)
R(np.nanstd, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
  "np.where(np.isnan(a), 0.0, unreduce(g / nonzero_or_one(ans), a, axis, keepdims)"
  " * (a - np.nanmean(a, axis=axis, keepdims=True)) / (np.sum(~np.isnan(a), axis=axis, "
  "keepdims=True) - ddof))",
  jvp="np.sum(np.where(np.isnan(a), 0.0, (a - np.nanmean(a, axis=axis, keepdims=True)) * t_a), "
      "axis=axis,"
      " keepdims=keepdims) / ((np.sum(~np.isnan(a), axis=axis, keepdims=keepdims) - ddof) * "
      "nonzero_or_one(ans))", selects=True)
R(np.nanprod, "a, axis=None, dtype=None, out=None, keepdims=False",
  "np.where(np.isnan(a), 0.0, unreduce(g, a, axis, keepdims) * "
  "others_product(np.where(np.isnan(a), 1.0, a), axis))",
  jvp="np.sum(np.where(np.isnan(a), 0.0, others_product(np.where(np.isnan(a), 1.0, a), axis) * "
      "t_a), axis=axis, keepdims=keepdims)", selects=True)
# (rows are variables: the result is u @ u.T for the centred rows scaled to unit length)
D(np.corrcoef, "x, y=None, rowvar=True, *, dtype=None", "corrcoef_back(g, x, y, 0)",
  y="corrcoef_back(g, x, y, 1)", jvp="corrcoef_jvp(x, y, t_x, t_y)", only=dict(rowvar=(True,)))
# (method 'linear': between two order statistics, weighted 1 - frac and frac; q is a constant)
D(np.quantile, "a, q, axis=None, out=None, overwrite_input=False, method='linear', "
  "keepdims=False, *, weights=None", "quantile_back(g, a, q, axis, keepdims)",
  jvp="quantile_jvp(t_a, a, q, axis, keepdims)", harmless=("overwrite_input",),
  only=dict(method=("linear",), weights=(None,)))
D(np.percentile, "a, q, axis=None, out=None, overwrite_input=False, method='linear', "
  "keepdims=False, *, weights=None", "quantile_back(g, a, np.true_divide(q, 100), axis, keepdims)",
  jvp="quantile_jvp(t_a, a, np.true_divide(q, 100), axis, keepdims)",
  harmless=("overwrite_input",), only=dict(method=("linear",), weights=(None,)))
D(np.cov, "m, y=None, rowvar=True, bias=False, ddof=None", "cov_back(g, m, rowvar, bias, ddof)",
  jvp="cov_jvp(m, t_m, rowvar, bias, ddof)", only=dict(y=(None,)))
D(np.nancumsum, "a, axis=None, dtype=None, out=None",
  "np.where(np.isnan(a), 0.0, cumsum_back(g, a, axis))",
  jvp="np.cumsum(np.where(np.isnan(a), 0.0, t_a), axis=axis)")
D(np.nancumprod, "a, axis=None, dtype=None, out=None",
  "np.where(np.isnan(a), 0.0, cumprod_back(g, ans, np.where(np.isnan(a), 1.0, a), axis))",
  jvp="cumsum_back_free(np.where(np.isnan(a), 0.0, t_a), ans, np.where(np.isnan(a), 1.0, a), "
      "axis)", selects=True)
# (prepend/append: joined to a along axis, a number broadcast to one entry's shape there)
D(np.diff, "a, n=1, axis=-1, prepend=None, append=None",
  "diff_part_back(g, a, n, axis, prepend, append, 0)",
  prepend="diff_part_back(g, a, n, axis, prepend, append, 1)",
  append="diff_part_back(g, a, n, axis, prepend, append, 2)",
  jvp="diff_jvp(t_a, t_prepend, t_append, a, prepend, append, n, axis)")
D(np.trace, "a, offset=0, axis1=0, axis2=1, dtype=None, out=None",
  "trace_back(g, a, offset, axis1, axis2)",
  linear=True)
D(np.diag, "v, k=0", "diag_back(g, v, k)", linear=True)
D(np.diagflat, "v, k=0", "np.reshape(np.diagonal(g, k), np.shape(v))", linear=True)
D(np.ediff1d, "ary", "np.reshape(diff_back(g, np.ravel(ary), 1, -1), np.shape(ary))", linear=True)
D(np.diagonal, "a, offset=0, axis1=0, axis2=1", "diagonal_back(g, a, offset, axis1, axis2)",
  linear=True)
D(np.triu, "m, k=0", "np.triu(g, k)", linear=True)
D(np.tril, "m, k=0", "np.tril(g, k)", linear=True)

# -- products
# (np.dot and np.matmul agree on operands of rank 1 and 2: one batching rule, batched.py's)
P(np.dot, "a, b", "ddot_left(g, a, b)", "ddot_right(g, a, b)", "np.dot", matmul=True)
P(np.matmul, "x1, x2", "dmatmul_left(g, x1, x2)", "dmatmul_right(g, x1, x2)", "matmul", matmul=True)
P(np.vdot, "a, b", "np.reshape(g * np.ravel(b), np.shape(a))",
  "np.reshape(g * np.ravel(a), np.shape(b))", "np.vdot")
P(np.inner, "a, b", "inner_back(g, a, b, 0)", "inner_back(g, a, b, 1)", "np.inner")
P(np.tensordot, "a, b, axes=2", "tensordot_back(g, a, b, axes, 0)",
  "tensordot_back(g, a, b, axes, 1)", "np.tensordot")
P(np.kron, "a, b", "kron_back(g, a, b, 0)", "kron_back(g, a, b, 1)", "np.kron")
D(np.cross, "a, b, axisa=-1, axisb=-1, axisc=-1, axis=None",
  "cross_back(g, a, b, 0, axisa, axisb, axisc, axis)",
  b="cross_back(g, a, b, 1, axisa, axisb, axisc, axis)",
  jvp="np.cross(t_a, b, axisa, axisb, axisc, axis) + np.cross(a, t_b, axisa, axisb, axisc, axis)")
# (the sublist form, einsum(a, [0, 1], b, [1, 2]), passes an operand as ``subscripts``)
D(np.einsum, "subscripts, *operands, optimize=False, dtype=None",
  "einsum_back(g, (subscripts,) + operands)[0]", harmless=("optimize",),
  operands="einsum_back(g, (subscripts,) + operands)[1:]",
  jvp="einsum_jvp((subscripts,) + operands, t_subscripts, t_operands)")
P(np.outer, "a, b", "np.reshape(np.dot(g, np.ravel(b)), np.shape(a))",
  "np.reshape(np.dot(np.ravel(a), g), np.shape(b))",
  "np.outer")
# ufunc.outer: the result's axes are a's, then b's; each adjoint sums over the other's axes
D(np.add.outer, "a, b, *, dtype=None, out=None",
  "np.sum(g, axis=tuple(range(np.ndim(a), np.ndim(g))))", b="unbroadcast(g, b)",
  jvp="np.add.outer(t_a, np.zeros(np.shape(b))) + np.add.outer(np.zeros(np.shape(a)), t_b)",
  name="np.add.outer", arrays=True)
D(np.subtract.outer, "a, b, *, dtype=None, out=None",
  "np.sum(g, axis=tuple(range(np.ndim(a), np.ndim(g))))", b="-unbroadcast(g, b)",
  jvp="np.add.outer(t_a, np.zeros(np.shape(b))) - np.add.outer(np.zeros(np.shape(a)), t_b)",
  name="np.subtract.outer", arrays=True)
D(np.multiply.outer, "a, b, *, dtype=None, out=None", "np.tensordot(g, b, np.ndim(b))",
  b="np.tensordot(a, g, np.ndim(a))",
  jvp="np.multiply.outer(t_a, b) + np.multiply.outer(a, t_b)", name="np.multiply.outer",
  arrays=True)
D(np.divide.outer, "a, b, *, dtype=None, out=None", "np.tensordot(g, 1.0 / b, np.ndim(b))",
  b="-np.tensordot(a, g, np.ndim(a)) / b ** 2",
  jvp="np.divide.outer(t_a, b) - np.multiply.outer(a, t_b / b ** 2)", name="np.divide.outer",
  arrays=True)

# -- shapes
# (the adjoint reshapes back to the operand's shape, whatever the new shape or axis was; in the
# same index order: 'A' and 'K' depend on memory layout and are refused)
D(np.reshape, "a, shape=None, order='C', copy=None", "np.reshape(g, np.shape(a), order)",
  linear=True,
  harmless=("shape", "copy"), only=dict(order=("C", "F")), batching="reshape")
D(np.ravel, "a, order='C'", "np.reshape(g, np.shape(a), order)", linear=True,
  only=dict(order=("C", "F")),
  batching="reshape")
D(np.squeeze, "a, axis=None", "np.reshape(g, np.shape(a))", linear=True, harmless=("axis",))
D(np.expand_dims, "a, axis", "np.reshape(g, np.shape(a))", linear=True, harmless=("axis",))
D(np.transpose, "a, axes=None", "transpose_back(g, axes)", linear=True, batching="transpose")
# (casting= only decides whether a dtype change is allowed: the values are the same)
D(np.concatenate, "arrays, axis=0, out=None, dtype=None, casting='same_kind'",
  "split_like(g, arrays, axis)",
  linear=True, harmless=("casting",))
D(np.swapaxes, "a, axis1, axis2", "swap_back(g, axis1, axis2)", linear=True)
D(np.moveaxis, "a, source, destination", "moveaxis_back(g, source, destination)", linear=True)
D(np.rollaxis, "a, axis, start=0", "rollaxis_back(g, a, axis, start)", linear=True)
D(np.broadcast_to, "array, shape, subok=False", "unbroadcast(g, array)", linear=True,
  harmless=("shape", "subok"))
D(np.atleast_1d, "ary", "np.reshape(g, np.shape(ary))", linear=True)
D(np.atleast_2d, "ary", "np.reshape(g, np.shape(ary))", linear=True)
D(np.atleast_3d, "ary", "np.reshape(g, np.shape(ary))", linear=True)
D(np.hstack, "tup, dtype=None, casting='same_kind'", "hstack_back(g, tup)", linear=True,
  harmless=("casting",))
D(np.vstack, "tup, dtype=None, casting='same_kind'", "vstack_back(g, tup)", linear=True,
  harmless=("casting",))
D(np.column_stack, "tup", "column_stack_back(g, tup)", linear=True)
D(np.dstack, "tup", "dstack_back(g, tup)", linear=True)
D(np.block, "arrays", "block_back(g, arrays)", linear=True)
# (w.r.t. the values; the spacing or coordinates in varargs get no gradient)
D(np.gradient, "f, *varargs, axis=None, edge_order=1",
  "gradient_back(g, f, varargs, axis, edge_order)", linear=True)
D(np.real_if_close, "a, tol=100", "real_adjoint(g, a, site)", linear=True, harmless=("tol",))
if hasattr(np, "row_stack") and np.row_stack is not np.vstack:  # (deprecated, NumPy 2)
    table.like(np.row_stack, table.rules[np.vstack], "tup, dtype=None, casting='same_kind'")
D(np.split, "ary, indices_or_sections, axis=0", "split_back(g, ary, indices_or_sections, axis)",
  linear=True)
D(np.array_split, "ary, indices_or_sections, axis=0",
  "split_back(g, ary, indices_or_sections, axis)", linear=True)
D(np.hsplit, "ary, indices_or_sections",
  "split_back(g, ary, indices_or_sections, 1 if np.ndim(ary) > 1 else 0)",
  linear=True)
D(np.vsplit, "ary, indices_or_sections", "split_back(g, ary, indices_or_sections, 0)", linear=True)
D(np.dsplit, "ary, indices_or_sections", "split_back(g, ary, indices_or_sections, 2)", linear=True)
D(np.tile, "A, reps", "tile_back(g, A, reps)", linear=True)
D(np.repeat, "a, repeats, axis=None", "repeat_back(g, a, repeats, axis)", linear=True)
D(np.flip, "m, axis=None", "np.flip(g, axis)", linear=True)
D(np.fliplr, "m", "np.fliplr(g)", linear=True)
D(np.flipud, "m", "np.flipud(g)", linear=True)
D(np.roll, "a, shift, axis=None", "roll_back(g, shift, axis)", linear=True)
# (the modes that copy entries: their adjoint adds g back to the entries copied; the others
# are refused where they run, pad_mode: mode may be known only then; reflect_type 'odd'
# computes new values, 2 * edge - entry, and is refused)
# (constant_values fill new entries: not differentiated, so one depending on wrt is refused;
# the tangent pads with zeros, not with them)
D(np.pad, "array, pad_width, mode='constant', reflect_type='even', constant_values=0",
  "pad_back(g, array, pad_width, pad_mode(mode, site))",
  jvp="np.pad(t_array, pad_width, pad_mode(mode, site))",
  harmless=("constant_values",), only=dict(reflect_type=("even",)))
# (obj: constant indices, slices or masks; values inserted broadcast, so their adjoints add up)
D(np.delete, "arr, obj, axis=None", "delete_back(g, arr, obj, axis)", linear=True)
D(np.insert, "arr, obj, values, axis=None", "insert_back(g, arr, obj, values, axis, 0)",
  values="insert_back(g, arr, obj, values, axis, 1)",
  jvp="insert_jvp(arr, t_arr, obj, values, t_values, axis)")
D(np.take, "a, indices, axis=None", "take_back(g, a, indices, axis)", linear=True)
D(np.take_along_axis, "arr, indices, axis", "take_along_axis_back(g, arr, indices, axis)",
  linear=True)
D(np.sort, "a, axis=-1", "sort_back(g, a, axis)",
  jvp="np.take_along_axis(t_a, np.argsort(a, axis=axis), axis)")
D(np.partition, "a, kth, axis=-1, kind='introselect'", "partition_back(g, a, kth, axis)",
  jvp="partition_back(t_a, a, kth, axis, forward=True)", harmless=("kind",))
# (a memory layout)
D(np.copy, "a, order='K', subok=False", "g", linear=True, harmless=("order", "subok"))
D(np.ascontiguousarray, "a, dtype=None", "g", linear=True)
D(np.asanyarray, "a, dtype=None, order=None, copy=None", "g", linear=True,
  harmless=("order", "copy"))
D(np.stack, "arrays, axis=0, out=None, dtype=None, casting='same_kind'", "unstack(g, arrays, axis)",
  linear=True,
  harmless=("casting",))
D(np.array, "object, dtype=None, copy=True, order='K', subok=False, ndmin=0", "g", linear=True,
  harmless=("copy", "order", "subok"))
D(np.polyval, "p, x", "polyval_coeff_back(g, p, x)",
  x="unbroadcast(g * np.polyval(np.polyder(p), x), x)",
  jvp="np.polyval(t_p, x) + np.polyval(np.polyder(p), x) * t_x")
D(np.polyder, "p, m=1", "polyder_back(g, p, m)", linear=True)
# numpy.polynomial's series (power, Chebyshev, Legendre, Laguerre, Hermite): linear in the
# coefficients (their adjoint: the basis at x), the derivative series giving x's
for _kind, _prefix in (("polynomial", "poly"), ("chebyshev", "cheb"), ("legendre", "leg"),
                       ("laguerre", "lag"), ("hermite", "herm"), ("hermite_e", "herme")):
    _val, _der = ("np.polynomial.%s.%s%s" % (_kind, _prefix, part) for part in ("val", "der"))
    D(getattr(getattr(np.polynomial, _kind), _prefix + "val"), "x, c, tensor=True",
      "unbroadcast(g * %s(x, %s(c)), x)" % (_val, _der), c="series_coeff_back(g, x, c, %s)"
      % _val, jvp="%s(x, t_c) + %s(x, %s(c)) * t_x" % (_val, _val, _der), only=dict(tensor=(True,)))
    D(getattr(getattr(np.polynomial, _kind), _prefix + "der"), "c, m=1, scl=1, axis=0",
      "series_der_back(g, c, m, scl, %s)" % _der, linear=True, only=dict(axis=(0,)))
D(np.convolve, "a, v, mode='full'", "convolve_back(g, a, v, mode, 0)",
  v="convolve_back(g, a, v, mode, 1)",
  jvp="np.convolve(t_a, v, mode) + np.convolve(a, t_v, mode)", arrays=True)
D(np.correlate, "a, v, mode='valid'", "convolve_back(g, a, v[::-1], mode, 0)",
  v="convolve_back(g, a, v[::-1], mode, 1)[::-1]",
  jvp="np.correlate(t_a, v, mode) + np.correlate(a, t_v, mode)", arrays=True)
D(np.interp, "x, xp, fp", "g * interp_slope(x, xp, fp)", fp="interp_fp_back(g, x, xp, fp)",
  xp="interp_xp_back(g, x, xp, fp)",
  jvp="interp_slope(x, xp, fp) * t_x + np.interp(x, xp, t_fp) "
      "+ interp_xp_tangent(x, xp, fp, t_xp)")
D(np.append, "arr, values, axis=None", "append_back(g, arr, values, axis, 0)",
  values="append_back(g, arr, values, axis, 1)",
  jvp="append_jvp(arr, values, t_arr, t_values, axis)")
D(np.rot90, "m, k=1, axes=(0, 1)", "np.rot90(g, -k, axes)", linear=True)
D(np.vander, "x, N=None, increasing=False", "np.sum(g * vander_slope(x, N, increasing), axis=1)",
  jvp="vander_slope(x, N, increasing) * t_x[:, None]")
D(np.median, "a, axis=None, keepdims=False", "median_back(g, a, axis, keepdims)",
  jvp="np.sum(median_back(1.0, a, axis, True) * t_a, axis=axis, keepdims=keepdims)")
# (the median of the entries that are not NaN; a NaN entry gets no gradient)
D(np.nanmedian, "a, axis=None, out=None, overwrite_input=False, keepdims=False",
  "nanmedian_back(g, a, axis, keepdims)", jvp="nanmedian_jvp(t_a, a, axis, keepdims)",
  harmless=("overwrite_input",))
if hasattr(np, "trapezoid"):  # NumPy >= 2.0
    D(np.trapezoid, "y, x=None, dx=1.0, axis=-1", "trapezoid_back(g, y, x, dx, axis)",
      x="trapezoid_x_back(g, y, x, axis)", dx="unbroadcast(g * ans / dx, dx)",
      jvp="np.trapezoid(t_y, x, dx, axis) + trapezoid_x_jvp(y, x, t_x, axis) + ans / dx * t_dx",
      harmless=("axis",))  # (dx's adjoint, ans / dx, holds along any axis)
if hasattr(np, "vecdot"):  # NumPy >= 2.0
    P(np.vecdot, "x1, x2, axis=-1", "unbroadcast(np.expand_dims(g, axis) * x2, x1)",
      "unbroadcast(np.expand_dims(g, axis) * x1, x2)", "np.vecdot")
if hasattr(np, "matvec"):  # NumPy >= 2.2: matrix @ vector and vector @ matrix over the last axes
    P(np.matvec, "x1, x2", "unbroadcast(g[..., :, None] * x2[..., None, :], x1)",
      "unbroadcast(np.vecmat(g, x1), x2)",
      "np.matvec")
    P(np.vecmat, "x1, x2", "unbroadcast(np.matvec(x2, g), x1)",
      "unbroadcast(x1[..., :, None] * g[..., None, :], x2)",
      "np.vecmat")
D(np.full, "shape, fill_value, dtype=None, order='C'", None,
  fill_value="unbroadcast(g, fill_value)", linear=True,
  harmless=("shape", "order"))
# (without dtype=, the result has a's dtype: an int array makes the fill value's gradient zero)
D(np.full_like, "a, fill_value, dtype=None, order='K', subok=True, shape=None", None,
  fill_value="unbroadcast(dtype_gate(g, result_dtype(a, dtype), site), fill_value)",
  jvp="dtype_gate(np.full_like(a, t_fill_value, dtype, order, subok, shape), result_dtype(a, "
      "dtype), site)",
  zero=("a",), harmless=("order", "subok", "shape"))
D(np.linspace, "start, stop, num=50, endpoint=True, retstep=False, dtype=None",
  "linspace_back(g, start, num, endpoint, 0)",
  stop="linspace_back(g, stop, num, endpoint, 1)",
  jvp="linspace_jvp(t_start, t_stop, start, num, endpoint)")
D(np.meshgrid, "*xi, indexing='xy'", None, xi="meshgrid_back(g, xi, indexing)",
  jvp="meshgrid_jvp(xi, t_xi, indexing)")
D(np.asarray, "a, dtype=None, order=None, copy=None", "g", linear=True, harmless=("order", "copy"))
if hasattr(np, "astype"):  # NumPy >= 2.1
    D(np.astype, "x, dtype, copy=True, device=None", "g", linear=True, harmless=("copy",))

# -- no gradient
N(np.sign, np.floor, np.ceil, np.round, np.rint, np.trunc, np.fix, np.argmax, np.argmin, np.argsort,
  np.shape, np.size, np.ndim, np.zeros, np.ones, np.empty, np.zeros_like, np.ones_like,
  np.empty_like,
  np.eye, np.identity, np.isnan, np.isinf, np.isfinite,
  np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
  np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.floor_divide,
  np.nonzero, np.count_nonzero, np.all, np.any, np.searchsorted,
  np.argwhere, np.flatnonzero, np.isclose, np.allclose, np.array_equal, np.signbit,
  np.isreal, np.iscomplex, np.isscalar, np.result_type, np.broadcast_shapes, np.indices,
  np.tri, np.diag_indices, np.triu_indices, np.tril_indices, np.digitize, np.heaviside,
  np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert, np.left_shift, np.right_shift, np.gcd,
  np.lcm,
  np.random.rand, np.random.randn, np.random.randint, np.iscomplexobj, np.isrealobj,
  np.argpartition,
  np.lexsort, np.ravel_multi_index, np.unravel_index)
# scalar types: integers and booleans are piecewise constant
# (some are aliases)
N(*dict.fromkeys([np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
                  np.intc, np.int_,
                  np.uint, np.longlong, np.ulonglong, np.intp, np.uintp, np.bool_]))
for _complex_type in (np.complex64, np.complex128, np.clongdouble):
    D(_complex_type, "x=0", "g", linear=True)
table.refuse(np.apply_along_axis, np.apply_over_axes, np.piecewise, np.frompyfunc, np.fromfunction,
             why="it calls a Python function of its own, and adcompiler does not trace into NumPy",
             hint="write the loop or the branches in the function itself (np.stack([f(row) for row "
                  "in x]), np.where(condition, f(x), g(x)))")
# (a scatter-add of the weights: np.add.at(out, x, weights))
D(np.bincount, "x, weights=None, minlength=0", weights="np.asarray(g)[..., x]",
  jvp="np.bincount(x, t_weights, minlength)", harmless=("minlength",))
table.without_gradient(np.arange, np.unique, np.histogram, np.random.normal,
                       np.random.uniform,
                       np.random.choice, np.random.permutation)
