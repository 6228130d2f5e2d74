"""bench.py's report: markdown tables, the geometric means, the machine and
versions, and docs/performance.md."""

import json
import math
import os
import shlex
import subprocess

from bench_models import HERE, ROOT, log

TINY_GFLOP = 0.01  # below this, per-call overhead dominates a model's latency


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


def fmt_mib(x):
    return "?" if x is None else "%.2f" % (x / 2**20)


def md_table(hdr, rows, left=1):
    """A markdown table; the first `left` columns left-aligned, the others
    right."""
    lines = ["| " + " | ".join(hdr) + " |",
             "|" + "|".join(["---"] * left + ["---:"] * (len(hdr) - left)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def gflops(gflop, ms):
    return gflop / (ms / 1000.0) if ms > 0 else float("nan")


def pct_of_peak(gfs, threads, meta):
    """`gfs` as a percentage of the FMA peak of `threads` cores."""
    peak = meta.get("peak")
    if not peak:
        return "?"
    return "%.0f%%" % (100.0 * gfs / (threads * peak["gflops"]))


def latency_table(results, meta):
    hdr = ["model", "threads", "Kiln ms", "ORT ms", "ratio (Kiln/ORT)", "Kiln GFLOP/s",
           "Kiln % of peak", "bg"]
    rows = []
    for r in results:
        for row in r["rows"]:
            gfs = gflops(r["gflop"], row["kiln_ms"])
            rows.append([r["model"], str(row["threads"]), fmt_ms(row["kiln_ms"]),
                         fmt_ms(row["ort_ms"]), "%.2f" % row["ratio"], fmt_g(gfs),
                         pct_of_peak(gfs, row["threads"], meta),
                         "%.2f" % max(row["kiln_bg"], row["ort_bg"])])
    return md_table(hdr, rows)


def facts_table(results):
    hdr = ["model", "GFLOP", "compile s", "binary MiB", "arena MiB", "intermediates MiB",
           "arena / intermediates", "max abs diff / max abs output"]
    rows = []
    for r in results:
        if not r["rows"]:
            continue
        arena, inter = r.get("arena_bytes"), r.get("inter_bytes")
        if inter is not None and r.get("inter_unknown"):
            inter = None  # a partial sum would flatter the arena
        diff = r.get("diff")
        rows.append([
            r["model"], "%.3g" % r["gflop"], "%.1f" % r["compile_s"],
            "%.1f" % (r["binary_bytes"] / 2**20), fmt_mib(arena), fmt_mib(inter),
            "%.0f%%" % (100.0 * arena / inter) if arena is not None and inter else "?",
            "?" if diff is None else "%.2g" % diff if r.get("out_max") is None
            else "%.2g / %.2g" % (diff, r["out_max"])])
    return md_table(hdr, rows)


def gemm_table(gemms, meta):
    hdr = ["GEMM M x K x N", "like", "threads", "Kiln ms", "Kiln GFLOP/s", "Kiln % of peak",
           "ORT ms", "ORT GFLOP/s", "ORT % of peak", "bg"]
    rows = []
    for r in gemms:
        m, k, n, what = r["gemm"]
        for row in r["rows"]:
            t = row["threads"]
            kg, og = gflops(r["gflop"], row["kiln_ms"]), gflops(r["gflop"], row["ort_ms"])
            rows.append(["%d x %d x %d" % (m, k, n), what, str(t), fmt_ms(row["kiln_ms"]),
                         fmt_g(kg), pct_of_peak(kg, t, meta), fmt_ms(row["ort_ms"]),
                         fmt_g(og), pct_of_peak(og, t, meta),
                         "%.2f" % max(row["kiln_bg"], row["ort_bg"])])
    return md_table(hdr, rows, left=2)


def geo_means(results, thread_list):
    """One line per thread count: the geometric mean of the Kiln/ORT ratios."""
    def gmean(rows, t):
        ratios = [row["ratio"] for r, row in rows if row["threads"] == t and row["ratio"] > 0]
        if not ratios:
            return None, 0
        return math.exp(sum(math.log(x) for x in ratios) / len(ratios)), len(ratios)
    rows = [(r, row) for r in results for row in r["rows"]]
    big = [(r, row) for r, row in rows if r["gflop"] >= TINY_GFLOP]
    geo = []
    for t in thread_list:
        g, n = gmean(rows, t)
        if g is None:
            continue
        line = ("- geometric mean of Kiln/ORT at %d thread%s: **%.2f** (%d model%s)"
                % (t, "" if t == 1 else "s", g, n, "" if n == 1 else "s"))
        g2, n2 = gmean(big, t)
        if g2 is not None and n2 < n:
            line += "; **%.2f** without the models under %g GFLOP (%d)" % (g2, TINY_GFLOP, n2)
        geo.append(line)
    return geo


def ratio_svg(results, thread_list):
    """A bar chart of the Kiln/ORT latency ratio per model, one bar per thread
    count, as a standalone SVG (no plotting library): lines at 1.0 (parity)
    and 0.9 (the target), shorter bars are better."""
    rows = [(r["model"], {row["threads"]: row["ratio"] for row in r["rows"]
                          if row.get("ratio", 0) > 0})
            for r in results if r["rows"]]
    rows = [(m, by_t) for m, by_t in rows if by_t]
    if not rows:
        return None
    colors = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759"]
    threads = [t for t in thread_list if any(t in by_t for _, by_t in rows)]
    top = max(2.0, max(v for _, by_t in rows for v in by_t.values()) * 1.05)
    label_w, plot_w, bar_h, gap, head, foot = 190, 520, 11, 10, 34, 46
    group_h = bar_h * len(threads) + gap
    height = head + group_h * len(rows) + foot
    width = label_w + plot_w + 30

    def x(v):
        return label_w + plot_w * v / top

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="11">' % (width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="16" font-size="13" font-weight="bold">Kiln latency / '
           'ONNX Runtime latency (shorter is better)</text>' % label_w]
    for i, (model, by_t) in enumerate(rows):
        y0 = head + i * group_h
        out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>'
                   % (label_w - 6, y0 + bar_h * len(threads) / 2 + 4, model))
        for j, t in enumerate(threads):
            if t not in by_t:
                continue
            v = by_t[t]
            y = y0 + j * bar_h
            out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>'
                       % (label_w, y, x(v) - label_w, bar_h - 1, colors[j % len(colors)]))
            out.append('<text x="%.1f" y="%d" font-size="9">%.2f</text>'
                       % (x(v) + 3, y + bar_h - 2, v))
    axis_y = head + group_h * len(rows)
    for v, dash, name in [(1.0, "", "parity"), (0.9, "4,3", "target 0.9")]:
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black" '
                   'stroke-width="1"%s/>' % (x(v), head - 6, x(v), axis_y,
                                             ' stroke-dasharray="%s"' % dash if dash else ""))
        out.append('<text x="%.1f" y="%d" font-size="9" text-anchor="%s">%s</text>'
                   % (x(v), head - 9, "start" if v >= 1 else "end", name))
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>'
               % (label_w, axis_y, label_w + plot_w, axis_y))
    step = 0.5
    v = 0.0
    while v <= top + 1e-9:
        out.append('<text x="%.1f" y="%d" font-size="9" text-anchor="middle">%.1f</text>'
                   % (x(v), axis_y + 12, v))
        v += step
    for j, t in enumerate(threads):
        lx = label_w + j * 110
        out.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/>'
                   % (lx, axis_y + 22, colors[j % len(colors)]))
        out.append('<text x="%d" y="%d">%d thread%s</text>'
                   % (lx + 14, axis_y + 31, t, "" if t == 1 else "s"))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def peak_line(meta):
    p = meta.get("peak")
    if not p:
        return "- FMA peak: not measured"
    how = ("measured by `utils/bench/fma_peak.c`, %d-bit vectors" % p["vector_bits"]
           if p.get("vector_bits") else "given with --peak")
    return ("- FMA peak (fp32): **%.1f GFLOP/s per core** (%s); T threads: T x that"
            % (p["gflops"], how))


