"""Tiny ONNX models for the importer's lit tests (run by /usr/bin/python3).

    make_model.py KIND OUT.onnx
"""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save


def f32(name, shape, seed=0):
    rng = np.random.default_rng(seed)
    return numpy_helper.from_array(
        rng.standard_normal(shape).astype(np.float32), name)


def i64(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def plumbing():
    # The exporter's head split: Shape -> Gather -> Unsqueeze -> Concat ->
    # Reshape, then a transpose; all shape math must fold at import.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                      ["batch", "sequence", 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["b"], axis=0),
        helper.make_node("Gather", ["s", "one"], ["t"], axis=0),
        helper.make_node("Unsqueeze", ["b", "axes0"], ["bu"]),
        helper.make_node("Unsqueeze", ["t", "axes0"], ["tu"]),
        helper.make_node("Concat", ["bu", "tu", "heads", "dh"], ["shape"],
                         axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["r"], name="split"),
        helper.make_node("Transpose", ["r"], ["y"], perm=[0, 2, 1, 3],
                         name="heads_first"),
    ]
    inits = [i64("zero", 0), i64("one", 1), i64("axes0", [0]),
             i64("heads", [2]), i64("dh", [4])]
    return helper.make_graph(nodes, "plumbing", [x], [y], inits), 14


def layernorm17():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8])
    nodes = [helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"],
                              axis=-1, epsilon=1e-12, name="ln")]
    return helper.make_graph(nodes, "ln", [x], [y],
                             [f32("g", [8]), f32("b", [8], 1)]), 17


def gemm():
    # The pooler: Gemm with transB=1 and a bias; the weight is transposed at
    # compile time, so no transpose kernel remains.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])
    nodes = [helper.make_node("Gemm", ["x", "w", "c"], ["y"], transB=1,
                              name="pooler")]
    return helper.make_graph(nodes, "gemm", [x], [y],
                             [f32("w", [4, 8]), f32("c", [4], 2)]), 11


def softmax11():
    # Before opset 13, Softmax(axis=1) normalizes over all trailing dims.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, 4])
    nodes = [helper.make_node("Softmax", ["x"], ["y"], axis=1, name="sm")]
    return helper.make_graph(nodes, "sm", [x], [y]), 11


def gelu20():
    # ONNX's own Gelu (opset 20): Debian's onnx 1.12 cannot check it, but
    # helper writes it fine.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 8])
    nodes = [helper.make_node("Gelu", ["x"], ["y"], name="g_exact"),
             helper.make_node("Gelu", ["x"], ["z"], approximate="tanh",
                              name="g_tanh")]
    return helper.make_graph(nodes, "gelu", [x], [y, z]), 20


def masks():
    # Newer exporters build masks with Range / ConstantOfShape / Equal /
    # Where / Expand. The compile-time parts fold; the runtime parts stay.
    m = helper.make_tensor_value_info("mask", TensorProto.INT64,
                                      ["batch", "sequence"])
    y = helper.make_tensor_value_info("bias", TensorProto.FLOAT, None)
    p = helper.make_tensor_value_info("pos", TensorProto.INT64, None)
    nodes = [
        helper.make_node("Shape", ["mask"], ["s"]),
        helper.make_node("Gather", ["s", "one"], ["seq"], axis=0),
        helper.make_node("Range", ["zero", "seq", "one"], ["pos"]),
        helper.make_node("ConstantOfShape", ["s1"], ["z"],
                         value=numpy_helper.from_array(
                             np.array([0], dtype=np.int64))),
        helper.make_node("Equal", ["mask", "z"], ["eq"]),
        helper.make_node("Unsqueeze", ["eq", "axes12"], ["eq4"]),
        helper.make_node("Where", ["eq4", "neg", "zf"], ["w"]),
        helper.make_node("Concat", ["b1", "one1", "seq1", "seq1"], ["shape4"],
                         axis=0),
        helper.make_node("Unsqueeze", ["seq", "axes0"], ["seq1"]),
        helper.make_node("Gather", ["s", "zero"], ["b"], axis=0),
        helper.make_node("Unsqueeze", ["b", "axes0"], ["b1"]),
        helper.make_node("Expand", ["w", "shape4"], ["bias"]),
    ]
    inits = [i64("zero", 0), i64("one", 1), i64("s1", [1]),
             i64("axes12", [1, 2]), i64("axes0", [0]), i64("one1", [1]),
             numpy_helper.from_array(np.array(-10000.0, np.float32), "neg"),
             numpy_helper.from_array(np.array(0.0, np.float32), "zf")]
    return helper.make_graph(nodes, "masks", [m], [y, p], inits), 14


def main():
    graph, opset = globals()[sys.argv[1]]()
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    save(model, sys.argv[2])


if __name__ == "__main__":
    main()
