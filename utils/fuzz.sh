#!/usr/bin/env bash
# Builds Kiln's libFuzzer targets (test/fuzz/) with clang-22 and
# -fsanitize=fuzzer,address,undefined, and runs each for a bounded time:
#   fuzz_tensor_file, fuzz_sequence_file, fuzz_sequence_ops  the runtime
#       (its sources compiled here directly);
#   fuzz_import  the importer, dialect verifiers and shape inference, from
#       the instrumented CMake build utils/sanitize.sh makes (-DKILN_FUZZ=ON,
#       build/sanitize; a few minutes the first time).
#
#   bash utils/fuzz.sh [SECONDS] [TARGET...]   (default 60 s, every target)
#
# Seeds: the tensors of the ONNX backend test data (Debian's libonnx-testdata,
# .pb tensors, sequences and optionals), its small models and the
# hostile-model corpus (utils/hostile_models.py) for the importer, the
# examples' inputs, plus every earlier finding kept in
# test/fuzz/regressions/<target>/ (replayed first).
# A crash, a sanitizer report, a leak or a timeout fails the run; the input
# that caused it is written to build/fuzz/artifacts/<target>/: add it to
# test/fuzz/regressions/<target>/ with the fix. Prints a table of executions
# per target. Needs clang-22 and libclang-rt-22-dev.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_EACH=${1:-60}
shift || true
OUT=${KILN_FUZZ_DIR:-$ROOT/build/fuzz}
SANITIZE_BUILD=${KILN_SANITIZE_DIR:-$ROOT/build/sanitize}
CC=${KILN_FUZZ_CC:-clang-22}
CXX=${KILN_FUZZ_CXX:-clang++-22}
PY=${KILN_PYTHON:-/usr/bin/python3}
DATA=/usr/share/libonnx-testdata/data
TARGETS=("$@")
((${#TARGETS[@]})) ||
  TARGETS=(fuzz_tensor_file fuzz_sequence_file fuzz_sequence_ops fuzz_import)

mkdir -p "$OUT"
RUNTIME=(abi.c status.c tensor_io.c sequence_io.c sequence.c)
for t in "${TARGETS[@]}"; do
  if [[ $t == fuzz_import ]]; then
    KILN_SANITIZE_DIR=$SANITIZE_BUILD bash "$ROOT/utils/sanitize.sh" --build kiln-fuzz-import ||
      { echo "fuzz: building kiln-fuzz-import failed"; exit 1; }
    cp "$SANITIZE_BUILD/bin/kiln-fuzz-import" "$OUT/fuzz_import"
    continue
  fi
  "$CC" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=all -I"$ROOT/runtime/include" -I"$ROOT/runtime/src" \
    "$ROOT/test/fuzz/$t.c" "${RUNTIME[@]/#/$ROOT/runtime/src/}" -lm \
    -o "$OUT/$t"
done

# Seed corpora: a few hundred small tensor files, and every sequence or
# optional file of the backend data.
seeds=$OUT/seeds
rm -rf "$seeds"
mkdir -p "$seeds/tensors" "$seeds/sequences" "$seeds/ops" "$seeds/models"
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
if [[ " ${TARGETS[*]} " == *" fuzz_import "* ]]; then
  # Small models of every kind, and the hostile corpus (without the
  # 10,000-node chain, which is slow to mutate).
  if [[ -d $DATA ]]; then
    find "$DATA/node" -name model.onnx -size -2k | sort >"$OUT/model_list" || true
    n=0
    while read -r f && ((n++ < 300)); do
      cp "$f" "$seeds/models/$n.onnx"
    done <"$OUT/model_list"
  fi
  "$PY" "$ROOT/utils/hostile_models.py" "$OUT/hostile" >/dev/null 2>&1 &&
    find "$OUT/hostile" -name '*.onnx' ! -name 'chain_of_10000.onnx' \
      -exec cp {} "$seeds/models/" \; || true
fi
head -c 256 /dev/urandom >"$seeds/ops/random" 2>/dev/null || printf 'seed' >"$seeds/ops/random"

declare -A corpus=([fuzz_tensor_file]=tensors [fuzz_sequence_file]=sequences
                   [fuzz_sequence_ops]=ops [fuzz_import]=models)
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
    -timeout=10 -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 \
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
rm -f /tmp/kiln_fuzz_in.* /tmp/kiln_fuzz_out.* /tmp/kiln_fuzz_import.*
exit $status
