"""Cases of functions computing with complex values (docs/complex.md). A case is an expression
of the variables it draws: ``Z(shape)`` a complex array (a Python complex for shape ()), ``R``
a real one. ``real=True``: the expression is real (gradients are checked); else complex (the
vjp with a complex cotangent and the jvp are checked). Each entry of
``rules/complex_rules.py`` (templates and holomorphic list) has at least one case."""


class Z:
    """A random complex argument (shape (): a Python complex)."""

    def __init__(self, *shape, lo=-1.5, hi=1.5, real=False):
        self.shape, self.lo, self.hi, self.real = shape, lo, hi, real

    def draw(self, rng):
        value = rng.uniform(self.lo, self.hi, self.shape)
        if not self.real:
            value = value + 1j * rng.uniform(self.lo, self.hi, self.shape)
        if self.shape:
            return value
        return float(value) if self.real else complex(value)


def R(*shape, **kw):
    return Z(*shape, real=True, **kw)


class Case:
    def __init__(self, expr, args, real=True):
        self.expr, self.args, self.real = expr, args, real


C = Case
z3, z23, w3 = Z(3), Z(2, 3), Z(3)
CASES = [
    # holomorphic elementwise functions, complex outputs (vjp with complex cotangents)
    C("z * w - z / (w + 3.0)", dict(z=z3, w=w3), real=False),
    C("z ** 2 + z ** w + np.power(z, 2.5) + (z + 3.0) ** (0.5 - 0.2j)", dict(z=Z(3, lo=0.5, hi=1.5),
                                                                        w=w3), real=False),
    C("np.sqrt(z) + np.exp(z) + np.log(z) + np.square(z) + np.reciprocal(z)",
      dict(z=Z(2, 3, lo=0.3, hi=1.5)), real=False),
    C("np.sin(z) * np.cos(z) + np.tan(z) + np.tanh(z) + np.sinh(z) * np.cosh(z)", dict(z=z23),
      real=False),
    C("np.arcsin(z) + np.arccos(z) + np.arctan(z) + np.arcsinh(z) + np.arctanh(z) + np.exp2(z)"
      " + np.expm1(z) + np.log2(z + 2.0) + np.log10(z + 2.0) + np.log1p(z)",
      dict(z=Z(3, lo=0.1, hi=0.6)), real=False),
    C("np.arccosh(z + 3.0) + np.float_power(z, 2.0) + -z + +z", dict(z=Z(3, lo=0.2, hi=1.0)),
      real=False),
    C("z * w", dict(z=Z(), w=Z()), real=False),
    # holomorphic reductions, products and linear maps
    C("np.sum(z, axis=0) + np.mean(z, axis=0) * np.prod(z, axis=0) + z.sum(0) + z.mean(0)"
      " * z.prod(0)", dict(z=z23), real=False),
    C("np.cumsum(z) + np.cumprod(z) + np.dot(z, w) + np.inner(z, w) + z.dot(w)", dict(z=z3, w=w3),
      real=False),
    C("z @ w + np.matmul(z, w) + np.tensordot(z, w, 1) + np.einsum('ij,jk->ik', z, w)",
      dict(z=Z(2, 3), w=Z(3, 2)), real=False),
    C("np.outer(z, w) + np.kron(z, w).reshape(3, 3) + np.cross(z, w)",
      dict(z=z3, w=w3), real=False),
    C("np.concatenate([z, w]).reshape(2, 3).T @ np.stack([z, w])[::-1] + np.transpose(np.outer(z, w))",
      dict(z=z3, w=w3), real=False),
    C("np.linalg.det(z) + np.sum(np.linalg.inv(z)) + np.sum(np.linalg.solve(z, w))",
      dict(z=Z(3, 3), w=w3), real=False),
    C("np.where(np.abs(z) > 1.0, z * z, 2.0 * z) + np.trace(np.outer(z, z))", dict(z=z3),
      real=False),
    # not holomorphic: real outputs
    C("np.abs(z) + np.real(z) * 2.0 - np.imag(z) + z.real * z.imag + np.angle(z)"
      " + np.angle(z, deg=True)", dict(z=z23)),
    C("abs(z) + z.real", dict(z=Z())),
    C("np.var(z) + np.sum(np.var(z, axis=1, ddof=1)) + np.sum(np.std(z, axis=0)) + z.var()"
      " + z.std(keepdims=True)",
      dict(z=z23)),
    C("np.linalg.norm(z) + np.sum(np.linalg.norm(z, axis=1) + np.linalg.norm(z, 3, axis=1))"
      " + np.sum(np.linalg.norm(z, 1, axis=0)) + np.sum(np.linalg.norm(z, np.inf, axis=1))"
      " + np.linalg.norm(z, 'fro') + np.linalg.norm(z, 1) + np.linalg.norm(z, np.inf)",
      dict(z=z23)),
    C("np.real(np.vdot(z, w) * (0.3 + 1.0j))", dict(z=z3, w=w3)),
    C("np.abs(np.sum(z * np.conj(w))) + np.real(z.conj() @ w.conjugate())", dict(z=z3, w=w3)),
    # complex values made from real ones; real arguments
    C("np.abs(complex(x, y) ** 2) + np.real(np.exp(1j * x) * y)", dict(x=R(), y=R())),
    C("np.abs(np.complex128(x) * (1 + 2j)) ** 2 + np.sum(np.imag(x.astype(complex) ** 3))",
      dict(x=R(3))),
    C("np.sum(np.abs(np.fft.rfft(x)) ** 2) + np.sum(np.real(np.fft.fft(x * 1j)))", dict(x=R(6))),
    # non-holomorphic functions with complex outputs
    C("np.conj(z) * z + np.real(z) * w + 1j * np.imag(w) * np.abs(z)", dict(z=z3, w=w3),
      real=False),
    C("np.fft.fft(z * np.conj(w), n=5, norm='ortho') + np.fft.ifft(w, n=5)", dict(z=z3, w=w3),
      real=False),
]
CASES += [
    # powers with complex and negative real bases and exponents, constants included
    C("(-2.0) ** z + 2.0 ** z + (1.0 + 1.0j) ** z + z ** (0.5 - 0.2j) + x ** z",
      dict(z=z3, x=R(3, lo=-2.0, hi=-0.5)), real=False),
]
CASES += [
    # real values whose adjoints are complex: casts of complex values to a real dtype, abs
    C("np.imag(np.abs(z) * w) + np.imag(np.real(z).astype(np.float64) * w)"
      " + np.sum(np.real(np.fft.irfft(z * w) * (1.0 + 2.0j)))", dict(z=z3, w=w3)),
    C("np.imag(z.astype(float) * w) + np.imag(np.asarray(w, dtype=float) * z)", dict(z=z3, w=w3)),
]
CASES += [
    # a number times an array (the number's adjoint is one sum of products: never conjugated)
    C("z * w + x * w + z * y", dict(z=Z(), w=Z(3, 2), x=R(), y=R(2)), real=False),
    C("np.abs(x * w) ** 2 + np.real(z * y) ** 2", dict(z=Z(), w=Z(3, 2), x=R(), y=R(2))),
]
CASES += [
    # products with zero entries (the derivative of np.prod, np.cumprod from partial products),
    # selections, sequences
    C("np.prod(z * np.array([1.0, 0.0, 1.0])) + np.sum(np.cumprod(z * np.array([1.0, 0.0, 1.0])))"
      " + np.prod(z) + np.max(z) + np.min(z, axis=0) + z.max() + np.sum(np.array([z[0]] + [z[1]]))",
      dict(z=z3), real=False),
]
CASES += [
    C("np.real_if_close(z * 0.0 + 1.0) * np.sum(np.abs(z)) + np.real_if_close(z * w)", dict(z=z3, w=w3),
      real=False),
]
CASES += [
    # the other holomorphic entries: ufunc reductions and outer products, polyval, powers, the
    # matrix products of np.linalg
    C("np.multiply.reduce(z) + np.maximum.reduce(z) + np.minimum.reduce(z) + np.add.outer(z, w)"
      " + np.subtract.outer(z, w) + np.multiply.outer(z, w) + np.divide.outer(z, w + 3.0)"
      " + np.polyval(z, w) + pow(z, 2) + pow(w, z)", dict(z=z3, w=Z(3, lo=0.5, hi=1.5)),
      real=False),
    C("np.linalg.matrix_power(m, 3) + np.linalg.multi_dot([m, m.T, m]) + np.amax(m) + np.amin(m)",
      dict(m=Z(2, 2)), real=False),
    C("np.abs(np.linalg.matrix_power(m, 2)) + np.real(np.linalg.multi_dot([m, m]))",
      dict(m=Z(2, 2))),
]
CASES += [
    # the spectral decompositions (rules/helpers/spectral.py): eigenvalues, and functions of the
    # vectors that do not depend on their phases; square, wide, tall and stacked matrices
    C("np.linalg.eigh(z)[0] * np.arange(1.0, 4.0) + np.abs(np.linalg.eigh(z, 'U')[1][0]) ** 2"
      " + np.linalg.eigvalsh(z) ** 3 + np.linalg.eigvalsh(z, UPLO='U')", dict(z=Z(3, 3))),
    C("np.abs(np.linalg.eigh(z)[1][..., 1]) ** 3 + np.linalg.eigh(z, 'U')[0] ** 2",
      dict(z=Z(2, 3, 3))),
    C("np.linalg.svd(z, compute_uv=False) ** 2 * np.arange(1.0, 4.0)"
      " + np.abs(np.linalg.svd(z, full_matrices=False)[0][0]) ** 3"
      " + np.abs(np.linalg.svd(z, full_matrices=False)[2][:, 1])", dict(z=Z(3, 4))),
    C("np.abs(np.linalg.svd(z, full_matrices=False)[0][..., :3, 0]) + np.linalg.svd(z, compute_uv=False)[..., :1]"
      " + np.abs(np.linalg.svd(z, full_matrices=False)[2][..., 0, :]) ** 2", dict(z=Z(2, 4, 3))),
    C("np.abs(np.linalg.svd(z)[0]) ** 2 @ np.abs(np.linalg.svd(z)[2])", dict(z=Z(3, 3))),
    C("np.abs(np.linalg.eig(z)[0]) * np.arange(1.0, 4.0) + np.abs(np.linalg.eig(z)[1][1]) ** 2",
      dict(z=Z(3, 3))),
    C("np.abs(np.linalg.eig(z)[0]) ** 2 + np.abs(np.linalg.eig(z)[1][..., 0, :])",
      dict(z=Z(2, 3, 3))),
    C("np.linalg.eigvals(z) ** 2 + np.linalg.eigvals(z + x)", dict(z=Z(2, 3, 3), x=R(3, 3)),
      real=False),
    # (a real matrix: complex eigenvalues, or real ones, as it draws)
    C("np.abs(np.linalg.eig(x)[0]) ** 2 + np.abs(np.linalg.eig(x)[1][0]) * np.arange(1.0, 4.0)",
      dict(x=R(3, 3))),
    # complex results whose phases are fixed: eigenvalues, projections, products of the factors
    C("np.linalg.eig(z)[0] ** 2 + np.sum(np.linalg.eig(z)[1][:, :1] * np.conj("
      "np.linalg.eig(z)[1][:, :1].T), axis=0)", dict(z=Z(3, 3)), real=False),
    C("(np.linalg.svd(z, full_matrices=False)[0] * np.linalg.svd(z, full_matrices=False)[1]"
      "[..., None, :]) @ np.linalg.svd(z, full_matrices=False)[2]", dict(z=Z(2, 3, 4)),
      real=False),
    C("np.linalg.eigh(z)[1][:, 1:] @ np.conj(np.linalg.eigh(z)[1][:, 1:].T)", dict(z=Z(3, 3)),
      real=False),
]
try:
    import scipy.linalg  # noqa: F401
    import scipy.special  # noqa: F401  (its holomorphic functions: scipy_rules.py)
    CASES += [C("sp.erf(z) * 2.0 + sp.erfc(w) + sp.erf(z * w)", dict(z=z3, w=Z(2, 3)), real=False),
              C("np.abs(sp.erf(z)) ** 2 + np.real(sp.erfc(z))", dict(z=z23)),
              # scipy.linalg's matrix functions of complex matrices (holomorphic), and the
              # complex square root of a real matrix with negative eigenvalues
              C("sla.sqrtm(z + 3.0 * np.eye(3)) + sla.expm(z) @ sla.solve_sylvester(z, w, z)",
                dict(z=Z(3, 3, lo=-0.5, hi=0.5), w=Z(3, 3, lo=1.0, hi=1.5)), real=False),
              C("np.abs(sla.sqrtm(z + 3.0 * np.eye(3))) ** 2", dict(z=Z(3, 3, lo=-0.5, hi=0.5))),
              C("sla.sqrtm(0.2 * (x + x.T) + np.diag([-3.0, 1.0, 4.0]))", dict(x=R(3, 3)),
                real=False)]
except ImportError:
    pass
