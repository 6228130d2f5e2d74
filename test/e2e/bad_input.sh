#!/usr/bin/env bash
# Feeds `kiln compile` and a compiled model executable bad input and checks
# each fails the way README.md promises ("Errors are one line `error: ...` on
# stderr and a non-zero exit status; no partial output is left behind"):
#
#   - a non-zero exit status that is not a crash (< 128) nor a hang (60 s);
#   - stderr is exactly one newline-terminated line starting with `error:`;
#   - no output file is left behind: for the compiler, the (fresh, empty)
#     folder it was told to write into is still empty, header included; for
#     the executable, the --output-dir it was given was never created;
#   - where it matters, the message names the culprit (the unsupported node,
#     the mismatched input).
#
#   bash test/e2e/bad_input.sh
#
# Environment: KILN (default build/bin/kiln), KILN_BUILD_DIR (default build),
# KILN_PYTHON (default /usr/bin/python3; needs onnx and numpy), CC (default cc).
# Every check runs; the script prints PASS/FAIL for each and exits 1 if any
# failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${KILN_BUILD_DIR:-$ROOT/build}
KILN=${KILN:-$BUILD/bin/kiln}
PY=${KILN_PYTHON:-/usr/bin/python3}
CC=${CC:-cc}
MODEL=$ROOT/examples/tinynet
WORK=$BUILD/test/e2e/bad_input
TIMEOUT=60

if [[ ! -x "$KILN" ]]; then
  echo "error: kiln not found at $KILN (build it first: ninja -C build)" >&2
  exit 1
fi
if ! "$PY" -c 'import numpy, onnx' 2>/dev/null; then
  echo "error: $PY lacks numpy or onnx (apt install python3-numpy python3-onnx)" >&2
  exit 1
fi

# Start clean; a previous run may have left a read-only folder behind.
chmod -R u+w "$WORK" 2>/dev/null
rm -rf "$WORK"
mkdir -p "$WORK/in" "$WORK/cases"
IN=$WORK/in

FAILED=()
PASSED=0
SKIPPED=0

# --- inputs ------------------------------------------------------------------------
mkdir "$IN/folder.onnx" "$IN/folder.pb"
printf 'this is not an ONNX model\n' >"$IN/not_onnx.onnx"
size=$(stat -c %s "$MODEL/model.onnx")
head -c $((size / 2)) "$MODEL/model.onnx" >"$IN/truncated.onnx"
size=$(stat -c %s "$MODEL/input_0.pb")
head -c $((size / 2)) "$MODEL/input_0.pb" >"$IN/truncated.pb"
: >"$IN/empty.pb"
printf 'a regular file\n' >"$IN/a_file"

"$PY" - "$IN" <<'PYEOF' || { echo "error: cannot make the test inputs" >&2; exit 1; }
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

d = sys.argv[1]
# A valid model whose only node is an op Kiln does not support (a
# traditional-ML operator).
a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 4])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
node = helper.make_node("Binarizer", ["a"], ["y"], name="the_binarizer_node",
                        domain="ai.onnx.ml", threshold=0.5)
m = helper.make_model(helper.make_graph([node], "binarizer", [a], [y]),
                      opset_imports=[helper.make_opsetid("", 16),
                                     helper.make_opsetid("ai.onnx.ml", 1)])
onnx.checker.check_model(m)
onnx.save(m, d + "/unsupported.onnx")

