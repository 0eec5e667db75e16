#!/usr/bin/env python3
"""Op conformance: tiny one-op (or one-pattern) ONNX models, canaoc vs ORT.

    test_ops.py --canaoc BUILD/compiler/canaoc --work DIR [--keep]
                [--only SUBSTRING ...] [--target T]

For each case below the script builds a small ONNX model with onnx.helper
(ir_version 8, the case's opset), draws deterministic random inputs (numpy,
seeded from the case name), computes the reference with ONNX Runtime (CPU,
graph optimizations off), compiles the model with canaoc into
DIR/cases/<case>/out, builds every generated project at once through one
CMake super-project (DIR/super, add_subdirectory of each output, one Ninja
build), runs each `<name>_run` and compares:

  - dtype and shape must match exactly;
  - int64 / int32 / bool outputs must be equal exactly;
  - float outputs: max abs error <= 1e-5 (ATOL below; equal infinities
    match), NaN where the reference has none (or vice versa) fails.

Every case feeds at least one graph input (not a constant), so canaoc emits
runtime kernels rather than folding; weights-like operands are
initializers.

Prints `PASS name` / `FAIL name: reason` per case, then `N passed, M failed`;
exits 1 on any failure. Timings go to stderr. Needs numpy, onnx and
onnxruntime (the project's venv python); no pytest.

DIR/cases and DIR/super are removed after an all-pass run unless --keep;
after a failure they are left for inspection. --exact-build builds the
generated projects with exactly their own flags (see build_all), --only
picks cases by substring.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ATOL = 1e-5
CANAOC_TIMEOUT_S = 120
RUN_TIMEOUT_S = 60
INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1

F32, I64, BOOL = np.float32, np.int64, np.bool_

N = helper.make_node


# ---------------------------------------------------------------------------
# Case construction helpers
# ---------------------------------------------------------------------------

class Case:
    """One model: nodes, graph inputs (arrays), initializers, outputs."""

    def __init__(self, name, opset, nodes, inputs, inits=None, outputs=None):
        self.name = name
        self.opset = opset
        self.nodes = nodes
        self.inputs = inputs            # name -> np.ndarray (graph inputs)
        self.inits = inits or {}        # name -> np.ndarray (initializers)
        self.outputs = outputs or [("y", F32)]

    def model(self, out_shapes=None):
        def vi(name, dtype, shape):
            elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype)) \
                if hasattr(helper, "np_dtype_to_tensor_dtype") else \
                onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(dtype)]
            return helper.make_tensor_value_info(name, elem, shape)

        ins = [vi(k, v.dtype, list(v.shape)) for k, v in self.inputs.items()]
        outs = [vi(n, dt, None if out_shapes is None else list(out_shapes[n]))
                for n, dt in self.outputs]
        inits = [numpy_helper.from_array(v, k) for k, v in self.inits.items()]
        graph = helper.make_graph(self.nodes, self.name, ins, outs,
                                  initializer=inits)
        m = helper.make_model(graph, producer_name="canao-test-ops",
                              opset_imports=[helper.make_opsetid("", self.opset)])
        m.ir_version = 8
        return m


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def randn(rng, *shape):
    return rng.standard_normal(shape).astype(F32)


def f32(x):
    return np.array(x, dtype=F32)


def i64(x):
    return np.array(x, dtype=I64)


def build_cases():
    cases = []

    def add(name, opset, nodes, inputs, inits=None, outputs=None):
        cases.append(Case(name, opset, nodes, inputs, inits, outputs))

    # ---- elementwise with broadcasting ------------------------------------
    for op in ["Add", "Sub", "Mul", "Div"]:
        r = rng_for(op)
        a = randn(r, 2, 3, 4)
        b = randn(r, 3, 1)
        if op == "Div":
            b = (np.abs(b) + 0.5).astype(F32)
        add(f"{op.lower()}_bcast", 13, [N(op, ["a", "b"], ["y"])],
            {"a": a, "b": b})
    r = rng_for("sub_bcast_rev")
    add("sub_bcast_rev", 13, [N("Sub", ["b", "a"], ["y"])],
        {"a": randn(r, 2, 3, 4), "b": randn(r, 3, 1)})
    r = rng_for("div_bcast_rev")
    add("div_bcast_rev", 13, [N("Div", ["b", "a"], ["y"])],
        {"a": (np.abs(randn(r, 2, 3, 4)) + 0.5).astype(F32),
         "b": randn(r, 3, 1)})
    r = rng_for("mul_both_bcast")
    add("mul_both_bcast", 13, [N("Mul", ["a", "b"], ["y"])],
        {"a": randn(r, 2, 1, 4), "b": randn(r, 3, 1)})

    for e in [2, 3]:
        r = rng_for(f"pow{e}")
        add(f"pow_scalar{e}", 13, [N("Pow", ["x", "e"], ["y"])],
            {"x": randn(r, 2, 3, 4)}, {"e": f32(float(e))})

    r = rng_for("sqrt")
    # Sqrt of abs(x) + 0.1 (the abs taken on the input data: canaoc has no
    # Abs op, it is not a BERT-family op).
    add("sqrt", 13, [N("Sqrt", ["x"], ["y"])],
        {"x": (np.abs(randn(r, 2, 3, 4)) + F32(0.1)).astype(F32)})

    for op in ["Erf", "Tanh", "Exp", "Neg", "Relu", "Sigmoid"]:
        r = rng_for(op)
        x = randn(r, 2, 3, 4) * F32(2.0)
        add(op.lower(), 13, [N(op, ["x"], ["y"])], {"x": x})

    r = rng_for("gelu_erf")
    add("gelu_erf", 13,
        [N("Div", ["x", "sqrt2"], ["d"]), N("Erf", ["d"], ["e"]),
         N("Add", ["e", "one"], ["e1"]), N("Mul", ["x", "half"], ["xh"]),
         N("Mul", ["xh", "e1"], ["y"])],
        {"x": randn(r, 2, 3, 8) * F32(2.0)},
        {"sqrt2": f32(1.41421356), "one": f32(1.0), "half": f32(0.5)})

    r = rng_for("gelu_tanh")
    add("gelu_tanh", 13,
        [N("Pow", ["x", "three"], ["x3"]), N("Mul", ["x3", "k"], ["kx3"]),
         N("Add", ["x", "kx3"], ["inner"]), N("Mul", ["inner", "c"], ["ci"]),
         N("Tanh", ["ci"], ["t"]), N("Add", ["one", "t"], ["t1"]),
         N("Mul", ["half", "x"], ["hx"]), N("Mul", ["hx", "t1"], ["y"])],
        {"x": randn(r, 2, 3, 8) * F32(2.0)},
        {"three": f32(3.0), "k": f32(0.044715), "c": f32(0.7978845608),
         "one": f32(1.0), "half": f32(0.5)})

    # ---- comparison, select, casts ----------------------------------------
    r = rng_for("equal")
    add("equal_int64", 13, [N("Equal", ["a", "b"], ["y"])],
        {"a": r.integers(0, 3, (2, 3, 4)).astype(I64),
         "b": r.integers(0, 3, (3, 1)).astype(I64)},
        outputs=[("y", BOOL)])

    r = rng_for("where")
    add("where_bcast", 13, [N("Where", ["c", "x", "z"], ["y"])],
        {"c": r.integers(0, 2, (2, 1, 4)).astype(BOOL),
         "x": randn(r, 3, 1), "z": randn(r, 2, 3, 4)})

    r = rng_for("cast_i64_f32")
    add("cast_i64_f32", 13, [N("Cast", ["x"], ["y"], to=TensorProto.FLOAT)],
        {"x": r.integers(-1000, 1000, (2, 3, 4)).astype(I64)})
    r = rng_for("cast_f32_i64")
    # Non-negative, fractional part in [0.05, 0.45]: truncation and
    # round-to-nearest agree, so no rounding-mode question arises.
    x = (r.integers(0, 1000, (2, 3, 4)) + r.uniform(0.05, 0.45, (2, 3, 4)))
    add("cast_f32_i64", 13, [N("Cast", ["x"], ["y"], to=TensorProto.INT64)],
        {"x": x.astype(F32)}, outputs=[("y", I64)])
    r = rng_for("cast_bool_f32")
    add("cast_bool_f32", 13, [N("Cast", ["x"], ["y"], to=TensorProto.FLOAT)],
        {"x": r.integers(0, 2, (2, 3, 4)).astype(BOOL)})

    # ---- shape / layout ops -----------------------------------------------
    r = rng_for("expand")
    add("expand", 13, [N("Expand", ["x", "s"], ["y"])],
        {"x": randn(r, 3, 1)}, {"s": i64([2, 3, 4])})

    r = rng_for("slice_step2")
    add("slice_step2", 13,
        [N("Slice", ["x", "st", "en", "ax", "sp"], ["y"])],
        {"x": randn(r, 6, 8, 5)},
        {"st": i64([0, 1]), "en": i64([6, 8]), "ax": i64([0, 1]),
         "sp": i64([2, 3])})
    r = rng_for("slice_neg_step")
    add("slice_neg_step", 13,
        [N("Slice", ["x", "st", "en", "ax", "sp"], ["y"])],
        {"x": randn(r, 6, 8, 5)},
        {"st": i64([-1, 3]), "en": i64([INT64_MIN, 0]), "ax": i64([0, 2]),
         "sp": i64([-2, -1])})
    r = rng_for("slice_neg_step_clamp")
    add("slice_neg_step_clamp", 13,
        [N("Slice", ["x", "st", "en", "ax", "sp"], ["y"])],
        {"x": randn(r, 6, 8, 5)},
        {"st": i64([INT64_MAX, -2]), "en": i64([-100, 1]),
         "ax": i64([-2, 0]), "sp": i64([-3, -1])})

    r = rng_for("concat")
    add("concat_axis1", 13, [N("Concat", ["a", "b"], ["y"], axis=1)],
        {"a": randn(r, 2, 3, 4), "b": randn(r, 2, 5, 4)})

    r = rng_for("transpose")
    add("transpose_201", 13, [N("Transpose", ["x"], ["y"], perm=[2, 0, 1])],
        {"x": randn(r, 2, 3, 4)})

    r = rng_for("reshape")
    add("reshape_0_neg1", 13, [N("Reshape", ["x", "s"], ["y"])],
        {"x": randn(r, 2, 3, 4)}, {"s": i64([0, -1, 2])})

    r = rng_for("flatten")
    add("flatten_axis2", 13, [N("Flatten", ["x"], ["y"], axis=2)],
        {"x": randn(r, 2, 3, 4, 5)})

    r = rng_for("squeeze11")
    add("squeeze_opset11", 11, [N("Squeeze", ["x"], ["y"], axes=[1, -1])],
        {"x": randn(r, 2, 1, 3, 1)})
    r = rng_for("unsqueeze11")
    add("unsqueeze_opset11", 11, [N("Unsqueeze", ["x"], ["y"], axes=[0, 3])],
        {"x": randn(r, 2, 3)})
    r = rng_for("squeeze13")
    add("squeeze_opset13", 13, [N("Squeeze", ["x", "ax"], ["y"])],
        {"x": randn(r, 2, 1, 3, 1)}, {"ax": i64([1, -1])})
    r = rng_for("unsqueeze13")
    add("unsqueeze_opset13", 13, [N("Unsqueeze", ["x", "ax"], ["y"])],
        {"x": randn(r, 2, 3)}, {"ax": i64([1, -1])})

    # ---- gather -------------------------------------------------------------
    r = rng_for("gather_table")
    add("gather_table_axis0", 13, [N("Gather", ["t", "idx"], ["y"], axis=0)],
        {"idx": r.integers(0, 10, (2, 5)).astype(I64)},
        {"t": randn(r, 10, 4)})
    r = rng_for("gather_pooler")
    add("gather_scalar_axis1", 13, [N("Gather", ["x", "i"], ["y"], axis=1)],
        {"x": randn(r, 2, 5, 4)}, {"i": i64(0)})

    # ---- matmul / gemm ------------------------------------------------------
    r = rng_for("matmul_4d")
    add("matmul_4d_x_2d", 13, [N("MatMul", ["a", "w"], ["y"])],
        {"a": randn(r, 2, 3, 4, 5)}, {"w": randn(r, 5, 6)})
    r = rng_for("matmul_4d_inputs")
    add("matmul_4d_x_2d_inputs", 13, [N("MatMul", ["a", "b"], ["y"])],
        {"a": randn(r, 2, 3, 4, 5), "b": randn(r, 5, 6)})
    r = rng_for("matmul_bcast")
    add("matmul_batch_bcast", 13, [N("MatMul", ["a", "b"], ["y"])],
        {"a": randn(r, 2, 1, 4, 5), "b": randn(r, 3, 5, 6)})
    r = rng_for("matmul_vec")
    add("matmul_vec_lhs", 13, [N("MatMul", ["a", "b"], ["y"])],
        {"a": randn(r, 4), "b": randn(r, 4, 3)})
    r = rng_for("gemm")
    add("gemm_tA_tB", 11,
        [N("Gemm", ["a", "b", "c"], ["y"], transA=1, transB=1, alpha=0.5,
           beta=2.0)],
        {"a": randn(r, 5, 2)}, {"b": randn(r, 3, 5), "c": randn(r, 3)})

    # ---- reductions / softmax ----------------------------------------------
    r = rng_for("rm1")
    add("reducemean_ax1_keep", 13,
        [N("ReduceMean", ["x"], ["y"], axes=[1], keepdims=1)],
        {"x": randn(r, 2, 3, 4)})
    r = rng_for("rm2")
    add("reducemean_axneg1_nokeep", 13,
        [N("ReduceMean", ["x"], ["y"], axes=[-1], keepdims=0)],
        {"x": randn(r, 2, 3, 4)})
    r = rng_for("rm3")
    add("reducemean_ax02", 13, [N("ReduceMean", ["x"], ["y"], axes=[0, 2])],
        {"x": randn(r, 2, 3, 4)})

    r = rng_for("sm1")
    add("softmax_axneg1_op13", 13, [N("Softmax", ["x"], ["y"], axis=-1)],
        {"x": randn(r, 2, 3, 4) * F32(3.0)})
    r = rng_for("sm2")
    add("softmax_ax1_op11", 11, [N("Softmax", ["x"], ["y"], axis=1)],
        {"x": randn(r, 2, 3, 4) * F32(3.0)})
    r = rng_for("sm3")
    add("softmax_ax1_op13", 13, [N("Softmax", ["x"], ["y"], axis=1)],
        {"x": randn(r, 2, 3, 4) * F32(3.0)})

    # ---- layer norm ----------------------------------------------------------
    r = rng_for("ln17")
    add("layernorm_op17", 17,
        [N("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1,
           epsilon=1e-5)],
        {"x": randn(r, 2, 5, 8)}, {"g": randn(r, 8), "b": randn(r, 8)})

    def ln_chain(axes, x="x", out="y", g="g", b="b", p=""):
        return [
            N("ReduceMean", [x], [p + "mu"], axes=axes),
            N("Sub", [x, p + "mu"], [p + "d"]),
            N("Pow", [p + "d", "two"], [p + "d2"]),
            N("ReduceMean", [p + "d2"], [p + "var"], axes=axes),
            N("Add", [p + "var", "eps"], [p + "ve"]),
            N("Sqrt", [p + "ve"], [p + "sd"]),
            N("Div", [p + "d", p + "sd"], [p + "nrm"]),
            N("Mul", [p + "nrm", g], [p + "sc"]),
            N("Add", [p + "sc", b], [out]),
        ]

    ln_consts = {"two": f32(2.0), "eps": f32(1e-5)}
    r = rng_for("ln_dec")
    add("layernorm_decomposed_last", 13, ln_chain([-1]),
        {"x": randn(r, 2, 5, 8)},
        {"g": randn(r, 8), "b": randn(r, 8), **ln_consts})
    r = rng_for("ln_dec_ax1")
    # Normalizes over axis 1 with gamma/beta over the last axis: looks like
    # a LayerNorm but is not one over the last axis; must stay correct.
    add("layernorm_decomposed_axis1", 13, ln_chain([1]),
        {"x": randn(r, 2, 4, 8)},
        {"g": randn(r, 8), "b": randn(r, 8), **ln_consts})
    r = rng_for("ln_dec_ax1_g41")
    add("layernorm_decomposed_axis1_gamma41", 13, ln_chain([1]),
        {"x": randn(r, 2, 4, 8)},
        {"g": randn(r, 4, 1), "b": randn(r, 4, 1), **ln_consts})

    # ---- residual: LayerNorm(MatMul(x, W) + b + x) -----------------------
    r = rng_for("residual")
    add("residual_dense_layernorm", 17,
        [N("MatMul", ["x", "w"], ["mm"]), N("Add", ["mm", "bias"], ["mb"]),
         N("Add", ["mb", "x"], ["res"]),
         N("LayerNormalization", ["res", "g", "b"], ["y"], axis=-1,
           epsilon=1e-5)],
        {"x": randn(r, 2, 5, 8)},
        {"w": randn(r, 8, 8) * F32(0.5), "bias": randn(r, 8),
         "g": randn(r, 8), "b": randn(r, 8)})
    r = rng_for("residual_dec")
    add("residual_dense_layernorm_decomposed", 13,
        [N("MatMul", ["x", "w"], ["mm"]), N("Add", ["mm", "bias"], ["mb"]),
         N("Add", ["mb", "x"], ["res"])] + ln_chain([-1], x="res"),
        {"x": randn(r, 2, 5, 8)},
        {"w": randn(r, 8, 8) * F32(0.5), "bias": randn(r, 8),
         "g": randn(r, 8), "b": randn(r, 8), **ln_consts})
    r = rng_for("dense_gelu")
    add("dense_bias_gelu", 13,
        [N("MatMul", ["x", "w"], ["mm"]), N("Add", ["mm", "bias"], ["h"]),
         N("Div", ["h", "sqrt2"], ["d"]), N("Erf", ["d"], ["e"]),
         N("Add", ["e", "one"], ["e1"]), N("Mul", ["h", "e1"], ["he"]),
         N("Mul", ["he", "half"], ["y"])],
        {"x": randn(r, 2, 5, 8)},
        {"w": randn(r, 8, 12) * F32(0.5), "bias": randn(r, 12),
         "sqrt2": f32(1.41421356), "one": f32(1.0), "half": f32(0.5)})
    # ---- dense with partial register / work-item tiles -------------------
    # M, N and K that no tile divides (4x8 on generic and OpenCL, 4x24 on
    # AVX2), with each epilogue kind.
    r = rng_for("dense_partial")
    add("dense_partial_tiles", 13,
        [N("MatMul", ["x", "w"], ["mm"]), N("Add", ["mm", "bias"], ["y"])],
        {"x": randn(r, 1, 5, 7)},
        {"w": randn(r, 7, 13) * F32(0.5), "bias": randn(r, 13)})
    r = rng_for("dense_nobias")
    add("dense_no_bias_2d_partial", 13, [N("MatMul", ["x", "w"], ["y"])],
        {"x": randn(r, 3, 9)}, {"w": randn(r, 9, 10) * F32(0.5)})
    r = rng_for("dense_gelu_partial")
    add("dense_bias_gelu_partial", 13,
        [N("MatMul", ["x", "w"], ["mm"]), N("Add", ["mm", "bias"], ["h"]),
         N("Div", ["h", "sqrt2"], ["d"]), N("Erf", ["d"], ["e"]),
         N("Add", ["e", "one"], ["e1"]), N("Mul", ["h", "e1"], ["he"]),
         N("Mul", ["he", "half"], ["y"])],
        {"x": randn(r, 1, 7, 6)},
        {"w": randn(r, 6, 19) * F32(0.5), "bias": randn(r, 19),
         "sqrt2": f32(1.41421356), "one": f32(1.0), "half": f32(0.5)})
    r = rng_for("dense_relu_gate")
    # An epilogue over two extras: ReLU, then a per-row gate and a
    # per-column scale (broadcast strides 0 in either direction).
    add("dense_bias_relu_gate_partial", 13,
        [N("MatMul", ["x", "w"], ["mm"]), N("Add", ["mm", "bias"], ["h"]),
         N("Relu", ["h"], ["a"]), N("Mul", ["a", "gate"], ["g"]),
         N("Mul", ["g", "col"], ["y"])],
        {"x": randn(r, 2, 3, 5), "gate": randn(r, 2, 3, 1)},
        {"w": randn(r, 5, 11) * F32(0.5), "bias": randn(r, 11),
         "col": randn(r, 11)})
    r = rng_for("residual_partial")
    add("residual_dense_layernorm_partial", 17,
        [N("MatMul", ["x", "w"], ["mm"]), N("Add", ["mm", "bias"], ["mb"]),
         N("Add", ["mb", "x"], ["res"]),
         N("LayerNormalization", ["res", "g", "b"], ["y"], axis=-1,
           epsilon=1e-5)],
        {"x": randn(r, 1, 7, 9)},
        {"w": randn(r, 9, 9) * F32(0.5), "bias": randn(r, 9),
         "g": randn(r, 9), "b": randn(r, 9)})

    add_family_cases(add)
    return cases


def add_family_cases(add):
    """The wider BERT family's ops (RoBERTa, MPNet, MobileBERT, ...)."""
    I32 = np.int32
    # ---- comparisons and logic ---------------------------------------------
    for op in ["Less", "Greater", "LessOrEqual", "GreaterOrEqual"]:
        r = rng_for(op)
        add(f"{op.lower()}_f32_bcast", 13, [N(op, ["a", "b"], ["y"])],
            {"a": randn(r, 2, 3, 4).round(1), "b": randn(r, 3, 1).round(1)},
            outputs=[("y", BOOL)])
    r = rng_for("less_i64")
    add("less_int64", 13, [N("Less", ["a", "b"], ["y"])],
        {"a": r.integers(0, 4, (2, 5)).astype(I64),
         "b": r.integers(0, 4, (2, 5)).astype(I64)}, outputs=[("y", BOOL)])
    for op in ["And", "Or", "Xor"]:
        r = rng_for(op)
        add(f"{op.lower()}_bcast", 13, [N(op, ["a", "b"], ["y"])],
            {"a": r.integers(0, 2, (2, 3, 4)).astype(BOOL),
             "b": r.integers(0, 2, (3, 1)).astype(BOOL)},
            outputs=[("y", BOOL)])
    r = rng_for("not")
    add("not", 13, [N("Not", ["a"], ["y"])],
        {"a": r.integers(0, 2, (3, 5)).astype(BOOL)}, outputs=[("y", BOOL)])
    # ---- min / max / clip ----------------------------------------------------
    r = rng_for("minmax")
    add("min_variadic", 13, [N("Min", ["a", "b", "c"], ["y"])],
        {"a": randn(r, 2, 3), "b": randn(r, 3), "c": randn(r, 2, 1)})
    r = rng_for("max2")
    add("max_int64", 13, [N("Max", ["a", "b"], ["y"])],
        {"a": r.integers(-9, 9, (4,)).astype(I64),
         "b": r.integers(-9, 9, (4,)).astype(I64)}, outputs=[("y", I64)])
    r = rng_for("clip")
    add("clip_op13", 13, [N("Clip", ["x", "lo", "hi"], ["y"])],
        {"x": randn(r, 3, 4) * F32(2)}, {"lo": f32(-0.5), "hi": f32(0.75)})
    r = rng_for("clip_min_only")
    add("clip_min_only", 13, [N("Clip", ["x", "lo"], ["y"])],
        {"x": randn(r, 3, 4)}, {"lo": f32(0.1)})
    r = rng_for("clip6")
    add("clip_opset10_attrs", 10, [N("Clip", ["x"], ["y"], min=-0.2, max=0.3)],
        {"x": randn(r, 3, 4)})
    # ---- unary ----------------------------------------------------------------
    r = rng_for("abs")
    add("abs", 13, [N("Abs", ["x"], ["y"])], {"x": randn(r, 3, 4)})
    add("abs_int64", 13, [N("Abs", ["x"], ["y"])],
        {"x": r.integers(-50, 50, (6,)).astype(I64)}, outputs=[("y", I64)])
    add("log", 13, [N("Log", ["x"], ["y"])],
        {"x": (np.abs(randn(r, 3, 4)) + F32(0.05)).astype(F32)})
    add("reciprocal", 13, [N("Reciprocal", ["x"], ["y"])],
        {"x": (np.abs(randn(r, 3, 4)) + F32(0.5)).astype(F32)})
    add("floor", 13, [N("Floor", ["x"], ["y"])], {"x": randn(r, 3, 4) * F32(3)})
    add("ceil", 13, [N("Ceil", ["x"], ["y"])], {"x": randn(r, 3, 4) * F32(3)})
    # ---- Pow with mixed types ---------------------------------------------
    add("pow_f32_int64", 15, [N("Pow", ["x", "e"], ["y"])],
        {"x": randn(r, 2, 3)}, {"e": i64(3)})
    add("pow_int64_f32", 15, [N("Pow", ["x", "e"], ["y"])],
        {"x": r.integers(1, 5, (2, 3)).astype(I64)}, {"e": f32(2.0)},
        outputs=[("y", I64)])
    # ---- reductions, argmax, cumsum ------------------------------------------
    r = rng_for("reduce")
    for op in ["ReduceSum", "ReduceMax", "ReduceMin"]:
        ins = ["x", "ax"] if op == "ReduceSum" else ["x"]
        attrs = {} if op == "ReduceSum" else {"axes": [1, 2]}
        add(f"{op.lower()}_axes12", 13,
            [N(op, ins, ["y"], keepdims=0, **attrs)], {"x": randn(r, 2, 3, 4)},
            {"ax": i64([1, 2])} if op == "ReduceSum" else None)
    add("reducesum_all_int64", 13, [N("ReduceSum", ["x"], ["y"], keepdims=1)],
        {"x": r.integers(-5, 5, (3, 4)).astype(I64)}, outputs=[("y", I64)])
    add("reducemax_int32", 13, [N("ReduceMax", ["x"], ["y"], axes=[0])],
        {"x": r.integers(-5, 5, (3, 4)).astype(I32)},
        outputs=[("y", I32)])
    add("argmax_last_index", 13,
        [N("ArgMax", ["x"], ["y"], axis=1, keepdims=0, select_last_index=1)],
        {"x": r.integers(0, 3, (3, 6)).astype(F32)}, outputs=[("y", I64)])
    add("argmin_keepdims", 13, [N("ArgMin", ["x"], ["y"], axis=-1)],
        {"x": randn(r, 2, 3, 5)}, outputs=[("y", I64)])
    for ex, rev in [(0, 0), (1, 0), (0, 1), (1, 1)]:
        add(f"cumsum_ex{ex}_rev{rev}", 14,
            [N("CumSum", ["x", "ax"], ["y"], exclusive=ex, reverse=rev)],
            {"x": randn(r, 2, 5, 3)}, {"ax": i64(1)})
    add("cumsum_int32", 14, [N("CumSum", ["x", "ax"], ["y"])],
        {"x": r.integers(0, 2, (2, 7)).astype(I32)}, {"ax": i64(-1)},
        outputs=[("y", I32)])
    # ---- pad, split, tile, trilu -----------------------------------------------
    r = rng_for("pad")
    for mode in ["constant", "reflect", "edge"]:
        add(f"pad_{mode}", 13, [N("Pad", ["x", "p", "v"], ["y"], mode=mode)],
            {"x": randn(r, 2, 4, 5)},
            {"p": i64([0, 2, 1, 0, 3, 2]), "v": f32(0.5)})
    add("pad_negative_crop", 13, [N("Pad", ["x", "p"], ["y"])],
        {"x": randn(r, 3, 6)}, {"p": i64([0, -1, 1, 2])})
    add("pad_opset10_attrs", 10,
        [N("Pad", ["x"], ["y"], pads=[1, 0, 0, 2], value=1.5)],
        {"x": randn(r, 2, 3)})
    r = rng_for("split")
    add("split_sizes", 13, [N("Split", ["x", "s"], ["y0", "y1"], axis=1)],
        {"x": randn(r, 2, 7)}, {"s": i64([3, 4])},
        outputs=[("y0", F32), ("y1", F32)])
    add("split_equal_opset11", 11,
        [N("Split", ["x"], ["y0", "y1", "y2"], axis=-1)],
        {"x": randn(r, 2, 6)}, outputs=[("y0", F32), ("y1", F32), ("y2", F32)])
    add("tile", 13, [N("Tile", ["x", "rep"], ["y"])],
        {"x": randn(r, 2, 3)}, {"rep": i64([2, 3])})
    for upper in [0, 1]:
        add(f"trilu_upper{upper}", 14,
            [N("Trilu", ["x", "k"], ["y"], upper=upper)],
            {"x": randn(r, 2, 4, 5)}, {"k": i64(1 - 2 * upper)})
    # ---- einsum: the attention forms exporters write -----------------------
    r = rng_for("einsum")
    add("einsum_qk", 12, [N("Einsum", ["q", "k"], ["y"],
                            equation="bhid,bhjd->bhij")],
        {"q": randn(r, 1, 2, 5, 4), "k": randn(r, 1, 2, 6, 4)})
    add("einsum_pv", 12, [N("Einsum", ["p", "v"], ["y"],
                            equation="bhij,bhjd->bhid")],
        {"p": randn(r, 1, 2, 5, 6), "v": randn(r, 1, 2, 6, 4)})
    add("einsum_implicit_sum", 12,
        [N("Einsum", ["a", "b"], ["y"], equation="ij,jk")],
        {"a": randn(r, 3, 4), "b": randn(r, 4, 5)})
    add("einsum_one_operand", 12,
        [N("Einsum", ["a"], ["y"], equation="ijk->ki")],
        {"a": randn(r, 3, 4, 2)})
    # ---- LayerNormalization's optional outputs ---------------------------------
    r = rng_for("ln_stats")
    add("layernorm_mean_invstd", 17,
        [N("LayerNormalization", ["x", "g", "b"], ["y", "mean", "inv"],
           axis=1, epsilon=1e-5)],
        {"x": randn(r, 2, 3, 4)}, {"g": randn(r, 3, 4), "b": randn(r, 3, 4)},
        outputs=[("y", F32), ("mean", F32), ("inv", F32)])


