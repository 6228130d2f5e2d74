#!/usr/bin/env bash
# End-to-end: torchvision CNNs and the transformer / U-Net models of
# utils/export_zoo.py (random weights, seeded, nothing downloaded), exported at
# opsets 13 and 17, compiled with `kiln compile -O3 --emit=exe`,
# run with --threads 2, and compared with PyTorch's output (rtol 1e-3, atol 1e-4).
# Exits 77 (ctest SKIP_RETURN_CODE) only when torch/torchvision are missing.
#
# With ZOO_BATCHES (e.g. "1 4 7"), each model is exported instead with a
# symbolic batch dim `batch` (folder <model>_dynbatch_op<opset>,
# test_data_set_<i> for the i-th size), compiled once with the batch left
# symbolic, and that one executable is checked at every size.
#
# With ZOO_LENGTHS (e.g. "16 128 384"; bert and gpt), each model is exported
# with a symbolic sequence length `seq` instead (folder
# <model>_dynseq_op<opset>, test_data_set_<i> for the i-th length), compiled
# once with --max-dim seq=<the largest length> (with ZOO_UNBOUNDED=1: with no
# bound, the arena sized at run time), and checked at every length.
#
# usage: zoo.sh [MODEL ...]   (default: the list below)
# Environment: KILN (default build/bin/kiln), KILN_BUILD_DIR (default build),
# KILN_PYTHON (default /usr/bin/python3), ZOO_OPSETS (default "13 17"),
# ZOO_BATCHES (default empty: static shapes), ZOO_TARGET (kiln --target, e.g.
# aarch64-linux-gnu; models then live in build/e2e/zoo-<target>) and
# ZOO_RUNNER (the emulator that runs the executables, e.g.
# "qemu-aarch64 -L /usr/aarch64-linux-gnu").
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${KILN_BUILD_DIR:-$ROOT/build}
KILN=${KILN:-$BUILD/bin/kiln}
PY=${KILN_PYTHON:-/usr/bin/python3}
OPSETS=${ZOO_OPSETS:-13 17}
BATCHES=${ZOO_BATCHES:-}
LENGTHS=${ZOO_LENGTHS:-}
TARGET=${ZOO_TARGET:-}
read -r -a RUNNER <<<"${ZOO_RUNNER:-}"
target_flags=()
[[ -z $TARGET ]] || target_flags=(--target="$TARGET")
ZOO_DIR=$BUILD/e2e/zoo${TARGET:+-$TARGET}
export_flags=()
[[ -z $BATCHES ]] || export_flags=(--dynamic-batch --batches "$(tr -s ' ' , <<<"$BATCHES")")
[[ -z $LENGTHS ]] || export_flags=(--dynamic-seq --lengths "$(tr -s ' ' , <<<"$LENGTHS")")
# The sizes checked, one test data set each, and the compile flags.
SIZES=${BATCHES:-$LENGTHS}
compile_flags=()
if [[ -n $LENGTHS && -z ${ZOO_UNBOUNDED:-} ]]; then
  max_len=$(tr ' ' '\n' <<<"$LENGTHS" | sort -n | tail -1)
  compile_flags=(--max-dim "seq=$max_len")