# A valid model a bare-metal target cannot compile: exp on float64 would be a
# libm call.
x = helper.make_tensor_value_info("x", TensorProto.DOUBLE, [4])
z = helper.make_tensor_value_info("z", TensorProto.DOUBLE, [4])
node = helper.make_node("Exp", ["x"], ["z"], name="the_f64_exp")
m = helper.make_model(helper.make_graph([node], "exp64", [x], [z]),
                      opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(m)
onnx.save(m, d + "/exp64.onnx")

# Control flow with a broken subgraph: an If without its else_branch, and a
# Loop body taking one input where it must take two (iteration, condition).
c = helper.make_tensor_value_info("c", TensorProto.BOOL, [])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
k = helper.make_node("Constant", [], ["t"],
                     value=helper.make_tensor("v", TensorProto.FLOAT, [2], [1, 2]))
then = helper.make_graph([k], "then", [],
                         [helper.make_tensor_value_info("t", TensorProto.FLOAT, [2])])
node = helper.make_node("If", ["c"], ["y"], then_branch=then, name="the_if_node")
m = helper.make_model(helper.make_graph([node], "g", [c], [y]),
                      opset_imports=[helper.make_opsetid("", 13)])
onnx.save(m, d + "/if_no_else.onnx")
body = helper.make_graph(
    [helper.make_node("Identity", ["cin"], ["cout"])], "body",
    [helper.make_tensor_value_info("cin", TensorProto.BOOL, [])],
    [helper.make_tensor_value_info("cout", TensorProto.BOOL, [])])
trip = helper.make_tensor_value_info("M", TensorProto.INT64, [])
node = helper.make_node("Loop", ["M", ""], [], body=body, name="the_loop_node")
m = helper.make_model(helper.make_graph([node], "g", [trip], []),
                      opset_imports=[helper.make_opsetid("", 13)])
onnx.save(m, d + "/loop_bad_body.onnx")


def save(name, x):
    if name.endswith(".npy"):
        np.save(d + "/" + name, x)
    else:
        onnx.save_tensor(numpy_helper.from_array(x, "image"), d + "/" + name)


save("wrong_shape.pb", np.zeros((1, 3, 8, 8), np.float32))
save("wrong_shape.npy", np.zeros((1, 3, 8, 8), np.float32))
save("wrong_rank.pb", np.zeros((3, 16, 16), np.float32))
save("wrong_type_int64.pb", np.zeros((1, 3, 16, 16), np.int64))
save("wrong_type_int64.npy", np.zeros((1, 3, 16, 16), np.int64))
save("wrong_type_double.npy", np.zeros((1, 3, 16, 16), np.float64))
rng = np.random.default_rng(0)
open(d + "/garbage.pb", "wb").write(rng.integers(0, 256, 3000, np.uint8).tobytes())
open(d + "/garbage.npy", "wb").write(b"\x93NUMPY\x01\x00" + rng.integers(0, 256, 200, np.uint8).tobytes())
PYEOF

# --- the checker -------------------------------------------------------------------
# expect_error NAME [--match ERE]... [--empty DIR]... [--absent PATH]...
#              [--same FILE]... -- CMD...
# Runs CMD and checks the failure contract above. --empty DIR: DIR must exist
# and be empty afterwards; --absent PATH: PATH must not exist; --same FILE:
# FILE must be unchanged; --match ERE: the error line must match ERE.
expect_error() {
  local name=$1
  shift
  local -a match=() empty=() absent=() same=() sums=()
  while [[ $1 != -- ]]; do
    case $1 in
      --match) match+=("$2") ;;
      --empty) empty+=("$2") ;;
      --absent) absent+=("$2") ;;
      --same) same+=("$2") ;;
      *) echo "expect_error: bad option $1" >&2; exit 2 ;;
    esac
    shift 2
  done
  shift
  local f
  for f in "${same[@]}"; do sums+=("$(md5sum <"$f")"); done

  local log=$WORK/cases/$name
  local rc=0
  timeout "$TIMEOUT" "$@" >"$log.stdout" 2>"$log.stderr" </dev/null || rc=$?

  local -a problems=()
  if ((rc == 0)); then
    problems+=("exit status 0 (must fail)")
  elif ((rc == 124)); then
    problems+=("hung: killed after ${TIMEOUT}s")
  elif ((rc >= 128)); then
    problems+=("crashed: exit status $rc (signal $((rc - 128)))")
  fi
  local lines first
  lines=$(awk 'END { print NR }' "$log.stderr")
  first=$(head -n 1 "$log.stderr")
  if ((lines != 1)); then
    problems+=("stderr has $lines lines, not 1")
  fi
  if [[ $first != error:* ]]; then
    problems+=("stderr does not start with 'error:'")
  fi
  if [[ -s $log.stderr && $(tail -c 1 "$log.stderr" | od -An -c | tr -d ' ') != '\n' ]]; then
    problems+=("the error line does not end with a newline")
  fi
  local re
  for re in "${match[@]}"; do
    if ! grep -Eq -- "$re" <<<"$first"; then
      problems+=("the message does not match /$re/")
    fi
  done
  for f in "${empty[@]}"; do
    if [[ ! -d $f ]]; then
      problems+=("folder $f is gone")
    elif [[ -n $(ls -A "$f") ]]; then
      problems+=("left behind in $f: $(ls -A "$f" | tr '\n' ' ')")
    fi
  done
  for f in "${absent[@]}"; do
    if [[ -e $f || -L $f ]]; then
      problems+=("left behind: $f")
    fi
  done
  local i
  for i in "${!same[@]}"; do
    if [[ ! -f ${same[$i]} || $(md5sum <"${same[$i]}") != "${sums[$i]}" ]]; then
      problems+=("${same[$i]} was changed")
    fi
  done

  if ((${#problems[@]} == 0)); then
    echo "PASS $name: $first"
    PASSED=$((PASSED + 1))
    return 0
  fi
  echo "FAIL $name"
  echo "    command: $*"
  echo "    exit status: $rc"
  echo "    stderr ($lines lines):"
  head -n 20 "$log.stderr" | sed 's/^/    | /'
  local p
  for p in "${problems[@]}"; do echo "    - $p"; done
  FAILED+=("$name")
  return 1
}

# expect_ok NAME CMD...: CMD must succeed (within the timeout); the first
# lines of its output are shown when it does not.
expect_ok() {
  local name=$1
  shift
  local rc=0
  timeout "$TIMEOUT" "$@" >"$WORK/cases/$name.log" 2>&1 </dev/null || rc=$?
  if ((rc == 0)); then
    echo "PASS $name: succeeds"
    PASSED=$((PASSED + 1))
  else
    echo "FAIL $name: exit status $rc from $*"
    head -n 5 "$WORK/cases/$name.log" | sed 's/^/    | /'
    FAILED+=("$name")
  fi
}

# fresh NAME: a new empty folder $WORK/cases/NAME.d for a case to write into.
fresh() {
  local d=$WORK/cases/$1.d
  mkdir -p "$d"
  echo "$d"
}

# The output file name for an emit kind, inside folder $1.
out_for() {
  case $2 in
    obj) echo "$1/x.o" ;;
    staticlib) echo "$1/libx.a" ;;
    so) echo "$1/libx.so" ;;
    exe) echo "$1/x" ;;
  esac
}

