"""A Gather whose indices come at run time, for lit: gather.py DIR writes
DIR/model.onnx and the indices DIR/i_ok.npy (in range) and DIR/i_bad.npy
(one out of range), with the data DIR/x.npy."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

d = sys.argv[1]
vi = helper.make_tensor_value_info
graph = helper.make_graph(
    [helper.make_node("Gather", ["x", "i"], ["y"], name="gather")], "gather",
    [vi("x", TensorProto.FLOAT, [4, 3]), vi("i", TensorProto.INT64, [2])],
    [vi("y", TensorProto.FLOAT, [2, 3])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.save(model, d + "/model.onnx")
np.save(d + "/x.npy", np.arange(12, dtype=np.float32).reshape(4, 3))
np.save(d + "/i_ok.npy", np.array([3, -4], np.int64))
np.save(d + "/i_bad.npy", np.array([1, 1 << 40], np.int64))
