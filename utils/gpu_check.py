#!/usr/bin/python3
"""Prepares and reads the NVIDIA GPU check (utils/gpu-check.sh).

A machine with a GPU is lent rarely, briefly, and with nothing installed:
no LLVM, no Python packages, no network. So everything is compiled here
into one bundle (build/gpu-check, under 64 MiB), the GPU machine only runs
it (utils/gpu-check.sh run), and its outputs are checked here:

  prepare   compile every backend test of test/e2e/gpu_emulate_expected.txt
            (the GPU build), zoo models from build/e2e/zoo (GPU and CPU
            builds, --zoo NAME...) and a 4096^3 f32 MatMul, each to an
            object with its own prefix, and link them with
            utils/gpu_check/harness.c and the runtime into `suite`; copy
            the inputs and write list.txt (what to run) and bench.txt
            (what to time).
  compare   check the outputs a run wrote (its OUT folder) against the
            backend's and the zoo's expected outputs, as utils/backend_tests.py
            does, and print the timings as a table.

--emulate prepares the same bundle with --gpu-emulate kernels, for running
it here under the fake CUDA driver: the check of this script itself.

Run it with /usr/bin/python3.
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backend_tests as bt  # noqa: E402

ROOT = bt.REPO_ROOT
GPU = "nvptx64-nvidia-cuda"
# The zoo models worth the bytes: small weights, real architectures.
DEFAULT_ZOO = ["squeezenet1_1_op17", "mobilenet_v3_small_op13"]


def expected_tests(path):
    _, entries = bt.read_expected(path)
    return sorted(entries)


def tensor_inputs_only(model_path):
    """Whether every graph input is a tensor (the suite reads no sequence
    or optional files)."""
    import onnx
    graph = onnx.load(model_path, load_external_data=False).graph
    inits = {i.name for i in graph.initializer}
    return all(v.type.HasField("tensor_type") for v in graph.input if v.name not in inits)


def make_gemm(path, n):
    import onnx
    from onnx import TensorProto, helper
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [n, n])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, n])
    graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["y"])],
                              "gemm", [a, b], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, path)


def compile_object(job):
    kiln, model, name, args, out, timeout = job
    argv = [kiln, "compile", model, "--emit=obj", "--name", name, "-o", out] + args
    rc, text, timed_out = bt.run_command(argv, timeout)
    header = os.path.splitext(out)[0] + ".h"
    if os.path.exists(header):
        os.unlink(header)
    if timed_out or rc != 0:
        return name, "timeout" if timed_out else (bt.first_error_line(text) or bt.describe_rc(rc))
    return name, ""


def prepare(args):
    bundle = os.path.abspath(args.bundle)
    shutil.rmtree(bundle, ignore_errors=True)
    objs = os.path.join(bundle, "obj")
    os.makedirs(objs)
    gpu_args = ["--target", GPU, "--cpu", args.sm] + (["--gpu-emulate"] if args.emulate else [])
    cpu_args = ["--cpu", args.host_cpu]
    jobs, runs, benches, names = [], [], [], []

    def add(model, name, target_args):
        names.append(name)
        jobs.append((args.kiln, model, name, target_args, os.path.join(objs, name + ".o"),
                     args.timeout))

    def copy_inputs(name, checks, ds_dir, folder):
        dest = os.path.join(bundle, "in", folder)
        os.makedirs(dest, exist_ok=True)
        files = []
        for f in checks.inputs(ds_dir, dest):
            target = os.path.join(dest, os.path.basename(f))
            if os.path.abspath(f) != os.path.abspath(target):
                shutil.copyfile(f, target)
            files.append(os.path.relpath(target, bundle))
        runs.append("\t".join([name, folder] + files))

    # The backend tests: one object each, every data set run.
    tests = expected_tests(args.expected)
    if args.filter:
        tests = [t for t in tests if re.search(args.filter, t)]
    tests = [t for t in tests if tensor_inputs_only(os.path.join(args.data, t, "model.onnx"))]
    for i, test in enumerate(tests):
        test_dir = os.path.join(args.data, test)
        model = os.path.join(test_dir, "model.onnx")
        name = "t%d" % i
        add(model, name, gpu_args)
        checks = bt.OutputChecks(model, test_dir)
        for ds in bt.data_set_names(test_dir):
            copy_inputs(name, checks, os.path.join(test_dir, ds), "backend/%s/%s" % (test, ds))

    # Zoo models: GPU and CPU builds, checked and timed.
    for z in args.zoo:
        zdir = os.path.join(args.zoo_dir, z)
        model = os.path.join(zdir, "model.onnx")
        if not os.path.isfile(model):
            print("warning: no zoo model %s (utils/export_zoo.py writes them)" % model)
            continue
        checks = bt.OutputChecks(model, zdir)
        for prefix, target_args in (("gpu_", gpu_args), ("cpu_", cpu_args)):
            name = prefix + re.sub(r"\W", "_", z)
            add(model, name, target_args)
            copy_inputs(name, checks, os.path.join(zdir, "test_data_set_0"),
                        "zoo/%s/%s/test_data_set_0" % (prefix[:-1], z))
            benches.append("%s %d" % (name, args.runs))

    # The GEMM micro-benchmark (random inputs).
    gemm = os.path.join(bundle, "gemm.onnx")
    make_gemm(gemm, args.gemm)
    for prefix, target_args in (("gpu_", gpu_args), ("cpu_", cpu_args)):
        add(gemm, prefix + "gemm%d" % args.gemm, target_args)
        benches.append("%sgemm%d %d" % (prefix, args.gemm, args.runs))

    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for name, why in pool.map(compile_object, jobs):
            if why:
                failed.append((name, why))
    if failed:
        for name, why in failed[:20]:
            print("error: %s: %s" % (name, why))
        print("error: %d of %d models did not compile" % (len(failed), len(jobs)))
        return 1

    # The table of models, and the program.
    with open(os.path.join(bundle, "models.c"), "w") as f:
        f.write('#include "kiln/runtime.h"\n')
        for n in names:
            f.write("extern const kiln_model_info %s_info;\n" % n)
        f.write("const kiln_model_info *const kiln_check_models[] = {\n")
        f.write("".join("  &%s_info,\n" % n for n in names))
        f.write("};\nconst char *const kiln_check_names[] = {\n")
        f.write("".join('  "%s",\n' % n for n in names))
        f.write("};\nconst int kiln_check_count = %d;\n" % len(names))
    build = os.path.abspath(args.build)
    argv = (["cc", "-O2", "-std=c11", "-o", os.path.join(bundle, "suite"),
             os.path.join(ROOT, "utils", "gpu_check", "harness.c"),
             os.path.join(bundle, "models.c"), "-I", os.path.join(build, "include")]
            + sorted(os.path.join(objs, n + ".o") for n in names)
            + [os.path.join(build, "lib", "libkiln_runtime.a"), "-lm", "-lpthread", "-ldl"])
    rc = subprocess.call(argv)
    if rc != 0:
        print("error: linking the suite failed")
        return 1
    shutil.rmtree(objs)
    os.unlink(os.path.join(bundle, "models.c"))
    os.unlink(gemm)
    with open(os.path.join(bundle, "list.txt"), "w") as f:
        f.write("\n".join(runs) + "\n")
    with open(os.path.join(bundle, "bench.txt"), "w") as f:
        f.write("\n".join(benches) + "\n")
    with open(os.path.join(bundle, "tests.txt"), "w") as f:
        f.write("\n".join(tests) + "\n")
    size = sum(os.path.getsize(os.path.join(d, f))
               for d, _, fs in os.walk(bundle) for f in fs)
    print("prepared %s: %d backend tests, %d zoo builds, %d runs, %.1f MiB%s"
          % (bundle, len(tests), 2 * len([z for z in args.zoo]), len(runs), size / 2**20,
             " (emulated kernels)" if args.emulate else ""))
    if size > 64 * 2**20:
        print("error: the bundle is over 64 MiB, more than a device run carries")
        return 1
    return 0


def compare(args):
    bundle = os.path.abspath(args.bundle)
    out = os.path.abspath(args.results)
    tarball = os.path.join(out, "outputs.tgz")
    if os.path.isfile(tarball):  # the run packs its outputs in one file
        unpacked = os.path.join(os.path.abspath(args.bundle) + "-results")
        shutil.rmtree(unpacked, ignore_errors=True)
        os.makedirs(unpacked)
        subprocess.check_call(["tar", "xzf", tarball, "-C", unpacked])
        for f in ("run.log", "bench.log", "gpu.txt"):
            if os.path.isfile(os.path.join(out, f)):
                shutil.copyfile(os.path.join(out, f), os.path.join(unpacked, f))
        out = unpacked
    status = {}
    times = {}
    log = os.path.join(out, "run.log")
    if not os.path.isfile(log):
        print("error: no %s: did the run happen?" % log)
        return 1
    with open(log) as f:
        for line in f:
            m = re.match(r"ok (\S+) ([\d.]+)$", line.strip())
            if m:
                status[m.group(1)] = ""
                times[m.group(1)] = float(m.group(2))
                continue
            m = re.match(r"fail (\S+): (.*)$", line.strip())
            if m:
                status[m.group(1)] = m.group(2)
    with open(os.path.join(bundle, "list.txt")) as f:
        folders = [line.rstrip("\n").split("\t")[1] for line in f if line.strip()]
    results = {}
    for folder in folders:
        parts = folder.split("/")
        if parts[0] == "backend":
            test, ds = "/".join(parts[1:-1]), parts[-1]
            test_dir = os.path.join(args.data, test)
        else:  # zoo/<gpu|cpu>/<name>/<ds>
            test, ds = "/".join(parts[:-1]), parts[-1]
            test_dir = os.path.join(args.zoo_dir, parts[2])
        if folder not in status:
            why = "not run"
        elif status[folder]:
            why = "run-fail: " + status[folder]
        else:
            checks = bt.OutputChecks(os.path.join(test_dir, "model.onnx"), test_dir)
            if parts[0] == "zoo":
                checks.tol = (1e-3, 1e-4)  # as test/e2e/zoo.sh
            _, why = checks.check(test, ds, os.path.join(test_dir, ds),
                                  os.path.join(out, folder))
        if why and not results.get(test):
            results[test] = why
        results.setdefault(test, "")
    backend = [t for t in results if not t.startswith("zoo/")]
    passed = [t for t in backend if not results[t]]
    print("backend on the GPU: %d of %d tests pass" % (len(passed), len(backend)))
    for t in sorted(t for t in backend if results[t])[:40]:
        print("  FAIL %s: %s" % (t, results[t][:200]))
    for t in sorted(t for t in results if t.startswith("zoo/")):
        print("%s: %s" % (t, "pass" if not results[t] else "FAIL " + results[t][:200]))
    info = os.path.join(out, "gpu.txt")
    if os.path.isfile(info):
        with open(info) as f:
            print("GPU: " + " ".join(f.read().split())[:300])
    bench = os.path.join(out, "bench.log")
    if os.path.isfile(bench):
        rows = {}
        threads = "?"
        with open(bench) as f:
            for line in f:
                if line.startswith("threads "):
                    threads = line.split()[1]
                    continue
                m = re.match(r"bench (\S+) median_ms=([\d.]+) min_ms=([\d.]+)", line)
                if m:
                    rows[m.group(1)] = (float(m.group(2)), float(m.group(3)))
                elif line.strip():
                    print(line.rstrip())
        print("\n| model | GPU median ms | CPU median ms (Kiln, %s threads) | GPU speedup |"
              % threads)
        print("| --- | --- | --- | --- |")
        for name in sorted({n[4:] for n in rows}):
            g, c = rows.get("gpu_" + name), rows.get("cpu_" + name)
            extra = ""
            if name.startswith("gemm") and g:
                n = int(name[4:])
                extra = " (%.2f TFLOP/s)" % (2 * n**3 / (g[0] / 1e3) / 1e12)
            print("| %s | %s%s | %s | %s |" % (
                name, "%.3f" % g[0] if g else "-", extra, "%.3f" % c[0] if c else "-",
                "%.1fx" % (c[0] / g[0]) if g and c else "-"))
    return 0 if len(passed) == len(backend) else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--kiln", default=os.path.join(ROOT, "build", "bin", "kiln"))
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--expected", default=os.path.join(ROOT, "test", "e2e",
                                                      "gpu_emulate_expected.txt"))
    p.add_argument("--filter", metavar="REGEX")
    p.add_argument("--zoo", nargs="*", default=DEFAULT_ZOO)
    p.add_argument("--sm", default="sm_90")
    p.add_argument("--host-cpu", default="x86-64-v3")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--gemm", type=int, default=4096, help="the MatMul's size")
    p.add_argument("--emulate", action="store_true")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--timeout", type=int, default=300)
    for q in (p, sub.add_parser("compare")):
        q.add_argument("--bundle", default=os.path.join(ROOT, "build", "gpu-check"))
        q.add_argument("--data", default=bt.DEFAULT_DATA)
        q.add_argument("--zoo-dir", default=os.path.join(ROOT, "build", "e2e", "zoo"))
    q.add_argument("results", help="the OUT folder of a run (run.log, outputs)")
    args = ap.parse_args()
    return prepare(args) if args.cmd == "prepare" else compare(args)


if __name__ == "__main__":
    sys.exit(main())
