"""Derivative rules for the ``math`` module (Python floats: no NumPy calls on the hot path)."""
import math

from .core import Table

table = Table("math")
E, N = table.elementwise, table.nondiff

E(math.exp, "x", "g * ans")
E(math.expm1, "x", "g * (ans + 1.0)")
E(math.log, "x, base=None", "g / x if base is None else g / (x * math.log(base))",
  "-g * ans / (base * math.log(base))")
E(math.log2, "x", "g / (x * math.log(2.0))")
E(math.log10, "x", "g / (x * math.log(10.0))")
E(math.log1p, "x", "g / (1.0 + x)")
E(math.sqrt, "x", "g * 0.5 / ans if ans else 0.0 * g")  # (at 0: 0, see nonzero_or_inf)
E(
    math.pow,
    "x, y",
    "dpow_base(g, x, y)",
    "dpow_exponent(g, ans, x)",
    constant=(
        "g * y * x ** (y - 1) if y >= 1 else 0.0 * g if y == 0 else g * y / nonzero_or_inf(x ** "
        "(1 - y))",
        "g * ans * math.log(x) if x > 0 else g * ans * 0.0",
    ),
)
E(math.sin, "x", "g * math.cos(x)")
E(math.cos, "x", "-g * math.sin(x)")
E(math.tan, "x", "g / math.cos(x) ** 2")
E(math.asin, "x", "g / math.sqrt(1.0 - x * x) if x * x != 1.0 else 0.0 * g")
E(math.acos, "x", "-g / math.sqrt(1.0 - x * x) if x * x != 1.0 else 0.0 * g")
E(math.atan, "x", "g / (1.0 + x * x)")
E(math.atan2, "y, x", "g * x / nonzero_or_one(x * x + y * y)",
  "-g * y / nonzero_or_one(x * x + y * y)")
E(math.sinh, "x", "g * math.cosh(x)")
E(math.cosh, "x", "g * math.sinh(x)")
E(math.tanh, "x", "g * (1.0 - ans * ans)")
E(math.asinh, "x", "g / math.sqrt(x * x + 1.0)")
E(math.acosh, "x", "g / math.sqrt(x * x - 1.0) if x != 1.0 else 0.0 * g")
E(math.atanh, "x", "g / (1.0 - x * x)")
E(math.fabs, "x", "g * math.copysign(1.0, x)")
E(math.erf, "x", "g * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)")
E(math.erfc, "x", "-g * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)")
E(math.degrees, "x", "g * (180.0 / math.pi)")
E(math.radians, "x", "g * (math.pi / 180.0)")
E(math.copysign, "x, y", "g * math.copysign(1.0, x) * math.copysign(1.0, y)", None, zero=("y",))
if hasattr(math, "cbrt"):
    E(math.cbrt, "x", "g / (3.0 * ans * ans) if ans else 0.0 * g")
if hasattr(math, "exp2"):
    E(math.exp2, "x", "g * ans * math.log(2.0)")

E(math.fmod, "x, y", "g", "-g * math.trunc(x / y)")
E(math.remainder, "x, y", "g", "-g * round(x / y)")
E(math.ldexp, "x, i", "g * 2.0 ** i", None)
E(math.gamma, "x", "g * ans * digamma(x)")
E(math.lgamma, "x", "g * digamma(x)")
D = table.define
D(math.fsum, "seq", "[g] * len(seq)", linear=True)
D(math.prod, "iterable, start=1", "prod_back(g, iterable, start)", start="g * math.prod(iterable)",
  jvp="prod_jvp(start, iterable, t_iterable) + math.prod(iterable) * t_start")
D(math.dist, "p, q", "dist_back(g, ans, p, q, 0)", q="dist_back(g, ans, p, q, 1)",
  jvp="dist_jvp(ans, p, q, t_p, t_q)")
# (any number of coordinates, Python >= 3.8; the subgradient 0 at the origin)
D(math.hypot, "*coordinates", "hypot_back(g, ans, coordinates)",
  jvp="hypot_jvp(ans, coordinates, t_coordinates)")
D(math.modf, "x", "element(g, 0)", jvp="(t_x, 0.0)")
D(math.frexp, "x", "element(g, 0) * 2.0 ** -element(ans, 1)", jvp="(t_x * 2.0 ** -ans[1], 0)")
N(math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite, math.isclose,
  math.factorial, math.gcd, math.comb, math.perm, math.isqrt, math.lcm, math.nextafter, math.ulp)
