"""Rules for array methods and attributes (``x.sum()``, ``x.T``), keyed by name; the object the
method is called on is the first parameter. Methods with a NumPy function's signature reuse its
rule."""
import numpy as np

from .core import Table
from .numpy_rules import table as numpy_table

table = Table("methods")
D = table.define

for _name, _fn in [("sum", np.sum), ("mean", np.mean), ("prod", np.prod), ("max", np.max),
                   ("min", np.min),
                   ("var", np.var), ("std", np.std), ("dot", np.dot), ("cumsum", np.cumsum),
                   ("cumprod", np.cumprod), ("trace", np.trace), ("diagonal", np.diagonal),
                   ("swapaxes", np.swapaxes), ("repeat", np.repeat), ("take", np.take),
                   ("ravel", np.ravel),
                   ("squeeze", np.squeeze), ("copy", np.copy), ("conj", np.conjugate),
                   ("conjugate", np.conjugate)]:
    table.alias(_name, numpy_table.rules[_fn])
D("reshape", "a, *shape, order='C', copy=None", "np.reshape(g, np.shape(a), order)", linear=True,
  harmless=("copy",),
  only=dict(order=("C", "F")), batching="reshape")
D("flatten", "a, order='C'", "np.reshape(g, np.shape(a), order)", linear=True,
  only=dict(order=("C", "F")), batching="reshape")
D("transpose", "a, *axes", "transpose_back(g, axes)", linear=True, batching="transpose")
D("T", "a", "np.transpose(g)", linear=True, batching="transpose")
D("flat", "a", "np.reshape(g, np.shape(a))", linear=True)  # (x.flat[i] reads as np.ravel(x)[i])
# (for real arrays, as np.real)
D("real", "a", "real_adjoint(g, a, site)", jvp="real_adjoint(t_a, a, site)")
D("imag", "a", "real_adjoint(g, a, site) * 0.0", jvp="real_adjoint(t_a, a, site) * 0.0")
# (a dict's (key, value) pairs: the keys have no tangent)
D("items", "a", "items_back(g, a)", jvp="items_jvp(t_a, a)")
D("get", "a, key, default=None", "get_back(g, a, key)", default="0.0 if key in a else g",
  jvp="get_jvp(a, key, t_a, t_default)", zero=("key",))
D("values", "a", "values_back(g, a)", linear=True)
table.elementwise("clip", "a, min=None, max=None", "g * inside(a, min, max)")
# (the dtype decides: see rules/core.py; the other arguments change the memory layout, or raise)
D("astype", "a, dtype, order='K', casting='unsafe', subok=True, copy=True", "g", linear=True,
  harmless=("order", "casting", "subok", "copy"))
D("item", "a", "g", linear=True)
D("tolist", "a", "np.reshape(np.asarray(g, dtype=float), np.shape(a))", linear=True)
table.nondiff("argmax", "argmin", "argsort", "nonzero", "all", "any", "shape", "ndim", "size",
              "dtype",
              "round", "searchsorted", "keys")
