#!/usr/bin/env bash
# Compiles examples/tinynet/model.onnx to every --emit kind, at -O0 and -O3,
# and proves each artifact works as README.md ("CLI reference") and
# docs/runtime-abi.md describe it:
#
#   obj        tinynet.o + tinynet.h: linked into examples/c-api/main.c, run on
#              input_0.bin, printed probabilities checked against output_0.pb
#   staticlib  libtinynet.a + tinynet.h: the same program linked with -ltinynet
#   so         libtinynet.so (+ header): examples/dlopen/main.c dlopens it,
#              discovers the signature through `kiln_model`, runs it on
#              input_0.pb and on its own deterministic pattern; both checked
#              against the exe run on the same input (and output_0.pb)
#   exe        run on input_0.pb; output_0.pb (and .npy) checked against the
#              reference
#   two models tinynet compiled twice as .o with --name netA / --name netB (one
#              -O0, one -O3), linked into one C program that runs both
#
#   bash test/e2e/emit_kinds.sh
#
# Environment: KILN (default build/bin/kiln), KILN_BUILD_DIR (default build),
# KILN_PYTHON (default /usr/bin/python3; needs onnx and numpy), CC (default cc).
# For another target: EMIT_TARGET (kiln --target, e.g. aarch64-linux-gnu; CC
# then defaults to that target's cross gcc and the runtime comes from
# build/lib/<target>/) and EMIT_RUNNER (runs the target's programs, e.g.
# "qemu-aarch64 -L /usr/aarch64-linux-gnu").
# Every check runs; the script prints PASS/FAIL for each and exits 1 if any
# failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${KILN_BUILD_DIR:-$ROOT/build}
KILN=${KILN:-$BUILD/bin/kiln}
PY=${KILN_PYTHON:-/usr/bin/python3}
TARGET=${EMIT_TARGET:-}
read -r -a RUNNER <<<"${EMIT_RUNNER:-}"
if [[ -n $TARGET ]]; then
  case $TARGET in
    armv7-*) default_cc=arm-${TARGET#*-}-gcc ;;
    *) default_cc=$TARGET-gcc ;;
  esac
  CC=${CC:-$default_cc}
  TARGET_FLAGS=(--target="$TARGET")
  RUNTIME_LIB=$BUILD/lib/$TARGET/libkiln_runtime.a
else
  CC=${CC:-cc}
  TARGET_FLAGS=()
  RUNTIME_LIB=$BUILD/lib/libkiln_runtime.a
fi
MODEL=$ROOT/examples/tinynet
WORK=$BUILD/test/e2e/emit_kinds${TARGET:+-$TARGET}
INCLUDES=(-I "$BUILD/include" -I "$ROOT/runtime/include")

if [[ ! -x "$KILN" ]]; then
  echo "error: kiln not found at $KILN (build it first: ninja -C build)" >&2
  exit 1
fi
if [[ ! -f "$RUNTIME_LIB" ]]; then
  echo "error: $RUNTIME_LIB not found (build it first: ninja -C build kiln_runtime)" >&2
  exit 1
fi
if ! "$PY" -c 'import numpy, onnx' 2>/dev/null; then
  echo "error: $PY lacks numpy or onnx (apt install python3-numpy python3-onnx)" >&2
  exit 1
fi

rm -rf "$WORK"
mkdir -p "$WORK"

FAILED=()
PASSED=0

# check NAME CMD...: runs CMD with stdout+stderr in $WORK/logs/NAME.log;
# records PASS or FAIL (printing the log on failure).
mkdir -p "$WORK/logs"
check() {
  local name=$1
  shift
  local log="$WORK/logs/$name.log"
  local rc=0
  "$@" >"$log" 2>&1 || rc=$?
  if ((rc == 0)); then
    echo "PASS $name"
    PASSED=$((PASSED + 1))
    return 0
  fi
  echo "FAIL $name (exit $rc)"
  sed 's/^/    | /' "$log" | tail -n 40
  FAILED+=("$name")
  return 1
}

# run CMD...: echoes and runs a command, failing (with its exit status
# reported, including a crash by signal) when it does.
run() {
  echo "+ $*" >&2
  "$@"
  local rc=$?
  if ((rc != 0)); then
    if ((rc >= 128)); then
      echo "error: '$1' crashed (exit $rc, signal $((rc - 128)))" >&2
    else
      echo "error: '$1' exited with $rc" >&2
    fi
    return 1
  fi
}

