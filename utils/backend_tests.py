#!/usr/bin/python3
"""Runs the ONNX backend conformance suite through Kiln.

Each test under /usr/share/libonnx-testdata/data/{node,simple,pytorch-converted,
pytorch-operator} is a folder holding model.onnx and test_data_set_*/ with
input_<i>.pb and output_<i>.pb. For each test this compiles the model to an
executable (`kiln compile model.onnx --emit=exe -O1 -o WORK/<test>/model`), runs
it on every data set (`model input_0.pb ... --output-dir DIR`) and compares each
DIR/output_<i>.pb with the reference: same shape, same dtype kind, floats within
rtol 1e-3 / atol 1e-5 (NaNs equal), everything else exactly; a sequence or
optional output (a SequenceProto / OptionalProto) must hold the same: a value or
none, as many elements, each compared so. A test folder
may hold tolerance.txt ("RTOL ATOL") for an algorithm that rounds differently
(Kiln's own kernel tests: Winograd convolutions).

Test names are <suite>/<folder>, e.g. node/test_add.

With --expected FILE, the run fails (exit 1) if any test listed there fails;
the last line is "<P> passed, <F> failed" where P counts all passing tests and
F the listed tests that failed (every failure when no list is given). The list
only grows: --update-expected FILE adds the tests that pass now.

Run it with /usr/bin/python3 (Debian's python3-onnx and python3-numpy).
"""

import argparse
import collections
import concurrent.futures
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = "/usr/share/libonnx-testdata/data"
SUITES = ("node", "simple", "pytorch-converted", "pytorch-operator")
STATUSES = ("pass", "compile-fail", "run-fail", "mismatch", "timeout")
RTOL, ATOL = 1e-3, 1e-5
EXPECTED_HEADER = """\
# ONNX backend tests (utils/backend_tests.py) that Kiln must pass, one
# <suite>/<test> name per line; '#' starts a comment.
#
# The rule: this list only grows. ctest's `backend` test fails if any test
# named here fails. After making more tests pass, add them with
#   /usr/bin/python3 utils/backend_tests.py --kiln build/bin/kiln \\
#       --update-expected test/e2e/backend_expected.txt
# which rewrites the list as the sorted union of its old entries and every
# test that passes now. Never delete an entry to make CI green; fix the
# regression instead.
"""


# --- running one test ---------------------------------------------------------

def run_command(argv, timeout, cwd=None):
    """Runs argv in its own process group; returns (rc, output, timed_out).

    On timeout the whole group (e.g. the compiler and the linker it started) is
    killed. rc is negative for a signal, as in subprocess.
    """
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
    except OSError as e:
        return 127, "cannot run %s: %s" % (argv[0], e), False
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out.decode("utf-8", "replace"), False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, _ = proc.communicate()
        return None, out.decode("utf-8", "replace"), True


LINKER_RE = re.compile(r"undefined reference|multiple definition|cannot find -l|relocation .* against")


