#!/usr/bin/python3
"""Builds the two models of the Cortex-M example, with fixed random weights.

  mlp.onnx  x float32[1,64]
              -> Gemm 128 -> Relu -> Gemm 64 -> Relu -> Gemm 10 -> Softmax
            -> probs float32[1,10]                       (about 17k weights)

  kws.onnx  a keyword-spotting DS-CNN (Hello Edge, Zhang et al. 2017):
            mfcc float32[1,1,49,10]  (49 frames of 10 MFCC coefficients)
              -> Conv 64, 10x4, stride 2 -> BatchNormalization -> Relu
              -> 4 x [ depthwise Conv 3x3 (group 64) -> BatchNormalization -> Relu
                       -> pointwise Conv 1x1, 64    -> BatchNormalization -> Relu ]
              -> AveragePool 25x5 -> Flatten -> Gemm 12 -> Softmax
            -> probs float32[1,12]   (12 classes: ten keywords, silence, unknown)
                                                         (about 24k weights)

  python3 make_models.py OUTDIR

writes OUTDIR/mlp.onnx, OUTDIR/kws.onnx and one sample input per model,
OUTDIR/mlp_input_0.pb and OUTDIR/kws_input_0.pb (ONNX TensorProto). Weights
and inputs come from seeded NumPy generators, so the files are the same on
every run. Run with /usr/bin/python3 (Debian's python3-onnx, python3-numpy).
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


def he(rng, shape, fan_in):
    """He-normal initialisation: keeps activations near unit scale through Relu."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def small(rng, shape, scale=0.1):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def save_model(nodes, name, inp, out, weights, path):
    graph = helper.make_graph(
        nodes, name, [inp], [out],
        initializer=[numpy_helper.from_array(v, k) for k, v in weights.items()])
    model = helper.make_model(graph, producer_name="kiln-examples",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)  # also infers shapes
    onnx.save(model, path)
    count = sum(v.size for v in weights.values())
    print("wrote %s (%d weights, %d bytes)" % (path, count, 4 * count))


def make_mlp(path):
    rng = np.random.default_rng(1)
    sizes = [64, 128, 64, 10]
    weights, nodes, x = {}, [], "x"
    for i, (k, n) in enumerate(zip(sizes, sizes[1:])):
        weights["fc%d_w" % i] = he(rng, (k, n), k)   # Gemm B is [K, N]
        weights["fc%d_b" % i] = small(rng, (n,))
        y = "fc%d" % i
        nodes.append(helper.make_node("Gemm", [x, "fc%d_w" % i, "fc%d_b" % i], [y],
                                      name=y))
        x = y
        if i < len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [y], [y + "_relu"], name=y + "_relu"))
            x = y + "_relu"
    nodes.append(helper.make_node("Softmax", [x], ["probs"], name="softmax", axis=1))
    save_model(nodes, "mlp",
               helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, sizes[0]]),
               helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, sizes[-1]]),
               weights, path)
    return rng.standard_normal((1, sizes[0])).astype(np.float32)


def make_kws(path):
    rng = np.random.default_rng(2)
    frames, coeffs, ch, blocks, classes = 49, 10, 64, 4, 12
    weights, nodes = {}, []

    def conv_bn_relu(x, name, w, group=1, **attrs):
        """Conv (no bias) -> BatchNormalization -> Relu; returns the output name."""
        weights[name + "_w"] = w
        for p, v in [("scale", rng.uniform(0.5, 1.5, ch)), ("bias", small(rng, ch)),
                     ("mean", small(rng, ch)), ("var", rng.uniform(0.5, 1.5, ch))]:
            weights["%s_bn_%s" % (name, p)] = np.asarray(v, np.float32)
        nodes.append(helper.make_node("Conv", [x, name + "_w"], [name], name=name,
                                      group=group, **attrs))
        nodes.append(helper.make_node(
            "BatchNormalization",
            [name] + ["%s_bn_%s" % (name, p) for p in ("scale", "bias", "mean", "var")],
            [name + "_bn"], name=name + "_bn", epsilon=1e-3))
        nodes.append(helper.make_node("Relu", [name + "_bn"], [name + "_relu"],
                                      name=name + "_relu"))
        return name + "_relu"

    # 49x10 -> 25x5: stride 2 with "same" padding (4 rows above, 5 below).
    x = conv_bn_relu("mfcc", "conv0", he(rng, (ch, 1, 10, 4), 40),
                     kernel_shape=[10, 4], strides=[2, 2], pads=[4, 1, 5, 1])
    for b in range(1, blocks + 1):
        x = conv_bn_relu(x, "dw%d" % b, he(rng, (ch, 1, 3, 3), 9), group=ch,
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1])
        x = conv_bn_relu(x, "pw%d" % b, he(rng, (ch, ch, 1, 1), ch),
                         kernel_shape=[1, 1])
    nodes.append(helper.make_node("AveragePool", [x], ["pool"], name="pool",
                                  kernel_shape=[25, 5]))
    nodes.append(helper.make_node("Flatten", ["pool"], ["flat"], name="flatten", axis=1))
    weights["fc_w"] = he(rng, (classes, ch), ch)
    weights["fc_b"] = small(rng, (classes,))
    nodes.append(helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"],
                                  name="fc", transB=1))
    nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], name="softmax",
                                  axis=1))
    save_model(nodes, "kws",
               helper.make_tensor_value_info("mfcc", TensorProto.FLOAT,
                                             [1, 1, frames, coeffs]),
               helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, classes]),
               weights, path)
    return rng.standard_normal((1, 1, frames, coeffs)).astype(np.float32)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_models.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, make in [("mlp", make_mlp), ("kws", make_kws)]:
        sample = make(os.path.join(out, name + ".onnx"))
        path = os.path.join(out, name + "_input_0.pb")
        tensor = numpy_helper.from_array(sample, name=name + "_input_0")
        with open(path, "wb") as f:
            f.write(tensor.SerializeToString())
        print("wrote %s %s" % (path, list(sample.shape)))


if __name__ == "__main__":
    main()
