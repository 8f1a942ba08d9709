"""Derivative rules for ``numpy.linalg``. ``g``: adjoint of the result, ``ans``: the result.
NumPy's eigh/eigvalsh/cholesky read only the lower triangle; their adjoints say so."""
import numpy as np

from . import numpy_rules
from .core import Table

table = Table("numpy.linalg")
D = table.define
_NP = numpy_rules.table.rules

D(np.linalg.det, "a", "np.asarray(g)[..., None, None] * det_cofactor(a, ans)",
  jvp="np.sum(det_cofactor(a, ans) * t_a, axis=(-2, -1))")
D(np.linalg.inv, "a", "-np.swapaxes(ans, -1, -2) @ g @ np.swapaxes(ans, -1, -2)",
  jvp="-ans @ t_a @ ans")
D(np.linalg.solve, "a, b", "dsolve_a(g, a, ans)", b="np.linalg.solve(np.swapaxes(a, -1, -2), g)",
  jvp="np.linalg.solve(a, t_b - t_a @ ans)")
D(np.linalg.norm, "x, ord=None, axis=None, keepdims=False", "dnorm(g, ans, x, ord, axis, keepdims)",
  jvp="np.sum(dnorm(1.0, ans, x, ord, axis, keepdims) * t_x, axis=axis, keepdims=keepdims)")
D(np.linalg.slogdet, "a", "slogdet_back(g, a)",
  jvp="(0.0, np.trace(np.linalg.solve(a, t_a), axis1=-2, axis2=-1))")
D(np.linalg.cholesky, "a", "cholesky_back(g, ans)", jvp="cholesky_jvp(ans, t_a)")
D(np.linalg.eigh, "a, UPLO='L'", "eigh_back(g, ans, UPLO)", jvp="eigh_jvp(ans, t_a, UPLO)")
# (eig's result is complex where an eigenvalue is: code calling it computes with complex values)
D(np.linalg.eig, "a", "eig_back(g, ans, a)", jvp="eig_jvp(ans, t_a)")
D(np.linalg.eigvals, "a", "eigvals_back(g, a)", jvp="eigvals_jvp(a, t_a)")
D(np.linalg.eigvalsh, "a, UPLO='L'", "eigvalsh_back(g, a, UPLO)", jvp="eigvalsh_jvp(a, t_a, UPLO)")
D(np.linalg.svd, "a, full_matrices=True, compute_uv=True",
  "svd_back(g, a, compute_uv, full_matrices)", jvp="svd_jvp(a, t_a, compute_uv, full_matrices)")
if hasattr(np.linalg, "svdvals"):
    D(np.linalg.svdvals, "x", "svdvals_back(g, x)", jvp="svdvals_jvp(x, t_x)")
D(np.linalg.matrix_power, "a, n", "matrix_power_back(g, a, n)", jvp="matrix_power_jvp(a, t_a, n)")
D(np.linalg.pinv, "a", "pinv_back(g, a, ans)", jvp="pinv_jvp(a, ans, t_a)")
D(np.linalg.qr, "a, mode='reduced'", "qr_back(g, a, ans, mode)", jvp="qr_jvp(a, ans, t_a, mode)",
  only=dict(mode=("reduced", "r")))
D(np.linalg.lstsq, "a, b, rcond=None", "lstsq_back(g, a, b, ans, 0)",
  b="lstsq_back(g, a, b, ans, 1)", jvp="lstsq_jvp(a, b, ans, t_a, t_b)", harmless=("rcond",))
# (the inverse and the solve of a tensor seen as the square matrix of its leading and trailing
# axes: inv's and solve's adjoints on that matrix)
D(np.linalg.tensorinv, "a, ind=2", "tensorinv_back(g, a, ans, ind)",
  jvp="tensorinv_jvp(a, ans, t_a, ind)")
D(np.linalg.tensorsolve, "a, b, axes=None", "-np.multiply.outer(tensorsolve_back(g, a, b), ans)",
  b="tensorsolve_back(g, a, b)",
  jvp="np.linalg.tensorsolve(a, t_b - np.tensordot(t_a, ans, np.ndim(ans)))",
  only=dict(axes=(None,)))
D(np.linalg.multi_dot, "arrays", "multi_dot_back(g, arrays)", jvp="multi_dot_jvp(arrays, t_arrays)")
# (an integer: piecewise constant)
table.nondiff(np.linalg.matrix_rank)
if hasattr(np.linalg, "outer"):  # NumPy >= 2.0: the array API's spellings (last two axes)
    table.product(np.linalg.outer, "x1, x2", "np.dot(g, x2)", "np.dot(x1, g)", "np.linalg.outer")
    table.like(np.linalg.matmul, _NP[np.matmul], "x1, x2")
    D(np.linalg.vector_norm, "x, axis=None, keepdims=False, ord=2",
      "dvector_norm(g, ans, x, axis, keepdims, ord)",
      jvp="np.sum(dvector_norm(1.0, ans, x, axis, keepdims, ord) * t_x, axis=axis, "
          "keepdims=keepdims)")
    table.like(np.linalg.vecdot, _NP[np.vecdot], "x1, x2, axis=-1")
    table.like(np.linalg.tensordot, _NP[np.tensordot], "a, b, axes=2")
    D(np.linalg.cross, "a, b, axis=-1", "cross_back(g, a, b, 0, -1, -1, -1, axis)",
      b="cross_back(g, a, b, 1, -1, -1, -1, axis)",
      jvp="np.linalg.cross(t_a, b, axis=axis) + np.linalg.cross(a, t_b, axis=axis)")
    D(np.linalg.trace, "x, offset=0, dtype=None", "trace_back(g, x, offset, -2, -1)",
      linear=True, only=dict(dtype=(None,)))
    D(np.linalg.diagonal, "x, offset=0", "diagonal_back(g, x, offset, -2, -1)", linear=True)
    D(np.linalg.matrix_transpose, "x", "np.swapaxes(g, -1, -2)", linear=True)
