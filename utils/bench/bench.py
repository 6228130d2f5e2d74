#!/usr/bin/python3
"""Side-by-side CPU latency of Kiln-compiled executables and ONNX Runtime.

For each model folder (model.onnx plus test_data_set_0/input_*.pb, or
input_*.pb next to model.onnx):

  1. compiles it: kiln compile model.onnx -O3 --emit=exe -o WORK/NAME/model --time
     (wall time recorded), and reads the arena size from `model --info`;
  2. converts the inputs to .npy and, for each thread count T, alternates
     `model INPUTS --bench N --threads T` and `node ort_bench.js` (ONNX Runtime
     CPU EP, graph optimization 'all', intra-op threads T, inter-op 1,
     sequential) R times, keeping each side's best median;
  3. compares the two outputs (max abs diff) and counts GFLOP (2 x MACs of
     Conv, ConvTranspose, Gemm and MatMul, from onnx shape inference).

Prints a markdown table and, with --write FILE, writes it with the machine
description and the exact command to FILE (docs/performance.md).

Every measurement also records the CPU time other processes used while it ran
("bg", in cores, from /proc/stat minus this benchmark's own CPU time). One
above --max-bg is repeated (up to --retries times), and before each one the
script waits (up to --wait-quiet seconds) for the machine to be quiet; the
value for the measurements a row shows (the larger of Kiln's and ORT's) is
in the table's "bg" column.

--from-json FILE re-renders a report saved with --json (and --write writes
it) without measuring again; the report keeps the original command and date.
--write keeps whatever follows the "bench.py --write ... keeps everything
below it" marker line of the existing file (hand-written notes).

Run with /usr/bin/python3 (needs onnx and numpy) from anywhere; set up ONNX
Runtime once with:  cd utils/bench && npm install --ignore-scripts

  /usr/bin/python3 utils/bench/bench.py
  /usr/bin/python3 utils/bench/bench.py build/bench/models/mobilenet_v2 --threads 1
  /usr/bin/python3 utils/bench/bench.py --write docs/performance.md
"""

