"""Rules for array methods and attributes (``x.sum()``, ``x.T``), keyed by name; ``a`` is the
object the method is called on."""
from .core import Table

table = Table("methods")
D = table.define

D("sum", "a, axis=None, dtype=None, out=None, keepdims=False", "unreduce(g, a, axis, keepdims)", linear=True)
D("mean", "a, axis=None, dtype=None, out=None, keepdims=False",
  "unreduce(g, a, axis, keepdims) / reduced_size(a, axis)", linear=True)
D("prod", "a, axis=None, dtype=None, out=None, keepdims=False", "unreduce(g * ans, a, axis, keepdims) / a",
  jvp="ans * np.sum(t_a / a, axis=axis, keepdims=keepdims)")
for _name in ("max", "min"):
    D(_name, "a, axis=None, out=None, keepdims=False", "unreduce_extreme(g, ans, a, axis, keepdims)",
      jvp="np.sum(unreduce_extreme(1.0, ans, a, axis, keepdims) * t_a, axis=axis, keepdims=keepdims)")
D("var", "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
  "unreduce(g, a, axis, keepdims) * 2.0 * (a - np.mean(a, axis=axis, keepdims=True)) / (reduced_size(a, axis) - ddof)",
  jvp="np.sum(2.0 * (a - np.mean(a, axis=axis, keepdims=True)) * t_a, axis=axis, keepdims=keepdims) / (reduced_size(a, axis) - ddof)")
D("std", "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
  "unreduce(g / ans, a, axis, keepdims) * (a - np.mean(a, axis=axis, keepdims=True)) / (reduced_size(a, axis) - ddof)",
  jvp="np.sum((a - np.mean(a, axis=axis, keepdims=True)) * t_a, axis=axis, keepdims=keepdims) / ((reduced_size(a, axis) - ddof) * ans)")
D("dot", "a, b", "ddot_left(g, a, b)", b="ddot_right(g, a, b)", jvp="np.dot(t_a, b) + np.dot(a, t_b)")
D("reshape", "a, *shape", "np.reshape(g, np.shape(a))", linear=True)
D("ravel", "a", "np.reshape(g, np.shape(a))", linear=True)
D("flatten", "a", "np.reshape(g, np.shape(a))", linear=True)
D("squeeze", "a, axis=None", "np.reshape(g, np.shape(a))", linear=True)
D("transpose", "a, *axes", "transpose_back(g, axes)", linear=True)
D("T", "a", "np.transpose(g)", linear=True)
D("copy", "a", "g", linear=True)
D("cumsum", "a, axis=None, dtype=None, out=None", "cumsum_back(g, a, axis)", linear=True)
D("cumprod", "a, axis=None, dtype=None, out=None", "cumprod_back(g, ans, a, axis)",
  jvp="cumsum_back_free(t_a, ans, a, axis)")
D("trace", "a, offset=0, axis1=0, axis2=1", "trace_back(g, a, offset, axis1, axis2)", linear=True)
D("diagonal", "a, offset=0, axis1=0, axis2=1", "diagonal_back(g, a, offset, axis1, axis2)", linear=True)
D("swapaxes", "a, axis1, axis2", "swap_back(g, axis1, axis2)", linear=True)
D("repeat", "a, repeats, axis=None", "repeat_back(g, a, repeats, axis)", linear=True)
D("take", "a, indices, axis=None", "take_back(g, a, indices, axis)", linear=True)
D("conj", "a", "g", linear=True)
D("conjugate", "a", "g", linear=True)
D("items", "a", "items_back(g, a)", linear=True)
D("values", "a", "values_back(g, a)", linear=True)
table.elementwise("clip", "a, min=None, max=None", "g * inside(a, min, max)")
D("astype", "a, dtype", "g", linear=True)
D("item", "a", "g", linear=True)
table.nondiff("argmax", "argmin", "argsort", "nonzero", "all", "any", "tolist", "shape", "ndim", "size", "dtype",
              "round", "searchsorted", "keys")
