#!/usr/bin/python3
"""Writes ONNX tests, with NumPy references, for the CPU kernels' edge cases.

The backend suite has few convolutions and products of awkward sizes; these
cover the matmul kernel (M and N off the register tile, constant and input
B, bias along rows and columns, im2col panels of strided and dilated convs,
a batch, epilogues with a residual add and activations) and the depthwise
kernel (3x3 and 5x5, strides 1 and 2, dilation, rows narrower than a
vector, Clip fused).

  /usr/bin/python3 utils/make_kernel_tests.py OUTDIR   # OUTDIR/node/test_*, expected.txt

then utils/backend_tests.py --data OUTDIR --suites node --expected OUTDIR/expected.txt
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.RandomState(7)


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def eighths(*shape):
    """Normal values rounded to multiples of 1/8 (at most about 5 in size):
    their products are multiples of 1/64, and sums of up to about 10,000
    of them are exact in float32, whatever the order of the summation."""
    return np.round(randn(*shape) * 8) / 8


def conv_ref(x, w, b, s, p, d, group):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
    oh = (h + p[0] + p[2] - d * (kh - 1) - 1) // s + 1
    ow = (wd + p[1] + p[3] - d * (kw - 1) - 1) // s + 1
    y = np.zeros((n, m, oh, ow))
    mg = m // group
    for o in range(m):
        g = o // mg
        for ci in range(cg):
            ch = g * cg + ci
            for i in range(kh):
                for j in range(kw):
                    y[:, o] += w[o, ci, i, j] * xp[:, ch, i * d:i * d + s * (oh - 1) + 1:s,
                                                  j * d:j * d + s * (ow - 1) + 1:s]
    if b is not None:
        y += b[None, :, None, None]
    return y


def model(nodes, inputs, outputs, inits):
    g = helper.make_graph(
        nodes, "kernels",
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, v.shape) for k, v in inputs],
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, v.shape) for k, v in outputs],
        [numpy_helper.from_array(v, k) for k, v in inits])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def clip_inits():
    return [("lo", np.array(0, np.float32)), ("hi", np.array(6, np.float32))]


def conv_case(n, c, h, w, m, k, s, p, d, group, act, residual=False, const_w=True):
    x = randn(n, c, h, w)
    wt = randn(m, c // group, k, k) * 0.3
    b = randn(m)
    y = conv_ref(x, wt, b, s, p, d, group)
    nodes = [helper.make_node("Conv", ["X", "W", "B"], ["Y0"], group=group, strides=[s, s],
                              pads=list(p), dilations=[d, d])]
    inputs, inits, last = [("X", x)], [("W", wt), ("B", b)], "Y0"
    if residual:
        r = randn(*y.shape)
        inputs.append(("R", r))
        nodes.append(helper.make_node("Add", [last, "R"], ["Y1"]))
        y, last = y + r, "Y1"
    if act == "relu":
        nodes.append(helper.make_node("Relu", [last], ["Y"]))
        y = np.maximum(y, 0)
    elif act == "clip":
        nodes.append(helper.make_node("Clip", [last, "lo", "hi"], ["Y"]))
        inits += clip_inits()
        y = np.clip(y, 0, 6)
    else:
        nodes.append(helper.make_node("Identity", [last], ["Y"]))
    y = y.astype(np.float32)
    return model(nodes, inputs, [("Y", y)], inits), [v for _, v in inputs], [y]


def maxpool_case(n, c, h, w, k, s, p, d=1, ceil=0, relu=False):
    x = randn(n, c, h, w)
    span = d * (k - 1) + 1
    size = lambda i, pb, pe: (-(-(i + pb + pe - span) // s) if ceil else (i + pb + pe - span) // s) + 1
    oh, ow = size(h, p[0], p[2]), size(w, p[1], p[3])
    # -inf padding, at the end as far as the last window reaches.
    xp = np.full((n, c, max(h + p[0] + p[2], (oh - 1) * s + span),
                  max(w + p[1] + p[3], (ow - 1) * s + span)), -np.inf, np.float32)
    xp[:, :, p[0]:p[0] + h, p[1]:p[1] + w] = x
    y = np.full((n, c, oh, ow), -np.inf, np.float32)
    for i in range(k):
        for j in range(k):
            y = np.maximum(y, xp[:, :, i * d:i * d + s * (oh - 1) + 1:s, j * d:j * d + s * (ow - 1) + 1:s])
    nodes = [helper.make_node("MaxPool", ["X"], ["Y0"], kernel_shape=[k, k], strides=[s, s],
                              pads=list(p), dilations=[d, d], ceil_mode=ceil)]
    if relu:
        nodes.append(helper.make_node("Relu", ["Y0"], ["Y"]))
        y = np.maximum(y, 0)
    else:
        nodes.append(helper.make_node("Identity", ["Y0"], ["Y"]))
    return model(nodes, [("X", x)], [("Y", y)], []), [x], [y]


def matmul_case(m, k, n, const_b, bias=None, act=None):
    a = eighths(m, k)
    b = eighths(k, n)
    y = a.astype(np.float64) @ b
    if bias is None:
        nodes = [helper.make_node("MatMul", ["A", "Bm"], ["Y0"])]
        inits = []
    else:
        c = randn(*bias)
        nodes = [helper.make_node("Gemm", ["A", "Bm", "C"], ["Y0"])]
        inits = [("C", c)]
        y = y + c
    inputs = [("A", a)]
    if const_b:
        inits.append(("Bm", b))
    else:
        inputs.append(("Bm", b))
    if act == "relu":
        nodes.append(helper.make_node("Relu", ["Y0"], ["Y"]))
        y = np.maximum(y, 0)
    else:
        nodes.append(helper.make_node("Identity", ["Y0"], ["Y"]))
    y = y.astype(np.float32)
    return model(nodes, inputs, [("Y", y)], inits), [v for _, v in inputs], [y]


def batch_matmul_case(batch, m, k, n):
    """Both operands inputs, a batch of products (attention's shape)."""
    a, b = eighths(batch, m, k), eighths(batch, k, n)
    y = (a.astype(np.float64) @ b).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["A", "Bm"], ["Y"])]
    return model(nodes, [("A", a), ("Bm", b)], [("Y", y)], []), [a, b], [y]