# ---------------------------------------------------------------------------
# Pipeline
# ---------------------------------------------------------------------------

def run(cmd, timeout=None, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True,
                          text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, **kw)


def tail(text, n=600):
    text = (text or "").strip()
    return text if len(text) <= n else "..." + text[-n:]


def reference(case, model_path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    sess = ort.InferenceSession(str(model_path), so,
                                providers=["CPUExecutionProvider"])
    names = [n for n, _ in case.outputs]
    res = sess.run(names, dict(case.inputs))
    return dict(zip(names, res))


def prepare(case, cdir):
    """Writes model.onnx, inputs/*.npy and ref/*.npy; returns the refs."""
    cdir.mkdir(parents=True, exist_ok=True)
    (cdir / "inputs").mkdir(exist_ok=True)
    (cdir / "ref").mkdir(exist_ok=True)
    model = case.model()  # output shapes unknown: not checker-clean
    probe = cdir / "probe.onnx"
    onnx.save(model, str(probe))
    refs = reference(case, probe)
    probe.unlink()
    # Final model: output shapes filled in from the reference.
    model = case.model({k: v.shape for k, v in refs.items()})
    onnx.checker.check_model(model)
    onnx.save(model, str(cdir / "model.onnx"))
    for k, v in case.inputs.items():
        np.save(cdir / "inputs" / f"{k}.npy", v)
    for k, v in refs.items():
        np.save(cdir / "ref" / f"{k}.npy", v)
    return refs


def compile_model(canaoc, model, out, name, extra=()):
    """canaoc MODEL -o OUT --name NAME -q EXTRA... into a fresh OUT.

    Returns (error, proc): error is None on success, else the reason;
    proc is the finished canaoc (its returncode and stderr), None after a
    timeout."""
    shutil.rmtree(out, ignore_errors=True)
    try:
        r = run([canaoc, model, "-o", out, "--name", name, "-q", *extra],
                timeout=CANAOC_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"canaoc timed out after {CANAOC_TIMEOUT_S} s", None
    if r.returncode != 0:
        return f"canaoc exit {r.returncode}: {tail(r.stderr)}", r
    if not (out / "CMakeLists.txt").exists():
        return "canaoc wrote no CMakeLists.txt", r
    return None, r


TARGET_ARGS = []  # --target T, from the command line

# Ops --target opencl has no kernel for yet (docs/opencl.md): a case that
# fails to compile with "no OpenCL kernel for" one of these is counted and
# printed as unsupported; any other failure, or that message for another op,
# fails.
OPENCL_UNSUPPORTED = {"canao.arg_max", "canao.cumsum", "canao.matmul",
                      "canao.reduce_max", "canao.reduce_mean",
                      "canao.reduce_min", "canao.reduce_sum", "canao.softmax"}


def compile_case(canaoc, case, cdir):
    return compile_model(canaoc, cdir / "model.onnx", cdir / "out",
                         target_name(case), TARGET_ARGS)[0]


def target_name(case):
    return "op_" + case.name


# Standard headers the generated sources and the header-only runtime
# include; precompiled once and force-included (they are include-guarded, so
# the sources' own #includes become no-ops).
PCH_HEADERS = ["<algorithm>", "<chrono>", "<cmath>", "<cstdarg>", "<cstddef>",
               "<cstdint>", "<cstdio>", "<cstdlib>", "<cstring>", "<map>",
               "<new>", "<string>", "<vector>"]


def build_all(work, compiled, exact):
    """One CMake super-project over all generated outputs.

    Each generated OUTDIR (all made by the same canaoc, so they hold
    identical runtime/ headers) is add_subdirectory'd unchanged (targets NAME and
    NAME_run, the generated flags: Release, -O3). Unless `exact`, two
    build-time savings are layered on from the super-project only:
      - the C++ standard headers come from a precompiled header;
      - NAME_run (the generic driver: argument parsing and .npy I/O, no
        kernels) is compiled at -O0. The model library NAME, which holds
        every kernel, keeps the generated flags.
    Returns {case name: executable path or error string}."""
    sup = work / "super"
    src = sup / "src"
    bld = sup / "build"
    shutil.rmtree(sup, ignore_errors=True)
    src.mkdir(parents=True)
    lines = ["cmake_minimum_required(VERSION 3.16)",
             "project(canao_test_ops LANGUAGES CXX)",
             "if(NOT CMAKE_BUILD_TYPE)",
             "  set(CMAKE_BUILD_TYPE Release CACHE STRING \"\" FORCE)",
             "endif()"]
    for case, cdir in compiled:
        lines.append(f'add_subdirectory("{(cdir / "out").as_posix()}" '
                     f'"{case.name}")')
    if not exact:
        (src / "pch_dummy.cpp").write_text("")
        hdrs = " ".join(PCH_HEADERS)
        for pch, opts in [("canao_test_pch", ""),
                          ("canao_test_pch_run", "-O0")]:
            lines += [f"add_library({pch} STATIC pch_dummy.cpp)",
                      f"target_compile_features({pch} PUBLIC cxx_std_17)",
                      f"target_precompile_headers({pch} PRIVATE {hdrs})"]
            if opts:
                lines.append(f"target_compile_options({pch} PRIVATE {opts})")
        for case, _ in compiled:
            t = target_name(case)
            lines += [f"target_precompile_headers({t} REUSE_FROM "
                      "canao_test_pch)",
                      f"target_compile_options({t}_run PRIVATE -O0)",
                      f"target_precompile_headers({t}_run REUSE_FROM "
                      "canao_test_pch_run)"]
    (src / "CMakeLists.txt").write_text("\n".join(lines) + "\n")
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    results = {}
    r = run(["cmake", "-S", src, "-B", bld, *gen,
             "-DCMAKE_BUILD_TYPE=Release"])
    if r.returncode != 0:
        err = "cmake configure (super-project) failed: " + tail(r.stderr)
        return {case.name: err for case, _ in compiled}
    jobs = str(max(1, min(os.cpu_count() or 2, 8)))
    keep_going = ["--", "-k", "0"] if gen else ["--", "-k"]
    run(["cmake", "--build", bld, "-j", jobs, *keep_going])
    for case, _ in compiled:
        exe = bld / case.name / f"{target_name(case)}_run"
        if exe.exists():
            results[case.name] = exe
            continue
        # Rebuild just this target to get its own error message.
        r = run(["cmake", "--build", bld, "--target",
                 f"{target_name(case)}_run"])
        if r.returncode == 0 and exe.exists():
            results[case.name] = exe
        else:
            results[case.name] = "build failed: " + tail(r.stdout + r.stderr)
    return results


def compare(case, refs, outdir):
    return compare_outputs([name for name, _ in case.outputs], refs, outdir)


def compare_outputs(names, refs, outdir, atol=ATOL, rtol=0.0):
    """Checks OUTDIR/<name>.npy (as NAME_run writes them) against refs.

    dtype and shape exactly; ints and bools exactly; floats elementwise
    |got - want| <= atol + rtol * |want| (equal infinities match), NaN
    positions must match. Returns (ok, detail)."""
    details = []
    ok = True
    for name in names:
        fname = name.replace("/", "_").replace("\\", "_") + ".npy"
        path = outdir / fname
        if not path.exists():
            return False, f"no output file {fname}"
        try:
            got = np.load(path)
        except Exception as e:  # noqa: BLE001
            return False, f"{fname} unreadable: {e}"
        ref = refs[name]
        if got.dtype != ref.dtype or got.shape != ref.shape:
            return False, (f"{name}: got {got.dtype}{list(got.shape)}, "
                           f"want {ref.dtype}{list(ref.shape)}")
        if ref.dtype.kind == "f":
            nan_mismatch = np.isnan(got) != np.isnan(ref)
            if nan_mismatch.any():
                ok = False
                details.append(f"{name}: NaN at {int(nan_mismatch.sum())} "
                               "positions that differ from the reference")
                continue
            g64 = got.astype(np.float64)
            r64 = ref.astype(np.float64)
            with np.errstate(invalid="ignore"):
                diff = np.where(g64 == r64, 0.0, np.abs(g64 - r64))
            tol = atol + rtol * np.abs(r64)
            fin = ~np.isnan(ref)
            worst = float(diff[fin].max()) if fin.any() else 0.0
            bad = fin & ~(diff <= tol)
            if bad.any():
                ok = False
                idx = np.unravel_index(int(np.nanargmax(diff / tol)),
                                       ref.shape)
                bound = f"{atol:g}" if rtol == 0 else \
                    f"{atol:g} + {rtol:g}*|want|"
                details.append(
                    f"{name}: max_abs_err={worst:.3g} > {bound} at "
                    f"{list(map(int, idx))} (got {got[idx]!r}, want "
                    f"{ref[idx]!r}); {int(bad.sum())}/{ref.size} "
                    "elements off")
            else:
                details.append(f"{name}: max_abs_err={worst:.3g}")
        else:
            bad = got != ref
            if bad.any():
                ok = False
                idx = tuple(int(i) for i in np.argwhere(bad)[0])
                details.append(f"{name}: {int(bad.sum())}/{ref.size} elements "
                               f"differ, first at {list(idx)} (got "
                               f"{got[idx]!r}, want {ref[idx]!r})")
    return ok, "; ".join(details)


def run_model(exe, inputs, outdir):
    """EXE --input NAME=PATH ... --output-dir OUTDIR (made fresh); inputs
    maps graph input names to .npy paths. Returns None or the error."""
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    cmd = [exe]
    for k, path in inputs.items():
        cmd += ["--input", f"{k}={path}"]
    cmd += ["--output-dir", outdir]
    try:
        r = run(cmd, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"runner timed out after {RUN_TIMEOUT_S} s"
    if r.returncode != 0:
        return f"runner exit {r.returncode}: {tail(r.stderr)}"
    return None


def execute(case, cdir, exe, refs):
    outdir = cdir / "result"
    err = run_model(exe, {k: cdir / "inputs" / (k + ".npy")
                          for k in case.inputs}, outdir)
    if err:
        return False, err
    return compare(case, refs, outdir)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--canaoc", required=True, type=Path)
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--keep", action="store_true",
                    help="keep DIR/cases and DIR/super after an all-pass run")
    ap.add_argument("--exact-build", action="store_true",
                    help="build the generated projects exactly as generated "
                    "(no precompiled header, driver not at -O0; slower)")
    ap.add_argument("--only", nargs="*", default=None,
                    help="run only cases whose name contains one of these")
    ap.add_argument("--target", default="",
                    help="canaoc --target for every case (default: canaoc's)")
    args = ap.parse_args()
    if args.target:
        TARGET_ARGS.extend(["--target", args.target])
    canaoc = args.canaoc.resolve()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()

    cases = build_cases()
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    if args.only:
        cases = [c for c in cases if any(s in c.name for s in args.only)]

    verdict = {}        # name -> (ok, detail)
    refs = {}
    prepared = []
    for case in cases:
        cdir = work / "cases" / case.name
        try:
            refs[case.name] = prepare(case, cdir)
            prepared.append((case, cdir))
        except Exception as e:  # noqa: BLE001 - a broken case is a FAIL
            verdict[case.name] = (False, "reference (onnx/onnxruntime): "
                                  f"{type(e).__name__}: {tail(str(e))}")

    t_ref = time.monotonic()
    workers = max(1, min(os.cpu_count() or 2, 8))
    with ThreadPoolExecutor(workers) as pool:
        errs = list(pool.map(lambda cc: compile_case(canaoc, *cc), prepared))
    compiled = []
    for (case, cdir), err in zip(prepared, errs):
        if err:
            verdict[case.name] = (False, err)
        else:
            compiled.append((case, cdir))

    t_compile = time.monotonic()
    exes = build_all(work, compiled, args.exact_build) if compiled else {}
    t_build = time.monotonic()

    runnable = []
    for case, cdir in compiled:
        exe = exes[case.name]
        if isinstance(exe, str):
            verdict[case.name] = (False, exe)
        else:
            runnable.append((case, cdir, exe))
    with ThreadPoolExecutor(workers) as pool:
        outs = list(pool.map(
            lambda t: execute(t[0], t[1], t[2], refs[t[0].name]), runnable))
    for (case, _, _), res in zip(runnable, outs):
        verdict[case.name] = res

    passed = failed = 0
    unsupported = {}  # op -> cases
    for case in cases:
        ok, detail = verdict[case.name]
        m = re.search(r"no OpenCL kernel for '([a-z_.]+)'", detail or "")
        if not ok and m and m.group(1) in OPENCL_UNSUPPORTED:
            unsupported.setdefault(m.group(1), []).append(case.name)
            print(f"UNSUPPORTED {case.name}: {m.group(1)} (no OpenCL kernel)",
                  flush=True)
        elif ok:
            passed += 1
            print(f"PASS {case.name}", flush=True)
        else:
            failed += 1
            print(f"FAIL {case.name}: {detail}", flush=True)
    end = time.monotonic()
    if compiled:
        print(f"# reference {t_ref - start:.1f} s, canaoc "
              f"{t_compile - t_ref:.1f} s, build {t_build - t_compile:.1f} s, "
              f"run+compare {end - t_build:.1f} s", file=sys.stderr)
    print(f"# {len(cases)} cases, float tolerance max abs err <= {ATOL:g}, "
          f"took {end - start:.1f} s", file=sys.stderr)
    if not args.keep and failed == 0:
        shutil.rmtree(work / "cases", ignore_errors=True)
        shutil.rmtree(work / "super", ignore_errors=True)
    if unsupported:
        print(f"{sum(map(len, unsupported.values()))} unsupported on "
              f"{TARGET_ARGS[-1]} (" + ", ".join(
                  f"{op} x{len(c)}" for op, c in sorted(unsupported.items())) +
              ")")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
