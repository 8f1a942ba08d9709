"""Run HIPS autograd's own test suite with adcompiler in place of autograd.

    python tools/autograd_suite/run.py [--version 1.7.0] [pytest arguments]

Downloads the autograd source distribution (its tests are not in the wheel) into
``~/.cache/adcompiler-autograd-suite``, puts this folder's ``autograd`` stand-in first on the
path, and runs pytest on the suite's ``tests`` folder; prints passed/failed per file. Nothing of
autograd's code is imported: only its tests are run."""
import argparse
import os
import pathlib
import subprocess
import sys
import tarfile

HERE = pathlib.Path(__file__).resolve().parent
CACHE = pathlib.Path.home() / ".cache" / "adcompiler-autograd-suite"


def fetch(version: str) -> pathlib.Path:
    tests = CACHE / ("autograd-" + version) / "tests"
    if tests.is_dir():
        return tests
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                    "-d", str(CACHE), "autograd==" + version], check=True)
    with tarfile.open(CACHE / ("autograd-%s.tar.gz" % version)) as archive:
        archive.extractall(CACHE, filter="data") if hasattr(tarfile, "data_filter") \
            else archive.extractall(CACHE)
    return tests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="1.7.0")
    known, rest = parser.parse_known_args()
    tests = fetch(known.version)
    env = dict(os.environ, COLUMNS="1000", PYTHONPATH=os.pathsep.join(
        [str(HERE), str(HERE.parent.parent), str(tests)]))
    report = HERE / ".last-run.txt"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", "--tb=no",
               "--continue-on-collection-errors", "--rootdir", str(tests), "-c", os.devnull,
               str(tests), *rest]
    with open(report, "w") as out:
        code = subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                              cwd=tests).returncode
    failed = {}
    for line in report.read_text().splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            name = line.split()[1].split("::")[0]
            failed[name] = failed.get(name, 0) + 1
    for name, count in sorted(failed.items()):
        print("%-28s %3d failed" % (name, count))
    print(report.read_text().splitlines()[-1])
    print("(each failure's message: %s)" % report)
    return code


if __name__ == "__main__":
    sys.exit(main())
