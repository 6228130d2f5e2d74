#!/usr/bin/env bash
# End-to-end: ResNet-18 from torchvision (random weights, seeded), exported to
# ONNX opset 13, compiled with `kiln compile -O3 --emit=exe`, run on a seeded
# random input and compared with PyTorch's output (rtol 1e-3, atol 1e-4).
# Exits 77 (ctest SKIP_RETURN_CODE) only when torch/torchvision are missing.
#
# Environment: KILN (default build/bin/kiln), KILN_BUILD_DIR (default build),
# KILN_PYTHON (default /usr/bin/python3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${KILN_BUILD_DIR:-$ROOT/build}
KILN=${KILN:-$BUILD/bin/kiln}
PY=${KILN_PYTHON:-/usr/bin/python3}
DIR=$BUILD/e2e/resnet18

if ! "$PY" -c "import torch, torchvision" >/dev/null 2>&1; then
  echo "SKIP: torch/torchvision not importable by $PY (apt-get install python3-torch python3-torchvision)"
  exit 77
fi
if [[ ! -x "$KILN" ]]; then
  echo "error: kiln not found at $KILN (build it first: ninja -C build)" >&2
  exit 1
fi

if [[ ! -f $DIR/model.onnx || ! -f $DIR/test_data_set_0/output_0.pb ]]; then
  tmp=$DIR.tmp.$$
  rm -rf "$tmp"
  "$PY" "$ROOT/utils/export_resnet18.py" --model resnet18 --opset 13 "$tmp"
  rm -rf "$DIR"
  mv "$tmp" "$DIR"
fi

exe=$DIR/resnet18
rm -f "$exe"
t0=$(date +%s.%N)
"$KILN" compile "$DIR/model.onnx" -O3 --emit=exe -o "$exe"
t1=$(date +%s.%N)
compile_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
echo "compile time: ${compile_s} s (-O3)"

out=$DIR/out
rm -rf "$out"
mkdir -p "$out"
"$exe" "$DIR/test_data_set_0/input_0.pb" --output-dir "$out"

"$PY" - "$DIR/test_data_set_0/output_0.pb" "$out/output_0.pb" <<'PYEOF'
import sys
import numpy as np
import onnx
from onnx import numpy_helper

def load(path):
    return numpy_helper.to_array(onnx.load_tensor(path))

want, got = load(sys.argv[1]), load(sys.argv[2])
if want.shape != got.shape or want.dtype != got.dtype:
    sys.exit("error: output is %s %s, expected %s %s"
             % (got.dtype, list(got.shape), want.dtype, list(want.shape)))
err = np.abs(got.astype(np.float64) - want.astype(np.float64))
print("max abs error: %.3g (max |reference| %.3g)" % (err.max(), np.abs(want).max()))
print("top-1 class: %d (reference %d)" % (got.argmax(), want.argmax()))
if not np.allclose(got, want, rtol=1e-3, atol=1e-4):
    bad = ~np.isclose(got, want, rtol=1e-3, atol=1e-4)
    sys.exit("error: %d of %d outputs outside rtol 1e-3, atol 1e-4" % (bad.sum(), bad.size))
print("resnet18: outputs match PyTorch")
PYEOF

# The thread pool must not change a single bit: every output element is
# computed by the same code whichever thread runs its tile.
out2=$DIR/out_threads2
rm -rf "$out2"
mkdir -p "$out2"
"$exe" "$DIR/test_data_set_0/input_0.pb" --output-dir "$out2" --threads 2
if ! cmp -s "$out/output_0.pb" "$out2/output_0.pb"; then
  echo "error: the output with --threads 2 differs from the one with 1 thread" >&2
  exit 1
fi
echo "resnet18: --threads 2 gives the same bits"

# Latency, for information only (a failure here does not fail the test).
"$exe" "$DIR/test_data_set_0/input_0.pb" --output-dir "$out" --bench 10 --threads 1 \
  || echo "note: --bench run failed"
"$exe" "$DIR/test_data_set_0/input_0.pb" --output-dir "$out" --bench 10 --threads 2 \
  || echo "note: --bench run failed"