def first_error_line(text):
    """The line that best says what went wrong: the first line starting with
    `error:` (for a failed link, the linker's own complaint), else the first
    line holding `error`, else the first non-empty one."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    own = [l for l in lines if l.lower().startswith("error:")]
    if own and "link" in own[0].lower():
        linker = [l for l in lines if LINKER_RE.search(l)]
        if linker:
            return "error: %s: %s" % (own[0].split(":", 2)[1].strip() if ":" in own[0] else own[0],
                               linker[0])
    if own:
        return own[0]
    for l in lines:
        if "error" in l.lower():
            return l
    return lines[0] if lines else ""


def describe_rc(rc):
    if rc is not None and rc < 0:
        try:
            return "killed by %s" % signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "exit code %s" % rc


def load_tensor(path):
    import onnx
    from onnx import numpy_helper
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


BF16_RTOL = 2.0 ** -7  # one bfloat16 ulp, relative


def bfloat16_ios(model_path):
    """Positions of the model's (non-initializer) inputs and outputs of
    element type BFLOAT16."""
    import onnx
    m = onnx.load(model_path, load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    ins = [v for v in m.graph.input if v.name not in inits]
    bf16 = onnx.TensorProto.BFLOAT16
    pick = lambda vs: {i for i, v in enumerate(vs)
                       if v.type.HasField("tensor_type") and v.type.tensor_type.elem_type == bf16}
    return pick(ins), pick(m.graph.output)


def retag_bfloat16(src, dst):
    """ONNX's test data stores bfloat16 inputs as UINT16 tensors of their
    bits: the same bytes, tagged BFLOAT16, written to dst."""
    import onnx
    t = onnx.TensorProto()
    with open(src, "rb") as f:
        t.ParseFromString(f.read())
    if t.data_type != onnx.TensorProto.UINT16:
        return src
    t.data_type = onnx.TensorProto.BFLOAT16
    with open(dst, "wb") as f:
        f.write(t.SerializeToString())
    return dst


def handle_outputs(model_path):
    """{position: "sequence_type" or "optional_type"} of the model's outputs
    that are sequences or optionals."""
    import onnx
    m = onnx.load(model_path, load_external_data=False)
    return {i: v.type.WhichOneof("value") for i, v in enumerate(m.graph.output)
            if v.type.WhichOneof("value") in ("sequence_type", "optional_type")}


def load_handle(path, kind):
    """A SequenceProto as a list of arrays; an OptionalProto as None or its
    value (an array or a list)."""
    import onnx
    from onnx import numpy_helper
    msg = onnx.SequenceProto() if kind == "sequence_type" else onnx.OptionalProto()
    with open(path, "rb") as f:
        msg.ParseFromString(f.read())
    if kind == "sequence_type":
        return numpy_helper.to_list(msg)
    return numpy_helper.to_optional(msg)


def compare_handle(expected, actual, what, rtol=None, atol=None):
    """compare() for the values load_handle returns."""
    def kind(v):
        return "none" if v is None else "a sequence" if isinstance(v, list) else "a tensor"
    if kind(expected) != kind(actual):
        return "%s: %s, expected %s" % (what, kind(actual), kind(expected))
    if not isinstance(expected, list):
        return None if expected is None else compare(expected, actual, what, rtol, atol)
    if len(expected) != len(actual):
        return "%s: %d elements, expected %d" % (what, len(actual), len(expected))
    for i, (e, a) in enumerate(zip(expected, actual)):
        why = compare_handle(e, a, "%s[%d]" % (what, i), rtol, atol)
        if why:
            return why
    return None


def bfloat16_bits_to_float(bits):
    import numpy as np
    return (bits.astype(np.uint32) << 16).view(np.float32)


# Ops with random outputs: their values cannot match the reference's (drawn
# by NumPy), so the check is shape, type and the set of values they may take.
RANDOM_TESTS = re.compile(r"^node/test_(bernoulli|training_dropout(?!_zero_ratio))")


def check_random(name, ds_dir, res_dir, expected, actual, what):
    """None when a random output has the reference's shape and type and
    values it may take, else a short reason."""
    import numpy as np
    if expected.shape != actual.shape:
        return "%s: shape %s, expected %s" % (what, list(actual.shape), list(expected.shape))
    if expected.dtype != actual.dtype:
        return "%s: dtype %s, expected %s" % (what, actual.dtype, expected.dtype)
    if "bernoulli" in name:
        if not np.isin(actual, [0, 1]).all():
            return "%s: values other than 0 and 1" % what
        return None
    # Dropout in training: each output is 0 or x / (1 - ratio); the mask
    # says which.
    inputs = numbered(ds_dir, "input")
    x = load_tensor(inputs[0])
    ratio = float(load_tensor(inputs[1])) if len(inputs) > 1 else 0.5
    kept = x * np.float32(1.0 / (1.0 - ratio))
    if what.endswith("output_1"):
        out = load_tensor(os.path.join(res_dir, "output_0.pb"))
        agree = np.where(actual, np.isclose(out, kept, rtol=RTOL, atol=ATOL), out == 0)
        return None if agree.all() else "%s: the mask disagrees with output_0" % what
    ok = (actual == 0) | np.isclose(actual, kept, rtol=RTOL, atol=ATOL)
    if not ok.all():
        return "%s: values other than 0 and x / (1 - ratio)" % what
    frac = float(np.mean(actual != 0)) if actual.size else 1.0
    if actual.size >= 50 and abs(frac - (1 - ratio)) > 0.25:
        return "%s: kept %.2f of the elements at ratio %.2f" % (what, frac, ratio)
    return None


def compare(expected, actual, what, rtol=None, atol=None):
    """Returns None when they agree, else a short reason."""
    rtol = RTOL if rtol is None else rtol
    atol = ATOL if atol is None else atol
    import numpy as np
    if expected.shape != actual.shape:
        return "%s: shape %s, expected %s" % (what, list(actual.shape), list(expected.shape))
    if expected.dtype.kind != actual.dtype.kind:
        return "%s: dtype %s, expected %s" % (what, actual.dtype, expected.dtype)
    if expected.dtype.kind in "fc":
        e = expected.astype(np.complex128 if expected.dtype.kind == "c" else np.float64)
        a = actual.astype(e.dtype)
        ok = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
        if ok.all():
            return None
        bad = np.argwhere(~ok)
        idx = tuple(int(i) for i in bad[0])
        with np.errstate(invalid="ignore"):
            diff = np.abs(a - e)
        finite = diff[np.isfinite(diff)]
        maxerr = float(finite.max()) if finite.size else float("nan")
        return "%s: %d of %d values differ, max abs err %.3g; at %s got %r, expected %r" % (
            what, len(bad), e.size, maxerr, list(idx), a[idx].item(), e[idx].item())
    ok = expected == actual
    if np.all(ok):
        return None
    bad = np.argwhere(~np.asarray(ok)) if expected.ndim else [()]
    idx = tuple(int(i) for i in bad[0])
    return "%s: %d of %d values differ; at %s got %r, expected %r" % (
        what, len(bad), expected.size, list(idx), actual[idx].item(), expected[idx].item())


def numbered(folder, prefix):
    """Files prefix_<i>.pb in folder, ordered by i."""
    found = []
    for name in os.listdir(folder):
        m = re.fullmatch(re.escape(prefix) + r"_(\d+)\.pb", name)
        if m:
            found.append((int(m.group(1)), os.path.join(folder, name)))
    return [p for _, p in sorted(found)]


# Operand positions whose dims the operator fixes (None: every dim of the
# input, e.g. a shape operand's length, the rank of a result; else the dims).
SHAPE_OPERANDS = {
    "Reshape": {1: None}, "Expand": {1: None}, "Tile": {1: None},
    "ConstantOfShape": {0: None}, "Slice": {1: None, 2: None, 3: None, 4: None},
    "Pad": {1: None, 3: None}, "Resize": {1: None, 2: None, 3: None},
    "Upsample": {1: None}, "Squeeze": {1: None}, "Unsqueeze": {1: None},
    "Reduce": {1: None}, "Split": {1: None}, "TopK": {1: None},
    "OneHot": {1: None, 2: None}, "NonMaxSuppression": {0: [2]},
}


def make_dims_symbolic(model_path, out_path):
    """Writes a copy of the model whose graph inputs have every dimension of
    size > 1 symbolic, and returns the --max-dim arguments that bound them.

    A dimension of size N is named nN, so dims that are equal in the test's
    data share one symbol, as an exporter names the dims that must agree;
    each is bounded at 2N, so the buffers are planned larger than the data.
    Size-1 (broadcast) and size-0 dims stay static: a symbolic dim of size 1
    would ask for run-time broadcasting, which Kiln does not compile. So do
    the dims the operator fixes rather than the data (SHAPE_OPERANDS): the
    length of an input that gives a shape, axes, sizes, scales, pads or
    repeats is the rank of a result or of the input it describes, and a
    box has 4 coordinates. The graph's declared output and intermediate
    shapes are dropped (they would pin the dims again); inputs that are
    initializers stay constant.
    """
    import onnx
    model = onnx.load(model_path, load_external_data=False)
    graph = model.graph
    constants = {t.name for t in graph.initializer}
    fixed = {}  # input name -> dims the operator fixes (None: all of them)
    for node in graph.node:
        op = "Reduce" if node.op_type.startswith("Reduce") else node.op_type
        for position, dims in SHAPE_OPERANDS.get(op, {}).items():
            if position < len(node.input) and node.input[position]:
                name = node.input[position]
                old = fixed.get(name, set())
                fixed[name] = None if dims is None or old is None else old | set(dims)
    names = {}
    for value in graph.input:
        if value.name in constants or not value.type.HasField("tensor_type"):
            continue
        tensor = value.type.tensor_type
        if not tensor.HasField("shape"):
            continue
        if value.name in fixed and fixed[value.name] is None:
            continue
        for i, dim in enumerate(tensor.shape.dim):
            if i in fixed.get(value.name, ()):
                continue
            if dim.HasField("dim_value") and dim.dim_value > 1:
                size = dim.dim_value
                dim.ClearField("dim_value")
                dim.dim_param = "n%d" % size
                names[dim.dim_param] = 2 * size
    for value in graph.output:
        if value.type.HasField("tensor_type"):
            value.type.tensor_type.ClearField("shape")
    del graph.value_info[:]
    onnx.save(model, out_path)
    return ["--max-dim=%s=%d" % (n, m) for n, m in sorted(names.items())]


def run_test(job):
    """Compiles and runs one test; returns (name, status, reason, seconds)."""
    name, test_dir, work, kiln, kiln_args, timeout, keep, runner, dynamic = job
    try:
        return compile_and_run(name, test_dir, work, kiln, kiln_args, timeout, runner,
                               dynamic)
    except Exception as e:  # a bug here must not take the whole run down
        return name, "run-fail", "harness error: %r" % e, 0.0
    finally:
        if not keep:
            shutil.rmtree(os.path.join(work, name), ignore_errors=True)


def data_set_names(test_dir):
    return sorted(d for d in os.listdir(test_dir) if d.startswith("test_data_set_"))


class OutputChecks:
    """How a test's outputs are checked (its tolerance, bfloat16 and
    sequence outputs), and the inputs to give it (bfloat16 ones retagged)."""

    def __init__(self, model, test_dir):
        self.tol = (None, None)
        tol_file = os.path.join(test_dir, "tolerance.txt")
        if os.path.isfile(tol_file):
            with open(tol_file) as f:
                self.tol = tuple(float(x) for x in f.read().split()[:2])
        self.bf16_inputs, self.bf16_outputs = bfloat16_ios(model)
        self.handles = handle_outputs(model)

    def inputs(self, ds_dir, res_dir):
        """The data set's input files, bfloat16 ones retagged into res_dir."""
        return [retag_bfloat16(f, os.path.join(res_dir, "bf16_" + os.path.basename(f)))
                if i in self.bf16_inputs else f
                for i, f in enumerate(numbered(ds_dir, "input"))]

    def check(self, name, ds, ds_dir, res_dir):
        """("", "") if res_dir holds the outputs ds_dir expects, else
        ("mismatch", what differs)."""
        import numpy as np
        for ref in numbered(ds_dir, "output"):
            base = os.path.basename(ref)
            got_path = os.path.join(res_dir, base)
            if not os.path.isfile(got_path):
                return "mismatch", "%s: %s not written" % (ds, base)
            kind = self.handles.get(int(base[len("output_"):-3]))
            if kind:
                try:
                    expected = load_handle(ref, kind)
                except Exception as e:
                    return "mismatch", "%s: cannot read reference %s: %s" % (ds, base, e)
                try:
                    actual = load_handle(got_path, kind)
                except Exception as e:
                    return "mismatch", "%s: cannot read %s: %s" % (ds, base, e)
                why = compare_handle(expected, actual, "%s/%s" % (ds, base[:-3]), *self.tol)
                if why:
                    return "mismatch", why
                continue
            try:
                expected = load_tensor(ref)
            except Exception as e:
                return "mismatch", ("%s: cannot read reference %s as a tensor: %s"
                                    % (ds, base, e))
            try:
                actual = load_tensor(got_path)
            except Exception as e:
                return "mismatch", "%s: cannot read %s: %s" % (ds, base, e)
            rtol, atol = self.tol
            if int(base[len("output_"):-3]) in self.bf16_outputs and expected.dtype == np.uint16:
                # bfloat16 references are stored as their bits (numpy has no
                # bfloat16); compare the values to one bfloat16 ulp.
                expected = bfloat16_bits_to_float(expected)
                rtol = BF16_RTOL
            if RANDOM_TESTS.match(name):
                why = check_random(name, ds_dir, res_dir, expected, actual,
                                   "%s/%s" % (ds, base[:-3]))
            else:
                why = compare(expected, actual, "%s/%s" % (ds, base[:-3]), rtol, atol)
            if why:
                return "mismatch", why
        return "", ""