fi
MODELS=("$@")
if [[ ${#MODELS[@]} -eq 0 ]]; then
  # resnet18 at opset 13 has its own test (resnet18.sh).
  MODELS=(resnet50 mobilenet_v2 mobilenet_v3_small squeezenet1_1
          efficientnet_b0 shufflenet_v2_x1_0 bert gpt unet lstm gru)
fi

if ! "$PY" -c "import torch, torchvision" >/dev/null 2>&1; then
  echo "SKIP: torch/torchvision not importable by $PY"
  exit 77
fi

# compile DIR: compiles DIR/model.onnx to DIR/model (symbolic dims stay
# symbolic); sets compile_s, or prints a FAIL line and returns 1.
compile() {
  local dir=$1 t0 t1
  t0=$(date +%s.%N)
  if ! "$KILN" compile "$dir/model.onnx" "${target_flags[@]}" "${compile_flags[@]}" -O3 --emit=exe -o "$dir/model" \
      2>"$dir/compile.log"; then
    echo "FAIL $(basename "$dir"): $(head -1 "$dir/compile.log")"
    return 1
  fi
  t1=$(date +%s.%N)
  compile_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
}

# check DIR N [SIZE]: runs DIR/model on DIR/test_data_set_N (a batch or a
# sequence of SIZE when given) and compares with PyTorch's output; prints one
# PASS or FAIL line.
check() {
  local dir=$1 ds=$2 batch=${3:-}
  local what=batch
  [[ -z $LENGTHS ]] || what=seq
  local label=$(basename "$dir")${batch:+ $what=$batch} sfx=${batch:+_b$batch}
  local exe=$dir/model out=$dir/out$sfx result
  rm -rf "$out"
  local inputs=("$dir/test_data_set_$ds"/input_*.pb)
  if ! "${RUNNER[@]}" "$exe" "${inputs[@]}" --output-dir "$out" --threads 2 2>"$dir/run$sfx.log"; then
    echo "FAIL $label: $(head -1 "$dir/run$sfx.log")"
    return 1
  fi
  if result=$("$PY" - "$dir/test_data_set_$ds/output_0.pb" "$out/output_0.pb" <<'PYEOF'
import sys
import numpy as np
import onnx
from onnx import numpy_helper
want = numpy_helper.to_array(onnx.load_tensor(sys.argv[1]))
got = numpy_helper.to_array(onnx.load_tensor(sys.argv[2]))
if want.shape != got.shape:
    sys.exit("shape %s, expected %s" % (list(got.shape), list(want.shape)))
err = np.abs(got.astype(np.float64) - want.astype(np.float64)).max()
scale = float(np.abs(want).max())
# Random-weight networks can have tiny outputs, where atol alone would accept
# anything: the error must also be small against the output's own scale.
ok = np.allclose(got, want, rtol=1e-3, atol=1e-4) and err <= 1e-3 * scale
print("max abs error %.3g, %.2g of max |reference| %.3g" % (err, err / scale if scale else 0, scale))
sys.exit(0 if ok else 1)
PYEOF
  ); then
    printf 'PASS %-42s compile %5.1f s  %s\n' "$label" "$compile_s" "$result"
  else
    echo "FAIL $label: outputs differ from PyTorch ($result)"
    return 1
  fi
}

mkdir -p "$ZOO_DIR"
passed=0
failed=0
failures=()
for model in "${MODELS[@]}"; do
  for opset in $OPSETS; do
    name=${model}${BATCHES:+_dynbatch}${LENGTHS:+_dynseq}_op${opset}
    dir=$ZOO_DIR/$name
    if [[ ! -f $dir/test_data_set_0/output_0.pb || $(cat "$dir/batches" 2>/dev/null) != "$SIZES" ]]; then
      tmp=$dir.tmp.$$
      rm -rf "$tmp"
      case $model in
        bert|gpt|unet|lstm|gru)
          export_cmd=("$PY" "$ROOT/utils/export_zoo.py" --models "$model" --opsets "$opset" "${export_flags[@]}" "$tmp.d") ;;
        *)
          export_cmd=("$PY" "$ROOT/utils/export_resnet18.py" --model "$model" --opset "$opset" "${export_flags[@]}" "$tmp") ;;
      esac
      if "${export_cmd[@]}" >/dev/null 2>"$tmp.export.log" && [[ -d $tmp.d ]]; then
        mv "$tmp.d/$name" "$tmp" && rm -rf "$tmp.d"
      fi
      if [[ ! -f $tmp/test_data_set_0/output_0.pb ]]; then
        echo "FAIL $name: export failed: $(tail -1 "$tmp.export.log")"
        failed=$((failed + 1)); failures+=("$name")
        rm -rf "$tmp" "$tmp.d" "$tmp.export.log"; continue
      fi
      rm -f "$tmp.export.log"
      [[ -z $SIZES ]] || echo "$SIZES" >"$tmp/batches"
      rm -rf "$dir"; mv "$tmp" "$dir"
    fi
    if ! compile "$dir"; then
      failed=$((failed + 1)); failures+=("$name")
      continue
    fi
    if [[ -z $SIZES ]]; then
      if check "$dir" 0; then
        passed=$((passed + 1))
      else
        failed=$((failed + 1)); failures+=("$name")
      fi
      continue
    fi
    ds=0
    for batch in $SIZES; do
      if check "$dir" "$ds" "$batch"; then
        passed=$((passed + 1))
      else
        failed=$((failed + 1)); failures+=("$name:batch=$batch")
      fi
      ds=$((ds + 1))
    done
  done
done

[[ $failed -eq 0 ]] || echo "failed: ${failures[*]}"
echo "zoo: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
