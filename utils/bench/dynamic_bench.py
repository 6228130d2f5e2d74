#!/usr/bin/python3
"""Latency of dynamic builds against static ones, side by side.

For each model exported with one symbolic input dim (a folder
<model>_dynbatch_op17 or <model>_dynseq_op17 of test/e2e/zoo.sh,
test_data_set_<i> holding the i-th size), compiles the model with kiln -O3
once with the dim left symbolic (one executable for every size; for a dim
other than a batch, once with --max-dim at the largest size of the data sets
and once with no bound, per --modes) and once per
size with --dim NAME=N. Then, for each size and thread count, alternates the
two executables (`--bench`, each repetition from its own copy, as bench.py
does) and prints a markdown table: the best median of each, and their ratio
(dynamic / static). Both see the same input files; their outputs are
compared too (max abs diff).

  /usr/bin/python3 utils/bench/dynamic_bench.py
  /usr/bin/python3 utils/bench/dynamic_bench.py build/e2e/zoo/mobilenet_v2_dynbatch_op17 --threads 1

The default models are ResNet-18 with a dynamic batch
(build/e2e/zoo/resnet18_dynbatch_op17, from `ZOO_OPSETS=17 ZOO_BATCHES="1 4 7"
bash test/e2e/zoo.sh resnet18`) and BERT with a dynamic sequence length
(build/e2e/zoo/bert_dynseq_op17, from `ZOO_OPSETS=17 ZOO_LENGTHS="16 128 384"
bash test/e2e/zoo.sh bert`).
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys

from bench import BenchError, bench_once, pick_runs
from bench_models import ROOT, log, max_abs_diff, rel, to_npy


def symbolic_dim(model):
    """(name, input index, dim index) of the model's one symbolic input dim."""
    import onnx
    m = onnx.load(model, load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    inputs = [i for i in m.graph.input if i.name not in inits]
    for k, i in enumerate(inputs):
        for d, dim in enumerate(i.type.tensor_type.shape.dim):
            if dim.dim_param:
                return dim.dim_param, k, d
    raise SystemExit("error: %s has no symbolic input dim" % model)


def size_of(npy, d):
    import numpy as np
    return int(np.load(npy, mmap_mode="r").shape[d])


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
    dim, k, d = symbolic_dim(model)
    sets = []
    for ds in sorted(glob.glob(os.path.join(model_dir, "test_data_set_*"))):
        pbs = sorted(glob.glob(os.path.join(ds, "input_*.pb")))
        inputs = to_npy(pbs, os.path.join(work, os.path.basename(ds)))
        sets.append((size_of(inputs[k], d), inputs))
    # A batch (dim 0) runs per sample (mode "batch"); another dim is built
    # bounded (--max-dim at the largest size: one arena) and unbounded (the
    # arena sized at run time), as --modes asks.
    if d == 0:
        modes = {"batch": []}
    else:
        largest = max(n for n, _ in sets)
        modes = {m: (["--max-dim", "%s=%d" % (dim, largest)]
                     if m == "bounded" else [])
                 for m in args.modes}
    dynamic = {m: compile_model(args, model, os.path.join(work, "dynamic_" + m),
                                flags)
               for m, flags in modes.items()}
    rows = []
    for n, inputs in sets:
        static = compile_model(args, model, os.path.join(work, "static_%d" % n),
                               ["--dim", "%s=%d" % (dim, n)])
        for t in args.threads:
            for mode, exes_dyn in dynamic.items():
                best = {"dynamic": None, "static": None}
                est = None
                for r in range(args.reps):
                    for kind, exes in (("dynamic", exes_dyn), ("static", static)):
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
                dm, sm = best["dynamic"][0], best["static"][0]
                log("  %s=%d, %s, %d thread(s): dynamic %.3f ms, static %.3f ms, "
                    "ratio %.3f" % (dim, n, mode, t, dm, sm, dm / sm))
                rows.append((name, "%s=%d" % (dim, n), mode, t, dm, sm, dm / sm,
                             diff))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--modes", default="bounded,unbounded",
                    help="builds of a dim other than a batch: bounded "
                    "(--max-dim at the largest size), unbounded (no bound)")
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
    args.modes = [m for m in args.modes.split(",") if m]
    models = args.models or [os.path.join(ROOT, "build", "e2e", "zoo", m)
                             for m in ("resnet18_dynbatch_op17", "bert_dynseq_op17")]
    rows = []
    try:
        for m in models:
            rows += bench_model(m, args)
    except (BenchError, subprocess.CalledProcessError) as e:
        sys.exit("error: %s" % e)
    print("| model | size | dynamic build | threads | dynamic ms | static ms | "
          "dynamic / static | max abs diff |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for name, n, mode, t, d, s, ratio, diff in rows:
        print("| %s | %s | %s | %d | %.2f | %.2f | %.3f | %.2g |"
              % (name, n, mode, t, d, s, ratio, diff))


if __name__ == "__main__":
    main()
