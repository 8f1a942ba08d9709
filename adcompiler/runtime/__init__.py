"""Helpers called by generated code, by name, through this namespace (``runtime.unbroadcast``,
``from adcompiler.runtime import above``); one module per job:

- ``core``: the hot path: broadcasting, reductions, products, and the functions of the normal form;
- ``adjoints``: adjoints and tangents as values of a structure (owned arrays, sums, elements,
  the final gradient given its argument's type);
- ``writes``: the writes the user's code makes into the caller's data, and the copies that keep
  what a backward pass reads;
- ``batching``: the counterparts of the hot-path helpers for a batch of tangents;
- ``checks``: the checks generated code makes at run time, and what it raises;
- ``objects``: objects' attributes, values the derivative does not follow, lambdas;
- ``shared_objects``: the adjoints and tangents of attributes kept by the object's identity;
- ``calls``: callables known only at run time (compiled through ``hooks`` as they are called);
- ``_base``: private names the others share.

A zero adjoint is represented by the Python float ``0.0`` (never a zero array), so every
helper accepts a scalar ``g``; containers (tuple/list/dict arguments) have adjoints of the same
structure.
"""
from __future__ import annotations

from . import (
    _base,
    adjoints,
    batching,
    call_tangents,
    calls,
    checks,
    core,
    objects,
    patterns,
    shared_objects,
    writes,
)
from .adjoints import (
    add,
    add_at,
    added_tangent,
    cast_like,
    container_adjoint,
    cotangent,
    dense,
    distinct,
    element,
    expand_like,
    left_out,
    own,
    popped,
    put_back,
    stored_derivative,
    take_adjoint,
    winners_only,
    with_entry,
    zero_like,
)
from .batching import (
    batch_add_at,
    batch_cast,
    batch_container_adjoint,
    batch_index,
    batch_reshape,
    batch_size,
    batch_sum_product,
    batch_take_adjoint,
    batch_unbroadcast,
    batch_unreduce,
    batch_zeros,
    expand_batch,
    lift,
)
from .call_tangents import call_backward_jvp, call_forward_jvp, call_jvp
from .calls import (
    MethodCall,
    Unpacked,
    call_backward,
    call_forward,
    changes_nothing,
    method_call,
    unpacked,
    vectorized,
)
from .checks import (
    SELECTING,
    CalleeRedefined,
    Refusal,
    attempt_started,
    callee_redefined,
    check_arithmetic,
    check_array,
    check_by_position,
    check_dict_attribute,
    check_distinct,
    check_list,
    check_number,
    check_numeric,
    check_poppable,
    check_receiver,
    check_row,
    check_sequence,
    check_unpacking,
    dtype_gate,
    no_exception,
    real_result,
    refused,
    refused_if_array,
    refused_if_inexact,
    refused_if_moving,
    refused_unless_number,
    scalar_seed,
    strict_length,
    subscript_check,
)
from .core import (
    above,
    c_items,
    dmatmul_left,
    dmatmul_right,
    dot,
    dot_adjoint,
    key_order,
    key_pick,
    log_softmax,
    logistic,
    matmul,
    nonzero,
    product_adjoint,
    r_items,
    reduced_size,
    shape_of,
    sum_keepdims,
    sum_product,
    unbroadcast,
    unreduce,
    unreduce_extreme,
)
from .objects import (
    OuterName,
    add_attribute,
    attribute,
    attribute_alone,
    check_class,
    check_classes,
    check_entries_distinct,
    check_entry_classes,
    check_followed,
    check_number_or_array,
    check_objects_followed,
    check_super_order,
    entry_alone,
    fresh_computation,
    held_entry_alone,
    make_function,
    new_object,
    outer_value,
    set_outer,
    unfollowed,
    with_attribute,
    without_attribute,
)
from .patterns import (
    check_block_done,
    check_dict,
    context_value,
    match_mapping,
    match_sequence,
    zip_length,
)
from .shared_objects import (
    add_attribute_adjoint,
    attribute_tangent,
    check_no_objects,
    check_plain_store,
    set_attribute_tangent,
    take_attribute_adjoint,
)
from .writes import (
    Overlap,
    copy,
    diagonal_index,
    element_in_place,
    flat_index,
    in_place,
    keep_dtype,
    out_value,
    overlap,
    scatter_add,
    scattered,
    snapshot,
    stored_value,
    synced,
)

# the runtime's modules, in which the helper registry (adcompiler.rules.helpers) finds the
# public functions generated code calls
MODULES = (core, adjoints, writes, batching, checks, objects, shared_objects, calls, call_tangents,
           patterns,
           _base)

__all__ = [
    # core
    "unbroadcast", "shape_of", "log_softmax", "logistic", "above", "sum_keepdims", "key_order",
    "key_pick",
    "sum_product", "unreduce", "reduced_size", "unreduce_extreme", "matmul", "dot",
    "product_adjoint", "dot_adjoint", "dmatmul_left", "dmatmul_right", "nonzero", "r_items",
    "c_items",
    # adjoints
    "own", "add_at", "put_back", "left_out", "with_entry", "take_adjoint", "stored_derivative",
    "winners_only", "add", "added_tangent",
    "container_adjoint", "element", "popped",
    "expand_like",
    "zero_like", "dense", "cast_like", "distinct", "cotangent",
    # writes
    "keep_dtype", "in_place", "scatter_add", "scattered", "element_in_place", "flat_index",
    "stored_value", "out_value", "diagonal_index", "snapshot", "copy",
    "Overlap", "overlap", "synced",
    # batching
    "lift", "expand_batch", "batch_size", "batch_zeros", "batch_cast", "batch_unbroadcast",
    "batch_unreduce", "batch_sum_product", "batch_container_adjoint", "batch_add_at",
    "batch_take_adjoint", "batch_reshape", "batch_index",
    # checks
    "Refusal", "refused", "attempt_started", "no_exception", "refused_if_inexact",
    "refused_if_moving", "refused_if_array", "refused_unless_number",
    "attribute_alone",
    "check_arithmetic", "check_array", "check_by_position", "check_class", "check_classes",
    "check_distinct", "check_entry_classes",
    "check_list", "check_super_order",
    "check_numeric",
    "check_poppable",
    "check_row", "strict_length",
    "check_sequence", "check_unpacking", "check_number", "check_number_or_array",
    "check_dict_attribute", "zip_length", "check_dict", "match_sequence", "match_mapping",
    "context_value", "check_block_done",
    "check_receiver", "real_result", "scalar_seed", "SELECTING",
    "subscript_check",
    "dtype_gate", "CalleeRedefined", "callee_redefined",
    # objects
    "add_attribute", "attribute", "without_attribute", "with_attribute", "unfollowed",
    "make_function", "new_object", "fresh_computation", "check_followed", "OuterName",
    "check_entries_distinct", "entry_alone", "held_entry_alone", "check_objects_followed",
    "outer_value", "set_outer",
    # shared_objects
    "add_attribute_adjoint", "take_attribute_adjoint", "attribute_tangent",
    "set_attribute_tangent", "check_no_objects", "check_plain_store",
    # calls
    "vectorized", "Unpacked", "unpacked", "MethodCall", "method_call", "call_forward",
    "changes_nothing",
    "call_backward",
    "call_jvp",
    "call_forward_jvp", "call_backward_jvp",
    "MODULES",
]
