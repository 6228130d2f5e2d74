"""The models bench.py measures, and what it knows about them: their input
files, FLOP count and intermediate tensors (from ONNX shape inference), the
default list (ResNet-18 and the zoo, exported when missing) and the
single-MatMul models of the GEMM kernel section."""

import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def rel(path):
    """path relative to the repository root when it is inside it."""
    p = os.path.abspath(path)
    r = os.path.relpath(p, ROOT)
    return p if r.startswith("..") else r


def last_lines(text, n=3):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return " / ".join(lines[-n:])

# ---- model facts -----------------------------------------------------------

def find_inputs(model_dir):
    for d in (os.path.join(model_dir, "test_data_set_0"), model_dir):
        files = glob.glob(os.path.join(d, "input_*.pb"))
        if files:
            def key(f):
                m = re.search(r"input_(\d+)\.pb$", f)
                return int(m.group(1)) if m else 1 << 30
            return sorted(files, key=key)
    return []


def itemsize(elem_type):
    """Bytes per element of an ONNX TensorProto data type (None: unknown)."""
    import numpy as np
    from onnx import helper, mapping
    try:
        if hasattr(helper, "tensor_dtype_to_np_dtype"):  # onnx >= 1.13
            return np.dtype(helper.tensor_dtype_to_np_dtype(elem_type)).itemsize
        return np.dtype(mapping.TENSOR_TYPE_TO_NP_TYPE[elem_type]).itemsize
    except (KeyError, TypeError, ValueError):
        return None


def model_facts(model_path, pb_files):
    """What ONNX shape inference tells about a model, with the graph inputs
    bound to the shapes of the input files: a dict of
      gflop         2 x multiply-accumulates of Conv, ConvTranspose, Gemm and
                    MatMul, in GFLOP (nodes with unknown shapes not counted)
      node_macs     {node name: its multiply-accumulates}, for those nodes
      inter_bytes   the bytes of all intermediate tensors: every output of a
                    node (Constant nodes aside) that is not a graph output
      inter_unknown how many intermediates have no known static shape
      dims          {symbolic input dim: value}, for `kiln compile --dim`
    """
    import onnx
    from onnx import shape_inference
    model = onnx.load(model_path)
    g = model.graph
    inits = {i.name for i in g.initializer}
    dims = {}
    graph_inputs = [vi for vi in g.input if vi.name not in inits]
    for vi, f in zip(graph_inputs, pb_files):
        actual = onnx.load_tensor(f).dims
        shape = vi.type.tensor_type.shape
        for d, v in zip(shape.dim, actual):
            if d.HasField("dim_param"):
                dims[d.dim_param] = v
            d.dim_value = v
    try:
        model = shape_inference.infer_shapes(model)
        g = model.graph
    except Exception as e:  # noqa: BLE001 - report and count what is known
        log("  warning: shape inference failed: %s" % e)
    types = {}  # name -> (dims or None when unknown, elem_type)

    def add(vi):
        t = vi.type.tensor_type
        ds = None
        if t.HasField("shape"):
            ds = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
            if any(d is None for d in ds):
                ds = None
        types[vi.name] = (ds, t.elem_type)
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        add(vi)
    for init in g.initializer:
        types[init.name] = (list(init.dims), init.data_type)

    def shape(name):
        return types.get(name, (None, 0))[0]

    def prod(xs):
        r = 1
        for x in xs:
            r *= x
        return r

    node_macs, unknown = {}, []
    for n in g.node:
        try:
            if n.op_type == "Conv":
                w, y = shape(n.input[1]), shape(n.output[0])
                node_macs[n.name or n.output[0]] = prod(y) * prod(w[1:])
            elif n.op_type == "ConvTranspose":
                x, w = shape(n.input[0]), shape(n.input[1])
                node_macs[n.name or n.output[0]] = prod(x) * prod(w[1:])
            elif n.op_type == "Gemm":
                a, y = shape(n.input[0]), shape(n.output[0])
                trans_a = any(at.name == "transA" and at.i for at in n.attribute)
                k = a[0] if trans_a else a[1]
                node_macs[n.name or n.output[0]] = prod(y) * k
            elif n.op_type in ("MatMul", "MatMulInteger", "QLinearMatMul"):
                a_name = n.input[0]
                a, y = shape(a_name), shape(n.output[0])
                node_macs[n.name or n.output[0]] = prod(y) * a[-1]
        except (TypeError, IndexError):
            unknown.append(n.name or n.op_type)
    if unknown:
        log("  warning: unknown shapes for %d node(s), not counted: %s"
            % (len(unknown), ", ".join(unknown[:5])))

    outputs = {o.name for o in g.output}
    inter, inter_unknown = 0, 0
    for n in g.node:
        if n.op_type == "Constant":
            continue
        for name in n.output:
            if not name or name in outputs:
                continue
            ds, elem = types.get(name, (None, 0))
            size = itemsize(elem)
            if ds is None or size is None:
                inter_unknown += 1
            else:
                inter += prod(ds) * size
    if inter_unknown:
        log("  warning: %d intermediate tensor(s) of unknown size, not counted" % inter_unknown)
    return {"gflop": 2.0 * sum(node_macs.values()) / 1e9, "node_macs": node_macs,
            "inter_bytes": inter,
            "inter_unknown": inter_unknown, "dims": dims}


