#!/usr/bin/env python3
"""Writes small malformed ONNX models for canaoc's bad-input tests.

    make_bad_models.py OUTDIR

Each model is a few nodes and valid except for its one defect (see CASES).
Also writes `good.onnx`, a valid model (x: float[batch, 4] -> MatMul 4x4 ->
y) for the CLI-misuse cases. The checker is never run: several of these
models are meant to fail it. Output is deterministic (fixed seeds, fixed
producer fields). Needs only onnx and numpy (Debian's python3-onnx works).
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 14
F = TensorProto.FLOAT


def model(nodes, inputs, outputs, initializers=(), opset=OPSET, name="g"):
    graph = helper.make_graph(nodes, name, inputs, outputs,
                              initializer=list(initializers))
    m = helper.make_model(graph, producer_name="make_bad_models",
                          opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    m.producer_version = "1"
    return m


def vi(name, shape):
    return helper.make_tensor_value_info(name, F, shape)


def weight(name, shape, seed):
    rng = np.random.default_rng(seed)
    return numpy_helper.from_array(
        rng.standard_normal(shape).astype(np.float32), name)


def matmul_add(n=64):
    """x[1,n] @ W[n,n] + b[n] -> y[1,n]; the base for several cases."""
    return model(
        [helper.make_node("MatMul", ["x", "W"], ["xw"], name="mm"),
         helper.make_node("Add", ["xw", "b"], ["y"], name="add")],
        [vi("x", [1, n])], [vi("y", [1, n])],
        [weight("W", [n, n], 1), weight("b", [n], 2)])


def good():
    return model(
        [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")],
        [vi("x", ["batch", 4])], [vi("y", ["batch", 4])],
        [weight("W", [4, 4], 3)])


def truncated():
    data = matmul_add().SerializeToString()
    return data[:len(data) // 2]


def corrupt():
    return np.random.default_rng(1234).integers(
        0, 256, 4096, dtype=np.uint8).tobytes()


def unsupported_op():
    k = numpy_helper.from_array(np.array([2], dtype=np.int64), "k")
    return model(
        [helper.make_node("Relu", ["x"], ["r"], name="relu"),
         helper.make_node("TopK", ["r", "k"], ["values", "indices"],
                          name="my_topk", axis=-1)],
        [vi("x", [1, 8])],
        [vi("values", [1, 2]),
         helper.make_tensor_value_info("indices", TensorProto.INT64, [1, 2])],
        [k])


def missing_initializer():
    return model(
        [helper.make_node("MatMul", ["x", "W"], ["xw"], name="mm"),
         helper.make_node("Add", ["xw", "no_such_bias"], ["y"], name="add")],
        [vi("x", [1, 4])], [vi("y", [1, 4])], [weight("W", [4, 4], 4)])


def symbolic_dim():
    return model(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")],
        [vi("x", ["foo", 4])], [vi("y", ["foo", 4])])


def external(location):
    w = TensorProto(name="W", data_type=F, dims=[4, 4])
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", "64")):
        e = w.external_data.add()
        e.key, e.value = k, v
    return model(
        [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")],
        [vi("x", [1, 4])], [vi("y", [1, 4])], [w])


def cycle():
    return model(
        [helper.make_node("Add", ["x", "b_out"], ["a_out"], name="A"),
         helper.make_node("Relu", ["a_out"], ["b_out"], name="B")],
        [vi("x", [1, 4])], [vi("b_out", [1, 4])])


def absurd_dims():
    big = 1 << 40
    w = TensorProto(name="W", data_type=F, dims=[big, big], raw_data=b"")
    return model(
        [helper.make_node("Add", ["x", "W"], ["y"], name="add")],
        [vi("x", [1, 4])], [vi("y", [1, 4])], [w])


def absurd_input():
    return model(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")],
        [vi("x", [1 << 40])], [vi("y", [1 << 40])])


def bad_raw_size():
    w = TensorProto(name="W", data_type=F, dims=[64, 64],
                    raw_data=bytes(range(10)))
    return model(
        [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")],
        [vi("x", [1, 64])], [vi("y", [1, 64])], [w])


def duplicate_output():
    return model(
        [helper.make_node("Relu", ["x"], ["t"], name="first"),
         helper.make_node("Neg", ["x"], ["t"], name="second"),
         helper.make_node("Add", ["t", "x"], ["y"], name="add")],
        [vi("x", [1, 4])], [vi("y", [1, 4])])


def zero_dim_input():
    return model(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")],
        [vi("x", [1, 0])], [vi("y", [1, 0])])


def empty_slice():
    starts = helper.make_tensor("starts", TensorProto.INT64, [1], [2])
    ends = helper.make_tensor("ends", TensorProto.INT64, [1], [2])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    return model(
        [helper.make_node("Slice", ["x", "starts", "ends", "axes"], ["y"],
                          name="empty_slice")],
        [vi("x", [1, 4])], [vi("y", [1, 0])], [starts, ends, axes])


def shape_input():
    shape = helper.make_tensor_value_info("shape", TensorProto.INT64, [2])
    m = model(
        [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape")],
        [vi("x", [1, 4])], [vi("y", [2, 2])])
    m.graph.input.append(shape)
    return m


def constant_of_shape(n):
    """y = x + ConstantOfShape([n, 4]): an intermediate of 4n floats."""
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [n, 4])
    return model(
        [helper.make_node("ConstantOfShape", ["shape"], ["c"], name="fill"),
         helper.make_node("Add", ["x", "c"], ["y"], name="add")],
        [vi("x", [1, 4])], [vi("y", [n, 4])], [shape])


def expand(rows):
    """Expand of a [1, 4] input to [rows, 4]."""
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [rows, 4])
    return model(
        [helper.make_node("Expand", ["x", "shape"], ["y"], name="expand")],
        [vi("x", [1, 4])], [vi("y", [rows, 4])], [shape])


def large_weights():
    """A valid model with 4 MB of weights (for --max-memory 1M)."""
    return model(
        [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")],
        [vi("x", [1, 1024])], [vi("y", [1, 1024])],
        [weight("W", [1024, 1024], 3)])


CASES = {
    "good": good,
    "truncated": truncated,
    "corrupt": corrupt,
    "unsupported_op": unsupported_op,
    "missing_initializer": missing_initializer,
    "symbolic_dim": symbolic_dim,
    "escape_external": lambda: external("../evil.bin"),
    "absolute_external": lambda: external("/etc/passwd"),
    "cycle": cycle,
    "absurd_dims": absurd_dims,
    "absurd_input": absurd_input,
    "bad_raw_size": bad_raw_size,
    "duplicate_output": duplicate_output,
    "zero_dim_input": zero_dim_input,
    "empty_slice": empty_slice,
    "shape_input": shape_input,
    # 2^36 floats: 256 GB.
    "constant_of_shape_1tb": lambda: constant_of_shape(1 << 36),
    "expand_2p40": lambda: expand(1 << 38),
    # 2^26 x 4 floats: 1 GiB, refused under --max-memory 512M.
    "expand_1gib": lambda: expand(1 << 26),
    "large_weights": large_weights,
}


def write_all(outdir):
    """Writes every case as OUTDIR/<case>.onnx; returns {case: path}."""
    os.makedirs(outdir, exist_ok=True)
    paths = {}
    for name, make in CASES.items():
        m = make()
        data = m if isinstance(m, bytes) else m.SerializeToString()
        path = os.path.join(outdir, name + ".onnx")
        with open(path, "wb") as f:
            f.write(data)
        paths[name] = path
    return paths


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: make_bad_models.py OUTDIR")
    for name, path in write_all(argv[1]).items():
        print(f"{name}: {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main(sys.argv)
