"""The ``Normalizer``: flattens the statements of a jump-lowered body, one operation per statement.
Its state (the statements emitted so far, temporaries, nested functions, what the pass knows of the
names) and small helpers live here; its methods come from one mixin per job: ``Statements``
(assignments and other simple statements), ``ManagedBlocks`` (``with``), ``Stores`` (stores into
names, items and attributes), ``Loops`` (``for`` over any iterable as a loop over ``range``),
``Expressions`` (expressions to atoms), ``Calls`` (which step a call takes, plain calls of atoms),
``Callees`` (the user's functions, methods and classes inlined), ``Inlining`` (a call inlined),
``LocalFunctions`` (lambdas, partials, local functions an ``if`` chose), ``HigherOrder`` (``map``,
``filter``, ``functools.reduce``, keyed ``sorted``/``max``/``min``) and ``ListMethods``
(``extend``, and the checks that ``append`` and ``pop`` are a list's). They are mixins rather than
functions because they call each other recursively through the one object (an expression holds a
call whose argument is a comprehension holding an expression ...), which functions in separate
modules could only do through an import cycle.
"""
from __future__ import annotations

from collections import Counter

import gast

from .. import runtime
from ..errors import Location
from ..ir import located, name, walk
from ..naming import Namer
from ..resolve import MISSING, Resolver
from .callees import Callees
from .calls import Calls
from .classes import ReturnedObjects
from .closures import Closures
from .dicts import DictUpdates
from .expressions import Expressions
from .held import HeldContainers, HeldObjects
from .higher_order import HigherOrder
from .inlining import Inlining
from .itertools_calls import ItertoolsCalls
from .later_values import LaterValues
from .lists import ListMethods
from .local_functions import LocalFunctions
from .loops import Loops
from .managers import ManagedBlocks
from .properties import Properties
from .records import Dataclasses
from .statements import Statements
from .stores import Stores


