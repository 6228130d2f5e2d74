#!/usr/bin/env bash
# The sanitizer job. Builds Kiln (compiler, tools, unit tests and the C
# runtime) with AddressSanitizer and UBSan in build/sanitize (clang-22,
# -DKILN_FUZZ=ON: the same tree gives utils/fuzz.sh its importer target), then
# runs, under the sanitizers:
#   1. the quick tier: lit and the unit tests of that tree;
#   2. the ONNX backend suite: every test of test/e2e/backend_expected.txt,
#      compiled by the instrumented kiln, linked against the instrumented
#      runtime (which reads and writes every tensor file) and run;
#      KILN_SANITIZE_SAMPLE=N runs every Nth test only;
#   3. every other backend model and the hostile-model corpus
#      (utils/hostile_models.py), compiled to an object: the refusals too
#      must be clean.
# Any sanitizer report (each goes to a file under build/sanitize/reports)
# or any failing test fails the job. Building takes about 15 minutes on two
# cores the first time.
#
#   bash utils/sanitize.sh                      the whole job
#   bash utils/sanitize.sh --build [TARGET...]  configure and build only
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${KILN_SANITIZE_DIR:-$ROOT/build/sanitize}
PY=${KILN_PYTHON:-/usr/bin/python3}
JOBS=${KILN_JOBS:-2}
DATA=/usr/share/libonnx-testdata/data

build() {
  cmake -G Ninja -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 -DKILN_FUZZ=ON \
    >"$BUILD.configure.log" 2>&1 ||
    { tail -n 20 "$BUILD.configure.log"; echo "sanitize: configuring $BUILD failed"; return 1; }
  ninja -C "$BUILD" -j "$JOBS" "$@" >"$BUILD.build.log" 2>&1 ||
    { grep -B2 -A12 -m3 'error:\|FAILED' "$BUILD.build.log" | head -n 60
      echo "sanitize: building $BUILD failed (see $BUILD.build.log)"; return 1; }
}

mkdir -p "$(dirname "$BUILD")"
if [[ ${1:-} == --build ]]; then
  shift
  build "$@"
  exit
fi
start=$(date +%s)
build
echo "sanitize: built in $(( $(date +%s) - start )) s"

reports=$BUILD/reports
rm -rf "$reports"
mkdir -p "$reports"
# Reports go to files (log_path), so that none is lost in a test's captured
# output; leaks count (the runtime frees what a run allocates).
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
status=0

# The reports really are caught: a planted heap overflow must leave one.
printf '#include <stdlib.h>\nint main(int c, char **v) { char *p = malloc(4); p[c + 3] = 1; free(p); return 0; }\n' \
  >"$BUILD/planted.c"
clang-22 -fsanitize=address,undefined "$BUILD/planted.c" -o "$BUILD/planted"
"$BUILD/planted" || true
if [[ -z $(find "$reports" -type f) ]]; then
  echo "sanitize: a planted heap overflow left no report; the checks below would see nothing"
  exit 1
fi
rm -f "$reports"/*

step() { printf '\n=== sanitize: %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

step "quick tier (lit and unit tests)"
ctest --test-dir "$BUILD" -L quick -j "$JOBS" --output-on-failure || status=1

step "backend suite"
work=$BUILD/work
rm -rf "$work"
mkdir -p "$work/backend" "$work/objects" "$work/hostile"
expected=$ROOT/test/e2e/backend_expected.txt
if [[ -n ${KILN_SANITIZE_SAMPLE:-} ]]; then
  grep -v '^#' "$expected" | grep . | awk -v n="$KILN_SANITIZE_SAMPLE" 'NR % n == 1' \
    >"$work/expected.txt"
  expected=$work/expected.txt
fi
"$PY" "$ROOT/utils/backend_tests.py" --kiln "$BUILD/bin/kiln" \
  --expected "$expected" --only-expected --timeout 300 \
  --report "$work/backend_report.tsv" --work "$work/backend" -j "$JOBS" |
  tail -n 3 || status=1

step "every other backend model and the hostile corpus, to objects"
"$PY" "$ROOT/utils/hostile_models.py" "$work/hostile" >/dev/null
{ find "$DATA" -name model.onnx 2>/dev/null | while read -r m; do
    t=$(basename "$(dirname "$m")")
    grep -qx "[a-z-]*/$t" "$expected" || echo "$m"
  done
  find "$work/hostile" -name '*.onnx'; } | sort >"$work/models.txt"
KILN=$BUILD/bin/kiln OUT=$work/objects xargs -P "$JOBS" -I{} sh -c '
  n=$(echo "{}" | md5sum | cut -c1-12)
  timeout 300 "$KILN" compile "{}" --emit=obj -o "$OUT/$n.o" >"$OUT/$n.log" 2>&1
  echo "$? {}" >"$OUT/$n.rc"' <"$work/models.txt"
total=$(wc -l <"$work/models.txt")
crashed=$(cat "$work"/objects/*.rc | awk '$1 > 123' | cut -d' ' -f2-)
echo "$total models: $(cat "$work"/objects/*.rc | awk '$1 == 0' | wc -l) compiled," \
  "$(cat "$work"/objects/*.rc | awk '$1 >= 1 && $1 <= 123' | wc -l) refused cleanly"
if [[ -n $crashed ]]; then
  echo "killed or crashed (exit status > 123):"
  echo "$crashed" | sed 's/^/  /'
  status=1
fi

step "sanitizer reports"
found=$(find "$reports" -type f | sort)
echo "$(echo -n "$found" | grep -c . || true) reports, $(( $(date +%s) - start )) s in all"
for f in $found; do
  echo "== $f"
  grep -m 12 -E "runtime error|ERROR: (Address|Leak)Sanitizer|SUMMARY|#[0-9]+ " "$f" || head -n 12 "$f"
  status=1
done
exit $status