# --- the compiler -----------------------------------------------------------------
echo "== kiln compile"
for emit in obj staticlib so exe; do
  d=$(fresh "compile_missing_file.$emit")
  expect_error "compile_missing_file.$emit" --empty "$d" --match "no_such_model\.onnx" -- \
    "$KILN" compile "$IN/no_such_model.onnx" --emit=$emit -o "$(out_for "$d" $emit)"

  d=$(fresh "compile_directory.$emit")
  expect_error "compile_directory.$emit" --empty "$d" -- \
    "$KILN" compile "$IN/folder.onnx" --emit=$emit -o "$(out_for "$d" $emit)"

  d=$(fresh "compile_not_onnx.$emit")
  expect_error "compile_not_onnx.$emit" --empty "$d" -- \
    "$KILN" compile "$IN/not_onnx.onnx" --emit=$emit -o "$(out_for "$d" $emit)"

  d=$(fresh "compile_truncated.$emit")
  expect_error "compile_truncated.$emit" --empty "$d" -- \
    "$KILN" compile "$IN/truncated.onnx" --emit=$emit -o "$(out_for "$d" $emit)"

  d=$(fresh "compile_unsupported_op.$emit")
  expect_error "compile_unsupported_op.$emit" --empty "$d" \
    --match "Binarizer" --match "the_binarizer_node" -- \
    "$KILN" compile "$IN/unsupported.onnx" --emit=$emit -o "$(out_for "$d" $emit)"

  d=$(fresh "compile_if_no_else.$emit")
  expect_error "compile_if_no_else.$emit" --empty "$d" \
    --match "the_if_node" --match "no 'else_branch' subgraph" -- \
    "$KILN" compile "$IN/if_no_else.onnx" --emit=$emit -o "$(out_for "$d" $emit)"

  d=$(fresh "compile_loop_bad_body.$emit")
  expect_error "compile_loop_bad_body.$emit" --empty "$d" \
    --match "the_loop_node" --match "has 1 inputs; expected 2" -- \
    "$KILN" compile "$IN/loop_bad_body.onnx" --emit=$emit -o "$(out_for "$d" $emit)"

  # -o names an existing folder: it must stay as it was, with nothing beside it.
  d=$(fresh "compile_output_is_folder.$emit")
  mkdir "$d/out"
  expect_error "compile_output_is_folder.$emit" --empty "$d/out" \
    --absent "$d/out.h" --absent "$d/out.o" -- \
    "$KILN" compile "$MODEL/model.onnx" --emit=$emit -o "$d/out"
