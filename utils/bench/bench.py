#!/usr/bin/python3
"""Side-by-side CPU latency of Kiln-compiled executables and ONNX Runtime.

For each model folder (model.onnx plus test_data_set_0/input_*.pb, or
input_*.pb next to model.onnx):

  1. compiles it: kiln compile model.onnx -O3 --emit=exe -o WORK/NAME/model --time
     (wall time and binary size recorded; symbolic input dims bound with
     --dim to the input files' shapes), and reads the arena size from
     `model --info`;
  2. converts the inputs to .npy and, for each thread count T, alternates
     `model INPUTS --bench N --threads T` and `node ort_bench.js` (ONNX Runtime
     CPU EP, graph optimization 'all', intra-op threads T, inter-op 1,
     sequential) R times, keeping each side's best median (each Kiln
     repetition runs its own copy of the executable: see bench_model);
  3. compares the two outputs (max abs diff), and from onnx shape inference
     counts GFLOP (2 x MACs of Conv, ConvTranspose, Gemm and MatMul) and the
     bytes of all intermediate tensors (to set the arena against).

The default models are ResNet-18 (build/e2e/resnet18, as test/e2e/resnet18.sh
exports it), the zoo of test/e2e/zoo.sh at opset 17 (build/e2e/zoo/*_op17)
and examples/tinynet; the missing ones are exported first with
utils/export_resnet18.py and utils/export_zoo.py.

Then the GEMM kernel section: single-MatMul models (square, and the im2col
shapes of ResNet's 3x3 convolutions) measured the same way (--no-gemm skips
it, --gemm-only runs only it). GFLOP/s are also given as a percentage of
the machine's peak: T x one core's fp32 FMA peak, measured first by
fma_peak.c (built with `cc -O2 -march=native`; --peak GFLOPS skips that).

Prints markdown tables (latency and % of peak per model and thread count with
the geometric mean of the Kiln/ORT ratios per thread count; compile time,
binary, arena and intermediates, accuracy per model; the GEMM kernels) and,
with --write FILE, writes them with the machine description and the exact
command to FILE (docs/performance.md).

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

The model side (input files, FLOP and intermediate counts, the default list,
the GEMM models) is in bench_models.py; the tables and docs/performance.md in
bench_report.py.

Run with /usr/bin/python3 (needs onnx and numpy) from anywhere; set up ONNX
Runtime once with:  cd utils/bench && npm install --ignore-scripts

  /usr/bin/python3 utils/bench/bench.py
  /usr/bin/python3 utils/bench/bench.py build/e2e/zoo/mobilenet_v2_op17 --threads 1 --no-gemm
  /usr/bin/python3 utils/bench/bench.py --gemm-only --threads 1
  /usr/bin/python3 utils/bench/bench.py --write docs/performance.md
"""

import argparse
import datetime
import json
import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
import time

from bench_models import (GEMM_SHAPES, ROOT, ZOO_OPSET, default_models, export_missing,
                          find_inputs, gemm_model, last_lines, log, max_abs_diff, model_facts,
                          rel, to_npy)
from bench_report import machine, report, versions

HERE = os.path.dirname(os.path.abspath(__file__))
LAT_RE = re.compile(r"latency_ms median=([0-9.eE+-]+) min=([0-9.eE+-]+) runs=([0-9]+)")


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

# ---- one engine, one measurement ------------------------------------------