class Normalizer(Statements, ManagedBlocks, Stores, Loops, Expressions, Calls, Callees,
                 ReturnedObjects, HeldObjects, HeldContainers, Inlining, LocalFunctions, Closures,
                 Dataclasses, DictUpdates, HigherOrder, ItertoolsCalls, ListMethods, LaterValues,
                 Properties):
    """Flattens expressions of a jump-lowered body into one operation per statement."""

    def __init__(self, resolver: Resolver, namer: Namer, loc: Location):
        self.bind_object = None  # (set by normalize_function)
        self.resolver = resolver
        self.namer = namer
        self.loc = loc
        self.out: list = []
        self.at = None  # (the user's statement being lowered: where an error without one points)
        self.temps: set[str] = set()
        self.local_fns: dict = {}      # nested defs and lambdas bound to a name: inlined at calls
        self.dict_params: set = set()  # parameters known to be dicts
        self.maybe_dicts: set = set()  # names bound to a dict (among other values, maybe)
        self.sure_dicts: set = set()  # names bound to dicts only
        self.bound_twice: set = set()  # names bound by more than one statement (or parameters)
        self.read_late: set = set()  # names a closure may read late (closures.late_names)
        self.read_again: set = set()  # names read twice, or in a loop (later_values)
        self.bound_per_call: set = set()  # an inlined call's names its closures read (inlining)
        self.spelled_as: dict = {}  # an inlined function's local's new name -> its name there
        # parameters that may hold an object of the caller's (not a number)
        self.caller_objects: set = set()
        self.parameters: set = set()  # the function's own
        self.loop_stores: set = set()  # names the body of the loop being rewritten binds
        self.generated = False  # normalising adcompiler's own generated code (differentiated again)
        # every call of the user's that can be inlined is (attributes followed by identity: the
        # table sees only the stores of this function's code, planning/identities.py)
        self.inline_all = False
        # a comprehension's list (a temporary) -> the class of the objects its element makes
        # (``[Layer(n) for n in sizes]``), or None
        self.filled_classes: dict = {}
        self.growing: set = set()  # names of lists the function may add entries to
        self.inlining: list = []
        # global name -> the function (or class) it denoted when a call of it was inlined: the
        # generated code checks on entry that the name still denotes it (a re-run notebook cell)
        self.inlined_globals: dict = {}
        # parameter -> class of an object argument the body never rebinds (its methods known)
        self.object_classes: dict = {}
        # names of objects of a known class a called function returned (``note_result_class``)
        self.returned_objects: set = set()
        self.namedtuples: dict = {}  # name bound once -> its namedtuple class
        self.list_classes: dict = {}  # list -> the class of all its entries (classes.py)
        self.argument_lists: set = set()  # (of those, the list arguments)
        self.entry_objects: set = set()  # (names bound to their entries)
        # (object made here, attribute) -> the class of the object, or ("list", class) of the
        # objects of the list, every store into it puts there (``attribute_classes``)
        self.held_classes: dict = {}
        # (class, attribute) -> the class of the object every store so far into that attribute
        # of an object of the class made here put there (``b.pos`` of an entry: checked)
        self.class_attributes: dict = {}
        self.held_reads: dict = {}  # (object, attribute) -> a read relying on its class
        self.given_dicts: dict = {}  # (object made here, attribute) -> given dicts only so far
        self.dict_reads: dict = {}  # (object, attribute) -> a read relying on its dicts
        self.held_names: dict = {}  # name bound to obj.attr -> (obj, attr)
        self.made_objects: set = set()  # names of objects made here (``construct``)
        self.display_classes: dict = {}  # list display -> ("list", the class of its objects)
        self.positional: dict = {}  # list -> the classes of its objects, by position
        self.loads: Counter = Counter()  # name -> how often the code (inlined too) reads it
        self.stores: Counter = Counter()  # name -> how often it binds it (a loop's: twice)
        self.entries_stored: set = set()  # names of lists the code (inlined too) stores into
        # name -> whether it holds a sequence (see ``sequences``: SEQUENCE, OTHER or None)
        self.iterables: dict = {}

    def note_uses(self, body):
        """Count the names ``body`` (lowered, to be normalised here) reads and binds, and note
        the lists it stores entries into."""
        for n in walk(gast.Module(body=body, type_ignores=[])):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
                self.loads[n.id] += 1
            elif isinstance(n, gast.Name):
                self.stores[n.id] += 1
            elif isinstance(n, (gast.For, gast.comprehension)):  # (bound again on each pass)
                self.stores.update(t.id for t in walk(n.target) if isinstance(t, gast.Name))
            elif isinstance(n, gast.Subscript) and isinstance(n.ctx, gast.Store) \
                    and isinstance(n.value, gast.Name):
                self.entries_stored.add(n.value.id)

    # -- helpers ---------------------------------------------------------------------------
    def temp(self) -> str:
        t = self.namer.numbered("t")
        self.temps.add(t)
        return t

    def emit(self, stmt, like):
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Name) \
                and stmt.targets[0].id == stmt.value.id:
            return  # (x = x changes nothing: h = g(h) of an inlined identity, seed 1103876)
        self.out.append(located(stmt, like))

    def unsupported(self, node, what, hint):
        # (a node made here, of a dataclass's __init__: the user's statement being lowered)
        located_at = node if getattr(node, "lineno", None) is not None else self.at
        raise self.loc.error("%s is not supported" % what, located_at, hint)

    def refusal_call(self, error):
        """The statement that raises ``error`` when generated code reaches it (a branch that is
        not taken refuses nothing)."""
        return gast.Expr(value=gast.Call(
            func=name(self.helper("refused", runtime.refused)),
            args=[name(self.helper("refusal", runtime.Refusal(error)))], keywords=[]))

    def is_global(self, node) -> bool:
        return self.resolver.resolve(node) is not MISSING

    def block(self, stmts) -> list:
        saved, self.out = self.out, []
        for s in stmts:
            if getattr(s, "lineno", None) is not None:
                self.at = s
            self.stmt(s)
        body, self.out = self.out, saved
        return body

    def stmt(self, s):
        kind = type(s).__name__
        method = getattr(self, "stmt_" + kind, None)
        if method is None:
            self.unsupported(s, "the statement '%s'" % kind.lower(),
                             "move it out of the differentiated function")
        if isinstance(s, (gast.For, gast.While)):
            # (a closure made in a loop reading a name the loop binds reads its last value)
            self.read_late |= {n.id for n in walk(s)
                               if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
            before = dict(self.local_fns)
            method(s)
            # (its calls were inlined as the body's first pass sees it)
            changed = sorted(n for n, fn in before.items() if self.local_fns.get(n) is not fn)
            if changed:
                raise self.loc.error(
                    "the local function %r is defined again inside a loop, and calls in the "
                    "loop may be of the one defined before it" % changed[0], s,
                    hint="give the function defined in the loop a name of its own")
            return
        method(s)

    def helper(self, preferred, obj) -> str:
        """The name of a runtime helper the normal form calls (bound for the generated code)."""
        bound = self.bind_object(preferred, obj)
        self.resolver.imported[bound] = obj
        return bound

    def _builtin(self, id_):
        import builtins
        if id_ in self.resolver.locals or self.resolver.lookup(id_) is not getattr(builtins, id_):
            raise self.loc.error(
                "the builtin '%s' is shadowed, so this loop cannot be rewritten" % id_)
        return id_
