"""Derivative rules for ``scipy.spatial.distance`` (only when the user's code has imported
scipy.spatial: SciPy is not a dependency): pairwise distances for the metrics "sqeuclidean",
"euclidean" and "cityblock" (others refused), and ``squareform``, which is linear."""
import scipy.spatial.distance as ssd

from .core import Table

table = Table("scipy.spatial.distance")
D = table.define
_METRICS = dict(metric=("euclidean", "sqeuclidean", "cityblock"))

D(ssd.cdist, "XA, XB, metric='euclidean'", "cdist_back(g, XA, XB, metric, ans, 0)",
  XB="cdist_back(g, XA, XB, metric, ans, 1)",
  jvp="cdist_jvp(XA, XB, t_XA, t_XB, metric, ans)", only=_METRICS)
D(ssd.pdist, "X, metric='euclidean'", "pdist_back(g, X, metric, ans)",
  jvp="pdist_jvp(X, t_X, metric, ans)", only=_METRICS)
D(ssd.squareform, "X, force='no', checks=True", "squareform_back(g, X)",
  jvp="ssd.squareform(t_X, force, False)", linear=True, harmless=("checks",),
  only=dict(force=("no",)))