done

# Output paths that cannot be written.
d=$(fresh compile_output_parent_is_file)
printf 'x\n' >"$d/file"
expect_error compile_output_parent_is_file --same "$d/file" --absent "$d/file.h" -- \
  "$KILN" compile "$MODEL/model.onnx" --emit=obj -o "$d/file/x.o"
d=$(fresh compile_output_parent_missing)
expect_error compile_output_parent_missing --empty "$d" -- \
  "$KILN" compile "$MODEL/model.onnx" --emit=obj -o "$d/no/such/folder/x.o"
# /proc is not writable, not even by root.
expect_error compile_output_unwritable --absent /proc/kiln_bad_input.o \
  --absent /proc/kiln_bad_input.h -- \
  "$KILN" compile "$MODEL/model.onnx" --emit=obj -o /proc/kiln_bad_input.o
# The header's path is a folder: the object must not be left without it.
d=$(fresh compile_header_path_is_folder)
mkdir "$d/x.h"
expect_error compile_header_path_is_folder --empty "$d/x.h" --absent "$d/x.o" -- \
  "$KILN" compile "$MODEL/model.onnx" --emit=obj -o "$d/x.o"
if (($(id -u) != 0)); then
  d=$(fresh compile_output_readonly_folder)
  mkdir "$d/ro" && chmod 555 "$d/ro"
  expect_error compile_output_readonly_folder --empty "$d/ro" -- \
    "$KILN" compile "$MODEL/model.onnx" --emit=obj -o "$d/ro/x.o"
  chmod 755 "$d/ro"
else
  echo "SKIP compile_output_readonly_folder: running as root (permissions do not apply)"
  SKIPPED=$((SKIPPED + 1))
fi

