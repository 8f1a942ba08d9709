"""``ad.export`` (the gradient as a module that does not import adcompiler) and ``ad.graph``
(the three-address form, or the gradient code, as a DOT graph), and their commands."""
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import fd_grad

import adcompiler as ad
from adcompiler.cli import main

try:
    import scipy.special as sp_special
except ImportError:
    sp_special = None

W0 = np.array([[0.5, -1.0], [0.25, 2.0]])


def scaled(u, k=2.0):
    return u * k


def layered(w, x, steps=3):
    h = x
    for _ in range(steps):
        h = np.tanh(h @ (W0 * w))
        if np.sum(h) > 0.0:
            h = scaled(h, 0.5)
    return np.sum(h ** 2) + 0.5 * np.sum(w ** 2)


def with_expit(theta):
    return np.sum(sp_special.expit(theta) * np.arange(1.0, 4.0)) + np.log1p(theta[0] ** 2)


def chosen_at_run_time(x, pick):
    act = np.sin if pick else np.cos
    return np.sum(act(x) ** 2)


def _run_without_adcompiler(module_dir, module, call):
    """The value ``call`` prints, run in a new interpreter where importing adcompiler fails."""
    code = ("import sys; sys.modules['adcompiler'] = None; sys.path.insert(0, %r)\n"
            "import numpy as np, %s as m\nprint(repr(%s.tolist() if hasattr(%s, 'tolist') "
            "else %s))" % (str(module_dir), module, call, call, call))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(module_dir))
    assert out.returncode == 0, out.stderr
    return eval(out.stdout)


def test_an_exported_gradient_runs_without_adcompiler(tmp_path):
    w, x = np.array([[1.0, 0.5], [-0.3, 0.8]]), np.array([[1.0, 2.0], [0.5, -1.0]])
    text = ad.export(layered, str(tmp_path / "grad_layered.py"), args=(w, x))
    assert "import adcompiler" not in text and "from adcompiler" not in text
    got = _run_without_adcompiler(tmp_path, "grad_layered", "m.dlayered(np.array(%r), "
                                  "np.array(%r))" % (w.tolist(), x.tolist()))
    np.testing.assert_allclose(got, ad.grad(layered)(w, x), rtol=1e-12)
    np.testing.assert_allclose(got, fd_grad(layered, [w, x], 0), rtol=1e-6, atol=1e-8)
    # (a float argument, and the gradient w.r.t. the second argument)
    ad.export(lambda a, b: a * (a + b) ** 2, str(tmp_path / "grad_poly.py"), args=(3.0, -1.0),
              wrt=1)
    assert _run_without_adcompiler(tmp_path, "grad_poly", "m.dlambda_(3.0, -1.0)"
                                   ) == pytest.approx(2 * 3.0 * 2.0)


@pytest.mark.skipif(sp_special is None, reason="scipy is not installed")
def test_an_exported_gradient_imports_what_the_function_uses(tmp_path):
    theta = np.array([0.3, -1.2, 2.0])
    text = ad.export(with_expit, str(tmp_path / "grad_expit.py"), args=(theta,))
    assert "scipy" in text
    got = _run_without_adcompiler(tmp_path, "grad_expit", "m.dwith_expit(np.array(%r))"
                                  % theta.tolist())
    np.testing.assert_allclose(got, ad.grad(with_expit)(theta), rtol=1e-12)


def test_what_cannot_be_exported_is_refused(tmp_path):
    with pytest.raises(ad.AdError, match="cannot export"):
        ad.export(chosen_at_run_time, str(tmp_path / "g.py"), args=(np.ones(2), True))


def test_the_graph_of_the_normal_form_and_of_the_gradient(tmp_path):
    dot = ad.graph(layered)
    assert dot.startswith('digraph "layered" {') and dot.rstrip().endswith("}")
    assert 'label="w", shape=ellipse' in dot  # (the parameters)
    line = layered.__code__.co_firstlineno + 3
    assert "np.tanh(t" in dot and "(line %d)" % line in dot
    assert "subgraph cluster_" in dot and "for _ in range(steps)" in dot
    assert "[style=dashed]" in dot  # (h, bound by the previous pass)
    assert dot.count("->") >= 8
    backward = ad.graph(layered, backward=True, args=(np.ones((2, 2)), np.ones((2, 2))))
    assert 'digraph "dlayered"' in backward and "dw" in backward
    path = tmp_path / "g.dot"
    assert ad.graph(layered, path=str(path)) == path.read_text()
    with pytest.raises(ad.AdError, match="use .dot, .svg, .png or .pdf"):
        ad.graph(layered, path=str(tmp_path / "g.txt"))


def test_the_graph_and_export_commands(tmp_path, capsys):
    source = tmp_path / "model.py"
    source.write_text("import numpy as np\n\n\ndef f(x, y):\n    return x * (x + y) ** 2\n")
    assert main(["graph", "%s:f" % source]) == 0
    assert 'digraph "f"' in capsys.readouterr().out
    assert main(["graph", "%s:f" % source, "--backward", "--at", "x=3.0,y=-1.0", "-o",
                 str(tmp_path / "f.dot")]) == 0
    assert "dx" in (tmp_path / "f.dot").read_text()
    out = tmp_path / "grad_f.py"
    assert main(["export", "%s:f" % source, "--at", "x=3.0,y=-1.0", "-o", str(out)]) == 0
    assert _run_without_adcompiler(tmp_path, "grad_f", "m.df(3.0, -1.0)") == pytest.approx(16.0)
    with pytest.raises(SystemExit):  # (--at is needed: a one-line error)
        main(["export", "%s:f" % source, "-o", str(out)])
    assert os.path.exists(out)
