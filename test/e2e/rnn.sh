#!/usr/bin/env bash
# End-to-end: the LSTM / GRU / RNN configurations the ONNX backend suite does
# not cover (reverse and bidirectional, sequence_lens, layout 1 with every
# output, peepholes, linear_before_reset, clip, activations, float64), written
# by utils/make_rnn_tests.py with a NumPy reference, compiled at -O1 and -O3
# and run through utils/backend_tests.py. Every case must pass.
#
# Environment: KILN (default build/bin/kiln), KILN_BUILD_DIR (default build),
# KILN_PYTHON (default /usr/bin/python3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${KILN_BUILD_DIR:-$ROOT/build}
KILN=${KILN:-$BUILD/bin/kiln}
PY=${KILN_PYTHON:-/usr/bin/python3}
DATA=$BUILD/e2e/rnn

rm -rf "$DATA"
"$PY" "$ROOT/utils/make_rnn_tests.py" "$DATA"
for opt in 1 3; do
  "$PY" "$ROOT/utils/backend_tests.py" --kiln "$KILN" --data "$DATA" \
    --suites node --expected "$DATA/expected.txt" -O "$opt" -j 2
done
