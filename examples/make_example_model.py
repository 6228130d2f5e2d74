#!/usr/bin/python3
"""Builds examples/tinynet: a tiny image classifier in ONNX, with fixed weights.

  image float32[1,3,16,16]
    -> Conv 3->8, 3x3, pad 1 -> Relu
    -> GlobalAveragePool -> Flatten
    -> Gemm 8->5 -> Softmax
  -> probs float32[1,5]

Weights and the sample input come from a seeded NumPy generator, so running this
again writes the same files. It writes, next to this script:
  tinynet/model.onnx       the model (opset 13)
  tinynet/input_0.pb       a sample input (ONNX TensorProto)
  tinynet/input_0.bin      the same input as raw little-endian float32 (for C)
  tinynet/output_0.pb      the expected output, computed here with NumPy

Run with /usr/bin/python3 (Debian's python3-onnx, python3-numpy).
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tinynet")
N, C, H, W = 1, 3, 16, 16
FEATURES, CLASSES = 8, 5


def make_weights(rng):
    return {
        "conv_w": (rng.standard_normal((FEATURES, C, 3, 3)) * 0.4).astype(np.float32),
        "conv_b": (rng.standard_normal(FEATURES) * 0.1).astype(np.float32),
        "fc_w": (rng.standard_normal((CLASSES, FEATURES)) * 1.5).astype(np.float32),
        "fc_b": (rng.standard_normal(CLASSES) * 0.1).astype(np.float32),
    }


def make_model(w):
    nodes = [
        helper.make_node("Conv", ["image", "conv_w", "conv_b"], ["conv"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"], name="relu"),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"], name="pool"),
        helper.make_node("Flatten", ["pool"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], name="fc",
                         transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "tinynet",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [N, C, H, W])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [N, CLASSES])],
        initializer=[numpy_helper.from_array(v, k) for k, v in w.items()])
    model = helper.make_model(graph, producer_name="kiln-examples",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def reference(x, w):
    """The same network in NumPy (float64, then rounded to float32)."""
    x = x.astype(np.float64)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.zeros((N, FEATURES, H, W))
    for dy in range(3):
        for dx in range(3):
            patch = padded[:, :, dy:dy + H, dx:dx + W]
            conv += np.einsum("nchw,fc->nfhw", patch, w["conv_w"][:, :, dy, dx])
    conv += w["conv_b"].reshape(1, FEATURES, 1, 1)
    pooled = np.maximum(conv, 0).mean(axis=(2, 3))
    logits = pooled @ w["fc_w"].T.astype(np.float64) + w["fc_b"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def main():
    rng = np.random.default_rng(2024)
    w = make_weights(rng)
    x = rng.uniform(-1.0, 1.0, (N, C, H, W)).astype(np.float32)
    os.makedirs(OUT, exist_ok=True)
    onnx.save(make_model(w), os.path.join(OUT, "model.onnx"))
    with open(os.path.join(OUT, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, "image").SerializeToString())
    x.astype("<f4").tofile(os.path.join(OUT, "input_0.bin"))
    y = reference(x, w)
    with open(os.path.join(OUT, "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(y, "probs").SerializeToString())
    print("wrote %s; expected probabilities %s" % (
        OUT, " ".join("%.4f" % p for p in y[0])))


if __name__ == "__main__":
    main()
