#!/usr/bin/env bash
# Builds and runs the C API example: compiles examples/tinynet/model.onnx to an
# object file plus header (tinynet.o, tinynet.h), links it into main.c with the
# system C compiler, runs it on the sample image and checks the printed
# probabilities against the NumPy reference.
#
#   bash examples/c-api/build.sh
#
# Environment: KILN (default build/bin/kiln), KILN_BUILD_DIR (default build),
# KILN_PYTHON (default /usr/bin/python3), CC (default cc).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${KILN_BUILD_DIR:-$ROOT/build}
KILN=${KILN:-$BUILD/bin/kiln}
PY=${KILN_PYTHON:-/usr/bin/python3}
CC=${CC:-cc}
MODEL=$ROOT/examples/tinynet
OUT=$BUILD/examples/c-api

if [[ ! -x "$KILN" ]]; then
  echo "error: kiln not found at $KILN (build it first: ninja -C build)" >&2
  exit 1
fi
mkdir -p "$OUT"
rm -f "$OUT/tinynet.o" "$OUT/tinynet.h" "$OUT/tinynet_demo"

set -x
"$KILN" compile "$MODEL/model.onnx" --emit=obj --name tinynet -O2 -o "$OUT/tinynet.o"
"$CC" -std=c11 -O2 -Wall -Wextra "$ROOT/examples/c-api/main.c" "$OUT/tinynet.o" -lm \
  -I "$OUT" -I "$BUILD/include" -I "$ROOT/runtime/include" -o "$OUT/tinynet_demo"
"$OUT/tinynet_demo" "$MODEL/input_0.bin" | tee "$OUT/stdout.txt"
set +x

"$PY" - "$OUT/stdout.txt" "$MODEL/output_0.pb" <<'PYEOF'
import re
import sys
import numpy as np
import onnx
from onnx import numpy_helper

got = [float(m.group(1)) for m in re.finditer(r"^class \d+: ([-\d.eE+]+)$",
                                              open(sys.argv[1]).read(), re.M)]
want = numpy_helper.to_array(onnx.load_tensor(sys.argv[2])).reshape(-1)
if len(got) != want.size or not np.allclose(got, want, atol=1e-4):
    sys.exit("error: printed probabilities %s differ from the reference %s" % (got, want))
print("c-api example: matches the NumPy reference")
PYEOF
