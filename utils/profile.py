#!/usr/bin/python3
"""Where a Kiln-compiled model spends its time, by ONNX op kind and node.

Runs the model's executable under `perf record` and sums the samples by
symbol. Parallel loop nests are outlined into functions named after their
ONNX node (`main_graph_<node>_par..._dispatch_entry`), so each maps back to
a node of model.onnx, and from it to an op kind; convolutions are split into
pointwise (1x1), depthwise (group == channels), grouped and spatial ones.
Code that stays in the graph function (loops too small to share) is
"(serial, in main_graph)".

  /usr/bin/python3 utils/profile.py MODEL_DIR [--exe EXE] [--threads T] [--runs N] [--top K]
  /usr/bin/python3 utils/profile.py MODEL_DIR --loops [--ort] [--runs N] [--top K]

With --loops, no perf: the runtime times each parallel loop itself
(KILN_PROFILE_LOOPS) at 1 thread and at T threads (default 2), and the table
gives each loop's time at both, its speedup, the time the calling thread
waited for the others at its end, and the time lost to imperfect scaling
(T-thread time minus 1-thread time / T), worst first: where a second thread
does not pay. A second table sums the loops of each node and gives the
GFLOP/s of the nodes that multiply (Conv, ConvTranspose, Gemm, MatMul; 2 x
their multiply-accumulates from ONNX shape inference): which of them run
far from the machine's peak. With --ort as well, ONNX Runtime's own profiler
(utils/bench/ort_bench.js --profile) times its kernels at the same thread
counts, and the node table puts ORT's time for each node next to Kiln's
(ORT's fused nodes are mapped back to the ONNX node they start from: a
Conv+Add+Relu to its Conv): the layers where Kiln loses to ORT.

MODEL_DIR holds model.onnx and test_data_set_0/input_*.pb; without --exe the
model is compiled with build/bin/kiln -O3 --cpu=native. Needs perf (linux-perf) unless
--loops.
"""

import argparse
import collections
import glob
import os
import re
import subprocess
import sys
import tempfile

import onnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "utils", "bench"))
from bench_models import model_facts, to_npy  # noqa: E402

# Ops ONNX Runtime fuses into the node before them (Conv + Add + Relu is
# named after the Relu's output): walked back to the node they start from.
ORT_FUSED = {"Relu", "Add", "Sum", "Clip", "Sigmoid", "Mul", "HardSigmoid", "HardSwish",
             "LeakyRelu", "BatchNormalization", "Tanh"}
TASK_RE = re.compile(r"^main_graph_(.*)_par(?:_\d+)?(?:_dispatch(?:_entry)?)?$")


def symbolize(name):
    """The symbol-safe node name kiln-outline-parallel derives (same rule)."""
    out = ""
    for c in name:
        ok = c.isascii() and c.isalnum()
        if ok or (out and out[-1] != "_"):
            out += c if ok else "_"
    return out.rstrip("_")[:64]


def conv_kind(node, shapes):
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    group = attrs.get("group", 1)
    wshape = shapes.get(node.input[1])
    kernel = attrs.get("kernel_shape") or (wshape[2:] if wshape else None)
    if group > 1:
        cin = wshape[1] * group if wshape else None
        return "Conv depthwise" if wshape and wshape[1] == 1 and cin == group else "Conv grouped"
    if kernel and all(k == 1 for k in kernel):
        return "Conv 1x1"
    return "Conv %s" % "x".join(str(k) for k in kernel) if kernel else "Conv"


def node_kinds(model_path):
    model = onnx.load(model_path, load_external_data=False)
    shapes = {t.name: list(t.dims) for t in model.graph.initializer}
    kinds = {}
    for node in model.graph.node:
        kind = conv_kind(node, shapes) if node.op_type == "Conv" else node.op_type
        kinds[symbolize(node.name)] = kind
    return kinds