# --name must be a C identifier: either rejected with one error line, or made
# into one (a header that compiles).
for bad in "bad name" "1abc" "a-b"; do
  tag=${bad//[^a-z0-9]/_}
  d=$(fresh "compile_name_$tag")
  rc=0
  "$KILN" compile "$MODEL/model.onnx" --emit=obj --name "$bad" -o "$d/x.o" \
    >"$WORK/cases/compile_name_$tag.out" 2>&1 || rc=$?
  if ((rc == 0)); then
    printf '#include "x.h"\nint main(void) { return 0; }\n' >"$d/use.c"
    if "$CC" -std=c11 -fsyntax-only -Werror -I "$d" -I "$BUILD/include" \
      -I "$ROOT/runtime/include" "$d/use.c" >"$WORK/cases/compile_name_$tag.cc" 2>&1; then
      echo "PASS compile_name_$tag: --name '$bad' accepted and made a valid C identifier"
      PASSED=$((PASSED + 1))
    else
      echo "FAIL compile_name_$tag"
      echo "    command: $KILN compile $MODEL/model.onnx --emit=obj --name '$bad' -o $d/x.o"
      echo "    exit status: 0, but the generated header does not compile:"
      grep -m 3 'error' "$WORK/cases/compile_name_$tag.cc" | sed 's/^/    | /'
      echo "    symbols: $(nm "$d/x.o" 2>/dev/null | grep -E ' [TD] ' | cut -c20- | tr '\n' ',')"
      FAILED+=("compile_name_$tag")
    fi
  else
    rm -rf "$d" && d=$(fresh "compile_name_$tag")
    expect_error "compile_name_$tag" --empty "$d" -- \
      "$KILN" compile "$MODEL/model.onnx" --emit=obj --name "$bad" -o "$d/x.o"
  fi
done

# Targets: unknown ones, CPUs that do not exist, what bare metal cannot do.
d=$(fresh compile_unknown_target)
expect_error compile_unknown_target --empty "$d" --match "unknown target 'sparc-sun-solaris'" \
  --match "aarch64-linux-gnu" -- \
  "$KILN" compile "$MODEL/model.onnx" --target=sparc-sun-solaris -o "$d/x.o"
d=$(fresh compile_unknown_cpu)
expect_error compile_unknown_cpu --empty "$d" --match "unknown CPU 'pentium4'" -- \
  "$KILN" compile "$MODEL/model.onnx" --target=aarch64-linux-gnu --cpu=pentium4 -o "$d/x.o"
d=$(fresh compile_native_other_target)
expect_error compile_native_other_target --empty "$d" --match "cpu=native" -- \
  "$KILN" compile "$MODEL/model.onnx" --target=thumbv7em-none-eabihf --cpu=native -o "$d/x.o"
for emit in so exe; do
  d=$(fresh "compile_bare_metal_$emit")
  expect_error "compile_bare_metal_$emit" --empty "$d" --match "bare metal" -- \
    "$KILN" compile "$MODEL/model.onnx" --target=thumbv7em-none-eabihf --emit=$emit \
    -o "$(out_for "$d" $emit)"
done
d=$(fresh compile_bare_metal_libm)
expect_error compile_bare_metal_libm --empty "$d" --match "the_f64_exp" \
  --match "needs the C math library" -- \
  "$KILN" compile "$IN/exp64.onnx" --target=thumbv8m.main-none-eabihf -o "$d/x.o"

# --- the compiled executable ------------------------------------------------------
echo "== the compiled executable"
EXE=$WORK/tinynet
if ! "$KILN" compile "$MODEL/model.onnx" -o "$EXE" >"$WORK/cases/compile_exe.log" 2>&1; then
  echo "FAIL setup: cannot compile $MODEL/model.onnx to an executable:"
  sed 's/^/    | /' "$WORK/cases/compile_exe.log"
  exit 1
fi
# And it works on good input (so the failures below are about the input).
if ! "$EXE" "$MODEL/input_0.pb" --output-dir "$WORK/cases/good_out" >/dev/null 2>&1 ||
  [[ ! -s $WORK/cases/good_out/output_0.pb ]]; then
  echo "FAIL setup: $EXE does not run on $MODEL/input_0.pb"
  exit 1
fi

# exe_error NAME [checker options] -- ARGS...: runs the executable with ARGS and
# --output-dir <a folder that does not exist yet>, which it must not create.
exe_error() {
  local name=$1
  shift
  local -a opts=()
  while [[ $1 != -- ]]; do opts+=("$1" "$2"); shift 2; done
  shift
  local out=$WORK/cases/$name.out
  expect_error "$name" --absent "$out" "${opts[@]}" -- \
    "$EXE" "$@" --output-dir "$out"
}

exe_error exe_wrong_shape --match "image" -- "$IN/wrong_shape.pb"
exe_error exe_wrong_shape_npy --match "image" -- "$IN/wrong_shape.npy"
exe_error exe_wrong_rank --match "image" -- "$IN/wrong_rank.pb"
exe_error exe_wrong_type_int64 --match "image" -- "$IN/wrong_type_int64.pb"
exe_error exe_wrong_type_int64_npy --match "image" -- "$IN/wrong_type_int64.npy"
exe_error exe_wrong_type_double_npy --match "image" -- "$IN/wrong_type_double.npy"
exe_error exe_no_inputs -- 
exe_error exe_two_inputs -- "$MODEL/input_0.pb" "$MODEL/input_0.pb"
exe_error exe_missing_input_file --match "no_such_input\.pb" -- "$IN/no_such_input.pb"
exe_error exe_input_is_folder -- "$IN/folder.pb"
exe_error exe_garbage_pb -- "$IN/garbage.pb"
exe_error exe_garbage_npy -- "$IN/garbage.npy"
exe_error exe_truncated_pb -- "$IN/truncated.pb"
exe_error exe_empty_file -- "$IN/empty.pb"
exe_error exe_bad_output_format -- "$MODEL/input_0.pb" --output-format=bogus
exe_error exe_unknown_option -- "$MODEL/input_0.pb" --no-such-option

# A dynamic-batch model (--max-dim N=4): a batch over the bound, and a wrong
# fixed dim, are refused with the input and dim named.
DYN=$WORK/cases/dynamic
mkdir -p "$DYN"
if "$PY" "$ROOT/test/e2e/dynamic/make_model.py" "$DYN" &&
  "$KILN" compile "$DYN/classifier.onnx" --max-dim N=4 -o "$DYN/classifier" 2>/dev/null &&
  "$PY" - "$DYN" <<'PYEOF'
import sys
import numpy as np
d = sys.argv[1]
np.save(d + "/batch5.npy", np.zeros((5, 3, 8, 8), np.float32))
np.save(d + "/channels2.npy", np.zeros((2, 2, 8, 8), np.float32))
np.save(d + "/batch2.npy", np.zeros((2, 3, 8, 8), np.float32))
PYEOF
then
  EXE_DYN=$DYN/classifier
  if "$EXE_DYN" "$DYN/batch2.npy" --output-dir "$DYN/good_out" >/dev/null 2>&1 &&
    [[ -s $DYN/good_out/output_0.pb ]]; then
    exe_dyn_error() {
      local name=$1
      shift
      local -a opts=()
      while [[ $1 != -- ]]; do opts+=("$1" "$2"); shift 2; done
      shift
      expect_error "$name" --absent "$WORK/cases/$name.out" "${opts[@]}" -- \
        "$EXE_DYN" "$@" --output-dir "$WORK/cases/$name.out"
    }
    exe_dyn_error exe_dynamic_over_max --match "input 'x': N is 5, the model takes at most 4" -- "$DYN/batch5.npy"
    exe_dyn_error exe_dynamic_wrong_fixed_dim --match "input 'x': expected float32\[\?,3,8,8\]" -- "$DYN/channels2.npy"
  else
    echo "FAIL exe_dynamic_setup: the dynamic classifier does not run at batch 2"
    FAILED+=(exe_dynamic_setup)
  fi
else
  echo "FAIL exe_dynamic_setup: could not build the dynamic classifier"
  FAILED+=(exe_dynamic_setup)
fi

# A model whose sizes come from an input's values (tiled.onnx: Tile by the
# repeats input): negative repeats, and repeats whose output would overflow,
# are refused before the run with a message, never a crash.
if "$KILN" compile "$DYN/tiled.onnx" -o "$DYN/tiled" 2>/dev/null &&
  "$PY" - "$DYN" <<'PYEOF'
import sys
import numpy as np
d = sys.argv[1]
np.save(d + "/x23.npy", np.ones((2, 3), np.float32))
np.save(d + "/reps_ok.npy", np.array([2, 2], np.int64))
np.save(d + "/reps_negative.npy", np.array([-1, 2], np.int64))
np.save(d + "/reps_huge.npy", np.array([1 << 39, 1 << 39], np.int64))
PYEOF
then
  if "$DYN/tiled" "$DYN/x23.npy" "$DYN/reps_ok.npy" --output-dir "$DYN/tiled_out" >/dev/null 2>&1; then
    expect_error exe_values_negative_repeats --absent "$WORK/cases/negrep.out" \
      --match "does not accept these input shapes and values" -- \
      "$DYN/tiled" "$DYN/x23.npy" "$DYN/reps_negative.npy" --output-dir "$WORK/cases/negrep.out"
    expect_error exe_values_huge_repeats --absent "$WORK/cases/hugerep.out" \
      --match "too large|does not accept" -- \
      "$DYN/tiled" "$DYN/x23.npy" "$DYN/reps_huge.npy" --output-dir "$WORK/cases/hugerep.out"
  else
    echo "FAIL exe_values_setup: the tiled model does not run with repeats 2, 2"
    FAILED+=(exe_values_setup)
  fi
else
  echo "FAIL exe_values_setup: could not build the tiled model"
  FAILED+=(exe_values_setup)
fi

# Indices read at run time out of range (Gather, GatherElements, GatherND,
# ScatterND): the run fails with KILN_ERROR_OUT_OF_RANGE, never reading or
# writing out of bounds; an index in range runs. Integer division and
# remainder by zero, and INT_MIN / -1, do not trap (they give 0 / wrap). A
# size read at run time (TopK's k) that the op cannot take is refused before
# the model runs (KILN_ERROR_SHAPE_MISMATCH).
RT=$WORK/cases/runtime_values
mkdir -p "$RT"
if "$PY" - "$RT" <<'PYEOF'
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper
d = sys.argv[1]
F, I = TensorProto.FLOAT, TensorProto.INT64
def save(name, node, ins, out):
    g = helper.make_graph([node], name, ins, [out])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, "%s/%s.onnx" % (d, name))
