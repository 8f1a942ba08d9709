"""Every script in examples/ runs to the end (each checks or prints what it shows)."""
import importlib.util
import os
import subprocess
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")
NEEDS_SCIPY = {"robust_regression.py", "stiff_ode.py", "gaussian_process.py"}


@pytest.mark.parametrize("script", sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".py")))
def test_example_runs(script):
    if script in NEEDS_SCIPY and importlib.util.find_spec("scipy") is None:
        pytest.skip("the example uses SciPy (optional)")
    done = subprocess.run([sys.executable, os.path.join(EXAMPLES, script)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()