def compile_and_run(name, test_dir, work, kiln, kiln_args, timeout, runner=(),
                    dynamic=None):
    start = time.monotonic()

    def result(status, reason=""):
        reason = " ".join(reason.split())[:300]
        return name, status, reason, time.monotonic() - start

    out_dir = os.path.join(work, name)
    os.makedirs(out_dir, exist_ok=True)
    exe = os.path.join(out_dir, "model")
    model = os.path.join(test_dir, "model.onnx")
    if dynamic:
        # (no backend test keeps external data, which would need copying)
        symbolic = os.path.join(out_dir, "model.onnx")
        bounds = make_dims_symbolic(model, symbolic)
        if dynamic == "all":
            kiln_args = kiln_args + bounds
        model = symbolic
    argv = [kiln, "compile", model, "--emit=exe", "-o", exe] + kiln_args
    rc, out, timed_out = run_command(argv, timeout)
    if timed_out:
        return result("timeout", "compile timed out after %d s" % timeout)
    if rc != 0:
        return result("compile-fail", first_error_line(out) or describe_rc(rc))
    if not os.path.isfile(exe):
        return result("compile-fail", "kiln exited 0 but wrote no %s" % exe)

    data_sets = data_set_names(test_dir)
    if not data_sets:
        return result("run-fail", "no test_data_set_* folder")
    checks = OutputChecks(model, test_dir)
    for ds in data_sets:
        ds_dir = os.path.join(test_dir, ds)
        res_dir = os.path.join(out_dir, ds)
        shutil.rmtree(res_dir, ignore_errors=True)
        os.makedirs(res_dir)
        inputs = checks.inputs(ds_dir, res_dir)
        rc, out, timed_out = run_command(
            list(runner) + [exe] + inputs + ["--output-dir", res_dir],
            timeout)
        if timed_out:
            return result("timeout", "%s: run timed out after %d s" % (ds, timeout))
        if rc != 0:
            line = first_error_line(out)
            return result("run-fail", "%s: %s%s" % (ds, describe_rc(rc),
                                                    ": " + line if line else ""))
        status, why = checks.check(name, ds, ds_dir, res_dir)
        if status:
            return result(status, why)
    return result("pass")


