"""A small CNN classifier with a symbolic batch dim N: conv, relu, max pool,
the exporter's x.view(x.size(0), -1), a Gemm and a softmax. Writes
classifier.onnx into the folder given."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(7)
f32 = TensorProto.FLOAT
inits = [
    numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3, "w"),
    numpy_helper.from_array(rng.standard_normal(8).astype(np.float32) * 0.1, "b"),
    numpy_helper.from_array(rng.standard_normal((10, 128)).astype(np.float32) * 0.1, "fc"),
    numpy_helper.from_array(rng.standard_normal(10).astype(np.float32) * 0.1, "fcb"),
    numpy_helper.from_array(np.array(0, np.int64), "zero"),
    numpy_helper.from_array(np.array([0], np.int64), "axes"),
    numpy_helper.from_array(np.array([-1], np.int64), "minus1"),
]
nodes = [
    helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c"], ["r"], name="relu"),
    helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node("Shape", ["p"], ["s"], name="shape"),
    helper.make_node("Gather", ["s", "zero"], ["n"], name="gather"),
    helper.make_node("Unsqueeze", ["n", "axes"], ["n1"], name="unsqueeze"),
    helper.make_node("Concat", ["n1", "minus1"], ["t"], name="concat", axis=0),
    helper.make_node("Reshape", ["p", "t"], ["f"], name="flatten"),
    helper.make_node("Gemm", ["f", "fc", "fcb"], ["g"], name="fc", transB=1),
    helper.make_node("Softmax", ["g"], ["y"], name="softmax", axis=1),
]
graph = helper.make_graph(
    nodes, "classifier",
    [helper.make_tensor_value_info("x", f32, ["N", 3, 8, 8])],
    [helper.make_tensor_value_info("y", f32, ["N", 10])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "classifier.onnx"))

# A model whose image size is symbolic (H, W; not a batch): compiled with no
# bound, its arena's size is computed from H and W at run time.
inits2 = [
    numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3, "w"),
    numpy_helper.from_array(rng.standard_normal(8).astype(np.float32) * 0.1, "b"),
    numpy_helper.from_array(rng.standard_normal((10, 8)).astype(np.float32) * 0.3, "fc"),
    numpy_helper.from_array(rng.standard_normal(10).astype(np.float32) * 0.1, "fcb"),
]
nodes2 = [
    helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c"], ["r"], name="relu"),
    helper.make_node("GlobalAveragePool", ["r"], ["p"], name="pool"),
    helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
    helper.make_node("Gemm", ["f", "fc", "fcb"], ["y"], name="fc", transB=1),
]
graph2 = helper.make_graph(
    nodes2, "spatial",
    [helper.make_tensor_value_info("x", f32, [1, 3, "H", "W"])],
    [helper.make_tensor_value_info("y", f32, [1, 10]),
     helper.make_tensor_value_info("r", f32, [1, 8, "H", "W"])], inits2)
model2 = helper.make_model(graph2, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model2)
onnx.save(model2, os.path.join(out, "spatial.onnx"))

# A model whose sizes come from an input's values (a Softmax of a Tile by
# run-time repeats): its dims are derived before the run, so the shapes and
# the arena size need the inputs (P_shapes_of).
nodes3 = [
    helper.make_node("Tile", ["x", "reps"], ["t"], name="tile"),
    helper.make_node("Softmax", ["t"], ["y"], name="softmax", axis=1),
]
graph3 = helper.make_graph(
    nodes3, "tiled",
    [helper.make_tensor_value_info("x", f32, [2, 3]),
     helper.make_tensor_value_info("reps", TensorProto.INT64, [2])],
    [helper.make_tensor_value_info("y", f32, ["R", "C"])])
model3 = helper.make_model(graph3, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model3)
onnx.save(model3, os.path.join(out, "tiled.onnx"))