def to_npy(pb_files, out_dir):
    import numpy as np
    import onnx
    from onnx import numpy_helper
    os.makedirs(out_dir, exist_ok=True)
    out = []
    for k, f in enumerate(pb_files):
        a = numpy_helper.to_array(onnx.load_tensor(f))
        p = os.path.join(out_dir, "input_%d.npy" % k)
        np.save(p, np.ascontiguousarray(a))
        out.append(p)
    return out


def max_abs_diff(dir_a, dir_b):
    """(max |a - b|, max |b|) over all outputs, or (None, None)."""
    import numpy as np
    fa = sorted(glob.glob(os.path.join(dir_a, "output_*.npy")))
    fb = sorted(glob.glob(os.path.join(dir_b, "output_*.npy")))
    if not fa or len(fa) != len(fb):
        return None, None
    worst, mag = 0.0, 0.0
    for a, b in zip(fa, fb):
        x, y = np.load(a), np.load(b)
        if x.shape != y.shape:
            return float("inf"), None
        if x.size:
            x, y = x.astype(np.float64), y.astype(np.float64)
            d = np.abs(x - y)
            worst = max(worst, float("nan") if np.isnan(d).any() else float(d.max()))
            mag = max(mag, float(np.nanmax(np.abs(y))) if not np.isnan(y).all() else 0.0)
    return worst, mag

# ---- the default models ----------------------------------------------------

# The models of test/e2e/zoo.sh (torchvision CNNs and utils/export_zoo.py's
# models, at opset ZOO_OPSET, in its folders) and resnet18.sh's ResNet-18.
TORCHVISION_ZOO = ["resnet50", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_1",
                   "efficientnet_b0", "shufflenet_v2_x1_0"]
TORCH_ZOO = ["bert", "gpt", "unet", "lstm", "gru"]
ZOO_OPSET = 17


def default_models():
    """(folder, export command or None) of each default model."""
    py = "/usr/bin/python3"
    utils = os.path.join(ROOT, "utils")
    zoo = os.path.join(ROOT, "build", "e2e", "zoo")
    r18 = os.path.join(ROOT, "build", "e2e", "resnet18")
    models = [(r18, [py, os.path.join(utils, "export_resnet18.py"), "--model", "resnet18",
                     "--opset", "13", r18])]
    for m in TORCHVISION_ZOO:
        d = os.path.join(zoo, "%s_op%d" % (m, ZOO_OPSET))
        models.append((d, [py, os.path.join(utils, "export_resnet18.py"), "--model", m,
                           "--opset", str(ZOO_OPSET), d]))
    for m in TORCH_ZOO:
        models.append((os.path.join(zoo, "%s_op%d" % (m, ZOO_OPSET)),
                       [py, os.path.join(utils, "export_zoo.py"), "--models", m,
                        "--opsets", str(ZOO_OPSET), zoo]))
    models.append((os.path.join(ROOT, "examples", "tinynet"), None))
    return models


def export_missing(models):
    """Runs the export command of each model whose folder lacks a reference
    output (a failed export shows up later as that model's error)."""
    for d, cmd in models:
        if cmd and not os.path.isfile(os.path.join(d, "test_data_set_0", "output_0.pb")):
            log("exporting %s" % rel(d))
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True)
            if p.returncode != 0:
                log("  export failed: %s" % last_lines(p.stdout, 1))


# ---- GEMM kernels ----------------------------------------------------------

# (M, K, N, what): Y[M, N] = W[M, K] x X[K, N] with W a weight, as the GEMM
# of a convolution (W: the filters, X: the im2col matrix of one image).
GEMM_SHAPES = [
    (512, 512, 512, "square"),
    (1024, 1024, 1024, "square"),
    (64, 576, 3136, "ResNet conv2_x 3x3"),
    (128, 1152, 784, "ResNet conv3_x 3x3"),
    (256, 2304, 196, "ResNet conv4_x 3x3"),
    (512, 4608, 49, "ResNet conv5_x 3x3"),
]


def gemm_model(root, m, k, n):
    """Writes a one-MatMul model (W initializer, X input) with a seeded input
    under root; returns its folder."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    d = os.path.join(root, "gemm_%dx%dx%d" % (m, k, n))
    if os.path.isfile(os.path.join(d, "test_data_set_0", "input_0.pb")):
        return d
    rng = np.random.RandomState(0)
    w = numpy_helper.from_array(rng.standard_normal((m, k)).astype(np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["W", "X"], ["Y"])], "gemm",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [k, n])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [m, n])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    onnx.save(model, os.path.join(d, "model.onnx"))
    x = numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32), "X")
    with open(os.path.join(d, "test_data_set_0", "input_0.pb"), "wb") as f:
        f.write(x.SerializeToString())
    return d