# need_file PATH...: every PATH exists and is non-empty.
need_file() {
  local f
  for f in "$@"; do
    if [[ ! -s "$f" ]]; then
      echo "error: expected output '$f' is missing or empty"
      ls -la "$(dirname "$f")" 2>&1
      return 1
    fi
  done
}

# The comparison helpers, one Python file with subcommands.
cat >"$WORK/compare.py" <<'PYEOF'
"""Comparison helpers for emit_kinds.sh.

  probs TEXT WANT.pb      lines 'class <i>: <p>' (examples/c-api/main.c) vs WANT
  dlopen TEXT WANT.pb     the values examples/dlopen/main.c printed for output 0
  tensor GOT WANT.pb      a .pb or .npy file vs WANT
  pattern OUT.pb          writes input 0 of tinynet as filled by
                          examples/dlopen/main.c when it is given no inputs
"""
import re
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def load(path):
    if path.endswith(".npy"):
        return np.load(path)
    return numpy_helper.to_array(onnx.load_tensor(path))


def compare(got, want, what, rtol=1e-4, atol=1e-5):
    got = np.asarray(got)
    if got.size != want.size:
        sys.exit("error: %s: %d values, expected %d" % (what, got.size, want.size))
    if not np.allclose(got.reshape(-1), want.reshape(-1), rtol=rtol, atol=atol):
        sys.exit("error: %s: %s differs from the reference %s (max abs error %g)"
                 % (what, got.reshape(-1), want.reshape(-1),
                    np.abs(got.reshape(-1) - want.reshape(-1)).max()))
    print("%s: matches (max abs error %.2g)"
          % (what, np.abs(got.reshape(-1) - want.reshape(-1)).max()))


def main():
    cmd = sys.argv[1]
    if cmd == "probs":
        text = open(sys.argv[2]).read()
        got = [float(m.group(1)) for m in
               re.finditer(r"^class \d+: ([-\d.eE+]+)$", text, re.M)]
        # main.c prints with %.4f: allow for the rounding.
        compare(got, load(sys.argv[3]), sys.argv[2], rtol=0, atol=1e-4)
    elif cmd == "dlopen":
        lines = open(sys.argv[2]).read().splitlines()
        heads = [i for i, l in enumerate(lines) if l.startswith("output 0 ")]
        if len(heads) != 1:
            sys.exit("error: %s: no 'output 0 ...:' line" % sys.argv[2])
        want = load(sys.argv[3])
        vals = lines[heads[0] + 1: heads[0] + 1 + want.size]
        compare([float(v) for v in vals], want, sys.argv[2],
                rtol=float(sys.argv[4]) if len(sys.argv) > 4 else 1e-4,
                atol=float(sys.argv[5]) if len(sys.argv) > 5 else 1e-5)
    elif cmd == "tensor":
        got, want = load(sys.argv[2]), load(sys.argv[3])
        if got.shape != want.shape or got.dtype != want.dtype:
            sys.exit("error: %s is %s%s, expected %s%s" % (
                sys.argv[2], got.dtype, list(got.shape), want.dtype, list(want.shape)))
        compare(got, want, sys.argv[2])
    elif cmd == "pattern":
        i = np.arange(1 * 3 * 16 * 16, dtype=np.int64)
        k = 0
        v = ((i * 7 + k * 13) % 17).astype(np.float64) / 8.0 - 1.0
        x = v.astype(np.float32).reshape(1, 3, 16, 16)
        onnx.save_tensor(numpy_helper.from_array(x, "image"), sys.argv[2])
    else:
        sys.exit("error: unknown subcommand %r" % cmd)


main()
PYEOF
compare() { "$PY" "$WORK/compare.py" "$@"; }

# The dlopen loader is model-independent: build it once.
check build_dlopen_loader run "$CC" -std=c11 -O2 -Wall -Wextra -Werror \
  "$ROOT/examples/dlopen/main.c" "${INCLUDES[@]}" "$RUNTIME_LIB" -ldl \
  -o "$WORK/kiln_dlopen"

