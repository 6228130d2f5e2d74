#!/usr/bin/python3
"""Writes the hostile-model corpus: models a user may download that are
broken or built to hurt a naive compiler, each with the error Kiln must give.

    /usr/bin/python3 utils/hostile_models.py OUT_DIR

writes OUT_DIR/<name>.onnx (and any side files) and OUT_DIR/manifest.tsv,
one line per case:

    name <TAB> expect <TAB> regex

`expect` is `error` (kiln compile must fail with one line matching the
regex, an exit status from 1 to 123 and no output left) or `ok` (a legal
but unusual model that must compile). test/e2e/bad_input.sh runs them.
Needs onnx and numpy (python3-onnx, python3-numpy).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1] if len(sys.argv) > 1 else "hostile"
CASES = []


def case(name, expect, regex):
    def register(fn):
        CASES.append((name, expect, regex, fn))
        return fn
    return register


def vi(name, elem=TensorProto.FLOAT, shape=(2, 3)):
    return helper.make_tensor_value_info(name, elem, list(shape))


def model(nodes, inputs, outputs, inits=(), opset=17, ir=8, domains=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v)
                                               for d, v in domains]
    m = helper.make_model(g, opset_imports=ops)
    m.ir_version = ir
    return m


def relu_model(**kw):
    return model([helper.make_node("Relu", ["x"], ["y"], name="r")],
                 [vi("x")], [vi("y")], **kw)


def save(path, m):
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


# --- bytes that are not a model ----------------------------------------------

@case("empty_file", "error", "empty|not an ONNX|parse")
def _(path):
    open(path, "wb").close()


@case("random_bytes", "error", "not an ONNX|parse|malformed")
def _(path):
    rng = np.random.default_rng(7)
    with open(path, "wb") as f:
        f.write(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())


@case("truncated_protobuf", "error", "not an ONNX|parse|truncated|malformed")
def _(path):
    data = relu_model().SerializeToString()
    with open(path, "wb") as f:
        f.write(data[: len(data) * 2 // 3])


@case("text_model", "error", "not an ONNX|parse|malformed")
def _(path):
    with open(path, "w") as f:
        f.write(str(relu_model()))


@case("no_graph", "error", "no graph")
def _(path):
    m = onnx.ModelProto()
    m.ir_version = 8
    m.opset_import.add().version = 17
    save(path, m)


@case("nested_too_deep", "error", "not an ONNX|parse|deep|nest")
def _(path):
    # 1,000 Ifs each holding the next in its then_branch: protobuf nesting
    # far past any sane parser's recursion limit.
    leaf = helper.make_graph([helper.make_node("Identity", ["c"], ["o"])], "leaf",
                             [], [vi("o", TensorProto.BOOL, ())])
    inner = leaf
    for i in range(1000):
        node = helper.make_node("If", ["c"], ["o"], then_branch=inner,
                                else_branch=leaf)
        inner = helper.make_graph([node], "g%d" % i, [], [vi("o", TensorProto.BOOL, ())])
    g = helper.make_graph(inner.node, "g", [vi("c", TensorProto.BOOL, ())],
                          [vi("o", TensorProto.BOOL, ())])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    save(path, m)


# --- versions and domains ----------------------------------------------------

@case("opset_from_the_future", "error", "opset 99")
def _(path):
    save(path, relu_model(opset=99))


@case("op_before_its_opset", "error", "LayerNormalization.*opset 13|opset 13.*LayerNormalization")
def _(path):
    n = helper.make_node("LayerNormalization", ["x", "s"], ["y"], name="ln")
    save(path, model([n], [vi("x"), vi("s", shape=(3,))], [vi("y")], opset=13))


@case("unknown_domain", "error", "com\\.example")
def _(path):
    n = helper.make_node("Frobnicate", ["x"], ["y"], name="frob", domain="com.example")
    save(path, model([n], [vi("x")], [vi("y")], domains=[("com.example", 1)]))


@case("ir_version_zero", "error", "ir_version")
def _(path):
    save(path, relu_model(ir=0))


@case("ir_version_missing", "error", "ir_version")
def _(path):
    m = relu_model()
    m.ClearField("ir_version")
    save(path, m)


@case("ir_version_from_the_future", "error", "ir_version")
def _(path):
    save(path, relu_model(ir=1000))


@case("empty_op_type", "error", "op type|op_type")
def _(path):
    n = helper.make_node("", ["x"], ["y"], name="nameless")
    save(path, model([n], [vi("x")], [vi("y")]))


# --- graph structure ---------------------------------------------------------

@case("input_nobody_produces", "error", "ghost")
def _(path):
    n = helper.make_node("Add", ["x", "ghost"], ["y"], name="add")
    save(path, model([n], [vi("x")], [vi("y")]))


@case("cycle", "error", "cycle|not produced|before")
def _(path):
    a = helper.make_node("Add", ["x", "b"], ["a"], name="first")
    b = helper.make_node("Relu", ["a"], ["b"], name="second")
    save(path, model([a, b], [vi("x")], [vi("b")]))


@case("duplicate_node_output", "error", "'t'.*(twice|more than once|already)")
def _(path):
    a = helper.make_node("Relu", ["x"], ["t"], name="one")
    b = helper.make_node("Neg", ["x"], ["t"], name="two")
    c = helper.make_node("Identity", ["t"], ["y"], name="three")
    save(path, model([a, b, c], [vi("x")], [vi("y")]))


@case("duplicate_graph_output", "error", "'y'.*(twice|more than once|already)")
def _(path):
    n = helper.make_node("Relu", ["x"], ["y"], name="r")
    save(path, model([n], [vi("x")], [vi("y"), vi("y")]))


@case("duplicate_graph_input", "error", "'x'.*(twice|more than once|already)")
def _(path):
    n = helper.make_node("Relu", ["x"], ["y"], name="r")
    save(path, model([n], [vi("x"), vi("x")], [vi("y")]))


@case("output_nobody_produces", "error", "'nowhere'")
def _(path):
    n = helper.make_node("Relu", ["x"], ["y"], name="r")
    save(path, model([n], [vi("x")], [vi("nowhere")]))


# --- types and shapes --------------------------------------------------------

@case("undefined_element_type", "error", "element type|UNDEFINED")
def _(path):
    n = helper.make_node("Relu", ["x"], ["y"], name="r")
    save(path, model([n], [vi("x", TensorProto.UNDEFINED)], [vi("y")]))


@case("unknown_element_type_code", "error", "element type|data type")
def _(path):
    w = helper.make_tensor("w", TensorProto.FLOAT, [2, 3], np.ones(6, np.float32))
    w.data_type = 99
    n = helper.make_node("Add", ["x", "w"], ["y"], name="add")
    save(path, model([n], [vi("x")], [vi("y")], inits=[w]))


@case("initializer_too_short", "error", "'w'.*(bytes|elements|size)")
def _(path):
    w = onnx.TensorProto()
    w.name, w.data_type = "w", TensorProto.FLOAT
    w.dims.extend([2, 3])
    w.raw_data = np.ones(5, np.float32).tobytes()
    n = helper.make_node("Add", ["x", "w"], ["y"], name="add")
    save(path, model([n], [vi("x")], [vi("y")], inits=[w]))


@case("initializer_too_few_floats", "error", "'w'.*(bytes|elements|values|size)")
def _(path):
    w = onnx.TensorProto()
    w.name, w.data_type = "w", TensorProto.FLOAT
    w.dims.extend([2, 3])
    w.float_data.extend([1.0, 2.0])
    n = helper.make_node("Add", ["x", "w"], ["y"], name="add")
    save(path, model([n], [vi("x")], [vi("y")], inits=[w]))


@case("negative_dim", "error", "negative|-5")
def _(path):
    n = helper.make_node("Relu", ["x"], ["y"], name="r")
    save(path, model([n], [vi("x", shape=(2, -5))], [vi("y", shape=(2, -5))]))


@case("element_count_overflow", "error", "overflow|too large|exceeds")
def _(path):
    s = (1 << 40, 1 << 40)
    n = helper.make_node("Relu", ["x"], ["y"], name="r")
    save(path, model([n], [vi("x", shape=s)], [vi("y", shape=s)]))


@case("byte_size_overflow", "error", "overflow|too large|exceeds")
def _(path):
    s = (1 << 31, 1 << 31)  # 2^62 floats: 2^64 bytes
    n = helper.make_node("Relu", ["x"], ["y"], name="r")
    save(path, model([n], [vi("x", shape=s)], [vi("y", shape=s)]))


@case("arena_over_limit", "error", "arena|max-arena|too large|exceeds")
def _(path):
    # 16 GiB of intermediates from a tiny input: Expand to a constant shape.
    shape = numpy_helper.from_array(np.array([65536, 65536], np.int64), "shape")
    e = helper.make_node("Expand", ["x", "shape"], ["big"], name="expand")
    r = helper.make_node("ReduceSum", ["big"], ["y"], name="sum", keepdims=0)
    save(path, model([e, r], [vi("x", shape=(1, 1))], [vi("y", shape=())],
                     inits=[shape], opset=11))


@case("string_arithmetic", "error", "STRING|string")
def _(path):
    n = helper.make_node("Add", ["x", "x"], ["y"], name="add_strings")
    save(path, model([n], [vi("x", TensorProto.STRING)], [vi("y", TensorProto.STRING)]))


# --- attributes --------------------------------------------------------------

@case("attribute_wrong_type", "error", "'conv'.*strides|strides.*'conv'")
def _(path):
    w = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    n = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", strides=1.5)
    save(path, model([n], [vi("x", shape=(1, 3, 8, 8))], [vi("y", shape=(1, 4, 6, 6))],
                     inits=[w]))


@case("missing_required_attribute", "error", "'cast'.*'to'|'to'.*'cast'|Cast.*to")
def _(path):
    n = helper.make_node("Cast", ["x"], ["y"], name="cast")
    save(path, model([n], [vi("x")], [vi("y")]))


@case("cast_to_undefined_type", "error", "cast.*(type|to)")
def _(path):
    n = helper.make_node("Cast", ["x"], ["y"], name="cast", to=0)
    save(path, model([n], [vi("x")], [vi("y")]))


# --- shapes that cannot work -------------------------------------------------

@case("reshape_impossible", "error", "'reshape'.*(7|elements)")
def _(path):
    shape = numpy_helper.from_array(np.array([7], np.int64), "shape")
    n = helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape")
    save(path, model([n], [vi("x")], [vi("y", shape=(7,))], inits=[shape]))


@case("matmul_mismatch", "error", "'mm'.*(dimension|3.*4)")
def _(path):
    n = helper.make_node("MatMul", ["a", "b"], ["y"], name="mm")
    save(path, model([n], [vi("a", shape=(2, 3)), vi("b", shape=(4, 5))],
                     [vi("y", shape=(2, 5))]))


@case("gemm_mismatch", "error", "'gemm'")
def _(path):
    n = helper.make_node("Gemm", ["a", "b"], ["y"], name="gemm")
    save(path, model([n], [vi("a", shape=(2, 3)), vi("b", shape=(4, 5))],
                     [vi("y", shape=(2, 5))]))


@case("conv_channel_mismatch", "error", "'conv'.*channel|channel.*'conv'")
def _(path):
    w = numpy_helper.from_array(np.ones((4, 5, 3, 3), np.float32), "w")
    n = helper.make_node("Conv", ["x", "w"], ["y"], name="conv")
    save(path, model([n], [vi("x", shape=(1, 3, 8, 8))], [vi("y", shape=(1, 4, 6, 6))],
                     inits=[w]))


@case("conv_group_not_dividing", "error", "'conv'.*group|group.*'conv'")
def _(path):
    w = numpy_helper.from_array(np.ones((4, 1, 3, 3), np.float32), "w")
    n = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", group=2)
    save(path, model([n], [vi("x", shape=(1, 3, 8, 8))], [vi("y", shape=(1, 4, 6, 6))],
                     inits=[w]))


@case("concat_rank_mismatch", "error", "'concat'")
def _(path):
    n = helper.make_node("Concat", ["a", "b"], ["y"], name="concat", axis=0)
    save(path, model([n], [vi("a", shape=(2, 3)), vi("b", shape=(2, 3, 1))],
                     [vi("y", shape=(4, 3))]))


@case("transpose_bad_perm", "error", "'transpose'.*perm|perm.*'transpose'")
def _(path):
    n = helper.make_node("Transpose", ["x"], ["y"], name="transpose", perm=[0, 0])
    save(path, model([n], [vi("x")], [vi("y")]))


@case("split_sizes_wrong", "error", "'split'")
def _(path):
    sizes = numpy_helper.from_array(np.array([1, 1], np.int64), "sizes")
    n = helper.make_node("Split", ["x", "sizes"], ["a", "b"], name="split", axis=1)
    save(path, model([n], [vi("x")], [vi("a", shape=(2, 1)), vi("b", shape=(2, 1))],
                     inits=[sizes]))


@case("gather_index_out_of_range", "error", "'gather'.*(range|index)")
def _(path):
    idx = numpy_helper.from_array(np.array([0, 5], np.int64), "idx")
    n = helper.make_node("Gather", ["x", "idx"], ["y"], name="gather", axis=0)
    save(path, model([n], [vi("x")], [vi("y", shape=(2, 3))], inits=[idx]))


@case("gather_elements_index_out_of_range", "error", "'gather_elements'.*(range|index)")
def _(path):
    idx = numpy_helper.from_array(np.array([[0, 1, 9], [1, 0, 0]], np.int64), "idx")
    n = helper.make_node("GatherElements", ["x", "idx"], ["y"], name="gather_elements",
                         axis=1)
    save(path, model([n], [vi("x")], [vi("y")], inits=[idx]))


@case("scatter_nd_index_out_of_range", "error", "'scatter_nd'.*(range|index)")
def _(path):
    idx = numpy_helper.from_array(np.array([[0], [4]], np.int64), "idx")
    upd = numpy_helper.from_array(np.ones((2, 3), np.float32), "upd")
    n = helper.make_node("ScatterND", ["x", "idx", "upd"], ["y"], name="scatter_nd")
    save(path, model([n], [vi("x")], [vi("y")], inits=[idx, upd]))


# --- external data -----------------------------------------------------------

def external_model(path, location, offset=None, length=None):
    w = onnx.TensorProto()
    w.name, w.data_type = "w", TensorProto.FLOAT
    w.dims.extend([2, 3])
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = w.external_data.add()
            e.key, e.value = k, str(v)
    n = helper.make_node("Add", ["x", "w"], ["y"], name="add")
    save(path, model([n], [vi("x")], [vi("y")], inits=[w]))


def write_weights(path, n=6):
    with open(path, "wb") as f:
        f.write(np.ones(n, np.float32).tobytes())


@case("external_dotdot", "error", "\\.\\.|outside|escapes")
def _(path):
    external_model(path, "../weights.bin")


@case("external_absolute", "error", "absolute|outside|escapes")
def _(path):
    external_model(path, "/etc/passwd")


@case("external_symlink_escape", "error", "symlink|outside|escapes")
def _(path):
    folder = os.path.dirname(path)
    outside = os.path.join(os.path.dirname(folder), "hostile_outside.bin")
    write_weights(outside)
    link = os.path.join(folder, "escape.bin")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(outside, link)
    external_model(path, "escape.bin")


@case("external_missing_file", "error", "missing\\.bin")
def _(path):
    external_model(path, "missing.bin")


@case("external_past_end", "error", "outside|past|beyond")
def _(path):
    write_weights(os.path.join(os.path.dirname(path), "short.bin"), 6)
    external_model(path, "short.bin", offset=16, length=24)


# --- control flow ------------------------------------------------------------

@case("if_without_else", "error", "else_branch")
def _(path):
    then = helper.make_graph([helper.make_node("Identity", ["x"], ["o"])], "then",
                             [], [vi("o")])
    n = helper.make_node("If", ["c"], ["y"], name="the_if", then_branch=then)
    save(path, model([n], [vi("c", TensorProto.BOOL, ()), vi("x")], [vi("y")]))


@case("loop_body_mistyped", "error", "body|subgraph")
def _(path):
    body = helper.make_graph([helper.make_node("Identity", ["c"], ["co"])], "body",
                             [vi("c", TensorProto.BOOL, ())],
                             [vi("co", TensorProto.BOOL, ())])
    n = helper.make_node("Loop", ["m", "c0"], [], name="loop", body=body)
    save(path, model([n, helper.make_node("Relu", ["x"], ["y"])],
                     [vi("m", TensorProto.INT64, ()), vi("c0", TensorProto.BOOL, ()),
                      vi("x")], [vi("y")]))


# --- legal but unusual: these compile ----------------------------------------

@case("chain_of_10000", "ok", "")
def _(path):
    nodes, prev = [], "x"
    for i in range(10000):
        nodes.append(helper.make_node("Relu" if i % 2 else "Neg", [prev], ["t%d" % i]))
        prev = "t%d" % i
    nodes.append(helper.make_node("Identity", [prev], ["y"]))
    save(path, model(nodes, [vi("x")], [vi("y")]))


@case("zero_size_tensors", "ok", "")
def _(path):
    n = helper.make_node("Relu", ["x"], ["y"], name="r")
    save(path, model([n], [vi("x", shape=(0, 3))], [vi("y", shape=(0, 3))]))


@case("no_outputs", "ok", "")
def _(path):
    n = helper.make_node("Relu", ["x"], ["y"], name="r")
    save(path, model([n], [vi("x")], []))


@case("very_long_names", "ok", "")
def _(path):
    a, b = "x" * 20000, "y" * 20000
    n = helper.make_node("Relu", [a], [b], name="n" * 20000)
    save(path, model([n], [vi(a)], [vi(b)]))


@case("non_ascii_names", "ok", "")
def _(path):
    n = helper.make_node("Relu", ["entrée"], ["выход"], name="узел_ノード")
    save(path, model([n], [vi("entrée")], [vi("выход")]))


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "manifest.tsv"), "w") as manifest:
        for name, expect, regex, fn in CASES:
            fn(os.path.join(OUT, name + ".onnx"))
            manifest.write("%s\t%s\t%s\n" % (name, expect, regex))
    print("wrote %d models to %s" % (len(CASES), OUT))


if __name__ == "__main__":
    main()
