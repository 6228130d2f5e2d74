#!/usr/bin/env bash
# Builds the runtime's libFuzzer targets (test/fuzz/) with clang-22 and
# -fsanitize=fuzzer,address,undefined, and runs each for a bounded time.
#
#   bash utils/fuzz.sh [SECONDS]        (default 60 per target)
#
# Seeds: the tensors of the ONNX backend test data (Debian's libonnx-testdata,
# .pb tensors, sequences and optionals) and the examples' inputs, plus every
# earlier finding kept in test/fuzz/regressions/<target>/ (replayed first).
# A crash, a sanitizer report, a leak or a timeout fails the run; the input
# that caused it is written to build/fuzz/artifacts/<target>/: add it to
# test/fuzz/regressions/<target>/ with the fix. Prints a table of executions
# per target. Needs clang-22 and libclang-rt-22-dev.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_EACH=${1:-60}
OUT=${KILN_FUZZ_DIR:-$ROOT/build/fuzz}
CC=${KILN_FUZZ_CC:-clang-22}
DATA=/usr/share/libonnx-testdata/data
TARGETS=(fuzz_tensor_file fuzz_sequence_file fuzz_sequence_ops)

mkdir -p "$OUT"
RUNTIME=(abi.c status.c tensor_io.c sequence_io.c sequence.c)
for t in "${TARGETS[@]}"; do
  "$CC" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=all -I"$ROOT/runtime/include" -I"$ROOT/runtime/src" \
    "$ROOT/test/fuzz/$t.c" "${RUNTIME[@]/#/$ROOT/runtime/src/}" -lm \
    -o "$OUT/$t"
done

# Seed corpora: a few hundred small tensor files, and every sequence or
# optional file of the backend data.
seeds=$OUT/seeds
rm -rf "$seeds"
mkdir -p "$seeds/tensors" "$seeds/sequences" "$seeds/ops"
if [[ -d $DATA ]]; then
  find "$DATA/node" -name 'input_*.pb' -size -4k | sort >"$OUT/seed_list" || true
  n=0
  while read -r f && ((n++ < 400)); do
    cp "$f" "$seeds/tensors/$n.pb"
  done <"$OUT/seed_list"
  for d in "$DATA"/node/test_{sequence,optional,identity_opt,identity_sequence,if_opt,if_seq,loop13,loop16}*; do
    for f in "$d"/test_data_set_0/*.pb; do
      [[ -f $f ]] && cp "$f" "$seeds/sequences/$(basename "$d")_$(basename "$f")"
    done
  done
fi
cp "$ROOT"/examples/tinynet/input_0.pb "$seeds/tensors/tinynet_input_0" 2>/dev/null || true
head -c 256 /dev/urandom >"$seeds/ops/random" 2>/dev/null || printf 'seed' >"$seeds/ops/random"

declare -A corpus=([fuzz_tensor_file]=tensors [fuzz_sequence_file]=sequences
                   [fuzz_sequence_ops]=ops)
status=0
printf '%-22s %10s %8s  %s\n' target executions seconds result
for t in "${TARGETS[@]}"; do
  work=$OUT/corpus/$t
  artifacts=$OUT/artifacts/$t/
  mkdir -p "$work" "$artifacts"
  regress=$ROOT/test/fuzz/regressions/$t
  dirs=("$work" "$seeds/${corpus[$t]}")
  [[ -d $regress ]] && dirs+=("$regress")
  log=$OUT/$t.log
  rc=0
  ASAN_OPTIONS=detect_leaks=1 "$OUT/$t" -max_total_time="$SECONDS_EACH" \
    -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$artifacts" "${dirs[@]}" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if ((rc == 0)); then
    result=ok
  else
    result="FAILED (exit $rc): $(grep -m1 -E 'ERROR|SUMMARY|deadly|leak|timeout' "$log" || true)"
    status=1
  fi
  printf '%-22s %10s %8s  %s\n' "$t" "${execs:-?}" "$SECONDS_EACH" "$result"
done
rm -f /tmp/kiln_fuzz_in.* /tmp/kiln_fuzz_out.*
exit $status