def render(args, results, gemms, meta):
    """The results as markdown: tables, geometric means, failures."""
    measured = [r for r in results if r["rows"]]
    parts = []
    if measured:
        parts += ["### Latency", latency_table(measured, meta),
                  "\n".join(geo_means(measured, args.threads)),
                  "### Compile time, memory, accuracy", facts_table(measured)]
    if any(r["rows"] for r in gemms):
        parts += ["### GEMM kernels (one MatMul, W constant)",
                  gemm_table([r for r in gemms if r["rows"]], meta)]
    fails = ["- %s (`%s`): %s" % (r["model"], r["dir"], r["error"])
             for r in results + gemms if r["error"]]
    if fails:
        parts += ["Not measured:", "\n".join(fails)]
    return "\n\n".join(p for p in parts if p) + "\n"


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

- **Kiln**: `kiln compile model.onnx -O{opt} --cpu={cpu} --emit=exe`, then
  `model INPUTS --bench N --threads T` (one warm-up run, then N timed calls of
  the model's `run` function; inputs, outputs and arena are allocated before).
- **ONNX Runtime**: [`utils/bench/ort_bench.js`](../utils/bench/ort_bench.js)
  (npm `onnxruntime-node`, CPU EP) with graph optimization level `all`,
  `intraOpNumThreads` T, `interOpNumThreads` 1, sequential execution; one
  warm-up, then N timed `session.run()` calls on tensors created beforehand.
- Kiln and ORT are run alternately, {reps} times each per model and thread
  count; each column is the best of those {reps} medians. Each Kiln run uses
  its own copy of the executable: where the page cache puts a file's
  weights moved a model's time by up to 7% between identical copies, as a
  fresh heap does for each ORT run. N is at least
  {kruns} (Kiln) and {oruns} (ORT), more for fast models (about {target:g} s of
  timed runs, at most {maxruns}).
- **ratio** = Kiln ms / ORT ms (lower is better); the geometric means are over
  the models of the table. **GFLOP** = 2 x
  multiply-accumulates of Conv, ConvTranspose, Gemm and MatMul (shapes from
  ONNX shape inference); **Kiln GFLOP/s** = GFLOP / Kiln median.
  **% of peak** = GFLOP/s against T x one core's fp32 FMA peak, measured on
  the same machine by [`utils/bench/fma_peak.c`](../utils/bench/fma_peak.c)
  (independent vector FMA chains, built with `cc -O2 -march=native`).
- **compile s** = wall time of `kiln compile` (at the load shown). **binary** =
  size of the executable, weights included. **arena** = the intermediate-tensor
  arena from `model --info`; **intermediates** = the sum of the sizes of all
  tensors the graph's nodes produce other than its outputs (Constant nodes
  aside; shapes from ONNX shape inference), i.e. the arena a planner that
  reused no memory would need. **max abs diff** = largest difference between
  Kiln's and ORT's outputs on the test input (next to the largest |output| of
  ORT, for scale).
