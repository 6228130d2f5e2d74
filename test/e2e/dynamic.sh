#!/usr/bin/env bash
# The dynamic ABI from C: test/e2e/dynamic/harness.c linked with a small
# CNN compiled with its batch left symbolic (--max-dim N=4) and with --dim
# N=3, and a CNN with a symbolic image size compiled with no bound (the
# arena sized at run time) and with --dim H=8 --dim W=8, and a Tile by
# repeats given as an input (sizes from input values), under a malloc that
# fails the test if the models call it. See the harness for the checks.
#
# Environment: KILN (default build/bin/kiln), KILN_BUILD_DIR (default build),
# KILN_PYTHON (default /usr/bin/python3; needs onnx and numpy), CC (default cc).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${KILN_BUILD_DIR:-$ROOT/build}
KILN=${KILN:-$BUILD/bin/kiln}
PY=${KILN_PYTHON:-/usr/bin/python3}
CC=${CC:-cc}
WORK=$BUILD/test/e2e/dynamic
rm -rf "$WORK" && mkdir -p "$WORK"

"$PY" "$ROOT/test/e2e/dynamic/make_model.py" "$WORK"
"$KILN" compile "$WORK/classifier.onnx" --max-dim N=4 --name dyn -O3 -o "$WORK/dyn.o"
"$KILN" compile "$WORK/classifier.onnx" --dim N=3 --name fixed -O3 -o "$WORK/fixed.o"
"$KILN" compile "$WORK/spatial.onnx" --name spatial -O3 -o "$WORK/spatial.o"
"$KILN" compile "$WORK/spatial.onnx" --dim H=8 --dim W=8 --name spatial8 -O3 -o "$WORK/spatial8.o"
"$KILN" compile "$WORK/tiled.onnx" --name tiled -O3 -o "$WORK/tiled.o"
"$CC" -O2 -std=c11 -I "$WORK" -I "$BUILD/include" -I "$ROOT/runtime/include" \
  "$ROOT/test/e2e/dynamic/harness.c" "$WORK/dyn.o" "$WORK/fixed.o" \
  "$WORK/spatial.o" "$WORK/spatial8.o" "$WORK/tiled.o" \
  "$BUILD/lib/libkiln_runtime.a" -lpthread -lm -o "$WORK/harness"
"$WORK/harness"
