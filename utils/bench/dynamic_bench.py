#!/usr/bin/python3
"""Latency of dynamic builds against static ones, side by side.

For each model exported with a symbolic batch dim `batch` (a folder
<model>_dynbatch_op17 of test/e2e/zoo.sh, test_data_set_<i> holding a batch of
the i-th size), compiles the model twice with kiln -O3: once with the batch
left symbolic (one executable for every batch size) and once per batch size
with --dim batch=N. Then, for each batch size and thread count, alternates
the two executables (`--bench`, each repetition from its own copy, as
bench.py does) and prints a markdown table: the best median of each, and
their ratio (dynamic / static). Both see the same input files; their outputs
are compared too (max abs diff).

  /usr/bin/python3 utils/bench/dynamic_bench.py
  /usr/bin/python3 utils/bench/dynamic_bench.py build/e2e/zoo/mobilenet_v2_dynbatch_op17 --threads 1

The default model is ResNet-18 (build/e2e/zoo/resnet18_dynbatch_op17, made
by `ZOO_OPSETS=17 ZOO_BATCHES="1 4 7" bash test/e2e/zoo.sh resnet18`).
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys

from bench import BenchError, bench_once, pick_runs
from bench_models import ROOT, log, max_abs_diff, rel, to_npy


def batch_of(npy):
    import numpy as np
    return int(np.load(npy, mmap_mode="r").shape[0])


def compile_model(args, model, out, dims):
    cmd = [args.kiln, "compile", model, "-O3", "--cpu=" + args.cpu,
           "--emit=exe", "-o", out] + dims
    log("  " + " ".join(cmd))
    subprocess.run(cmd, check=True)
    copies = []
    for r in range(args.reps):
        copies.append("%s.%d" % (out, r))
        shutil.copy(out, copies[-1])
    return copies


def bench_model(model_dir, args):
    name = os.path.basename(os.path.normpath(model_dir))
    model = os.path.join(model_dir, "model.onnx")
    work = os.path.join(args.work, name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    log("== %s" % name)
    dynamic = compile_model(args, model, os.path.join(work, "dynamic"), [])
    rows = []
    for ds in sorted(glob.glob(os.path.join(model_dir, "test_data_set_*"))):
        pbs = sorted(glob.glob(os.path.join(ds, "input_*.pb")))
        inputs = to_npy(pbs, os.path.join(work, os.path.basename(ds)))
        n = batch_of(inputs[0])
        static = compile_model(args, model, os.path.join(work, "static_b%d" % n),
                               ["--dim", "batch=%d" % n])
        for t in args.threads:
            best = {"dynamic": None, "static": None}
            est = None
            for r in range(args.reps):
                for kind, exes in (("dynamic", dynamic), ("static", static)):
                    out = os.path.join(work, "out_" + kind)
                    runs = pick_runs(args.runs, est, args)
                    m = bench_once([exes[r]] + inputs +
                                   ["--bench", str(runs), "--threads", str(t),
                                    "--output-dir", out, "--output-format", "npy"],
                                   args, kind)
                    est = m[0]
                    if best[kind] is None or m[0] < best[kind][0]:
                        best[kind] = m
            diff, _ = max_abs_diff(os.path.join(work, "out_dynamic"),
                                   os.path.join(work, "out_static"))
            d, s = best["dynamic"][0], best["static"][0]
            log("  batch %d, %d thread(s): dynamic %.3f ms, static %.3f ms, ratio %.3f"
                % (n, t, d, s, d / s))
            rows.append((name, n, t, d, s, d / s, diff))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--runs", type=int, default=20, help="minimum timed runs")
    ap.add_argument("--target-s", type=float, default=1.0)
    ap.add_argument("--max-runs", type=int, default=20000)
    ap.add_argument("--max-bg", type=float, default=0.3)
    ap.add_argument("--retries", type=int, default=2)
    ap.add_argument("--wait-quiet", type=float, default=30.0)
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--cpu", default="native")
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "bin", "kiln"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench", "dynamic"))
    args = ap.parse_args()
    args.threads = [int(t) for t in args.threads.split(",")]
    models = args.models or [os.path.join(ROOT, "build", "e2e", "zoo", "resnet18_dynbatch_op17")]
    rows = []
    try:
        for m in models:
            rows += bench_model(m, args)
    except (BenchError, subprocess.CalledProcessError) as e:
        sys.exit("error: %s" % e)
    print("| model | batch | threads | dynamic ms | static ms | dynamic / static | max abs diff |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, n, t, d, s, ratio, diff in rows:
        print("| %s | %d | %d | %.2f | %.2f | %.3f | %.2g |" % (name, n, t, d, s, ratio, diff))


if __name__ == "__main__":
    main()