import argparse
import datetime
import glob
import json
import math
import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LAT_RE = re.compile(r"latency_ms median=([0-9.eE+-]+) min=([0-9.eE+-]+) runs=([0-9]+)")
TINY_GFLOP = 0.01  # below this, per-call overhead dominates a model's latency
DEFAULT_MODELS = ["build/e2e/resnet18", "examples/tinynet"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def rel(path):
    """path relative to the repository root when it is inside it."""
    p = os.path.abspath(path)
    r = os.path.relpath(p, ROOT)
    return p if r.startswith("..") else r


# ---- system load -----------------------------------------------------------

def cpu_busy_s():
    """Busy CPU seconds of the whole machine so far (all cores)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    v = [int(x) for x in fields]
    # user nice system idle iowait irq softirq steal [guest guest_nice]
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)
    return busy / os.sysconf("SC_CLK_TCK")


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def loadavg():
    with open("/proc/loadavg") as f:
        return tuple(float(x) for x in f.read().split()[:3])


def background_cores(seconds):
    """CPU, in cores, that other processes use over the next `seconds`."""
    b0, c0, t0 = cpu_busy_s(), children_cpu_s(), time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - t0
    return max(0.0, ((cpu_busy_s() - b0) - (children_cpu_s() - c0)) / wall)


def wait_quiet(args):
    """Waits, up to --wait-quiet seconds, until other processes use at most
    --max-bg cores (sampled over 1 s)."""
    if args.wait_quiet <= 0:
        return
    deadline = time.monotonic() + args.wait_quiet
    bg = background_cores(1.0)
    if bg <= args.max_bg:
        return
    log("    waiting for the machine to quieten (other processes use %.2f cores)" % bg)
    while time.monotonic() < deadline:
        bg = background_cores(1.0)
        if bg <= args.max_bg:
            return
    log("    still %.2f cores busy after %g s; measuring anyway" % (bg, args.wait_quiet))


def run_measured(cmd, timeout):
    """Runs cmd; returns (CompletedProcess, wall_s, bg_cores) where bg_cores is
    the CPU other processes used meanwhile, in cores."""
    b0, c0, t0 = cpu_busy_s(), children_cpu_s(), time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=timeout)
    wall = time.monotonic() - t0
    b1, c1 = cpu_busy_s(), children_cpu_s()
    bg = max(0.0, ((b1 - b0) - (c1 - c0)) / max(wall, 1e-6))
    return p, wall, bg


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


def count_gflop(model_path):
    """2 x multiply-accumulates of Conv/ConvTranspose/Gemm/MatMul, in GFLOP
    (None when a shape is unknown)."""
    import onnx
    from onnx import shape_inference
    model = onnx.load(model_path)
    try:
        model = shape_inference.infer_shapes(model)
    except Exception as e:  # noqa: BLE001 - report and count what is known
        log("  warning: shape inference failed: %s" % e)
    g = model.graph
    shapes = {}

    def add(vi):
        t = vi.type.tensor_type
        if t.HasField("shape"):
            dims = []
            for d in t.shape.dim:
                dims.append(d.dim_value if d.HasField("dim_value") else None)
            shapes[vi.name] = dims
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        add(vi)
    for init in g.initializer:
        shapes[init.name] = list(init.dims)

    def shape(name):
        s = shapes.get(name)
        if s is None or any(d is None for d in s):
            return None
        return s

    def prod(xs):
        r = 1
        for x in xs:
            r *= x
        return r

    macs, unknown = 0, []
    for n in g.node:
        try:
            if n.op_type == "Conv":
                w, y = shape(n.input[1]), shape(n.output[0])
                macs += prod(y) * prod(w[1:])
            elif n.op_type == "ConvTranspose":
                x, w = shape(n.input[0]), shape(n.input[1])
                macs += prod(x) * prod(w[1:])
            elif n.op_type == "Gemm":
                a, y = shape(n.input[0]), shape(n.output[0])
                trans_a = any(at.name == "transA" and at.i for at in n.attribute)
                k = a[0] if trans_a else a[1]
                macs += prod(y) * k
            elif n.op_type in ("MatMul", "MatMulInteger", "QLinearMatMul"):
                a_name = n.input[0]
                a, y = shape(a_name), shape(n.output[0])
                macs += prod(y) * a[-1]
        except (TypeError, IndexError):
            unknown.append(n.name or n.op_type)
    if unknown:
        log("  warning: unknown shapes for %d node(s), not counted: %s"
            % (len(unknown), ", ".join(unknown[:5])))
    return 2.0 * macs / 1e9


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


# ---- one engine, one measurement ------------------------------------------

class BenchError(Exception):
    pass


def last_lines(text, n=3):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return " / ".join(lines[-n:])


def bench_once(cmd, args, what):
    """Runs one `--bench` command, repeating it while the background load is
    above --max-bg. Returns (median_ms, min_ms, runs, bg_cores)."""
    for attempt in range(args.retries + 1):
        wait_quiet(args)
        try:
            p, wall, bg = run_measured(cmd, args.timeout)
        except subprocess.TimeoutExpired:
            raise BenchError("%s: timed out after %d s" % (what, args.timeout))
        if p.returncode != 0:
            raise BenchError("%s: exit %d: %s" % (what, p.returncode,
                                                   last_lines(p.stderr + p.stdout)))
        m = LAT_RE.search(p.stdout)
        if not m:
            raise BenchError("%s: no latency line in output: %s" % (what, last_lines(p.stdout)))
        res = (float(m.group(1)), float(m.group(2)), int(m.group(3)), bg)
        # /proc/stat counts in 10 ms ticks: too coarse to judge a process that
        # ran for less than half a second (wait_quiet checked before it).
        if bg <= args.max_bg or wall < 0.5 or attempt == args.retries:
            return res
        log("    %s: other processes used %.2f cores (> %.2f) meanwhile; measuring again"
            % (what, bg, args.max_bg))
    return res


def pick_runs(min_runs, est_ms, args):
    """At least min_runs; more for fast models, up to --target-s of timed runs."""
    if est_ms is None or est_ms <= 0:
        return min_runs
    n = int(args.target_s * 1000.0 / est_ms)
    return max(min_runs, min(args.max_runs, n))


# ---- per model -------------------------------------------------------------

def bench_model(model_dir, args):
    name = os.path.basename(os.path.normpath(model_dir))
    res = {"model": name, "dir": rel(model_dir), "rows": [], "error": None}
    model = os.path.join(model_dir, "model.onnx")
    work = os.path.join(args.work, name)
    mdir = os.path.realpath(model_dir)
    if mdir == os.path.realpath(work) or mdir.startswith(os.path.realpath(work) + os.sep):
        res["error"] = "the model folder is inside the scratch folder %s; use --work" % rel(work)
        return res
    if os.path.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work)
    pbs = find_inputs(model_dir)
    if not os.path.isfile(model) or not pbs:
        res["error"] = "no model.onnx or input_*.pb in %s" % rel(model_dir)
        return res

    log("== %s" % name)
    res["gflop"] = count_gflop(model)
    inputs = to_npy(pbs, os.path.join(work, "inputs"))

    exe = os.path.join(work, "model")
    cmd = [args.kiln, "compile", model, "-O%d" % args.opt, "--emit=exe", "-o", exe, "--time"]
    log("  compile: %s" % " ".join(shlex.quote(rel(c) if os.path.exists(c) else c) for c in cmd))
    try:
        p, wall, bg = run_measured(cmd, args.compile_timeout)
    except subprocess.TimeoutExpired:
        res["error"] = "kiln compile timed out after %d s" % args.compile_timeout
        return res
    with open(os.path.join(work, "compile.log"), "w") as f:
        f.write(p.stdout + p.stderr)
    if p.returncode != 0 or not os.path.isfile(exe):
        res["error"] = "kiln compile failed (exit %d): %s" % (
            p.returncode, last_lines(p.stderr + p.stdout, 2))
        return res
    res["compile_s"] = wall
    res["compile_bg"] = bg
    res["binary_bytes"] = os.path.getsize(exe)
    info = subprocess.run([exe, "--info"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    m = re.search(r"arena:\s*(\d+)\s*bytes", info.stdout)
    res["arena_bytes"] = int(m.group(1)) if m else None
    log("  compiled in %.1f s, binary %.1f MiB, arena %s, %.3f GFLOP"
        % (wall, res["binary_bytes"] / 2**20,
           "%.2f MiB" % (res["arena_bytes"] / 2**20) if m else "?", res["gflop"]))

    est = {"kiln": None, "ort": None}
    for t in args.threads:
        best = {"kiln": None, "ort": None}
        bgs = []
        for r in range(args.reps):
            kdir = os.path.join(work, "kiln_out")
            odir = os.path.join(work, "ort_out")
            nk = pick_runs(args.kiln_runs, est["kiln"], args)
            no = pick_runs(args.ort_runs, est["ort"], args)
            try:
                k = bench_once([exe] + inputs + ["--bench", str(nk), "--threads", str(t),
                                                  "--output-dir", kdir, "--output-format", "npy"],
                               args, "kiln")
                o = bench_once([args.node, os.path.join(HERE, "ort_bench.js"), model] + inputs +
                               ["--bench", str(no), "--threads", str(t), "--output-dir", odir],
                               args, "ort")
            except BenchError as e:
                res["error"] = str(e)
                return res
            log("  T=%d rep %d: kiln median %.3f ms (N=%d, bg %.2f)  ort median %.3f ms (N=%d, bg %.2f)"
                % (t, r + 1, k[0], k[2], k[3], o[0], o[2], o[3]))
            est["kiln"], est["ort"] = k[0], o[0]
            bgs += [k[3], o[3]]
            if best["kiln"] is None or k[0] < best["kiln"][0]:
                best["kiln"] = k
            if best["ort"] is None or o[0] < best["ort"][0]:
                best["ort"] = o
            if "diff" not in res:
                res["diff"], res["out_max"] = max_abs_diff(kdir, odir)
        kb, ob = best["kiln"], best["ort"]
        res["rows"].append({
            "threads": t,
            "kiln_ms": kb[0], "kiln_min_ms": kb[1], "kiln_runs": kb[2], "kiln_bg": kb[3],
            "ort_ms": ob[0], "ort_min_ms": ob[1], "ort_runs": ob[2], "ort_bg": ob[3],
            "ratio": kb[0] / ob[0] if ob[0] > 0 else float("nan"),
            "bg_max": max(bgs),
            "load": loadavg()[0],
        })
    return res


# ---- report ----------------------------------------------------------------

def fmt_ms(x):
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    if x >= 1:
        return "%.2f" % x
    return "%.3f" % x


def fmt_g(x):
    if x is None:
        return "?"
    return "%.3g" % x if x < 100 else "%.0f" % x


def table(results, thread_list):
    hdr = ["model", "GFLOP", "threads", "Kiln ms", "ORT ms", "ratio (Kiln/ORT)",
           "Kiln GFLOP/s", "compile s", "arena MiB", "binary MiB", "max abs diff / max abs output", "bg"]
    lines = ["| " + " | ".join(hdr) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(hdr) - 1)) + "|"]
    for r in results:
        for row in r["rows"]:
            gfs = r["gflop"] / (row["kiln_ms"] / 1000.0) if row["kiln_ms"] > 0 else float("nan")
            diff = r.get("diff")
            lines.append("| " + " | ".join([
                r["model"], "%.3g" % r["gflop"], str(row["threads"]),
                fmt_ms(row["kiln_ms"]), fmt_ms(row["ort_ms"]), "%.2f" % row["ratio"],
                fmt_g(gfs), "%.1f" % r["compile_s"],
                "%.2f" % (r["arena_bytes"] / 2**20) if r.get("arena_bytes") is not None else "?",
                "%.1f" % (r["binary_bytes"] / 2**20),
                "?" if diff is None else "%.2g" % diff if r.get("out_max") is None
                else "%.2g / %.2g" % (diff, r["out_max"]),
                "%.2f" % max(row["kiln_bg"], row["ort_bg"]),
            ]) + " |")
    geo = []
    for t in thread_list:
        def gmean(rows):
            ratios = [row["ratio"] for r, row in rows if row["threads"] == t and row["ratio"] > 0]
            if not ratios:
                return None, 0
            return math.exp(sum(math.log(x) for x in ratios) / len(ratios)), len(ratios)
        rows = [(r, row) for r in results for row in r["rows"]]
        g, n = gmean(rows)
        if g is None:
            continue
        line = ("- geometric mean of Kiln/ORT at %d thread%s: **%.2f** (%d model%s)"
                % (t, "" if t == 1 else "s", g, n, "" if n == 1 else "s"))
        big = [(r, row) for r, row in rows if r["gflop"] >= TINY_GFLOP]
        g2, n2 = gmean(big)
        if g2 is not None and n2 < n:
            line += "; **%.2f** without the models under %g GFLOP (%d)" % (g2, TINY_GFLOP, n2)
        geo.append(line)
    fails = ["- %s (`%s`): %s" % (r["model"], r["dir"], r["error"]) for r in results if r["error"]]
    return "\n".join(lines), geo, fails


def machine():
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break  # first processor only
                k, _, v = line.partition(":")
                info[k.strip()] = v.strip()
    except OSError:
        pass
    cpu = info.get("model name", "unknown CPU")
    extra = []
    if "cpu family" in info:
        extra.append("family %s model %s" % (info["cpu family"], info.get("model", "?")))
    flags = set(info.get("flags", "").split())
    simd = [n for f, n in (("avx2", "AVX2"), ("fma", "FMA"), ("avx512f", "AVX-512F"))
            if f in flags]
    if simd:
        extra.append("/".join(simd))
    if "hypervisor" in flags:
        extra.append("virtual machine")
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = ", %.0f GiB RAM" % (kb / 2**20)
    except (OSError, ValueError, IndexError):
        pass
    return "%s (%s), %d logical CPUs%s" % (cpu, ", ".join(extra), os.cpu_count() or 0, mem)


def versions(args):
    v = {}
    try:
        with open(os.path.join(HERE, "node_modules", "onnxruntime-node", "package.json")) as f:
            v["ort"] = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        v["ort"] = "?"
    try:
        v["node"] = subprocess.run([args.node, "--version"], stdout=subprocess.PIPE,
                                   universal_newlines=True).stdout.strip()
    except OSError:
        v["node"] = "?"
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              universal_newlines=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               universal_newlines=True).stdout.strip()
        v["kiln"] = head + (" + uncommitted changes" if dirty else "") if head else "?"
    except OSError:
        v["kiln"] = "?"
    return v


DOC_HEAD = """\
# Performance

Latency of Kiln-compiled executables next to ONNX Runtime's CPU execution
provider, measured by [`utils/bench/bench.py`](../utils/bench/bench.py).

## Method

- **Kiln**: `kiln compile model.onnx -O{opt} --emit=exe`, then
  `model INPUTS --bench N --threads T` (one warm-up run, then N timed calls of
  the model's `run` function; inputs, outputs and arena are allocated before).
- **ONNX Runtime**: [`utils/bench/ort_bench.js`](../utils/bench/ort_bench.js)
  (npm `onnxruntime-node`, CPU EP) with graph optimization level `all`,
  `intraOpNumThreads` T, `interOpNumThreads` 1, sequential execution; one
  warm-up, then N timed `session.run()` calls on tensors created beforehand.
- Kiln and ORT are run alternately, {reps} times each per model and thread
  count; each column is the best of those {reps} medians. N is at least
  {kruns} (Kiln) and {oruns} (ORT), more for fast models (about {target:g} s of
  timed runs, at most {maxruns}).
- **ratio** = Kiln ms / ORT ms (lower is better). **GFLOP** = 2 x
  multiply-accumulates of Conv, ConvTranspose, Gemm and MatMul (shapes from
  ONNX shape inference); **Kiln GFLOP/s** = GFLOP / Kiln median.
  **compile s** = wall time of `kiln compile` (at the load shown). **arena** =
  the intermediate-tensor arena from `model --info`. **binary** = size of the
  executable, weights included. **max abs diff** = largest difference between
  Kiln's and ORT's outputs on the test input (next to the largest |output| of
  ORT, for scale).
- **bg** = CPU, in cores, that *other* processes used while the row's Kiln
  or ORT measurement ran (the larger of the two; from `/proc/stat` minus the
  benchmark's own CPU time). Measurements above {maxbg:g} cores were repeated
  (up to {retries} times), each after waiting up to {wait:g} s for the machine
  to be quiet.
"""


KEEP_MARKER = ("<!-- bench.py --write replaces everything above this line and keeps "
               "everything below it. -->")


def write_doc(path, args, results, tab, geo, fails, meta):
    cmd = "/usr/bin/python3 " + " ".join(shlex.quote(a) for a in meta["argv"])
    text = DOC_HEAD.format(opt=args.opt, reps=args.reps, kruns=args.kiln_runs,
                           oruns=args.ort_runs, target=args.target_s,
                           maxruns=args.max_runs, maxbg=args.max_bg, retries=args.retries,
                           wait=args.wait_quiet)
    text += "\n## Results\n\n"
    text += ("- machine: %s\n- date: %s\n- Kiln: %s; ONNX Runtime %s (onnxruntime-node, "
             "Node.js %s)\n- load average (1 min) at start / end: %.2f / %.2f\n"
             % (meta["machine"], meta["date"], meta["v"]["kiln"], meta["v"]["ort"],
                meta["v"]["node"], meta["load0"], meta["load1"]))
    text += "- command (from the repository root, after `cd utils/bench && npm install --ignore-scripts`):\n\n"
    text += "  ```sh\n  %s\n  ```\n\n" % cmd
    text += tab + "\n\n"
    if geo:
        text += "\n".join(geo) + "\n\n"
    if fails:
        text += "Not measured:\n\n" + "\n".join(fails) + "\n\n"
    # Hand-written text after the marker survives a rewrite.
    tail = "\n"
    try:
        with open(path) as f:
            old = f.read()
        if KEEP_MARKER in old:
            tail = old.split(KEEP_MARKER, 1)[1]
    except OSError:
        pass
    text += KEEP_MARKER + tail
    with open(path, "w") as f:
        f.write(text)
    log("wrote %s" % path)


# ---- main ------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*",
                    help="model folders (default: %s)" % " ".join(DEFAULT_MODELS))
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default %(default)s)")
    ap.add_argument("--reps", type=int, default=3, help="Kiln/ORT pairs per configuration (default %(default)s)")
    ap.add_argument("--kiln-runs", type=int, default=20, help="minimum timed Kiln runs (default %(default)s)")
    ap.add_argument("--ort-runs", type=int, default=50, help="minimum timed ORT runs (default %(default)s)")
    ap.add_argument("--target-s", type=float, default=1.0,
                    help="timed seconds to aim for when the minimum runs take less (default %(default)s)")
    ap.add_argument("--max-runs", type=int, default=20000, help="at most this many timed runs (default %(default)s)")
    ap.add_argument("--max-bg", type=float, default=0.3,
                    help="repeat a measurement when other processes used more cores than this "
                         "(default %(default)s)")
    ap.add_argument("--retries", type=int, default=2, help="repeats for --max-bg (default %(default)s)")
    ap.add_argument("--wait-quiet", type=float, default=30.0,
                    help="before each measurement, wait up to this many seconds until other processes "
                         "use at most --max-bg cores (default %(default)s; 0: don't wait)")
    ap.add_argument("-O", dest="opt", type=int, default=3, help="kiln optimization level (default %(default)s)")
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "bin", "kiln"))
    ap.add_argument("--node", default="node")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench"),
                    help="scratch folder (default build/bench)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per benchmark process")
    ap.add_argument("--compile-timeout", type=int, default=1200, help="seconds per kiln compile")
    ap.add_argument("--write", metavar="FILE", help="also write the report to FILE (e.g. docs/performance.md)")
    ap.add_argument("--json", metavar="FILE", help="also write the raw results as JSON")
    ap.add_argument("--from-json", metavar="FILE",
                    help="don't measure: re-render the results saved by --json in FILE")
    args = ap.parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        meta, results = saved["meta"], saved["results"]
        old = ap.parse_args(meta["argv"][1:])  # the settings the numbers were taken with
        old.threads = [int(x) for x in old.threads.split(",") if x.strip()]
        report(old, results, meta, args.write)
        return 1 if any(r["error"] for r in results) else 0
    args.threads = [int(x) for x in args.threads.split(",") if x.strip()]
    if args.reps < 1 or args.kiln_runs < 1 or args.ort_runs < 1 or not args.threads:
        ap.error("--reps, --kiln-runs, --ort-runs and --threads must be positive")

    argv = [rel(sys.argv[0])] + sys.argv[1:]
    if not os.access(args.kiln, os.X_OK):
        sys.exit("error: kiln not found at %s (build it first)" % args.kiln)
    if not os.path.isdir(os.path.join(HERE, "node_modules", "onnxruntime-node")):
        sys.exit("error: onnxruntime-node is not installed; run: cd %s && npm install --ignore-scripts"
                 % rel(HERE))
    models = args.models or [os.path.join(ROOT, m) for m in DEFAULT_MODELS]
    r18 = os.path.join(ROOT, "build", "e2e", "resnet18")
    if not args.models and not os.path.isfile(os.path.join(r18, "model.onnx")):
        log("exporting resnet18 to %s" % rel(r18))
        subprocess.check_call(["/usr/bin/python3", os.path.join(ROOT, "utils", "export_resnet18.py"),
                               "--model", "resnet18", "--opset", "13", r18])
    args.work = os.path.abspath(args.work)
    os.makedirs(args.work, exist_ok=True)

    meta = {"argv": argv, "machine": machine(), "v": versions(args),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load0": loadavg()[0]}
    log("machine: %s; load average %.2f %.2f %.2f" % ((meta["machine"],) + loadavg()))
    results = []
    for m in models:
        try:
            results.append(bench_model(m, args))
        except KeyboardInterrupt:
            raise
        except Exception as e:  # noqa: BLE001 - keep going with the other models
            results.append({"model": os.path.basename(os.path.normpath(m)), "dir": rel(m),
                            "rows": [], "error": "%s: %s" % (type(e).__name__, e)})
        if results[-1]["error"]:
            log("  FAILED: %s" % results[-1]["error"])
    meta["load1"] = loadavg()[0]
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)
    report(args, results, meta, args.write)
    return 1 if any(r["error"] for r in results) else 0


def report(args, results, meta, write_path):
    tab, geo, fails = table(results, args.threads)
    print(tab)
    print()
    for line in geo:
        print(line)
    if fails:
        print("\nNot measured:")
        for line in fails:
            print(line)
    print("\nmachine: %s; %s; load average (1 min) start %.2f, end %.2f"
          % (meta["machine"], meta["date"], meta["load0"], meta["load1"]))
    if write_path:
        write_doc(write_path, args, results, tab, geo, fails, meta)


if __name__ == "__main__":
    sys.exit(main())