# --- the expectation list -----------------------------------------------------

def read_expected(path):
    """Returns (header lines, {name: original line}) of an expectation list."""
    header, entries = [], {}
    if not os.path.exists(path):
        return header, entries
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            name = line.split("#", 1)[0].strip()
            if name:
                entries[name] = line.strip()
            elif not entries:
                header.append(line)
    return header, entries


def write_expected(path, header, entries):
    while header and not header[-1].strip():
        header.pop()
    text = "\n".join(header) + "\n\n" if header else EXPECTED_HEADER + "\n"
    text += "".join(entries[n] + "\n" for n in sorted(entries))
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# --- summary ------------------------------------------------------------------

UNSUPPORTED_RE = re.compile(
    r"unsupported (?:onnx )?(?:op(?:erator)?|node)s?\b[^'\"`\w]*['\"`]?(?:onnx\.)?([A-Za-z_][\w.]*)",
    re.IGNORECASE)


def normalize_reason(reason):
    r = re.sub(r"^.*?error:\s*", "", reason)
    r = re.sub(r"(?<!\w)(/[\w.+-]+)+", "<path>", r)
    r = re.sub(r"\btest_data_set_\d+", "<set>", r)
    r = re.sub(r"\b0x[0-9a-fA-F]+\b", "0xN", r)
    r = re.sub(r"\b\d+(\.\d+)?(e[-+]?\d+)?\b", "N", r)
    return r[:120]


