"""The opt-in disk cache of generated code (ADCOMPILER_CACHE_DIR, adcompiler/api/disk_cache.py):
a second process loads what a first one stored, with the same gradients, source and errors; an
edit of the function invalidates; damaged files, another key's file and concurrent writers are
harmless; without the variable nothing is written."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np

import adcompiler as ad
from adcompiler import custom, rules
from adcompiler.api import clear_cache, disk_cache

MODULE = '''\
import numpy as np

SCALE = 0.5


def helper(v):
    return np.sum(np.sin(v) ** 2)


def loss(w, x, y):
    h = np.tanh(x @ w)
    z = h * SCALE + 1.0
    s = np.sum(z ** 2, axis=1)
    e = np.exp(-np.mean(s))
    return np.log1p(e) + np.sum(np.sqrt(np.maximum(z, 0.2) + 1.0) * y[:, None]) * 1e-3 \\
        + 1e-2 * np.abs(w).sum()


def calls_helper(w):
    return helper(w) * 2.0


def times(x, a):
    return np.sum(x * a)


def flat_write(x):
    y = x.copy()
    y.flat[:2] = np.array([1.0, 2.0, 3.0])  # (refused where it runs: the error names this line)
    return np.sum(y * x)
'''

SCRIPT = '''\
import hashlib, json, os, sys, time
sys.path.insert(0, sys.argv[1])
while len(sys.argv) > 2 and not os.path.exists(sys.argv[2]):  # (start together)
    time.sleep(0.001)
import numpy as np
import adcompiler as ad
from adcompiler.api import clear_cache, disk_cache
import cached_mod as m
# (the engineers' edits of adcompiler between two runs change its sources' hash: pinned here,
# tested on its own in test_package_hash_follows_the_sources)
disk_cache.package_hash = lambda: "pinned"
w = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
x = np.linspace(0.0, 2.0, 20).reshape(5, 4)
y = np.linspace(1.0, 2.0, 5)
out = {}
df = ad.grad(m.loss)
out["grad"] = df(w, x, y).tolist()
out["source"] = hashlib.sha256(df.source.encode()).hexdigest()
out["value_and_grad"] = ad.value_and_grad(m.loss, wrt=(0, 2))(w, x, y)[0]
out["jvp"] = ad.jvp(m.loss, (w, x, y), (np.ones_like(w), np.zeros_like(x), np.zeros_like(y)))[1]
value, pullback = ad.vjp(m.loss, w, x, y)
out["vjp"] = pullback(1.0)[0].tolist()
out["helper"] = ad.grad(m.calls_helper)(w).tolist()
out["error"] = []
for f, args in [(m.times, (w, "abc")), (m.flat_write, (y,))]:
    try:
        ad.grad(f)(*args)
    except Exception as error:
        out["error"].append("%s: %s" % (type(error).__name__, error))
out["stats"] = disk_cache.STATS
print(json.dumps(out))
'''


def _setup(tmp_path, module=MODULE):
    (tmp_path / "cached_mod.py").write_text(module)
    (tmp_path / "run.py").write_text(SCRIPT)
    return tmp_path / "cache"


def _start(tmp_path, cache, go=None):
    env = dict(os.environ)
    env.pop(disk_cache.ENV, None)
    if cache is not None:
        env[disk_cache.ENV] = str(cache)
    command = [sys.executable, str(tmp_path / "run.py"), str(tmp_path)] + ([str(go)] if go else [])
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=str(tmp_path))


def _run(tmp_path, cache, go=None):
    out, err = _start(tmp_path, cache, go).communicate(timeout=300)
    assert out, err
    return json.loads(out)


def _same_results(a, b):
    for name in ("grad", "value_and_grad", "jvp", "vjp", "helper"):
        np.testing.assert_array_equal(np.asarray(a[name]), np.asarray(b[name]), err_msg=name)
    assert a["source"] == b["source"] and a["error"] == b["error"]


def test_second_process_loads_what_the_first_stored(tmp_path):
    cache = _setup(tmp_path)
    plain = _run(tmp_path, None)
    first = _run(tmp_path, cache)
    second = _run(tmp_path, cache)
    assert first["stats"]["loaded"] == 0 and first["stats"]["stored"] >= 4
    # (nothing generated again but the caller of helper, whose code binds helper's pair)
    assert second["stats"]["loaded"] == first["stats"]["stored"]
    assert second["stats"]["stored"] == 0 and second["stats"]["built"] <= 1
    _same_results(plain, first)
    _same_results(plain, second)
    assert len(plain["error"]) == 2 and all("AdError" in e and "cached_mod.py, line" in e
                                            for e in plain["error"])
    for path in cache.iterdir():
        assert json.loads(path.read_text())["key"]  # (every file: complete, with its key)


def test_an_edit_of_the_function_or_what_it_calls_invalidates(tmp_path):
    cache = _setup(tmp_path)
    before = _run(tmp_path, cache)
    edited = MODULE.replace("+ 1e-2 * np.abs(w).sum()", "+ 2e-2 * np.abs(w).sum()")
    edited = edited.replace("np.sin(v) ** 2", "np.cos(v) ** 2")
    _setup(tmp_path, edited)
    after = _run(tmp_path, cache)
    assert after["stats"]["built"] >= 2 and after["stats"]["stored"] >= 2
    plain = _run(tmp_path, None)
    _same_results(plain, after)
    assert before["grad"] != after["grad"] and before["helper"] != after["helper"]
    assert before["source"] != after["source"]


def test_damaged_files_and_another_keys_file_are_not_loaded(tmp_path):
    cache = _setup(tmp_path)
    plain = _run(tmp_path, None)
    _run(tmp_path, cache)
    files = sorted(cache.iterdir())
    texts = [p.read_text() for p in files]
    files[0].write_text(texts[0][:len(texts[0]) // 2])        # truncated
    files[1].write_text("not json at all")                    # garbage
    files[2].write_text(json.dumps(dict(json.loads(texts[2]), bindings={"np": ["bogus"]})))
    files[3].write_text(texts[4])                             # another key's entry
    again = _run(tmp_path, cache)
    _same_results(plain, again)
    assert again["stats"]["built"] >= 4 and again["stats"]["stored"] >= 4
    for path in files[:4]:  # (rewritten whole)
        assert json.loads(path.read_text())["key"] == json.loads(
            texts[files.index(path)])["key"]


def test_two_processes_writing_at_once_leave_valid_entries(tmp_path):
    cache = _setup(tmp_path)
    plain = _run(tmp_path, None)
    for round_ in range(2):
        go = tmp_path / ("go%d" % round_)
        runs = [_start(tmp_path, cache, go) for _ in range(2)]
        go.write_text("")
        outs = [json.loads(r.communicate(timeout=300)[0]) for r in runs]
        for out in outs:
            _same_results(plain, out)
        assert not [p for p in cache.iterdir() if p.name.startswith(".tmp-")]
        for path in cache.iterdir():
            assert json.loads(path.read_text())["key"]
        for path in cache.iterdir():  # (a cold cache again: both write every entry)
            path.unlink()
    _run(tmp_path, cache)
    after = _run(tmp_path, cache)
    assert after["stats"]["loaded"] >= 4
    _same_results(plain, after)


def test_unset_variable_writes_nothing(tmp_path, monkeypatch):
    cache = _setup(tmp_path)
    out = _run(tmp_path, None)
    assert out["stats"] == {"loaded": 0, "stored": 0, "built": 0}
    assert not cache.exists() and {p.name for p in tmp_path.iterdir()} - {"__pycache__"} == {
        "cached_mod.py", "run.py"}
    # (in this process too: the builders never reach the cache's code)
    monkeypatch.delenv(disk_cache.ENV, raising=False)
    monkeypatch.setattr(disk_cache, "key_of", lambda *a: (_ for _ in ()).throw(AssertionError))
    before = dict(disk_cache.STATS)

    def fresh(x):
        return np.sum(np.cos(x) * x)
    assert np.allclose(ad.grad(fresh)(np.ones(3)), -np.sin(1.0) + np.cos(1.0))
    assert disk_cache.STATS == before


def test_package_hash_follows_the_sources(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    monkeypatch.setattr(disk_cache, "_PACKAGE", str(tmp_path))
    first = disk_cache.package_hash.__wrapped__()
    assert disk_cache.package_hash.__wrapped__() == first
    (tmp_path / "sub" / "b.py").write_text("y = 3\n")
    assert disk_cache.package_hash.__wrapped__() != first
    assert disk_cache.package_hash() == disk_cache.package_hash()  # (once per process)


def test_in_process_entries_rebuild_what_was_generated(tmp_path, monkeypatch):
    """One process: the code rebuilt from an entry is the code generated (same source, same
    gradients), for a closure and defaults read from the live function."""
    monkeypatch.setenv(disk_cache.ENV, str(tmp_path))
    # (rules other tests of the suite registered make every key incomplete: nothing is cached)
    for module, table in ((custom, "USER_VJPS"), (custom, "USER_JVPS"), (rules, "USER_RULES")):
        monkeypatch.setattr(module, table, type(getattr(module, table))())
    offset = 3.0

    def closed(x, k=2.0):
        return np.sum((x + offset) ** k)
    x = np.linspace(0.0, 1.0, 4)
    made = ad.grad(closed)
    got = made(x)
    assert disk_cache.STATS["stored"] >= 1 and len(list(tmp_path.iterdir())) == 1
    loaded = disk_cache.STATS["loaded"]
    clear_cache()  # (generated again: from the file)
    again = ad.grad(closed)
    assert np.array_equal(again(x), got) and disk_cache.STATS["loaded"] == loaded + 1
    assert again.source == made.source
    np.testing.assert_allclose(got, 2.0 * (x + 3.0))
    assert textwrap.dedent(made.source).startswith("def dclosed")
