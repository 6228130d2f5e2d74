#!/usr/bin/python3
"""Writes docs/supported-ops.md from the dialect and the expectations.

Every op of the onnx dialect (dialects/onnx/*.td) gets a row with its summary
line, and, from the ONNX backend tests Kiln passes (test/e2e/backend_expected.txt,
read from Debian's libonnx-testdata), the opset versions and element types
those tests exercise it at. With --check, compares instead of writing and
exits 1 when the file is stale (a ctest test runs that).

  /usr/bin/python3 utils/supported_ops.py [--check] [--data DIR]
"""
import argparse
import collections
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "supported-ops.md")
EXPECTED = os.path.join(ROOT, "test", "e2e", "backend_expected.txt")
DEFAULT_DATA = "/usr/share/libonnx-testdata/data"

# Dialect ops that are not ONNX operators of their own name.
NOT_OPERATORS = {"NoValue"}
# ONNX operator names the dialect spells differently.
ONNX_NAME = {"ShapeOf": "Shape"}


def dialect_ops():
    """{ONNX operator: (td file, summary)} from the dialect's .td files."""
    ops = {}
    classes = {}  # base class: (parameter names, summary template)
    for td in sorted(glob.glob(os.path.join(ROOT, "dialects", "onnx", "*.td"))):
        text = open(td).read()
        for chunk in re.split(r"\n(?=def |class )", text):
            m = re.match(r"class (Onnx_\w+)<([^>]*)>", chunk)
            if m:
                params = [p.split()[-1].split("=")[0].strip()
                          for p in m.group(2).split(",")]
                s = re.search(r"let summary = (.*?);", chunk, re.S)
                classes[m.group(1)] = (params, s.group(1).strip() if s else "")
                continue
            m = re.match(r'def Onnx_(\w+)Op : (Onnx_\w+)<((?:"[^"]*"|[^>"])*)>', chunk)
            if not m:
                continue
            args = re.findall(r'"([^"]*)"', m.group(3))
            mnemonic, base = args[0], m.group(2)
            if mnemonic in NOT_OPERATORS:
                continue
            s = re.search(r'let summary = "(.*?)";', chunk, re.S)
            if s:
                summary = s.group(1)
            else:
                params, template = classes.get(base, ([], ""))
                values = dict(zip(params, args))
                parts = re.findall(r'"([^"]*)"|(\w+)', template)
                summary = "".join(p[0] if not p[1] else values.get(p[1], "")
                                  for p in parts)
            ops[ONNX_NAME.get(mnemonic, mnemonic)] = (os.path.basename(td), summary)
    return ops


TYPE_NAMES = {1: "f32", 2: "u8", 3: "i8", 4: "u16", 5: "i16", 6: "i32", 7: "i64",
              9: "bool", 10: "f16", 11: "f64", 12: "u32", 13: "u64", 16: "bf16"}


def exercised(data_dir, tests):
    """{op: (opsets, element types)} over the nodes of the passing tests."""
    import onnx
    from onnx import shape_inference
    seen = collections.defaultdict(lambda: (set(), set()))
    for test in tests:
        path = os.path.join(data_dir, test, "model.onnx")
        if not os.path.isfile(path):
            continue
        model = onnx.load(path)
        try:
            model = shape_inference.infer_shapes(model)
        except Exception:
            pass
        opsets = {o.domain: o.version for o in model.opset_import}
        types = {}
        g = model.graph
        for v in list(g.input) + list(g.value_info) + list(g.output):
            if v.type.HasField("tensor_type"):
                types[v.name] = v.type.tensor_type.elem_type
        for t in g.initializer:
            types[t.name] = t.data_type
        for node in g.node:
            if node.domain not in ("", "ai.onnx"):
                continue
            versions, elems = seen[node.op_type]
            versions.add(opsets.get(node.domain, opsets.get("", 0)))
            first = next((i for i in node.input if i), None)
            if first in types and types[first] in TYPE_NAMES:
                elems.add(TYPE_NAMES[types[first]])
            elif node.op_type == "Constant":
                for a in node.attribute:
                    if a.name == "value" and a.t.data_type in TYPE_NAMES:
                        elems.add(TYPE_NAMES[a.t.data_type])
    return seen


def read_tests(path):
    with open(path) as f:
        return [l.split("#")[0].strip() for l in f if l.split("#")[0].strip()]


def ranges(versions):
    """[7, 8, 9, 13] -> '7-9, 13'."""
    out, run = [], []
    for v in sorted(versions):
        if run and v == run[-1] + 1:
            run.append(v)
            continue
        if run:
            out.append(str(run[0]) if len(run) == 1 else "%d-%d" % (run[0], run[-1]))
        run = [v]
    if run:
        out.append(str(run[0]) if len(run) == 1 else "%d-%d" % (run[0], run[-1]))
    return ", ".join(out)


def render(data_dir):
    ops = dialect_ops()
    ops["Constant"] = ops.get("Constant", ("OnnxOps.td", "a constant tensor"))
    tests = read_tests(EXPECTED)
    seen = exercised(data_dir, tests)
    lines = [
        "# Supported operators",
        "",
        "<!-- Generated by utils/supported_ops.py from dialects/onnx/*.td and",
        "     test/e2e/backend_expected.txt; ctest's supported_ops_doc fails when",
        "     this file is stale. Do not edit by hand. -->",
        "",
        "Kiln lowers %d ONNX operators (default domain). The opsets and element"
        % len(ops),
        "types are those at which the ONNX backend tests Kiln passes (%d of"
        % len(tests),
        "Debian's libonnx-testdata) exercise each operator. Every element type",
        "but string imports; float16 and bfloat16 compute in float32. An",
        "operator without backend tests is checked by Kiln's own lit tests.",
        "",
        "| operator | summary | opsets tested | element types tested | defined in |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in sorted(ops, key=str.lower):
        td, summary = ops[name]
        versions, elems = seen.get(name, (set(), set()))
        lines.append("| %s | %s | %s | %s | %s |" % (
            name, summary.replace("|", "\\|"), ranges(versions) or "-",
            ", ".join(sorted(elems)) or "-", td))
    untested = [n for n in ops if n not in seen]
    lines += ["", "Operators no passing backend test uses: %d (%s)." % (
        len(untested), ", ".join(sorted(untested)) or "none"), ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="compare with docs/supported-ops.md instead of writing it")
    ap.add_argument("--data", default=DEFAULT_DATA)
    args = ap.parse_args()
    text = render(args.data)
    if args.check:
        old = open(DOC).read() if os.path.isfile(DOC) else ""
        if old != text:
            print("docs/supported-ops.md is stale: run /usr/bin/python3 "
                  "utils/supported_ops.py and commit the result")
            return 1
        print("docs/supported-ops.md is up to date")
        return 0
    with open(DOC, "w") as f:
        f.write(text)
    print("wrote %s" % DOC)
    return 0


if __name__ == "__main__":
    sys.exit(main())
