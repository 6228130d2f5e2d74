#!/usr/bin/python3
"""Writes LSTM / GRU / RNN test cases in the layout of the ONNX backend tests.

The backend suite's recurrent tests are all forward, layout 0 or 1, with the
default activations. These cases cover the rest: reverse and bidirectional
directions, sequence_lens (a length of 0 included), initial states,
peepholes, input_forget, GRU's linear_before_reset both ways, clip, every
activation with alpha/beta, layout 1 with every output, and float64. The
reference is a plain NumPy loop over each batch entry, with ONNX Runtime's
conventions where the spec is silent (clip bounds the gates' inputs, not Ct
before h; the final state of an entry of length 0 is zero).

  /usr/bin/python3 utils/make_rnn_tests.py OUTDIR   # OUTDIR/node/test_*, expected.txt
  /usr/bin/python3 utils/backend_tests.py --data OUTDIR --suites node \
      --expected OUTDIR/expected.txt

test/e2e/rnn.sh does both.

Run it with /usr/bin/python3 (Debian's python3-onnx and python3-numpy).
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DEFAULT_ACTS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"],
                "RNN": ["Tanh"]}
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
# name: (takes alpha, takes beta, default alpha, default beta)
ACT_ARGS = {"Affine": (True, True, 1.0, 0.0), "LeakyRelu": (True, False, 0.01, 0),
            "ThresholdedRelu": (True, False, 1.0, 0), "ScaledTanh": (True, True, 1.0, 1.0),
            "HardSigmoid": (True, True, 0.2, 0.5), "Elu": (True, False, 1.0, 0)}


def activation(name, x, alpha, beta):
    if name == "Relu":
        return np.maximum(x, 0)
    if name == "Tanh":
        return np.tanh(x)
    if name == "Sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "Affine":
        return alpha * x + beta
    if name == "LeakyRelu":
        return np.where(x >= 0, x, alpha * x)
    if name == "ThresholdedRelu":
        return np.where(x >= alpha, x, 0)
    if name == "ScaledTanh":
        return alpha * np.tanh(beta * x)
    if name == "HardSigmoid":
        return np.minimum(np.maximum(alpha * x + beta, 0), 1)
    if name == "Elu":
        return np.where(x >= 0, x, alpha * (np.exp(x) - 1))
    if name == "Softsign":
        return x / (1 + np.abs(x))
    if name == "Softplus":
        return np.log1p(np.exp(x))
    raise ValueError(name)


def resolve_activations(op, attrs, dirs):
    names = list(attrs.get("activations", DEFAULT_ACTS[op] * dirs))
    alphas = list(attrs.get("activation_alpha", []))
    betas = list(attrs.get("activation_beta", []))
    out = []
    for name in names:
        takes_a, takes_b, alpha, beta = ACT_ARGS.get(name, (False, False, 0, 0))
        if takes_a and alphas:
            alpha = alphas.pop(0)
        if takes_b and betas:
            beta = betas.pop(0)
        out.append(lambda x, n=name, a=alpha, b=beta: activation(n, x, a, b))
    return out


def reference(op, attrs, X, W, R, B=None, lens=None, h0=None, c0=None, P=None):
    """Y, Y_h[, Y_c] of one recurrent layer, one batch entry at a time."""
    layout = attrs.get("layout", 0)
    if layout:
        X = X.transpose(1, 0, 2)
        h0 = None if h0 is None else h0.transpose(1, 0, 2)
        c0 = None if c0 is None else c0.transpose(1, 0, 2)
    seq, batch, _ = X.shape
    dirs, hidden = W.shape[0], R.shape[2]
    direction = attrs.get("direction", "forward")
    acts = resolve_activations(op, attrs, dirs)
    per_dir = len(DEFAULT_ACTS[op])
    clip = attrs.get("clip")
    cl = (lambda v: np.clip(v, -clip, clip)) if clip is not None else (lambda v: v)
    dt = X.dtype
    Y = np.zeros((seq, dirs, batch, hidden), dt)
    Yh = np.zeros((dirs, batch, hidden), dt)
    Yc = np.zeros((dirs, batch, hidden), dt)
    for d in range(dirs):
        f = acts[d * per_dir:(d + 1) * per_dir]
        reverse = direction == "reverse" or d == 1
        Wd, Rd = W[d], R[d]
        Wb = B[d, :Wd.shape[0]] if B is not None else np.zeros(Wd.shape[0], dt)
        Rb = B[d, Wd.shape[0]:] if B is not None else np.zeros(Wd.shape[0], dt)
        for b in range(batch):
            h = h0[d, b] if h0 is not None else np.zeros(hidden, dt)
            c = c0[d, b] if c0 is not None else np.zeros(hidden, dt)
            n = seq if lens is None else int(lens[b])
            steps = range(n - 1, -1, -1) if reverse else range(n)
            for t in steps:
                x = X[t, b]
                if op == "LSTM":
                    g = x @ Wd.T + h @ Rd.T + Wb + Rb
                    gi, go, gf, gc = np.split(g, 4)
                    p = P[d] if P is not None else np.zeros(3 * hidden, dt)
                    pi, po, pf = np.split(p, 3)
                    i = f[0](cl(gi + pi * c))
                    fg = 1 - i if attrs.get("input_forget", 0) else f[0](cl(gf + pf * c))
                    c = fg * c + i * f[1](cl(gc))
                    o = f[0](cl(go + po * c))
                    h = o * f[2](c)
                elif op == "GRU":
                    gx = x @ Wd.T + Wb
                    gh = h @ Rd.T
                    H = hidden
                    z = f[0](cl(gx[:H] + gh[:H] + Rb[:H]))
                    r = f[0](cl(gx[H:2 * H] + gh[H:2 * H] + Rb[H:2 * H]))
                    if attrs.get("linear_before_reset", 0):
                        hh = f[1](cl(gx[2 * H:] + r * (gh[2 * H:] + Rb[2 * H:])))
                    else:
                        hh = f[1](cl(gx[2 * H:] + (r * h) @ Rd[2 * H:].T + Rb[2 * H:]))
                    h = (1 - z) * hh + z * h
                else:
                    h = f[0](cl(x @ Wd.T + h @ Rd.T + Wb + Rb))
                Y[t, d, b] = h
            Yh[d, b] = h if n > 0 else 0
            Yc[d, b] = c if n > 0 else 0
    if layout:
        Y = Y.transpose(2, 0, 1, 3)
        Yh = Yh.transpose(1, 0, 2)
        Yc = Yc.transpose(1, 0, 2)
    return [Y.astype(dt), Yh.astype(dt), Yc.astype(dt)]


def case(name, op, attrs, seq, batch, inp, hidden, inputs, outputs=("Y", "Y_h"),
         lens=None, dtype=np.float32, seed=0):
    """One test: `inputs` names the optional inputs given (B, sequence_lens,
    initial_h, initial_c, P); `outputs` the outputs the node names."""
    rng = np.random.default_rng(seed)
    dirs = 2 if attrs.get("direction") == "bidirectional" else 1
    g = GATES[op]
    layout = attrs.get("layout", 0)
    rnd = lambda *s: rng.uniform(-1, 1, s).astype(dtype)
    vals = {"X": rnd(batch, seq, inp) if layout else rnd(seq, batch, inp),
            "W": rnd(dirs, g * hidden, inp), "R": rnd(dirs, g * hidden, hidden)}
    state = (batch, dirs, hidden) if layout else (dirs, batch, hidden)
    if "B" in inputs:
        vals["B"] = rnd(dirs, 2 * g * hidden)
    if "sequence_lens" in inputs:
        vals["sequence_lens"] = np.array(lens, np.int32)
    if "initial_h" in inputs:
        vals["initial_h"] = rnd(*state)
    if "initial_c" in inputs:
        vals["initial_c"] = rnd(*state)
    if "P" in inputs:
        vals["P"] = rnd(dirs, 3 * hidden)
    order = ["X", "W", "R", "B", "sequence_lens", "initial_h"]
    if op == "LSTM":
        order += ["initial_c", "P"]
    node_inputs = [n if n in vals else "" for n in order]
    while node_inputs and not node_inputs[-1]:
        node_inputs.pop()
    all_outputs = ["Y", "Y_h", "Y_c"][:3 if op == "LSTM" else 2]
    node_outputs = [n if n in outputs else "" for n in all_outputs]
    while node_outputs and not node_outputs[-1]:
        node_outputs.pop()

    ref = reference(op, attrs, vals["X"], vals["W"], vals["R"], vals.get("B"),
                    vals.get("sequence_lens"), vals.get("initial_h"),
                    vals.get("initial_c"), vals.get("P"))
    ref = dict(zip(all_outputs, ref))

    elem = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
    graph_inputs = [n for n in node_inputs if n]
    node = helper.make_node(op, node_inputs, node_outputs, hidden_size=hidden,
                            **attrs)
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info(
            n, TensorProto.INT32 if n == "sequence_lens" else elem, vals[n].shape)
         for n in graph_inputs],
        [helper.make_tensor_value_info(n, elem, ref[n].shape)
         for n in node_outputs if n])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    onnx.checker.check_model(model)
    return model, [vals[n] for n in graph_inputs], [ref[n] for n in node_outputs if n]


CASES = [
    ("test_kiln_lstm_bidirectional", "LSTM", {"direction": "bidirectional"},
     5, 3, 4, 6, ["B", "sequence_lens", "initial_h", "initial_c", "P"],
     ("Y", "Y_h", "Y_c"), [5, 2, 0]),
    ("test_kiln_lstm_reverse", "LSTM", {"direction": "reverse"},
     4, 2, 3, 5, ["B", "initial_h"], ("Y", "Y_c")),
    ("test_kiln_lstm_layout1", "LSTM", {"direction": "bidirectional", "layout": 1},
     4, 3, 2, 3, ["B", "sequence_lens", "initial_h", "initial_c"],
     ("Y", "Y_h", "Y_c"), [1, 4, 3]),
    ("test_kiln_lstm_clip_acts", "LSTM",
     {"clip": 0.7, "input_forget": 1,
      "activations": ["HardSigmoid", "LeakyRelu", "Softsign"],
      "activation_alpha": [0.3, 0.2], "activation_beta": [0.4]},
     3, 2, 3, 4, ["B", "P"], ("Y", "Y_h", "Y_c")),
    ("test_kiln_lstm_f64", "LSTM", {}, 3, 2, 3, 4, ["B", "initial_c"],
     ("Y", "Y_h", "Y_c"), None, np.float64),
    ("test_kiln_gru_linear_before_reset", "GRU",
     {"direction": "bidirectional", "linear_before_reset": 1},
     5, 3, 4, 6, ["B", "sequence_lens", "initial_h"], ("Y", "Y_h"), [2, 5, 0]),
    ("test_kiln_gru_reverse", "GRU",
     {"direction": "reverse", "layout": 1, "clip": 0.5,
      "activations": ["Sigmoid", "Elu"], "activation_alpha": [0.5]},
     4, 2, 3, 5, ["B", "initial_h"], ("Y", "Y_h")),
    ("test_kiln_gru_seq_lens", "GRU", {}, 4, 3, 2, 3,
     ["B", "sequence_lens"], ("Y", "Y_h"), [3, 4, 1]),
    ("test_kiln_rnn_bidirectional", "RNN",
     {"direction": "bidirectional", "activations": ["Relu", "Affine"],
      "activation_alpha": [0.5], "activation_beta": [0.1]},
     4, 3, 3, 5, ["B", "sequence_lens", "initial_h"], ("Y", "Y_h"), [4, 0, 2]),
    ("test_kiln_rnn_activations", "RNN",
     {"direction": "bidirectional", "activations": ["ScaledTanh", "Softplus"],
      "activation_alpha": [1.5], "activation_beta": [0.5]},
     3, 2, 3, 4, ["B"], ("Y", "Y_h")),
    ("test_kiln_rnn_thresholded", "RNN",
     {"direction": "reverse", "activations": ["ThresholdedRelu"],
      "activation_alpha": [0.1]},
     3, 2, 3, 4, ["B", "initial_h"], ("Y_h",)),
    # Hidden sizes whose step products kiln-tile-contractions vectorizes:
    # 3 rows (fewer than its row tile), 8 rows (4-row tiles), and 7 rows,
    # which would need padding and stay plain loops.
    ("test_kiln_lstm_tiled", "LSTM", {"direction": "bidirectional"},
     6, 3, 8, 16, ["B", "sequence_lens", "initial_h", "initial_c", "P"],
     ("Y", "Y_h", "Y_c"), [6, 3, 1]),
    ("test_kiln_gru_tiled", "GRU", {"direction": "reverse"},
     5, 8, 4, 16, ["B", "initial_h"], ("Y", "Y_h")),
    ("test_kiln_rnn_tiled", "RNN", {}, 4, 7, 5, 32, ["B"], ("Y", "Y_h")),
]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = os.path.join(sys.argv[1], "node")
    for c in CASES:
        name = c[0]
        model, ins, outs = case(*c)
        d = os.path.join(root, name)
        ds = os.path.join(d, "test_data_set_0")
        os.makedirs(ds, exist_ok=True)
        onnx.save(model, os.path.join(d, "model.onnx"))
        for i, v in enumerate(ins):
            onnx.save_tensor(numpy_helper.from_array(v), os.path.join(ds, "input_%d.pb" % i))
        for i, v in enumerate(outs):
            onnx.save_tensor(numpy_helper.from_array(v), os.path.join(ds, "output_%d.pb" % i))
    # The list for backend_tests.py --expected: every case must pass.
    with open(os.path.join(sys.argv[1], "expected.txt"), "w") as f:
        f.writelines("node/%s\n" % c[0] for c in CASES)
    print("%d tests in %s" % (len(CASES), root))


if __name__ == "__main__":
    main()
