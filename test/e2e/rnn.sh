#!/usr/bin/env bash
# End-to-end: the LSTM / GRU / RNN configurations the ONNX backend suite does
# not cover (reverse and bidirectional, sequence_lens, layout 1 with every
# output, peepholes, linear_before_reset, clip, activations, float64, step
# products of several sizes), written by utils/make_rnn_tests.py with a NumPy
# reference, compiled at -O1 and -O3 and run through utils/backend_tests.py.
# Every case must pass, and run again on the same inputs (--bench 2) must
# give the same outputs: a model never writes its inputs (the initial states
# are updated in place).
#
# Environment: KILN (default build/bin/kiln), KILN_BUILD_DIR (default build),
# KILN_PYTHON (default /usr/bin/python3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${KILN_BUILD_DIR:-$ROOT/build}
KILN=${KILN:-$BUILD/bin/kiln}
PY=${KILN_PYTHON:-/usr/bin/python3}
DATA=$BUILD/e2e/rnn
WORK=$BUILD/e2e/rnn-work

rm -rf "$DATA" "$WORK"
"$PY" "$ROOT/utils/make_rnn_tests.py" "$DATA"
for opt in 1 3; do
  "$PY" "$ROOT/utils/backend_tests.py" --kiln "$KILN" --data "$DATA" \
    --suites node --expected "$DATA/expected.txt" -O "$opt" -j 2 \
    --work "$WORK/O$opt"
done

failed=0
for exe in "$WORK"/O3/node/*/model; do
  test=$(basename "$(dirname "$exe")")
  data=$DATA/node/$test/test_data_set_0
  out=$WORK/rerun/$test
  "$exe" "$data"/input_*.pb --output-dir "$out" --bench 2 >/dev/null
  if ! "$PY" - "$data" "$out" <<'PYEOF'
import glob, os, sys
import numpy as np
import onnx
from onnx import numpy_helper
for want in sorted(glob.glob(os.path.join(sys.argv[1], "output_*.pb"))):
    a = numpy_helper.to_array(onnx.load_tensor(want))
    b = numpy_helper.to_array(onnx.load_tensor(
        os.path.join(sys.argv[2], os.path.basename(want))))
    if a.shape != b.shape or not np.allclose(a, b, rtol=1e-3, atol=1e-5):
        sys.exit(1)
PYEOF
  then
    echo "FAIL $test: a second run on the same inputs gives other outputs"
    failed=$((failed + 1))
  fi
done
echo "rerun: $failed failed"
[[ $failed -eq 0 ]]
