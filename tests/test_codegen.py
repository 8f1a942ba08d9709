"""Generated code: golden files, determinism, names that cannot collide, tracebacks."""
import os
import subprocess
import sys
import textwrap
import traceback

import golden_functions
import numpy as np
import pytest

import adcompiler as ad

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")


@pytest.mark.parametrize("case", sorted(golden_functions.CASES))
def test_golden_source(case):
    fn, opts = golden_functions.CASES[case]
    got = ad.source(fn, **opts)
    path = os.path.join(GOLDEN, case + ".txt")
    if os.environ.get("ADCOMPILER_REGEN_GOLDEN"):
        with open(path, "w") as fh:
            fh.write(got)
    with open(path) as fh:
        assert got == fh.read(), "generated code changed; review it and regenerate with ADCOMPILER_REGEN_GOLDEN=1"
    compile(got, case, "exec")


def test_byte_identical_across_processes():
    here = os.path.dirname(os.path.abspath(__file__))
    code = ("import sys; sys.path.insert(0, %r); import adcompiler as ad, golden_functions as g\n"
            "print(''.join(ad.source(f, **o) for f, o in g.CASES.values()))" % here)
    outs = set()
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        outs.add(r.stdout)
    assert len(outs) == 1


def collide(x, dx, t1, d, tape, np_):
    t = x * dx + t1 * d
    dt = t * t
    return dt * np_ + np.sum(tape * x)


def test_user_names_never_collide():
    args = (0.5, 2.0, -1.0, 3.0, np.array([1.0, 2.0]), 4.0)
    got = ad.grad(collide, wrt=(0, 1, 2, 3, 4))(*args)
    from conftest import fd_grad
    for i, g in zip(range(5), got):
        np.testing.assert_allclose(g, fd_grad(collide, list(args), i), rtol=1e-6)


def test_no_assumed_numpy_alias(tmp_path):
    path = tmp_path / "alias_mod.py"
    path.write_text(textwrap.dedent("""\
        import numpy
        np = "not numpy"

        def f(x):
            return numpy.sum(numpy.tanh(x) * x)
        """))
    sys.path.insert(0, str(tmp_path))
    try:
        import alias_mod
        x = np.array([0.1, -0.4])
        g = ad.grad(alias_mod.f)(x)
        src = ad.source(alias_mod.f)
    finally:
        sys.path.remove(str(tmp_path))
    np.testing.assert_allclose(g, np.tanh(x) + x * (1 - np.tanh(x) ** 2))
    assert "np_1." in src or "numpy." in src


def failing(x, w):
    y = np.tanh(x @ w)
    return np.sum(y * x)


def test_tracebacks_show_generated_lines():
    try:
        ad.grad(failing)(np.ones(3), np.ones((4, 2)))
    except ValueError as exc:  # the shapes do not match: numpy raises inside the generated code
        frames = traceback.extract_tb(exc.__traceback__)
        generated = [f for f in frames if f.filename.startswith("<adcompiler:")]
        assert generated and generated[-1].line == "t1 = x @ w", "generated frames show their source line"
    else:
        raise AssertionError("expected a shape error")


def test_normal_form_is_three_address():
    import ast
    src = ad.normalize(golden_functions.softmax_xent)
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, (ast.BinOp, ast.Call, ast.UnaryOp)):
            parts = [node.left, node.right] if isinstance(node, ast.BinOp) else (
                [node.operand] if isinstance(node, ast.UnaryOp) else node.args)
            assert not any(isinstance(p, (ast.BinOp, ast.Call, ast.UnaryOp)) for p in parts), ast.unparse(node)


def test_optimized_code_has_no_unused_statements():
    import ast
    for case, (fn, opts) in golden_functions.CASES.items():
        tree = ast.parse(ad.source(fn, **opts))
        for func in tree.body:
            loads = {n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            for node in ast.walk(func):
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                    assert node.targets[0].id in loads, "%s: unused %s" % (case, ast.unparse(node))
