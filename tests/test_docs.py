"""The documentation site (docs/, built by mkdocs.yml): every code example on the pages runs and
prints what the page says, every runtime helper generated code can call is explained, and every
page is in the navigation.

A page's ```` ```python ```` blocks run in order as one script (``<page>.py`` in a temporary
directory, so that adcompiler can read the functions' source); the fenced block right after one,
```` ```text ```` or ```` ```py ```` (generated code), is what that block prints, compared
exactly (but for trailing newlines and measured memory, see ``same_output``). A block followed by no such block prints nothing. Generated code and error messages
name that file (``tutorial.py``) and its lines: the page's blocks, in order.

    python tests/test_docs.py docs/tutorial.md     # print each block's output (to update a page)
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DOCS = os.path.join(ROOT, "docs")
MARKER = "#-- adcompiler docs block %d --"
RUN_PAGES = ["index.md", "tutorial.md", "reading-generated-code.md", "custom-rules.md",
             "checkpointing.md", "sharp-bits.md"]
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)


def blocks(page: str) -> list[tuple[str, str | None]]:
    """(code, expected output or None) for each ```python block of ``page``, in order."""
    with open(os.path.join(DOCS, page)) as fh:
        fences = [(m.group(1), m.group(2)) for m in _FENCE.finditer(fh.read())]
    out = []
    for i, (lang, body) in enumerate(fences):
        if lang != "python":
            continue
        after = fences[i + 1] if i + 1 < len(fences) else None
        out.append((body, after[1] if after and after[0] in ("text", "py") else None))
    return out


_RUNNER = """
import sys, types
name, lengths = sys.argv[1], [int(n) for n in sys.argv[2:]]
lines = open(name).read().splitlines(keepends=True)
module = types.ModuleType("__main__")
module.__file__ = name
sys.modules["__main__"] = module
start = 0
for i, n in enumerate(lengths):
    print(%r %% i, flush=True)
    code = compile("\\n" * start + "".join(lines[start:start + n]), name, "exec")
    exec(code, module.__dict__)
    sys.stdout.flush()
    start += n
"""


def run_page(page: str) -> list[str]:
    """Run the page's python blocks as one file, ``<page>.py`` (its lines are the blocks' lines,
    in order), block by block; what each block printed, in order."""
    code = blocks(page)
    name = page.replace("-", "_").replace(".md", ".py")
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, name), "w") as fh:
            fh.write("".join(body for body, _ in code))
        done = subprocess.run(
            [sys.executable, "-c", _RUNNER % MARKER, name] + [str(body.count("\n")) for body, _ in code],
            cwd=tmp, capture_output=True, text=True, timeout=600,
            env=dict(os.environ, COLUMNS="80"))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    parts = re.split(r"^#-- adcompiler docs block \d+ --\n", done.stdout, flags=re.M)
    assert len(parts) == len(code) + 1, done.stdout
    return parts[1:]


_MEMORY = re.compile(r"(\d+\.\d) MiB")


def same_output(got: str, expected: str) -> bool:
    """Equal but for trailing newlines, and for memory figures (``12.3 MiB``, measured with
    tracemalloc), which may differ by 10 % (another NumPy allocates its temporaries otherwise)."""
    got_parts, want_parts = _MEMORY.split(got.rstrip("\n")), _MEMORY.split(expected.rstrip("\n"))
    if len(got_parts) != len(want_parts):
        return False
    for i, (a, b) in enumerate(zip(got_parts, want_parts)):
        if i % 2 and abs(float(a) - float(b)) > 0.1 * float(b):
            return False
        if not i % 2 and a != b:
            return False
    return True


@pytest.mark.parametrize("page", RUN_PAGES)
def test_page_examples_print_what_the_page_says(page):
    for i, ((body, expected), got) in enumerate(zip(blocks(page), run_page(page))):
        assert same_output(got, expected or ""), "%s, python block %d:\n%s\nprinted:\n%s" % (
            page, i + 1, body, got)


def test_every_runtime_helper_is_explained():
    """Each name of ``adcompiler.runtime.__all__`` has its entry (a table row starting with it
    in backticks) in the section "Runtime helpers" of the page about reading generated code,
    and that section explains no other name."""
    import adcompiler.runtime as runtime
    with open(os.path.join(DOCS, "reading-generated-code.md")) as fh:
        text = fh.read().split("\n## Runtime helpers\n")[1]
    rows = set(re.findall(r"^\| `(\w+)`", text, re.M))
    missing = [n for n in runtime.__all__ if n not in rows]
    assert not missing, "not explained in docs/reading-generated-code.md: %s" % missing
    stale = sorted(rows - set(runtime.__all__))
    assert not stale, "explained but not in adcompiler.runtime.__all__: %s" % stale


def test_every_page_is_in_the_navigation():
    with open(os.path.join(ROOT, "mkdocs.yml")) as fh:
        config = fh.read()
    pages = sorted(f for f in os.listdir(DOCS) if f.endswith(".md"))
    assert "supported.md" in pages and "trust.md" in pages and "complex.md" in pages
    missing = [p for p in pages if not re.search(r":\s*%s\s*$" % re.escape(p), config, re.M)]
    assert not missing, "pages not in mkdocs.yml's nav: %s" % missing


def test_the_site_builds_strictly(tmp_path):
    """``mkdocs build --strict`` (skipped unless the docs extra is installed: pip install -e
    '.[docs]')."""
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    pytest.importorskip("mkdocstrings_handlers.python")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    assert done.returncode == 0, done.stderr[-3000:]


if __name__ == "__main__":
    for page in sys.argv[1:]:
        page = os.path.basename(page)
        for i, ((body, _), got) in enumerate(zip(blocks(page), run_page(page))):
            print("=" * 20, page, "block", i + 1, "=" * 20)
            print(body.rstrip())
            print("-" * 20, "output")
            print(got, end="")
