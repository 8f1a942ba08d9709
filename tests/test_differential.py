"""Differential random programs (``tests/differential.py``): each seed generates a short,
user-style NumPy program that runs in plain Python; adcompiler's gradient, value, side effects,
types, jvp, vjp and Hessian must agree with the plain program and with finite differences.

A refusal (``ad.AdError``) passes, as does a program that fails in plain Python at its inputs;
a wrong value or an internal exception fails with the program and the failure in the message.
``ADCOMPILER_DIFFERENTIAL=N`` checks N programs (default 150) starting at seed
``ADCOMPILER_DIFFERENTIAL_START`` (default 0). A failure reproduces with
``python tests/differential.py --show SEED``; ``--reduce SEED`` shrinks it to a minimal program.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential  # noqa: E402

COUNT = int(os.environ.get("ADCOMPILER_DIFFERENTIAL", 150))
START = int(os.environ.get("ADCOMPILER_DIFFERENTIAL_START", 0))


@pytest.mark.parametrize("seed", range(START, START + COUNT))
def test_differential_program(seed):
    """The program of ``seed``: ok, refused or skipped pass; wrong or crash fail with the report."""
    result = differential.check_program(seed, ci=True)
    if result.status == "broken":
        pytest.fail(result.skip_reason, pytrace=False)
    if result.status in ("wrong", "crash"):
        pytest.fail(result.report(), pytrace=False)


# programs that failed in a campaign (wrong or crash), each fixed as a class with a minimal test
# in tests/test_trust*.py; the whole program stays checked here
FOUND = [155110, 177103, 177468, 177602, 201694, 201968, 205849, 206813, 215023, 216869, 222325, 223654,
         234764, 243397, 255024, 266513, 273735, 281720, 304469, 305629, 330768,
         333125, 345720, 363081, 374812, 381123, 450250, 464322, 481235, 483202, 509586,
         509973, 531247, 576743, 621807, 651624, 666954, 685656, 701628, 704338, 717809, 728024,
         765880, 783863, 815053, 824948, 829142, 845131, 849895, 855839, 858600, 867438, 925020,
         942448, 947106, 949138, 982736, 1004362, 1079794, 1098539, 1103876,
         1106785, 1145805, 1220409, 1270441, 1275899, 1299598,
         1345701, 1346865, 1348273, 1363241, 1363827, 1363861, 1365077,
         1366753, 1386421]


@pytest.mark.parametrize("seed", FOUND)
def test_campaign_finding(seed):
    test_differential_program(seed)
