"""Every script in examples/ runs to the end in its fast mode (each checks or prints what it
shows), and the notebook examples/tour.ipynb executes without a cell error.

A script whose optional dependency is missing is skipped with the reason; CI installs them
(the ``examples`` extra)."""
import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
SCRIPTS = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".py"))

# script -> modules it cannot run without (others, such as matplotlib for a plot, are optional
# inside the script, which says what it left out)
REQUIRES = {
    "robust_regression.py": ("scipy",),
    "stiff_ode.py": ("scipy",),
    "gaussian_process.py": ("scipy",),
    "optimize_with_scipy.py": ("scipy",),
    "classifier_digits.py": ("sklearn",),
}


def _missing(modules):
    return [m for m in modules if importlib.util.find_spec(m) is None]


def _environment():
    env = dict(os.environ, ADCOMPILER_EXAMPLES_FAST="1", MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    return env


def test_requires_names_existing_scripts():
    unknown = set(REQUIRES) - set(SCRIPTS)
    assert not unknown, "REQUIRES names scripts that do not exist: %s" % sorted(unknown)


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs(script, tmp_path):
    missing = _missing(REQUIRES.get(script, ()))
    if missing:
        pytest.skip("%s needs %s (optional)" % (script, ", ".join(missing)))
    extra = []
    if script == "classifier_digits.py":
        extra = ["--out", str(tmp_path / "digits_loss.png")]
    done = subprocess.run([sys.executable, os.path.join(EXAMPLES, script)] + extra,
                          capture_output=True, text=True, timeout=300, cwd=str(tmp_path),
                          env=_environment())
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert done.stdout.strip()
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    if script == "classifier_digits.py":
        if _missing(("matplotlib",)):
            assert "no plot written" in done.stdout
        else:
            with open(tmp_path / "digits_loss.png", "rb") as png:
                assert png.read(8) == b"\x89PNG\r\n\x1a\n"


def _notebook_modules():
    missing = _missing(("nbformat", "nbclient", "ipykernel"))
    if missing:
        pytest.skip("executing the notebook needs %s (optional)" % ", ".join(missing))
    import nbformat
    return nbformat


def test_notebook_is_stored_without_outputs():
    nbformat = _notebook_modules()
    notebook = nbformat.read(os.path.join(EXAMPLES, "tour.ipynb"), as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_notebook_executes(tmp_path, monkeypatch):
    nbformat = _notebook_modules()
    from nbclient import NotebookClient

    notebook = nbformat.read(os.path.join(EXAMPLES, "tour.ipynb"), as_version=4)
    # the kernel (this Python's ipykernel) imports adcompiler from this checkout and runs in a
    # scratch directory
    monkeypatch.setenv("PYTHONPATH", _environment()["PYTHONPATH"])
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, errors
    printed = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code"
                      for o in c.outputs)
    assert "(16.0, 12.0)" in printed and "def df(x, y):" in printed
