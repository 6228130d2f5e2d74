#!/usr/bin/env bash
# Builds kiln and kiln-opt with AddressSanitizer and UBSan (clang-22, the
# instrumented build utils/fuzz.sh uses, in build/fuzz/importer) and runs
# them on every model of the ONNX backend test data and the hostile-model
# corpus (compile to an object: the code Kiln runs, not the code it writes),
# failing on any sanitizer report. About 20 minutes to build on two cores,
# then a minute or two.
#
#   bash utils/sanitize.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${KILN_FUZZ_DIR:-$ROOT/build/fuzz}
BUILD=$OUT/importer
PY=${KILN_PYTHON:-/usr/bin/python3}
DATA=/usr/share/libonnx-testdata/data

cmake -G Ninja -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 -DKILN_FUZZ=ON >/dev/null
ninja -C "$BUILD" -j "${KILN_JOBS:-2}" kiln kiln-opt

work=$OUT/sanitize
rm -rf "$work"
mkdir -p "$work/out" "$work/hostile"
"$PY" "$ROOT/utils/hostile_models.py" "$work/hostile" >/dev/null
{ find "$DATA" -name model.onnx 2>/dev/null; find "$work/hostile" -name '*.onnx'; } |
  sort >"$work/models.txt"
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
KILN=$BUILD/bin/kiln WORK=$work xargs -P "${KILN_JOBS:-2}" -I{} sh -c '
  n=$(echo "{}" | md5sum | cut -c1-12)
  timeout 300 "$KILN" compile "{}" --emit=obj -o "$WORK/out/$n.o" >"$WORK/out/$n.log" 2>&1
  echo "$? {}" >"$WORK/out/$n.rc"' <"$work/models.txt"
reports=$(grep -l -E "Sanitizer|runtime error" "$work"/out/*.log || true)
total=$(wc -l <"$work/models.txt")
compiled=$(cat "$work"/out/*.rc | awk '$1 == 0' | wc -l)
echo "sanitize: $total models, $compiled compiled, the rest refused; sanitizer reports: $(echo -n "$reports" | grep -c . || true)"
if [[ -n $reports ]]; then
  for f in $reports; do
    echo "== $(cut -d' ' -f2- "${f%.log}.rc")"
    grep -m 12 -E "runtime error|ERROR: AddressSanitizer|#[0-9]+ " "$f"
  done
  exit 1
fi