vi = helper.make_tensor_value_info
save("gather", helper.make_node("Gather", ["x", "i"], ["y"], name="gather"),
     [vi("x", F, [4, 3]), vi("i", I, [2])], vi("y", F, [2, 3]))
save("gather_elements",
     helper.make_node("GatherElements", ["x", "i"], ["y"], name="ge", axis=1),
     [vi("x", F, [4, 3]), vi("i", I, [4, 3])], vi("y", F, [4, 3]))
save("gather_nd", helper.make_node("GatherND", ["x", "i"], ["y"], name="gnd"),
     [vi("x", F, [4, 3]), vi("i", I, [2, 2])], vi("y", F, [2]))
save("scatter_nd",
     helper.make_node("ScatterND", ["x", "i", "u"], ["y"], name="snd"),
     [vi("x", F, [4, 3]), vi("i", I, [2, 1]), vi("u", F, [2, 3])], vi("y", F, [4, 3]))
save("div", helper.make_node("Div", ["a", "b"], ["y"], name="div"),
     [vi("a", TensorProto.INT32, [4]), vi("b", TensorProto.INT32, [4])],
     vi("y", TensorProto.INT32, [4]))
save("mod", helper.make_node("Mod", ["a", "b"], ["y"], name="mod"),
     [vi("a", TensorProto.INT32, [4]), vi("b", TensorProto.INT32, [4])],
     vi("y", TensorProto.INT32, [4]))
