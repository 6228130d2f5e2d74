#!/usr/bin/env bash
# Compiles examples/tinynet/model.onnx (a tiny image classifier) into a
# standalone executable with Kiln, runs it on the sample input and prints the
# class probabilities, checked against the NumPy reference output.
#
#   bash examples/run-example.sh
#
# Environment: KILN (default build/bin/kiln), KILN_BUILD_DIR (default build),
# KILN_PYTHON (default /usr/bin/python3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${KILN_BUILD_DIR:-$ROOT/build}
KILN=${KILN:-$BUILD/bin/kiln}
PY=${KILN_PYTHON:-/usr/bin/python3}
MODEL=$ROOT/examples/tinynet
OUT=$BUILD/examples/tinynet

if [[ ! -x "$KILN" ]]; then
  echo "error: kiln not found at $KILN (build it first: ninja -C build)" >&2
  exit 1
fi
mkdir -p "$OUT"

echo "+ kiln compile examples/tinynet/model.onnx -O2 -o $OUT/tinynet"
"$KILN" compile "$MODEL/model.onnx" -O2 -o "$OUT/tinynet"

rm -rf "$OUT/result"
mkdir -p "$OUT/result"
echo "+ $OUT/tinynet examples/tinynet/input_0.pb --output-dir $OUT/result"
"$OUT/tinynet" "$MODEL/input_0.pb" --output-dir "$OUT/result"

"$PY" - "$OUT/result/output_0.pb" "$MODEL/output_0.pb" <<'PYEOF'
import sys
import numpy as np
import onnx
from onnx import numpy_helper

got = numpy_helper.to_array(onnx.load_tensor(sys.argv[1]))
want = numpy_helper.to_array(onnx.load_tensor(sys.argv[2]))
print("class probabilities:")
for i, p in enumerate(got.reshape(-1)):
    print("  class %d: %.4f" % (i, p))
print("predicted class: %d" % got.argmax())
if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-5):
    sys.exit("error: output differs from the reference %s" % want.reshape(-1))
print("matches the NumPy reference (max abs error %.2g)" % np.abs(got - want).max())
PYEOF