def loop_names(exe):
    """Offsets from kiln_parallel_for -> outlined loop (task) names."""
    syms = {}
    base = None
    out = subprocess.run(["nm", exe], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        addr, name = int(parts[0], 16), parts[2]
        if name == "kiln_parallel_for":
            base = addr
        elif name.endswith("_dispatch_entry"):
            syms[addr] = name[:-len("_dispatch_entry")]
    if base is None:
        sys.exit("no kiln_parallel_for in %s (a serial build?)" % exe)
    return {a - base: n for a, n in syms.items()}


def run_loops(exe, inputs, work, threads, runs):
    """{offset: (calls, iterations, total ns, wait ns)} of one run."""
    path = os.path.join(work, "loops-%d.txt" % threads)
    env = dict(os.environ, KILN_PROFILE_LOOPS=path)
    run = subprocess.run([exe] + inputs + ["--output-dir", os.path.join(work, "out"),
                                           "--bench", str(runs), "--threads", str(threads)],
                         capture_output=True, text=True, env=env)
    if run.returncode != 0:
        sys.exit("the model failed: " + run.stderr.strip())
    loops = {}
    for line in open(path):
        if line.startswith("#"):
            continue
        off, calls, n, total, wait = (int(x) for x in line.split())
        loops[off] = (calls, n, total, wait)
    latency = re.search(r"latency_ms median=([0-9.]+)", run.stdout)
    return loops, latency.group(1) if latency else "?"


def ort_node_times(model_path, inputs, threads, runs, work):
    """{symbolized ONNX node name: us per run} from ONNX Runtime's profiler."""
    import json
    npy = to_npy(inputs, os.path.join(work, "npy"))
    prefix = os.path.join(work, "ort-%d" % threads)
    run = subprocess.run(["node", os.path.join(ROOT, "utils", "bench", "ort_bench.js"), model_path]
                         + npy + ["--bench", str(runs), "--threads", str(threads),
                                  "--profile", prefix], capture_output=True, text=True)
    m = re.search(r"^profile=(.*)$", run.stdout, re.M)
    if run.returncode != 0 or not m:
        sys.exit("ONNX Runtime failed: " + (run.stderr.strip() or run.stdout.strip()))
    model = onnx.load(model_path, load_external_data=False)
    by_name = {n.name: n for n in model.graph.node}
    producer = {o: n for n in model.graph.node for o in n.output}

    def origin(ort_name):
        if re.match(r"Reorder(Input|Output)", ort_name):
            return "(ORT) NCHWc layout reorders"
        # A node ORT made by a fusion is named after the node it replaced
        # plus the fusion ("/.../Mul/QuickGeluFusion/": SiLU).
        base = re.sub(r"(/[A-Za-z]+Fusion/?)+$", "", ort_name)
        n = by_name.get(ort_name) or by_name.get(base)
        if n is None:
            n = producer.get(re.sub(r"_nchwc$", "", ort_name))
        seen = 0
        while n is not None and n.op_type in ORT_FUSED and seen < 8:
            ins = [producer[i] for i in n.input if i in producer]
            if not ins:
                break
            n = next((p for p in ins if p.op_type not in ORT_FUSED), ins[0])
            seen += 1
        return symbolize(n.name) if n is not None else "(ORT) " + ort_name

    calls = collections.defaultdict(list)
    for e in json.load(open(m.group(1))):
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            calls[e["name"][:-len("_kernel_time")]].append(e["dur"])
    times = collections.defaultdict(float)
    for name, durs in calls.items():
        durs = sorted(durs[1:] or durs)  # the first call is the warm-up
        times[origin(name)] += durs[len(durs) // 2]
    return times


def report_nodes(rows, t, macs, top, ort=None):
    """Loops summed per node (the outlined name without its _par suffix);
    `ort`: (ORT us per node at 1 thread, at t threads), or None."""
    by_node = collections.defaultdict(lambda: [0.0, 0.0, 0, ""])
    for _, us1, usT, _, _, name, kind in rows:
        m = TASK_RE.match("main_graph_" + name)
        acc = by_node[m.group(1) if m else name]
        acc[0] += us1
        acc[1] += usT
        acc[2] += 1
        acc[3] = kind
    flops = {symbolize(n): 2.0 * v for n, v in macs.items()}
    if ort:
        for node in set(ort[0]) | set(ort[1]):
            if node not in by_node:
                by_node[node] = [0.0, 0.0, 0, "(not a Kiln loop)"]
        print("\nONNX Runtime's kernels, summed per run: %.0f us at 1 thread, %.0f us at %d" %
              (sum(ort[0].values()), sum(ort[1].values()), t))
    extra = " ORT us 1T | ORT us %dT | Kiln/ORT %dT |" % (t, t) if ort else ""
    print("\n| node | kind | loops | us 1T | us %dT | GFLOP | GFLOP/s 1T | GFLOP/s %dT |%s"
          % (t, t, extra))
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |" +
          (" ---: | ---: | ---: |" if ort else ""))
    for node, (us1, usT, n, kind) in sorted(by_node.items(), key=lambda kv: -kv[1][0])[:top]:
        f = flops.get(node)
        rate = lambda us: "%.0f" % (f / us / 1e3) if f and us > 0 else ""  # noqa: E731
        cols = ""
        if ort:
            o1, oT = ort[0].get(node, 0.0), ort[1].get(node, 0.0)
            cols = " %.1f | %.1f | %s |" % (o1, oT, "%.2f" % (usT / oT) if oT > 0 else "")
        print("| %s | %s | %d | %.1f | %.1f | %s | %s | %s |%s" %
              (node, kind, n, us1, usT, "%.3f" % (f / 1e9) if f else "", rate(us1), rate(usT),
               cols))


def report_loops(args, exe, inputs, work, kinds):
    names = loop_names(exe)
    one, lat1 = run_loops(exe, inputs, work, 1, args.runs)
    many, latT = run_loops(exe, inputs, work, args.threads, args.runs)
    t = args.threads
    rows = []
    for off, (calls, n, total1, _) in one.items():
        callsT, _, totalT, waitT = many.get(off, (calls, n, 0, 0))
        us1 = total1 / calls / 1e3
        usT = totalT / max(callsT, 1) / 1e3
        wait = waitT / max(callsT, 1) / 1e3
        name = names.get(off, "?")
        m = TASK_RE.match(name)
        node = m.group(1) if m else name
        rows.append((usT - us1 / t, us1, usT, wait, n, name.replace("main_graph_", ""),
                     kinds.get(node, "?")))
    sum1 = sum(r[1] for r in rows)
    sumT = sum(r[2] for r in rows)
    print("model: %s   latency median: %s ms at 1 thread, %s ms at %d" %
          (args.model_dir, lat1, latT, t))
    print("parallel loops: %d; summed per run: %.0f us at 1 thread, %.0f us at %d "
          "(%.2fx); caller waits %.0f us; lost to imperfect scaling %.0f us" %
          (len(rows), sum1, sumT, t, sum1 / max(sumT, 1e-9), sum(r[3] for r in rows),
           sumT - sum1 / t))
    print("\n| loop | kind | iterations | us 1T | us %dT | speedup | caller wait us | lost us |" % t)
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for lost, us1, usT, wait, n, name, kind in sorted(rows, reverse=True)[:args.top]:
        print("| %s | %s | %d | %.1f | %.1f | %.2f | %.1f | %.1f |" %
              (name, kind, n, us1, usT, us1 / max(usT, 1e-9), wait, lost))
    model = os.path.join(args.model_dir, "model.onnx")
    ort = None
    if args.ort:
        ort = (ort_node_times(model, inputs, 1, args.runs, work),
               ort_node_times(model, inputs, t, args.runs, work))
    report_nodes(rows, t, model_facts(model, inputs)["node_macs"], args.top, ort)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("--exe", help="the compiled executable (default: compile it)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--top", type=int, default=10, help="nodes to list")
    ap.add_argument("--loops", action="store_true",
                    help="time each parallel loop at 1 and --threads threads (default 2)")
    ap.add_argument("--ort", action="store_true",
                    help="with --loops: ONNX Runtime's time per node next to Kiln's "
                         "(needs utils/bench's npm install)")
    args = ap.parse_args()
    if args.ort and not args.loops:
        ap.error("--ort goes with --loops")
    if args.loops and args.threads == 1:
        args.threads = 2

    model = os.path.join(args.model_dir, "model.onnx")
    inputs = sorted(glob.glob(os.path.join(args.model_dir, "test_data_set_0", "input_*.pb")))
    work = tempfile.mkdtemp(prefix="kiln-profile-")
    exe = args.exe
    if not exe:
        exe = os.path.join(work, "model")
        subprocess.run([os.path.join(ROOT, "build", "bin", "kiln"), "compile", model,
                        "-O3", "--cpu=native", "--emit=exe", "-o", exe], check=True)
    if args.loops:
        report_loops(args, exe, inputs, work, node_kinds(model))
        return
    data = os.path.join(work, "perf.data")
    run = subprocess.run(["perf", "record", "-q", "-F", "2999", "-o", data, exe] + inputs +
                         ["--output-dir", os.path.join(work, "out"), "--bench", str(args.runs),
                          "--threads", str(args.threads)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit("perf record failed: " + run.stderr.strip())
    latency = re.search(r"latency_ms median=([0-9.]+)", run.stdout)
    report = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                             "--sort", "symbol", "--percent-limit", "0"],
                            capture_output=True, text=True, check=True).stdout

    kinds = node_kinds(model)
    by_kind = collections.Counter()
    by_node = collections.Counter()
    for line in report.splitlines():
        m = re.match(r"\s*([0-9.]+)%\s+\[\.\]\s+(\S+)", line)
        if not m:
            m = re.match(r"\s*([0-9.]+)%\s+\[k\]\s+(\S+)", line)
            if m:
                by_kind["(kernel)"] += float(m.group(1))
            continue
        pct, sym = float(m.group(1)), m.group(2)
        t = TASK_RE.match(sym)
        if t:
            node = t.group(1)
            kind = kinds.get(node, "?")
            by_node[(node, kind)] += pct
        elif sym.endswith("main_graph"):
            kind = "(serial, in main_graph)"
        elif "memset" in sym or "memcpy" in sym or "memmove" in sym:
            kind = "(libc %s)" % sym.split("_")[2] if sym.startswith("__mem") else sym
        elif sym.startswith("kiln_") or sym in ("run_chunks", "worker"):
            kind = "(runtime: pool, I/O)"
        else:
            kind = "(other: %s)" % sym
        by_kind[kind] += pct

    print("model: %s   threads: %d   latency median: %s ms" %
          (args.model_dir, args.threads, latency.group(1) if latency else "?"))
    print("\n| op kind | % of samples |\n| --- | ---: |")
    for kind, pct in by_kind.most_common():
        print("| %s | %.1f |" % (kind, pct))
    print("\n| node | kind | % |\n| --- | --- | ---: |")
    for (node, kind), pct in by_node.most_common(args.top):
        print("| %s | %s | %.1f |" % (node, kind, pct))


if __name__ == "__main__":
    main()