def print_summary(results, total):
    by_status = collections.Counter(status for _, status, _, _ in results)
    print("\nby status:")
    for s in STATUSES:
        if by_status[s]:
            print("  %-13s %5d" % (s, by_status[s]))

    unsupported = collections.Counter()
    other = collections.Counter()
    for _, status, reason, _ in results:
        if status == "pass":
            continue
        m = UNSUPPORTED_RE.search(reason)
        if m and status == "compile-fail":
            unsupported[m.group(1)] += 1
        else:
            other["%s: %s" % (status, normalize_reason(reason))] += 1
    if unsupported:
        print("\ntop unsupported ops (tests blocked):")
        for op, n in unsupported.most_common(25):
            print("  %5d  %s" % (n, op))
    if other:
        print("\ntop other failure reasons:")
        for why, n in other.most_common(15):
            print("  %5d  %s" % (n, why))


# --- main ---------------------------------------------------------------------

def discover(data_dir, suites, pattern):
    tests = []
    for suite in suites:
        root = os.path.join(data_dir, suite)
        if not os.path.isdir(root):
            continue
        for d in sorted(os.listdir(root)):
            name = "%s/%s" % (suite, d)
            test_dir = os.path.join(root, d)
            if not os.path.isfile(os.path.join(test_dir, "model.onnx")):
                continue
            if pattern and not pattern.search(name):
                continue
            tests.append((name, test_dir))
    return tests


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit status: 0, or 1 when a test in --expected fails, 2 on a usage error.")
    ap.add_argument("--kiln", default=os.path.join(REPO_ROOT, "build", "bin", "kiln"),
                    help="the kiln compiler (default: build/bin/kiln)")
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help="the backend test data (default: %(default)s)")
    ap.add_argument("--suites", default=",".join(SUITES),
                    help="comma-separated suites (default: %(default)s)")
    ap.add_argument("--work", help="keep compiled models and outputs here "
                    "(default: a temporary folder, removed afterwards)")
    ap.add_argument("--expected", metavar="FILE",
                    help="tests that must pass; exit 1 if any of them fails")
    ap.add_argument("--update-expected", metavar="FILE",
                    help="add every passing test to FILE (the list only grows)")
    ap.add_argument("--filter", metavar="REGEX", help="run only tests whose name matches")
    ap.add_argument("--report", metavar="FILE",
                    help="write a TSV: name, status, reason")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                    help="tests run in parallel (default: %(default)s)")
    ap.add_argument("-O", dest="opt", default="1", choices="0123",
                    help="optimization level passed to kiln (default: 1)")
    ap.add_argument("--kiln-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for kiln compile (repeatable)")
    ap.add_argument("--target", metavar="TRIPLE",
                    help="compile for this target (kiln --target), e.g. aarch64-linux-gnu")
    ap.add_argument("--runner", metavar="CMD",
                    help="run each compiled model under this command, e.g. "
                    "'qemu-aarch64 -L /usr/aarch64-linux-gnu'")
    ap.add_argument("--only-expected", action="store_true",
                    help="run only the tests listed in --expected")
    ap.add_argument("--timeout", type=int, default=60,
                    help="seconds allowed for each compile and each run (default: 60)")
    ap.add_argument("--dynamic-dims", choices=("none", "all", "unbounded"),
                    default="none",
                    help="all: compile each test with every input dim of size > 1 "
                    "symbolic (named nN for size N, bounded by --max-dim at 2N; "
                    "the dims an operator fixes, such as a shape input's length, "
                    "stay static); "
                    "unbounded: the same dims with no bound (arena sized at run time)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print every failure, not only the expected ones")
    args = ap.parse_args()

    kiln = os.path.abspath(args.kiln)
    if not (os.path.isfile(kiln) and os.access(kiln, os.X_OK)):
        print("error: kiln compiler not found at %s (build it first: ninja -C build)" % kiln,
              file=sys.stderr)
        return 2
    if not os.path.isdir(args.data):
        print("error: no backend test data at %s (apt-get install libonnx-testdata)"
              % args.data, file=sys.stderr)
        return 2
    try:
        import numpy  # noqa: F401
        import onnx  # noqa: F401
    except ImportError as e:
        print("error: %s; run this script with /usr/bin/python3 "
              "(python3-onnx, python3-numpy)" % e, file=sys.stderr)
        return 2
    try:
        pattern = re.compile(args.filter) if args.filter else None
    except re.error as e:
        print("error: bad --filter: %s" % e, file=sys.stderr)
        return 2

    suites = [s for s in args.suites.split(",") if s]
    tests = discover(args.data, suites, pattern)
    if not tests:
        print("error: no tests found under %s for suites %s%s" % (
            args.data, ",".join(suites), " matching " + args.filter if args.filter else ""),
              file=sys.stderr)
        return 2

    expected = None
    if args.expected:
        if not os.path.isfile(args.expected):
            print("error: no expectation list at %s" % args.expected, file=sys.stderr)
            return 2
        _, entries = read_expected(args.expected)
        expected = set(entries)

    work = args.work and os.path.abspath(args.work)
    temp_work = None
    if not work:
        temp_work = work = tempfile.mkdtemp(prefix="kiln-backend-")
    os.makedirs(work, exist_ok=True)

    if args.only_expected:
        if expected is None:
            print("error: --only-expected needs --expected", file=sys.stderr)
            return 2
        tests = [(n, d) for n, d in tests if n in expected]
    kiln_args = ["-O" + args.opt] + args.kiln_arg
    if args.target:
        kiln_args.append("--target=" + args.target)
    runner = tuple(shlex.split(args.runner)) if args.runner else ()
    keep = temp_work is None  # keep the files only in a folder the user named
    dynamic = args.dynamic_dims if args.dynamic_dims != "none" else None
    jobs = [(name, d, work, kiln, kiln_args, args.timeout, keep, runner, dynamic)
            for name, d in tests]
    print("backend: running %d tests with %s (-j %d)" % (len(jobs), kiln, args.jobs),
          flush=True)
    results = []
    start = time.monotonic()
    try:
        with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for i, r in enumerate(pool.map(run_test, jobs, chunksize=1), 1):
                results.append(r)
                if args.verbose and r[1] != "pass":
                    print("  %-13s %s: %s" % (r[1], r[0], r[2]), flush=True)
                if i % 100 == 0:
                    print("  ... %d/%d done, %d passing, %.0f s" % (
                        i, len(jobs), sum(x[1] == "pass" for x in results),
                        time.monotonic() - start), flush=True)
    finally:
        if temp_work:
            shutil.rmtree(temp_work, ignore_errors=True)

    if args.report:
        with open(args.report, "w") as f:
            f.write("name\tstatus\treason\n")
            for name, status, reason, _ in results:
                f.write("%s\t%s\t%s\n" % (name, status, reason.replace("\t", " ")))

    print_summary(results, len(results))
    slow = sorted(results, key=lambda r: -r[3])[:5]
    print("\nslowest: " + ", ".join("%s %.1f s" % (r[0], r[3]) for r in slow))

    status_of = {name: status for name, status, _, _ in results}
    reason_of = {name: reason for name, _, reason, _ in results}
    passed = sorted(n for n, s in status_of.items() if s == "pass")

    if expected is not None:
        ran = set(status_of)
        listed = sorted(n for n in expected if n.split("/", 1)[0] in suites
                        and (not pattern or pattern.search(n)))
        failures = [n for n in listed if status_of.get(n) != "pass"]
        if failures:
            print("\nFAILED: %d test(s) from %s:" % (len(failures), args.expected))
            for n in failures:
                if n in ran:
                    print("  %s: %s: %s" % (n, status_of[n], reason_of[n]))
                else:
                    print("  %s: not found in %s (suites %s)" % (n, args.data, ",".join(suites)))
        newly = [n for n in passed if n not in expected]
        if newly:
            print("\n%d test(s) pass but are not in %s; add them with --update-expected"
                  % (len(newly), args.expected))
    else:
        failures = sorted(n for n, s in status_of.items() if s != "pass")

    if args.update_expected:
        header, entries = read_expected(args.update_expected)
        before = len(entries)
        for n in passed:
            entries.setdefault(n, n)
        write_expected(args.update_expected, header, entries)
        print("\nupdated %s: %d -> %d entries" % (args.update_expected, before, len(entries)))

    print("\ntime: %.0f s" % (time.monotonic() - start))
    print("backend: %d of %d tests pass" % (len(passed), len(results)))
    print("%d passed, %d failed" % (len(passed), len(failures)))
    return 1 if (expected is not None and failures) else 0


if __name__ == "__main__":
    sys.exit(main())