class BenchError(Exception):
    pass

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
    facts = model_facts(model, pbs)
    res["gflop"], res["inter_bytes"] = facts["gflop"], facts["inter_bytes"]
    res["inter_unknown"], res["dims"] = facts["inter_unknown"], facts["dims"]
    inputs = to_npy(pbs, os.path.join(work, "inputs"))

    exe = os.path.join(work, "model")
    cmd = [args.kiln, "compile", model, "-O%d" % args.opt, "--cpu=" + args.cpu,
           "--emit=exe", "-o", exe, "--time"]
    for d, v in sorted(facts["dims"].items()):
        cmd += ["--dim", "%s=%d" % (d, v)]
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

    # One copy of the executable per repetition: the page cache holds each
    # file's weights in its own physical pages, and where they land moved a
    # model's time by up to 7% between byte-identical copies (cache sets);
    # each ORT run gets a fresh heap the same way.
    exes = []
    for r in range(args.reps):
        exes.append("%s.%d" % (exe, r))
        shutil.copy(exe, exes[-1])

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
                k = bench_once([exes[r]] + inputs + ["--bench", str(nk), "--threads", str(t),
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


# ---- machine peak ----------------------------------------------------------

def measure_peak(args):
    """One core's fp32 FMA peak, from fma_peak.c built with -march=native:
    {"gflops": GFLOP/s, "vector_bits": width}."""
    if args.peak:
        return {"gflops": args.peak, "vector_bits": None, "source": "--peak"}
    exe = os.path.join(args.work, "fma_peak")
    src = os.path.join(HERE, "fma_peak.c")
    subprocess.check_call([args.cc, "-O2", "-march=native", "-ffp-contract=fast",
                           "-o", exe, src])
    best = None
    for _ in range(3):
        wait_quiet(args)
        out = subprocess.run([exe], stdout=subprocess.PIPE, universal_newlines=True,
                             check=True).stdout
        m = re.search(r"gflops=([0-9.]+) vector_bits=(\d+)", out)
        if not m:
            raise BenchError("fma_peak: unexpected output: %s" % out.strip())
        if best is None or float(m.group(1)) > best["gflops"]:
            best = {"gflops": float(m.group(1)), "vector_bits": int(m.group(2)),
                    "source": "fma_peak.c"}
    log("peak: %.1f GFLOP/s per core (%d-bit FMA)" % (best["gflops"], best["vector_bits"]))
    return best


# ---- main ------------------------------------------------------------------

def bench_all(model_dirs, args):
    results = []
    for m in model_dirs:
        try:
            results.append(bench_model(m, args))
        except KeyboardInterrupt:
            raise
        except Exception as e:  # noqa: BLE001 - keep going with the other models
            results.append({"model": os.path.basename(os.path.normpath(m)), "dir": rel(m),
                            "rows": [], "error": "%s: %s" % (type(e).__name__, e)})
        if results[-1]["error"]:
            log("  FAILED: %s" % results[-1]["error"])
    return results


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*",
                    help="model folders (default: ResNet-18, the zoo at opset %d, tinynet)"
                    % ZOO_OPSET)
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
    ap.add_argument("--cpu", default="native",
                    help="kiln --cpu (default %(default)s: this machine's CPU, as ONNX "
                    "Runtime picks its kernels for it at run time)")
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "bin", "kiln"))
    ap.add_argument("--node", default="node")
    ap.add_argument("--cc", default="cc", help="C compiler for the FMA peak probe (default %(default)s)")
    ap.add_argument("--peak", type=float, metavar="GFLOPS",
                    help="one core's FMA peak in GFLOP/s (default: measure it)")
    ap.add_argument("--no-gemm", action="store_true", help="skip the GEMM kernel section")
    ap.add_argument("--gemm-only", action="store_true", help="only the GEMM kernel section")
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
        meta, results, gemms = saved["meta"], saved["results"], saved.get("gemm", [])
        old = ap.parse_args(meta["argv"][1:])  # the settings the numbers were taken with
        old.threads = [int(x) for x in old.threads.split(",") if x.strip()]
        report(old, results, gemms, meta, args.write)
        return 1 if any(r["error"] for r in results + gemms) else 0
    args.threads = [int(x) for x in args.threads.split(",") if x.strip()]
    if args.reps < 1 or args.kiln_runs < 1 or args.ort_runs < 1 or not args.threads:
        ap.error("--reps, --kiln-runs, --ort-runs and --threads must be positive")
    if args.no_gemm and args.gemm_only:
        ap.error("--no-gemm and --gemm-only exclude each other")

    argv = [rel(sys.argv[0])] + sys.argv[1:]
    if not os.access(args.kiln, os.X_OK):
        sys.exit("error: kiln not found at %s (build it first)" % args.kiln)
    if not os.path.isdir(os.path.join(HERE, "node_modules", "onnxruntime-node")):
        sys.exit("error: onnxruntime-node is not installed; run: cd %s && npm install --ignore-scripts"
                 % rel(HERE))
    models = args.models
    if not models and not args.gemm_only:
        defaults = default_models()
        export_missing(defaults)
        models = [d for d, _ in defaults]
    if args.gemm_only:
        models = []
    args.work = os.path.abspath(args.work)
    os.makedirs(args.work, exist_ok=True)

    meta = {"argv": argv, "machine": machine(), "v": versions(args),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load0": loadavg()[0]}
    log("machine: %s; load average %.2f %.2f %.2f" % ((meta["machine"],) + loadavg()))
    meta["peak"] = measure_peak(args)
    results = bench_all(models, args)
    gemms = []
    if not args.no_gemm:
        shapes = GEMM_SHAPES
        dirs = [gemm_model(os.path.join(args.work, "gemm-models"), m, k, n)
                for m, k, n, _ in shapes]
        gemms = bench_all(dirs, args)
        for r, (m, k, n, what) in zip(gemms, shapes):
            r["gemm"] = [m, k, n, what]
    meta["load1"] = loadavg()[0]
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results, "gemm": gemms}, f, indent=1)
    report(args, results, gemms, meta, args.write)
    return 1 if any(r["error"] for r in results + gemms) else 0

if __name__ == "__main__":
    sys.exit(main())
