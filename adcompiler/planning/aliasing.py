"""``Aliasing``: views and in-place writes of one normalised function, made of the mixins of
this package that do each job (``views``, ``copies``, ``in_place``, ``apart``, ``store_checks``,
``list_sharing``) over ``SharedMemory`` (``memory``). It takes the data it needs from the
planner: the function, its layout, kinds and parameters. Here: the state the mixins share, and
the marking of the runtime's in-place helpers in generated code differentiated again
(``mark_in_place_helpers``)."""
from __future__ import annotations

import gast

from .. import runtime
from .apart import ApartArrays
from .copies import CopyingIndices
from .in_place import InPlaceUpdates
from .list_sharing import ListSharing
from .memory import SharedMemory
from .store_checks import StoreChecks
from .syncs import Syncs
from .views import Views


def mark_in_place_helpers(stmts, resolver):
    """Calls to the runtime's in-place helpers (in generated code being differentiated again)
    mutate their first argument: say so, so every analysis sees it."""
    for s in stmts:
        for field_ in ("body", "orelse"):
            mark_in_place_helpers(getattr(s, field_, None) or [], resolver)
        call = s.value if isinstance(s, (gast.Expr, gast.Assign)) else None
        if isinstance(call, gast.Call) and call.args and isinstance(call.args[0], gast.Name):
            obj = resolver.resolve(call.func)
            if obj is runtime.add_at or obj is runtime.take_adjoint:
                s.ad_mutates = call.args[0].id
                s.ad_helper = obj.__name__
            # (x = in_place(x, t): written like a store, planned as a rule)
            elif obj is runtime.in_place:
                s.ad_mutates = call.args[0].id
            elif obj is runtime.element_in_place:
                s.ad_mutates, s.ad_element_of = call.args[1].id, call.args[0].id


class Aliasing(Views, CopyingIndices, InPlaceUpdates, ApartArrays, StoreChecks, ListSharing,
               SharedMemory):
    """Views and in-place writes of one normalised function (``fdef``, its ``layout`` and
    ``kinds``; ``params`` its parameters, ``result`` the name it returns)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.syncs = Syncs(self)
        self._fresh_lists = None
        # list or dict argument -> attributes of its entries updated in place (``p.vel += v``
        # of ``p = ps[k]``): their arrays are checked apart where the function is called
        self.entry_updates: dict = {}
        # id(statement) -> (check, its arguments, error): the runtime check made before it
        # (check_array, refused_if_array, attribute_alone) and the AdError it raises
        self.array_guards: dict = {}
