"""Derivative rules for Python operators and builtins. Operators are keyed by the functions of
the ``operator`` module (``x + y`` is ``operator.add``)."""
import builtins
import collections
import copy
import functools
import inspect
import operator
import sys

from .core import Table

table = Table("builtins")
E, D, N = table.elementwise, table.define, table.nondiff

E(operator.add, "x, y", "g", "g")
E(operator.sub, "x, y", "g", "-g")
E(operator.mul, "x, y", "g * y", "x * g")
E(operator.truediv, "x, y", "g / y", "-g * ans / y")
# (the conventions at a zero or negative base and a zero exponent: see np.power)
E(
    operator.pow,
    "x, y",
    "dpow_base(g, x, y)",
    "dpow_exponent(g, ans, x)",
    constant=(
        "g * y * x ** (y - 1) if y >= 1 else 0.0 * g if y == 0 else g * y / nonzero_or_inf(x ** "
        "(1 - y))",
        "g * ans * np.log(x) if x > 0 else g * ans * 0.0",
    ),
)
E(builtins.pow, "base, exp", "dpow_base(g, base, exp)", "dpow_exponent(g, ans, base)",
  constant=("g * exp * base ** (exp - 1) if exp >= 1 else 0.0 * g if exp == 0 else g * exp / "
            "nonzero_or_inf(base ** (1 - exp))",
            "g * ans * np.log(base) if base > 0 else g * ans * 0.0"))
E(operator.neg, "x", "-g")
E(operator.pos, "x", "g")
E(operator.mod, "x, y", "g", "mod_back(g, x, y)")
table.product(operator.matmul, "x, y", "dmatmul_left(g, x, y)", "dmatmul_right(g, x, y)", "matmul",
              matmul=True)
E(builtins.abs, "x", "real_adjoint(g, x, site) * np.sign(x)", scalar=("g if x >= 0 else -g",))
E(builtins.float, "x", "g")
D(builtins.sum, "iterable, start=0", "sum_back(g, iterable, start)",
  start="sum_start_back(g, start, iterable)", jvp="sum_jvp(t_iterable, t_start, iterable, start)")
# (a dict's list is its keys: no tangent; linear in the entries of anything else)
D(builtins.list, "iterable", "list_back(g, iterable)",
  jvp="sequence_jvp(t_iterable, iterable, list)")
# (getattr(obj, name) of a name known when it runs: an object's adjoint holds its attributes')
D(builtins.getattr, "object, name", "getattr_back(g, object, name)",
  jvp="getattr_jvp(object, t_object, name)", zero=("name",))
# (copies: the same values, so the same adjoint; a deep copy's arrays are new, a copy's entries
# are the original's, see planning/contents.py)
D(copy.copy, "x", "g", linear=True, like="x")
D(copy.deepcopy, "x", "g", linear=True, like="x")
D(builtins.tuple, "iterable", "list_back(g, iterable)",
  jvp="sequence_jvp(t_iterable, iterable, tuple)")
# lists and tuples: + concatenates, * repeats
D(list.__add__, "x, y", "g[:len(x)]", y="g[len(x):]", jvp="concat_jvp(x, y, t_x, t_y)",
  name="sequence + sequence")
# (the adjoint's length gives the number of repeats)
D(list.__mul__, "x, n", "sequence_repeat_back(g, x)", linear=True, name="sequence * n",
  harmless=("n",))
D(list.__rmul__, "n, x", x="sequence_repeat_back(g, x)", linear=True, name="n * sequence",
  harmless=("n",))
D(builtins.max, "*args", "dselect(g, ans, args)", jvp="select_jvp(ans, args, t_args)")
D(builtins.min, "*args", "dselect(g, ans, args)", jvp="select_jvp(ans, args, t_args)")
D(builtins.sorted, "iterable, reverse=False", "sorted_back(g, iterable, reverse)",
  jvp="sorted_jvp(iterable, t_iterable, reverse)")

# (real + 1j * imag: holomorphic in each part, complex parts included; in real code the
# adjoint of a real part is the real part of what reaches it, see docs/complex.md)
D(builtins.complex, "real=0, imag=0", "g", imag="1j * g", jvp="t_real + 1j * t_imag")
N(operator.floordiv, operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
  operator.not_, operator.and_, operator.or_, operator.xor, operator.invert, operator.lshift,
  operator.rshift, operator.is_, operator.is_not, operator.contains,
  builtins.len, builtins.int, builtins.bool, builtins.round, builtins.range, builtins.isinstance,
  builtins.print, builtins.str, builtins.type, builtins.id, builtins.hash, builtins.repr)
# (q, r) = divmod(a, b): q = a // b is piecewise constant, r = a - b * q
D(builtins.divmod, "a, b", "element(g, 1)", b="-element(g, 1) * np.floor_divide(a, b)",
  jvp="(0.0, t_a - t_b * np.floor_divide(a, b))", container=True)

# (one made in the function and kept there is the dict it builds: normalize/defaultdicts.py)
table.refuse(collections.Counter, why="a Counter's entries are not differentiated",
             hint="count into a dict: d[k] = d.get(k, 0.0) + v")
table.refuse(collections.defaultdict,
             why="it is differentiated only as a defaultdict made in the function that stays there "
                 "and whose missing entries are read in statements of their own (not beside a "
                 "view of its keys or values kept in a name, its length, or another read of it)",
             hint="build a plain dict: d[k] = d.get(k, 0.0) + v, or "
                  "d.setdefault(k, []).append(v)")
table.refuse(collections.deque,
             why="a deque is not differentiated (what its appends store, and the entries a maxlen "
                 "drops, are not followed)",
             hint="keep a list and drop the oldest entries yourself: buf.append(v); "
                  "buf = buf[-n:]")
table.refuse(builtins.vars,
             why="the dict of an object's attributes (vars(obj)) is not differentiated",
             hint="read the attributes by name (obj.w, obj.b), or keep the values in a dict the "
                  "object holds (obj.params = {'w': w, 'b': b})")
# (a partial bound to a name and called through it is inlined: normalize/local_functions.py)
table.refuse(functools.partial,
             why="a partial is differentiated when it is bound to a name and called through that "
                 "name, not kept in a list, dict or other value",
             hint="bind each partial to a name (f1 = functools.partial(g, a=x)), or keep the "
                  "arguments in the list and call the function with them "
                  "(for a, b in params: v = g(v, a=a, b=b))")

# Functions that read the local variables of the function calling them (``vars`` only without an
# argument), or compile code that will: what they compute depends on every local variable, through
# code the compiler does not see.
READS_LOCALS = (builtins.eval, builtins.exec, builtins.locals, builtins.vars, builtins.compile,
                sys._getframe,
                inspect.currentframe)
