"""What the passes of one compilation share: the user's names, fresh names and the objects the
generated code binds (numpy, math, runtime helpers)."""
from __future__ import annotations

import builtins

import gast

from .ir import COMMENT
from .naming import Bindings, Namer, names_in
from .parse import Parsed
from .resolve import MISSING, Resolver
from .rules import helper_object


class Context:
    """Shared state of one compilation."""

    def __init__(self, parsed: Parsed):
        self.parsed = parsed
        self.loc = parsed.loc
        self.resolver = Resolver(parsed)
        used = names_in(parsed.tree)
        self.namer = Namer(used | set(parsed.cells))
        user = {}
        for n in used:
            obj = MISSING if n in self.resolver.locals else self.resolver.lookup(n)
            user[n] = None if obj is MISSING else obj
        self.bindings = Bindings(self.namer, user)
        for n, obj in self.resolver.imported.items():  # imports in the body: bound by name
            self.bindings.name_for(n, obj)
        self.containers: set[str] = set()
        self.temps: set[str] = set()  # temporaries the normaliser introduced
        self.arg_classes: dict = {}   # parameter -> class of an object argument
        # parameter -> the kind of a list, dict or tuple argument ((CONTAINER, 'dict'), ...)
        self.argument_containers: dict = {}
        # name -> class of the objects operators and calls bind it to (normalize/classes.py)
        self.returned_classes: dict = {}
        self.list_classes: dict = {}  # local list -> the class of all its entries (normalize)
        self.class_attributes: dict = {}  # (class, attribute) -> the class of what it holds
        self.namedtuples: dict = {}  # local name -> the namedtuple class of what it holds
        self.sure_dicts: set = set()  # local names every binding of which makes a dict
        # id(statement) -> (check, arguments): what the kind planning gave it is checked where it
        # runs (planning/planner.py: a dict attribute of an object argument)
        self.kind_checks: dict = {}
        # differentiating adcompiler's own generated code again (forward over reverse)
        self.generated = parsed.fn.__code__.co_filename.startswith("<adcompiler")
        self.called = False  # (compiled as a called function: set by the compiler)
        self.zero_d_arrays: set = set()  # (parameters given 0-d arrays: set by the compiler)
        # generated for the kinds of the arguments of a call (not the code shown for reading)
        self.specialised = False
        # values may be complex (a complex argument or constant, a cast, an FFT): the rules of
        # rules/complex_rules.py apply (set by the compiler and by planning)
        self.complex_mode = False
        # attributes' adjoints and tangents kept by object identity (planning/identities.py),
        # in the table of this name in generated code
        self.by_identity = False
        self.attribute_table = None

    def helper(self, name: str) -> str:
        """The generated code's name for a helper used by rules: np, math, a runtime function or
        a rule's adjoint helper."""
        return self.bindings.name_for(name, helper_object(name))

    def planned_helper(self, name: str) -> str:
        """``helper``, for a call the planner adds to the function it analyses: resolvable there,
        so the call is planned by the helper's rule."""
        bound = self.helper(name)
        self.resolver.imported[bound] = helper_object(name)
        return bound

    def builtin(self, name: str) -> str:
        return self.bindings.name_for(name, getattr(builtins, name))

    def throwaway(self) -> str:
        """One name for values generated code ignores (``_`` unless the user has it)."""
        if not hasattr(self, "_throwaway"):
            self._throwaway = self.namer.fresh("_")
        return self._throwaway

    def bind(self, preferred: str, obj) -> str:
        return self.bindings.name_for(preferred, obj)

    def comment(self, text: str):
        """A statement that unparses to the comment ``# text``."""
        call = gast.Call(func=gast.Name(id=COMMENT, ctx=gast.Load(), annotation=None,
                                        type_comment=None),
                         args=[gast.Constant(value=text, kind=None)], keywords=[])
        return gast.Expr(value=call)