save("topk", helper.make_node("TopK", ["x", "k"], ["v", "i"], name="topk"),
     [vi("x", F, [4, 3]), vi("k", I, [1])], vi("v", F, None))
np.save(d + "/x.npy", np.arange(12, dtype=np.float32).reshape(4, 3))
np.save(d + "/k_ok.npy", np.array([2], np.int64))
np.save(d + "/k_big.npy", np.array([4], np.int64))
np.save(d + "/k_neg.npy", np.array([-1], np.int64))
np.save(d + "/u.npy", np.ones((2, 3), np.float32))
np.save(d + "/i_ok.npy", np.array([3, -4], np.int64))
np.save(d + "/i_bad.npy", np.array([1, 1 << 40], np.int64))
np.save(d + "/i_neg.npy", np.array([1, -5], np.int64))
np.save(d + "/ie_ok.npy", np.zeros((4, 3), np.int64))
np.save(d + "/ie_bad.npy", np.full((4, 3), 3, np.int64))
np.save(d + "/ind_ok.npy", np.array([[3, 2], [0, -3]], np.int64))
np.save(d + "/ind_bad.npy", np.array([[3, 3], [0, 0]], np.int64))
np.save(d + "/isn_ok.npy", np.array([[0], [3]], np.int64))
np.save(d + "/isn_bad.npy", np.array([[0], [4]], np.int64))
np.save(d + "/num.npy", np.array([7, -7, -2**31, 5], np.int32))
np.save(d + "/den.npy", np.array([0, 0, -1, 2], np.int32))
PYEOF
then
  for m in gather gather_elements gather_nd scatter_nd div mod topk; do
    "$KILN" compile "$RT/$m.onnx" -o "$RT/$m" 2>"$RT/$m.err" ||
      { echo "FAIL exe_index_setup: $m does not compile: $(head -1 "$RT/$m.err")"; FAILED+=(exe_index_setup); }
  done
  expect_ok exe_gather_index_in_range "$RT/gather" "$RT/x.npy" "$RT/i_ok.npy" --output-dir "$RT/o1"
  for c in "gather i_bad" "gather i_neg" "gather_elements ie_bad" "gather_nd ind_bad"; do
    set -- $c
    expect_error "exe_${1}_index_out_of_range_${2}" --absent "$RT/$1_$2.out" \
      --match "model '.*' failed: .*range.*\(status 10\)" -- \
      "$RT/$1" "$RT/x.npy" "$RT/$2.npy" --output-dir "$RT/$1_$2.out"
  done
  expect_ok exe_gather_elements_index_in_range "$RT/gather_elements" "$RT/x.npy" "$RT/ie_ok.npy" --output-dir "$RT/o2"
  expect_ok exe_gather_nd_index_in_range "$RT/gather_nd" "$RT/x.npy" "$RT/ind_ok.npy" --output-dir "$RT/o3"
  expect_ok exe_scatter_nd_index_in_range "$RT/scatter_nd" "$RT/x.npy" "$RT/isn_ok.npy" "$RT/u.npy" --output-dir "$RT/o4"
  expect_error exe_scatter_nd_index_out_of_range --absent "$RT/snd.out" \
    --match "failed: .*range.*\(status 10\)" -- \
    "$RT/scatter_nd" "$RT/x.npy" "$RT/isn_bad.npy" "$RT/u.npy" --output-dir "$RT/snd.out"
  expect_ok exe_integer_div_by_zero "$RT/div" "$RT/num.npy" "$RT/den.npy" --output-dir "$RT/o5"
  expect_ok exe_integer_mod_by_zero "$RT/mod" "$RT/num.npy" "$RT/den.npy" --output-dir "$RT/o6"
  expect_ok exe_topk_k_in_range "$RT/topk" "$RT/x.npy" "$RT/k_ok.npy" --output-dir "$RT/o7"
  for k in k_big k_neg; do
    expect_error "exe_topk_${k}" --absent "$RT/topk_$k.out" \
      --match "does not accept these input shapes and values.*\(status 6\)" -- \
      "$RT/topk" "$RT/x.npy" "$RT/$k.npy" --output-dir "$RT/topk_$k.out"
  done
