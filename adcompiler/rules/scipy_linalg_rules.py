"""Derivative rules for ``scipy.linalg`` (only when the user's code has imported it: SciPy is
not a dependency). Where SciPy computes what ``numpy.linalg`` does, the entry is NumPy's with
SciPy's extra parameters: ``check_finite`` changes no value; ``overwrite_a``/``overwrite_b``
let SciPy destroy an input the adjoint reads, so only False is accepted.

scipy.linalg.cholesky reads the triangle it is asked for (``lower``), upper by default:
its adjoint is NumPy's (lower) one on the transposes. solve_triangular reads one triangle of
``a`` (without its diagonal when ``unit_diagonal``): its adjoint w.r.t. ``a`` lies there."""
import numpy as np
import scipy.linalg as sla

from . import linalg_rules
from .complex_rules import holds_for_complex
from .core import Table

table = Table("scipy.linalg")
D = table.define
_NP = linalg_rules.table.rules
_KEEP = dict(overwrite_a=(False,))

table.like(sla.det, _NP[np.linalg.det], "a, overwrite_a=False, check_finite=True",
           harmless=("check_finite",), only=_KEEP)
table.like(sla.inv, _NP[np.linalg.inv], "a, overwrite_a=False, check_finite=True",
           harmless=("check_finite",), only=_KEEP)
# (a symmetric or positive definite a: the triangle ``lower`` names is read, mirrored)
_READ_A = "solve_read(a, assume_a, lower)"
D(sla.solve, "a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True, "
             "assume_a=None, transposed=False",
  "solve_a_back(g, a, ans, assume_a, lower)",
  b="np.linalg.solve(np.swapaxes(%s, -1, -2), g)" % _READ_A,
  jvp="np.linalg.solve(%s, t_b - solve_read(t_a, assume_a, lower) @ ans)" % _READ_A,
  harmless=("check_finite",),
  only=dict(overwrite_a=(False,), overwrite_b=(False,), transposed=(False,),
            assume_a=(None, "gen", "general", "sym", "symmetric", "pos", "positive definite")))
table.like(sla.norm, _NP[np.linalg.norm],
           "x, ord=None, axis=None, keepdims=False, check_finite=True", harmless=("check_finite",))

_T = "np.swapaxes(%s, -1, -2)"
D(sla.cholesky, "a, lower=False, overwrite_a=False, check_finite=True",
  "cholesky_back(g, ans) if lower else %s" % (_T % ("cholesky_back(%s, %s)" % (_T % "g",
                                                                               _T % "ans"))),
  jvp="cholesky_jvp(ans, t_a) if lower else %s"
      % (_T % ("cholesky_jvp(%s, %s)" % (_T % "ans", _T % "t_a"))),
  harmless=("check_finite",), only=_KEEP)

# x = a^-1 b (trans=0) or a^-T b (trans=1), a triangular: the adjoint of b is the solve with the
# other transpose; a's, -(adjoint of b) x^T (its transpose for trans=1), on the triangle read
_READ = "(np.tril(%s, -unit_diagonal) if lower else np.triu(%s, unit_diagonal))"
# (trans written as a constant in each branch: a rule's keyword with values it accepts must be one)
_SOLVE = "sla.solve_triangular(a, %s, trans=%d, lower=lower, unit_diagonal=unit_diagonal)"
_GB = "(%s if trans == 0 else %s)" % (_SOLVE % ("g", 1), _SOLVE % ("g", 0))
_OUTER = "np.atleast_2d(%s.T).T @ np.atleast_2d(%s.T)"  # (u v^T, for vectors and matrices)
_A_BACK = "-(%s if trans == 0 else %s)" % (_OUTER % (_GB, "ans"), _OUTER % ("ans", _GB))
_TA = "(%s if trans == 0 else np.swapaxes(%s, -1, -2))" % (_READ % ("t_a", "t_a"),
                                                             _READ % ("t_a", "t_a"))