def se_case(n, c, h, w, squeeze, m):
    """Squeeze-and-excitation feeding a 1x1 convolution: the channel scales
    multiply the activation inside the convolution's packing of B."""
    x = randn(n, c, h, w)
    w1, b1 = randn(squeeze, c, 1, 1) * 0.3, randn(squeeze)
    w2, b2 = randn(c, squeeze, 1, 1) * 0.3, randn(c)
    w3, b3 = randn(m, c, 1, 1) * 0.3, randn(m)
    pooled = x.astype(np.float64).mean(axis=(2, 3), keepdims=True)
    hidden = np.maximum(conv_ref(pooled, w1, b1, 1, (0, 0, 0, 0), 1, 1), 0)
    scale = 1 / (1 + np.exp(-conv_ref(hidden, w2, b2, 1, (0, 0, 0, 0), 1, 1)))
    y = conv_ref(x * scale, w3, b3, 1, (0, 0, 0, 0), 1, 1).astype(np.float32)
    nodes = [helper.make_node("GlobalAveragePool", ["X"], ["P"]),
             helper.make_node("Conv", ["P", "W1", "B1"], ["H0"]),
             helper.make_node("Relu", ["H0"], ["H"]),
             helper.make_node("Conv", ["H", "W2", "B2"], ["S0"]),
             helper.make_node("Sigmoid", ["S0"], ["S"]),
             helper.make_node("Mul", ["X", "S"], ["XS"]),
             helper.make_node("Conv", ["XS", "W3", "B3"], ["Y"])]
    inits = [("W1", w1), ("B1", b1), ("W2", w2), ("B2", b2), ("W3", w3), ("B3", b3)]
    return model(nodes, [("X", x)], [("Y", y)], inits), [x], [y]