- **GEMM kernels**: models of a single MatMul `Y[M, N] = W[M, K] x X[K, N]`
  (W an initializer), at square sizes and at the im2col GEMM shapes of
  ResNet's 3x3 convolutions at 224x224 (M output channels, K = 9 x input
  channels, N pixels), measured like the models.
- **bg** = CPU, in cores, that *other* processes used while the row's Kiln
  or ORT measurement ran (the larger of the two; from `/proc/stat` minus the
  benchmark's own CPU time). Measurements above {maxbg:g} cores were repeated
  (up to {retries} times), each after waiting up to {wait:g} s for the machine
  to be quiet.
"""


KEEP_MARKER = ("<!-- bench.py --write replaces everything above this line and keeps "
               "everything below it. -->")


def write_doc(path, args, body, meta):
    cmd = "/usr/bin/python3 " + " ".join(shlex.quote(a) for a in meta["argv"])
    text = DOC_HEAD.format(opt=args.opt, cpu=getattr(args, "cpu", "native"), reps=args.reps, kruns=args.kiln_runs,
                           oruns=args.ort_runs, target=args.target_s,
                           maxruns=args.max_runs, maxbg=args.max_bg, retries=args.retries,
                           wait=args.wait_quiet)
    text += "\n## Results\n\n"
    text += ("- machine: %s\n- date: %s\n- Kiln: %s; ONNX Runtime %s (onnxruntime-node, "
             "Node.js %s)\n- load average (1 min) at start / end: %.2f / %.2f\n%s\n"
             % (meta["machine"], meta["date"], meta["v"]["kiln"], meta["v"]["ort"],
                meta["v"]["node"], meta["load0"], meta["load1"], peak_line(meta)))
    text += "- command (from the repository root, after `cd utils/bench && npm install --ignore-scripts`):\n\n"
    text += "  ```sh\n  %s\n  ```\n\n" % cmd
    svg = ratio_svg([r for r in meta.get("results", []) if r["rows"]], args.threads)
    if svg:
        stem = os.path.splitext(os.path.basename(path))[0] + "-ratios.svg"
        with open(os.path.join(os.path.dirname(os.path.abspath(path)), stem), "w") as f:
            f.write(svg)
        log("wrote %s" % stem)
        text += "![Kiln/ORT latency ratio per model at each thread count](%s)\n\n" % stem
    text += body + "\n"
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


def report(args, results, gemms, meta, write_path):
    body = render(args, results, gemms, meta)
    print(body)
    print("machine: %s; %s; load average (1 min) start %.2f, end %.2f"
          % (meta["machine"], meta["date"], meta["load0"], meta["load1"]))
    print(peak_line(meta)[2:])
    if write_path:
        write_doc(write_path, args, body, dict(meta, results=results))
