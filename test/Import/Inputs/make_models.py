"""Writes the small ONNX models the importer's lit tests read.

usage: make_models.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def save(name, nodes, inputs, outputs, inits=(), opset=13):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", opset), helper.make_opsetid("com.example", 1)])
    onnx.save(model, os.path.join(out, name + ".onnx"))


f32 = TensorProto.FLOAT

# x.view(x.size(0), -1) as exporters write it, with a symbolic batch.
save("flatten_chain",
     [helper.make_node("Shape", ["x"], ["s"], name="shape"),
      helper.make_node("Gather", ["s", "zero"], ["n"], name="gather", axis=0),
      helper.make_node("Unsqueeze", ["n", "axes"], ["n1"], name="unsqueeze"),
      helper.make_node("Concat", ["n1", "minus1"], ["target"], name="concat", axis=0),
      helper.make_node("Reshape", ["x", "target"], ["y"], name="reshape"),
      helper.make_node("Relu", ["y"], ["z"], name="relu")],
     [helper.make_tensor_value_info("x", f32, ["N", 3, 4, 4])],
     [helper.make_tensor_value_info("z", f32, None)],
     [numpy_helper.from_array(np.array(0, np.int64), "zero"),
      numpy_helper.from_array(np.array([0], np.int64), "axes"),
      numpy_helper.from_array(np.array([-1], np.int64), "minus1")])

# Weights big enough to be a resource blob, and attributes of several kinds.
rng = np.random.default_rng(0)
save("conv_weights",
     [helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv1",
                       pads=[1, 1, 1, 1], strides=[1, 1], group=1),
      helper.make_node("LeakyRelu", ["y"], ["z"], name="act", alpha=0.2)],
     [helper.make_tensor_value_info("x", f32, [1, 8, 6, 6])],
     [helper.make_tensor_value_info("z", f32, [1, 16, 6, 6])],
     [numpy_helper.from_array(rng.standard_normal((16, 8, 3, 3)).astype(np.float32), "w"),
      numpy_helper.from_array(np.arange(16, dtype=np.float32), "b")])

# Two unsupported op types (one from another domain) on three nodes: all of
# them in one error.
save("unsupported",
     [helper.make_node("Relu", ["x"], ["a"], name="ok"),
      helper.make_node("StringNormalizer", ["a"], ["b"], name="sn1"),
      helper.make_node("MyOp", ["b"], ["c"], name="custom1", domain="com.example"),
      helper.make_node("StringNormalizer", ["c"], ["d"], name="sn2")],
     [helper.make_tensor_value_info("x", f32, [2, 2])],
     [helper.make_tensor_value_info("d", f32, [2, 2])])

# A shape error names the node.
save("bad_matmul",
     [helper.make_node("MatMul", ["x", "w"], ["y"], name="proj")],
     [helper.make_tensor_value_info("x", f32, [2, 3])],
     [helper.make_tensor_value_info("y", f32, None)],
     [numpy_helper.from_array(np.ones((4, 5), np.float32), "w")])

# External data: one file beside the model, one that escapes the folder.
w = numpy_helper.from_array(np.arange(2048, dtype=np.float32).reshape(32, 64), "w")
for name, location in (("external_ok", "weights.bin"),
                       ("external_escape", "../escape.bin")):
    t = onnx.TensorProto()
    t.CopyFrom(w)
    t.ClearField("raw_data")
    t.data_location = onnx.TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", str(2048 * 4))):
        e = t.external_data.add()
        e.key, e.value = k, v
    save(name,
         [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
         [helper.make_tensor_value_info("x", f32, [1, 32])],
         [helper.make_tensor_value_info("y", f32, [1, 64])], [t])
with open(os.path.join(out, "weights.bin"), "wb") as f:
    f.write(np.arange(2048, dtype=np.float32).tobytes())

# Not a model at all, and a truncated one.
with open(os.path.join(out, "garbage.onnx"), "wb") as f:
    f.write(b"this is not a protobuf \xff\xff\xff")
data = open(os.path.join(out, "conv_weights.onnx"), "rb").read()
with open(os.path.join(out, "truncated.onnx"), "wb") as f:
    f.write(data[: len(data) // 2])

# Symbolic dims that are not a batch the model splits: a batch reduced
# across samples, and a symbolic dim that is not the batch.
save("batch_mix",
     [helper.make_node("ReduceSum", ["x", "axes"], ["y"], name="total",
                       keepdims=1)],
     [helper.make_tensor_value_info("x", f32, ["N", 4])],
     [helper.make_tensor_value_info("y", f32, None)],
     [numpy_helper.from_array(np.array([0], np.int64), "axes")])
save("seq_dim",
     [helper.make_node("Relu", ["x"], ["y"], name="relu")],
     [helper.make_tensor_value_info("x", f32, [1, "S", 4])],
     [helper.make_tensor_value_info("y", f32, [1, "S", 4])], [])

# Two dims the model takes to be equal (a broadcast of A with B, and A with
# a fixed 3), and inputs that agree or not.
save("two_dims",
     [helper.make_node("Add", ["x", "y"], ["s"], name="add"),
      helper.make_node("Add", ["s", "c"], ["z"], name="add_c")],
     [helper.make_tensor_value_info("x", f32, ["A"]),
      helper.make_tensor_value_info("y", f32, ["B"])],
     [helper.make_tensor_value_info("z", f32, None)],
     [numpy_helper.from_array(np.ones(3, np.float32), "c")])
for name, n in (("three", 3), ("four", 4)):
    np.save(os.path.join(out, name + ".npy"), np.arange(n, dtype=np.float32))
