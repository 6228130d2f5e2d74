"""Contractions big enough for kiln-gpu-tile-contractions, for lit.

  contractions.py make DIR      model.onnx and input_<i>.pb in DIR
  contractions.py compare A B   the output_<i>.pb of A and B agree

The model: a 3x3 and a 1x1 convolution (im2col matmuls on the GPU), a
MatMul after a Reshape, a batched MatMul, a Gemm with a transposed B and a
bias, and a MatMulInteger with zero points; sizes that are no multiples of
the 64 x 64 x 16 tiles, so that every bound check runs.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def make(out):
    rng = np.random.default_rng(7)

    def weight(name, shape, dtype=np.float32):
        if dtype == np.float32:
            data = rng.standard_normal(shape).astype(dtype) * 0.2
        else:
            data = rng.integers(0, 255, shape).astype(dtype)
        return numpy_helper.from_array(data, name)

    inits = [
        weight("w1", (24, 8, 3, 3)), weight("b1", (24,)),
        weight("w2", (20, 24, 1, 1)),
        numpy_helper.from_array(np.array([20, 400], np.int64), "shape"),
        weight("w3", (400, 70)),
        weight("w4", (3, 40, 72)),
        weight("w5", (1030, 64)), weight("b5", (1030,)),
        weight("w6", (36, 48), np.uint8),
        numpy_helper.from_array(np.array(3, np.uint8), "za"),
        numpy_helper.from_array(np.array(200, np.uint8), "zb"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"]),
        helper.make_node("Reshape", ["c2", "shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w3"], ["y0"]),
        helper.make_node("MatMul", ["a", "w4"], ["y1"]),
        helper.make_node("Gemm", ["g", "w5", "b5"], ["y2"], transB=1),
        helper.make_node("MatMulInteger", ["q", "w6", "za", "zb"], ["y3"]),
    ]
    f32 = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, "contractions",
        [helper.make_tensor_value_info("x", f32, [1, 8, 20, 20]),
         helper.make_tensor_value_info("a", f32, [3, 33, 40]),
         helper.make_tensor_value_info("g", f32, [520, 64]),
         helper.make_tensor_value_info("q", TensorProto.UINT8, [40, 36])],
        [helper.make_tensor_value_info("y0", f32, [20, 70]),
         helper.make_tensor_value_info("y1", f32, [3, 33, 72]),
         helper.make_tensor_value_info("y2", f32, [520, 1030]),
         helper.make_tensor_value_info("y3", TensorProto.INT32, [40, 48])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    os.makedirs(out, exist_ok=True)
    onnx.save(model, os.path.join(out, "model.onnx"))
    inputs = [rng.standard_normal((1, 8, 20, 20)).astype(np.float32),
              rng.standard_normal((3, 33, 40)).astype(np.float32),
              rng.standard_normal((520, 64)).astype(np.float32),
              rng.integers(0, 255, (40, 36)).astype(np.uint8)]
    for i, data in enumerate(inputs):
        with open(os.path.join(out, "input_%d.pb" % i), "wb") as f:
            f.write(numpy_helper.from_array(data).SerializeToString())


def load(path):
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def compare(a, b):
    bad = 0
    for i in range(4):
        x = load(os.path.join(a, "output_%d.pb" % i))
        y = load(os.path.join(b, "output_%d.pb" % i))
        ok = x.shape == y.shape and (
            np.array_equal(x, y) if x.dtype.kind == "i"
            else np.allclose(x, y, rtol=1e-4, atol=1e-4))
        print("output_%d %s %s" % (i, "x".join(map(str, x.shape)),
                                   "agree" if ok else "DIFFER"))
        bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        sys.exit(compare(sys.argv[2], sys.argv[3]))