for OPT in O0 O3; do
  D=$WORK/$OPT
  mkdir -p "$D"/{obj,staticlib,so,exe}

  # --- exe (first: the so check compares against it) -------------------------
  exe_check() {
    run "$KILN" compile "${TARGET_FLAGS[@]}" "$MODEL/model.onnx" --emit=exe -$OPT -o "$D/exe/tinynet" &&
      need_file "$D/exe/tinynet" &&
      run "${RUNNER[@]}" "$D/exe/tinynet" "$MODEL/input_0.pb" --output-dir "$D/exe/out" &&
      need_file "$D/exe/out/output_0.pb" &&
      compare tensor "$D/exe/out/output_0.pb" "$MODEL/output_0.pb" &&
      run "${RUNNER[@]}" "$D/exe/tinynet" "$MODEL/input_0.pb" --output-dir "$D/exe/out_npy" \
        --output-format=npy &&
      need_file "$D/exe/out_npy/output_0.npy" &&
      compare tensor "$D/exe/out_npy/output_0.npy" "$MODEL/output_0.pb"
  }
  check "$OPT.exe" exe_check

  # --- obj -------------------------------------------------------------------
  obj_check() {
    run "$KILN" compile "${TARGET_FLAGS[@]}" "$MODEL/model.onnx" --emit=obj --name tinynet -$OPT \
      -o "$D/obj/tinynet.o" &&
      need_file "$D/obj/tinynet.o" "$D/obj/tinynet.h" &&
      run "$CC" -std=c11 -O2 -Wall -Wextra "$ROOT/examples/c-api/main.c" \
        "$D/obj/tinynet.o" -lm -I "$D/obj" "${INCLUDES[@]}" -o "$D/obj/demo" &&
      run "${RUNNER[@]}" "$D/obj/demo" "$MODEL/input_0.bin" >"$D/obj/stdout.txt" &&
      cat "$D/obj/stdout.txt" &&
      compare probs "$D/obj/stdout.txt" "$MODEL/output_0.pb"
  }
  check "$OPT.obj" obj_check

  # --- staticlib -------------------------------------------------------------
  staticlib_check() {
    run "$KILN" compile "${TARGET_FLAGS[@]}" "$MODEL/model.onnx" --emit=staticlib --name tinynet -$OPT \
      -o "$D/staticlib/libtinynet.a" &&
      need_file "$D/staticlib/libtinynet.a" "$D/staticlib/tinynet.h" &&
      run "$CC" -std=c11 -O2 -Wall -Wextra "$ROOT/examples/c-api/main.c" \
        -I "$D/staticlib" "${INCLUDES[@]}" -L "$D/staticlib" -ltinynet -lm \
        -o "$D/staticlib/demo" &&
      run "${RUNNER[@]}" "$D/staticlib/demo" "$MODEL/input_0.bin" >"$D/staticlib/stdout.txt" &&
      cat "$D/staticlib/stdout.txt" &&
      compare probs "$D/staticlib/stdout.txt" "$MODEL/output_0.pb"
  }
  check "$OPT.staticlib" staticlib_check

  # --- so, loaded with dlopen --------------------------------------------------
  so_check() {
    local S=$D/so
    run "$KILN" compile "${TARGET_FLAGS[@]}" "$MODEL/model.onnx" --emit=so --name mystery_$OPT -$OPT \
      -o "$S/libtinynet.so" || return 1
    need_file "$S/libtinynet.so" "$S/tinynet.h" || return 1
    if [[ ! -x "$WORK/kiln_dlopen" ]]; then
      echo "error: the dlopen loader did not build (see build_dlopen_loader)"
      return 1
    fi
    if [[ ! -s "$D/exe/out/output_0.pb" ]]; then
      echo "error: no exe output to compare with (see $OPT.exe)"
      return 1
    fi
    # On the sample input: vs the reference and vs the exe's output.
    run "${RUNNER[@]}" "$WORK/kiln_dlopen" "$S/libtinynet.so" "$MODEL/input_0.pb" >"$S/sample.txt" &&
      cat "$S/sample.txt" &&
      grep -qx "model 'mystery_$OPT' (ABI 6): 1 input, 1 output" "$S/sample.txt" &&
      grep -qx "  input 0 'image' float32\[1,3,16,16\] 3072 bytes" "$S/sample.txt" &&
      grep -qx "  output 0 'probs' float32\[1,5\] 20 bytes" "$S/sample.txt" &&
      grep -q "^  arena [0-9]* bytes, align [0-9]*$" "$S/sample.txt" &&
      compare dlopen "$S/sample.txt" "$MODEL/output_0.pb" &&
      compare dlopen "$S/sample.txt" "$D/exe/out/output_0.pb" 1e-6 1e-7 || {
        echo "error: dlopen run on input_0.pb (signature lines above) is wrong"
        return 1
      }
    # On the loader's own deterministic pattern, vs the exe on the same input.
    compare pattern "$S/pattern.pb" &&
      run "${RUNNER[@]}" "$D/exe/tinynet" "$S/pattern.pb" --output-dir "$S/exe_pattern" &&
      run "${RUNNER[@]}" "$WORK/kiln_dlopen" "$S/libtinynet.so" >"$S/pattern.txt" &&
      cat "$S/pattern.txt" &&
      compare dlopen "$S/pattern.txt" "$S/exe_pattern/output_0.pb" 1e-6 1e-7
  }
  check "$OPT.so" so_check