else
  echo "FAIL exe_index_setup: could not write the models"
  FAILED+=(exe_index_setup)
fi

# Output folders that cannot be made or written.
d=$(fresh exe_output_dir_parent_is_file)
printf 'x\n' >"$d/file"
expect_error exe_output_dir_parent_is_file --same "$d/file" -- \
  "$EXE" "$MODEL/input_0.pb" --output-dir "$d/file/out"
d=$(fresh exe_output_dir_is_file)
printf 'x\n' >"$d/file"
expect_error exe_output_dir_is_file --same "$d/file" -- \
  "$EXE" "$MODEL/input_0.pb" --output-dir "$d/file"
expect_error exe_output_dir_unwritable_missing --absent /proc/kiln_bad_input -- \
  "$EXE" "$MODEL/input_0.pb" --output-dir /proc/kiln_bad_input
expect_error exe_output_dir_unwritable_existing --absent /proc/output_0.pb -- \
  "$EXE" "$MODEL/input_0.pb" --output-dir /proc
if (($(id -u) != 0)); then
  d=$(fresh exe_output_dir_readonly)
  mkdir "$d/ro" && chmod 555 "$d/ro"
  expect_error exe_output_dir_readonly --empty "$d/ro" -- \
    "$EXE" "$MODEL/input_0.pb" --output-dir "$d/ro"
  chmod 755 "$d/ro"
else
  echo "SKIP exe_output_dir_readonly: running as root (permissions do not apply)"
  SKIPPED=$((SKIPPED + 1))
fi

# --- the hostile-model corpus (utils/hostile_models.py) ----------------------------
# Broken or malicious models, each with the error it must get (in bounded
# memory: 8 GB of address space), and legal but unusual ones that must
# compile (10,000 nodes in a chain, zero-size tensors, no outputs, long and
# non-ASCII names).
echo "== hostile models"
HOSTILE=$WORK/hostile/models
mkdir -p "$HOSTILE"
if ! "$PY" "$ROOT/utils/hostile_models.py" "$HOSTILE" >"$WORK/cases/hostile_gen.log" 2>&1; then
  echo "FAIL hostile_models: the generator failed:"
  sed 's/^/    | /' "$WORK/cases/hostile_gen.log"
  FAILED+=(hostile_models)
else
  while IFS=$'\t' read -r name expect regex; do
    d=$(fresh "hostile_$name")
    if [[ $expect == ok ]]; then # a legal model: it compiles
      expect_ok "hostile_$name" bash -c \
        'ulimit -v 8000000 && "$0" compile "$1" --emit=obj -o "$2" && test -s "$2"' \
        "$KILN" "$HOSTILE/$name.onnx" "$d/x.o"
      continue
    fi
    expect_error "hostile_$name" --empty "$d" --match "$regex" -- \
      bash -c 'ulimit -v 8000000 && exec "$@"' _ \
      "$KILN" compile "$HOSTILE/$name.onnx" --emit=obj -o "$d/x.o"
  done <"$HOSTILE/manifest.tsv"
fi

echo
if ((${#FAILED[@]})); then
  echo "bad_input: ${#FAILED[@]} check(s) failed: ${FAILED[*]} ($PASSED passed, $SKIPPED skipped)"
  exit 1
fi
echo "bad_input: all $PASSED checks passed ($SKIPPED skipped)"