def conv_chain_case(n, c, h, w, mid, m):
    """A 1x1 convolution to `mid` channels (fewer than a swapped product
    needs: computed as is, its h*w columns padded) feeding one to `m`
    channels (swapped): the transpose before the second reads the first's
    padded result where it lies (a slice of it)."""
    x = randn(n, c, h, w)
    w1, b1 = randn(mid, c, 1, 1) * 0.3, randn(mid)
    w2, b2 = randn(m, mid, 1, 1) * 0.3, randn(m)
    y = conv_ref(conv_ref(x, w1, b1, 1, (0, 0, 0, 0), 1, 1), w2, b2, 1, (0, 0, 0, 0), 1, 1)
    y = np.maximum(y, 0).astype(np.float32)
    nodes = [helper.make_node("Conv", ["X", "W1", "B1"], ["H"]),
             helper.make_node("Conv", ["H", "W2", "B2"], ["Y0"]),
             helper.make_node("Relu", ["Y0"], ["Y"])]
    inits = [("W1", w1), ("B1", b1), ("W2", w2), ("B2", b2)]
    return model(nodes, [("X", x)], [("Y", y)], inits), [x], [y]


def depthwise_squeeze_case(n, c, h, w, s):
    """A depthwise convolution (3x3, stride s, pad 1) with a Relu whose
    result is also averaged per channel (a squeeze-and-excitation squeeze):
    the kernel sums each plane as it writes it."""
    x = randn(n, c, h, w)
    wt, b = randn(c, 1, 3, 3) * 0.3, randn(c)
    y = np.maximum(conv_ref(x, wt, b, s, (1, 1, 1, 1), 1, c), 0)
    pooled = y.mean(axis=(2, 3), keepdims=True).astype(np.float32)
    y = y.astype(np.float32)
    nodes = [helper.make_node("Conv", ["X", "W", "B"], ["Y0"], group=c, strides=[s, s],
                              pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["Y0"], ["Y"]),
             helper.make_node("GlobalAveragePool", ["Y"], ["P"])]
    return (model(nodes, [("X", x)], [("Y", y), ("P", pooled)], [("W", wt), ("B", b)]),
            [x], [y, pooled])


