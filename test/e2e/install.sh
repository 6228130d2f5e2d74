#!/usr/bin/env bash
# The installed package as a user meets it: `cmake --install` to a fresh
# prefix, then examples/cmake-consumer built against it (Ninja and Unix
# Makefiles; with a cross toolchain file for aarch64, run under qemu, when
# the cross compiler is there) and examples/meson-consumer, checking that the installed kiln finds its
# own runtime, that a no-change rebuild does not run kiln and that touching
# the model or its external data does; a program linked with pkg-config's
# flags; and kiln's depfile and --version.
set -euo pipefail
build=${KILN_BUILD_DIR:?}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$work/prefix" >/dev/null
kiln="$work/prefix/bin/kiln"
"$kiln" --version | grep -Eq '^kiln [0-9]+\.[0-9]+\.[0-9]+ \(LLVM/MLIR 22\.' \
  || fail "kiln --version: $("$kiln" --version)"

# The model with its weights in an external-data file, in a folder of the
# test's own (touched below).
mkdir -p "$work/model"
/usr/bin/python3 - "$src/examples/tinynet/model.onnx" "$work/model/tinynet.onnx" <<'PY'
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.save_model(m, sys.argv[2], save_as_external_data=True,
                all_tensors_to_one_file=True, location="tinynet.weights",
                size_threshold=0)
PY

# The depfile names the model, its external data and kiln.
env -u KILN_RUNTIME_DIR "$kiln" compile "$work/model/tinynet.onnx" \
  -o "$work/t.o" -MD >/dev/null
for dep in "$work/model/tinynet.onnx" "$work/model/tinynet.weights" "$kiln"; do
  grep -qF "$dep" "$work/t.o.d" || fail "depfile lacks $dep: $(cat "$work/t.o.d")"
done
head -1 "$work/t.o.d" | grep -qF "$work/t.o:" || fail "depfile target"
# The installed kiln links executables with its own runtime (../lib/kiln).
env -u KILN_RUNTIME_DIR "$kiln" compile "$src/examples/tinynet/model.onnx" \
  -o "$work/tinynet-exe"
"$work/tinynet-exe" --output-dir "$work/out" "$src/examples/tinynet/input_0.pb" \
  >/dev/null || fail "an executable built by the installed kiln"

consumer() { # generator dir [cmake args]
  local gen=$1 dir=$2; shift 2
  cmake -S "$src/examples/cmake-consumer" -B "$dir" -G "$gen" \
    -DCMAKE_PREFIX_PATH="$work/prefix" \
    -DKILN_CONSUMER_MODEL="$work/model/tinynet.onnx" "$@" >/dev/null
  cmake --build "$dir" >"$dir.log" 2>&1 || { cat "$dir.log"; fail "$gen build"; }
  grep -q "with kiln" "$dir.log" || fail "$gen: kiln did not run"
}
rebuild_runs_kiln() { # dir: 0 if a rebuild ran kiln
  cmake --build "$1" >"$1.log" 2>&1 || { cat "$1.log"; fail "rebuild"; }
  grep -q "with kiln" "$1.log"
}

for gen in Ninja "Unix Makefiles"; do
  dir="$work/consumer-${gen// /-}"
  consumer "$gen" "$dir"
  "$dir/classify" | grep -q "^sum 1.0000" || fail "$gen: classify"
  ! rebuild_runs_kiln "$dir" || fail "$gen: a no-change rebuild ran kiln"
  sleep 1
  touch "$work/model/tinynet.onnx"
  rebuild_runs_kiln "$dir" || fail "$gen: a changed model was not recompiled"
  sleep 1
  touch "$work/model/tinynet.weights"
  rebuild_runs_kiln "$dir" || fail "$gen: changed external data was not recompiled"
  "$dir/classify" >/dev/null || fail "$gen: classify after the rebuild"
done

# Meson: kiln as a custom_target with its depfile, the runtime from
# pkg-config (examples/meson-consumer).
dir="$work/consumer-meson"
PATH="$work/prefix/bin:$PATH" PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" \
  meson setup "$dir" "$src/examples/meson-consumer" \
  -Dmodel="$work/model/tinynet.onnx" >"$dir.log" 2>&1 || { cat "$dir.log"; fail "meson setup"; }
meson_runs_kiln() {
  meson compile -C "$dir" >"$dir.log" 2>&1 || { cat "$dir.log"; fail "meson compile"; }
  grep -q "Generating tinynet" "$dir.log"
}
meson_runs_kiln || fail "meson: kiln did not run"
"$dir/classify" | grep -q "^sum 1.0000" || fail "meson: classify"
! meson_runs_kiln || fail "meson: a no-change rebuild ran kiln"
sleep 1
touch "$work/model/tinynet.weights"
meson_runs_kiln || fail "meson: changed external data was not recompiled"

# pkg-config: the object and its header, linked by hand.
PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --exists kiln-runtime \
  || fail "pkg-config does not find kiln-runtime"
"$kiln" compile "$work/model/tinynet.onnx" --name tinynet -o "$work/tinynet.o"
cc -I"$work" $(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags kiln-runtime) \
  "$src/examples/cmake-consumer/main.c" "$work/tinynet.o" \
  $(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --libs kiln-runtime) \
  -o "$work/classify-pc"
"$work/classify-pc" | grep -q "^sum 1.0000" || fail "pkg-config build"

# Cross: the same project with an aarch64 toolchain file; kiln_add_model
# passes --target on its own and links the aarch64 runtime.
if command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null; then
  cat >"$work/aarch64.cmake" <<'TC'
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
TC
  dir="$work/consumer-aarch64"
  consumer Ninja "$dir" -DCMAKE_TOOLCHAIN_FILE="$work/aarch64.cmake"
  grep -q -- "--target=aarch64-linux-gnu" "$dir/build.ninja" || fail "no --target"
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$dir/classify" | grep -q "^sum 1.0000" \
    || fail "aarch64 classify"
else
  echo "note: no aarch64 cross compiler or qemu: cross consumer skipped"
fi
echo "install: ok"
