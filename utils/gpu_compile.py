#!/usr/bin/python3
"""Compiles the ONNX backend test models for NVIDIA GPUs and checks the PTX.

For each test under /usr/share/libonnx-testdata/data and each SM architecture
(--sms, default sm_80 and sm_90) this runs

  kiln compile model.onnx --target nvptx64-nvidia-cuda --cpu SM -o WORK/...ptx

and checks the PTX: it is for that SM (`.target SM`), has at least one kernel
(`.visible .entry`) and declares nothing outside itself (no `.extern`: the
kernels may not call libdevice or host code). No GPU is needed: this is
ctest's `gpu_compile` (label gpu-compile). Running the kernels is
utils/gpu-check.sh's job, on a machine with a GPU.

With --expected FILE, every test listed there must compile for every SM
(exit 1 otherwise); the list only grows: --update-expected FILE adds the
tests that compile now. The last line is "<P> of <N> compile for SM, ...".

Run it with /usr/bin/python3.
"""

import argparse
import collections
import concurrent.futures
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backend_tests as bt  # noqa: E402

EXPECTED_HEADER = """\
# ONNX backend tests (utils/gpu_compile.py) whose models Kiln must compile
# to PTX for NVIDIA GPUs (sm_80 and sm_90), one <suite>/<test> per line.
# The list only grows: after making more compile, add them with
#   /usr/bin/python3 utils/gpu_compile.py --update-expected test/e2e/gpu_compile_expected.txt
"""


def check_ptx(path, sm):
    """'' if the PTX at path is fine for sm, else what is wrong."""
    try:
        with open(path) as f:
            ptx = f.read()
    except OSError as e:
        return "no PTX written: %s" % e
    if not re.search(r"^\.target %s\b" % sm, ptx, re.M):
        return "the PTX is not for %s" % sm
    if ".visible .entry" not in ptx:
        return "the PTX has no kernel"
    extern = re.findall(r"^\s*\.extern\b.*", ptx, re.M)
    if extern:
        return "the PTX declares %s" % extern[0].strip()
    return ""


def compile_one(job):
    name, test_dir, sm, kiln, work, timeout = job
    out = os.path.join(work, name.replace("/", "_") + "." + sm + ".ptx")
    argv = [kiln, "compile", os.path.join(test_dir, "model.onnx"),
            "--target", "nvptx64-nvidia-cuda", "--cpu", sm, "-o", out]
    rc, text, timed_out = bt.run_command(argv, timeout)
    if timed_out:
        return name, sm, "timeout after %d s" % timeout
    if rc != 0:
        return name, sm, bt.first_error_line(text) or bt.describe_rc(rc)
    problem = check_ptx(out, sm)
    os.unlink(out)
    return name, sm, problem


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kiln", default=os.path.join(bt.REPO_ROOT, "build", "bin", "kiln"))
    ap.add_argument("--data", default=bt.DEFAULT_DATA)
    ap.add_argument("--sms", default="sm_80,sm_90")
    ap.add_argument("--filter", metavar="REGEX")
    ap.add_argument("--expected", metavar="FILE")
    ap.add_argument("--update-expected", metavar="FILE")
    ap.add_argument("--report", metavar="FILE", help="a TSV of every test, SM and reason")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=int, default=120)
    args = ap.parse_args()

    sms = [s for s in args.sms.split(",") if s]
    tests = bt.discover(args.data, bt.SUITES,
                        re.compile(args.filter) if args.filter else None)
    if not tests:
        print("no tests found under %s" % args.data)
        return 1
    work = tempfile.mkdtemp(prefix="kiln-gpu-compile-")
    jobs = [(n, d, sm, args.kiln, work, args.timeout) for n, d in tests for sm in sms]
    results = collections.defaultdict(dict)  # name -> sm -> problem
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for name, sm, problem in pool.map(compile_one, jobs):
            results[name][sm] = problem
    os.rmdir(work)

    passing = sorted(n for n, r in results.items() if not any(r.values()))
    reasons = collections.Counter(
        bt.normalize_reason(p) for r in results.values() for p in r.values() if p)
    if args.report:
        with open(args.report, "w") as f:
            for name in sorted(results):
                for sm in sms:
                    f.write("%s\t%s\t%s\n" % (name, sm, results[name][sm] or "pass"))
    if reasons:
        print("top reasons a model does not compile for the GPU:")
        for why, n in reasons.most_common(20):
            print("  %5d  %s" % (n, why))

    status = 0
    if args.expected:
        _, expected = bt.read_expected(args.expected)
        missing = sorted(n for n in expected if n in results and any(results[n].values()))
        for n in missing:
            bad = [sm for sm in sms if results[n][sm]]
            print("FAIL %s (%s): %s" % (n, ", ".join(bad), results[n][bad[0]]))
        if missing:
            status = 1
    if args.update_expected:
        header, entries = bt.read_expected(args.update_expected)
        if not header:
            header = EXPECTED_HEADER.rstrip("\n").split("\n")
        for n in passing:
            entries.setdefault(n, n)
        bt.write_expected(args.update_expected, header, entries)
        print("%s: %d tests" % (args.update_expected, len(entries)))
    print(", ".join("%d of %d compile for %s" % (
        sum(1 for r in results.values() if not r[sm]), len(results), sm) for sm in sms))
    return status


if __name__ == "__main__":
    sys.exit(main())