CASES = [
    # Matmul kernel: tiles, padding, packing, bias, epilogue.
    ("test_kiln_matmul_small_m", lambda: matmul_case(3, 40, 70, True)),
    ("test_kiln_matmul_odd", lambda: matmul_case(37, 129, 53, False)),
    ("test_kiln_matmul_packed_b", lambda: matmul_case(300, 270, 100, False, act="relu")),
    ("test_kiln_matmul_const_b_kblocks", lambda: matmul_case(24, 700, 96, True)),
    # B copied panel by panel by the tasks (few row blocks, panels spanning
    # many pages): three K blocks, the last panel read with masks; and copied
    # before the product (many row blocks): groups of 8 panels, the last
    # group padded, rows in chunks.
    ("test_kiln_matmul_panel_copy_kblocks", lambda: matmul_case(128, 600, 300, False, act="relu")),
    ("test_kiln_matmul_prepacked_groups", lambda: matmul_case(520, 600, 300, False)),
    ("test_kiln_batch_matmul_runtime_b", lambda: batch_matmul_case(3, 20, 300, 45)),
    ("test_kiln_batch_matmul_panel_copy", lambda: batch_matmul_case(3, 64, 300, 200)),
    ("test_kiln_gemm_column_bias", lambda: matmul_case(20, 64, 96, True, bias=(96,), act="relu")),
    ("test_kiln_gemm_full_bias", lambda: matmul_case(20, 64, 50, True, bias=(20, 50))),
    ("test_kiln_gemm_row_bias", lambda: matmul_case(20, 64, 48, False, bias=(20, 1))),
    ("test_kiln_conv_3x3_relu", lambda: conv_case(1, 16, 14, 14, 32, 3, 1, (1, 1, 1, 1), 1, 1, "relu")),
    ("test_kiln_conv_3x3_stride2_residual", lambda: conv_case(1, 8, 15, 15, 24, 3, 2, (1, 1, 1, 1), 1, 1, "relu", residual=True)),
    ("test_kiln_conv_7x7_pixels", lambda: conv_case(1, 64, 7, 7, 72, 3, 1, (1, 1, 1, 1), 1, 1, "clip")),
    ("test_kiln_conv_dilated_batch", lambda: conv_case(2, 6, 12, 11, 10, 3, 1, (2, 2, 2, 2), 2, 1, None)),
    ("test_kiln_conv_1x1_clip", lambda: conv_case(1, 24, 10, 10, 40, 1, 1, (0, 0, 0, 0), 1, 1, "clip")),
    ("test_kiln_conv_1x1_stride2", lambda: conv_case(1, 12, 9, 9, 20, 1, 2, (0, 0, 0, 0), 1, 1, None)),
    # Few pixels, many channels: the product computed transposed (pixels as
    # rows, 7-row register tiles), transposed back before the epilogue.
    ("test_kiln_conv_transposed_7x7_residual", lambda: conv_case(1, 32, 7, 7, 512, 3, 1, (1, 1, 1, 1), 1, 1, "relu", residual=True)),
    ("test_kiln_conv_transposed_1x1_pixel", lambda: conv_case(1, 40, 1, 1, 576, 1, 1, (0, 0, 0, 0), 1, 1, "clip")),
    ("test_kiln_conv_transposed_batch", lambda: conv_case(3, 16, 4, 4, 512, 3, 1, (1, 1, 1, 1), 1, 1, None)),
    ("test_kiln_conv_transposed_after_padded", lambda: conv_chain_case(1, 24, 7, 7, 40, 576)),
    # Winograd F(4x4, 3x3): full and masked tile vectors, cropped edges,
    # no bias padding, batches, fused epilogues.
    ("test_kiln_winograd_relu", lambda: conv_case(1, 16, 24, 24, 32, 3, 1, (1, 1, 1, 1), 1, 1, "relu")),
    ("test_kiln_winograd_odd_residual", lambda: conv_case(1, 8, 23, 29, 12, 3, 1, (1, 1, 1, 1), 1, 1, "relu", residual=True)),
    ("test_kiln_winograd_unpadded", lambda: conv_case(1, 9, 30, 30, 10, 3, 1, (0, 0, 0, 0), 1, 1, None)),
    ("test_kiln_winograd_asymmetric_pads", lambda: conv_case(1, 8, 25, 21, 8, 3, 1, (0, 2, 1, 0), 1, 1, "clip")),
    ("test_kiln_winograd_batch", lambda: conv_case(2, 8, 17, 17, 16, 3, 1, (1, 1, 1, 1), 1, 1, None)),
    ("test_kiln_winograd_wide_rows", lambda: conv_case(1, 8, 12, 72, 8, 3, 1, (1, 1, 1, 1), 1, 1, "relu", residual=True)),
    # Few tiles (a 14x14 map's 16), many output channels: the 36 products
    # computed transposed (tiles as rows), as one image and as a batch.
    ("test_kiln_winograd_swapped", lambda: conv_case(1, 16, 16, 20, 64, 3, 1, (1, 1, 1, 1), 1, 1, "relu", residual=True)),
    ("test_kiln_winograd_swapped_batch", lambda: conv_case(2, 8, 10, 10, 64, 3, 1, (1, 1, 1, 1), 1, 1, None)),
    # Depthwise kernel.
    ("test_kiln_depthwise_3x3", lambda: conv_case(1, 8, 13, 13, 8, 3, 1, (1, 1, 1, 1), 1, 8, "clip")),
    ("test_kiln_depthwise_3x3_stride2_batch", lambda: conv_case(2, 16, 14, 14, 16, 3, 2, (1, 1, 1, 1), 1, 16, "clip")),
    ("test_kiln_depthwise_5x5_stride2", lambda: conv_case(1, 24, 9, 17, 24, 5, 2, (2, 2, 2, 2), 1, 24, "relu")),
    ("test_kiln_depthwise_dilated", lambda: conv_case(1, 5, 7, 7, 5, 3, 1, (1, 1, 1, 1), 2, 5, None)),
    ("test_kiln_depthwise_wide_rows", lambda: conv_case(1, 4, 40, 56, 4, 3, 1, (1, 1, 1, 1), 1, 4, "relu", residual=True)),
    ("test_kiln_depthwise_squeeze", lambda: depthwise_squeeze_case(1, 8, 13, 13, 1)),
    ("test_kiln_depthwise_squeeze_stride2_batch", lambda: depthwise_squeeze_case(2, 6, 20, 40, 2)),
    ("test_kiln_depthwise_asymmetric_pads", lambda: conv_case(1, 6, 11, 11, 6, 3, 2, (0, 0, 1, 1), 1, 6, "clip")),
    # MaxPool: the depthwise kernel's rows with max instead of taps (-inf
    # padding read from the source), ceil mode, dilation, an epilogue.
    ("test_kiln_maxpool_3x3_stride2_pad", lambda: maxpool_case(1, 8, 16, 16, 3, 2, (1, 1, 1, 1))),
    ("test_kiln_maxpool_ceil_relu", lambda: maxpool_case(2, 5, 14, 14, 3, 2, (0, 0, 0, 0), ceil=1, relu=True)),
    ("test_kiln_maxpool_2x2_wide", lambda: maxpool_case(1, 3, 9, 70, 2, 2, (0, 0, 0, 0))),
    ("test_kiln_maxpool_dilated_stride1", lambda: maxpool_case(1, 4, 11, 11, 3, 1, (2, 2, 2, 2), d=2)),
    # Squeeze-and-excitation scales folded into the next 1x1 convolution's
    # copy of B: few output channels (B copied for the scales alone), many
    # (B copied anyway, 14 x 14 pixels: a partial panel), and a batch.
    ("test_kiln_se_scale_narrow", lambda: se_case(1, 48, 16, 16, 12, 24)),
    ("test_kiln_se_scale_wide", lambda: se_case(1, 40, 14, 14, 10, 96)),
    ("test_kiln_se_scale_batch", lambda: se_case(2, 16, 8, 8, 4, 80)),
    ("test_kiln_se_scale_many_rows", lambda: se_case(1, 40, 14, 14, 10, 600)),
    ("test_kiln_se_scale_panel_copy", lambda: se_case(1, 320, 32, 32, 16, 128)),
]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = os.path.join(sys.argv[1], "node")
    for name, make in CASES:
        m, ins, outs = make()
        onnx.checker.check_model(m)
        d = os.path.join(root, name)
        ds = os.path.join(d, "test_data_set_0")
        os.makedirs(ds, exist_ok=True)
        onnx.save(m, os.path.join(d, "model.onnx"))
        for i, v in enumerate(ins):
            onnx.save_tensor(numpy_helper.from_array(v), os.path.join(ds, "input_%d.pb" % i))
        for i, v in enumerate(outs):
            onnx.save_tensor(numpy_helper.from_array(v), os.path.join(ds, "output_%d.pb" % i))
        if name.startswith("test_kiln_winograd"):
            # F(4x4, 3x3) rounds in its transforms (coefficients up to 8 and
            # 1/24): errors of about 1e-5 of the inputs' scale, not of each
            # output's.
            with open(os.path.join(d, "tolerance.txt"), "w") as f:
                f.write("1e-3 2e-4\n")
    with open(os.path.join(sys.argv[1], "expected.txt"), "w") as f:
        f.writelines("node/%s\n" % name for name, _ in CASES)
    print("%d tests in %s" % (len(CASES), root))


if __name__ == "__main__":
    main()
