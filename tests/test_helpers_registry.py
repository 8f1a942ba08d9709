"""The registry of the helpers generated code calls by name (``adcompiler.rules.helpers``): one
name stands for one function, templates name only registered helpers, and the topic modules
stay small."""
import pathlib
import types

import numpy as np
import pytest

from adcompiler import runtime
from adcompiler.rules import HELPER_NAMES, helper_object
from adcompiler.rules.core import Table
from adcompiler.rules.helpers import HELPERS, TOPICS, registry


def test_a_template_naming_a_misspelled_helper_is_refused_with_the_rule_name():
    with pytest.raises(ValueError, match="numpy.cos: its derivative template reads 'nonzero_or_infinite'"):
        Table("test").define(np.cos, "x", "-g * np.sin(x) / nonzero_or_infinite(x)")


def _module_defining(module_name, *names):
    """A module defining one function under each of ``names``."""
    module = types.ModuleType(module_name)
    for name in names:
        def helper(g):
            return g
        helper.__module__ = module_name
        setattr(module, name, helper)
    return module


def test_a_helper_name_defined_in_two_modules_is_an_error_naming_both():
    first, second = _module_defining("helpers_a", "shared_back", "own_back_a"), \
        _module_defining("helpers_b", "shared_back")
    with pytest.raises(ValueError, match="'shared_back' is defined in both helpers_a and helpers_b"):
        registry([first, second])
    assert set(registry([first])) == {"shared_back", "own_back_a"}


def test_the_registry_holds_the_runtime_and_every_topic_module():
    for module in (*runtime.MODULES, *TOPICS):
        for name, value in vars(module).items():
            if callable(value) and not name.startswith("_") and value.__module__ == module.__name__:
                assert HELPERS[name] is value and helper_object(name) is value
    assert HELPER_NAMES == {"np", "math", "sp", "st", "sla", "sig", "ssd"} | set(HELPERS)


def test_every_helper_module_is_under_300_lines():
    package = pathlib.Path(TOPICS[0].__file__).parent
    for path in package.glob("*.py"):
        lines = len(path.read_text().splitlines())
        assert lines < 300, (path.name, lines)


def test_the_runtime_package_lists_its_modules_and_exports_their_helpers():
    """``adcompiler.runtime`` names every module of the package in ``MODULES`` (the registry reads
    them) and exports every public function they define; each module stays small."""
    package = pathlib.Path(runtime.__file__).parent
    files = {path.stem for path in package.glob("*.py")} - {"__init__"}
    assert {m.__name__.rpartition(".")[2] for m in runtime.MODULES} == files
    for module in runtime.MODULES:
        for name, value in vars(module).items():
            if callable(value) and not name.startswith("_") and value.__module__ == module.__name__:
                assert name in runtime.__all__ and getattr(runtime, name) is value
    assert all(hasattr(runtime, name) for name in runtime.__all__)
    for path in package.glob("*.py"):
        lines = len(path.read_text().splitlines())
        assert lines < 400, (path.name, lines)
