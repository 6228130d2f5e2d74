#!/usr/bin/env bash
# End-to-end: the edge cases of the CPU kernels (matmul tiles and panels,
# im2col gathers, bias and epilogue fusion, depthwise rows), written by
# utils/make_kernel_tests.py with a NumPy reference, compiled at -O0 (plain
# loops) and -O3 (the kernels) and run through utils/backend_tests.py; every
# case must pass. With KILN_TARGET and KILN_RUNNER set, cross-compiled and
# run under the runner (qemu).
#
# Environment: KILN (default build/bin/kiln), KILN_BUILD_DIR (default build),
# KILN_PYTHON (default /usr/bin/python3), KILN_TARGET, KILN_RUNNER.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${KILN_BUILD_DIR:-$ROOT/build}
KILN=${KILN:-$BUILD/bin/kiln}
PY=${KILN_PYTHON:-/usr/bin/python3}
TAG=${KILN_TARGET:-host}
DATA=$BUILD/e2e/kernels-data-$TAG
WORK=$BUILD/e2e/kernels-work-$TAG

cross=()
if [ -n "${KILN_TARGET:-}" ]; then
  cross=(--target "$KILN_TARGET" --runner "$KILN_RUNNER")
fi
rm -rf "$WORK"
"$PY" "$ROOT/utils/make_kernel_tests.py" "$DATA"
for opt in 0 3; do
  "$PY" "$ROOT/utils/backend_tests.py" --kiln "$KILN" --data "$DATA" \
    --suites node --expected "$DATA/expected.txt" -O "$opt" -j 2 \
    --work "$WORK/O$opt" "${cross[@]}"
done