done

# --- two models in one program ---------------------------------------------------
two_check() {
  local T=$WORK/two
  mkdir -p "$T"
  cat >"$T/main.c" <<'CEOF'
/* Links two copies of tinynet, compiled with --name netA and --name netB,
 * into one program and runs both on the same image. */
#include "netA.h"
#include "netB.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static _Alignas(NETA_ARENA_ALIGN) unsigned char arenaA[NETA_ARENA_SIZE > 0 ? NETA_ARENA_SIZE : 1];
static _Alignas(NETB_ARENA_ALIGN) unsigned char arenaB[NETB_ARENA_SIZE > 0 ? NETB_ARENA_SIZE : 1];
static float image[1 * 3 * 16 * 16], probsA[5], probsB[5];

int main(int argc, char **argv) {
  if (argc != 2)
    return 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f || fread(image, sizeof image, 1, f) != 1) {
    fprintf(stderr, "error: cannot read %s\n", argv[1]);
    return 1;
  }
  fclose(f);
  if (strcmp(netA_info.name, "netA") != 0 || strcmp(netB_info.name, "netB") != 0 ||
      netA_info.run != netA_run || netB_info.run != netB_run ||
      netA_run == netB_run || NETA_NUM_INPUTS != 1 || NETB_NUM_OUTPUTS != 1) {
    fprintf(stderr, "error: the two models' signatures are mixed up\n");
    return 1;
  }
  const void *in[1] = {image};
  void *outA[1] = {probsA}, *outB[1] = {probsB};
  int32_t sa = netA_run(in, outA, arenaA), sb = netB_run(in, outB, arenaB);
  if (sa != KILN_OK || sb != KILN_OK) {
    fprintf(stderr, "error: netA_run returned %d, netB_run %d\n", (int)sa, (int)sb);
    return 1;
  }
  for (int i = 0; i < 5; ++i) {
    printf("class %d: %.4f\n", i, probsA[i]);
    if (fabsf(probsA[i] - probsB[i]) > 1e-5f) {
      fprintf(stderr, "error: class %d: netA %g, netB %g\n", i, probsA[i], probsB[i]);
      return 1;
    }
  }
  return 0;
}
CEOF
  run "$KILN" compile "${TARGET_FLAGS[@]}" "$MODEL/model.onnx" --emit=obj --name netA -O0 -o "$T/netA.o" &&
    run "$KILN" compile "${TARGET_FLAGS[@]}" "$MODEL/model.onnx" --emit=obj --name netB -O3 -o "$T/netB.o" &&
    need_file "$T/netA.h" "$T/netB.h" &&
    run "$CC" -std=c11 -O2 -Wall -Wextra -Werror "$T/main.c" "$T/netA.o" "$T/netB.o" \
      -lm -I "$T" "${INCLUDES[@]}" -o "$T/two" &&
    run "${RUNNER[@]}" "$T/two" "$MODEL/input_0.bin" >"$T/stdout.txt" &&
    cat "$T/stdout.txt" &&
    compare probs "$T/stdout.txt" "$MODEL/output_0.pb"
}
check two_models_one_program two_check

echo
if ((${#FAILED[@]})); then
  echo "emit_kinds: ${#FAILED[@]} check(s) failed: ${FAILED[*]} ($PASSED passed)"
  exit 1
fi
echo "emit_kinds: all $PASSED checks passed"