D(sla.solve_triangular,
  "a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, check_finite=True",
  _READ % (_A_BACK, _A_BACK), b=_GB,
  jvp="(%s if trans == 0 else %s)" % (_SOLVE % ("t_b - %s @ ans" % _TA, 0),
                                      _SOLVE % ("t_b - %s @ ans" % _TA, 1)),
  harmless=("check_finite",), only=dict(trans=(0, 1), overwrite_b=(False,)))

# (sqrtm's deprecated disp/blocksize are refused; the principal root is holomorphic off its
# branch cut, where a complex matrix's derivative is refused at run time: sqrtm_off_cut)
D(sla.sqrtm, "A", "sqrtm_back(g, ans, A)", jvp="sqrtm_jvp(ans, A, t_A)")
D(sla.expm, "A", "expm_frechet(np.swapaxes(A, -1, -2), g)", jvp="expm_frechet(A, t_A)")
# x solves a x + x b = q: the adjoint of q solves the transposed equation (x is holomorphic in
# a, b and q: the same rule for complex values)
_GQ = "sla.solve_sylvester(a.T, b.T, g)"
D(sla.solve_sylvester, "a, b, q", "-%s @ ans.T" % _GQ, b="-ans.T @ %s" % _GQ, q=_GQ,
  jvp="sla.solve_sylvester(a, b, t_q - t_a @ ans - ans @ t_b)")
holds_for_complex(sla.solve_sylvester)
holds_for_complex(sla.sqrtm, sla.expm, holomorphic=False)  # (their helpers take complex values)
# (cho_factor's c holds a's entries in the triangle the factor does not use)
D(sla.cho_factor, "a, lower=False, overwrite_a=False, check_finite=True", "cho_factor_back(g, ans)",
  jvp="cho_factor_jvp(ans, t_a)", harmless=("check_finite", "lower"), only=_KEEP,
  container=True)
D(sla.cho_solve, "c_and_lower, b, overwrite_b=False, check_finite=True",
  "cho_solve_back(g, c_and_lower, ans)", b="sla.cho_solve(c_and_lower, g)",
  jvp="cho_solve_jvp(c_and_lower, t_c_and_lower, t_b, ans)", harmless=("check_finite",),
  only=dict(overwrite_b=(False,)))
# (lu_factor's pair: P a = L U, L's unit diagonal implied; lu_solve solves with a or a^T)
D(sla.lu_factor, "a, overwrite_a=False, check_finite=True", "lu_factor_back(g, ans)",
  jvp="lu_factor_jvp(ans, t_a)", harmless=("check_finite",), only=_KEEP, container=True)
D(sla.lu_solve, "lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True",
  "lu_solve_back(g, lu_and_piv, ans, trans)",
  b="sla.lu_solve(lu_and_piv, g, trans=1) if trans == 0 else sla.lu_solve(lu_and_piv, g)",
  jvp="lu_solve_jvp(lu_and_piv, t_lu_and_piv, t_b, ans, trans)", harmless=("check_finite",),
  only=dict(trans=(0, 1), overwrite_b=(False,)))
# scipy.linalg.eigh(a): NumPy's eigh / eigvalsh on the triangle ``lower`` names (the standard
# problem only: no ``b``, no subset)
_UPLO = "('L' if lower else 'U')"
D(sla.eigh, "a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False, "
            "type=1, check_finite=True, subset_by_index=None, subset_by_value=None, driver=None",
  "eigvalsh_back(g, a, %s) if eigvals_only else eigh_back(g, ans, %s)" % (_UPLO, _UPLO),
  jvp="eigvalsh_jvp(a, t_a, %s) if eigvals_only else eigh_jvp(ans, t_a, %s)" % (_UPLO, _UPLO),
  harmless=("check_finite", "driver"),
  only=dict(b=(None,), type=(1,), subset_by_index=(None,), subset_by_value=(None,),
            overwrite_a=(False,), overwrite_b=(False,)))
